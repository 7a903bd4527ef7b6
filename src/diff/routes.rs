//! The route-level summary of a diff, in Gloo's terms: one entry per RouteTable HTTP, TCP or
//! TLS route that was added, removed or changed (and one per table whose hosts, gateways, workloads, default
//! destination or weight changed), with what changed in a reviewer's words, at the route's
//! file:line, and identical changes in several clusters merged (docs/ci.md#route-changes).
//!
//! Routes are matched by (cluster, table namespace, table name, route name); unnamed routes by
//! their index; TCP and TLS routes, which have no name, by their matchers, then their index. Only tables whose `spec` differs are read, so an unchanged repo costs one pass
//! over its objects.

use super::Change;
use crate::gloo::types::*;
use crate::manifest::{Location, Object};
use crate::node::Node;
use crate::repo::Repo;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// A piece of a summary line: words, or a value written as in the source (shown as code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Part {
    /// Plain words.
    Text(String),
    /// A value: a matcher, destinations, a path.
    Value(String),
}

/// Which route of a table an entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RouteId {
    /// The table itself (hosts, gateways, workloads, default destination, weight).
    Table,
    /// A named route.
    Named(String),
    /// An unnamed route, matched by its index in `http`.
    Unnamed(usize),
    /// A TCP route, by its index in `tcp` (head's; base's when removed).
    Tcp(usize),
    /// A TLS route, by its index in `tls` (head's; base's when removed).
    Tls(usize),
}

impl RouteId {
    /// `http`, `tcp` or `tls`; `None` for the table.
    pub fn protocol(&self) -> Option<&'static str> {
        match self {
            RouteId::Table => None,
            RouteId::Named(_) | RouteId::Unnamed(_) => Some("http"),
            RouteId::Tcp(_) => Some("tcp"),
            RouteId::Tls(_) => Some("tls"),
        }
    }

    /// The index of a route without a name.
    pub fn index(&self) -> Option<usize> {
        match self {
            RouteId::Unnamed(i) | RouteId::Tcp(i) | RouteId::Tls(i) => Some(*i),
            RouteId::Table | RouteId::Named(_) => None,
        }
    }
}

/// One side of a route: what it matches and what it does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteSide {
    /// The route in one line: `POST /api/ with x-tenant = a → orders:8080`.
    pub summary: String,
    /// Each matcher in one line (the route matches any of them).
    pub matchers: Vec<String>,
    /// The matchers as written.
    pub matchers_written: Value,
    /// `forwardTo`, `redirect`, `directResponse`, `delegate`, `graphql` or `none` (TCP and TLS
    /// routes: `forwardTo` or `none`).
    pub action: &'static str,
    /// The action's fields as written.
    pub action_written: Value,
    /// The destinations of a `forwardTo` (the table's default destination when it names none).
    pub destinations: Vec<Destination>,
}

/// A destination of a `forwardTo`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    /// `SERVICE`, `VIRTUAL_DESTINATION` or `EXTERNAL_SERVICE`.
    pub kind: DestinationKind,
    /// The referenced object's name.
    pub name: String,
    /// Its namespace (the table's when not written).
    pub namespace: String,
    /// Its cluster (the table's when not written).
    pub cluster: String,
    /// The port, by number or name.
    pub port: Option<String>,
    /// The subset labels.
    pub subset: Labels,
    /// The weight as written.
    pub weight: Option<u32>,
    /// The share of traffic in percent, when the route splits traffic.
    pub percent: Option<f64>,
    /// In one line: `orders/canary 10 %`, `api.example.com:443` (a Service's port left out).
    pub text: String,
    /// As `text`, with a Service's port.
    #[serde(skip)]
    pub full: String,
}

/// One changed route (or table), in every cluster where the change is the same.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteChange {
    /// The table's namespace.
    pub namespace: String,
    /// The table's name.
    pub table: String,
    /// The route.
    pub route: RouteId,
    /// Added, changed or removed.
    pub change: Change,
    /// The clusters with this change, in order.
    pub clusters: Vec<String>,
    /// Where the route is written: head's, or base's for a removed route; one per distinct
    /// place, in cluster order.
    pub locations: Vec<Location>,
    /// What changed, a phrase each (for added and removed routes, the route itself).
    pub what: Vec<Vec<Part>>,
    /// The route in base (`None` when added, and for table entries).
    pub before: Option<RouteSide>,
    /// The route in head (`None` when removed, and for table entries).
    pub after: Option<RouteSide>,
}

impl RouteChange {
    /// `route `name``, `route #2 (unnamed, matched by position)` or `table`.
    pub fn route_label(&self) -> Vec<Part> {
        match &self.route {
            RouteId::Table => vec![Part::Text("table".into())],
            RouteId::Named(n) => vec![Part::Text("route ".into()), Part::Value(n.clone())],
            RouteId::Unnamed(i) => vec![Part::Text(format!(
                "route #{i} (unnamed, matched by position)"
            ))],
            RouteId::Tcp(i) => vec![Part::Text(format!("TCP route #{i}"))],
            RouteId::Tls(i) => vec![Part::Text(format!("TLS route #{i}"))],
        }
    }
}

/// Parts as one line, values in backticks.
pub fn plain(parts: &[Part]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(t) => t.clone(),
            Part::Value(v) => format!("`{v}`"),
        })
        .collect()
}

/// `what` as one line, phrases separated by `; `.
pub fn plain_what(c: &RouteChange) -> String {
    c.what
        .iter()
        .map(|p| plain(p))
        .collect::<Vec<_>>()
        .join("; ")
}

const ROUTE_TABLE_GROUP: &str = "networking.gloo.solo.io";

type TableKey<'a> = (&'a str, &'a str, &'a str);

fn tables(repo: &Repo) -> HashMap<TableKey<'_>, &Object> {
    repo.objects
        .iter()
        .filter(|o| o.id.kind == "RouteTable" && o.id.group() == ROUTE_TABLE_GROUP)
        .map(|o| ((&*o.cluster, &*o.id.namespace, &*o.id.name), o))
        .collect()
}

/// The ExternalServices and VirtualDestinations of a repo, for their hosts.
struct Hosts<'a>(HashMap<(&'a str, &'a str, &'a str, &'a str), &'a Object>);

impl<'a> Hosts<'a> {
    fn of(repo: &'a Repo) -> Hosts<'a> {
        Hosts(
            repo.objects
                .iter()
                .filter(|o| {
                    matches!(&*o.id.kind, "ExternalService" | "VirtualDestination")
                        && o.id.group() == ROUTE_TABLE_GROUP
                })
                .map(|o| ((&*o.id.kind, &*o.cluster, &*o.id.namespace, &*o.id.name), o))
                .collect(),
        )
    }

    /// The first host of an ExternalService or VirtualDestination.
    fn host(&self, kind: &str, cluster: &str, namespace: &str, name: &str) -> Option<&'a str> {
        let o = self.0.get(&(kind, cluster, namespace, name))?;
        o.value.at("spec").at("hosts").as_array()?.first()?.as_str()
    }
}

/// One revision's side of a table: its object, typed spec, and host lookup.
struct Side<'a> {
    repo: &'a Repo,
    object: &'a Object,
    spec: RouteTableSpec,
    hosts: &'a Hosts<'a>,
}

impl Side<'_> {
    fn http(&self) -> &[HttpRoute] {
        self.spec.http.as_deref().unwrap_or(&[])
    }

    fn written(&self, index: usize) -> &Node {
        let http = self.object.value.at("spec").at("http");
        match http.as_array() {
            Some(a) => a.get(index).unwrap_or(&Node::Null),
            None => &Node::Null,
        }
    }

    fn locate(&self, index: usize) -> Location {
        self.repo
            .locate(self.object, &format!("spec.http[{index}]"))
    }

    /// The TCP or TLS routes: index, matchers in words, `forwardTo` and the route as written.
    fn streams(&self, proto: Stream) -> Vec<StreamRoute<'_>> {
        let written = self.object.value.at("spec").at(proto.field());
        let entry = |i: usize| match written.as_array() {
            Some(a) => a.get(i).unwrap_or(&Node::Null),
            None => &Node::Null,
        };
        let route = |i: usize, matchers: Vec<String>, forward_to| StreamRoute {
            index: i,
            matchers,
            forward_to,
            written: entry(i),
        };
        match proto {
            Stream::Tcp => self
                .spec
                .tcp
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, r)| {
                    let m = r.matchers.iter().map(tcp_matcher).collect();
                    route(i, m, r.forward_to.as_ref())
                })
                .collect(),
            Stream::Tls => self
                .spec
                .tls
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, r)| {
                    let m = r.matchers.iter().map(tls_matcher).collect();
                    route(i, m, r.forward_to.as_ref())
                })
                .collect(),
        }
    }

    /// Routes by identity, in order.
    fn routes(&self) -> Vec<(RouteId, usize)> {
        let mut seen = std::collections::HashSet::new();
        self.http()
            .iter()
            .enumerate()
            .map(|(i, r)| {
                if !r.name.is_empty() && seen.insert(r.name.as_str()) {
                    (RouteId::Named(r.name.clone()), i)
                } else {
                    (RouteId::Unnamed(i), i)
                }
            })
            .collect()
    }
}

/// A change in one cluster, before merging.
struct Found {
    cluster: String,
    namespace: String,
    table: String,
    route: RouteId,
    change: Change,
    location: Location,
    what: Vec<Vec<Part>>,
    before: Option<RouteSide>,
    after: Option<RouteSide>,
}

/// The route-level changes from `base` to `head`. Empty without a base (a base that failed to
/// render shows the head as all added, object by object).
pub fn changes(base: Option<&Repo>, head: &Repo) -> Vec<RouteChange> {
    let Some(base) = base else {
        return Vec::new();
    };
    let (bt, ht) = (tables(base), tables(head));
    let mut keys: Vec<TableKey> = bt
        .keys()
        .chain(ht.keys())
        .copied()
        .filter(|k| match (bt.get(k), ht.get(k)) {
            (Some(b), Some(h)) => {
                !std::sync::Arc::ptr_eq(&b.value, &h.value)
                    && !super::same(b.value.at("spec"), h.value.at("spec"))
            }
            _ => true,
        })
        .collect();
    if keys.is_empty() {
        return Vec::new();
    }
    keys.sort_unstable();
    keys.dedup();
    let (bh, hh) = (Hosts::of(base), Hosts::of(head));
    let mut found = Vec::new();
    for k in keys {
        let (Some(b), Some(h)) = (
            side(base, bt.get(&k).copied(), &bh),
            side(head, ht.get(&k).copied(), &hh),
        ) else {
            continue;
        };
        table_changes(k, b.as_ref(), h.as_ref(), &mut found);
    }
    merge(found)
}

/// A table's side, `Some(None)` when the revision lacks it; `None` when its spec does not type
/// (the typing stage reports that).
fn side<'a>(
    repo: &'a Repo,
    o: Option<&'a Object>,
    hosts: &'a Hosts<'a>,
) -> Option<Option<Side<'a>>> {
    let Some(object) = o else {
        return Some(None);
    };
    let spec = match object.value.get("spec") {
        None | Some(Node::Null) => RouteTableSpec::default(),
        Some(v) => RouteTableSpec::deserialize(v).ok()?,
    };
    Some(Some(Side {
        repo,
        object,
        spec,
        hosts,
    }))
}

fn table_changes(k: TableKey, b: Option<&Side>, h: Option<&Side>, out: &mut Vec<Found>) {
    let (cluster, namespace, table) = k;
    let found = |route, change, location, what, before, after| Found {
        cluster: cluster.to_string(),
        namespace: namespace.to_string(),
        table: table.to_string(),
        route,
        change,
        location,
        what,
        before,
        after,
    };
    if let (Some(b), Some(h)) = (b, h) {
        let what = table_what(k, b, h);
        if !what.is_empty() {
            out.push(found(
                RouteId::Table,
                Change::Changed,
                h.object.location.clone(),
                what,
                None,
                None,
            ));
        }
    }
    let base_routes: BTreeMap<RouteId, usize> = b
        .map(|b| b.routes().into_iter().collect())
        .unwrap_or_default();
    let head_routes = h.map(|h| h.routes()).unwrap_or_default();
    for (id, i) in &head_routes {
        let Some(h) = h else { break };
        match (b, base_routes.get(id)) {
            (Some(b), Some(&j)) => {
                if super::same(b.written(j), h.written(*i))
                    && b.spec.default_destination == h.spec.default_destination
                {
                    continue;
                }
                let after = route_side(k, h, *i);
                let before = route_side(k, b, j);
                let what = route_what(&b.http()[j], &h.http()[*i], &before, &after);
                if what.is_empty() {
                    continue;
                }
                out.push(found(
                    id.clone(),
                    Change::Changed,
                    h.locate(*i),
                    what,
                    Some(before),
                    Some(after),
                ));
            }
            _ => {
                let after = route_side(k, h, *i);
                out.push(found(
                    id.clone(),
                    Change::Added,
                    h.locate(*i),
                    vec![vec![Part::Value(after.summary.clone())]],
                    None,
                    Some(after),
                ));
            }
        }
    }
    let in_head: std::collections::HashSet<&RouteId> =
        head_routes.iter().map(|(id, _)| id).collect();
    if let Some(b) = b {
        for (id, j) in b.routes() {
            if in_head.contains(&id) {
                continue;
            }
            let before = route_side(k, b, j);
            out.push(found(
                id,
                Change::Removed,
                b.locate(j),
                vec![vec![Part::Value(before.summary.clone())]],
                Some(before),
                None,
            ));
        }
    }
    for proto in [Stream::Tcp, Stream::Tls] {
        stream_changes(k, b, h, proto, out);
    }
}

/// TCP or TLS routes.
#[derive(Debug, Clone, Copy)]
enum Stream {
    Tcp,
    Tls,
}

impl Stream {
    fn field(self) -> &'static str {
        match self {
            Stream::Tcp => "tcp",
            Stream::Tls => "tls",
        }
    }

    fn id(self, index: usize) -> RouteId {
        match self {
            Stream::Tcp => RouteId::Tcp(index),
            Stream::Tls => RouteId::Tls(index),
        }
    }
}

/// A TCP or TLS route of one side.
struct StreamRoute<'a> {
    index: usize,
    matchers: Vec<String>,
    forward_to: Option<&'a ForwardToAction>,
    written: &'a Node,
}

/// The changes of a table's TCP or TLS routes. They have no name: a route is matched by its
/// matchers when no other route of either side has the same ones, the rest by index.
fn stream_changes(
    k: TableKey,
    b: Option<&Side>,
    h: Option<&Side>,
    proto: Stream,
    out: &mut Vec<Found>,
) {
    let bs = b.map(|s| s.streams(proto)).unwrap_or_default();
    let hs = h.map(|s| s.streams(proto)).unwrap_or_default();
    if bs.is_empty() && hs.is_empty() {
        return;
    }
    let mut count: HashMap<&[String], (usize, usize)> = HashMap::new();
    for r in &bs {
        count.entry(&r.matchers).or_default().0 += 1;
    }
    for r in &hs {
        count.entry(&r.matchers).or_default().1 += 1;
    }
    // The base route each head route is matched with.
    let mut pair: Vec<Option<usize>> = vec![None; hs.len()];
    let mut taken = vec![false; bs.len()];
    for (i, r) in hs.iter().enumerate() {
        if count.get(&*r.matchers) == Some(&(1, 1)) {
            if let Some(j) = bs.iter().position(|x| x.matchers == r.matchers) {
                pair[i] = Some(j);
                taken[j] = true;
            }
        }
    }
    for (i, p) in pair.iter_mut().enumerate() {
        if p.is_none() && i < bs.len() && !taken[i] {
            *p = Some(i);
            taken[i] = true;
        }
    }
    let place = |s: &Side, i: usize| {
        s.repo
            .locate(s.object, &format!("spec.{}[{i}]", proto.field()))
    };
    let (cluster, namespace, table) = k;
    let mut push = |index, change, location, what, before, after| {
        out.push(Found {
            cluster: cluster.to_string(),
            namespace: namespace.to_string(),
            table: table.to_string(),
            route: proto.id(index),
            change,
            location,
            what,
            before,
            after,
        })
    };
    if let Some(h) = h {
        for (r, p) in hs.iter().zip(&pair) {
            let after = stream_side(k, h, r);
            match (b, p) {
                (Some(b), Some(j)) => {
                    let was = &bs[*j];
                    if super::same(was.written, r.written)
                        && b.spec.default_destination == h.spec.default_destination
                    {
                        continue;
                    }
                    let before = stream_side(k, b, was);
                    let what = stream_what(&before, &after, was.written, r.written);
                    if what.is_empty() {
                        continue;
                    }
                    push(
                        r.index,
                        Change::Changed,
                        place(h, r.index),
                        what,
                        Some(before),
                        Some(after),
                    );
                }
                _ => push(
                    r.index,
                    Change::Added,
                    place(h, r.index),
                    vec![vec![Part::Value(after.summary.clone())]],
                    None,
                    Some(after),
                ),
            }
        }
    }
    if let Some(b) = b {
        for (r, _) in bs.iter().zip(&taken).filter(|(_, t)| !**t) {
            let before = stream_side(k, b, r);
            push(
                r.index,
                Change::Removed,
                place(b, r.index),
                vec![vec![Part::Value(before.summary.clone())]],
                Some(before),
                None,
            );
        }
    }
}

/// A TCP route's matcher in words: `port 5432`.
fn tcp_matcher(m: &TcpRequestMatcher) -> String {
    match m.port {
        Some(p) => format!("port {p}"),
        None => "any port".into(),
    }
}

/// A TLS route's matcher in words: `SNI db.example.com, *.example.com on port 443`.
fn tls_matcher(m: &TlsRequestMatcher) -> String {
    let mut s = if m.sni_hosts.is_empty() {
        "any SNI".to_string()
    } else {
        format!("SNI {}", m.sni_hosts.join(", "))
    };
    if let Some(p) = m.port {
        s.push_str(&format!(" on port {p}"));
    }
    s
}

fn stream_side(k: TableKey, side: &Side, r: &StreamRoute) -> RouteSide {
    let m_text = if r.matchers.is_empty() {
        "any connection".to_string()
    } else {
        r.matchers.join(" or ")
    };
    let (action, destinations, to) = match r.forward_to {
        Some(f) => {
            let (destinations, to) = forward(k, side, f);
            ("forwardTo", destinations, to)
        }
        None => ("none", Vec::new(), "no action".to_string()),
    };
    RouteSide {
        summary: format!("{m_text} → {to}"),
        matchers: r.matchers.clone(),
        matchers_written: r.written.at("matchers").to_json(),
        action,
        action_written: r.written.at("forwardTo").to_json(),
        destinations,
    }
}

/// What changed between two sides of a TCP or TLS route, a phrase each.
fn stream_what(before: &RouteSide, after: &RouteSide, b: &Node, h: &Node) -> Vec<Vec<Part>> {
    let mut what = Vec::new();
    if before.matchers != after.matchers {
        what.push(matchers_phrase(before, after));
    }
    if before.action != after.action {
        what.push(phrase(
            "action",
            before
                .summary
                .split_once(" → ")
                .map_or("", |x| x.1)
                .to_string(),
            after
                .summary
                .split_once(" → ")
                .map_or("", |x| x.1)
                .to_string(),
        ));
    } else if let Some(p) = destinations_phrase(before, after) {
        what.push(p);
    }
    if what.is_empty() && !super::same(b, h) {
        what.push(vec![Part::Text("other fields".into())]);
    }
    what
}

/// `from → to` as a phrase: `label `from` → `to``.
fn phrase(label: &str, from: String, to: String) -> Vec<Part> {
    vec![
        Part::Text(format!("{label} ")),
        Part::Value(from),
        Part::Text(" → ".into()),
        Part::Value(to),
    ]
}

fn or_none(s: String) -> String {
    if s.is_empty() {
        "none".into()
    } else {
        s
    }
}

fn table_what(k: TableKey, b: &Side, h: &Side) -> Vec<Vec<Part>> {
    let mut what = Vec::new();
    let (bs, hs) = (&b.spec, &h.spec);
    if bs.hosts != hs.hosts {
        what.push(phrase(
            "hosts",
            or_none(bs.hosts.join(", ")),
            or_none(hs.hosts.join(", ")),
        ));
    }
    if bs.virtual_gateways != hs.virtual_gateways {
        let gw = |s: &RouteTableSpec| match &s.virtual_gateways {
            None => "sidecars".to_string(),
            Some(v) => or_none(
                v.iter()
                    .map(|r| reference(k, r))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        };
        what.push(phrase("gateways", gw(bs), gw(hs)));
    }
    if bs.workload_selectors != hs.workload_selectors {
        let ws = |s: &RouteTableSpec| match &s.workload_selectors {
            None => "all".to_string(),
            Some(v) => or_none(
                v.iter()
                    .map(|w| {
                        w.selector
                            .as_ref()
                            .map(|s| selector(k, s))
                            .unwrap_or_else(|| "all".into())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        };
        what.push(phrase("workloads", ws(bs), ws(hs)));
    }
    if bs.default_destination != hs.default_destination {
        let dd = |s: &Side| {
            or_none(
                s.spec
                    .default_destination
                    .as_ref()
                    .map(|d| destination(k, s, d, None).text)
                    .unwrap_or_default(),
            )
        };
        what.push(phrase("default destination", dd(b), dd(h)));
    }
    if bs.weight != hs.weight {
        what.push(phrase(
            "weight",
            bs.weight.to_string(),
            hs.weight.to_string(),
        ));
    }
    what
}

fn reference(k: TableKey, r: &ObjectReference) -> String {
    let mut s = r.name.clone();
    if !r.namespace.is_empty() && r.namespace != k.1 {
        s = format!("{s}.{}", r.namespace);
    }
    if !r.cluster.is_empty() && r.cluster != k.0 {
        s = format!("{s}@{}", r.cluster);
    }
    s
}

fn labels(l: &Labels) -> String {
    l.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn selector(k: TableKey, s: &ObjectSelector) -> String {
    let mut parts = Vec::new();
    if !s.name.is_empty() || !s.namespace.is_empty() || !s.cluster.is_empty() {
        parts.push(reference(
            k,
            &ObjectReference {
                name: if s.name.is_empty() {
                    "*".into()
                } else {
                    s.name.clone()
                },
                namespace: s.namespace.clone(),
                cluster: s.cluster.clone(),
            },
        ));
    }
    if !s.labels.is_empty() {
        parts.push(format!("{{{}}}", labels(&s.labels)));
    }
    if !s.workspace.is_empty() {
        parts.push(format!("workspace {}", s.workspace));
    }
    if parts.is_empty() {
        "*".into()
    } else {
        parts.join(" ")
    }
}

fn string_match(m: &StringMatch) -> String {
    let mut s = if let Some(p) = &m.prefix {
        p.clone()
    } else if let Some(e) = &m.exact {
        format!("= {e}")
    } else if let Some(r) = &m.regex {
        format!("~ {r}")
    } else if let Some(x) = &m.suffix {
        format!("*{x}")
    } else {
        "any path".into()
    };
    if m.ignore_case {
        s.push_str(" (any case)");
    }
    s
}

fn matcher(m: &HttpRequestMatcher) -> String {
    let mut s = String::new();
    if let Some(method) = &m.method {
        s.push_str(method);
        s.push(' ');
    }
    s.push_str(
        &m.uri
            .as_ref()
            .map(string_match)
            .unwrap_or_else(|| "any path".into()),
    );
    let mut conds: Vec<String> = m
        .headers
        .iter()
        .map(|h| match (&h.value, h.regex, h.invert_match) {
            (None, _, false) => h.name.clone(),
            (None, _, true) => format!("no {}", h.name),
            (Some(v), false, false) => format!("{} = {v}", h.name),
            (Some(v), true, false) => format!("{} ~ {v}", h.name),
            (Some(v), false, true) => format!("{} != {v}", h.name),
            (Some(v), true, true) => format!("{} !~ {v}", h.name),
        })
        .collect();
    conds.extend(
        m.query_parameters
            .iter()
            .map(|q| match (&q.value, q.regex) {
                (None, _) => format!("?{}", q.name),
                (Some(v), false) => format!("?{}={v}", q.name),
                (Some(v), true) => format!("?{}~{v}", q.name),
            }),
    );
    if !conds.is_empty() {
        s.push_str(" with ");
        s.push_str(&conds.join(", "));
    }
    if let Some(p) = m.port {
        s.push_str(&format!(" on port {p}"));
    }
    s
}

fn matchers(r: &HttpRoute) -> Vec<String> {
    r.matchers.iter().map(matcher).collect()
}

fn matchers_text(m: &[String]) -> String {
    if m.is_empty() {
        "any request".into()
    } else {
        m.join(" or ")
    }
}

fn destination(
    k: TableKey,
    side: &Side,
    d: &DestinationReference,
    percent: Option<f64>,
) -> Destination {
    let (name, namespace, cluster) = match &d.r#ref {
        Some(r) => (
            r.name.clone(),
            if r.namespace.is_empty() {
                k.1.to_string()
            } else {
                r.namespace.clone()
            },
            if r.cluster.is_empty() {
                k.0.to_string()
            } else {
                r.cluster.clone()
            },
        ),
        None => (String::new(), k.1.to_string(), k.0.to_string()),
    };
    let port = d
        .port
        .as_ref()
        .and_then(|p| p.number.map(|n| n.to_string()).or_else(|| p.name.clone()));
    let mut text = match (d.kind, &d.r#ref) {
        (_, None) if d.aws_lambda.is_some() => "AWS Lambda".to_string(),
        (DestinationKind::Service, Some(r)) => reference(k, r),
        (kind, Some(r)) => {
            let kind = match kind {
                DestinationKind::ExternalService => "ExternalService",
                _ => "VirtualDestination",
            };
            side.hosts
                .host(kind, &cluster, &namespace, &name)
                .map(str::to_string)
                .unwrap_or_else(|| reference(k, r))
        }
        (_, None) => "no destination".into(),
    };
    let mut full = text.clone();
    if let Some(p) = &port {
        full = format!("{full}:{p}");
        if d.kind != DestinationKind::Service {
            text = full.clone();
        }
    }
    let mut tail = String::new();
    if !d.subset.is_empty() {
        tail.push('/');
        if d.subset.len() == 1 {
            tail.push_str(d.subset.values().next().map(String::as_str).unwrap_or(""));
        } else {
            tail.push_str(&format!("{{{}}}", labels(&d.subset)));
        }
    }
    if let Some(p) = percent {
        tail.push_str(&format!(" {} %", percent_text(p)));
    }
    text.push_str(&tail);
    full.push_str(&tail);
    Destination {
        kind: d.kind,
        name,
        namespace,
        cluster,
        port,
        subset: d.subset.clone(),
        weight: d.weight,
        percent,
        text,
        full,
    }
}

fn percent_text(p: f64) -> String {
    if (p - p.round()).abs() < 0.05 {
        format!("{:.0}", p.round())
    } else {
        format!("{p:.1}")
    }
}

fn rewrites(f: &ForwardToAction) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = &f.path_rewrite {
        out.push(format!("path rewrite {p}"));
    }
    if let Some(r) = &f.regex_rewrite {
        out.push(format!(
            "regex rewrite {} → {}",
            r.pattern.regex, r.substitution
        ));
    }
    if let Some(h) = &f.host_rewrite {
        out.push(format!("host rewrite {h}"));
    }
    if f.auto_host_rewrite == Some(true) {
        out.push("auto host rewrite".into());
    }
    out
}

fn redirect_text(r: &RedirectAction) -> String {
    let mut s = format!(
        "{}{}",
        r.host_redirect.as_deref().unwrap_or(""),
        r.path_redirect.as_deref().unwrap_or("")
    );
    if s.is_empty() {
        s.push_str("same URL");
    }
    if let Some(c) = r.response_code {
        let code = serde_json::to_value(c)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        s.push_str(&format!(" ({code})"));
    }
    s
}

fn direct_text(d: &DirectResponseAction) -> String {
    match &d.body {
        None => format!("respond {}", d.status),
        Some(b) => {
            let mut body: String = b.chars().take(40).collect();
            if b.chars().count() > 40 {
                body.push('…');
            }
            format!("respond {} {body:?}", d.status)
        }
    }
}

fn delegate_text(k: TableKey, d: &DelegateAction) -> String {
    let tables = d
        .route_tables
        .iter()
        .map(|s| selector(k, s))
        .collect::<Vec<_>>()
        .join(", ");
    format!("delegate to {}", or_none(tables))
}

/// The destinations of a `forwardTo` (the table's default destination when it names none),
/// and them in one line.
fn forward(k: TableKey, side: &Side, f: &ForwardToAction) -> (Vec<Destination>, String) {
    let listed = f.destinations.as_deref().unwrap_or(&[]);
    let default;
    let dests: &[DestinationReference] = if listed.is_empty() {
        default = side
            .spec
            .default_destination
            .clone()
            .into_iter()
            .collect::<Vec<_>>();
        &default
    } else {
        listed
    };
    let total: u64 = dests.iter().map(|d| u64::from(d.weight.unwrap_or(0))).sum();
    let destinations: Vec<Destination> = dests
        .iter()
        .map(|d| {
            let percent = (dests.len() > 1 && total > 0)
                .then(|| f64::from(d.weight.unwrap_or(0)) * 100.0 / total as f64);
            destination(k, side, d, percent)
        })
        .collect();
    let mut to = or_none(
        destinations
            .iter()
            .map(|d| d.text.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    );
    if listed.is_empty() && !destinations.is_empty() {
        to = format!("{to} (default destination)");
    }
    (destinations, to)
}

fn route_side(k: TableKey, side: &Side, index: usize) -> RouteSide {
    let Some(r) = side.http().get(index) else {
        return RouteSide {
            summary: String::new(),
            matchers: Vec::new(),
            matchers_written: Value::Null,
            action: "none",
            action_written: Value::Null,
            destinations: Vec::new(),
        };
    };
    let written = side.written(index);
    let m = matchers(r);
    let m_text = matchers_text(&m);
    let (action, key) = action_of(r);
    let mut destinations = Vec::new();
    let summary = match action {
        "forwardTo" => {
            let to = match &r.forward_to {
                Some(f) => {
                    let (d, mut to) = forward(k, side, f);
                    destinations = d;
                    let rw = rewrites(f);
                    if !rw.is_empty() {
                        to = format!("{to} ({})", rw.join(", "));
                    }
                    to
                }
                None => String::new(),
            };
            format!("{m_text} → {to}")
        }
        "redirect" => format!(
            "redirect {m_text} → {}",
            r.redirect.as_deref().map(redirect_text).unwrap_or_default()
        ),
        "directResponse" => format!(
            "{m_text} → {}",
            r.direct_response
                .as_deref()
                .map(direct_text)
                .unwrap_or_default()
        ),
        "delegate" => format!(
            "{m_text} → {}",
            r.delegate
                .as_deref()
                .map(|d| delegate_text(k, d))
                .unwrap_or_default()
        ),
        "graphql" => format!("{m_text} → GraphQL"),
        _ => format!("{m_text} → no action"),
    };
    RouteSide {
        summary,
        matchers: m,
        matchers_written: written.at("matchers").to_json(),
        action,
        action_written: key.map(|k| written.at(k).to_json()).unwrap_or(Value::Null),
        destinations,
    }
}

/// The action's name and its field.
fn action_of(r: &HttpRoute) -> (&'static str, Option<&'static str>) {
    if r.forward_to.is_some() {
        ("forwardTo", Some("forwardTo"))
    } else if r.redirect.is_some() {
        ("redirect", Some("redirect"))
    } else if r.direct_response.is_some() {
        ("directResponse", Some("directResponse"))
    } else if r.delegate.is_some() {
        ("delegate", Some("delegate"))
    } else if r.graphql.is_some() {
        ("graphql", Some("graphql"))
    } else {
        ("none", None)
    }
}

/// `matcher(s) `before` → `after``.
fn matchers_phrase(before: &RouteSide, after: &RouteSide) -> Vec<Part> {
    let label = if before.matchers.len() > 1 || after.matchers.len() > 1 {
        "matchers"
    } else {
        "matcher"
    };
    phrase(
        label,
        matchers_text(&before.matchers),
        matchers_text(&after.matchers),
    )
}

/// `destinations `before` → `after`` when they differ, a Service's port only when it is what
/// changed.
fn destinations_phrase(before: &RouteSide, after: &RouteSide) -> Option<Vec<Part>> {
    if before.destinations == after.destinations {
        return None;
    }
    let texts = |s: &RouteSide, full: bool| {
        or_none(
            s.destinations
                .iter()
                .map(|d| {
                    if full {
                        d.full.as_str()
                    } else {
                        d.text.as_str()
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    let full = texts(before, false) == texts(after, false);
    Some(phrase(
        "destinations",
        texts(before, full),
        texts(after, full),
    ))
}

/// What changed between two sides of a route, a phrase each.
fn route_what(
    b: &HttpRoute,
    h: &HttpRoute,
    before: &RouteSide,
    after: &RouteSide,
) -> Vec<Vec<Part>> {
    let mut what = Vec::new();
    if before.matchers != after.matchers {
        what.push(matchers_phrase(before, after));
    }
    let action_of_side = |s: &RouteSide| {
        s.summary
            .split_once(" → ")
            .map(|(_, a)| a.to_string())
            .unwrap_or_default()
    };
    if before.action != after.action {
        what.push(phrase(
            "action",
            format!("{} {}", before.action, action_of_side(before)),
            format!("{} {}", after.action, action_of_side(after)),
        ));
    } else {
        match before.action {
            "forwardTo" => {
                what.extend(destinations_phrase(before, after));
                let rw = |r: &HttpRoute| {
                    or_none(
                        r.forward_to
                            .as_ref()
                            .map(rewrites)
                            .unwrap_or_default()
                            .join(", "),
                    )
                };
                let (rb, rh) = (rw(b), rw(h));
                if rb != rh {
                    what.push(phrase("rewrite", rb, rh));
                }
            }
            "redirect" if b.redirect != h.redirect => {
                what.push(phrase(
                    "redirect",
                    action_of_side(before),
                    action_of_side(after),
                ));
            }
            "directResponse" if b.direct_response != h.direct_response => {
                what.push(phrase(
                    "direct response",
                    action_of_side(before),
                    action_of_side(after),
                ));
            }
            "delegate" if b.delegate != h.delegate => {
                let (x, y) = (action_of_side(before), action_of_side(after));
                if x == y {
                    what.push(vec![Part::Text("delegation options".into())]);
                } else {
                    what.push(phrase("delegation", x, y));
                }
            }
            _ => {}
        }
    }
    if b.labels != h.labels {
        what.push(phrase(
            "labels (which route policies apply)",
            or_none(labels(&b.labels)),
            or_none(labels(&h.labels)),
        ));
    }
    if what.is_empty()
        && (before.matchers_written != after.matchers_written
            || before.action_written != after.action_written
            || b != h)
    {
        what.push(vec![Part::Text("other fields".into())]);
    }
    what
}

/// What makes two clusters' changes the same: table, route, change, what changed and both
/// sides in words.
type MergeKey = (String, String, RouteId, Change, String, String, String);

/// Merges the changes that are the same in several clusters, keeping the order of first
/// appearance (tables sorted by namespace, name and cluster; routes in head's order, then
/// removed routes in base's).
fn merge(found: Vec<Found>) -> Vec<RouteChange> {
    let mut order: Vec<usize> = (0..found.len()).collect();
    // Tables were visited by (cluster, namespace, name): regroup by (namespace, name), stable.
    order.sort_by(|&a, &b| {
        (&found[a].namespace, &found[a].table).cmp(&(&found[b].namespace, &found[b].table))
    });
    let mut out: Vec<RouteChange> = Vec::new();
    let mut index: HashMap<MergeKey, usize> = HashMap::new();
    for i in order {
        let f = &found[i];
        let summary =
            |s: &Option<RouteSide>| s.as_ref().map(|s| s.summary.clone()).unwrap_or_default();
        let key = (
            f.namespace.clone(),
            f.table.clone(),
            f.route.clone(),
            f.change,
            f.what
                .iter()
                .map(|p| plain(p))
                .collect::<Vec<_>>()
                .join("; "),
            summary(&f.before),
            summary(&f.after),
        );
        match index.get(&key) {
            Some(&at) => {
                let c = &mut out[at];
                c.clusters.push(f.cluster.clone());
                if !c.locations.contains(&f.location) {
                    c.locations.push(f.location.clone());
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(RouteChange {
                    namespace: f.namespace.clone(),
                    table: f.table.clone(),
                    route: f.route.clone(),
                    change: f.change,
                    clusters: vec![f.cluster.clone()],
                    locations: vec![f.location.clone()],
                    what: f.what.clone(),
                    before: f.before.clone(),
                    after: f.after.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(files: &[(&str, &str)]) -> Repo {
        crate::repo::test_support::repo_of(files)
    }

    fn table(http: &str) -> String {
        format!(
            "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\n\
             metadata: {{name: t, namespace: n}}\nspec:\n  hosts: [a.example.com]\n  http:\n{http}"
        )
    }

    fn lines(base: &str, head: &str) -> Vec<String> {
        let (b, h) = (
            repo(&[("t.yaml", &table(base))]),
            repo(&[("t.yaml", &table(head))]),
        );
        changes(Some(&b), &h)
            .iter()
            .map(|c| {
                format!(
                    "{} {}: {}",
                    plain(&c.route_label()),
                    c.change.as_str(),
                    plain_what(c)
                )
            })
            .collect()
    }

    #[test]
    fn matchers_read_as_written_in_short() {
        let m: HttpRequestMatcher = serde_json::from_value(serde_json::json!({
            "method": "GET",
            "uri": {"regex": "/v[0-9]+/.*", "ignoreCase": true},
            "headers": [{"name": "x-a"}, {"name": "x-b", "value": "1", "invertMatch": true},
                        {"name": "x-c", "value": "a#1;\"b\"", "regex": true}],
            "queryParameters": [{"name": "q", "value": "1"}],
            "port": 8080
        }))
        .expect("matcher");
        assert_eq!(
            matcher(&m),
            "GET ~ /v[0-9]+/.* (any case) with x-a, x-b != 1, x-c ~ a#1;\"b\", ?q=1 on port 8080"
        );
        assert_eq!(matchers_text(&[]), "any request");
    }

    #[test]
    fn shares_are_percent_of_the_total_weight() {
        let base = "  - name: r\n    forwardTo: {destinations: [{ref: {name: s}}]}\n";
        let head = "  - name: r\n    forwardTo:\n      destinations:\n      \
                    - {ref: {name: s}, subset: {v: a}, weight: 2}\n      \
                    - {ref: {name: s, namespace: other}, subset: {v: b, w: c}, weight: 1}\n";
        assert_eq!(
            lines(base, head),
            vec!["route `r` changed: destinations `s` → `s/a 66.7 %, s.other/{v=b,w=c} 33.3 %`"]
        );
    }

    #[test]
    fn a_service_port_shows_only_when_it_changed() {
        let base =
            "  - name: r\n    forwardTo: {destinations: [{ref: {name: s}, port: {number: 80}}]}\n";
        let head = base.replace("80", "81");
        assert_eq!(
            lines(base, &head),
            vec!["route `r` changed: destinations `s:80` → `s:81`"]
        );
    }

    #[test]
    fn renamed_route_is_a_removal_and_an_addition() {
        let base = "  - name: a\n    directResponse: {status: 404}\n";
        let head = "  - name: b\n    directResponse: {status: 404}\n";
        assert_eq!(
            lines(base, head),
            vec![
                "route `b` added: `any request → respond 404`",
                "route `a` removed: `any request → respond 404`"
            ]
        );
    }

    /// Summary lines of a table holding `base`'s and then `head`'s TCP and TLS routes.
    fn stream_lines(base: &str, head: &str) -> Vec<String> {
        let t = |routes: &str| {
            format!(
                "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\n\
                 metadata: {{name: t, namespace: n}}\nspec:\n  hosts: [db.example.com]\n{routes}"
            )
        };
        let (b, h) = (repo(&[("t.yaml", &t(base))]), repo(&[("t.yaml", &t(head))]));
        changes(Some(&b), &h)
            .iter()
            .map(|c| {
                let at = c.locations.first().map(|l| l.line).unwrap_or_default();
                format!(
                    "{} {} at line {at}: {}",
                    plain(&c.route_label()),
                    c.change.as_str(),
                    plain_what(c)
                )
            })
            .collect()
    }

    #[test]
    fn tcp_and_tls_routes_are_matched_by_their_matchers_then_by_index() {
        let yaml = |lines: &[&str]| lines.join("\n") + "\n";
        let base = yaml(&[
            "  tcp:",
            "  - matchers: [{port: 5432}]",
            "    forwardTo: {destinations: [{ref: {name: pg}, port: {number: 5432}}]}",
            "  - matchers: [{port: 6379}]",
            "    forwardTo: {destinations: [{ref: {name: redis}}]}",
            "  tls:",
            "  - matchers: [{sniHosts: [a.example.com], port: 443}]",
            "    forwardTo: {destinations: [{ref: {name: a}}]}",
        ]);
        // A TCP route inserted first, redis's destination split; a's SNI changed in place, a
        // second TLS route added.
        let head = yaml(&[
            "  tcp:",
            "  - matchers: [{port: 9000}]",
            "    forwardTo: {destinations: [{ref: {name: minio}}]}",
            "  - matchers: [{port: 5432}]",
            "    forwardTo: {destinations: [{ref: {name: pg}, port: {number: 5432}}]}",
            "  - matchers: [{port: 6379}]",
            "    forwardTo:",
            "      destinations:",
            "      - {ref: {name: redis}, subset: {v: a}, weight: 90}",
            "      - {ref: {name: redis}, subset: {v: b}, weight: 10}",
            "  tls:",
            "  - matchers: [{sniHosts: [a.example.com, '*.a.example.com'], port: 443}]",
            "    forwardTo: {destinations: [{ref: {name: a}}]}",
            "  - matchers: [{sniHosts: [b.example.com]}]",
            "    forwardTo: {destinations: [{ref: {name: b}}]}",
        ]);
        assert_eq!(
            stream_lines(&base, &head),
            vec![
                "TCP route #0 added at line 7: `port 9000 → minio`",
                "TCP route #2 changed at line 11: destinations `redis` → `redis/a 90 %, redis/b 10 %`",
                "TLS route #0 changed at line 17: matcher `SNI a.example.com on port 443` → \
                 `SNI a.example.com, *.a.example.com on port 443`",
                "TLS route #1 added at line 19: `SNI b.example.com → b`",
            ]
        );
        // A port changed in place is a changed matcher.
        let moved = base.replace("6379", "6380");
        assert_eq!(
            stream_lines(&base, &moved),
            vec!["TCP route #1 changed at line 9: matcher `port 6379` → `port 6380`"]
        );
        // A removed route is at the base's place.
        let fewer = base.replace(
            "  - matchers: [{port: 5432}]\n    forwardTo: {destinations: [{ref: {name: pg}, port: {number: 5432}}]}\n",
            "",
        );
        assert_eq!(
            stream_lines(&base, &fewer),
            vec!["TCP route #0 removed at line 7: `port 5432 → pg`"]
        );
        assert!(stream_lines(&base, &base).is_empty());
    }

    #[test]
    fn an_unchanged_table_costs_nothing_and_says_nothing() {
        let base = "  - name: a\n    directResponse: {status: 404}\n";
        assert!(lines(base, base).is_empty());
        let moved = repo(&[("other.yaml", &table(base))]);
        let b = repo(&[("t.yaml", &table(base))]);
        assert!(changes(Some(&b), &moved).is_empty());
        assert!(changes(None, &moved).is_empty());
    }
}
