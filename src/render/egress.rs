//! ExternalService ports routed through egress VirtualGateways (`egressGatewayRoutes` and
//! a listener's `exposedExternalServices`, [C]). Gloo's own output for egress is not
//! published; the objects follow Istio's task "Egress Gateways with TLS Origination"
//! (docs/translation.md#egress, all [I]):
//!
//! - per ExternalService host, a VirtualService bound to `mesh` and the egress Gateways: mesh
//!   traffic for the host on `portMatch` goes to the egress gateway Service (weights split
//!   evenly over several), and at the gateway to the host on the ExternalService port;
//! - per egress gateway Service, a DestinationRule with one subset per ExternalService host,
//!   ISTIO_MUTUAL with the host as SNI when the listener says ISTIO_MUTUAL;
//! - the ServiceEntry gains the `portMatch` port when no port has that number.
//!
//! The Gateway is the VirtualGateway's own (`gateway`), its servers' hosts taken from the
//! listener's `exposedExternalServices`; TLS origination at the gateway is the
//! ExternalService's own DestinationRule.

use super::gateway::{gateway_name, selected_workloads};
use super::names::{metadata, sanitize_name_v2, Parent, Place};
use super::{Ctx, GatewayWorkload, Part};
use crate::diag::codes::Translate;
use crate::gloo::refs::{selects, Candidate};
use crate::gloo::types::{
    ExternalServiceFilter, ExternalServiceSpec, Listener, ListenerTlsMode, Protocol,
    VirtualGatewaySpec,
};
use crate::gloo::Typed;
use crate::istio::object::{FieldAt, Origins, Rendered, SourceRef, Template};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// One egress gateway Service a port's mesh traffic may go to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Hop {
    /// Cluster of the gateway workload.
    cluster: String,
    /// The gateway Service's name and namespace.
    service: (String, String),
    /// The listener's port on the gateway Service.
    service_port: u32,
    /// `<namespace>/<Gateway name>`, as the VirtualService binds it.
    gateway: String,
    /// The Gateway server's port: the Service port's targetPort
    /// (docs/translation.md#virtualgateway-rules, [O]).
    server_port: u32,
    /// ISTIO_MUTUAL between sidecars and the gateway.
    mutual: bool,
}

impl Hop {
    fn service_host(&self) -> String {
        format!("{}.{}.svc.cluster.local", self.service.0, self.service.1)
    }
}

/// An ExternalService port routed through egress gateways.
#[derive(Debug)]
struct EgressPort {
    /// Index in `spec.ports`.
    index: usize,
    /// The port mesh traffic is matched on.
    port_match: u32,
    /// The ExternalService port number the gateway sends to.
    number: u32,
    /// The port's protocol (HTTP, HTTP2 or HTTPS).
    protocol: Protocol,
    /// Where mesh traffic goes, in the order of `virtualGatewayRefs`.
    hops: Vec<Hop>,
}

/// What an ExternalService routes through egress gateways (nothing for most).
#[derive(Debug, Default)]
pub(crate) struct Plan {
    ports: Vec<EgressPort>,
}

/// Checks each port's `egressGatewayRoutes` at its field and resolves the gateways, for the
/// clusters of `placements`; `None` when an error was reported.
pub(crate) fn plan(
    ctx: &Ctx<'_>,
    es: &Typed<ExternalServiceSpec>,
    placements: &[(String, String, String)],
    part: &mut Part,
) -> Option<Plan> {
    let meta = &es.meta;
    let mut ok = true;
    let mut out = Plan::default();
    let mut matched: Vec<(u32, usize)> = Vec::new();
    let mut warnings = Vec::new();
    for (i, p) in es.spec.ports.iter().enumerate() {
        let Some(r) = &p.egress_gateway_routes else {
            continue;
        };
        let at = format!("spec.ports[{i}].egressGatewayRoutes");
        let diags = &mut part.diagnostics;
        let mut fail = |code: Translate, field: &str, msg: String, help: &str| {
            diags.push(ctx.error(meta, code, field, msg).help(help.to_string()));
        };
        if es.spec.hosts.is_empty() {
            fail(
                Translate::EgressRoute,
                &at,
                "egress gateway routes need an ExternalService with hosts, not addresses".into(),
                "name the service by `hosts`, or remove `egressGatewayRoutes`",
            );
            ok = false;
            continue;
        }
        if let Some((h, host)) = es
            .spec
            .hosts
            .iter()
            .enumerate()
            .find(|(_, h)| h.contains('*'))
        {
            fail(
                Translate::EgressRoute,
                &format!("spec.hosts[{h}]"),
                format!("the wildcard host `{host}` cannot be routed through an egress gateway: the gateway forwards to a named host"),
                "list the hosts by name in an ExternalService with egress gateway routes",
            );
            ok = false;
            continue;
        }
        let protocol = match p.protocol {
            Some(pr @ (Protocol::Http | Protocol::Http2 | Protocol::Https)) => pr,
            other => {
                let (field, what) = match other {
                    Some(pr) => (format!("spec.ports[{i}].protocol"), pr.as_str().to_string()),
                    None => (format!("spec.ports[{i}]"), "unset".to_string()),
                };
                fail(
                    Translate::EgressRoute,
                    &field,
                    format!("egress gateway routes support HTTP, HTTP2 and HTTPS ports only; this port's protocol is {what}"),
                    "set the port's protocol to HTTP, HTTP2 or HTTPS, or remove `egressGatewayRoutes`",
                );
                ok = false;
                continue;
            }
        };
        let port_match = r.port_match();
        let match_field = if r.port_match.is_some() {
            format!("{at}.portMatch")
        } else {
            at.clone()
        };
        if let Some((_, j)) = matched.iter().find(|(m, _)| *m == port_match) {
            fail(
                Translate::EgressRoute,
                &match_field,
                format!("portMatch {port_match} is also that of spec.ports[{j}]; it must be unique for each port"),
                "give each port routed through an egress gateway its own portMatch (the default is 80)",
            );
            ok = false;
            continue;
        }
        matched.push((port_match, i));
        if let Some((j, _)) =
            es.spec.ports.iter().enumerate().find(|(j, q)| {
                *j != i && q.number == port_match && q.egress_gateway_routes.is_none()
            })
        {
            warnings.push(
                ctx.warning(
                    meta,
                    Translate::EgressRoute,
                    &match_field,
                    format!("portMatch {port_match} is the number of spec.ports[{j}], which is not routed through an egress gateway: requests to it may not be routed through the egress gateway"),
                )
                .help("choose a portMatch no other port of the ExternalService uses"),
            );
        }
        if r.virtual_gateway_refs.is_empty() {
            fail(
                Translate::EgressRoute,
                &at,
                "egressGatewayRoutes names no VirtualGateway".into(),
                "list the egress VirtualGateways in `virtualGatewayRefs`",
            );
            ok = false;
            continue;
        }
        let mut hops = Vec::new();
        let mut refs_ok = true;
        for (j, vref) in r.virtual_gateway_refs.iter().enumerate() {
            let field = format!("{at}.virtualGatewayRefs[{j}]");
            let ns = if vref.namespace.is_empty() {
                &meta.namespace
            } else {
                &vref.namespace
            };
            let cl = if vref.cluster.is_empty() {
                &meta.cluster
            } else {
                &vref.cluster
            };
            let Some(vg) = ctx.model.virtual_gateway(cl, ns, &vref.name) else {
                fail(
                    Translate::UnresolvedVirtualGateway,
                    &field,
                    format!(
                        "VirtualGateway {ns}/{} in cluster {cl} does not exist",
                        vref.name
                    ),
                    "name an existing egress VirtualGateway (name, namespace, cluster)",
                );
                ok = false;
                refs_ok = false;
                continue;
            };
            let own_ws = ctx.ws_of(meta).unwrap_or_default();
            let vg_ws = ctx.ws_of(&vg.meta);
            if !vg_ws.is_some_and(|w| ctx.model.workspaces.visible(meta, "ExternalService", w)) {
                let ws = vg_ws.unwrap_or("(none)");
                fail(
                    Translate::NotVisibleToGateway,
                    &field,
                    format!("this ExternalService is not visible in workspace `{ws}` of VirtualGateway {ns}/{}: the egress gateway would have no ServiceEntry for it", vref.name),
                    &format!("export it from workspace `{own_ws}` and import it into `{ws}`"),
                );
                ok = false;
                refs_ok = false;
                continue;
            }
            let exposing = vg
                .spec
                .listeners
                .iter()
                .enumerate()
                .find(|(_, l)| l.http.is_some() && exposes(ctx, vg, l, es));
            let Some((li, l)) = exposing else {
                fail(
                    Translate::EgressNotExposed,
                    &field,
                    format!("no HTTP listener of VirtualGateway {ns}/{} exposes this ExternalService: its exposedExternalServices do not select every host ({})", vref.name, es.spec.hosts.join(", ")),
                    "add the hosts (or a selector for this ExternalService) to the listener's exposedExternalServices, or route through a VirtualGateway that exposes it",
                );
                ok = false;
                refs_ok = false;
                continue;
            };
            let mutual = match l.tls.as_ref().map(|t| t.mode.unwrap_or_default()) {
                None => false,
                Some(ListenerTlsMode::IstioMutual) => true,
                Some(m) => {
                    fail(
                        Translate::EgressRoute,
                        &field,
                        format!("listener {li} of VirtualGateway {ns}/{} has TLS mode {}; from sidecars to an egress gateway meshform renders ISTIO_MUTUAL or plain HTTP", vref.name, m.as_str()),
                        "set the egress listener's tls.mode to ISTIO_MUTUAL, or remove its tls",
                    );
                    ok = false;
                    refs_ok = false;
                    continue;
                }
            };
            for (cluster, gns, workloads) in selected_workloads(ctx, vg) {
                if !ctx.selected(&cluster) {
                    continue;
                }
                let Some(gws) = ctx.model.workspace_of(&cluster, &gns) else {
                    continue;
                };
                let gateway = format!("{gns}/{}", gateway_name(&vg.meta, &gns, gws));
                for w in workloads {
                    let Some((service_port, server_port)) = listener_port(l, w) else {
                        // The VirtualGateway's own translation reports the port.
                        continue;
                    };
                    let hop = Hop {
                        cluster: cluster.clone(),
                        service: (w.name.clone(), w.namespace.clone()),
                        service_port,
                        gateway: gateway.clone(),
                        server_port,
                        mutual,
                    };
                    if !hops.contains(&hop) {
                        hops.push(hop);
                    }
                }
            }
        }
        let clusters: BTreeSet<&str> = placements.iter().map(|(c, _, _)| c.as_str()).collect();
        for c in clusters {
            if refs_ok && !hops.iter().any(|h| h.cluster == c) {
                fail(
                    Translate::NoEgressGateway,
                    &format!("{at}.virtualGatewayRefs"),
                    format!("no egress gateway of these VirtualGateways is in cluster {c}, where this ExternalService is used: its traffic there would leave the mesh without the egress gateway"),
                    &format!("declare the egress gateway Service of cluster {c} in meshform.yaml `clusters[].gateways` (or add its manifest), selected by one of these VirtualGateways"),
                );
                ok = false;
            }
        }
        // At the gateway the routes of two ports meet on one listener with the same match,
        // and the second would never be taken.
        let shared = out.ports.iter().find(|q| {
            q.hops.iter().any(|a| {
                hops.iter()
                    .any(|b| a.gateway == b.gateway && a.server_port == b.server_port)
            })
        });
        if let Some(q) = shared {
            fail(
                Translate::EgressRoute,
                &format!("{at}.virtualGatewayRefs"),
                format!("spec.ports[{}] already goes through the same egress gateway listener: at the gateway both ports' requests match one route, so this port's would be sent to port {}", q.index, q.number),
                "route the two ports through different egress listeners (another listener port or VirtualGateway)",
            );
            ok = false;
        }
        out.ports.push(EgressPort {
            index: i,
            port_match,
            number: p.number,
            protocol,
            hops,
        });
    }
    part.diagnostics.extend(warnings);
    ok.then_some(out)
}

/// The listener's port on a gateway Service and its targetPort, as the VirtualGateway's
/// translation finds them.
fn listener_port(l: &Listener, w: &GatewayWorkload) -> Option<(u32, u32)> {
    let sel = l.port.as_ref()?;
    let found = w
        .ports
        .iter()
        .find(|(n, p, _)| sel.number == Some(*p) || sel.name.as_deref() == Some(n.as_str()));
    match found {
        Some((_, p, t)) => Some((*p, *t)),
        None if w.ports.is_empty() => sel.number.map(|n| (n, n)),
        None => None,
    }
}

/// True if the listener exposes every host of the ExternalService: no `exposedExternalServices`
/// exposes all (docs/translation.md#virtualgateway-rules, [C]); else some entry matches each host.
fn exposes(
    ctx: &Ctx<'_>,
    vg: &Typed<VirtualGatewaySpec>,
    l: &Listener,
    es: &Typed<ExternalServiceSpec>,
) -> bool {
    let filters = l.exposed_external_services.as_deref().unwrap_or(&[]);
    filters.is_empty()
        || es
            .spec
            .hosts
            .iter()
            .all(|h| filters.iter().any(|f| filter_matches(ctx, vg, f, es, h)))
}

/// An `exposedExternalServices` entry against one host of an ExternalService: the host
/// pattern (with its optional `namespace/` prefix, `*` any, `.` the VirtualGateway's) and
/// the selector, when set.
fn filter_matches(
    ctx: &Ctx<'_>,
    vg: &Typed<VirtualGatewaySpec>,
    f: &ExternalServiceFilter,
    es: &Typed<ExternalServiceSpec>,
    host: &str,
) -> bool {
    let (ns, pattern) = f.host.split_once('/').unwrap_or(("*", f.host.as_str()));
    let ns_ok = match ns {
        "*" => true,
        "." => es.meta.namespace == vg.meta.namespace,
        n => n == es.meta.namespace,
    };
    ns_ok
        && host_matches(pattern, host)
        && f.selector.as_ref().is_none_or(|s| {
            selects(s, &Candidate::of(&es.meta), |w| {
                ctx.ws_of(&es.meta) == Some(w)
            })
        })
}

/// `*`, `*.example.com` or an exact host.
fn host_matches(pattern: &str, host: &str) -> bool {
    pattern == "*"
        || pattern == host
        || pattern
            .strip_prefix('*')
            .is_some_and(|suffix| host.ends_with(suffix))
}

/// The hosts an egress listener's Gateway server serves: its `exposedExternalServices` hosts
/// without their `namespace/` prefix, which names the ExternalServices' namespace, not the
/// VirtualServices' a Gateway's would [I].
pub(crate) fn exposed_hosts(l: &Listener) -> impl Iterator<Item = &str> + '_ {
    l.exposed_external_services
        .iter()
        .flatten()
        .filter(|f| !f.host.is_empty())
        .map(|f| f.host.split_once('/').map_or(f.host.as_str(), |(_, h)| h))
}

/// The ServiceEntry ports mesh traffic is matched on: `portMatch` of each egress port that no
/// port of the ExternalService has, plain HTTP (HTTP2 for an HTTP2 port), since the gateway
/// originates the TLS [I].
pub(crate) fn mesh_ports(plan: &Plan, es: &Typed<ExternalServiceSpec>, target: bool) -> Vec<Value> {
    plan.ports
        .iter()
        .filter(|p| !es.spec.ports.iter().any(|q| q.number == p.port_match))
        .map(|p| {
            let proto = if p.protocol == Protocol::Http2 {
                "HTTP2"
            } else {
                "HTTP"
            };
            let mut m = Map::new();
            m.insert(
                "name".into(),
                json!(format!("http-egress-{}", p.port_match)),
            );
            m.insert("number".into(), json!(p.port_match));
            m.insert("protocol".into(), json!(proto));
            if target {
                m.insert("targetPort".into(), json!(p.port_match));
            }
            Value::Object(m)
        })
        .collect()
}

/// The subset of the egress gateway's DestinationRule for one host of an ExternalService.
fn subset_name(es: &Typed<ExternalServiceSpec>, host: &str) -> String {
    let m = &es.meta;
    sanitize_name_v2(&format!("{}-{}-{}-{host}", m.name, m.namespace, m.cluster))
}

/// Weights split evenly over `n` destinations, the remainder to the first ones; none for one.
fn even_weights(n: usize) -> Vec<Option<u32>> {
    if n <= 1 {
        return vec![None; n];
    }
    // All unweighted: the even split of a forwardTo's destinations.
    super::route_table::weights(&vec![None; n])
        .map(|w| w.into_iter().map(Some).collect())
        .unwrap_or_else(|_| vec![None; n])
}

/// The egress objects of one placement of the ExternalService: a VirtualService per host and a
/// DestinationRule per egress gateway Service in the placement's cluster.
pub(crate) fn objects(
    ctx: &Ctx<'_>,
    es: &Typed<ExternalServiceSpec>,
    plan: &Plan,
    place: &Place<'_>,
    parent: &Parent<'_>,
    out: &mut Vec<Rendered>,
) {
    if plan.ports.is_empty() {
        return;
    }
    let meta = &es.meta;
    let source: Vec<SourceRef> = vec![ctx.source(meta)];
    let hops_here = |p: &EgressPort| -> Vec<Hop> {
        p.hops
            .iter()
            .filter(|h| h.cluster == place.cluster)
            .cloned()
            .collect()
    };
    for (hi, host) in es.spec.hosts.iter().enumerate() {
        let subset = subset_name(es, host);
        let mut gateways = BTreeSet::new();
        let mut http = Vec::new();
        let mut origins = Origins::with_capacity(1 + 2 * plan.ports.len());
        origins.add(
            FieldAt::key(Template::Hosts),
            0,
            FieldAt::at(Template::HostAt, hi),
            false,
        );
        for p in &plan.ports {
            let hops = hops_here(p);
            // Mesh side: to the egress gateway Services, each once.
            let mut services: Vec<(String, u32)> = Vec::new();
            for h in &hops {
                let s = (h.service_host(), h.service_port);
                if !services.contains(&s) {
                    services.push(s);
                }
            }
            let route: Vec<Value> = services
                .iter()
                .zip(even_weights(services.len()))
                .map(|((svc, port), w)| {
                    let mut r = Map::new();
                    r.insert(
                        "destination".into(),
                        json!({"host": svc, "port": {"number": port}, "subset": subset}),
                    );
                    if let Some(w) = w {
                        r.insert("weight".into(), json!(w));
                    }
                    Value::Object(r)
                })
                .collect();
            origins.add(
                FieldAt::at(Template::Http, http.len()),
                0,
                FieldAt::at(Template::PortAt, p.index),
                false,
            );
            http.push(json!({
                "match": [{"gateways": ["mesh"], "port": p.port_match}],
                "route": route,
            }));
            // Gateway side: to the host on the ExternalService port.
            let mut matches: Vec<(String, u32)> = Vec::new();
            for h in &hops {
                let m = (h.gateway.clone(), h.server_port);
                if !matches.contains(&m) {
                    matches.push(m);
                }
                gateways.insert(h.gateway.clone());
            }
            let matches: Vec<Value> = matches
                .into_iter()
                .map(|(g, port)| json!({"gateways": [g], "port": port}))
                .collect();
            origins.add(
                FieldAt::at(Template::Http, http.len()),
                0,
                FieldAt::at(Template::PortAt, p.index),
                false,
            );
            http.push(json!({
                "match": matches,
                "route": [{"destination": {"host": host, "port": {"number": p.number}}}],
            }));
        }
        let mut bound = vec!["mesh".to_string()];
        bound.extend(gateways);
        // Named like the host's DestinationRule (docs/translation.md#egress):
        // externalservice-<es>-<esNs>-<esCluster>-<host>-<ws>.
        let name = sanitize_name_v2(&format!(
            "externalservice-{}-{}-{}-{}-{}",
            meta.name, meta.namespace, meta.cluster, host, place.workspace
        ));
        let md = metadata(&name, place, parent, &[]);
        let spec = json!({"exportTo": ["."], "gateways": bound, "hosts": [host], "http": http});
        out.push(
            ctx.object("VirtualService", md, spec, place.cluster, source.clone())
                .with_origins(origins),
        );
    }
    // One DestinationRule per egress gateway Service, with a subset per host.
    let mut services: BTreeSet<(String, String)> = BTreeSet::new();
    for p in &plan.ports {
        for h in hops_here(p) {
            services.insert(h.service.clone());
        }
    }
    for (svc, svc_ns) in services {
        let svc_host = format!("{svc}.{svc_ns}.svc.cluster.local");
        let mut subsets = Vec::new();
        for host in &es.spec.hosts {
            let mut settings = Vec::new();
            let mut seen = BTreeSet::new();
            for p in &plan.ports {
                for h in hops_here(p) {
                    if h.service.0 == svc
                        && h.service.1 == svc_ns
                        && h.mutual
                        && seen.insert(h.service_port)
                    {
                        settings.push(json!({
                            "port": {"number": h.service_port},
                            "tls": {"mode": "ISTIO_MUTUAL", "sni": host},
                        }));
                    }
                }
            }
            let mut s = Map::new();
            s.insert("name".into(), json!(subset_name(es, host)));
            if !settings.is_empty() {
                s.insert(
                    "trafficPolicy".into(),
                    json!({"portLevelSettings": settings}),
                );
            }
            subsets.push(Value::Object(s));
        }
        subsets.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        let first = plan.ports.first().map_or(0, |p| p.index);
        let mut origins = Origins::with_capacity(subsets.len());
        for k in 0..subsets.len() {
            origins.add(
                FieldAt::at(Template::Subset, k),
                0,
                FieldAt::at(Template::PortAt, first),
                false,
            );
        }
        // The gateway Service's rule, named as subset rules are: <host>-<ns>-<cluster>-<ws>.
        let name = sanitize_name_v2(&format!(
            "{svc_host}-{}-{}-{}",
            place.namespace, place.cluster, place.workspace
        ));
        let svc_parent = Parent {
            group: "",
            version: "v1",
            kind: "Service",
            name: &svc,
            namespace: &svc_ns,
            cluster: place.cluster,
        };
        let md = metadata(&name, place, &svc_parent, &[]);
        let spec = json!({"exportTo": ["."], "host": svc_host, "subsets": subsets});
        out.push(
            ctx.object("DestinationRule", md, spec, place.cluster, source.clone())
                .with_origins(origins),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_split_evenly() {
        assert_eq!(even_weights(1), vec![None]);
        assert_eq!(even_weights(2), vec![Some(50), Some(50)]);
        assert_eq!(even_weights(3), vec![Some(34), Some(33), Some(33)]);
        assert_eq!(
            even_weights(6),
            vec![Some(17), Some(17), Some(17), Some(17), Some(16), Some(16)]
        );
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches("*", "httpbin.org"));
        assert!(host_matches("*.example.com", "api.example.com"));
        assert!(!host_matches("*.example.com", "example.org"));
        assert!(host_matches("httpbin.org", "httpbin.org"));
        assert!(!host_matches("httpbin.org", "www.httpbin.org"));
    }
}
