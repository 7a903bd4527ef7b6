//! RouteTable → VirtualService (+ DestinationRules for subsets), gloo-translation.md §5, §9.5;
//! worked examples E3, E5, E7.
//!
//! A table with hosts renders one VirtualService per place: in the namespace of each gateway
//! workload its VirtualGateways select (`gateways: [<Gateway>]`, sourceLabels of the gateway
//! pods), or, for sidecars, in every namespace where the table is visible (`gateways: [mesh]`,
//! sourceLabels from workloadSelectors). Delegated child tables render inside their parents.

use super::external_service::{port_name, primary_host};
use super::gateway::{gateway_name, selected_workloads};
use super::names::{metadata, sanitize_name_v2, Parent, Place};
use super::{Ctx, Part, SourceRef};
use crate::gloo::types::*;
use crate::gloo::{labels_match, Typed};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

type Rt = Typed<RouteTableSpec>;

/// Delegation deeper than this is an error (a cycle guard as much as a limit).
const MAX_DELEGATION_DEPTH: usize = 8;

enum Action<'a> {
    Forward(&'a ForwardToAction),
    Redirect(&'a RedirectAction),
    Direct(&'a DirectResponseAction),
    /// Replaced by a 500 direct response (ROUTE_REPLACEMENT, §5.1); the diagnostic is issued.
    Fail,
}

struct FlatRoute<'a> {
    name: String,
    matchers: Vec<HttpRequestMatcher>,
    action: Action<'a>,
    /// The table the route is written in.
    table: &'a Rt,
    /// Path of the route inside its table, e.g. `spec.http[2]`.
    field: String,
    /// Workspace of the table (empty when in none).
    ws: &'a str,
    labels: &'a Labels,
}

/// One VirtualService to write.
#[derive(Default)]
struct Instance {
    workspace: String,
    gateways: BTreeSet<String>,
    /// `None` means "no sourceLabels" (all sources).
    sources: Vec<Option<Labels>>,
}

pub(crate) fn translate(ctx: &Ctx<'_>, rt: &Rt) -> Part {
    let mut part = Part::default();
    if rt.spec.hosts.is_empty() {
        return part; // a delegated (child) table: rendered inside its parents
    }
    let Some(own_ws) = ctx.ws_of(&rt.meta) else {
        part.diagnostics.push(ctx.warning(&rt.meta, "not-in-workspace", "metadata.namespace",
            format!("namespace {} of cluster {} is in no workspace; Gloo does not translate this RouteTable", rt.meta.namespace, rt.meta.cluster)));
        return part;
    };
    let failure_freeze = rt.spec.failure_mode.as_deref() == Some("FREEZE_CONFIG");
    for (k, _) in &rt.spec.virtual_service_annotations {
        if k == "cluster.solo.io/cluster" {
            part.diagnostics.push(ctx.error(&rt.meta, "reserved-annotation", "spec.virtualServiceAnnotations",
                "cluster.solo.io/cluster is set by Gloo and cannot be used in virtualServiceAnnotations [C §5.1]"));
        }
    }

    // Where the VirtualServices go.
    let mut instances: BTreeMap<(String, String), Instance> = BTreeMap::new();
    let vgs = rt.spec.virtual_gateways.clone().unwrap_or_default();
    for (i, r) in vgs.iter().enumerate() {
        let field = format!("spec.virtualGateways[{i}]");
        let ns = if r.namespace.is_empty() {
            &rt.meta.namespace
        } else {
            &r.namespace
        };
        let cl = if r.cluster.is_empty() {
            &rt.meta.cluster
        } else {
            &r.cluster
        };
        let Some(vg) = ctx.model.virtual_gateway(cl, ns, &r.name) else {
            part.diagnostics.push(ctx.error(
                &rt.meta,
                "unresolved-virtual-gateway",
                &field,
                format!(
                    "VirtualGateway {ns}/{} in cluster {cl} does not exist",
                    r.name
                ),
            ));
            continue;
        };
        let Some(vg_ws) = ctx.ws_of(&vg.meta) else {
            continue;
        };
        if !ctx.model.workspaces.visible(&rt.meta, "RouteTable", vg_ws) {
            part.diagnostics.push(ctx.error(&rt.meta, "not-visible-to-gateway", &field,
                format!("this RouteTable is not visible in workspace `{vg_ws}` of VirtualGateway {ns}/{}; export it from `{own_ws}` and import it there", r.name)));
            continue;
        }
        if !host_allowed(vg, &rt.spec.hosts) {
            part.diagnostics.push(ctx.warning(&rt.meta, "host-not-allowed", "spec.hosts",
                format!("no listener of VirtualGateway {ns}/{} allows these hosts; the table is not bound to it", r.name)));
            continue;
        }
        for (cluster, gns, workloads) in selected_workloads(ctx, vg) {
            if !ctx.selected(&cluster) {
                continue;
            }
            let Some(gws) = ctx.model.workspace_of(&cluster, &gns) else {
                continue;
            };
            let inst = instances.entry((cluster.clone(), gns.clone())).or_default();
            inst.workspace = gws.to_string();
            inst.gateways.insert(gateway_name(&vg.meta, &gns, gws));
            for w in workloads {
                let s = Some(w.pod_labels.clone());
                if !inst.sources.contains(&s) {
                    inst.sources.push(s);
                }
            }
        }
    }
    let selectors = rt.spec.workload_selectors.clone().unwrap_or_default();
    // §5.2: no gateways → sidecars; gateways plus a selector → gateways and those sidecars.
    if vgs.is_empty() || !selectors.is_empty() {
        let mesh_sources: Vec<Option<Labels>> = if selectors.is_empty() {
            vec![None]
        } else {
            selectors
                .iter()
                .map(|s| {
                    s.selector
                        .as_ref()
                        .map(|x| x.labels.clone())
                        .filter(|l| !l.is_empty())
                })
                .collect()
        };
        for (cluster, ns, ws) in ctx.placements(&rt.meta, "RouteTable") {
            let inst = instances.entry((cluster, ns)).or_default();
            inst.workspace = ws;
            inst.gateways.insert("mesh".into());
            for s in &mesh_sources {
                if !inst.sources.contains(s) {
                    inst.sources.push(s.clone());
                }
            }
        }
    }

    // The routes, with delegation flattened.
    let mut chain = vec![rt.meta.index];
    let http = flatten(ctx, rt, own_ws, &mut chain, false, &mut part);
    let diag_mark = part.diagnostics.len();

    let parent = Parent {
        group: "networking.gloo.solo.io",
        version: "v2",
        kind: "RouteTable",
        name: &rt.meta.name,
        namespace: &rt.meta.namespace,
        cluster: &rt.meta.cluster,
    };
    let tables: BTreeSet<usize> = std::iter::once(&rt.meta)
        .chain(http.iter().map(|r| &r.table.meta))
        .map(|m| m.index)
        .collect();
    let mut sources: Vec<SourceRef> = tables
        .iter()
        .map(|&i| {
            let o = &ctx.repo.objects[i];
            SourceRef {
                id: o.id.clone(),
                location: o.location.clone(),
            }
        })
        .collect();
    sources.sort();
    sources.dedup();
    let annotations: Vec<(String, String)> = rt
        .spec
        .virtual_service_annotations
        .iter()
        .filter(|(k, _)| *k != "cluster.solo.io/cluster")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    for ((cluster, ns), inst) in &instances {
        let mut subsets: Subsets = BTreeMap::new();
        let mut spec = Map::new();
        spec.insert("exportTo".into(), json!(["."]));
        spec.insert(
            "gateways".into(),
            json!(inst.gateways.iter().collect::<Vec<_>>()),
        );
        spec.insert("hosts".into(), json!(rt.spec.hosts));
        let mut http_json = Vec::new();
        for r in &http {
            http_json.push(http_route(
                ctx,
                r,
                cluster,
                &inst.sources,
                &mut subsets,
                &mut part,
            ));
        }
        if !http_json.is_empty() {
            spec.insert("http".into(), Value::Array(http_json));
        }
        let tcp = tcp_routes(ctx, rt, cluster, &inst.sources, &mut part);
        if !tcp.is_empty() {
            spec.insert("tcp".into(), Value::Array(tcp));
        }
        let tls = tls_routes(ctx, rt, cluster, &inst.sources, &mut part);
        if !tls.is_empty() {
            spec.insert("tls".into(), Value::Array(tls));
        }
        let place = Place {
            cluster,
            namespace: ns,
            workspace: &inst.workspace,
        };
        // Name pattern [O §9.2]: routetable-<rt>-<rtNs>-<rtCluster>-<ws of the output namespace>.
        let name = sanitize_name_v2(&format!(
            "routetable-{}-{}-{}-{}",
            rt.meta.name, rt.meta.namespace, rt.meta.cluster, inst.workspace
        ));
        let md = metadata(&name, &place, &parent, &annotations);
        part.objects.push(ctx.object(
            "VirtualService",
            md,
            Value::Object(spec),
            cluster,
            sources.clone(),
        ));
        for (host, (dparent, subs, srcs)) in subsets {
            part.objects
                .push(subset_rule(ctx, &host, dparent, subs, srcs, &place));
        }
    }
    if failure_freeze
        && part.diagnostics[diag_mark..]
            .iter()
            .chain(part.diagnostics[..diag_mark].iter())
            .any(|d| d.severity == crate::diag::Severity::Error)
    {
        // FREEZE_CONFIG keeps the last accepted config [C §5.1]: meshform has none, so it
        // renders nothing for this table and the error stops the render (docs/translation.md).
        part.objects.clear();
    }
    part
}

/// True if some listener of the gateway allows one of the hosts (`allowedRouteTables[].host`,
/// wildcards allowed; no entries means any table) [C §7].
fn host_allowed(vg: &Typed<VirtualGatewaySpec>, hosts: &[String]) -> bool {
    vg.spec
        .listeners
        .iter()
        .any(|l| match &l.allowed_route_tables {
            None => true,
            Some(list) if list.is_empty() => true,
            Some(list) => list.iter().any(|a| match &a.host {
                None => true,
                Some(h) => hosts.iter().any(|x| host_matches(h, x)),
            }),
        })
        || vg.spec.listeners.is_empty()
}

/// `*`, `*.example.com` or an exact host.
pub(crate) fn host_matches(pattern: &str, host: &str) -> bool {
    if pattern == "*" || pattern == host {
        return true;
    }
    match pattern.strip_prefix('*') {
        Some(suffix) => {
            host.ends_with(suffix) || host.strip_prefix('*').is_some_and(|h| h.ends_with(suffix))
        }
        None => false,
    }
}

/// Route names are unique per table; duplicates are renamed `duplicate-<name>-<n>` and a leading
/// `insecure-` is trimmed [C §5.3].
fn unique_names(routes: &[HttpRoute]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    routes
        .iter()
        .map(|r| {
            let base = r
                .name
                .strip_prefix("insecure-")
                .unwrap_or(&r.name)
                .to_string();
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                format!("duplicate-{base}-{}", *n - 1)
            } else {
                base
            }
        })
        .collect()
}

fn flatten<'a>(
    ctx: &Ctx<'a>,
    table: &'a Rt,
    ws: &str,
    chain: &mut Vec<usize>,
    child: bool,
    part: &mut Part,
) -> Vec<FlatRoute<'a>> {
    let mut out = Vec::new();
    let routes = table.spec.http.as_deref().unwrap_or(&[]);
    let names = unique_names(routes);
    let table_ws = ctx.ws_of(&table.meta).unwrap_or_default();
    for (i, r) in routes.iter().enumerate() {
        let field = format!("spec.http[{i}]");
        let route_name = if names[i].is_empty() {
            format!("route-{i}")
        } else {
            names[i].clone()
        };
        // 2.0 names routes `<route>-<table>` [O S7]; delegated routes carry the tables
        // `<route>-<child>.<ns>.<cluster>--<parent>.<ns>.<cluster>` [O S9, split I].
        let name = if child {
            format!(
                "{route_name}-{}.{}.{}",
                table.meta.name, table.meta.namespace, table.meta.cluster
            )
        } else {
            format!("{route_name}-{}", table.meta.name)
        };
        let actions = [
            r.forward_to.is_some(),
            r.delegate.is_some(),
            r.redirect.is_some(),
            r.direct_response.is_some(),
            r.graphql.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        let mk = |action| FlatRoute {
            name: name.clone(),
            matchers: r.matchers.clone(),
            action,
            table,
            field: field.clone(),
            ws: table_ws,
            labels: &r.labels,
        };
        if actions != 1 {
            part.diagnostics.push(ctx.error(&table.meta, "route-action", &field,
                format!("route `{route_name}` must have exactly one of forwardTo, delegate, redirect, directResponse, graphql; it has {actions}")));
            out.push(mk(Action::Fail));
            continue;
        }
        if r.graphql.is_some() {
            part.diagnostics.push(ctx.error(
                &table.meta,
                "unsupported",
                &format!("{field}.graphql"),
                "graphql actions are not translated by meshform",
            ));
            out.push(mk(Action::Fail));
            continue;
        }
        if let Some(f) = &r.forward_to {
            out.push(mk(Action::Forward(f)));
        } else if let Some(rd) = &r.redirect {
            out.push(mk(Action::Redirect(rd)));
        } else if let Some(d) = &r.direct_response {
            out.push(mk(Action::Direct(d)));
        } else if let Some(d) = &r.delegate {
            match delegate(ctx, table, r, d, &field, ws, chain, part) {
                Ok(children) => {
                    for mut c in children {
                        c.name = format!(
                            "{}--{}.{}.{}",
                            c.name, table.meta.name, table.meta.namespace, table.meta.cluster
                        );
                        out.push(c);
                    }
                }
                Err(()) => out.push(mk(Action::Fail)),
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn delegate<'a>(
    ctx: &Ctx<'a>,
    parent: &'a Rt,
    route: &'a HttpRoute,
    d: &'a DelegateAction,
    field: &str,
    ws: &str,
    chain: &mut Vec<usize>,
    part: &mut Part,
) -> Result<Vec<FlatRoute<'a>>, ()> {
    if chain.len() > MAX_DELEGATION_DEPTH {
        part.diagnostics.push(ctx.error(
            &parent.meta,
            "delegation-depth",
            field,
            format!("delegation deeper than {MAX_DELEGATION_DEPTH} tables"),
        ));
        return Err(());
    }
    // Children: tables without hosts matching a selector and visible in the parent's
    // workspace [C §5, §5.5], in TABLE_WEIGHT order (weight descending, then selector order,
    // then namespace/name, as git has no creation time [I]).
    let mut children: Vec<(i32, usize, &'a Rt)> = Vec::new();
    for (si, s) in d.route_tables.iter().enumerate() {
        // Candidates: the tables without hosts, narrowed by the selector's first label.
        let candidates: &[usize] = match s.labels.first() {
            Some((k, v)) => ctx
                .child_tables_by_label
                .get(&(k.as_str(), v.as_str()))
                .map_or(&[], Vec::as_slice),
            None => &ctx.child_tables,
        };
        for &ci in candidates {
            let c = &ctx.model.route_tables[ci];
            if children
                .iter()
                .any(|(_, _, x)| x.meta.index == c.meta.index)
            {
                continue;
            }
            let sel_ok = labels_match(&s.labels, &c.meta.labels)
                && (s.name.is_empty() || s.name == c.meta.name)
                && (s.namespace.is_empty() || s.namespace == c.meta.namespace)
                && (s.cluster.is_empty() || s.cluster == c.meta.cluster)
                && (s.workspace.is_empty() || ctx.ws_of(&c.meta) == Some(s.workspace.as_str()));
            if sel_ok && ctx.model.workspaces.visible(&c.meta, "RouteTable", ws) {
                children.push((c.spec.weight, si, c));
            }
        }
    }
    children.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then((&a.2.meta.namespace, &a.2.meta.name).cmp(&(&b.2.meta.namespace, &b.2.meta.name)))
    });
    if children.is_empty() {
        part.diagnostics.push(ctx.error(&parent.meta, "unresolved-delegate", &format!("{field}.delegate"),
            format!("delegate selects no child RouteTable visible in workspace `{ws}` (a child has no hosts and is in this workspace or imported into it)")));
        return Err(());
    }
    let mut out = Vec::new();
    for (weight, _, c) in &children {
        if chain.contains(&c.meta.index) {
            part.diagnostics.push(ctx.error(
                &parent.meta,
                "delegation-cycle",
                &format!("{field}.delegate"),
                format!(
                    "delegation cycle through RouteTable {}/{}",
                    c.meta.namespace, c.meta.name
                ),
            ));
            return Err(());
        }
        chain.push(c.meta.index);
        let routes = flatten(ctx, c, ws, chain, true, part);
        chain.pop();
        for mut r in routes {
            // Traffic must match both the parent and the child matchers [C §5.3].
            match merge_matchers(&route.matchers, &r.matchers) {
                Ok(m) => r.matchers = m,
                Err(why) => {
                    // "the delegating route on the parent table is replaced with a directResponse" [C §5.3]
                    part.diagnostics.push(ctx.error(&c.meta, "delegate-matcher-conflict", &r.field,
                        format!("child route matchers conflict with the parent route {}/{} {field}: {why}", parent.meta.namespace, parent.meta.name)));
                    return Err(());
                }
            }
            out.push((*weight, r));
        }
    }
    if d.sort_method.as_deref() == Some("ROUTE_SPECIFICITY") {
        // exact > regex > prefix; exact and prefix by path length descending; ties by table
        // weight, then user order [C §5.5]. Only the most specific matcher of a route counts.
        let keyed: Vec<((u8, std::cmp::Reverse<usize>), i32, usize)> = out
            .iter()
            .enumerate()
            .map(|(i, (w, r))| (specificity(&r.matchers), *w, i))
            .collect();
        let mut order: Vec<usize> = (0..out.len()).collect();
        order.sort_by(|a, b| {
            let (ka, wa, ia) = &keyed[*a];
            let (kb, wb, ib) = &keyed[*b];
            ka.cmp(kb).then(wb.cmp(wa)).then(ia.cmp(ib))
        });
        let mut slots: Vec<Option<(i32, FlatRoute<'a>)>> = out.into_iter().map(Some).collect();
        return Ok(order
            .into_iter()
            .filter_map(|i| slots[i].take())
            .map(|(_, r)| r)
            .collect());
    }
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

/// The most specific matcher of a route: (rank, path length descending).
fn specificity(matchers: &[HttpRequestMatcher]) -> (u8, std::cmp::Reverse<usize>) {
    matchers
        .iter()
        .map(|m| match &m.uri {
            Some(StringMatch { exact: Some(p), .. }) => (0, std::cmp::Reverse(p.len())),
            Some(StringMatch { regex: Some(_), .. }) => (1, std::cmp::Reverse(0)),
            Some(StringMatch {
                prefix: Some(p), ..
            }) => (2, std::cmp::Reverse(p.len())),
            _ => (3, std::cmp::Reverse(0)),
        })
        .min()
        .unwrap_or((3, std::cmp::Reverse(0)))
}

/// Combines parent and child matchers: every child matcher must narrow a parent matcher.
fn merge_matchers(
    parent: &[HttpRequestMatcher],
    child: &[HttpRequestMatcher],
) -> Result<Vec<HttpRequestMatcher>, MatcherConflict> {
    if parent.is_empty() {
        return Ok(child.to_vec());
    }
    if child.is_empty() {
        return Ok(parent.to_vec());
    }
    let mut out = Vec::new();
    let mut last_err = None;
    for c in child {
        let mut any = false;
        for p in parent {
            match merge_one(p, c) {
                Ok(m) => {
                    out.push(m);
                    any = true;
                }
                Err(e) => last_err = Some(e),
            }
        }
        match last_err {
            Some(e) if !any => return Err(e),
            _ => {}
        }
    }
    Ok(out)
}

/// Why a child matcher does not narrow a parent matcher.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum MatcherConflict {
    #[error("child uri {child} is not within parent uri {parent}")]
    Uri { child: String, parent: String },
    #[error("header `{0}` is matched differently by parent and child")]
    Header(String),
    #[error("query parameter `{0}` is matched differently by parent and child")]
    QueryParameter(String),
    #[error("method {0} vs {1}")]
    Method(String, String),
    #[error("port {0} vs {1}")]
    Port(u32, u32),
}

fn merge_one(
    p: &HttpRequestMatcher,
    c: &HttpRequestMatcher,
) -> Result<HttpRequestMatcher, MatcherConflict> {
    let mut m = c.clone();
    m.uri = match (&p.uri, &c.uri) {
        (None, u) => u.clone(),
        (u, None) => u.clone(),
        (Some(pu), Some(cu)) => {
            let ok = match (&pu.prefix, &pu.exact, &cu.prefix, &cu.exact, &cu.regex) {
                (Some(pp), _, Some(cp), _, _) => cp.starts_with(pp.as_str()),
                (Some(pp), _, _, Some(ce), _) => ce.starts_with(pp.as_str()),
                // A child regex is accepted under the catch-all prefix only [I].
                (Some(pp), _, _, _, Some(_)) => pp == "/",
                (_, Some(pe), _, Some(ce), _) => pe == ce,
                _ => pu == cu,
            };
            if !ok {
                return Err(MatcherConflict::Uri {
                    child: describe_uri(cu),
                    parent: describe_uri(pu),
                });
            }
            Some(cu.clone())
        }
    };
    for h in &p.headers {
        if let Some(ch) = m
            .headers
            .iter()
            .find(|x| x.name.eq_ignore_ascii_case(&h.name))
        {
            if ch != h {
                return Err(MatcherConflict::Header(h.name.clone()));
            }
        } else {
            m.headers.push(h.clone());
        }
    }
    for q in &p.query_parameters {
        if let Some(cq) = m.query_parameters.iter().find(|x| x.name == q.name) {
            if cq != q {
                return Err(MatcherConflict::QueryParameter(q.name.clone()));
            }
        } else {
            m.query_parameters.push(q.clone());
        }
    }
    match (&p.method, &c.method) {
        (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b) => {
            return Err(MatcherConflict::Method(a.clone(), b.clone()))
        }
        (Some(a), None) => m.method = Some(a.clone()),
        _ => {}
    }
    match (p.port, c.port) {
        (Some(a), Some(b)) if a != b => return Err(MatcherConflict::Port(a, b)),
        (Some(a), None) => m.port = Some(a),
        _ => {}
    }
    Ok(m)
}

fn describe_uri(u: &StringMatch) -> String {
    if let Some(p) = &u.prefix {
        format!("prefix `{p}`")
    } else if let Some(e) = &u.exact {
        format!("exact `{e}`")
    } else if let Some(r) = &u.regex {
        format!("regex `{r}`")
    } else {
        "(any)".into()
    }
}

/// Istio StringMatch from a Gloo value (exact or regex); `{}` means presence (Istio's
/// translation of an empty StringMatch is a present match).
fn value_match(value: &Option<String>, regex: bool) -> Value {
    match value {
        None => json!({}),
        Some(v) if regex => json!({"regex": v}),
        Some(v) => json!({"exact": v}),
    }
}

/// One Istio HTTPMatchRequest per (matcher × source label set) [O §9.5].
fn matches_json(matchers: &[HttpRequestMatcher], sources: &[Option<Labels>]) -> Vec<Value> {
    let default = [HttpRequestMatcher {
        uri: Some(StringMatch {
            prefix: Some("/".into()),
            ..Default::default()
        }),
        ..Default::default()
    }];
    let ms: &[HttpRequestMatcher] = if matchers.is_empty() {
        &default
    } else {
        matchers
    };
    let none = [None];
    let srcs: &[Option<Labels>] = if sources.is_empty() { &none } else { sources };
    let mut out = Vec::new();
    for m in ms {
        for s in srcs {
            let mut j = Map::new();
            if let Some(u) = &m.uri {
                if let Some(e) = &u.exact {
                    j.insert("uri".into(), json!({"exact": e}));
                } else if let Some(p) = &u.prefix {
                    j.insert("uri".into(), json!({"prefix": p}));
                } else if let Some(r) = &u.regex {
                    j.insert("uri".into(), json!({"regex": r}));
                } else if let Some(sfx) = &u.suffix {
                    // Gloo does not support suffix matching; a regex keeps its meaning [I].
                    j.insert(
                        "uri".into(),
                        json!({"regex": format!(".*{}", regex_escape(sfx))}),
                    );
                }
                if u.ignore_case && u.regex.is_none() {
                    j.insert("ignoreUriCase".into(), json!(true));
                }
            }
            let mut headers = Map::new();
            let mut without = Map::new();
            for h in &m.headers {
                let v = value_match(&h.value, h.regex);
                if h.invert_match {
                    without.insert(h.name.clone(), v);
                } else {
                    headers.insert(h.name.clone(), v);
                }
            }
            if !headers.is_empty() {
                j.insert("headers".into(), Value::Object(headers));
            }
            if !without.is_empty() {
                j.insert("withoutHeaders".into(), Value::Object(without));
            }
            let mut qp = Map::new();
            for q in &m.query_parameters {
                qp.insert(q.name.clone(), value_match(&q.value, q.regex));
            }
            if !qp.is_empty() {
                j.insert("queryParams".into(), Value::Object(qp));
            }
            if let Some(me) = &m.method {
                j.insert("method".into(), json!({"exact": me.to_uppercase()}));
            }
            if let Some(p) = m.port {
                if p != 0 {
                    j.insert("port".into(), json!(p));
                }
            }
            if let Some(l) = s {
                j.insert("sourceLabels".into(), json!(l));
            }
            out.push(Value::Object(j));
        }
    }
    out
}

fn regex_escape(s: &str) -> String {
    regex::escape(s)
}

/// A resolved destination.
struct Dest {
    host: String,
    port: Option<u32>,
    subset: Option<(String, Labels)>,
    /// For subset DestinationRules: the destination as parent (group, version, kind, name, ns, cluster).
    parent: (String, String, String, String, String, String),
}

/// Resolves a destination for output cluster `cluster`; `Err` has already been reported.
fn resolve(
    ctx: &Ctx<'_>,
    table: &Rt,
    d: &DestinationReference,
    field: &str,
    cluster: &str,
    ws: &str,
    part: &mut Part,
) -> Result<Dest, ()> {
    let fail = |part: &mut Part, code: &str, f: &str, msg: String| {
        part.diagnostics.push(ctx.error(&table.meta, code, f, msg));
        Err(())
    };
    let Some(r) = &d.r#ref else {
        if d.aws_lambda.is_some() {
            return fail(
                part,
                "unsupported",
                &format!("{field}.awsLambda"),
                "AWS Lambda destinations are not translated by meshform".into(),
            );
        }
        return fail(
            part,
            "unresolved-destination",
            field,
            "destination has no ref".into(),
        );
    };
    let ns = if r.namespace.is_empty() {
        table.meta.namespace.clone()
    } else {
        r.namespace.clone()
    };
    let cl = if r.cluster.is_empty() {
        table.meta.cluster.clone()
    } else {
        r.cluster.clone()
    };
    let subset = if d.subset.is_empty() {
        None
    } else {
        // Subset names are `<key>-<value>` [O S7, S8]; several labels are joined in key order [I].
        let mut keys: Vec<(&String, &String)> = d.subset.iter().collect();
        keys.sort();
        let name = keys
            .iter()
            .map(|(k, v)| format!("{k}-{v}"))
            .collect::<Vec<_>>()
            .join("-");
        Some((sanitize_name_v2(&name), d.subset.clone()))
    };
    // A destination must be owned by, or exported to and imported by, the route's workspace
    // [C §8.2]; `what` names it in the message.
    let not_visible = |part: &mut Part, what: String| {
        fail(
            part,
            "unresolved-destination",
            &format!("{field}.ref"),
            format!("{what} is not visible in workspace `{ws}` (it must be exported by its workspace and imported by this one)"),
        )
    };
    match d.kind {
        DestinationKind::Service => {
            let svc = ctx.model.service(&cl, &ns, &r.name);
            if let Some(s) = svc {
                if !ctx.model.workspaces.visible(&s.meta, "Service", ws) {
                    return not_visible(part, format!("Service {ns}/{} of cluster {cl}", r.name));
                }
            }
            // A Service outside the repo is taken on trust: app manifests often live elsewhere.
            let port = match &d.port {
                Some(PortSelector { number: Some(n), .. }) => Some(*n),
                Some(PortSelector { name: Some(pn), .. }) => match svc.and_then(|s| s.ports.iter().find(|p| &p.0 == pn)) {
                    Some(p) => Some(p.1),
                    None => return fail(part, "unresolved-port", &format!("{field}.port"), format!("port name `{pn}` cannot be resolved: Service {ns}/{} with that port is not in the repo; use a port number", r.name)),
                },
                _ => match svc {
                    Some(s) if s.ports.len() == 1 => Some(s.ports[0].1),
                    Some(s) if s.ports.len() > 1 => return fail(part, "port-required", &format!("{field}.port"), format!("Service {ns}/{} has several ports; name one [C §2.4]", r.name)),
                    _ => None,
                },
            };
            // Local cluster: <name>.<ns>.svc.cluster.local; remote: <name>.<ns>.svc.<cluster>.global [O §9.5].
            let host = if cl == cluster {
                format!("{}.{ns}.svc.cluster.local", r.name)
            } else {
                format!("{}.{ns}.svc.{cl}.global", r.name)
            };
            Ok(Dest {
                host,
                port,
                subset,
                parent: (
                    String::new(),
                    "v1".into(),
                    "Service".into(),
                    r.name.clone(),
                    ns,
                    cl,
                ),
            })
        }
        DestinationKind::VirtualDestination => {
            let Some(vd) = ctx.model.virtual_destination(&cl, &ns, &r.name) else {
                return fail(
                    part,
                    "unresolved-destination",
                    &format!("{field}.ref"),
                    format!(
                        "VirtualDestination {ns}/{} of cluster {cl} does not exist",
                        r.name
                    ),
                );
            };
            if !ctx
                .model
                .workspaces
                .visible(&vd.meta, "VirtualDestination", ws)
            {
                return not_visible(part, format!("VirtualDestination {ns}/{}", r.name));
            }
            let Some(host) = vd.spec.hosts.first().cloned() else {
                return fail(
                    part,
                    "unresolved-destination",
                    &format!("{field}.ref"),
                    format!("VirtualDestination {ns}/{} has no hosts", r.name),
                );
            };
            let port = match &d.port {
                Some(PortSelector {
                    number: Some(n), ..
                }) => {
                    if !vd.spec.ports.iter().any(|p| p.number == *n) {
                        return fail(
                            part,
                            "unresolved-port",
                            &format!("{field}.port"),
                            format!("VirtualDestination {ns}/{} has no port {n}", r.name),
                        );
                    }
                    Some(*n)
                }
                Some(PortSelector { name: Some(pn), .. }) => {
                    return fail(
                        part,
                        "unresolved-port",
                        &format!("{field}.port"),
                        format!(
                        "VirtualDestination ports have no names; use a number instead of `{pn}`"
                    ),
                    )
                }
                _ if vd.spec.ports.len() == 1 => Some(vd.spec.ports[0].number),
                _ => {
                    return fail(
                        part,
                        "port-required",
                        &format!("{field}.port"),
                        format!(
                            "VirtualDestination {ns}/{} has several ports; name one [C §2.4]",
                            r.name
                        ),
                    )
                }
            };
            if subset.is_some() {
                part.diagnostics.push(ctx.warning(
                    &table.meta,
                    "subset-ignored",
                    &format!("{field}.subset"),
                    "subsets apply to Kubernetes Service destinations only [C §2.4]; ignored",
                ));
            }
            Ok(Dest {
                host,
                port,
                subset: None,
                parent: (
                    "networking.gloo.solo.io".into(),
                    "v2".into(),
                    "VirtualDestination".into(),
                    r.name.clone(),
                    ns,
                    cl,
                ),
            })
        }
        DestinationKind::ExternalService => {
            let Some(es) = ctx.model.external_service(&cl, &ns, &r.name) else {
                return fail(
                    part,
                    "unresolved-destination",
                    &format!("{field}.ref"),
                    format!(
                        "ExternalService {ns}/{} of cluster {cl} does not exist",
                        r.name
                    ),
                );
            };
            if !ctx
                .model
                .workspaces
                .visible(&es.meta, "ExternalService", ws)
            {
                return not_visible(part, format!("ExternalService {ns}/{}", r.name));
            }
            let port = match &d.port {
                Some(PortSelector {
                    number: Some(n), ..
                }) => {
                    if !es.spec.ports.iter().any(|p| p.number == *n) {
                        return fail(
                            part,
                            "unresolved-port",
                            &format!("{field}.port"),
                            format!("ExternalService {ns}/{} has no port {n}", r.name),
                        );
                    }
                    Some(*n)
                }
                Some(PortSelector { name: Some(pn), .. }) => {
                    match es.spec.ports.iter().find(|p| &port_name(p) == pn) {
                        Some(p) => Some(p.number),
                        None => {
                            return fail(
                                part,
                                "unresolved-port",
                                &format!("{field}.port"),
                                format!("ExternalService {ns}/{} has no port named `{pn}`", r.name),
                            )
                        }
                    }
                }
                _ if es.spec.ports.len() == 1 => Some(es.spec.ports[0].number),
                _ => {
                    return fail(
                        part,
                        "port-required",
                        &format!("{field}.port"),
                        format!(
                            "ExternalService {ns}/{} has several ports; name one [C §2.4]",
                            r.name
                        ),
                    )
                }
            };
            if subset.is_some() {
                part.diagnostics.push(ctx.warning(
                    &table.meta,
                    "subset-ignored",
                    &format!("{field}.subset"),
                    "subsets apply to Kubernetes Service destinations only [C §2.4]; ignored",
                ));
            }
            Ok(Dest {
                host: primary_host(es),
                port,
                subset: None,
                parent: (
                    "networking.gloo.solo.io".into(),
                    "v2".into(),
                    "ExternalService".into(),
                    r.name.clone(),
                    ns,
                    cl,
                ),
            })
        }
    }
}

/// Weights per §5.4: they sum to 100; below 100 the remainder is spread over destinations
/// without a weight (at least 1 each); above 100, or exactly 100 with unweighted destinations
/// left, is invalid. All unweighted: an even split, the first ones taking the remainder [I].
fn weights(ws: &[Option<u32>]) -> Result<Vec<u32>, String> {
    let sum: u32 = ws.iter().map(|w| w.unwrap_or(0)).sum();
    let unweighted = ws.iter().filter(|w| w.is_none()).count() as u32;
    if sum > 100 {
        return Err(format!(
            "destination weights add up to {sum}, more than 100"
        ));
    }
    if unweighted == 0 {
        if sum != 100 && ws.len() > 1 {
            if sum == 0 {
                return Err("destination weights are all 0".into());
            }
            return Err(format!("destination weights add up to {sum}, not 100"));
        }
        return Ok(ws.iter().map(|w| w.unwrap_or(0)).collect());
    }
    if sum == 100 {
        return Err(
            "weights already add up to 100, leaving nothing for destinations without a weight"
                .into(),
        );
    }
    let rem = 100 - sum;
    let share = rem / unweighted;
    let mut extra = rem % unweighted;
    Ok(ws
        .iter()
        .map(|w| match w {
            Some(w) => *w,
            None => {
                let mut v = share.max(1);
                if extra > 0 && share >= 1 {
                    v += 1;
                    extra -= 1;
                }
                v
            }
        })
        .collect())
}

type Subsets = BTreeMap<String, (Value, BTreeMap<String, Value>, Vec<SourceRef>)>;

#[allow(clippy::too_many_arguments)]
fn route_destinations(
    ctx: &Ctx<'_>,
    table: &Rt,
    dests: &[DestinationReference],
    field: &str,
    cluster: &str,
    ws: &str,
    subsets: &mut Subsets,
    part: &mut Part,
) -> Result<(Vec<Value>, Vec<String>), ()> {
    if dests.len() > 100 {
        part.diagnostics.push(ctx.error(
            &table.meta,
            "too-many-destinations",
            field,
            "at most 100 destinations [C §5.4]",
        ));
        return Err(());
    }
    let mut resolved = Vec::new();
    for (i, d) in dests.iter().enumerate() {
        resolved.push(resolve(
            ctx,
            table,
            d,
            &format!("{field}[{i}]"),
            cluster,
            ws,
            part,
        )?);
    }
    let w = if dests.len() > 1 {
        match weights(&dests.iter().map(|d| d.weight).collect::<Vec<_>>()) {
            Ok(w) => Some(w),
            Err(e) => {
                part.diagnostics
                    .push(ctx.error(&table.meta, "weights", field, e));
                return Err(());
            }
        }
    } else {
        None
    };
    let mut out = Vec::new();
    let mut hosts = Vec::new();
    for (i, d) in resolved.into_iter().enumerate() {
        let mut dest = Map::new();
        dest.insert("host".into(), json!(d.host));
        if let Some(p) = d.port {
            dest.insert("port".into(), json!({"number": p}));
        }
        if let Some((name, labels)) = &d.subset {
            dest.insert("subset".into(), json!(name));
            let entry = subsets.entry(d.host.clone()).or_insert_with(|| {
                let (g, v, k, n, ns, c) = &d.parent;
                (json!({"group": g, "version": v, "kind": k, "name": n, "namespace": ns, "cluster": c}), BTreeMap::new(), Vec::new())
            });
            entry
                .1
                .insert(name.clone(), json!({"name": name, "labels": labels}));
            let src = ctx.source(&table.meta);
            if !entry.2.contains(&src) {
                entry.2.push(src);
            }
        }
        hosts.push(d.host);
        let mut r = Map::new();
        r.insert("destination".into(), Value::Object(dest));
        if let Some(w) = &w {
            r.insert("weight".into(), json!(w[i]));
        }
        out.push(Value::Object(r));
    }
    Ok((out, hosts))
}

fn http_route(
    ctx: &Ctx<'_>,
    r: &FlatRoute<'_>,
    cluster: &str,
    sources: &[Option<Labels>],
    subsets: &mut Subsets,
    part: &mut Part,
) -> Value {
    let mut j = Map::new();
    j.insert("name".into(), json!(r.name));
    j.insert(
        "match".into(),
        Value::Array(matches_json(&r.matchers, sources)),
    );
    let table = r.table;
    let ws = r.ws;
    let fail500 = |j: &mut Map<String, Value>| {
        // ROUTE_REPLACEMENT: "replaced with a 500 HTTP direct response" [C §5.1].
        j.insert("directResponse".into(), json!({"status": 500}));
    };
    match &r.action {
        Action::Fail => fail500(&mut j),
        Action::Direct(d) => {
            let mut dr = Map::new();
            dr.insert("status".into(), json!(d.status));
            if let Some(b) = &d.body {
                dr.insert("body".into(), json!({"string": b}));
            }
            j.insert("directResponse".into(), Value::Object(dr));
        }
        Action::Redirect(rd) => {
            let mut m = Map::new();
            if let Some(h) = &rd.host_redirect {
                m.insert("authority".into(), json!(h));
            }
            if let Some(p) = &rd.path_redirect {
                m.insert("uri".into(), json!(p));
            }
            let code = match rd.response_code.as_deref() {
                None | Some("MOVED_PERMANENTLY") => 301,
                Some("FOUND") => 302,
                Some("SEE_OTHER") => 303,
                Some("TEMPORARY_REDIRECT") => 307,
                Some("PERMANENT_REDIRECT") => 308,
                Some(other) => {
                    part.diagnostics.push(ctx.error(
                        &table.meta,
                        "redirect-code",
                        &format!("{}.redirect.responseCode", r.field),
                        format!("unknown responseCode `{other}`"),
                    ));
                    fail500(&mut j);
                    return Value::Object(j);
                }
            };
            m.insert("redirectCode".into(), json!(code));
            if m.len() == 1 {
                part.diagnostics.push(ctx.error(
                    &table.meta,
                    "redirect-empty",
                    &format!("{}.redirect", r.field),
                    "a redirect needs hostRedirect or pathRedirect",
                ));
                fail500(&mut j);
                return Value::Object(j);
            }
            j.insert("redirect".into(), Value::Object(m));
        }
        Action::Forward(f) => {
            let (dests, dfield) = match &f.destinations {
                Some(d) if !d.is_empty() => {
                    (d.clone(), format!("{}.forwardTo.destinations", r.field))
                }
                _ => match &table.spec.default_destination {
                    Some(d) => (vec![d.clone()], "spec.defaultDestination".to_string()),
                    None => {
                        part.diagnostics.push(ctx.error(&table.meta, "no-destination", &format!("{}.forwardTo", r.field),
                            "defaultDestination must be set when http forwardTo actions without destinations are specified."));
                        fail500(&mut j);
                        return Value::Object(j);
                    }
                },
            };
            let (route, hosts) =
                match route_destinations(ctx, table, &dests, &dfield, cluster, ws, subsets, part) {
                    Ok(x) => x,
                    Err(()) => {
                        fail500(&mut j);
                        return Value::Object(j);
                    }
                };
            let mut rewrite = Map::new();
            if let Some(p) = &f.path_rewrite {
                if r.matchers
                    .iter()
                    .any(|m| m.uri.as_ref().is_some_and(|u| u.regex.is_some()))
                {
                    part.diagnostics.push(ctx.error(
                        &table.meta,
                        "path-rewrite-regex",
                        &format!("{}.forwardTo.pathRewrite", r.field),
                        "pathRewrite is unsupported with regex matchers [C §5.4]",
                    ));
                    fail500(&mut j);
                    return Value::Object(j);
                }
                // Istio rejects `rewrite: {uri: ""}`; an empty rewrite strips to `/` [istio-validation.md §3.11].
                rewrite.insert(
                    "uri".into(),
                    json!(if p.is_empty() { "/" } else { p.as_str() }),
                );
            }
            if let Some(rr) = &f.regex_rewrite {
                rewrite.insert(
                    "uriRegexRewrite".into(),
                    json!({"match": rr.pattern.regex, "rewrite": rr.substitution}),
                );
            }
            if let Some(h) = &f.host_rewrite {
                rewrite.insert("authority".into(), json!(h));
            } else if f.auto_host_rewrite == Some(true) && hosts.len() == 1 {
                // Istio has no auto host rewrite; the single destination host is equivalent [I].
                rewrite.insert("authority".into(), json!(hosts[0]));
            }
            if !rewrite.is_empty() {
                j.insert("rewrite".into(), Value::Object(rewrite));
            }
            j.insert("route".into(), Value::Array(route));
            if let Some(fault) = fault_for(ctx, r) {
                j.insert("fault".into(), fault);
            }
        }
    }
    Value::Object(j)
}

/// FaultInjectionPolicy selecting the route by labels, in the route's workspace [O E5; policies
/// are not exported, they act on their own workspace's routes, C S10e].
fn fault_for(ctx: &Ctx<'_>, r: &FlatRoute<'_>) -> Option<Value> {
    if ctx.model.fault_policies.is_empty() {
        return None;
    }
    let ws = ctx.ws_of(&r.table.meta)?;
    let mut policies: Vec<_> = ctx
        .model
        .fault_policies
        .iter()
        .filter(|p| ctx.ws_of(&p.meta) == Some(ws))
        .filter(|p| {
            p.spec
                .apply_to_routes
                .iter()
                .any(|s| !s.route.labels.is_empty() && labels_match(&s.route.labels, r.labels))
        })
        .collect();
    policies
        .sort_by(|a, b| (&a.meta.namespace, &a.meta.name).cmp(&(&b.meta.namespace, &b.meta.name)));
    let p = policies.first()?;
    let mut f = Map::new();
    if let Some(d) = &p.spec.config.delay {
        f.insert("delay".into(), json!({"fixedDelay": d.fixed_delay, "percentage": {"value": whole(d.percentage.unwrap_or(100.0))}}));
    }
    if let Some(a) = &p.spec.config.abort {
        f.insert("abort".into(), json!({"httpStatus": a.http_status, "percentage": {"value": whole(a.percentage.unwrap_or(100.0))}}));
    }
    (!f.is_empty()).then_some(Value::Object(f))
}

/// A percentage as written: `100`, not `100.0`, when it is whole.
fn whole(p: f64) -> Value {
    if p.fract() == 0.0 && p.abs() < 1e15 {
        json!(p as i64)
    } else {
        json!(p)
    }
}

fn l4_destinations(
    ctx: &Ctx<'_>,
    rt: &Rt,
    f: &Option<ForwardToAction>,
    field: &str,
    cluster: &str,
    part: &mut Part,
) -> Option<Vec<Value>> {
    let ws = ctx.ws_of(&rt.meta).unwrap_or_default().to_string();
    let Some(dests) = f
        .as_ref()
        .and_then(|f| f.destinations.clone())
        .filter(|d| !d.is_empty())
    else {
        part.diagnostics.push(ctx.error(
            &rt.meta,
            "no-destination",
            &format!("{field}.forwardTo"),
            "tcp and tls routes need forwardTo with 1 to 100 destinations [C §5.6]",
        ));
        return None;
    };
    for (i, d) in dests.iter().enumerate() {
        if d.kind == DestinationKind::ExternalService && field.starts_with("spec.tcp") {
            part.diagnostics.push(ctx.error(&rt.meta, "tcp-external-service", &format!("{field}.forwardTo.destinations[{i}].kind"),
                "TCP routes support only Kubernetes Service and VirtualDestination destinations [C §2.4]"));
            return None;
        }
    }
    let mut subsets = Subsets::new();
    route_destinations(
        ctx,
        rt,
        &dests,
        &format!("{field}.forwardTo.destinations"),
        cluster,
        &ws,
        &mut subsets,
        part,
    )
    .ok()
    .map(|(r, _)| r)
}

fn tcp_routes(
    ctx: &Ctx<'_>,
    rt: &Rt,
    cluster: &str,
    sources: &[Option<Labels>],
    part: &mut Part,
) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, r) in rt.spec.tcp.as_deref().unwrap_or(&[]).iter().enumerate() {
        let field = format!("spec.tcp[{i}]");
        let Some(route) = l4_destinations(ctx, rt, &r.forward_to, &field, cluster, part) else {
            continue;
        };
        let mut matches = Vec::new();
        let ports: Vec<Option<u32>> = if r.matchers.is_empty() {
            vec![None]
        } else {
            r.matchers.iter().map(|m| m.port).collect()
        };
        for p in ports {
            for s in sources {
                let mut m = Map::new();
                if let Some(p) = p.filter(|p| *p != 0) {
                    m.insert("port".into(), json!(p));
                }
                if let Some(l) = s {
                    m.insert("sourceLabels".into(), json!(l));
                }
                if !m.is_empty() {
                    matches.push(Value::Object(m));
                }
            }
        }
        let mut j = Map::new();
        if !matches.is_empty() {
            j.insert("match".into(), Value::Array(matches));
        }
        j.insert("route".into(), Value::Array(route));
        out.push(Value::Object(j));
    }
    out
}

fn tls_routes(
    ctx: &Ctx<'_>,
    rt: &Rt,
    cluster: &str,
    sources: &[Option<Labels>],
    part: &mut Part,
) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, r) in rt.spec.tls.as_deref().unwrap_or(&[]).iter().enumerate() {
        let field = format!("spec.tls[{i}]");
        let Some(route) = l4_destinations(ctx, rt, &r.forward_to, &field, cluster, part) else {
            continue;
        };
        let mut matches = Vec::new();
        let ms: Vec<TlsRequestMatcher> = if r.matchers.is_empty() {
            vec![TlsRequestMatcher::default()]
        } else {
            r.matchers.clone()
        };
        for m in ms {
            // Istio needs sniHosts on every TLS match; Gloo's default is the table's hosts [I].
            let sni = if m.sni_hosts.is_empty() {
                rt.spec.hosts.clone()
            } else {
                m.sni_hosts.clone()
            };
            for s in sources {
                let mut j = Map::new();
                j.insert("sniHosts".into(), json!(sni));
                if let Some(p) = m.port.filter(|p| *p != 0) {
                    j.insert("port".into(), json!(p));
                }
                if let Some(l) = s {
                    j.insert("sourceLabels".into(), json!(l));
                }
                matches.push(Value::Object(j));
            }
        }
        out.push(json!({"match": matches, "route": route}));
    }
    out
}

/// A DestinationRule holding the subsets a VirtualService uses, in the VirtualService's
/// namespace (istioctl IST0101 needs it there for external hosts) [O E5, S8]. The name starts
/// with the sanitized host; Gloo's hashed suffix is not reproducible, so ours hashes
/// `<host>-<namespace>-<cluster>-<workspace>` (docs/translation.md).
fn subset_rule(
    ctx: &Ctx<'_>,
    host: &str,
    dparent: Value,
    subsets: BTreeMap<String, Value>,
    sources: Vec<SourceRef>,
    place: &Place<'_>,
) -> super::Rendered {
    let s = |k: &str| dparent[k].as_str().unwrap_or("").to_string();
    let (g, v, k, n, ns, c) = (
        s("group"),
        s("version"),
        s("kind"),
        s("name"),
        s("namespace"),
        s("cluster"),
    );
    let parent = Parent {
        group: &g,
        version: &v,
        kind: &k,
        name: &n,
        namespace: &ns,
        cluster: &c,
    };
    let name = sanitize_name_v2(&format!(
        "{host}-{}-{}-{}",
        place.namespace, place.cluster, place.workspace
    ));
    let md = metadata(&name, place, &parent, &[]);
    let spec = json!({"exportTo": ["."], "host": host, "subsets": subsets.into_values().collect::<Vec<_>>()});
    let mut sources = sources;
    sources.sort();
    ctx.object("DestinationRule", md, spec, place.cluster, sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_the_remainder_rule() {
        assert_eq!(weights(&[Some(70), Some(30)]).unwrap(), vec![70, 30]);
        assert_eq!(weights(&[Some(50), None, None]).unwrap(), vec![50, 25, 25]);
        assert_eq!(weights(&[None, None, None]).unwrap(), vec![34, 33, 33]);
        assert_eq!(weights(&[Some(99), None, None]).unwrap(), vec![99, 1, 1]);
        assert!(weights(&[Some(70), Some(40)]).is_err());
        assert!(weights(&[Some(100), None]).is_err());
        assert!(weights(&[Some(0), Some(0)]).is_err());
        assert!(weights(&[Some(20), Some(30)]).is_err());
    }

    #[test]
    fn duplicate_route_names_are_renamed() {
        let r = |n: &str| HttpRoute {
            name: n.into(),
            ..Default::default()
        };
        assert_eq!(
            unique_names(&[r("a"), r("a"), r("insecure-b"), r("a")]),
            vec!["a", "duplicate-a-1", "b", "duplicate-a-2"]
        );
    }

    #[test]
    fn delegated_matchers_must_narrow_the_parent() {
        let prefix = |p: &str| HttpRequestMatcher {
            uri: Some(StringMatch {
                prefix: Some(p.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            merge_matchers(&[prefix("/api")], &[prefix("/api/v1")]).unwrap(),
            vec![prefix("/api/v1")]
        );
        assert!(merge_matchers(&[prefix("/api")], &[prefix("/web")]).is_err());
        assert_eq!(
            merge_matchers(&[prefix("/api")], &[]).unwrap(),
            vec![prefix("/api")]
        );
    }

    #[test]
    fn specificity_orders_exact_regex_prefix() {
        let m = |u: StringMatch| {
            vec![HttpRequestMatcher {
                uri: Some(u),
                ..Default::default()
            }]
        };
        let exact = specificity(&m(StringMatch {
            exact: Some("/a".into()),
            ..Default::default()
        }));
        let regex = specificity(&m(StringMatch {
            regex: Some("/a.*".into()),
            ..Default::default()
        }));
        let long = specificity(&m(StringMatch {
            prefix: Some("/abc".into()),
            ..Default::default()
        }));
        let short = specificity(&m(StringMatch {
            prefix: Some("/".into()),
            ..Default::default()
        }));
        assert!(exact < regex && regex < long && long < short);
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches("*", "a.com"));
        assert!(host_matches("*.example.com", "api.example.com"));
        assert!(!host_matches("*.example.com", "example.org"));
        assert!(host_matches("a.com", "a.com"));
    }
}
