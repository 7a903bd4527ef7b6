//! Cross-resource facts about Gloo objects, computed once per run in linear time (plus the
//! routes of one table for shadowing) and read by the built-in policies through the `gloo.*`
//! CEL functions. Rules: shared/reference/gloo-translation.md §3, §5, §8, §9.7, §11.
//! Workspace ownership and visibility come from `gloo::Model` (the renderer's own view).

use super::functions::{parse_cidr, parse_ip};
use crate::gloo::{glob_match as glob, Model};
use crate::manifest::Object;
use crate::repo::Repo;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

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

/// Per-object facts for the `gloo.*` functions.
#[derive(Debug, Default)]
pub struct GlooIndex {
    /// `gloo.routeConflicts()`.
    pub route_conflicts: HashMap<usize, Vec<Violation>>,
    /// `gloo.shadowedRoutes()`.
    pub shadowed: HashMap<usize, Vec<Violation>>,
    /// `gloo.unresolvedReferences()`.
    pub unresolved: HashMap<usize, Vec<Violation>>,
    /// `gloo.missingServices()`.
    pub missing_services: HashMap<usize, Vec<Violation>>,
    /// `gloo.duplicateAddresses()`.
    pub duplicate_addresses: HashMap<usize, Vec<Violation>>,
    /// `gloo.selectedEndpoints()`: ExternalEndpoints an ExternalService selects and can see.
    pub selected_endpoints: HashMap<usize, i64>,
    /// `gloo.workspace()`: the owning workspace.
    pub workspace: HashMap<usize, String>,
}

fn is(o: &Object, kind: &str) -> bool {
    o.id.api_version == NET && o.id.kind == kind
}

/// JSON with object keys sorted, for comparing matchers.
fn canon(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let b: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, sort(v))).collect();
                Value::Object(b.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

fn labels_match(selector: &Value, labels: &Value) -> bool {
    selector.as_object().is_none_or(|s| {
        s.iter().all(|(k, v)| {
            v.as_str().is_some() && labels.get(k).and_then(Value::as_str) == v.as_str()
        })
    })
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// The most specific field of a matcher: its uri prefix/exact/regex, else the matcher.
fn matcher_field(route: usize, j: usize, m: &Value) -> String {
    for k in ["prefix", "exact", "regex", "suffix"] {
        if m["uri"].get(k).is_some() {
            return format!("spec.http[{route}].matchers[{j}].uri.{k}");
        }
    }
    format!("spec.http[{route}].matchers[{j}]")
}

fn describe(m: &Value) -> String {
    for k in ["prefix", "exact", "regex", "suffix"] {
        if let Some(p) = m["uri"].get(k).and_then(Value::as_str) {
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

/// Workspace ownership and visibility, from the typed model.
struct Vis<'a> {
    model: &'a Model,
    repo: &'a Repo,
}

impl<'a> Vis<'a> {
    fn workspace_of(&self, cluster: &str, namespace: &str) -> Option<&'a str> {
        self.model.workspace_of(cluster, namespace)
    }
    fn visible_in(&self, index: usize, ws: &str) -> bool {
        self.model.visible_in(self.repo, index, ws)
    }
    fn enabled(&self) -> bool {
        !self.model.workspaces.is_implicit()
    }
}

struct Ctx<'a> {
    objs: &'a [Object],
    ws: Vis<'a>,
    by_id: HashMap<(&'a str, &'a str, &'a str, &'a str), usize>,
    tables: Vec<usize>,
}

impl<'a> Ctx<'a> {
    fn ws_of(&self, i: usize) -> Option<&'a str> {
        let o = &self.objs[i];
        self.ws.workspace_of(&o.cluster, &o.id.namespace)
    }

    /// RouteTables a delegate selector selects, visible to the parent's workspace.
    fn delegates(&self, parent: usize, sel: &Value) -> Vec<usize> {
        let p = &self.objs[parent];
        let pws = self.ws_of(parent);
        let mut out: Vec<usize> = self
            .tables
            .iter()
            .copied()
            .filter(|&c| c != parent)
            .filter(|&c| {
                let o = &self.objs[c];
                sel["name"].as_str().is_none_or(|n| glob(n, &o.id.name))
                    && sel["namespace"]
                        .as_str()
                        .is_none_or(|n| glob(n, &o.id.namespace))
                    && sel["cluster"].as_str().unwrap_or(&p.cluster) == o.cluster
                    && labels_match(&sel["labels"], &o.value["metadata"]["labels"])
                    && sel["workspace"]
                        .as_str()
                        .is_none_or(|w| self.ws_of(c).is_some_and(|cw| glob(w, cw)))
                    && pws.is_some_and(|w| self.ws.visible_in(c, w))
            })
            .collect();
        out.sort_by(|a, b| self.objs[*a].id.cmp(&self.objs[*b].id));
        out
    }

    /// Leaf routes of a table in order, delegations expanded: (object, route index, route).
    fn leaves(&self, t: usize, stack: &mut Vec<usize>, out: &mut Vec<(usize, usize, &'a Value)>) {
        if stack.contains(&t) || stack.len() > 8 {
            return;
        }
        stack.push(t);
        for (r, route) in arr(&self.objs[t].value["spec"]["http"]).iter().enumerate() {
            if route.get("delegate").is_some() {
                for sel in arr(&route["delegate"]["routeTables"]) {
                    for c in self.delegates(t, sel) {
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

fn push(map: &mut HashMap<usize, Vec<Violation>>, i: usize, v: Violation) {
    let e = map.entry(i).or_default();
    if !e.contains(&v) {
        e.push(v);
    }
}

/// Builds every fact of the index.
pub fn build(repo: &Repo, model: &Model) -> GlooIndex {
    let objs = &repo.objects[..];
    let ws = Vis { model, repo };
    let mut by_id = HashMap::new();
    for (i, o) in objs.iter().enumerate() {
        by_id
            .entry((
                o.cluster.as_str(),
                o.id.kind.as_str(),
                o.id.namespace.as_str(),
                o.id.name.as_str(),
            ))
            .or_insert(i);
    }
    let tables: Vec<usize> = (0..objs.len())
        .filter(|&i| is(&objs[i], "RouteTable"))
        .collect();
    let cx = Ctx {
        objs,
        ws,
        by_id,
        tables,
    };
    let mut ix = GlooIndex::default();
    for (i, o) in objs.iter().enumerate() {
        if o.id.api_version == NET {
            if let Some(w) = cx.ws_of(i) {
                ix.workspace.insert(i, w.to_string());
            }
        }
    }
    route_conflicts(&cx, &mut ix);
    shadowed(&cx, &mut ix);
    references(&cx, &mut ix);
    external_services(&cx, &mut ix);
    ix
}

fn route_conflicts(cx: &Ctx, ix: &mut GlooIndex) {
    // (cluster, host, matcher) → first (object, field)
    let mut seen: HashMap<(String, String, String), (usize, String)> = HashMap::new();
    for &t in &cx.tables {
        let o = &cx.objs[t];
        let hosts = arr(&o.value["spec"]["hosts"]);
        if hosts.is_empty() {
            continue; // a delegated child; checked under its parents' hosts
        }
        let mut leaves = Vec::new();
        cx.leaves(t, &mut Vec::new(), &mut leaves);
        for h in hosts.iter().filter_map(Value::as_str) {
            for (obj, r, route) in &leaves {
                let ms = arr(&route["matchers"]);
                let keys: Vec<(String, String, String)> = if ms.is_empty() {
                    vec![(
                        "{}".into(),
                        format!("spec.http[{r}]"),
                        "no matchers (matches everything)".into(),
                    )]
                } else {
                    ms.iter()
                        .enumerate()
                        .map(|(j, m)| (canon(m), matcher_field(*r, j, m), describe(m)))
                        .collect()
                };
                for (key, field, desc) in keys {
                    let k = (o.cluster.clone(), h.to_string(), key);
                    match seen.get(&k) {
                        Some((fo, ff)) if !(fo == obj && *ff == field) => {
                            let first = &cx.objs[*fo];
                            push(
                                &mut ix.route_conflicts,
                                *obj,
                                Violation {
                                    field: field.clone(),
                                    message: format!(
                                        "host {h}: {desc} is already routed by {} at {ff}",
                                        first.id
                                    ),
                                    related: vec![(
                                        *fo,
                                        ff.clone(),
                                        format!("first route for host {h} with {desc}"),
                                    )],
                                },
                            );
                        }
                        Some(_) => {}
                        None => {
                            seen.insert(k, (*obj, field));
                        }
                    }
                }
            }
        }
    }
}

/// A matcher that matches every path under a prefix and nothing else restricts it.
fn prefix_only(m: &Value) -> Option<(&str, bool)> {
    let o = m.as_object()?;
    if o.keys().any(|k| k != "uri") {
        return None;
    }
    let u = m["uri"].as_object()?;
    if u.keys().any(|k| k != "prefix" && k != "ignoreCase") {
        return None;
    }
    Some((
        m["uri"]["prefix"].as_str()?,
        m["uri"]["ignoreCase"].as_bool().unwrap_or(false),
    ))
}

fn covers(earlier: &[Value], later: &[Value]) -> Option<String> {
    if earlier.is_empty() {
        return Some("no matchers (matches everything)".into());
    }
    if later.is_empty() {
        return None;
    }
    for m in earlier {
        let Some((p, ic)) = prefix_only(m) else {
            continue;
        };
        let all = later.iter().all(|l| {
            let path = l["uri"]["prefix"].as_str().or(l["uri"]["exact"].as_str());
            let lic = l["uri"]["ignoreCase"].as_bool().unwrap_or(false);
            path.is_some_and(|q| {
                if ic {
                    q.to_ascii_lowercase().starts_with(&p.to_ascii_lowercase())
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

fn shadowed(cx: &Ctx, ix: &mut GlooIndex) {
    for &t in &cx.tables {
        let routes = arr(&cx.objs[t].value["spec"]["http"]);
        for (k, later) in routes.iter().enumerate() {
            let lm = arr(&later["matchers"]);
            for (i, earlier) in routes.iter().enumerate().take(k) {
                let em = arr(&earlier["matchers"]);
                if canon(&earlier["matchers"]) == canon(&later["matchers"]) {
                    continue; // an exact duplicate: routetable-unique-prefix reports it
                }
                if earlier.get("delegate").is_some() {
                    continue; // its children decide what it matches
                }
                if let Some(what) = covers(em, lm) {
                    let field = lm
                        .first()
                        .map_or(format!("spec.http[{k}]"), |m| matcher_field(k, 0, m));
                    let efield = em
                        .first()
                        .map_or(format!("spec.http[{i}]"), |m| matcher_field(i, 0, m));
                    push(
                        &mut ix.shadowed,
                        t,
                        Violation {
                            field,
                            message: format!(
                                "route spec.http[{k}] can never match: the earlier route spec.http[{i}] with {what} matches every request it would"
                            ),
                            related: vec![(t, efield, "the earlier route that matches first".into())],
                        },
                    );
                    break;
                }
            }
        }
    }
}

fn dest_kind(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "VIRTUAL_DESTINATION" => ("VirtualDestination", "VIRTUAL_DESTINATION"),
        "EXTERNAL_SERVICE" => ("ExternalService", "EXTERNAL_SERVICE"),
        _ => ("Service", "SERVICE"),
    }
}

fn references(cx: &Ctx, ix: &mut GlooIndex) {
    for &t in &cx.tables {
        let o = &cx.objs[t];
        let ws = cx.ws_of(t);
        if cx.ws.enabled() && ws.is_none() {
            push(
                &mut ix.unresolved,
                t,
                Violation {
                    field: "metadata.namespace".into(),
                    message: format!(
                        "namespace {:?} of cluster {} belongs to no workspace, so nothing is visible to this RouteTable",
                        o.id.namespace, o.cluster
                    ),
                    related: vec![],
                },
            );
            continue;
        }
        let ws = ws.unwrap_or("");
        let spec = &o.value["spec"];
        let mut dests: Vec<(String, &Value)> = Vec::new();
        for section in ["http", "tcp", "tls"] {
            for (i, r) in arr(&spec[section]).iter().enumerate() {
                for (j, d) in arr(&r["forwardTo"]["destinations"]).iter().enumerate() {
                    dests.push((
                        format!("spec.{section}[{i}].forwardTo.destinations[{j}]"),
                        d,
                    ));
                }
                if section == "http" {
                    for (k, sel) in arr(&r["delegate"]["routeTables"]).iter().enumerate() {
                        if cx.delegates(t, sel).is_empty() {
                            push(
                                &mut ix.unresolved,
                                t,
                                Violation {
                                    field: format!("spec.http[{i}].delegate.routeTables[{k}]"),
                                    message: format!(
                                        "delegate selector {} selects no RouteTable visible to workspace {ws:?}",
                                        canon(sel)
                                    ),
                                    related: vec![],
                                },
                            );
                        }
                    }
                }
            }
        }
        if spec.get("defaultDestination").is_some() {
            dests.push((
                "spec.defaultDestination".into(),
                &spec["defaultDestination"],
            ));
        }
        for (field, d) in dests {
            let Some(r) = d.get("ref") else { continue };
            let (kind, label) = dest_kind(d["kind"].as_str().unwrap_or("SERVICE"));
            let name = r["name"].as_str().unwrap_or_default();
            let ns = r["namespace"].as_str().unwrap_or(&o.id.namespace);
            let cluster = r["cluster"].as_str().unwrap_or(&o.cluster);
            let found = cx
                .by_id
                .get(&(cluster, kind, ns, name))
                .copied()
                .filter(|&i| {
                    let c = &cx.objs[i];
                    kind == "Service" || c.id.api_version == NET
                });
            let rf = format!("{field}.ref.name");
            match found {
                None if kind == "Service" => push(
                    &mut ix.missing_services,
                    t,
                    Violation {
                        field: rf,
                        message: format!(
                            "destination {label} {ns}/{name} (cluster {cluster}) is not defined in this repo"
                        ),
                        related: vec![],
                    },
                ),
                None => push(
                    &mut ix.unresolved,
                    t,
                    Violation {
                        field: rf,
                        message: format!(
                            "destination {label} {ns}/{name} (cluster {cluster}) does not exist in this repo"
                        ),
                        related: vec![],
                    },
                ),
                Some(i) if !cx.ws.visible_in(i, ws) => {
                    let owner = cx.ws_of(i).unwrap_or("<none>");
                    push(
                        &mut ix.unresolved,
                        t,
                        Violation {
                            field: rf,
                            message: format!(
                                "destination {label} {ns}/{name} is owned by workspace {owner:?} and is not both exported to and imported by workspace {ws:?}"
                            ),
                            related: vec![(i, "metadata.name".into(), "the destination".into())],
                        },
                    )
                }
                Some(_) => {}
            }
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

fn external_services(cx: &Ctx, ix: &mut GlooIndex) {
    // ExternalEndpoints by (cluster, label=value), so selector matching stays linear.
    let mut endpoints: HashMap<(&str, String), Vec<usize>> = HashMap::new();
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
    let mut seen: HashMap<(String, String), (usize, usize)> = HashMap::new();
    let mut done: HashSet<usize> = HashSet::new();
    for (i, o) in cx.objs.iter().enumerate() {
        if !is(o, "ExternalService") || !done.insert(i) {
            continue;
        }
        let ws = cx.ws_of(i);
        let sel = &o.value["spec"]["selector"];
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
                    labels_match(sel, &eo.value["metadata"]["labels"]) && cx.ws_of(e) == ws
                })
                .count() as i64,
            None => 0,
        };
        ix.selected_endpoints.insert(i, n);
        for (j, a) in arr(&o.value["spec"]["addresses"]).iter().enumerate() {
            let Some(a) = a.as_str() else { continue };
            let key = (ws.unwrap_or("<none>").to_string(), normalize_address(a));
            match seen.get(&key) {
                Some(&(fi, fj)) => push(
                    &mut ix.duplicate_addresses,
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
    use super::*;

    #[test]
    fn addresses_compare_as_networks() {
        assert_eq!(normalize_address("10.1.0.0/8"), "10.0.0.0/8");
        assert_eq!(normalize_address("10.0.0.1/32"), "10.0.0.1");
        assert_eq!(normalize_address("10.0.0.1"), "10.0.0.1");
    }

    #[test]
    fn prefix_slash_covers_everything_below() {
        let e = vec![serde_json::json!({"uri": {"prefix": "/"}})];
        let l = vec![serde_json::json!({"uri": {"prefix": "/db/"}})];
        assert_eq!(covers(&e, &l).as_deref(), Some("prefix /"));
        assert_eq!(covers(&l, &e), None);
        let h = vec![serde_json::json!({"uri": {"prefix": "/"}, "headers": [{"name": "x"}]})];
        assert_eq!(covers(&h, &l), None);
    }
}
