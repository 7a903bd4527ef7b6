//! Cross-resource facts about Gloo objects, computed once per run in linear time (plus the
//! routes of one table for shadowing) and read by the built-in policies through the `gloo.*`
//! CEL functions (docs/policies.md). References are resolved by `gloo::refs`, the translator's
//! own resolver, on the typed model; workspace ownership comes from `gloo::Model` too.

use super::functions::{parse_cidr, parse_ip};
use super::hash::Prehashed;
use crate::canon::{canon_eq, Canon};
use crate::gloo::refs::{self, ChildTables, Found, Target};
use crate::gloo::shared::Problem;
use crate::gloo::types::{DestinationReference, ObjectSelector, RouteTableSpec};
use crate::gloo::{Meta, Model, Typed};
use crate::hashing::{FastMap, FastState};
use crate::manifest::Object;
use crate::node::{Node, NodeMap};
use crate::repo::Repo;
use rayon::prelude::*;
use serde::Deserialize;
use std::borrow::Cow;

const NET: &str = "networking.gloo.solo.io/v2";

/// One problem found for an object: the field, the message and other places involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Serde path of the offending field.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// (object index, field, note) of the other places.
    pub related: Vec<(usize, String, String)>,
}

/// Violations per object, indexed like `repo.objects` (empty for most).
pub type PerObject = Vec<Vec<Violation>>;

/// Which facts to compute: the `gloo.*` functions some policy calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wanted {
    /// `gloo.routeConflicts()`.
    pub route_conflicts: bool,
    /// `gloo.shadowedRoutes()`.
    pub shadowed: bool,
    /// `gloo.unresolvedReferences()` or `gloo.missingServices()`.
    pub references: bool,
    /// `gloo.duplicateAddresses()` or `gloo.selectedEndpoints()`.
    pub external_services: bool,
}

impl Wanted {
    /// Every fact.
    pub const ALL: Wanted = Wanted {
        route_conflicts: true,
        shadowed: true,
        references: true,
        external_services: true,
    };
}

/// Per-object facts for the `gloo.*` functions, each indexed like `repo.objects`.
#[derive(Debug, Default)]
pub struct GlooIndex {
    /// `gloo.routeConflicts()`.
    pub route_conflicts: PerObject,
    /// `gloo.shadowedRoutes()`.
    pub shadowed: PerObject,
    /// `gloo.unresolvedReferences()`.
    pub unresolved: PerObject,
    /// `gloo.missingServices()`.
    pub missing_services: PerObject,
    /// `gloo.duplicateAddresses()`.
    pub duplicate_addresses: PerObject,
    /// `gloo.selectedEndpoints()`: ExternalEndpoints an ExternalService selects and can see
    /// (`None` for other objects).
    pub selected_endpoints: Vec<Option<i64>>,
    /// `gloo.workspace()`: the owning workspace of Gloo networking objects.
    pub workspace: Vec<Option<String>>,
}

fn is(o: &Object, kind: &str) -> bool {
    o.id.api_version == NET && o.id.kind == kind
}

fn labels_match(selector: &Node, labels: &Node) -> bool {
    selector
        .as_object()
        .is_none_or(|s| labels_in(s, labels.as_object()))
}

/// Every entry of a label selector (`{key: value}`, values strings) is among `labels`.
fn labels_in(selector: &NodeMap, labels: Option<&NodeMap>) -> bool {
    selector.iter().all(|(k, v)| {
        v.as_str().is_some() && labels.and_then(|l| l.get(k)).and_then(Node::as_str) == v.as_str()
    })
}

fn arr(v: &Node) -> &[Node] {
    v.as_array().unwrap_or(&[])
}

/// The most specific field of a matcher: its uri prefix/exact/regex, else the matcher.
fn matcher_field(route: usize, j: usize, m: &Node) -> String {
    for k in ["prefix", "exact", "regex", "suffix"] {
        if m.at("uri").get(k).is_some() {
            return format!("spec.http[{route}].matchers[{j}].uri.{k}");
        }
    }
    format!("spec.http[{route}].matchers[{j}]")
}

fn describe(m: &Node) -> String {
    for k in ["prefix", "exact", "regex", "suffix"] {
        if let Some(p) = m.at("uri").get(k).and_then(Node::as_str) {
            let extra = m.as_object().map_or(0, |o| o.len()) > 1;
            return format!(
                "{k} {p}{}",
                if extra {
                    " (and the same other matchers)"
                } else {
                    ""
                }
            );
        }
    }
    "the same matchers".into()
}

/// Workspace ownership, from the typed model, looked up once per object.
struct Vis<'a> {
    model: &'a Model,
    /// The owning workspace of each object.
    owner: Vec<Option<&'a str>>,
}

impl<'a> Vis<'a> {
    fn new(model: &'a Model, repo: &'a Repo) -> Vis<'a> {
        let mut owners: FastMap<(&str, &str), Option<&'a str>> = FastMap::default();
        let owner = repo
            .objects
            .iter()
            .map(|o| {
                *owners
                    .entry((o.cluster.as_str(), o.id.namespace.as_str()))
                    .or_insert_with(|| model.workspace_of(&o.cluster, &o.id.namespace))
            })
            .collect();
        Vis { model, owner }
    }

    fn enabled(&self) -> bool {
        !self.model.workspaces.is_implicit()
    }
}

/// Where a delegate selector is written: (table, route, selector).
type SelectorAt = (usize, usize, usize);

struct Ctx<'a> {
    objs: &'a [Object],
    model: &'a Model,
    ws: Vis<'a>,
    tables: Vec<usize>,
    /// Each RouteTable as typed, by object index (`None` for other objects, and for a table
    /// that failed typing).
    typed: Vec<Option<&'a Typed<RouteTableSpec>>>,
    /// The tables delegation can select.
    children: ChildTables<'a>,
    /// The RouteTables each delegate selector selects, sorted by id.
    delegates: FastMap<SelectorAt, Vec<usize>>,
}

impl<'a> Ctx<'a> {
    fn new(repo: &'a Repo, model: &'a Model, wanted: Wanted) -> Ctx<'a> {
        let objs = &repo.objects[..];
        let tables = (0..objs.len())
            .filter(|&i| is(&objs[i], "RouteTable"))
            .collect();
        let mut typed = vec![None; objs.len()];
        for rt in &model.route_tables {
            if let Some(t) = typed.get_mut(rt.meta.index) {
                *t = Some(rt);
            }
        }
        let mut cx = Ctx {
            objs,
            model,
            ws: Vis::new(model, repo),
            tables,
            typed,
            children: ChildTables::new(model),
            delegates: FastMap::default(),
        };
        if wanted.route_conflicts || wanted.references {
            // Table by table in parallel: a selector by labels alone considers every table
            // without hosts. Each selector's answer is its own, so the order of work is free.
            let found: Vec<(SelectorAt, Vec<usize>)> = cx
                .tables
                .par_iter()
                .flat_map_iter(|&t| {
                    let cx = &cx;
                    cx.selectors(t)
                        .into_iter()
                        .map(move |(r, k, sel)| ((t, r, k), cx.select(t, &sel)))
                })
                .collect();
            cx.delegates = found.into_iter().collect();
        }
        cx
    }

    fn ws_of(&self, i: usize) -> Option<&'a str> {
        self.ws.owner[i]
    }

    /// RouteTables delegate selector `k` of route `r` of table `t` selects.
    fn delegates(&self, at: SelectorAt) -> &[usize] {
        self.delegates.get(&at).map_or(&[], Vec::as_slice)
    }

    /// The identity of table `t` as the typed model has it, for the refs it writes.
    fn meta(&self, t: usize) -> Cow<'a, Meta> {
        match self.typed[t] {
            Some(rt) => Cow::Borrowed(&rt.meta),
            None => Cow::Owned(crate::gloo::meta_of(t, &self.objs[t])),
        }
    }

    /// The delegate selectors of table `t`'s HTTP routes: (route, selector, the selector).
    fn selectors(&self, t: usize) -> Vec<(usize, usize, Cow<'a, ObjectSelector>)> {
        let Some(rt) = self.typed[t] else {
            // A table that failed typing (which stops a run before the policies, but not a
            // library caller's or the fuzz target's) is read from its raw nodes, selector by
            // selector, so the selectors that type are still checked.
            let mut out = Vec::new();
            for (r, route) in arr(self.objs[t].value.at("spec").at("http"))
                .iter()
                .enumerate()
            {
                for (k, sel) in arr(route.at("delegate").at("routeTables"))
                    .iter()
                    .enumerate()
                {
                    if let Ok(s) = ObjectSelector::deserialize(sel) {
                        out.push((r, k, Cow::Owned(s)));
                    }
                }
            }
            return out;
        };
        let mut out = Vec::new();
        for (r, route) in rt.spec.http.iter().flatten().enumerate() {
            if let Some(d) = &route.delegate {
                for (k, s) in d.route_tables.iter().enumerate() {
                    out.push((r, k, Cow::Borrowed(s)));
                }
            }
        }
        out
    }

    /// The destinations of table `t`: those of its http, tcp and tls routes in order, then its
    /// default.
    fn destinations(&self, t: usize) -> Vec<(DestAt, Cow<'a, DestinationReference>)> {
        let mut out = Vec::new();
        let Some(rt) = self.typed[t] else {
            // A table that failed typing: from its raw nodes, destination by destination, as
            // for its selectors.
            let spec = self.objs[t].value.at("spec");
            let mut lenient = |at: DestAt, d: &Node| {
                if let Ok(d) = DestinationReference::deserialize(d) {
                    out.push((at, Cow::Owned(d)));
                }
            };
            for section in ["http", "tcp", "tls"] {
                for (i, r) in arr(spec.at(section)).iter().enumerate() {
                    for (j, d) in arr(r.at("forwardTo").at("destinations")).iter().enumerate() {
                        lenient(Some((section, i, j)), d);
                    }
                }
            }
            if let Some(d) = spec.get("defaultDestination") {
                lenient(None, d);
            }
            return out;
        };
        let spec = &rt.spec;
        let http = spec.http.iter().flatten().map(|r| r.forward_to.as_ref());
        let tcp = spec.tcp.iter().flatten().map(|r| r.forward_to.as_ref());
        let tls = spec.tls.iter().flatten().map(|r| r.forward_to.as_ref());
        let sections: [(&'static str, Vec<_>); 3] = [
            ("http", http.collect()),
            ("tcp", tcp.collect()),
            ("tls", tls.collect()),
        ];
        for (section, routes) in sections {
            for (i, f) in routes.into_iter().enumerate() {
                let dests = f.and_then(|f| f.destinations.as_deref()).unwrap_or(&[]);
                for (j, d) in dests.iter().enumerate() {
                    out.push((Some((section, i, j)), Cow::Borrowed(d)));
                }
            }
        }
        if let Some(d) = &spec.default_destination {
            out.push((None, Cow::Borrowed(d)));
        }
        out
    }

    /// RouteTables (object indexes, sorted by id) a delegate selector of table `t` selects,
    /// visible to `t`'s workspace: as the translator selects them (`gloo::refs`).
    fn select(&self, t: usize, sel: &ObjectSelector) -> Vec<usize> {
        let ws = self.ws_of(t).unwrap_or_default();
        let mut out: Vec<usize> = self
            .children
            .selected(self.model, sel, ws)
            .map(|i| self.model.route_tables[i].meta.index)
            .collect();
        out.sort_by(|a, b| self.objs[*a].id.cmp(&self.objs[*b].id));
        out
    }

    /// Leaf routes of a table in order, delegations expanded: (object, route index, route).
    fn leaves(&self, t: usize, stack: &mut Vec<usize>, out: &mut Vec<(usize, usize, &'a Node)>) {
        if stack.contains(&t) || stack.len() > 8 {
            return;
        }
        stack.push(t);
        for (r, route) in arr(self.objs[t].value.at("spec").at("http"))
            .iter()
            .enumerate()
        {
            if route.get("delegate").is_some() {
                for k in 0..arr(route.at("delegate").at("routeTables")).len() {
                    for &c in self.delegates((t, r, k)) {
                        self.leaves(c, stack, out);
                    }
                }
            } else {
                out.push((t, r, route));
            }
        }
        stack.pop();
    }
}

fn push(list: &mut PerObject, i: usize, v: Violation) {
    add(&mut list[i], v);
}

/// Adds a violation to one object's list, once.
fn add(list: &mut Vec<Violation>, v: Violation) {
    if !list.contains(&v) {
        list.push(v);
    }
}

/// Builds every fact of the index.
pub fn build(repo: &Repo, model: &Model) -> GlooIndex {
    build_wanted(repo, model, Wanted::ALL)
}

/// Builds the facts `wanted` asks for; the others stay empty.
pub fn build_wanted(repo: &Repo, model: &Model, wanted: Wanted) -> GlooIndex {
    let start = std::time::Instant::now();
    let objs = &repo.objects[..];
    let n = objs.len();
    let cx = Ctx::new(repo, model, wanted);
    let mut ix = GlooIndex {
        route_conflicts: vec![Vec::new(); n],
        shadowed: vec![Vec::new(); n],
        unresolved: vec![Vec::new(); n],
        missing_services: vec![Vec::new(); n],
        duplicate_addresses: vec![Vec::new(); n],
        selected_endpoints: vec![None; n],
        workspace: objs
            .iter()
            .enumerate()
            .map(|(i, o)| {
                (o.id.api_version == NET)
                    .then(|| cx.ws_of(i).map(str::to_string))
                    .flatten()
            })
            .collect(),
    };
    tracing::debug!("gloo index: lookups in {:?}", start.elapsed());
    // The four parts are independent (each writes its own lists): build them side by side.
    // Each part is sequential inside, so its output does not depend on the thread count.
    let GlooIndex {
        route_conflicts: rc,
        shadowed: sh,
        unresolved: un,
        missing_services: ms,
        duplicate_addresses: da,
        selected_endpoints: se,
        ..
    } = &mut ix;
    let cx = &cx;
    rayon::join(
        || {
            rayon::join(
                || {
                    if wanted.route_conflicts {
                        route_conflicts(cx, rc);
                        tracing::debug!("gloo index: route_conflicts at {:?}", start.elapsed());
                    }
                },
                || {
                    if wanted.shadowed {
                        shadowed(cx, sh);
                        tracing::debug!("gloo index: shadowed at {:?}", start.elapsed());
                    }
                },
            )
        },
        || {
            rayon::join(
                || {
                    if wanted.references {
                        references(cx, un, ms);
                        tracing::debug!("gloo index: references at {:?}", start.elapsed());
                    }
                },
                || {
                    if wanted.external_services {
                        external_services(cx, da, se);
                        tracing::debug!("gloo index: external_services at {:?}", start.elapsed());
                    }
                },
            )
        },
    );
    tracing::debug!("gloo index: built in {:?}", start.elapsed());
    ix
}

/// Where a route of the conflict check is written: (object, route, matcher if any).
type RouteAt = (usize, usize, Option<usize>);

/// What two routes conflict on: cluster, host and matcher.
type ConflictKey<'a> = (&'a str, &'a str, Canon<'a, Node>);

fn route_field(r: usize, j: Option<usize>, m: &Node) -> String {
    match j {
        Some(j) => matcher_field(r, j, m),
        None => format!("spec.http[{r}]"),
    }
}

fn route_conflicts(cx: &Ctx, route_conflicts: &mut PerObject) {
    // A route without matchers matches as the empty matcher `{}` does.
    let everything = Node::Object(NodeMap::default());
    // (cluster, host, matcher) → first (object, route, matcher, the matcher)
    let mut seen: FastMap<Prehashed<ConflictKey>, (RouteAt, &Node)> = FastMap::default();
    let state = FastState::default();
    let mut leaves = Vec::new();
    for &t in &cx.tables {
        let o = &cx.objs[t];
        let hosts = arr(o.value.at("spec").at("hosts"));
        if hosts.is_empty() {
            continue; // a delegated child; checked under its parents' hosts
        }
        leaves.clear();
        cx.leaves(t, &mut Vec::new(), &mut leaves);
        for h in hosts.iter().filter_map(Node::as_str) {
            for &(obj, r, route) in &leaves {
                let ms = arr(route.at("matchers"));
                let keys = ms.iter().enumerate().map(|(j, m)| (Some(j), m));
                let keys = keys.chain(ms.is_empty().then_some((None, &everything)));
                for (j, m) in keys {
                    let here = (obj, r, j);
                    let (first, fm) = *seen
                        .entry(Prehashed::new(&state, (o.cluster.as_str(), h, Canon(m))))
                        .or_insert((here, m));
                    if first == here {
                        continue;
                    }
                    let (fo, fr, fj) = first;
                    let ff = route_field(fr, fj, fm);
                    let desc = match j {
                        Some(_) => describe(m),
                        None => "no matchers (matches everything)".into(),
                    };
                    push(
                        route_conflicts,
                        obj,
                        Violation {
                            field: route_field(r, j, m),
                            message: format!(
                                "host {h}: {desc} is already routed by {} at {ff}",
                                cx.objs[fo].id
                            ),
                            related: vec![(
                                fo,
                                ff,
                                format!("first route for host {h} with {desc}"),
                            )],
                        },
                    );
                }
            }
        }
    }
}

/// A matcher that matches every path under a prefix and nothing else restricts it.
fn prefix_only(m: &Node) -> Option<(&str, bool)> {
    let o = m.as_object()?;
    if o.keys().any(|k| k != "uri") {
        return None;
    }
    let u = m.at("uri").as_object()?;
    if u.keys().any(|k| k != "prefix" && k != "ignoreCase") {
        return None;
    }
    Some((
        m.at("uri").at("prefix").as_str()?,
        m.at("uri").at("ignoreCase").as_bool().unwrap_or(false),
    ))
}

/// What the shadowed-route check reads of one route's matchers, read once per route.
struct Matchers<'a> {
    /// The route delegates: its children decide what it matches.
    delegate: bool,
    /// `matchers` as written (`null` when missing).
    raw: &'a Node,
    list: &'a [Node],
    /// Per matcher: `(prefix, ignoreCase)` when it restricts nothing but a path prefix.
    prefix_only: Vec<Option<(&'a str, bool)>>,
    /// Per matcher: its prefix or exact path, and its ignoreCase.
    path: Vec<(Option<&'a str>, bool)>,
}

impl<'a> Matchers<'a> {
    fn of(route: &'a Node) -> Matchers<'a> {
        let raw = route.at("matchers");
        let list = arr(raw);
        Matchers {
            delegate: route.get("delegate").is_some(),
            raw,
            list,
            prefix_only: list.iter().map(prefix_only).collect(),
            path: list
                .iter()
                .map(|l| {
                    let u = l.at("uri");
                    let path = u.at("prefix").as_str().or(u.at("exact").as_str());
                    (path, u.at("ignoreCase").as_bool().unwrap_or(false))
                })
                .collect(),
        }
    }
}

/// Why every request `later` matches is matched by `earlier` already, if it is.
fn covers(earlier: &Matchers, later: &Matchers) -> Option<String> {
    if earlier.list.is_empty() {
        return Some("no matchers (matches everything)".into());
    }
    if later.list.is_empty() {
        return None;
    }
    for &(p, ic) in earlier.prefix_only.iter().flatten() {
        let all = later.path.iter().all(|&(path, lic)| {
            path.is_some_and(|q| {
                if ic {
                    q.len() >= p.len() && q.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
                } else {
                    !lic && q.starts_with(p)
                }
            })
        });
        if all {
            return Some(format!("prefix {p}"));
        }
    }
    None
}

fn shadowed(cx: &Ctx, shadowed: &mut PerObject) {
    // Tables are independent: checked in parallel, written back in table order.
    let found: Vec<(usize, Vec<Violation>)> = cx
        .tables
        .par_iter()
        .map(|&t| (t, shadowed_in(cx, t)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    for (t, violations) in found {
        for v in violations {
            push(shadowed, t, v);
        }
    }
}

/// The routes of table `t` that an earlier route of the same table always matches first.
fn shadowed_in(cx: &Ctx, t: usize) -> Vec<Violation> {
    let routes: Vec<Matchers> = arr(cx.objs[t].value.at("spec").at("http"))
        .iter()
        .map(Matchers::of)
        .collect();
    let mut out = Vec::new();
    for (k, later) in routes.iter().enumerate() {
        for (i, earlier) in routes.iter().enumerate().take(k) {
            if earlier.delegate {
                continue; // its children decide what it matches
            }
            let Some(what) = covers(earlier, later) else {
                continue;
            };
            if canon_eq(earlier.raw, later.raw) {
                continue; // an exact duplicate: routetable-unique-prefix reports it
            }
            let field = later
                .list
                .first()
                .map_or(format!("spec.http[{k}]"), |m| matcher_field(k, 0, m));
            let efield = earlier
                .list
                .first()
                .map_or(format!("spec.http[{i}]"), |m| matcher_field(i, 0, m));
            out.push(Violation {
                field,
                message: format!(
                    "route spec.http[{k}] can never match: the earlier route spec.http[{i}] with {what} matches every request it would"
                ),
                related: vec![(t, efield, "the earlier route that matches first".into())],
            });
            break;
        }
    }
    out
}

/// Where a destination is written: (section, route, destination), or the default one.
type DestAt = Option<(&'static str, usize, usize)>;

/// The path of a destination.
fn dest_path(at: DestAt) -> String {
    match at {
        Some((section, i, j)) => format!("spec.{section}[{i}].forwardTo.destinations[{j}]"),
        None => "spec.defaultDestination".into(),
    }
}

/// A shared finding as a policy violation.
fn violation(p: Problem) -> Violation {
    Violation {
        field: p.field,
        message: p.message,
        related: p.related,
    }
}

fn references(cx: &Ctx, unresolved: &mut PerObject, missing_services: &mut PerObject) {
    // Each table's findings are its own: tables are checked in parallel, and each table's
    // list comes out in the order a serial pass would give.
    let found: Vec<(usize, Vec<Violation>, Vec<Violation>)> = cx
        .tables
        .par_iter()
        .map(|&t| {
            let (mut un, mut ms) = (Vec::new(), Vec::new());
            table_references(cx, t, &mut un, &mut ms);
            (t, un, ms)
        })
        .collect();
    for (t, un, ms) in found {
        unresolved[t] = un;
        missing_services[t] = ms;
    }
}

/// The references of table `t` that do not resolve, and its destinations that name a
/// Service missing from the repo, with the translator's findings for them (`gloo::refs`).
fn table_references(
    cx: &Ctx,
    t: usize,
    unresolved: &mut Vec<Violation>,
    missing_services: &mut Vec<Violation>,
) {
    let o = &cx.objs[t];
    let ws = cx.ws_of(t);
    if cx.ws.enabled() && ws.is_none() {
        add(
            unresolved,
            Violation {
                field: "metadata.namespace".into(),
                message: format!(
                    "namespace {:?} of cluster {} belongs to no workspace, so nothing is visible to this RouteTable",
                    o.id.namespace, o.cluster
                ),
                related: vec![],
            },
        );
        return;
    }
    let ws = ws.unwrap_or("");
    for (i, k, sel) in cx.selectors(t) {
        if cx.delegates((t, i, k)).is_empty() {
            let at = format!("spec.http[{i}].delegate.routeTables[{k}]");
            add(unresolved, violation(refs::empty_selector(&sel, &at, ws)));
        }
    }
    let meta = cx.meta(t);
    for (at, d) in cx.destinations(t) {
        let Some(r) = &d.r#ref else { continue };
        let target = Target::of(&meta, d.kind, r);
        match refs::resolve(cx.model, &target, ws) {
            Ok(Found::Service(None)) => add(
                missing_services,
                violation(refs::missing_service(&target, &dest_path(at))),
            ),
            Ok(_) => {}
            Err(b) => add(
                unresolved,
                violation(refs::broken(&target, &b, &dest_path(at), ws)),
            ),
        }
    }
}

fn normalize_address(a: &str) -> String {
    // Compare networks, not spellings: 10.1.0.0/8 is 10.0.0.0/8.
    if let Some(c) = parse_cidr(a) {
        let full = if c.addr.is_ipv4() { 32 } else { 128 };
        let m = mask_addr(&c);
        return if c.prefix == full {
            m
        } else {
            format!("{m}/{}", c.prefix)
        };
    }
    if let Some(ip) = parse_ip(a) {
        return ip.to_string();
    }
    a.to_string()
}

fn mask_addr(c: &super::functions::CidrVal) -> String {
    use std::net::IpAddr;
    match c.addr {
        IpAddr::V4(v) => {
            let b = u32::from(v);
            let m = if c.prefix == 0 {
                0
            } else {
                u32::MAX << (32 - c.prefix as u32)
            };
            std::net::Ipv4Addr::from(b & m).to_string()
        }
        IpAddr::V6(v) => {
            let b = u128::from(v);
            let m = if c.prefix == 0 {
                0
            } else {
                u128::MAX << (128 - c.prefix as u32)
            };
            std::net::Ipv6Addr::from(b & m).to_string()
        }
    }
}

fn external_services(
    cx: &Ctx,
    duplicate_addresses: &mut PerObject,
    selected_endpoints: &mut [Option<i64>],
) {
    // ExternalEndpoints by (cluster, label=value), so selector matching stays linear.
    let mut endpoints: FastMap<(&str, String), Vec<usize>> = FastMap::default();
    for (i, o) in cx.objs.iter().enumerate() {
        if is(o, "ExternalEndpoint") {
            for (k, v) in o.labels() {
                endpoints
                    .entry((o.cluster.as_str(), format!("{k}={v}")))
                    .or_default()
                    .push(i);
            }
        }
    }
    let mut seen: FastMap<(&str, String), (usize, usize)> = FastMap::default();
    for (i, o) in cx.objs.iter().enumerate() {
        if !is(o, "ExternalService") {
            continue;
        }
        let ws = cx.ws_of(i);
        let sel = o.value.at("spec").at("selector");
        let first = sel
            .as_object()
            .and_then(|m| m.iter().min_by(|a, b| a.0.cmp(b.0)))
            .and_then(|(k, v)| v.as_str().map(|v| format!("{k}={v}")));
        let n = match first {
            Some(key) => endpoints
                .get(&(o.cluster.as_str(), key))
                .into_iter()
                .flatten()
                .filter(|&&e| {
                    let eo = &cx.objs[e];
                    labels_match(sel, eo.value.at("metadata").at("labels")) && cx.ws_of(e) == ws
                })
                .count() as i64,
            None => 0,
        };
        selected_endpoints[i] = Some(n);
        for (j, a) in arr(o.value.at("spec").at("addresses")).iter().enumerate() {
            let Some(a) = a.as_str() else { continue };
            let key = (ws.unwrap_or("<none>"), normalize_address(a));
            match seen.get(&key) {
                Some(&(fi, fj)) => push(
                    duplicate_addresses,
                    i,
                    Violation {
                        field: format!("spec.addresses[{j}]"),
                        message: format!(
                            "address {a} is already used by {} in workspace {:?}; addresses must be unique within a workspace",
                            cx.objs[fi].id, key.0
                        ),
                        related: vec![(fi, format!("spec.addresses[{fj}]"), "first use of the address".into())],
                    },
                ),
                None => {
                    seen.insert(key, (i, j));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// A `Node` written as JSON.
    macro_rules! node {
        ($($t:tt)*) => {
            Node::from(&serde_json::json!($($t)*))
        };
    }
    use super::*;

    #[test]
    fn addresses_compare_as_networks() {
        assert_eq!(normalize_address("10.1.0.0/8"), "10.0.0.0/8");
        assert_eq!(normalize_address("10.0.0.1/32"), "10.0.0.1");
        assert_eq!(normalize_address("10.0.0.1"), "10.0.0.1");
    }

    #[test]
    fn canonical_matchers_ignore_key_order() {
        use std::hash::BuildHasher;
        let a = node!({"uri": {"prefix": "/a", "ignoreCase": true}, "method": "GET"});
        let b = node!({"method": "GET", "uri": {"ignoreCase": true, "prefix": "/a"}});
        let c = node!({"method": "GET", "uri": {"ignoreCase": false, "prefix": "/a"}});
        assert!(Canon(&a) == Canon(&b));
        assert!(Canon(&a) != Canon(&c));
        let s = crate::hashing::FastState::default();
        assert_eq!(s.hash_one(Canon(&a)), s.hash_one(Canon(&b)));
        let empty = Node::Object(NodeMap::default());
        assert!(Canon(&node!({})) == Canon(&empty));
    }

    #[test]
    fn prefix_slash_covers_everything_below() {
        let route = |m: Node| node!({ "matchers": [m] });
        let e = route(node!({"uri": {"prefix": "/"}}));
        let l = route(node!({"uri": {"prefix": "/db/"}}));
        let (e, l) = (Matchers::of(&e), Matchers::of(&l));
        assert_eq!(covers(&e, &l).as_deref(), Some("prefix /"));
        assert_eq!(covers(&l, &e), None);
        let h = route(node!({"uri": {"prefix": "/"}, "headers": [{"name": "x"}]}));
        assert_eq!(covers(&Matchers::of(&h), &l), None);
        // A route without matchers matches everything; nothing is said to cover it but
        // another route without matchers.
        let all = node!({});
        let all = Matchers::of(&all);
        assert_eq!(
            covers(&all, &l).as_deref(),
            Some("no matchers (matches everything)")
        );
        assert_eq!(covers(&e, &all), None);
        // ignoreCase on the earlier prefix covers any case below it; on the later one only an
        // earlier ignoreCase does.
        let ic = route(node!({"uri": {"prefix": "/API", "ignoreCase": true}}));
        let lower = route(node!({"uri": {"exact": "/api/x"}}));
        assert!(covers(&Matchers::of(&ic), &Matchers::of(&lower)).is_some());
        let lic = route(node!({"uri": {"prefix": "/db/x", "ignoreCase": true}}));
        assert_eq!(covers(&e, &Matchers::of(&lic)), None);
    }
}
