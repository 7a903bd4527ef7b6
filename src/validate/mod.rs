//! Validation of rendered objects against Istio's CRD schemas and the istiod webhook rules
//! (docs/validation.md), reported at the Gloo source field's file:line.
//!
//! - `schema`: layer 1, the API server (structural schema, unknown fields, list types, CEL rules);
//! - `rules`: layer 2, istiod's validating webhook, per kind;
//! - `cross`: the two `istioctl analyze` checks that fit a renderer (layer 3).
//!
//! Every problem becomes a [`Diagnostic`] with code `istio-schema` or `istio-<rule>`, a message
//! naming the rendered object (every copy of it) and its field path, at the Gloo field that made
//! the offending value ([`report`]; docs/architecture.md, "Where findings point").
//!
//! Codes (docs/validation.md item numbers in brackets): `istio-schema` (layer 1: types, enums,
//! required, unknown fields, list-map keys, CRD CEL rules), `istio-metadata` [1, 2, 4],
//! `istio-export-to` [3], `istio-workload-selector` [5, 65], `istio-host` [7–9],
//! `istio-address` [10, 11], `istio-port` [12, 13, 18], `istio-resolution` [6, 14–17],
//! `istio-endpoint` [15, 16, 20–24], `istio-vs-host` [25, 28, 29], `istio-gateway-name` [26],
//! `istio-route-conflict` [30, 31, 34], `istio-match` [35, 53, 54], `istio-regex`,
//! `istio-header` [36], `istio-rewrite` [37, 38], `istio-redirect` [39],
//! `istio-direct-response` [40], `istio-retry` [41], `istio-duration` [42 and the other
//! durations], `istio-cors` [43], `istio-fault` [44], `istio-mirror` [45],
//! `istio-destination` [46, 47, 49], `istio-subset` [48, 57], `istio-weight` [50, 51],
//! `istio-tls-route` [53], `istio-tcp-route` [54], `istio-unreachable-route` [33, warnings],
//! `istio-dr-host` [55], `istio-traffic-policy` [56], `istio-client-tls` [58],
//! `istio-connection-pool` [59], `istio-outlier` [60], `istio-load-balancer` [61],
//! `istio-port-level` [62], `istio-tunnel` [63], `istio-missing-subset` [70, IST0101],
//! `istio-conflicting-mesh-host` [71, IST0109].

pub mod cross;
pub mod grammar;
pub mod rules;
pub mod schema;

use crate::diag::codes::Istio;
use crate::diag::{Diagnostic, Severity};
use crate::istio::object::{Origins, Rendered, SourceRef};
use crate::json::Field;
use crate::manifest::{Location, ObjectId};
use crate::repo::Repo;
use rayon::prelude::*;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

/// The Istio kinds checked (networking.istio.io, v1 and v1beta1).
pub const KINDS: [&str; 5] = [
    "DestinationRule",
    "Gateway",
    "ServiceEntry",
    "VirtualService",
    "WorkloadEntry",
];

/// A field path inside a rendered object, shown as `spec.http[0].route[1].weight`. Kept as its
/// display string, so building one is a single allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(String);

fn plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Path {
    /// The object itself.
    pub fn root() -> Path {
        Path(String::new())
    }

    /// Parses a JSON pointer (`/spec/ports/1`); all-digit segments are list indexes.
    pub fn from_pointer(p: &str) -> Path {
        let mut out = Path::root();
        for s in p.split('/').skip(1) {
            let s = s.replace("~1", "/").replace("~0", "~");
            match s.parse::<usize>() {
                Ok(i) if !s.is_empty() => out.push_index(i),
                _ => out.push_key(&s),
            }
        }
        out
    }

    /// This path plus a key.
    pub fn key(&self, k: &str) -> Path {
        let mut p = Path(String::with_capacity(self.0.len() + k.len() + 4));
        p.0.push_str(&self.0);
        p.push_key(k);
        p
    }

    /// This path plus a list index.
    pub fn index(&self, i: usize) -> Path {
        let mut p = self.clone();
        p.push_index(i);
        p
    }

    /// Appends a key.
    pub fn push_key(&mut self, k: &str) {
        use std::fmt::Write;
        if plain_key(k) {
            if !self.0.is_empty() {
                self.0.push('.');
            }
            self.0.push_str(k);
        } else {
            let _ = write!(self.0, "[{k:?}]");
        }
    }

    /// Appends a list index.
    pub fn push_index(&mut self, i: usize) {
        use std::fmt::Write;
        let _ = write!(self.0, "[{i}]");
    }

    /// The length of the display form (for `truncate`).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the object itself.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Goes back to a length returned by `len`.
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How many segments a [`Loc`] holds; deeper segments are dropped (the webhook rules go
/// 12 deep at most).
const LOC_DEPTH: usize = 16;

#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// A field path under construction, kept as borrowed segments so that building one costs no
/// allocation; it becomes a [`Path`] only when a problem is reported.
#[derive(Debug, Clone)]
pub(crate) struct Loc<'a> {
    segs: [Seg<'a>; LOC_DEPTH],
    len: usize,
}

impl<'a> Loc<'a> {
    /// The object itself.
    pub fn root() -> Loc<'a> {
        Loc {
            segs: [Seg::Index(0); LOC_DEPTH],
            len: 0,
        }
    }

    fn with<'b>(&self, s: Seg<'b>) -> Loc<'b>
    where
        'a: 'b,
    {
        let mut l: Loc<'b> = Loc {
            segs: self.segs,
            len: self.len,
        };
        if l.len < LOC_DEPTH {
            l.segs[l.len] = s;
            l.len += 1;
        }
        l
    }

    /// This path plus a key.
    pub fn key<'b>(&self, k: &'b str) -> Loc<'b>
    where
        'a: 'b,
    {
        self.with(Seg::Key(k))
    }

    /// This path plus a list index.
    pub fn index(&self, i: usize) -> Loc<'a> {
        self.with(Seg::Index(i))
    }

    /// The path as shown in messages.
    pub fn path(&self) -> Path {
        let mut p = Path::root();
        for s in &self.segs[..self.len] {
            match s {
                Seg::Key(k) => p.push_key(k),
                Seg::Index(i) => p.push_index(*i),
            }
        }
        p
    }
}

/// One problem found in a rendered object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Error (Istio rejects the object) or warning (admitted with a warning).
    pub severity: Severity,
    /// `istio-schema` or `istio-<rule>`.
    pub code: Istio,
    /// Where in the rendered object.
    pub path: Path,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// An error (Istio rejects the object).
    pub fn error(code: Istio, path: Path, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Error,
            code,
            path,
            message: message.into(),
        }
    }

    /// A warning (Istio admits the object and warns).
    pub fn warning(code: Istio, path: Path, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Warning,
            code,
            path,
            message: message.into(),
        }
    }
}

/// True for the objects this module checks: the five Istio networking kinds we render, at
/// networking.istio.io/v1 or v1beta1.
pub fn is_checked(value: &Value) -> bool {
    let api = value.at("apiVersion").as_str().unwrap_or("");
    let kind = value.at("kind").as_str().unwrap_or("");
    matches!(
        api,
        "networking.istio.io/v1" | "networking.istio.io/v1beta1"
    ) && KINDS.contains(&kind)
}

/// Checks one object (schema and webhook rules); not the cross-object checks.
pub fn check_object(value: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    if !is_checked(value) {
        return out;
    }
    let kind = value.at("kind").as_str().unwrap_or("");
    schema::check(kind, value, &mut out);
    rules::check(kind, value, &mut out);
    out
}

/// Validates every rendered object kept as a value (a run validates each object as it is
/// rendered, in `render::finish`; this is the same check for objects held by a caller).
pub fn validate_all(repo: &Repo, objects: &[Rendered]) -> Vec<Diagnostic> {
    let ids: Vec<ObjectId> = objects.par_iter().map(Rendered::id).collect();
    let subject = |i: usize| Subject {
        cluster: &objects[i].cluster,
        id: &ids[i],
        sources: &objects[i].sources,
        origins: &objects[i].origins,
    };
    let mut found: Vec<(Subject<'_>, Problem)> = objects
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, o)| check_object(&o.value).into_iter().map(move |p| (i, p)))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(i, p)| (subject(i), p))
        .collect();
    for (i, p) in cross::check_rendered(objects) {
        found.push((subject(i), p));
    }
    report(repo, found)
}

/// A rendered object a problem was found in, as a finding names it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The cluster it is written to.
    pub cluster: &'a str,
    /// Its identity.
    pub id: &'a ObjectId,
    /// The Gloo objects it was made from.
    pub sources: &'a [SourceRef],
    /// Which of their fields made which part of it.
    pub origins: &'a Origins,
}

/// What makes two problems one finding: severity, code, rendered path (only where no source
/// field is known), message, source and its field, rendered kind.
type GroupKey<'a> = (
    Severity,
    Istio,
    Option<String>,
    String,
    Option<&'a SourceRef>,
    Option<String>,
    &'a str,
);

/// How many copies a finding names before it counts the rest.
const COPIES_SHOWN: usize = 6;

/// Turns problems found in rendered objects into diagnostics at the Gloo field that made the
/// offending value: the object's [`Origins`] map the problem's path to a source field, located
/// at its line (or its nearest written parent's); without one, the first source object's
/// start. One problem found in several copies of one source's output (an ExternalService's
/// ServiceEntry in each namespace of its workspace), or at several rendered paths made by one
/// source field, is one diagnostic naming every copy and the first path.
pub fn report(repo: &Repo, found: Vec<(Subject<'_>, Problem)>) -> Vec<Diagnostic> {
    struct Group<'a> {
        problem: Problem,
        kind: &'a str,
        source: Option<&'a SourceRef>,
        field: Option<String>,
        copies: Vec<(&'a str, &'a str, &'a str)>,
        first: &'a ObjectId,
    }
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut index: HashMap<GroupKey<'_>, usize> = HashMap::new();
    for (o, p) in found {
        let path = p.path.to_string();
        let (source, field) = match o.origins.source_field(&path) {
            Some((i, field)) if i < o.sources.len() => (Some(&o.sources[i]), Some(field)),
            _ => (o.sources.first(), None),
        };
        let copy = (o.cluster, o.id.namespace.as_str(), o.id.name.as_str());
        // Problems at one source field are one finding, however many rendered paths it
        // made (a matcher rendered once per set of source labels).
        let key = (
            p.severity,
            p.code,
            field.is_none().then_some(path),
            p.message.clone(),
            source,
            field.clone(),
            o.id.kind.as_str(),
        );
        match index.get(&key) {
            Some(&g) => {
                if !groups[g].copies.contains(&copy) {
                    groups[g].copies.push(copy);
                }
            }
            None => {
                index.insert(key, groups.len());
                groups.push(Group {
                    problem: p,
                    kind: &o.id.kind,
                    source,
                    field,
                    copies: vec![copy],
                    first: o.id,
                });
            }
        }
    }
    let mut objects: Option<HashMap<(&Location, &ObjectId), &crate::manifest::Object>> = None;
    let mut out = Vec::with_capacity(groups.len());
    for mut g in groups {
        g.copies.sort_unstable();
        let path = g.problem.path.to_string();
        let at = if path.is_empty() {
            String::new()
        } else {
            format!(" {path}")
        };
        let mut d = Diagnostic::new(
            g.problem.severity,
            g.problem.code,
            format!(
                "rendered {} {}{at}: {}",
                g.kind,
                copies(&g.copies),
                g.problem.message
            ),
        );
        match (g.source, &g.field) {
            (Some(src), Some(field)) => {
                let objects = objects.get_or_insert_with(|| {
                    repo.objects
                        .iter()
                        .map(|o| ((&o.location, &o.id), o))
                        .collect()
                });
                d = d.on(src.id.clone());
                match objects.get(&(&src.location, &src.id)) {
                    Some(obj) => {
                        let (loc, pointer) = repo.locate_nearest(obj, field);
                        d = d.at(loc);
                        if !pointer.is_empty() {
                            d = d.field(Path::from_pointer(&pointer).to_string());
                        }
                    }
                    None => d = d.at(src.location.clone()),
                }
            }
            (Some(src), None) => d = d.at(src.location.clone()).on(src.id.clone()),
            (None, _) => d = d.on(g.first.clone()),
        }
        let version = &schema::source().0;
        out.push(d.help(if g.problem.code == Istio::Schema {
            format!(
                "Istio {version}'s CRD schema rejects this; the API server would refuse the object"
            )
        } else if g.problem.severity == Severity::Error {
            format!("istiod {version}'s validating webhook would reject this object")
        } else {
            format!("istiod {version} would accept this object with a warning")
        }));
    }
    out
}

/// The copies a finding concerns, as `ns/name (cluster c)`, the copies of one cluster
/// together: `app/x, istio-gateways/x (cluster cluster1)`.
fn copies(copies: &[(&str, &str, &str)]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let shown = &copies[..copies.len().min(COPIES_SHOWN)];
    for (i, (cluster, ns, name)) in shown.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{ns}/{name}");
        if shown.get(i + 1).is_none_or(|next| next.0 != *cluster) {
            let _ = write!(out, " (cluster {cluster})");
        }
    }
    if copies.len() > shown.len() {
        let _ = write!(out, " and {} more copies", copies.len() - shown.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::istio::object::SourceRef;
    use crate::manifest::{Location, ObjectId};
    use serde_json::json;

    #[test]
    fn locs_become_the_same_paths() {
        let l = Loc::root().key("spec").key("ports").index(1).key("a/b");
        let p = Path::root().key("spec").key("ports").index(1).key("a/b");
        assert_eq!(l.path(), p);
        assert_eq!(Loc::root().path(), Path::root());
    }

    #[test]
    fn paths_display_and_parse() {
        let p = Path::root().key("spec").key("ports").index(1).key("number");
        assert_eq!(p.to_string(), "spec.ports[1].number");
        assert_eq!(Path::from_pointer("/spec/ports/1/number"), p);
        let l = Path::root().key("metadata").key("labels").key("a/b");
        assert_eq!(l.to_string(), "metadata.labels[\"a/b\"]");
        assert_eq!(Path::from_pointer("/metadata/labels/a~1b"), l);
    }

    #[test]
    fn diagnostics_point_at_the_gloo_source() {
        let o = Rendered {
            cluster: "cluster1".into(),
            value: json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                "metadata": {"name": "se", "namespace": "ns"},
                "spec": {"hosts": ["*"], "resolution": "NONE", "exportTo": ["."]}}),
            sources: vec![SourceRef {
                id: ObjectId {
                    api_version: "networking.gloo.solo.io/v2".into(),
                    kind: "ExternalService".into(),
                    namespace: "ns".into(),
                    name: "es".into(),
                },
                location: Location {
                    file: "es.yaml".into(),
                    line: 3,
                    column: 1,
                },
            }],
            origins: Origins::default(),
        };
        let repo = crate::repo::Repo::default();
        let d = validate_all(&repo, std::slice::from_ref(&o));
        let d = d
            .iter()
            .find(|d| d.code == "istio-schema")
            .expect("wildcard host is a schema error");
        assert_eq!(d.location.as_ref().unwrap().line, 3);
        assert_eq!(d.object.as_ref().unwrap().kind, "ExternalService");
        // The field path is the rendered object's, so it is in the message, not `field`
        // (which would name a field of the Gloo object).
        assert_eq!(d.field, None);
        assert!(
            d.message
                .starts_with("rendered ServiceEntry ns/se (cluster cluster1) spec.hosts[0]: hostname cannot be wildcard"),
            "{}",
            d.message
        );
    }

    #[test]
    fn copies_are_listed_by_cluster_and_counted_past_six() {
        assert_eq!(copies(&[("c1", "app", "x")]), "app/x (cluster c1)");
        assert_eq!(
            copies(&[("c1", "app", "x"), ("c1", "gw", "x"), ("c2", "app", "x")]),
            "app/x, gw/x (cluster c1), app/x (cluster c2)"
        );
        let many: Vec<(&str, &str, &str)> = ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .map(|ns| ("c1", *ns, "x"))
            .collect();
        assert_eq!(
            copies(&many),
            "a/x, b/x, c/x, d/x, e/x, f/x (cluster c1) and 2 more copies"
        );
    }

    #[test]
    fn other_objects_are_not_checked() {
        assert!(check_object(&json!({"apiVersion": "v1", "kind": "ConfigMap"})).is_empty());
        assert!(check_object(
            &json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "ServiceEntry", "spec": {"bogus": 1}})
        )
        .is_empty());
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[*./:a-zA-Z0-9%@ _-]{0,12}".prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let keys = prop_oneof![
                Just("hosts".to_string()),
                Just("http".to_string()),
                Just("route".to_string()),
                Just("match".to_string()),
                Just("ports".to_string()),
                Just("endpoints".to_string()),
                Just("tls".to_string()),
                Just("subsets".to_string()),
                Just("trafficPolicy".to_string()),
                Just("exportTo".to_string()),
                Just("uri".to_string()),
                Just("regex".to_string()),
                "[a-zA-Z]{1,8}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(keys, inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Any spec, however malformed, gives problems, never a panic.
        #[test]
        fn never_panics(spec in value(), kind in 0usize..5) {
            let obj = json!({"apiVersion": "networking.istio.io/v1", "kind": KINDS[kind],
                             "metadata": {"name": "x", "namespace": "ns"}, "spec": spec});
            let _ = check_object(&obj);
            let r = Rendered { cluster: "c".into(), value: obj, sources: Vec::new(), origins: Origins::default() };
            let _ = cross::check_rendered(std::slice::from_ref(&r));
        }
    }
}
