//! A picture of routing per host, built from the rendered Istio objects: host → route match →
//! destination (host:port, subset, weight) → ServiceEntry endpoints or addresses. Pictures are
//! compared per (cluster, host); a host whose picture changed gets one Mermaid flowchart of
//! the change, added, removed and changed parts styled and unchanged routes folded
//! (docs/ci.md#routing-pictures).

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
    /// The route's name, or its section and index (`http[2]`), for pictures.
    #[serde(skip)]
    pub name: String,
    /// The deciding terms of its first match, short (`GET /api/ x-user ~ admin-.*`), for
    /// pictures.
    #[serde(skip)]
    pub short: String,
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

/// The terms of a match entry that decide between routes, short: method, path (`~` before a
/// regex), headers and query parameters; the gateway's `sourceLabels`, `gateways` and `port`
/// are left out (every route of a host repeats them).
fn short_terms(m: &Node) -> String {
    // A string match as `op` and value: `exact`/`prefix` as written, `regex` after `~`.
    let op = |v: &Node| -> (&str, String) {
        match v.as_object().and_then(|o| o.iter().next()) {
            Some(("regex", x)) => ("~", scalar(x)),
            Some((_, x)) => ("=", scalar(x)),
            None if v.as_object().is_some() => ("", String::new()),
            None => ("=", scalar(v)),
        }
    };
    let mut terms = Vec::new();
    for field in ["method", "uri"] {
        if let Some(v) = m.get(field) {
            match op(v) {
                ("~", x) => terms.push(format!("~{x}")),
                (_, x) => terms.push(x),
            }
        }
    }
    for field in ["headers", "queryParams"] {
        for (k, v) in m
            .get(field)
            .and_then(Node::as_object)
            .into_iter()
            .flat_map(|o| o.iter())
        {
            let (o, x) = op(v);
            terms.push(format!("{k}{o}{x}"));
        }
    }
    if terms.is_empty() {
        "any".into()
    } else {
        terms.join(" ")
    }
}

/// The Gloo route name in a generated HTTP route name: `<route>-<table>` for a table's own
/// route, `<route>-<table>.<ns>.<cluster>--<parent>…` for a delegated one
/// (docs/translation.md#generated-names), with the table one of the object's RouteTable sources; the
/// name as written otherwise.
fn gloo_route_name(name: &str, sources: &[SourceRef]) -> String {
    let head = name.split_once("--").map_or(name, |(h, _)| h);
    for t in sources.iter().filter(|s| s.id.kind == "RouteTable") {
        if let Some(route) = head.strip_suffix(&format!("-{}", t.id.name)) {
            return route.to_string();
        }
        let delegated = format!("-{}.{}.", t.id.name, t.id.namespace);
        if let Some((route, _)) = head.split_once(&delegated) {
            return route.to_string();
        }
    }
    name.to_string()
}

/// [`short_terms`] of a route's first match, with how many other matches it has.
fn short_matcher(route: &Node) -> String {
    let ms = route.get("match").and_then(Node::as_array);
    match ms {
        Some([first, rest @ ..]) if !rest.is_empty() => {
            format!("{} (+{} more)", short_terms(first), rest.len())
        }
        Some([first]) => short_terms(first),
        _ => "any".into(),
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
                    from: format!(
                        "{vs} {proto}[{}]",
                        name.as_deref().unwrap_or(&i.to_string())
                    ),
                    matcher: matcher(r),
                    destinations: destinations(r, ses, drs, ns),
                    action: action(r),
                    policies: route_policies(r, &o.sources),
                    name: name.map_or_else(
                        || format!("{proto}[{i}]"),
                        |n| gloo_route_name(&n, &o.sources),
                    ),
                    short: short_matcher(r),
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

/// The longest label a picture shows, in characters; longer ones end in `…`.
pub const MAX_LABEL: usize = 80;

/// A Mermaid label, quoted, at most [`MAX_LABEL`] characters as shown, with every character
/// Mermaid or the markdown around it would interpret written as an entity (`#` too, so text
/// like `#lt;` shows as written).
fn label(s: &str) -> String {
    let count = s.chars().count();
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        if count > MAX_LABEL && i == MAX_LABEL - 1 {
            out.push('…');
            break;
        }
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

/// How a node or edge of a picture changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mark {
    Same,
    Added,
    Removed,
    Changed,
}

impl Mark {
    /// The mark of something on the `before` and `after` sides.
    fn of(before: bool, after: bool) -> Mark {
        match (before, after) {
            (true, false) => Mark::Removed,
            (false, true) => Mark::Added,
            _ => Mark::Same,
        }
    }

    /// The mark of a node from the marks of its edges: added or removed when all are.
    fn join(self, other: Mark) -> Mark {
        if self == other {
            self
        } else {
            Mark::Same
        }
    }

    fn class(self) -> Option<&'static str> {
        match self {
            Mark::Same => None,
            Mark::Added => Some("added"),
            Mark::Removed => Some("removed"),
            Mark::Changed => Some("changed"),
        }
    }

    fn class_style(self) -> Option<&'static str> {
        match self {
            Mark::Same => None,
            Mark::Added => Some("fill:#dafbe1,stroke:#2da44e"),
            Mark::Removed => Some("fill:#ffebe9,stroke:#cf222e,stroke-dasharray:5 5"),
            Mark::Changed => Some("fill:#fff8c5,stroke:#bf8700"),
        }
    }

    fn link_style(self) -> Option<&'static str> {
        match self {
            Mark::Same => None,
            Mark::Added => Some("stroke:#2da44e,stroke-width:2px"),
            Mark::Removed => Some("stroke:#cf222e,stroke-width:2px"),
            Mark::Changed => Some("stroke:#bf8700,stroke-width:2px"),
        }
    }
}

/// A picture being drawn: nodes with their marks, edges with theirs.
#[derive(Default)]
struct Picture {
    nodes: Vec<(String, String, Option<Mark>)>,
    ids: HashMap<String, usize>,
    edges: Vec<(usize, usize, Option<String>, Mark)>,
}

impl Picture {
    /// The node for `key` (made with `id` and `text` when new); its mark joins `mark`.
    fn node(&mut self, key: String, id: &str, text: &str, mark: Mark) -> usize {
        let next = self.nodes.len();
        let n = *self.ids.entry(key).or_insert(next);
        if n == next {
            self.nodes
                .push((format!("{id}{n}"), text.to_string(), Some(mark)));
        } else if let Some(m) = &mut self.nodes[n].2 {
            *m = m.join(mark);
        }
        n
    }

    fn edge(&mut self, from: usize, to: usize, text: Option<String>, mark: Mark) {
        if !self.edges.iter().any(|e| e.0 == from && e.1 == to) {
            self.edges.push((from, to, text, mark));
        }
    }

    fn mark(&mut self, n: usize, mark: Mark) {
        self.nodes[n].2 = Some(mark);
    }

    fn mermaid(&self) -> String {
        let mut s = String::from("flowchart LR\n");
        for (id, text, _) in &self.nodes {
            let _ = writeln!(s, "  {id}[{}]", label(text));
        }
        for (from, to, text, mark) in &self.edges {
            let arrow = if *mark == Mark::Removed {
                "-.->"
            } else {
                "-->"
            };
            let text = text.as_deref().map(|t| format!("|{}|", label(t)));
            let (f, t) = (&self.nodes[*from].0, &self.nodes[*to].0);
            let _ = writeln!(s, "  {f} {arrow}{} {t}", text.unwrap_or_default());
        }
        let mut classes: BTreeMap<Mark, Vec<&str>> = BTreeMap::new();
        for (id, _, mark) in &self.nodes {
            if let Some(m) = mark.filter(|m| *m != Mark::Same) {
                classes.entry(m).or_default().push(id);
            }
        }
        for (m, ids) in &classes {
            if let (Some(c), Some(style)) = (m.class(), m.class_style()) {
                let _ = writeln!(s, "  classDef {c} {style}");
                let _ = writeln!(s, "  class {} {c}", ids.join(","));
            }
        }
        let mut links: BTreeMap<Mark, Vec<String>> = BTreeMap::new();
        for (i, e) in self.edges.iter().enumerate() {
            links.entry(e.3).or_default().push(i.to_string());
        }
        for (m, ids) in &links {
            if let Some(style) = m.link_style() {
                let _ = writeln!(s, "  linkStyle {} {style}", ids.join(","));
            }
        }
        s
    }
}

/// `90%`, or `90% → 80%` when the weight changed.
fn weight_text(before: Option<Option<i64>>, after: Option<Option<i64>>) -> Option<String> {
    let pct = |w: Option<i64>| w.map(|w| format!("{w}%"));
    match (before, after) {
        (Some(b), Some(a)) if b != a => Some(format!(
            "{} → {}",
            pct(b).unwrap_or_else(|| "all".into()),
            pct(a).unwrap_or_else(|| "all".into())
        )),
        (_, Some(w)) | (Some(w), None) => pct(w),
        (None, None) => None,
    }
}

impl HostChange {
    /// One Mermaid `flowchart LR` of the host's change: added routes, destinations and
    /// endpoints, and their edges, styled `added` (green), removed ones `removed` (red,
    /// dashed), changed routes and weights `changed` (amber); routes equal on both sides are
    /// folded into one node. Routes are matched by VirtualService and name (or index).
    pub fn mermaid(&self) -> String {
        fn routes(side: &Option<HostRoutes>) -> Vec<((&str, usize), &Route)> {
            let mut seen: HashMap<&str, usize> = HashMap::new();
            let list = side.as_ref().map(|h| h.routes.as_slice()).unwrap_or(&[]);
            list.iter()
                .map(|r| {
                    let n = seen.entry(&r.from).or_default();
                    *n += 1;
                    ((r.from.as_str(), *n), r)
                })
                .collect()
        }
        let before = routes(&self.before);
        let after = routes(&self.after);
        let before_by: HashMap<(&str, usize), &Route> = before.iter().copied().collect();
        let after_keys: HashSet<(&str, usize)> = after.iter().map(|(k, _)| *k).collect();
        // (before, after) of every route that differs, in the head's order, then the removed.
        let mut drawn: Vec<(Option<&Route>, Option<&Route>)> = Vec::new();
        let mut unchanged = 0;
        for (k, r) in &after {
            match before_by.get(k) {
                Some(b) if *b == *r => unchanged += 1,
                b => drawn.push((b.copied(), Some(r))),
            }
        }
        drawn.extend(
            before
                .iter()
                .filter(|(k, _)| !after_keys.contains(k))
                .map(|(_, r)| (Some(*r), None)),
        );

        let mut p = Picture::default();
        let host_mark = Mark::of(self.before.is_some(), self.after.is_some());
        let h = p.node("h".into(), "h", &self.host, host_mark);
        if unchanged > 0 {
            let s = if unchanged == 1 { "" } else { "s" };
            let u = p.node(
                "u".into(),
                "u",
                &format!("{unchanged} unchanged route{s}"),
                Mark::Same,
            );
            p.edge(h, u, None, Mark::Same);
        }
        // Endpoints of each destination on each side, drawn after the routes.
        type Eps<'a> = BTreeMap<&'a str, (BTreeSet<&'a str>, BTreeSet<&'a str>)>;
        let mut endpoints: Eps<'_> = BTreeMap::new();
        for (i, (b, a)) in drawn.iter().enumerate() {
            let route_mark = match (b, a) {
                (Some(_), Some(_)) => Mark::Changed,
                _ => Mark::of(b.is_some(), a.is_some()),
            };
            let Some(shown) = a.or(*b) else { continue };
            let mut text = format!("{}: {}", shown.name, shown.short);
            if let (Some(b), Some(a)) = (b, a) {
                if b.short != a.short {
                    text = format!("{}: {} → {}", a.name, b.short, a.short);
                }
                // The policies whose fields changed, by kind and name.
                let policies = |r: &'_ Route| -> BTreeSet<String> {
                    let dest = r.destinations.iter().flat_map(|d| &d.policies);
                    r.policies.iter().chain(dest).cloned().collect()
                };
                let (pb, pa) = (policies(b), policies(a));
                let mut named: Vec<String> = Vec::new();
                for p in pb.symmetric_difference(&pa) {
                    let name = p.split(' ').take(2).collect::<Vec<_>>().join(" ");
                    if !named.contains(&name) {
                        named.push(name);
                    }
                }
                if !named.is_empty() {
                    let _ = write!(text, " · {} changed", named.join(", "));
                }
            }
            let r = p.node(format!("r{i}"), "r", &text, route_mark);
            p.mark(r, route_mark);
            p.edge(h, r, None, Mark::of(b.is_some(), a.is_some()));
            // Actions: one node per distinct action.
            let (ba, aa) = (
                b.and_then(|x| x.action.as_deref()),
                a.and_then(|x| x.action.as_deref()),
            );
            for (act, mark) in [
                (aa, Mark::of(ba == aa, true)),
                (ba.filter(|x| Some(*x) != aa), Mark::Removed),
            ] {
                if let Some(act) = act {
                    let n = p.node(format!("a{i} {act}"), "a", act, mark);
                    p.edge(r, n, None, mark);
                }
            }
            // Destinations, matched by `host:port subset`.
            // Each destination with its weight before and after (`None`: not on that side).
            type Weights<'a> = Vec<(&'a str, Option<Option<i64>>, Option<Option<i64>>)>;
            let mut dests: Weights<'_> = Vec::new();
            for (side, route) in [(0, a), (1, b)] {
                for d in route.iter().flat_map(|r| &r.destinations) {
                    let entry = match dests.iter_mut().find(|x| x.0 == d.label) {
                        Some(e) => e,
                        None => {
                            dests.push((&d.label, None, None));
                            let last = dests.len() - 1;
                            &mut dests[last]
                        }
                    };
                    if side == 0 {
                        entry.2 = Some(d.weight);
                    } else {
                        entry.1 = Some(d.weight);
                    }
                    let eps = endpoints.entry(&d.label).or_default();
                    let set = if side == 0 { &mut eps.1 } else { &mut eps.0 };
                    set.extend(d.endpoints.iter().map(String::as_str));
                }
            }
            for (dl, bw, aw) in dests {
                let mut mark = Mark::of(bw.is_some(), aw.is_some());
                let node_mark = mark;
                if mark == Mark::Same && bw != aw {
                    mark = Mark::Changed;
                }
                let d = p.node(format!("d {dl}"), "d", dl, node_mark);
                p.edge(r, d, weight_text(bw, aw), mark);
            }
        }
        for (dl, (b, a)) in &endpoints {
            let Some(&d) = p.ids.get(&format!("d {dl}")) else {
                continue;
            };
            for e in a.iter().chain(b.difference(a)) {
                let mark = Mark::of(b.contains(e), a.contains(e));
                let n = p.node(format!("e {e}"), "e", e, mark);
                p.edge(d, n, None, mark);
            }
        }
        p.mermaid()
    }
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
        assert_eq!(h.routes[0].name, "api");
        assert_eq!(h.routes[0].short, "/api");
        assert_eq!(h.routes[1].name, "http[1]");
    }

    #[test]
    fn one_picture_marks_what_changed_and_folds_the_rest() {
        let c = changes_of(&[vs(90), se()], &[vs(80), se()]);
        let m = c[0].mermaid();
        assert!(m.starts_with("flowchart LR\n"), "{m}");
        // The direct response route did not change: folded.
        assert!(m.contains("[\"1 unchanged route\"]"), "{m}");
        assert!(!m.contains("direct response"), "{m}");
        assert!(m.contains("[\"api: /api\"]"), "{m}");
        assert!(m.contains("|\"90% → 80%\"|"), "{m}");
        assert!(m.contains("class r2 changed"), "{m}");
        // Edges 2 and 3 are the two reweighted destinations.
        assert!(m.contains("linkStyle 2,3 stroke:#bf8700"), "{m}");
        // A removed host: every route and edge removed, dashed.
        let gone = changes_of(&[vs(90), se()], &[se()]);
        let m = gone[0].mermaid();
        assert!(m.contains("h0 -.-> r1"), "{m}");
        assert!(m.contains("class h0,r1,"), "{m}");
        assert!(!m.contains("unchanged"), "{m}");
    }

    #[test]
    fn route_names_drop_the_table_names_gloo_adds() {
        let rt = |name: &str| SourceRef {
            id: crate::manifest::ObjectId {
                kind: "RouteTable".into(),
                ..source("X", "app", name).id
            },
            ..source("X", "app", name)
        };
        let sources = [rt("shop"), rt("users")];
        assert_eq!(gloo_route_name("orders-shop", &sources), "orders");
        let delegated = "user-users.app.cluster1--shop.app.cluster1";
        assert_eq!(gloo_route_name(delegated, &sources), "user");
        assert_eq!(gloo_route_name("other-name", &sources), "other-name");
    }

    #[test]
    fn short_matchers_leave_out_the_gateway_selectors() {
        let route = Node::from_value(json!({"match": [
            {"sourceLabels": {"istio": "ingressgateway"}, "method": {"exact": "POST"},
             "uri": {"regex": "/a/[0-9]+"}, "headers": {"x-tenant": {"regex": "acme|globex"},
             "x-on": {}}},
            {"uri": {"prefix": "/b"}}]}));
        assert_eq!(
            short_matcher(&route),
            "POST ~/a/[0-9]+ x-tenant~acme|globex x-on (+1 more)"
        );
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
        // A destination policy change alone redraws the hosts routing to the destination.
        let c = changes_of(&with_policies("10s", 5), &with_policies("10s", 7));
        assert_eq!(c.len(), 0, "same fields, same picture");
        let c = changes_of(&with_policies("10s", 5), &with_policies("20s", 5));
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].before.as_ref().map(|b| b.routes[0].policies.clone()),
            Some(vec!["RetryTimeoutPolicy app/rt timeout=10s".to_string()])
        );
        let m = c[0].mermaid();
        assert!(
            m.contains("[\"api: any · RetryTimeoutPolicy app/rt changed\"]"),
            "{m}"
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
        assert_eq!(label("#lt; a|b;c"), "\"#35;lt#59; a#124;b#59;c\"");
        let long = "x".repeat(200);
        assert_eq!(label(&long), format!("\"{}…\"", "x".repeat(MAX_LABEL - 1)));
        assert_eq!(
            label(&long[..MAX_LABEL]),
            format!("\"{}\"", &long[..MAX_LABEL])
        );
    }
}
