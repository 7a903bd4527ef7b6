//! VirtualGateway → Gateway (gloo-translation.md §7, §9.6; worked example E6).

use super::names::{metadata, sanitize_name_v2, Parent, Place};
use super::{Ctx, GatewayWorkload, Part};
use crate::diag::codes::Translate;
use crate::gloo::types::{Labels, Listener, VirtualGatewaySpec};
use crate::gloo::{labels_match, Meta, Typed};
use crate::istio::object::{FieldAt, Origins, Template};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The Gateway name. Gloo hashes a string starting `virtualgateway-<vg>-<vgNs>` whose rest is
/// not public [§9.2]; meshform hashes `virtualgateway-<vg>-<vgNs>-<vgCluster>-<ns>-<ws>`, which
/// keeps that prefix and is stable (docs/translation.md).
pub(crate) fn gateway_name(vg: &Meta, ns: &str, ws: &str) -> String {
    sanitize_name_v2(&format!(
        "virtualgateway-{}-{}-{}-{}-{}",
        vg.name, vg.namespace, vg.cluster, ns, ws
    ))
}

/// Gateway workloads a VirtualGateway selects, grouped by (cluster, namespace). Labels are
/// matched against the gateway Service's spec.selector; a nil `workloads` selects all gateways,
/// a nil selector none; workloads must be in the VirtualGateway's workspace [C §7].
pub(crate) fn selected_workloads<'c>(
    ctx: &'c Ctx<'_>,
    vg: &Typed<VirtualGatewaySpec>,
) -> Vec<(String, String, Vec<&'c GatewayWorkload>)> {
    let vg_ws = ctx.ws_of(&vg.meta);
    let mut groups: BTreeMap<(String, String), Vec<&GatewayWorkload>> = BTreeMap::new();
    for g in &ctx.gateways {
        if ctx.model.workspace_of(&g.cluster, &g.namespace) != vg_ws {
            continue;
        }
        let hit = match &vg.spec.workloads {
            None => true,
            Some(ws) => ws.iter().any(|w| match &w.selector {
                None => false,
                Some(s) => {
                    (s.cluster.is_empty() || s.cluster == g.cluster)
                        && (s.namespace.is_empty() || s.namespace == g.namespace)
                        && (s.name.is_empty() || s.name == g.name)
                        && (labels_match(&s.labels, &g.selector)
                            || (!g.labels.is_empty() && labels_match(&s.labels, &g.labels)))
                }
            }),
        };
        if hit {
            groups
                .entry((g.cluster.clone(), g.namespace.clone()))
                .or_default()
                .push(g);
        }
    }
    groups.into_iter().map(|((c, n), v)| (c, n, v)).collect()
}

/// The listener's Istio protocol: appProtocol, else inferred from http/tcp and tls [C §7].
fn protocol(l: &Listener) -> String {
    if let Some(p) = l.app_protocol {
        return p.as_str().into();
    }
    match (l.tcp.is_some(), l.tls.is_some()) {
        (true, true) => "TLS",
        (true, false) => "TCP",
        (false, true) => "HTTPS",
        (false, false) => "HTTP",
    }
    .into()
}

fn server_tls(l: &Listener) -> Option<Value> {
    if l.https_redirect == Some(true) {
        return Some(json!({"httpsRedirect": true}));
    }
    let t = l.tls.as_ref()?;
    let mut m = Map::new();
    // The listener TLS mode defaults to PASSTHROUGH (enum value 0) [C §7].
    m.insert("mode".into(), json!(t.mode.unwrap_or_default().as_str()));
    if let Some(s) = &t.secret_name {
        m.insert("credentialName".into(), json!(s));
    }
    if let Some(f) = &t.files {
        for (k, v) in [
            ("serverCertificate", &f.server_cert),
            ("privateKey", &f.private_key),
            ("caCertificates", &f.ca_certs),
        ] {
            if !v.is_empty() {
                m.insert(k.into(), json!(v));
            }
        }
    }
    if !t.verify_subject_alt_name.is_empty() {
        m.insert("subjectAltNames".into(), json!(t.verify_subject_alt_name));
    }
    if let Some(p) = &t.parameters {
        if let Some(v) = p.min_protocol_version {
            m.insert("minProtocolVersion".into(), json!(v.as_str()));
        }
        if let Some(v) = p.max_protocol_version {
            m.insert("maxProtocolVersion".into(), json!(v.as_str()));
        }
        if !p.cipher_suites.is_empty() {
            m.insert("cipherSuites".into(), json!(p.cipher_suites));
        }
    }
    Some(Value::Object(m))
}

fn pod_selector(workloads: &[&GatewayWorkload]) -> Labels {
    let mut it = workloads.iter();
    let Some(first) = it.next() else {
        return Labels::new();
    };
    let mut sel = first.pod_labels.clone();
    for w in it {
        // Several gateway workloads in one namespace share one Gateway: its selector is what
        // their pods have in common [I].
        sel.retain(|k, v| w.pod_labels.get(k) == Some(v));
    }
    sel.sort_keys();
    sel
}

pub(crate) fn translate(ctx: &Ctx<'_>, vg: &Typed<VirtualGatewaySpec>) -> Part {
    let mut part = Part::default();
    let meta = &vg.meta;
    if ctx.ws_of(meta).is_none() {
        part.diagnostics.push(ctx.warning(meta, Translate::NotInWorkspace, "metadata.namespace",
            format!("namespace {} of cluster {} is in no workspace; Gloo does not translate this VirtualGateway", meta.namespace, meta.cluster)));
        return part;
    }
    let groups = selected_workloads(ctx, vg);
    if groups.is_empty() {
        part.diagnostics.push(ctx.warning(meta, Translate::NoGatewayWorkload, "spec.workloads",
            "selects no gateway workload: declare the gateway Service in meshform.yaml `clusters[].gateways` or add its manifest"));
        return part;
    }
    let parent = Parent {
        group: "networking.gloo.solo.io",
        version: "v2",
        kind: "VirtualGateway",
        name: &meta.name,
        namespace: &meta.namespace,
        cluster: &meta.cluster,
    };
    for (cluster, ns, workloads) in groups {
        if !ctx.selected(&cluster) {
            continue;
        }
        let Some(ws) = ctx.model.workspace_of(&cluster, &ns) else {
            continue;
        };
        let mut servers = Vec::new();
        // Each server comes from its listener.
        let mut origins = Origins::with_capacity(vg.spec.listeners.len());
        let mut seen = BTreeSet::new();
        for (i, l) in vg.spec.listeners.iter().enumerate() {
            let field = format!("spec.listeners[{i}].port");
            let Some(sel) = &l.port else {
                part.diagnostics.push(ctx.error(
                    meta,
                    Translate::ListenerPort,
                    &field,
                    "a listener needs a port [C §7]",
                ));
                continue;
            };
            // The listener port is a port of the gateway Service; the server listens on its
            // targetPort (80 → 8080 in E6) [O S7 lab8].
            let svc_port = workloads[0].ports.iter().find(|(n, p, _)| {
                sel.number.is_some_and(|x| x == *p) || sel.name.as_ref().is_some_and(|x| x == n)
            });
            let target = match (svc_port, sel.number) {
                (Some((_, _, t)), _) => *t,
                (None, Some(n)) if workloads[0].ports.is_empty() => n,
                _ => {
                    part.diagnostics.push(ctx.error(
                        meta,
                        Translate::ListenerPort,
                        &field,
                        format!(
                                "gateway Service {}/{} in cluster {cluster} has no port {}",
                                ns,
                                workloads[0].name,
                                sel.number
                                    .map(|n| n.to_string())
                                    .or(sel.name.clone())
                                    .unwrap_or_default()
                            ),
                    ));
                    continue;
                }
            };
            let proto = protocol(l);
            let mut hosts: Vec<String> = l
                .allowed_route_tables
                .iter()
                .flatten()
                .filter_map(|a| a.host.clone())
                .collect();
            if hosts.is_empty() {
                // An egress listener serves the hosts it exposes (the listener's "first host"
                // comes from exposedExternalServices when it has no allowedRouteTables [C §7]).
                hosts.extend(super::egress::exposed_hosts(l));
            }
            hosts.dedup();
            if hosts.is_empty() {
                hosts.push("*".into());
            }
            for h in hosts {
                // Port name `<protocol>-<targetPort>-<host or all>` [O S7 lab8, S9].
                let host_part = if h == "*" {
                    "all".to_string()
                } else {
                    h.replace(['.', '*'], "-").trim_matches('-').to_string()
                };
                if !seen.insert((target, proto.clone(), h.clone())) {
                    part.diagnostics.push(ctx.error(meta, Translate::DuplicateListener, &format!("spec.listeners[{i}]"),
                        format!("port {target} with protocol {proto} and host {h} is already served by another listener [C §7]")));
                    continue;
                }
                let mut s = Map::new();
                s.insert("hosts".into(), json!([h]));
                s.insert("port".into(), json!({"name": format!("{}-{target}-{host_part}", proto.to_lowercase()), "number": target, "protocol": proto}));
                if let Some(t) = server_tls(l) {
                    s.insert("tls".into(), t);
                }
                origins.add(
                    FieldAt::at(Template::Server, servers.len()),
                    0,
                    FieldAt::at(Template::Listener, i),
                    false,
                );
                servers.push(Value::Object(s));
            }
        }
        let place = Place {
            cluster: &cluster,
            namespace: &ns,
            workspace: ws,
        };
        let name = gateway_name(meta, &ns, ws);
        let md = metadata(&name, &place, &parent, &[]);
        let spec = json!({"selector": pod_selector(&workloads), "servers": servers});
        part.objects.push(
            ctx.object("Gateway", md, spec, &cluster, vec![ctx.source(meta)])
                .with_origins(origins),
        );
    }
    part
}
