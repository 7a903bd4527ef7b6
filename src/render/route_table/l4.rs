//! TCP and TLS routes as Istio writes them (docs/translation.md#routetable-rules): port and SNI
//! matches from each source, and the route's destinations. A route whose destinations do not
//! resolve is left out (reported).

use super::super::{Ctx, Part};
use super::destinations::{l4_destinations, route_destinations, Subsets, Written};
use super::Rt;
use crate::diag::codes::Translate;
use crate::gloo::shared;
use crate::gloo::types::*;
use serde_json::{json, Map, Value};

/// The Istio destinations of a TCP or TLS route; `None` has been reported.
fn l4_route(
    ctx: &Ctx<'_>,
    rt: &Rt,
    f: &Option<ForwardToAction>,
    field: &str,
    cluster: &str,
    part: &mut Part,
) -> Option<Vec<Value>> {
    let ws = ctx.ws_of(&rt.meta).unwrap_or_default();
    let Some(dests) = l4_destinations(f) else {
        part.diagnostics.push(ctx.error(
            &rt.meta,
            Translate::NoDestination,
            &format!("{field}.forwardTo"),
            "tcp and tls routes need forwardTo with 1 to 100 destinations",
        ));
        return None;
    };
    for (i, d) in dests.iter().enumerate() {
        if d.kind == DestinationKind::ExternalService && field.starts_with("spec.tcp") {
            // (docs/translation.md#references-and-selectors); routetable-tcp-destinations says the
            // same.
            let at = format!("{field}.forwardTo.destinations[{i}].kind");
            let problem = shared::tcp_external_service(&at);
            part.diagnostics
                .push(problem.diagnostic(ctx.repo, rt.meta.index));
            return None;
        }
    }
    let mut subsets = Subsets::new();
    route_destinations(
        ctx,
        rt,
        Written::Route(dests),
        &format!("{field}.forwardTo.destinations"),
        None,
        cluster,
        ws,
        &mut subsets,
        part,
    )
    .ok()
    .map(|(r, _)| r)
}

/// A match with the route's port (0 or none: any port) and the calling workloads' labels added.
fn port_and_source(
    mut m: Map<String, Value>,
    port: Option<u32>,
    labels: Option<&Labels>,
) -> Map<String, Value> {
    if let Some(p) = port.filter(|p| *p != 0) {
        m.insert("port".into(), json!(p));
    }
    if let Some(l) = labels {
        m.insert("sourceLabels".into(), json!(l));
    }
    m
}

/// The table's TCP routes for output cluster `cluster`, each with its index in `spec.tcp`.
pub(super) fn tcp_routes(
    ctx: &Ctx<'_>,
    rt: &Rt,
    cluster: &str,
    sources: &[Option<Labels>],
    part: &mut Part,
) -> Vec<(usize, Value)> {
    let mut out = Vec::new();
    for (i, r) in rt.spec.tcp.as_deref().unwrap_or(&[]).iter().enumerate() {
        let field = format!("spec.tcp[{i}]");
        let Some(route) = l4_route(ctx, rt, &r.forward_to, &field, cluster, part) else {
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
                let m = port_and_source(Map::new(), p, s.as_ref());
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
        out.push((i, Value::Object(j)));
    }
    out
}

/// The table's TLS routes for output cluster `cluster`, each with its index in `spec.tls`.
pub(super) fn tls_routes(
    ctx: &Ctx<'_>,
    rt: &Rt,
    cluster: &str,
    sources: &[Option<Labels>],
    part: &mut Part,
) -> Vec<(usize, Value)> {
    let mut out = Vec::new();
    for (i, r) in rt.spec.tls.as_deref().unwrap_or(&[]).iter().enumerate() {
        let field = format!("spec.tls[{i}]");
        let Some(route) = l4_route(ctx, rt, &r.forward_to, &field, cluster, part) else {
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
                matches.push(Value::Object(port_and_source(j, m.port, s.as_ref())));
            }
        }
        out.push((i, json!({"match": matches, "route": route})));
    }
    out
}
