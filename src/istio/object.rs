//! A rendered object: its value, the cluster it is written to, the Gloo sources it came
//! from and which of their fields made which part of it ([`Origins`]), and the canonical key
//! order its output uses. `render` builds these; `validate`, `diff` and the front ends read
//! them.

use crate::canon::{AsTree, Shape, Tree};
use crate::manifest::{Location, ObjectId};
use crate::node::Node;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// A Gloo source object that contributed to a rendered object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourceRef {
    /// The source object.
    pub id: ObjectId,
    /// Where it is written.
    pub location: Location,
}

/// One rendered Istio (or passthrough) object: its value a `serde_json::Value`, or a compact
/// [`Node`] where many are held (`render::Keep::Nodes`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rendered<V = Value> {
    /// The cluster it is written to.
    pub cluster: String,
    /// The object, keys in a stable order.
    pub value: V,
    /// Where it came from (for diff attribution and diagnostics).
    pub sources: Vec<SourceRef>,
    /// Which source field made which part of the value (for diagnostics at the field).
    #[serde(skip)]
    pub origins: Origins,
}

impl<V> Rendered<V> {
    /// The same object with these origins.
    pub fn with_origins(mut self, origins: Origins) -> Self {
        self.origins = origins;
        self
    }
}

/// The field paths provenance is recorded with, rendered and source alike; `#` stands for a
/// list index. One byte each, so recording costs little where every route records one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// `metadata.labels`
    MetadataLabels,
    /// `spec`
    Spec,
    /// `spec.addresses`
    Addresses,
    /// `spec.endpoints[#]`
    Endpoint,
    /// `spec.endpoints[#].labels`
    EndpointLabels,
    /// `spec.gateways`
    Gateways,
    /// `spec.host`
    Host,
    /// `spec.hosts`
    Hosts,
    /// `spec.hosts[#]`
    HostAt,
    /// `spec.http[#]`
    Http,
    /// `spec.http[#].match[#]`
    HttpMatch,
    /// `spec.http[#].rewrite.uri`
    HttpRewriteUri,
    /// `spec.http[#].rewrite.uriRegexRewrite`
    HttpRewriteRegex,
    /// `spec.http[#].rewrite.uriRegexRewrite.match`
    HttpRewriteRegexMatch,
    /// `spec.http[#].rewrite.authority`
    HttpRewriteAuthority,
    /// `spec.http[#].redirect`
    HttpRedirect,
    /// `spec.http[#].directResponse`
    HttpDirectResponse,
    /// `spec.http[#].route[#]`
    HttpRouteDestination,
    /// `spec.http[#].headers`
    HttpHeaders,
    /// `spec.http[#].corsPolicy`
    HttpCors,
    /// `spec.http[#].fault`
    HttpFault,
    /// `spec.http[#].timeout`
    HttpTimeout,
    /// `spec.http[#].retries`
    HttpRetries,
    /// `spec.http[#].mirror`
    HttpMirror,
    /// `spec.http[#].mirrorPercentage`
    HttpMirrorPercentage,
    /// `spec.http[#].delegatedBy[#]`: not a field of the rendered object but the delegating
    /// routes above a delegated route, nearest first (read by `trace`).
    HttpDelegatedBy,
    /// `spec.config`
    Config,
    /// `spec.http[#].matchers[#]`
    Matcher,
    /// `spec.http[#].forwardTo.pathRewrite`
    PathRewrite,
    /// `spec.http[#].forwardTo.regexRewrite`
    RegexRewrite,
    /// `spec.http[#].forwardTo.regexRewrite.pattern.regex`
    RegexRewritePattern,
    /// `spec.http[#].forwardTo.hostRewrite`
    HostRewrite,
    /// `spec.http[#].forwardTo.destinations[#]`
    Destination,
    /// `spec.http[#].forwardTo.destinations[#].subset`
    DestinationSubset,
    /// `spec.defaultDestination`
    DefaultDestination,
    /// `spec.defaultDestination.subset`
    DefaultDestinationSubset,
    /// `spec.subsets[#]`
    Subset,
    /// `spec.subsets[#].labels`
    SubsetLabels,
    /// `spec.ports`
    Ports,
    /// `spec.ports[#]`
    PortAt,
    /// `spec.ports[#].clientsideTls`
    PortClientTls,
    /// `spec.tcp[#]`
    Tcp,
    /// `spec.tls[#]`
    Tls,
    /// `spec.trafficPolicy.portLevelSettings[#]`
    PortLevelSetting,
    /// `spec.trafficPolicy.portLevelSettings[#].tls`
    PortLevelTls,
    /// `spec.virtualGateways`
    VirtualGateways,
    /// `spec.servers[#]`
    Server,
    /// `spec.servers[#].hosts`
    ServerHosts,
    /// `spec.servers[#].tls`
    ServerTls,
    /// `spec.listeners[#]`
    Listener,
    /// `spec.listeners[#].allowedRouteTables[#].host`
    ListenerHost,
    /// `spec.listeners[#].tls`
    ListenerTls,
}

impl Template {
    /// The path, `#` for the index.
    pub const fn text(self) -> &'static str {
        match self {
            Template::MetadataLabels => "metadata.labels",
            Template::Spec => "spec",
            Template::Addresses => "spec.addresses",
            Template::Endpoint => "spec.endpoints[#]",
            Template::EndpointLabels => "spec.endpoints[#].labels",
            Template::Gateways => "spec.gateways",
            Template::Host => "spec.host",
            Template::Hosts => "spec.hosts",
            Template::HostAt => "spec.hosts[#]",
            Template::Http => "spec.http[#]",
            Template::HttpMatch => "spec.http[#].match[#]",
            Template::HttpRewriteUri => "spec.http[#].rewrite.uri",
            Template::HttpRewriteRegex => "spec.http[#].rewrite.uriRegexRewrite",
            Template::HttpRewriteRegexMatch => "spec.http[#].rewrite.uriRegexRewrite.match",
            Template::HttpRewriteAuthority => "spec.http[#].rewrite.authority",
            Template::HttpRedirect => "spec.http[#].redirect",
            Template::HttpDirectResponse => "spec.http[#].directResponse",
            Template::HttpRouteDestination => "spec.http[#].route[#]",
            Template::HttpHeaders => "spec.http[#].headers",
            Template::HttpCors => "spec.http[#].corsPolicy",
            Template::HttpFault => "spec.http[#].fault",
            Template::HttpTimeout => "spec.http[#].timeout",
            Template::HttpRetries => "spec.http[#].retries",
            Template::HttpMirror => "spec.http[#].mirror",
            Template::HttpMirrorPercentage => "spec.http[#].mirrorPercentage",
            Template::HttpDelegatedBy => "spec.http[#].delegatedBy[#]",
            Template::Config => "spec.config",
            Template::Matcher => "spec.http[#].matchers[#]",
            Template::PathRewrite => "spec.http[#].forwardTo.pathRewrite",
            Template::RegexRewrite => "spec.http[#].forwardTo.regexRewrite",
            Template::RegexRewritePattern => "spec.http[#].forwardTo.regexRewrite.pattern.regex",
            Template::HostRewrite => "spec.http[#].forwardTo.hostRewrite",
            Template::Destination => "spec.http[#].forwardTo.destinations[#]",
            Template::DestinationSubset => "spec.http[#].forwardTo.destinations[#].subset",
            Template::DefaultDestination => "spec.defaultDestination",
            Template::DefaultDestinationSubset => "spec.defaultDestination.subset",
            Template::Subset => "spec.subsets[#]",
            Template::SubsetLabels => "spec.subsets[#].labels",
            Template::Ports => "spec.ports",
            Template::PortAt => "spec.ports[#]",
            Template::PortClientTls => "spec.ports[#].clientsideTls",
            Template::Tcp => "spec.tcp[#]",
            Template::Tls => "spec.tls[#]",
            Template::PortLevelSetting => "spec.trafficPolicy.portLevelSettings[#]",
            Template::PortLevelTls => "spec.trafficPolicy.portLevelSettings[#].tls",
            Template::VirtualGateways => "spec.virtualGateways",
            Template::Server => "spec.servers[#]",
            Template::ServerHosts => "spec.servers[#].hosts",
            Template::ServerTls => "spec.servers[#].tls",
            Template::Listener => "spec.listeners[#]",
            Template::ListenerHost => "spec.listeners[#].allowedRouteTables[#].host",
            Template::ListenerTls => "spec.listeners[#].tls",
        }
    }
}

/// A field path with at most two list indexes: a [`Template`] and the indexes, so that
/// recording one allocates nothing; it is spelled out only when a finding needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldAt {
    template: Template,
    index: u32,
    inner: u32,
}

/// An index as stored in a [`FieldAt`].
fn index32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

impl FieldAt {
    /// A path without an index (`spec.hosts`).
    pub const fn key(template: Template) -> FieldAt {
        FieldAt {
            template,
            index: 0,
            inner: 0,
        }
    }

    /// A path whose `#` is `index` (`spec.http[#]` with 2 is `spec.http[2]`).
    pub fn at(template: Template, index: usize) -> FieldAt {
        FieldAt {
            template,
            index: index32(index),
            inner: 0,
        }
    }

    /// A path whose two `#` are `index` and `inner` (`spec.http[#].match[#]` with 2 and 0 is
    /// `spec.http[2].match[0]`).
    pub fn at2(template: Template, index: usize, inner: usize) -> FieldAt {
        FieldAt {
            template,
            index: index32(index),
            inner: index32(inner),
        }
    }

    /// Its template.
    pub fn kind(&self) -> Template {
        self.template
    }

    /// Its (first) index.
    pub fn index(&self) -> usize {
        self.index as usize
    }

    /// Its second index (0 for a path with one or none).
    pub fn inner(&self) -> usize {
        self.inner as usize
    }

    /// The path with `#` for its index (`spec.http[#]`).
    pub fn template(&self) -> &'static str {
        self.template.text()
    }

    /// The path spelled out (`spec.http[2]`, `spec.http[2].match[0]`).
    pub fn path(&self) -> String {
        let mut out = String::with_capacity(self.template.text().len() + 4);
        let mut parts = self.template.text().split('#');
        out.push_str(parts.next().unwrap_or_default());
        for (n, part) in parts.enumerate() {
            let i = if n == 0 { self.index } else { self.inner };
            out.push_str(&i.to_string());
            out.push_str(part);
        }
        out
    }
}

/// One recorded provenance: the rendered field `at` (and what is below it) holds the value of
/// `field` of the source `sources[source]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// A path prefix in the rendered object.
    pub at: FieldAt,
    /// Index into the rendered object's `sources`.
    pub source: u16,
    /// The field of that source.
    pub field: FieldAt,
    /// The keys and indexes below `at` are spelled the same below `field` (an ExternalService
    /// port's `protocol` is its ServiceEntry port's `protocol`), so a deeper rendered path maps
    /// to the same deeper source path.
    pub same_below: bool,
}

/// Where the parts of a rendered object came from: a few entries per object, recorded by the
/// translator for the values Istio's rules can reject, and read only when a finding is
/// reported (docs/architecture.md, "Where findings point").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origins(Vec<Origin>);

impl Origins {
    /// Room for `n` entries.
    pub fn with_capacity(n: usize) -> Origins {
        Origins(Vec::with_capacity(n))
    }

    /// Records that rendered `at` comes from `field` of `sources[source]`; `same_below` as in
    /// [`Origin`].
    pub fn add(&mut self, at: FieldAt, source: usize, field: FieldAt, same_below: bool) {
        if let Ok(source) = u16::try_from(source) {
            self.0.push(Origin {
                at,
                source,
                field,
                same_below,
            });
        }
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries.
    pub fn iter(&self) -> impl Iterator<Item = &Origin> {
        self.0.iter()
    }

    /// Keeps the entries `keep` accepts.
    pub fn retain(&mut self, keep: impl FnMut(&Origin) -> bool) {
        self.0.retain(keep);
    }

    /// Renumbers the source indexes after the sources were reordered: `moved[i]` is where
    /// source `i` went.
    pub fn renumber(&mut self, moved: &[usize]) {
        for o in &mut self.0 {
            if let Some(&to) = moved.get(usize::from(o.source)) {
                o.source = u16::try_from(to).unwrap_or(o.source);
            }
        }
    }

    /// The source (index into `sources`) and its field that made the rendered field `path`
    /// (`spec.ports[0].protocol`): the entry with the longest `at` that is `path` or a parent
    /// of it; with `same_below`, the rest of `path` is appended to its field. `None` when no
    /// entry covers `path`.
    pub fn source_field(&self, path: &str) -> Option<(usize, String)> {
        let mut best: Option<(usize, &Origin, String)> = None;
        for o in &self.0 {
            // Spelled out only when the text before its index matches.
            let head = o.at.template().split('#').next().unwrap_or_default();
            if !path.starts_with(head) {
                continue;
            }
            let at = o.at.path();
            let Some(rest) = path.strip_prefix(at.as_str()) else {
                continue;
            };
            let boundary = rest.is_empty() || rest.starts_with('.') || rest.starts_with('[');
            if boundary && best.as_ref().is_none_or(|(len, _, _)| at.len() > *len) {
                best = Some((at.len(), o, rest.to_string()));
            }
        }
        let (_, o, rest) = best?;
        let mut field = o.field.path();
        if o.same_below {
            field.push_str(&rest);
        }
        Some((usize::from(o.source), field))
    }
}

impl<V: AsTree> Rendered<V> {
    /// apiVersion, kind, namespace and name, borrowed from the value (empty where a field is
    /// missing or not a string).
    pub fn id_str(&self) -> [&str; 4] {
        fn field<'a, V: Tree>(v: &'a V, path: &[&str]) -> &'a str {
            match path
                .iter()
                .try_fold(v, |v, k| v.get_key(k))
                .map(Tree::shape)
            {
                Some(Shape::String(s)) => s,
                _ => "",
            }
        }
        let v = self.value.tree();
        [
            field(v, &["apiVersion"]),
            field(v, &["kind"]),
            field(v, &["metadata", "namespace"]),
            field(v, &["metadata", "name"]),
        ]
    }

    /// apiVersion, kind, namespace, name of the rendered object.
    pub fn id(&self) -> ObjectId {
        let [api_version, kind, namespace, name] = self.id_str();
        ObjectId {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// The output sort key: cluster, apiVersion, kind, namespace, name.
    pub fn sort_key(&self) -> (String, ObjectId) {
        (self.cluster.clone(), self.id())
    }
}

/// A rendered object kept as a compact node (`render::Keep::Nodes`), shared rather than
/// copied where a diff's head takes it from the base.
pub type Kept = Rendered<Arc<Node>>;

/// Sorts keys recursively (as `kubectl get -o yaml` does), keeping apiVersion, kind,
/// metadata, spec first at the top level, so output bytes never depend on build order.
pub fn canonical(value: &Value) -> Value {
    let mut v = value.clone();
    canonicalize(&mut v);
    v
}

/// In-place form of [`canonical`].
pub fn canonicalize(value: &mut Value) {
    crate::json::sort_keys(value);
    if let Value::Object(m) = value {
        const TOP: [&str; 4] = ["apiVersion", "kind", "metadata", "spec"];
        // Keys are sorted now: the four come first exactly when the present ones lead in order.
        let present: Vec<&str> = TOP.iter().copied().filter(|k| m.contains_key(*k)).collect();
        if m.keys().zip(&present).all(|(a, b)| a == b) {
            return;
        }
        let mut out = serde_json::Map::new();
        for k in TOP {
            if let Some(v) = m.shift_remove(k) {
                out.insert(k.to_string(), v);
            }
        }
        out.append(m);
        *m = out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonicalize_sorts_nested_keys_and_leads_with_the_four() {
        let mut v = json!({"spec": {"b": 1, "a": [{"y": 1, "x": 2}]}, "data": 1,
                           "metadata": {"name": "n"}, "kind": "K", "apiVersion": "v1"});
        canonicalize(&mut v);
        assert_eq!(
            v.to_string(),
            r#"{"apiVersion":"v1","kind":"K","metadata":{"name":"n"},"spec":{"a":[{"x":2,"y":1}],"b":1},"data":1}"#
        );
    }

    #[test]
    fn ids_are_read_from_the_value() {
        let r = Rendered {
            cluster: "c1".into(),
            value: json!({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "n", "namespace": "ns"}}),
            sources: Vec::new(),
            origins: Origins::default(),
        };
        assert_eq!(r.id_str(), ["v1", "ConfigMap", "ns", "n"]);
        let bare = Rendered {
            value: json!({"kind": 1}),
            ..r
        };
        assert_eq!(bare.id_str(), ["", "", "", ""]);
    }

    fn origins() -> Origins {
        let mut o = Origins::default();
        o.add(
            FieldAt::key(Template::Hosts),
            0,
            FieldAt::key(Template::Hosts),
            true,
        );
        o.add(
            FieldAt::key(Template::Ports),
            0,
            FieldAt::key(Template::Ports),
            true,
        );
        o.add(
            FieldAt::at(Template::Endpoint, 0),
            1,
            FieldAt::key(Template::Spec),
            true,
        );
        o.add(
            FieldAt::at(Template::Http, 1),
            2,
            FieldAt::at(Template::Http, 4),
            false,
        );
        o.add(
            FieldAt::at(Template::PortLevelSetting, 0),
            0,
            FieldAt::at(Template::PortClientTls, 3),
            false,
        );
        o
    }

    #[test]
    fn rendered_paths_map_to_the_nearest_recorded_source_field() {
        let o = origins();
        let f = |p: &str| o.source_field(p);
        assert_eq!(
            f("spec.ports[0].protocol"),
            Some((0, "spec.ports[0].protocol".into()))
        );
        assert_eq!(f("spec.hosts[1]"), Some((0, "spec.hosts[1]".into())));
        assert_eq!(f("spec.hosts"), Some((0, "spec.hosts".into())));
        // Below an entry without `same_below`, the entry's own field.
        assert_eq!(
            f("spec.http[1].match[0].uri.regex"),
            Some((2, "spec.http[4]".into()))
        );
        assert_eq!(
            f("spec.trafficPolicy.portLevelSettings[0].tls.sni"),
            Some((0, "spec.ports[3].clientsideTls".into()))
        );
        // Not a parent: a longer key, or another index.
        assert_eq!(f("spec.hostsX"), None);
        assert_eq!(f("spec.http[10]"), None);
        assert_eq!(f("spec.resolution"), None);
        assert_eq!(f(""), None);
    }

    #[test]
    fn paths_with_two_indexes_are_spelled_out_and_matched() {
        let m = FieldAt::at2(Template::HttpMatch, 12, 3);
        assert_eq!(m.path(), "spec.http[12].match[3]");
        assert_eq!(m.template(), "spec.http[#].match[#]");
        assert_eq!(FieldAt::at(Template::Http, 7).path(), "spec.http[7]");
        let mut o = Origins::default();
        o.add(
            FieldAt::at(Template::Http, 1),
            0,
            FieldAt::at(Template::Http, 4),
            false,
        );
        o.add(m, 1, FieldAt::at2(Template::Matcher, 0, 1), true);
        assert_eq!(
            o.source_field("spec.http[12].match[3].uri.regex"),
            Some((1, "spec.http[0].matchers[1].uri.regex".into()))
        );
        assert_eq!(o.source_field("spec.http[12].match[30]"), None);
        assert_eq!(
            o.source_field("spec.http[1].match[3]"),
            Some((0, "spec.http[4]".into()))
        );
    }

    #[test]
    fn the_longest_parent_wins_and_renumbering_follows_the_sources() {
        let mut o = Origins::default();
        o.add(
            FieldAt::key(Template::Spec),
            0,
            FieldAt::key(Template::Spec),
            false,
        );
        o.add(
            FieldAt::at(Template::Endpoint, 2),
            1,
            FieldAt::key(Template::Spec),
            true,
        );
        assert_eq!(
            o.source_field("spec.endpoints[2].address"),
            Some((1, "spec.address".into()))
        );
        assert_eq!(
            o.source_field("spec.endpoints[1]"),
            Some((0, "spec".into()))
        );
        o.renumber(&[1, 0]);
        assert_eq!(
            o.source_field("spec.endpoints[2].address"),
            Some((0, "spec.address".into()))
        );
    }
}
