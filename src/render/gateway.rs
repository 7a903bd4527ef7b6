//! VirtualGateway → Gateway (docs/translation.md, same title; worked example E6).

use super::names::{metadata, sanitize_name_v2, Parent, Place};
use super::{Ctx, GatewayWorkload, Part};
use crate::diag::codes::Translate;
use crate::gloo::types::{Labels, Listener, VirtualGatewaySpec};
use crate::gloo::{labels_match, Meta, Typed};
use crate::istio::object::{FieldAt, Origins, Template};
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The Gateway name. Gloo hashes a string starting `virtualgateway-<vg>-<vgNs>` whose rest is not
/// public (docs/translation.md#names-that-gloo-hashes); meshform hashes
/// `virtualgateway-<vg>-<vgNs>-<vgCluster>-<ns>-<ws>`, which keeps that prefix and is stable
/// (docs/translation.md).
pub(crate) fn gateway_name(vg: &Meta, ns: &str, ws: &str) -> String {
    sanitize_name_v2(&format!(
        "virtualgateway-{}-{}-{}-{}-{}",
        vg.name, vg.namespace, vg.cluster, ns, ws
    ))
}

/// Gateway workloads a VirtualGateway selects, grouped by (cluster, namespace). Labels are matched
/// against the gateway Service's spec.selector; a nil `workloads` selects all gateways, a nil
/// selector none; workloads must be in the VirtualGateway's workspace
/// (docs/translation.md#virtualgateway-rules, [C]).
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

/// The listener's Istio protocol: appProtocol, else inferred from http/tcp and tls
/// (docs/translation.md#virtualgateway-rules, [C]).
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
    // The listener TLS mode defaults to PASSTHROUGH (enum value 0)
    // (docs/translation.md#virtualgateway-rules, [C]).
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
        // Gloo's `TLSv1_2` is Istio's `TLSV1_2` [C virtual_gateway.proto, Istio's
        // ServerTLSSettings].
        if let Some(v) = p.minimum_protocol_version {
            m.insert("minProtocolVersion".into(), json!(v.istio()));
        }
        if let Some(v) = p.maximum_protocol_version {
            m.insert("maxProtocolVersion".into(), json!(v.istio()));
        }
        if !p.cipher_suites.is_empty() {
            m.insert("cipherSuites".into(), json!(p.cipher_suites));
        }
    }
    Some(Value::Object(m))
}

/// The port names of a Gateway's servers, from each server's (lower-case protocol, port
/// number, host). A name is `<protocol>-<number>-<host>`, the host's `.` and `*` written `-`
/// and `*` alone written `all` [O `http-8080-all`, `https-8443-workspace-1-domain-1-com`].
/// Hosts that give one name (`*.a.com` and `a.com`, `a-b.com` and `a.b.com`) each add the
/// first 8 hex digits of the MD5 of the host, and a name over 63 characters keeps 54 and adds
/// them, so names are unique in a Gateway (istiod's `ValidateGateway`) and valid port names,
/// and depend on the set of servers, not their order [I] (docs/translation.md).
fn port_names(keys: &[(String, u32, &str)]) -> Vec<String> {
    let base: Vec<String> = keys
        .iter()
        .map(|(proto, n, host)| {
            let slug = if *host == "*" {
                "all".to_string()
            } else {
                host.chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect::<String>()
                    .trim_matches('-')
                    .to_string()
            };
            format!("{proto}-{n}-{slug}")
        })
        .collect();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for b in &base {
        *count.entry(b).or_default() += 1;
    }
    let mut names: Vec<String> = base
        .iter()
        .zip(keys)
        .map(|(b, (_, _, host))| {
            if count[b.as_str()] == 1 && b.len() <= 63 {
                return b.clone();
            }
            let digest = Md5::digest(host.as_bytes());
            let hex: String = digest.iter().take(4).map(|x| format!("{x:02x}")).collect();
            let head = b.get(..b.len().min(54)).unwrap_or(b).trim_end_matches('-');
            format!("{head}-{hex}")
        })
        .collect();
    // Two hosts whose hashes meet (or a host spelling another's suffixed name) are numbered
    // in host order, so nothing ever repeats.
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| (&names[a], keys[a].2).cmp(&(&names[b], keys[b].2)));
    let mut used: BTreeSet<String> = BTreeSet::new();
    for i in order {
        let mut k = 2;
        let mut candidate = names[i].clone();
        while used.contains(&candidate) {
            let suffix = format!("-{k}");
            let head = names[i]
                .get(..names[i].len().min(63 - suffix.len()))
                .unwrap_or(&names[i]);
            candidate = format!("{head}{suffix}");
            k += 1;
        }
        used.insert(candidate.clone());
        names[i] = candidate;
    }
    names
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
        // (protocol, number, host) of each server, for its port name.
        let mut keys: Vec<(String, u32, &str)> = Vec::new();
        for (i, l) in vg.spec.listeners.iter().enumerate() {
            let field = format!("spec.listeners[{i}].port");
            let Some(sel) = &l.port else {
                part.diagnostics.push(ctx.error(
                    meta,
                    Translate::ListenerPort,
                    &field,
                    "a listener needs a port",
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
            // One server per DNS name; the namespace part of `ns/host` only restricts which
            // RouteTables bind (route_table::placement), since their VirtualServices are
            // written in the gateway's namespace [I].
            // Each host with the index of the allowedRouteTables entry that first names it.
            let mut hosts: Vec<(&str, Option<usize>)> = Vec::new();
            for (j, a) in l.allowed_route_tables.iter().flatten().enumerate() {
                if let Some((_, h)) = a.namespace_and_host() {
                    if !hosts.iter().any(|(x, _)| *x == h) {
                        hosts.push((h, Some(j)));
                    }
                }
            }
            if hosts.is_empty() {
                // An egress listener serves the hosts it exposes (the listener's "first host" comes
                // from exposedExternalServices when it has no allowedRouteTables,
                // docs/translation.md#virtualgateway-rules).
                for h in super::egress::exposed_hosts(l) {
                    if !hosts.iter().any(|(x, _)| *x == h) {
                        hosts.push((h, None));
                    }
                }
            }
            if hosts.is_empty() {
                hosts.push(("*", None));
            }
            for (h, entry) in hosts {
                if !seen.insert((target, proto.clone(), h.to_string())) {
                    part.diagnostics.push(ctx.error(meta, Translate::DuplicateListener, &format!("spec.listeners[{i}]"),
                        format!("port {target} with protocol {proto} and host {h} is already served by another listener")));
                    continue;
                }
                let mut s = Map::new();
                s.insert("hosts".into(), json!([h]));
                s.insert("port".into(), json!({"number": target, "protocol": proto}));
                if let Some(t) = server_tls(l) {
                    s.insert("tls".into(), t);
                }
                let at = servers.len();
                origins.add(
                    FieldAt::at(Template::Server, at),
                    0,
                    FieldAt::at(Template::Listener, i),
                    false,
                );
                if let Some(j) = entry {
                    origins.add(
                        FieldAt::at(Template::ServerHosts, at),
                        0,
                        FieldAt::at2(Template::ListenerHost, i, j),
                        false,
                    );
                }
                if l.tls.is_some() {
                    origins.add(
                        FieldAt::at(Template::ServerTls, at),
                        0,
                        FieldAt::at(Template::ListenerTls, i),
                        false,
                    );
                }
                servers.push(Value::Object(s));
                keys.push((proto.to_lowercase(), target, h));
            }
        }
        for (server, name) in servers.iter_mut().zip(port_names(&keys)) {
            server["port"]["name"] = json!(name);
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

#[cfg(test)]
mod tests {
    use super::port_names;

    fn names(keys: &[(&str, u32, &str)]) -> Vec<String> {
        let keys: Vec<(String, u32, &str)> = keys
            .iter()
            .map(|(p, n, h)| (p.to_string(), *n, *h))
            .collect();
        port_names(&keys)
    }

    #[test]
    fn observed_names_are_kept() {
        assert_eq!(names(&[("http", 8080, "*")]), ["http-8080-all"]);
        assert_eq!(
            names(&[("https", 8443, "workspace-1-domain-1.com")]),
            ["https-8443-workspace-1-domain-1-com"]
        );
        assert_eq!(
            names(&[("http", 8080, "*.bookinfo.com")]),
            ["http-8080-bookinfo-com"]
        );
    }

    #[test]
    fn hosts_that_give_one_name_are_told_apart_by_their_hash() {
        for pair in [
            ["*.shop.example.com", "shop.example.com"],
            ["a-b.com", "a.b.com"],
        ] {
            let n = names(&[("http", 8080, pair[0]), ("http", 8080, pair[1])]);
            assert_ne!(n[0], n[1], "{n:?}");
            let flat = pair[1].replace('.', "-");
            for (name, host) in n.iter().zip(pair) {
                assert!(name.starts_with(&format!("http-8080-{flat}-")), "{name}");
                assert_eq!(name.len(), format!("http-8080-{flat}").len() + 9, "{host}");
            }
            // The order the hosts are listed in does not change their names.
            let swapped = names(&[("http", 8080, pair[1]), ("http", 8080, pair[0])]);
            assert_eq!(swapped, [n[1].clone(), n[0].clone()]);
        }
        // Other servers keep their plain names.
        let n = names(&[
            ("http", 8080, "a.com"),
            ("http", 8080, "*.a.com"),
            ("http", 8080, "b.com"),
            ("https", 8443, "a.com"),
        ]);
        assert_eq!(n[2], "http-8080-b-com");
        assert_eq!(n[3], "https-8443-a-com");
    }

    #[test]
    fn names_are_valid_port_names_and_never_repeat() {
        let long = format!("{}.example.com", "x".repeat(60));
        let n = names(&[("https", 8443, &long), ("https", 8443, "2001:db8::1")]);
        for name in &n {
            assert!(crate::validate::grammar::is_label(name), "{name}");
        }
        assert_eq!(n[0].len(), 63);
        assert_eq!(n[1], "https-8443-2001-db8--1");
        // A host spelling another's hashed name still gets a name of its own.
        let first = names(&[("http", 80, "a.com"), ("http", 80, "*.a.com")]);
        let n = names(&[
            ("http", 80, "a.com"),
            ("http", 80, "*.a.com"),
            ("http", 80, &first[0][8..].replace('-', ".")),
        ]);
        let set: std::collections::BTreeSet<_> = n.iter().collect();
        assert_eq!(set.len(), 3, "{n:?}");
    }
}
