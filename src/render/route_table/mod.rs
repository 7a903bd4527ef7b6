//! RouteTable → VirtualService (+ DestinationRules for subsets), docs/translation.md;
//! worked examples E3, E5, E7.
//!
//! A table with hosts renders one VirtualService per place: in the namespace of each gateway
//! workload its VirtualGateways select (`gateways: [<Gateway>]`, sourceLabels of the gateway
//! pods), or, for sidecars, in every namespace where the table is visible (`gateways: [mesh]`,
//! sourceLabels from workloadSelectors). Delegated child tables render inside their parents.
//!
//! The parts, in the order [`translate`] uses them: [`placement`] (where the VirtualServices
//! go), [`delegation`] (the HTTP routes with delegation flattened), [`http`] and [`l4`] (the
//! routes as Istio writes them) and [`destinations`] (what a destination `ref` resolves to, and
//! the DestinationRules holding subsets).
//!
//! What a table reads of other objects is declared beside the code that reads it:
//! [`destination_refs`] (the destinations it resolves) and [`delegation_selectors`] (the
//! tables without hosts it delegates to, as `gloo::refs::selects` matches them).
//! `reuse::plan` reads the same. `gloo::refs` resolves both kinds of reference.

mod applied;
mod delegation;
mod destinations;
mod headers_cors;
mod http;
mod l4;
mod placement;
mod policies;

pub(crate) use delegation::delegation_selectors;
pub(crate) use destinations::{destination_refs, http_destination_refs, subset_rank, weights};
pub(crate) use headers_cors::check as check_header_cors_policies;
pub(crate) use policies::{unused_policies, PoliciesByWorkspace, UsedPolicy};

use super::names::{metadata, sanitize_name_v2, Parent, Place};
use super::{Ctx, Part, SourceRef};
use crate::diag::codes::Translate;
use crate::gloo::types::{FailureMode, RouteTableSpec};
use crate::gloo::Typed;
use crate::istio::object::{FieldAt, Origins, Template};
use applied::Applied;
use delegation::{Action, FlatRoute, Walk};
use destinations::{subset_rule, Subsets};
use placement::Instance;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

type Rt = Typed<RouteTableSpec>;

/// The annotation Gloo sets on every VirtualService; a table may not set it
/// (docs/translation.md#routetable-rules, [C]).
const CLUSTER_ANNOTATION: &str = "cluster.solo.io/cluster";

/// What every VirtualService of one table shares.
struct Table<'a> {
    rt: &'a Rt,
    /// The HTTP routes, delegation flattened.
    routes: Vec<FlatRoute<'a>>,
    /// What the route policies give each route, by route.
    applied: Vec<Applied<'a>>,
    /// The table, every child table its routes come from and the policies of `applied`.
    sources: Vec<SourceRef>,
    /// Where each table (by repo object index) is in `sources`.
    source_at: Vec<(usize, usize)>,
    /// `spec.virtualServiceAnnotations` but the reserved one.
    annotations: Vec<(String, String)>,
}

pub(crate) fn translate(ctx: &Ctx<'_>, rt: &Rt) -> Part {
    let mut part = Part::default();
    if rt.spec.hosts.is_empty() {
        return part; // a delegated (child) table: rendered inside its parents
    }
    let Some(own_ws) = own_workspace(ctx, rt, &mut part) else {
        return part;
    };
    let instances = placement::instances(ctx, rt, own_ws, &mut part);
    let mut walk = Walk::new(own_ws, rt);
    let routes = delegation::flatten(ctx, rt, &mut walk, false, &mut part);
    let applied: Vec<Applied<'_>> = if instances.is_empty() {
        Vec::new()
    } else {
        routes
            .iter()
            .map(|r| Applied::of(ctx, r, &mut part))
            .collect()
    };
    let (sources, source_at) = sources(ctx, rt, &routes, &applied);
    let table = Table {
        rt,
        sources,
        source_at,
        routes,
        applied,
        annotations: rt
            .spec
            .virtual_service_annotations
            .iter()
            .filter(|(k, _)| *k != CLUSTER_ANNOTATION)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    for ((cluster, ns), inst) in &instances {
        virtual_service(ctx, &table, cluster, ns, inst, &mut part);
    }
    if instances.values().any(|i| i.gateways.contains(MESH)) {
        mesh_wildcard(ctx, rt, &mut part);
    }
    let failure_freeze = rt.spec.failure_mode == Some(FailureMode::FreezeConfig);
    if failure_freeze
        && part
            .diagnostics
            .iter()
            .any(|d| d.severity == crate::diag::Severity::Error)
    {
        // FREEZE_CONFIG keeps the last accepted config (docs/translation.md#routetable-rules, [C]):
        // meshform has none, so it renders nothing for this table and the error stops the render
        // (docs/translation.md).
        part.objects.clear();
    }
    part
}

/// The gateway name of sidecar-bound VirtualServices.
const MESH: &str = "mesh";

/// `*` in the hosts of a table bound to sidecars: istiod rejects a VirtualService with host `*`
/// bound to the mesh gateway, and Gloo 2.6 rejects `*` in RouteTable hosts
/// (docs/translation.md#routetable--virtualservice) (docs/translation.md). Reported at the host,
/// with the hosts the table routes to (read from the VirtualServices just made) as what to write
/// instead.
fn mesh_wildcard(ctx: &Ctx<'_>, rt: &Rt, part: &mut Part) {
    let Some(i) = rt.spec.hosts.iter().position(|h| h == "*") else {
        return;
    };
    let why = if rt
        .spec
        .virtual_gateways
        .as_deref()
        .unwrap_or(&[])
        .is_empty()
    {
        "it has no virtualGateways"
    } else {
        "it sets workloadSelectors"
    };
    let mut routed: Vec<&str> = Vec::new();
    for o in part
        .objects
        .iter()
        .filter(|o| o.value["kind"] == "VirtualService")
    {
        for section in ["http", "tcp", "tls"] {
            let routes = o.value["spec"][section].as_array().map_or(&[][..], |v| v);
            for d in routes
                .iter()
                .flat_map(|r| r["route"].as_array().into_iter().flatten())
            {
                if let Some(h) = d["destination"]["host"].as_str() {
                    if !routed.contains(&h) {
                        routed.push(h);
                    }
                }
            }
        }
    }
    routed.sort_unstable();
    let instead = if routed.is_empty() {
        "a Service's `<name>.<namespace>.svc.cluster.local` or an ExternalService's host"
            .to_string()
    } else {
        let listed: Vec<String> = routed.iter().take(4).map(|h| format!("`{h}`")).collect();
        format!("{} (where this table routes to)", listed.join(", "))
    };
    let d = ctx
        .error(
            &rt.meta,
            Translate::WildcardHost,
            &format!("spec.hosts[{i}]"),
            format!(
                "host `*` is not allowed in a RouteTable that applies to sidecars ({why}): Istio \
                 rejects a VirtualService bound to the mesh gateway with host `*`, and Gloo 2.6 \
                 rejects `*` in RouteTable hosts"
            ),
        )
        .help(format!(
            "list the hostnames the clients call instead, such as {instead}; or bind the table \
             to a VirtualGateway (spec.virtualGateways) to serve it at an ingress gateway"
        ));
    part.diagnostics.push(d);
}

/// The table's workspace, with the findings on the table itself; `None` (reported) when its
/// namespace is in no workspace.
fn own_workspace<'a>(ctx: &Ctx<'a>, rt: &Rt, part: &mut Part) -> Option<&'a str> {
    let Some(own_ws) = ctx.ws_of(&rt.meta) else {
        part.diagnostics.push(ctx.warning(&rt.meta, Translate::NotInWorkspace, "metadata.namespace",
            format!("namespace {} of cluster {} is in no workspace; Gloo does not translate this RouteTable", rt.meta.namespace, rt.meta.cluster)));
        return None;
    };
    for (k, _) in &rt.spec.virtual_service_annotations {
        if k == CLUSTER_ANNOTATION {
            part.diagnostics.push(ctx.error(&rt.meta, Translate::ReservedAnnotation, "spec.virtualServiceAnnotations",
                "cluster.solo.io/cluster is set by Gloo and cannot be used in virtualServiceAnnotations"));
        }
    }
    Some(own_ws)
}

/// The sources of the table's VirtualServices: the table, the child tables of its routes and
/// the tables delegating to them, and the policies `applied` names, sorted; and where each (by repo object index) is among them.
fn sources(
    ctx: &Ctx<'_>,
    rt: &Rt,
    routes: &[FlatRoute<'_>],
    applied: &[Applied<'_>],
) -> (Vec<SourceRef>, Vec<(usize, usize)>) {
    let tables: BTreeSet<usize> = std::iter::once(&rt.meta)
        .chain(routes.iter().map(|r| &r.table.meta))
        .chain(
            routes
                .iter()
                .flat_map(|r| r.ancestors.iter().map(|(_, t)| &t.meta)),
        )
        .chain(applied.iter().flat_map(Applied::policies))
        .map(|m| m.index)
        .collect();
    let mut tagged: Vec<(SourceRef, usize)> = tables
        .iter()
        .map(|&i| {
            let o = &ctx.repo.objects[i];
            let s = SourceRef {
                id: o.id.clone(),
                location: o.location.clone(),
            };
            (s, i)
        })
        .collect();
    tagged.sort();
    let mut sources: Vec<SourceRef> = Vec::with_capacity(tagged.len());
    let mut at = Vec::with_capacity(tagged.len());
    for (s, i) in tagged {
        if sources.last() != Some(&s) {
            sources.push(s);
        }
        at.push((i, sources.len() - 1));
    }
    (sources, at)
}

impl Table<'_> {
    /// Where the table with repo object index `index` is in `sources`.
    fn source_of(&self, index: usize) -> usize {
        self.source_at
            .iter()
            .find(|(i, _)| *i == index)
            .map_or(0, |(_, at)| *at)
    }
}

/// Where a VirtualService's parts come from: its hosts from the table's, its gateways from
/// `virtualGateways`, each HTTP route from the route it flattens (in a child table when
/// delegated) and its parts from that route's ([`http_route_origins`]), a delegated route's
/// delegating routes (`spec.http[i].delegatedBy[d]`, nearest first), each TCP and TLS route
/// from the table's route of that index. `nsrc` is the number of source label sets each
/// matcher is rendered for.
fn virtual_service_origins(
    table: &Table<'_>,
    nsrc: usize,
    tcp: &[usize],
    tls: &[usize],
) -> Origins {
    let own = table.source_of(table.rt.meta.index);
    let per_route: usize = table
        .routes
        .iter()
        .map(|r| 4 + r.matchers.len() * nsrc.max(1) + r.ancestors.len())
        .sum();
    let mut o = Origins::with_capacity(2 + per_route + tcp.len() + tls.len());
    o.add(
        FieldAt::key(Template::Hosts),
        own,
        FieldAt::key(Template::Hosts),
        true,
    );
    o.add(
        FieldAt::key(Template::Gateways),
        own,
        FieldAt::key(Template::VirtualGateways),
        false,
    );
    for (i, r) in table.routes.iter().enumerate() {
        http_route_origins(&mut o, i, r, table.source_of(r.table.meta.index), nsrc);
        for (depth, (route, parent)) in r.ancestors.iter().enumerate() {
            let routes = parent.spec.http.as_deref().unwrap_or(&[]);
            if let Some(k) = routes.iter().position(|x| std::ptr::eq(x, *route)) {
                o.add(
                    FieldAt::at2(Template::HttpDelegatedBy, i, depth),
                    table.source_of(parent.meta.index),
                    FieldAt::at(Template::Http, k),
                    false,
                );
            }
        }
        if let Some(a) = table.applied.get(i) {
            let retry_timeout = a.retry_timeout.as_ref().map(|(m, _)| *m);
            let mirror = a.mirror.map(|p| &p.meta);
            for (at, from) in [
                (Template::HttpFault, a.fault.as_ref().map(|(m, _)| *m)),
                (Template::HttpTimeout, retry_timeout),
                (Template::HttpRetries, retry_timeout),
                (Template::HttpMirror, mirror),
                (Template::HttpMirrorPercentage, mirror),
                (Template::HttpHeaders, a.headers.as_ref().map(|(m, _)| *m)),
                (Template::HttpCors, a.cors.as_ref().map(|(m, _)| *m)),
            ] {
                if let Some(meta) = from {
                    o.add(
                        FieldAt::at(at, i),
                        table.source_of(meta.index),
                        FieldAt::key(Template::Config),
                        false,
                    );
                }
            }
        }
    }
    for (i, &k) in tcp.iter().enumerate() {
        o.add(
            FieldAt::at(Template::Tcp, i),
            own,
            FieldAt::at(Template::Tcp, k),
            false,
        );
    }
    for (i, &k) in tls.iter().enumerate() {
        o.add(
            FieldAt::at(Template::Tls, i),
            own,
            FieldAt::at(Template::Tls, k),
            false,
        );
    }
    o
}

/// Where the parts of rendered HTTP route `i` come from, in the table `from` (an index into
/// the sources) that `r` is written in: the route from the route; each `match` from its
/// matcher when the matchers are the route's own (rendered once per source label set, so
/// `match[k]` is `matchers[k / nsrc]`; keys below are spelled alike); the rewrite parts from
/// `forwardTo`'s `pathRewrite`, `regexRewrite` and `hostRewrite`; `redirect` and
/// `directResponse` from the route's; each `route` destination from the destination written
/// (the table's `defaultDestination` when the route lists none).
fn http_route_origins(o: &mut Origins, i: usize, r: &FlatRoute<'_>, from: usize, nsrc: usize) {
    let k = r.index;
    o.add(
        FieldAt::at(Template::Http, i),
        from,
        FieldAt::at(Template::Http, k),
        false,
    );
    if r.own_matchers {
        let nsrc = nsrc.max(1);
        for m in 0..r.matchers.len() {
            for s in 0..nsrc {
                o.add(
                    FieldAt::at2(Template::HttpMatch, i, m * nsrc + s),
                    from,
                    FieldAt::at2(Template::Matcher, k, m),
                    true,
                );
            }
        }
    }
    match &r.action {
        Action::Forward(f) => {
            if f.path_rewrite.is_some() {
                o.add(
                    FieldAt::at(Template::HttpRewriteUri, i),
                    from,
                    FieldAt::at(Template::PathRewrite, k),
                    false,
                );
            }
            if f.regex_rewrite.is_some() {
                o.add(
                    FieldAt::at(Template::HttpRewriteRegex, i),
                    from,
                    FieldAt::at(Template::RegexRewrite, k),
                    false,
                );
                o.add(
                    FieldAt::at(Template::HttpRewriteRegexMatch, i),
                    from,
                    FieldAt::at(Template::RegexRewritePattern, k),
                    false,
                );
            }
            if f.host_rewrite.is_some() {
                o.add(
                    FieldAt::at(Template::HttpRewriteAuthority, i),
                    from,
                    FieldAt::at(Template::HostRewrite, k),
                    false,
                );
            }
            match destinations::http_destinations(r.table, f) {
                Some(destinations::Written::Route(d)) => {
                    for d in 0..d.len() {
                        o.add(
                            FieldAt::at2(Template::HttpRouteDestination, i, d),
                            from,
                            FieldAt::at2(Template::Destination, k, d),
                            false,
                        );
                    }
                }
                Some(destinations::Written::Default(_)) => o.add(
                    FieldAt::at2(Template::HttpRouteDestination, i, 0),
                    from,
                    FieldAt::key(Template::DefaultDestination),
                    false,
                ),
                None => {}
            }
        }
        Action::Redirect(_) => o.add(
            FieldAt::at(Template::HttpRedirect, i),
            from,
            FieldAt::at(Template::HttpRedirect, k),
            false,
        ),
        Action::Direct(_) => o.add(
            FieldAt::at(Template::HttpDirectResponse, i),
            from,
            FieldAt::at(Template::HttpDirectResponse, k),
            true,
        ),
        Action::Fail => {}
    }
}

/// The VirtualService of one place, and the DestinationRules of the subsets it uses.
fn virtual_service(
    ctx: &Ctx<'_>,
    table: &Table<'_>,
    cluster: &str,
    ns: &str,
    inst: &Instance,
    part: &mut Part,
) {
    let rt = table.rt;
    let mut subsets = Subsets::new();
    let mut spec = Map::new();
    spec.insert("exportTo".into(), json!(["."]));
    spec.insert(
        "gateways".into(),
        json!(inst.gateways.iter().collect::<Vec<_>>()),
    );
    spec.insert("hosts".into(), json!(rt.spec.hosts));
    let http: Vec<Value> = table
        .routes
        .iter()
        .zip(&table.applied)
        .map(|(r, a)| http::http_route(ctx, r, a, cluster, &inst.sources, &mut subsets, part))
        .collect();
    if !http.is_empty() {
        spec.insert("http".into(), Value::Array(http));
    }
    let (tcp_from, tcp): (Vec<usize>, Vec<Value>) =
        l4::tcp_routes(ctx, rt, cluster, &inst.sources, part)
            .into_iter()
            .unzip();
    if !tcp.is_empty() {
        spec.insert("tcp".into(), Value::Array(tcp));
    }
    let (tls_from, tls): (Vec<usize>, Vec<Value>) =
        l4::tls_routes(ctx, rt, cluster, &inst.sources, part)
            .into_iter()
            .unzip();
    if !tls.is_empty() {
        spec.insert("tls".into(), Value::Array(tls));
    }
    let place = Place {
        cluster,
        namespace: ns,
        workspace: &inst.workspace,
    };
    let parent = Parent {
        group: "networking.gloo.solo.io",
        version: "v2",
        kind: "RouteTable",
        name: &rt.meta.name,
        namespace: &rt.meta.namespace,
        cluster: &rt.meta.cluster,
    };
    // Name pattern (docs/translation.md#generated-names, [O]):
    // routetable-<rt>-<rtNs>-<rtCluster>-<ws of the output namespace>.
    let name = sanitize_name_v2(&format!(
        "routetable-{}-{}-{}-{}",
        rt.meta.name, rt.meta.namespace, rt.meta.cluster, inst.workspace
    ));
    let md = metadata(&name, &place, &parent, &table.annotations);
    part.objects.push(
        ctx.object(
            "VirtualService",
            md,
            Value::Object(spec),
            cluster,
            table.sources.clone(),
        )
        .with_origins(virtual_service_origins(
            table,
            inst.sources.len(),
            &tcp_from,
            &tls_from,
        )),
    );
    for (host, (dparent, subs, srcs)) in &subsets {
        if let Some(rule) = subset_rule(ctx, host, dparent, subs, srcs, &place, part) {
            part.objects.push(rule);
        }
        // Gloo also writes it in the destination's namespace, owned by that namespace's
        // workspace [O E5b]; the VirtualService's copy stays, since `exportTo: ["."]` hides
        // the other from the gateway or sidecars of this namespace (docs/translation.md).
        let dest_ns = dparent["namespace"].as_str().unwrap_or("");
        if dest_ns.is_empty() || dest_ns == ns {
            continue;
        }
        if let Some(ws) = ctx.model.workspace_of(cluster, dest_ns) {
            let dest = Place {
                cluster,
                namespace: dest_ns,
                workspace: ws,
            };
            if let Some(rule) = subset_rule(ctx, host, dparent, subs, srcs, &dest, part) {
                part.objects.push(rule);
            }
        }
    }
}

/// Builders shared by the route table's tests and the reuse plan's.
#[cfg(test)]
pub(crate) mod test_support {
    use super::Rt;
    pub(crate) use crate::gloo::refs::test_support::selector;
    use crate::gloo::types::{Labels, RouteTableSpec};
    use crate::gloo::Meta;

    /// RouteTable app/www of cluster c1 with this spec.
    pub(crate) fn table(spec: RouteTableSpec) -> Rt {
        Rt {
            meta: Meta {
                index: 0,
                name: "www".into(),
                namespace: "app".into(),
                cluster: "c1".into(),
                labels: Labels::default(),
                created: None,
            },
            spec: std::sync::Arc::new(spec),
        }
    }
}
