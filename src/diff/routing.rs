//! A picture of routing per host, built from the rendered Istio objects: host → route match →
//! destination (host:port, subset, weight) → ServiceEntry endpoints or addresses. Pictures are
//! compared per (cluster, host); hosts whose picture changed get a Mermaid flowchart of the
//! before and the after.

use super::ObjectDiff;
use crate::hashing::{FastMap, FastSet};
use crate::istio::object::{Kept, SourceRef};
use crate::node::Node;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write;

/// One destination of a route.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Destination {
    /// `host:port subset`, as shown.
    pub label: String,
    /// Weight in percent, when the route splits traffic.
    pub weight: Option<i64>,
    /// Endpoints from the ServiceEntries of the destination host.
    pub endpoints: Vec<String>,
    /// The destination policies on this port, from the DestinationRule of the host in the
    /// VirtualService's namespace: `OutlierDetectionPolicy ns/name` (the kind alone when the
    /// rule's sources hold several of it), or the Istio field where no source names one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
}

/// One route of a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// The VirtualService it comes from (`namespace/name`) and its protocol section.
    pub from: String,
    /// The match, in words (`uri.prefix=/api & method.exact=GET`, `any`).
    pub matcher: String,
    /// Where matching traffic goes.
    pub destinations: Vec<Destination>,
    /// A redirect, direct response or delegate, when the route does not forward.
    pub action: Option<String>,
    /// The route policies on it, with the Istio fields they wrote (`RetryTimeoutPolicy app/rt
    /// timeout=10s`); the kind alone when the VirtualService has several of that kind.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
}

/// Every route of one host in one cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HostRoutes {
    /// Routes in the order Istio evaluates them within each VirtualService.
    pub routes: Vec<Route>,
}

/// A host whose routing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostChange {
    /// Cluster.
    pub cluster: String,
    /// The host, as written in the VirtualService.
    pub host: String,
    /// Routing in base, if the host was routed.
    pub before: Option<HostRoutes>,
    /// Routing in head, if the host is routed.
    pub after: Option<HostRoutes>,
}

fn is_kind(v: &Node, kind: &str) -> bool {
    v.get("kind").and_then(Node::as_str) == Some(kind)
        && v.get("apiVersion")
            .and_then(Node::as_str)
            .is_some_and(|a| a.starts_with("networking.istio.io/"))
}

fn strs(v: Option<&Node>) -> Vec<String> {
    v.and_then(Node::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Node::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn scalar(v: &Node) -> String {
    match v {
        Node::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// Flattens a match entry into `path=value` terms joined by ` & `.
fn flatten(v: &Node, prefix: &str, out: &mut Vec<String>) {
    match v {
        Node::Object(m) => {
            for (k, x) in m.iter() {
                if prefix.is_empty() && k == "name" {
                    continue;
                }
                let p = if prefix.is_empty() {
                    k.to_string()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(x, &p, out);
            }
        }
        Node::Array(a) => {
            let items: Vec<String> = a.iter().map(scalar).collect();
            out.push(format!("{prefix}=[{}]", items.join(",")));
        }
        other => out.push(format!("{prefix}={}", scalar(other))),
    }
}

fn matcher(route: &Node) -> String {
    let Some(ms) = route.get("match").and_then(Node::as_array) else {
        return "any".into();
    };
    let alts: Vec<String> = ms
        .iter()
        .map(|m| {
            let mut terms = Vec::new();
            flatten(m, "", &mut terms);
            if terms.is_empty() {
                "any".into()
            } else {
                terms.join(" & ")
            }
        })
        .collect();
    if alts.is_empty() {
        "any".into()
    } else {
        alts.join(" | ")
    }
}

/// What a wildcard host covers in Istio: `*.example.org` every host ending in `.example.org`
/// (the reference the indexes below are tested against).
#[cfg(test)]
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix),
        None => pattern == host,
    }
}

/// Values indexed by the host they are written for; wildcard hosts by the suffix they match
/// ([`host_matches`]), with the lengths of those suffixes, so a host is tried against its own
/// few suffixes instead of every wildcard.
struct ByHost<'a, V> {
    exact: FastMap<&'a str, Vec<V>>,
    wildcard: FastMap<&'a str, Vec<V>>,
    suffix_lengths: BTreeSet<usize>,
}

impl<V> Default for ByHost<'_, V> {
    fn default() -> Self {
        ByHost {
            exact: FastMap::default(),
            wildcard: FastMap::default(),
            suffix_lengths: BTreeSet::new(),
        }
    }
}

impl<'a, V> ByHost<'a, V> {
    fn insert(&mut self, host: &'a str, v: V) {
        match host.strip_prefix('*') {
            Some(suffix) => {
                self.wildcard.entry(suffix).or_default().push(v);
                self.suffix_lengths.insert(suffix.len());
            }
            None => self.exact.entry(host).or_default().push(v),
        }
    }

    /// The values of every host that covers `host`: its own, then the wildcards'.
    fn covering<'s>(&'s self, host: &'s str) -> impl Iterator<Item = &'s V> + 's {
        let wild = self
            .suffix_lengths
            .iter()
            .take_while(move |&&n| n <= host.len())
            .filter_map(move |&n| host.get(host.len() - n..))
            .filter_map(|suffix| self.wildcard.get(suffix))
            .flatten();
        self.exact.get(host).into_iter().flatten().chain(wild)
    }
}

/// The ServiceEntries of one cluster, by host.
type Entries<'a> = ByHost<'a, &'a Node>;

impl<'a> ByHost<'a, &'a Node> {
    fn add(&mut self, se: &'a Node) {
        for h in se["spec"]["hosts"].as_array().into_iter().flatten() {
            if let Some(h) = h.as_str() {
                self.insert(h, se);
            }
        }
    }

    /// Endpoints of the ServiceEntries whose hosts cover `host`.
    fn endpoints(&self, host: &str) -> Vec<String> {
        let mut out = Vec::new();
        for se in self.covering(host) {
            let spec = &se["spec"];
            for ep in spec["endpoints"].as_array().into_iter().flatten() {
                let Some(addr) = ep.get("address").and_then(Node::as_str) else {
                    continue;
                };
                let ports: Vec<String> = ep["ports"]
                    .as_object()
                    .map(|m| m.values().map(scalar).collect())
                    .unwrap_or_default();
                if ports.is_empty() {
                    out.push(addr.to_string());
                } else {
                    out.push(format!("{addr}:{}", ports.join(",")));
                }
            }
            for a in strs(spec.get("addresses")) {
                out.push(format!("address {a}"));
            }
            if spec["endpoints"].as_array().is_none_or(|a| a.is_empty())
                && spec.get("resolution").and_then(Node::as_str) == Some("DNS")
            {
                out.push(format!("DNS {host}"));
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The route policies' fields of an Istio HTTP route, by the kind that writes each
/// (docs/translation.md#policies).
const ROUTE_POLICY_FIELDS: &[(&str, &[&str])] = &[
    ("RetryTimeoutPolicy", &["timeout", "retries"]),
    ("FaultInjectionPolicy", &["fault"]),
    ("MirrorPolicy", &["mirror", "mirrorPercentage"]),
    ("CORSPolicy", &["corsPolicy"]),
    ("HeaderManipulationPolicy", &["headers"]),
];

/// The route policies on an HTTP route: each kind, named by the object's policy source of
/// that kind when it has exactly one, with the fields it wrote, compact.
fn route_policies(route: &Node, sources: &[SourceRef]) -> Vec<String> {
    let mut out = Vec::new();
    for (kind, fields) in ROUTE_POLICY_FIELDS {
        let mut terms = Vec::new();
        for f in *fields {
            if let Some(v) = route.get(f) {
                flatten(v, f, &mut terms);
            }
        }
        if !terms.is_empty() {
            out.push(format!(
                "{} {}",
                policy_name(kind, sources),
                terms.join(" ")
            ));
        }
    }
    out
}

/// `Kind ns/name` of the one source of that kind, or the kind alone.
fn policy_name(kind: &str, sources: &[SourceRef]) -> String {
    let mut named = sources.iter().filter(|s| s.id.kind == kind);
    match (named.next(), named.next()) {
        (Some(p), None) => format!("{kind} {}/{}", p.id.namespace, p.id.name),
        _ => kind.to_string(),
    }
}

/// The destination policies' fields of a DestinationRule port, by the kind that writes each
/// (dotted paths in the `portLevelSettings[]` entry; docs/translation.md#destination-policies).
const DESTINATION_POLICY_FIELDS: &[(&str, &[&str])] = &[
    ("OutlierDetectionPolicy", &["outlierDetection"]),
    (
        "LoadBalancerPolicy",
        &[
            "loadBalancer.simple",
            "loadBalancer.consistentHash",
            "loadBalancer.warmupDurationSecs",
        ],
    ),
    ("FailoverPolicy", &["loadBalancer.localityLbSetting"]),
    ("ConnectionPolicy", &["connectionPool"]),
    ("ClientTLSPolicy", &["tls"]),
];

/// The DestinationRules of one cluster, by (namespace, host).
type Rules<'a> = FastMap<(&'a str, &'a str), Vec<&'a Kept>>;

/// The destination policies on `host:port` as seen from namespace `ns`: the kinds whose
/// fields the port's `portLevelSettings[]` entry of the host's rule in `ns` holds, each named
/// by the rule's policy source of that kind when it has exactly one.
fn destination_policies(rules: &Rules<'_>, ns: &str, host: &str, port: Option<i64>) -> Vec<String> {
    let (Some(port), Some(found)) = (port, rules.get(&(ns, host))) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for dr in found {
        let settings = dr.value["spec"]["trafficPolicy"]["portLevelSettings"].as_array();
        let Some(entry) = settings
            .into_iter()
            .flatten()
            .find(|e| e["port"]["number"].as_i64() == Some(port))
        else {
            continue;
        };
        for (kind, fields) in DESTINATION_POLICY_FIELDS {
            // A field another source can also write (an ExternalService's `tls`) counts only
            // when the rule has a policy of the kind among its sources.
            let written = fields
                .iter()
                .any(|f| f.split('.').try_fold(entry, |v, k| v.get(k)).is_some());
            if !written || !dr.sources.iter().any(|s| s.id.kind == *kind) {
                continue;
            }
            let shown = policy_name(kind, &dr.sources);
            if !out.contains(&shown) {
                out.push(shown);
            }
        }
    }
    out
}

fn destinations(
    route: &Node,
    entries: &Entries<'_>,
    rules: &Rules<'_>,
    ns: &str,
) -> Vec<Destination> {
    route["route"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let dest = &d["destination"];
            let host = dest["host"].as_str().unwrap_or("?");
            let mut label = host.to_string();
            if let Some(p) = dest["port"]["number"].as_i64() {
                let _ = write!(label, ":{p}");
            }
            if let Some(s) = dest["subset"].as_str() {
                let _ = write!(label, " subset {s}");
            }
            Destination {
                label,
                weight: d["weight"].as_i64(),
                endpoints: entries.endpoints(host),
                policies: destination_policies(rules, ns, host, dest["port"]["number"].as_i64()),
            }
        })
        .collect()
}

fn action(route: &Node) -> Option<String> {
    if let Some(r) = route.get("redirect") {
        return Some(format!("redirect {}", compact(r)));
    }
    if let Some(r) = route.get("directResponse") {
        return Some(format!(
            "direct response {}",
            r["status"].as_i64().unwrap_or(0)
        ));
    }
    if let Some(r) = route.get("delegate") {
        return Some(format!(
            "delegate {}/{}",
            r["namespace"].as_str().unwrap_or(""),
            r["name"].as_str().unwrap_or("")
        ));
    }
    None
}

fn compact(v: &Node) -> String {
    let mut terms = Vec::new();
    flatten(v, "", &mut terms);
    terms.join(" ")
}

/// The routing of every host of every VirtualService, per (cluster, host).
pub fn graph(objects: &[Kept]) -> BTreeMap<(String, String), HostRoutes> {
    graph_of(objects, None)
}

/// The destination hosts of a VirtualService's routes, in every protocol section.
fn destination_hosts(spec: &Node) -> impl Iterator<Item = &str> {
    ["http", "tls", "tcp"].into_iter().flat_map(move |proto| {
        spec[proto].as_array().into_iter().flatten().flat_map(|r| {
            r["route"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["destination"]["host"].as_str())
        })
    })
}

/// As [`graph`], only for the (cluster, host) pairs in `only` when given.
fn graph_of(
    objects: &[Kept],
    only: Option<&HashSet<(&str, &str)>>,
) -> BTreeMap<(String, String), HostRoutes> {
    // The VirtualServices to draw, with their hosts to draw.
    let drawn: Vec<(&Kept, Vec<&str>)> = objects
        .iter()
        .filter(|o| is_kind(&o.value, "VirtualService"))
        .filter_map(|o| {
            let hosts: Vec<&str> = o.value["spec"]["hosts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Node::as_str)
                .filter(|h| only.is_none_or(|set| set.contains(&(o.cluster.as_str(), *h))))
                .collect();
            (!hosts.is_empty()).then_some((o, hosts))
        })
        .collect();
    // Only the ServiceEntries those routes can reach are indexed: the ones with an exact host
    // a drawn route names, and every wildcard one (few), instead of every entry of the
    // cluster for a diff's few hosts.
    let wanted: Option<FastSet<(&str, &str)>> = only.map(|_| {
        drawn
            .iter()
            .flat_map(|(o, _)| destination_hosts(&o.value["spec"]).map(|h| (o.cluster.as_str(), h)))
            .collect()
    });
    let mut entries: HashMap<&str, Entries<'_>> = HashMap::new();
    for o in objects.iter().filter(|o| is_kind(&o.value, "ServiceEntry")) {
        let reachable = wanted.as_ref().is_none_or(|w| {
            o.value["spec"]["hosts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Node::as_str)
                .any(|h| h.starts_with('*') || w.contains(&(o.cluster.as_str(), h)))
        });
        if reachable {
            entries.entry(o.cluster.as_str()).or_default().add(&o.value);
        }
    }
    // The DestinationRules of the hosts those routes name, for their destination policies.
    let mut rules: HashMap<&str, Rules<'_>> = HashMap::new();
    for o in objects
        .iter()
        .filter(|o| is_kind(&o.value, "DestinationRule"))
    {
        let Some(host) = o.value["spec"]["host"].as_str() else {
            continue;
        };
        if wanted
            .as_ref()
            .is_none_or(|w| w.contains(&(o.cluster.as_str(), host)))
        {
            let ns = o.value["metadata"]["namespace"].as_str().unwrap_or("");
            rules
                .entry(o.cluster.as_str())
                .or_default()
                .entry((ns, host))
                .or_default()
                .push(o);
        }
    }
    let none = Entries::default();
    let no_rules = Rules::default();
    let mut out: BTreeMap<(String, String), HostRoutes> = BTreeMap::new();
    for (o, hosts) in drawn {
        let spec = &o.value["spec"];
        let ses = entries.get(o.cluster.as_str()).unwrap_or(&none);
        let drs = rules.get(o.cluster.as_str()).unwrap_or(&no_rules);
        let ns = o.value["metadata"]["namespace"].as_str().unwrap_or("");
        let vs = format!(
            "{}/{}",
            ns,
            o.value["metadata"]["name"].as_str().unwrap_or("")
        );
        let mut routes = Vec::new();
        for proto in ["http", "tls", "tcp"] {
            for (i, r) in spec[proto].as_array().into_iter().flatten().enumerate() {
                let name = r["name"].as_str().map(str::to_string);
                routes.push(Route {
                    from: format!("{vs} {proto}[{}]", name.unwrap_or_else(|| i.to_string())),
                    matcher: matcher(r),
                    destinations: destinations(r, ses, drs, ns),
                    action: action(r),
                    policies: route_policies(r, &o.sources),
                });
            }
        }
        // Each host but the last takes a copy; the last takes the routes themselves.
        let Some((last, rest)) = hosts.split_last() else {
            continue;
        };
        for h in rest {
            out.entry((o.cluster.clone(), h.to_string()))
                .or_default()
                .routes
                .extend(routes.iter().cloned());
        }
        out.entry((o.cluster.clone(), last.to_string()))
            .or_default()
            .routes
            .extend(routes);
    }
    out
}

/// Changed ServiceEntries' hosts of one cluster.
type Patterns<'a> = ByHost<'a, ()>;

impl<'a> ByHost<'a, ()> {
    fn add(&mut self, host: &'a str) {
        self.insert(host, ());
    }

    /// True when a changed host covers `host` ([`host_matches`]).
    fn cover(&self, host: &str) -> bool {
        self.covering(host).next().is_some()
    }
}

/// The (cluster, host) pairs whose picture may differ: the hosts of every VirtualService that
/// was added, removed or changed, and of every VirtualService routing to a host of a
/// ServiceEntry that was added, removed or changed. Every other host has the same inputs on
/// both sides, so the same picture; skipping them keeps a diff proportional to its changes.
/// `diffs` are the objects `compare` found different, so no value is compared twice.
fn touched<'a>(base: &'a [Kept], diffs: &'a [ObjectDiff]) -> HashSet<(&'a str, &'a str)> {
    // The changed objects' hosts come from the diffs themselves (each holds both sides'
    // values); only the scan for VirtualServices routing to a changed ServiceEntry's host
    // reads every object.
    let routing = |v: &Value, kind: &str| {
        v["kind"].as_str() == Some(kind)
            && v["apiVersion"]
                .as_str()
                .is_some_and(|a| a.starts_with("networking.istio.io/"))
    };
    let mut hosts: HashSet<(&str, &str)> = HashSet::new();
    // Hosts of changed ServiceEntries, per cluster.
    let mut patterns: FastMap<&str, Patterns<'_>> = FastMap::default();
    for d in diffs {
        for v in d.after.iter().chain(&d.before) {
            let vs = routing(v, "VirtualService");
            if routing(v, "DestinationRule") {
                // Its destination policies show on the destinations of the routes to its host.
                if let Some(host) = v["spec"]["host"].as_str() {
                    patterns.entry(&d.cluster).or_default().add(host);
                }
                continue;
            }
            if !vs && !routing(v, "ServiceEntry") {
                continue;
            }
            let list = v["spec"]["hosts"].as_array().into_iter().flatten();
            for host in list.filter_map(Value::as_str) {
                if vs {
                    hosts.insert((&d.cluster, host));
                } else {
                    patterns.entry(&d.cluster).or_default().add(host);
                }
            }
        }
    }
    if !patterns.is_empty() {
        let routes_to_changed = |o: &Kept| {
            let Some(p) = patterns.get(o.cluster.as_str()) else {
                return false;
            };
            is_kind(&o.value, "VirtualService")
                && destination_hosts(&o.value["spec"]).any(|dh| p.cover(dh))
        };
        // The base alone is scanned: a head VirtualService is either added or changed (its
        // hosts are in already) or equal to the base's of its key, which the scan sees.
        let found: Vec<(&str, &str)> = base
            .par_iter()
            .filter(|o| routes_to_changed(o))
            .flat_map_iter(|o| {
                let list = o.value["spec"]["hosts"].as_array().into_iter().flatten();
                list.filter_map(Node::as_str)
                    .map(move |host| (o.cluster.as_str(), host))
            })
            .collect();
        hosts.extend(found);
    }
    hosts
}

/// Hosts whose routing differs between base and head, sorted by cluster and host. `diffs` are
/// the objects that differ between the two (from `compare`).
pub fn changes(base: &[Kept], head: &[Kept], diffs: &[ObjectDiff]) -> Vec<HostChange> {
    let start = std::time::Instant::now();
    let only = touched(base, diffs);
    tracing::debug!(
        "routing: {} touched hosts in {:?}",
        only.len(),
        start.elapsed()
    );
    if only.is_empty() {
        return Vec::new();
    }
    let (mut b, h) = rayon::join(
        || graph_of(base, Some(&only)),
        || graph_of(head, Some(&only)),
    );
    tracing::debug!("routing: graphs at {:?}", start.elapsed());
    let mut out = Vec::new();
    for ((cluster, host), after) in h {
        let before = b.remove(&(cluster.clone(), host.clone()));
        if before.as_ref() != Some(&after) {
            out.push(HostChange {
                cluster,
                host,
                before,
                after: Some(after),
            });
        }
    }
    for ((cluster, host), before) in b {
        out.push(HostChange {
            cluster,
            host,
            before: Some(before),
            after: None,
        });
    }
    out.sort_by(|a, b| (&a.cluster, &a.host).cmp(&(&b.cluster, &b.host)));
    out
}

/// A Mermaid label, quoted, with the characters Mermaid would interpret written as its entity
/// codes (`#35;` is `#`, which would otherwise start an entity such as `#1;`), so that each
/// renders as written.
fn label(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            ';' => out.push_str("#59;"),
            '`' => out.push_str("#96;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl HostRoutes {
    /// A Mermaid `flowchart LR` of the host's routing. Destinations and endpoints shared by
    /// several routes are drawn once.
    pub fn mermaid(&self, host: &str) -> String {
        let mut s = String::from("flowchart LR\n");
        let _ = writeln!(s, "  h{}", label_node(host));
        let mut dests: BTreeMap<String, usize> = BTreeMap::new();
        let mut eps: BTreeMap<&str, usize> = BTreeMap::new();
        let mut edges: Vec<String> = Vec::new();
        for (i, r) in self.routes.iter().enumerate() {
            let mut route = format!("{}: {}", r.from, r.matcher);
            for p in &r.policies {
                let _ = write!(route, " · {p}");
            }
            let _ = writeln!(s, "  r{i}{}", label_node(&route));
            edges.push(format!("  h --> r{i}"));
            if let Some(a) = &r.action {
                let _ = writeln!(s, "  a{i}{}", label_node(a));
                edges.push(format!("  r{i} --> a{i}"));
            }
            for d in &r.destinations {
                let n = dests.len();
                let mut shown = d.label.clone();
                for p in &d.policies {
                    let _ = write!(shown, " · {p}");
                }
                let id = *dests.entry(shown).or_insert_with_key(|shown| {
                    let _ = writeln!(s, "  d{n}{}", label_node(shown));
                    n
                });
                let edge = match d.weight {
                    Some(w) => format!("  r{i} -->|{}| d{id}", label(&format!("{w}%"))),
                    None => format!("  r{i} --> d{id}"),
                };
                edges.push(edge);
                for e in &d.endpoints {
                    let n = eps.len();
                    let mut fresh = false;
                    let eid = *eps.entry(e.as_str()).or_insert_with(|| {
                        fresh = true;
                        n
                    });
                    if fresh {
                        let _ = writeln!(s, "  e{eid}{}", label_node(e));
                    }
                    let edge = format!("  d{id} --> e{eid}");
                    if !edges.contains(&edge) {
                        edges.push(edge);
                    }
                }
            }
        }
        for e in edges {
            s.push_str(&e);
            s.push('\n');
        }
        s
    }
}

fn label_node(s: &str) -> String {
    format!("[{}]", label(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::istio::object::Rendered;
    use serde_json::json;
    use std::sync::Arc;

    fn r(v: serde_json::Value) -> Kept {
        Rendered {
            cluster: "c".into(),
            value: Arc::new(Node::from(&v)),
            sources: Vec::new(),
            origins: Default::default(),
        }
    }

    fn vs(weight: i64) -> Kept {
        r(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "api", "namespace": "gw"},
            "spec": {"hosts": ["api.example.com"], "http": [
                {"name": "api", "match": [{"uri": {"prefix": "/api"}}],
                 "route": [
                    {"destination": {"host": "ext.example.com", "port": {"number": 443}}, "weight": weight},
                    {"destination": {"host": "svc.ns.svc.cluster.local", "subset": "v2"}, "weight": 100 - weight}]},
                {"directResponse": {"status": 404}}]}}),
        )
    }

    fn se() -> Kept {
        se_at("10.0.0.1")
    }

    fn se_at(address: &str) -> Kept {
        r(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": "ext", "namespace": "gw"},
            "spec": {"hosts": ["ext.example.com"], "resolution": "STATIC",
                     "endpoints": [{"address": address, "ports": {"https": 8443}}]}}),
        )
    }

    /// `changes` over the differences `compare` finds, as `diff::build` calls it.
    fn changes_of(base: &[Kept], head: &[Kept]) -> Vec<HostChange> {
        let (diffs, _) = crate::diff::compare(base, head, &crate::diff::DiffOptions { context: 3 });
        changes(base, head, &diffs)
    }

    #[test]
    fn graph_follows_routes_to_endpoints() {
        let g = graph(&[vs(90), se()]);
        let h = &g[&("c".to_string(), "api.example.com".to_string())];
        assert_eq!(h.routes.len(), 2);
        assert_eq!(h.routes[0].matcher, "uri.prefix=/api");
        assert_eq!(h.routes[0].destinations[0].label, "ext.example.com:443");
        assert_eq!(h.routes[0].destinations[0].endpoints, vec!["10.0.0.1:8443"]);
        assert_eq!(
            h.routes[0].destinations[1].label,
            "svc.ns.svc.cluster.local subset v2"
        );
        assert_eq!(h.routes[1].action.as_deref(), Some("direct response 404"));
        let m = h.mermaid("api.example.com");
        assert!(m.starts_with("flowchart LR\n"), "{m}");
        assert!(m.contains("r0 -->|\"90%\"| d0"), "{m}");
        assert!(m.contains("d0 --> e0"), "{m}");
    }

    fn source(kind: &str, namespace: &str, name: &str) -> SourceRef {
        SourceRef {
            id: crate::manifest::ObjectId {
                api_version: "policy.gloo.solo.io/v2".into(),
                kind: kind.into(),
                namespace: namespace.into(),
                name: name.into(),
            },
            location: crate::manifest::Location {
                file: "p.yaml".into(),
                line: 1,
                column: 1,
            },
        }
    }

    /// The VirtualService `api` in `gw` with a RetryTimeoutPolicy's `timeout` on its route to
    /// `svc:8080`, and that host's rule in `gw` with an OutlierDetectionPolicy's settings.
    fn with_policies(timeout: &str, errors: i64) -> Vec<Kept> {
        let vs = r(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "api", "namespace": "gw"},
            "spec": {"hosts": ["api.example.com"], "http": [
                {"name": "api", "timeout": timeout,
                 "route": [{"destination": {"host": "svc.ns.svc.cluster.local", "port": {"number": 8080}}}]}]}}),
        );
        let mut dr = r(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": "svc", "namespace": "gw"},
            "spec": {"host": "svc.ns.svc.cluster.local", "trafficPolicy": {"portLevelSettings": [
                {"port": {"number": 8080}, "outlierDetection": {"consecutive5xxErrors": errors}}]}}}),
        );
        let mut vs = vs;
        vs.sources = vec![source("RetryTimeoutPolicy", "app", "rt")];
        dr.sources = vec![source("OutlierDetectionPolicy", "ns", "od")];
        vec![vs, dr]
    }

    #[test]
    fn a_destination_field_names_the_policy_kind_that_wrote_it() {
        let mut kept = with_policies("10s", 5);
        kept[1] = r(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": "svc", "namespace": "gw"},
            "spec": {"host": "svc.ns.svc.cluster.local", "trafficPolicy": {"portLevelSettings": [
                {"port": {"number": 8080}, "tls": {"mode": "SIMPLE"},
                 "loadBalancer": {"localityLbSetting": {"enabled": true}}}]}}}),
        );
        kept[1].sources = vec![source("FailoverPolicy", "ns", "fo")];
        let g = graph(&kept);
        let h = &g[&("c".to_string(), "api.example.com".to_string())];
        // No LoadBalancerPolicy for a `loadBalancer` holding only locality settings, and no
        // ClientTLSPolicy for a `tls` no such policy wrote.
        assert_eq!(
            h.routes[0].destinations[0].policies,
            ["FailoverPolicy ns/fo"]
        );
        kept[1].sources.push(source("ClientTLSPolicy", "ns", "tls"));
        let g = graph(&kept);
        let h = &g[&("c".to_string(), "api.example.com".to_string())];
        assert_eq!(
            h.routes[0].destinations[0].policies,
            ["FailoverPolicy ns/fo", "ClientTLSPolicy ns/tls"]
        );
    }

    #[test]
    fn routes_and_destinations_show_their_policies() {
        let g = graph(&with_policies("10s", 5));
        let h = &g[&("c".to_string(), "api.example.com".to_string())];
        assert_eq!(
            h.routes[0].policies,
            ["RetryTimeoutPolicy app/rt timeout=10s"]
        );
        let d = &h.routes[0].destinations[0];
        assert_eq!(d.policies, ["OutlierDetectionPolicy ns/od"]);
        let m = h.mermaid("api.example.com");
        assert!(
            m.contains("any · RetryTimeoutPolicy app/rt timeout=10s"),
            "{m}"
        );
        assert!(
            m.contains("svc.ns.svc.cluster.local:8080 · OutlierDetectionPolicy ns/od"),
            "{m}"
        );
        // A destination policy change alone redraws the hosts routing to the destination.
        let c = changes_of(&with_policies("10s", 5), &with_policies("10s", 7));
        assert_eq!(c.len(), 0, "same fields, same picture");
        let c = changes_of(&with_policies("10s", 5), &with_policies("20s", 5));
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].before.as_ref().map(|b| b.routes[0].policies.clone()),
            Some(vec!["RetryTimeoutPolicy app/rt timeout=10s".to_string()])
        );
    }

    #[test]
    fn only_changed_hosts_are_reported() {
        assert!(changes_of(&[vs(90), se()], &[vs(90), se()]).is_empty());
        let c = changes_of(&[vs(90), se()], &[vs(80), se()]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].host, "api.example.com");
        // An endpoint change alone changes the picture.
        let se2 = se_at("10.0.0.2");
        assert_eq!(changes_of(&[vs(90), se()], &[vs(90), se2]).len(), 1);
        let gone = changes_of(&[vs(90)], &[]);
        assert!(gone[0].after.is_none() && gone[0].before.is_some());
    }

    #[test]
    fn a_changed_wildcard_entry_reaches_only_hosts_routing_under_it() {
        let wild = |addr: &str| {
            r(
                json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": "wild", "namespace": "gw"},
            "spec": {"hosts": ["*.example.com"], "resolution": "STATIC",
                     "endpoints": [{"address": addr}]}}),
            )
        };
        let other = r(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "other", "namespace": "gw"},
            "spec": {"hosts": ["other.example.org"], "http": [
                {"route": [{"destination": {"host": "svc.ns.svc.cluster.local"}}]}]}}),
        );
        let base = [vs(90), other.clone(), wild("10.0.0.1")];
        let head = [vs(90), other, wild("10.0.0.9")];
        let c = changes_of(&base, &head);
        let hosts: Vec<&str> = c.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(hosts, ["api.example.com"]);
        let after = c[0]
            .after
            .as_ref()
            .map(|a| &a.routes[0].destinations[0].endpoints);
        assert_eq!(after, Some(&vec!["10.0.0.9".to_string()]));
    }

    #[test]
    fn wildcard_entries_cover_the_hosts_host_matches_does() {
        let se = |host: &str, addr: &str| {
            Node::from_value(json!({"spec": {"hosts": [host], "endpoints": [{"address": addr}]}}))
        };
        let entries = [
            se("*", "1.0.0.1"),
            se("*.example.org", "1.0.0.2"),
            se("*.b.example.org", "1.0.0.3"),
            se("*ple.org", "1.0.0.4"),
            se("a.b.example.org", "1.0.0.5"),
        ];
        let mut index = Entries::default();
        entries.iter().for_each(|e| index.add(e));
        for host in [
            "a.b.example.org",
            "x.example.org",
            "example.org",
            "apple.org",
            "other",
        ] {
            let mut want: Vec<String> = entries
                .iter()
                .filter(|e| host_matches(e["spec"]["hosts"][0].as_str().unwrap(), host))
                .map(|e| {
                    e["spec"]["endpoints"][0]["address"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect();
            want.sort();
            assert_eq!(index.endpoints(host), want, "{host}");
        }
    }

    #[test]
    fn changed_host_patterns_cover_the_hosts_host_matches_does() {
        let changed = ["*.example.org", "*ple.org", "a.b.example.org", "exact.io"];
        for n in 0..=changed.len() {
            let mut p = Patterns::default();
            changed[..n].iter().for_each(|h| p.add(h));
            for host in [
                "a.b.example.org",
                "x.example.org",
                "example.org",
                "apple.org",
                "exact.io",
                "other",
                "",
            ] {
                let want = changed[..n].iter().any(|c| host_matches(c, host));
                assert_eq!(p.cover(host), want, "{host} against {:?}", &changed[..n]);
            }
        }
        let mut all = Patterns::default();
        all.add("*");
        assert!(all.cover("anything.at.all"));
    }

    #[test]
    fn a_picture_of_some_hosts_is_the_full_picture_of_those_hosts() {
        // Entries are indexed only when a drawn route can reach them; the picture must not
        // lose an exact or a wildcard one, nor take one a route does not reach.
        let vs_to = |name: &str, host: &str, dest: &str| {
            r(
                json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "metadata": {"name": name, "namespace": "gw"},
                "spec": {"hosts": [host], "http": [
                    {"route": [{"destination": {"host": dest}}]}]}}),
            )
        };
        let se_for = |name: &str, host: &str, addr: &str| {
            r(
                json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                "metadata": {"name": name, "namespace": "gw"},
                "spec": {"hosts": [host], "endpoints": [{"address": addr}]}}),
            )
        };
        let objects = [
            vs_to("a", "a.example.com", "x.svc.example.org"),
            vs_to("b", "b.example.com", "y.example.net"),
            vs_to("c", "c.example.com", "z.example.io"),
            se_for("x", "x.svc.example.org", "10.0.0.1"),
            se_for("wild", "*.example.org", "10.0.0.2"),
            se_for("y", "y.example.net", "10.0.0.3"),
            se_for("z", "z.example.io", "10.0.0.4"),
        ];
        let full = graph(&objects);
        let only: HashSet<(&str, &str)> = [("c", "a.example.com"), ("c", "b.example.com")]
            .into_iter()
            .collect();
        let some = graph_of(&objects, Some(&only));
        let want: BTreeMap<_, _> = full
            .into_iter()
            .filter(|((c, h), _)| only.contains(&(c.as_str(), h.as_str())))
            .collect();
        assert_eq!(some, want);
        let a = &some[&("c".to_string(), "a.example.com".to_string())];
        assert_eq!(
            a.routes[0].destinations[0].endpoints,
            ["10.0.0.1", "10.0.0.2"]
        );
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label("a\"<b>`"), "\"a#quot;#lt;b#gt;#96;\"");
        for (c, code) in [
            ("#", "#35;"),
            ("\"", "#quot;"),
            ("<", "#lt;"),
            (">", "#gt;"),
            ("|", "#124;"),
            (";", "#59;"),
            ("`", "#96;"),
        ] {
            assert_eq!(label(&format!("x{c}y")), format!("\"x{code}y\""), "{c}");
        }
        // An entity written in a value stays text: its `#` and `;` are escaped.
        assert_eq!(
            label("spring #1; \"promo\""),
            "\"spring #35;1#59; #quot;promo#quot;\""
        );
        assert_eq!(label_node("a|b"), "[\"a#124;b\"]");
    }
}
