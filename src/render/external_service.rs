//! ExternalService (+ selected ExternalEndpoints) → ServiceEntry, and a DestinationRule per host
//! for TLS ports (docs/translation.md, "ExternalService → ServiceEntry, DestinationRule"); ports
//! routed through egress gateways add the objects of `egress`.

use super::destination_policies::{self, Destination, Port};
use super::egress;
use super::names::{metadata, sanitize_name_v2, Parent, Place};
use super::{Ctx, Part};
use crate::diag::codes::Translate;
use crate::gloo::types::{
    ClientTlsMode, DestinationKind, ExternalEndpointSpec, ExternalServicePort, ExternalServiceSpec,
    Labels, Protocol,
};
use crate::gloo::Typed;
use crate::istio::object::{FieldAt, Origins, SourceRef, Template};
use serde_json::{json, Map, Value};
use std::net::IpAddr;

/// The host an ExternalService is reached by: its first host; for an address-only service a
/// stable name meshform makes up, since Istio needs a host (docs/translation.md, [I]).
pub(crate) fn primary_host(es: &Typed<ExternalServiceSpec>) -> String {
    match es.spec.hosts.first() {
        Some(h) => h.clone(),
        None => format!(
            "{}.{}.{}.external",
            es.meta.name, es.meta.namespace, es.meta.cluster
        ),
    }
}

/// The Istio port name for an ExternalService port: its name, else `<protocol>-<number>`.
pub(crate) fn port_name(p: &ExternalServicePort) -> String {
    if p.name.is_empty() {
        let proto = match p.protocol {
            None => "tcp".to_string(),
            Some(pr) => pr.as_str().to_lowercase(),
        };
        format!("{proto}-{}", p.number)
    } else {
        p.name.clone()
    }
}

/// True if a port needs client-side TLS: protocol HTTPS or TLS, or clientsideTls set
/// (docs/translation.md#externalservice-rules, [O]).
fn needs_tls(p: &ExternalServicePort) -> bool {
    p.clientside_tls.is_some() || matches!(p.protocol, Some(Protocol::Https | Protocol::Tls))
}

/// ExternalEndpoints an ExternalService selects: metadata.labels ⊇ spec.selector, in the same
/// workspace; an empty selector selects none (docs/translation.md#references-and-selectors, [C]).
pub(crate) fn selected_endpoints<'m>(
    ctx: &Ctx<'m>,
    es: &Typed<ExternalServiceSpec>,
) -> Vec<&'m Typed<ExternalEndpointSpec>> {
    if es.spec.selector.is_empty() {
        return Vec::new();
    }
    let ws = ctx.ws_of(&es.meta);
    let mut eps: Vec<_> = ctx
        .model
        .endpoints_matching(&es.spec.selector)
        .into_iter()
        .filter(|ee| ctx.ws_of(&ee.meta) == ws)
        .collect();
    eps.sort_by(|a, b| {
        (&a.meta.cluster, &a.meta.namespace, &a.meta.name).cmp(&(
            &b.meta.cluster,
            &b.meta.namespace,
            &b.meta.name,
        ))
    });
    eps
}

fn is_ip(a: &str) -> bool {
    a.parse::<IpAddr>().is_ok()
}

pub(crate) fn translate(ctx: &Ctx<'_>, es: &Typed<ExternalServiceSpec>) -> Part {
    let mut part = Part::default();
    let meta = &es.meta;
    if ctx.ws_of(meta).is_none() {
        part.diagnostics.push(ctx.warning(meta, Translate::NotInWorkspace, "metadata.namespace",
            format!("namespace {} of cluster {} is in no workspace; Gloo does not translate this ExternalService", meta.namespace, meta.cluster)));
        return part;
    }
    let eps = selected_endpoints(ctx, es);
    let Some(mut spec) = service_entry_spec(ctx, es, &eps, &mut part) else {
        return part;
    };
    let placements = ctx.placements(meta, "ExternalService");
    let Some(egress) = egress::plan(ctx, es, &placements, &mut part) else {
        return part;
    };
    if let Some(ports) = spec["ports"].as_array_mut() {
        ports.extend(egress::mesh_ports(&egress, es, eps.is_empty()));
    }
    let parent = Parent {
        group: "networking.gloo.solo.io",
        version: "v2",
        kind: "ExternalService",
        name: &meta.name,
        namespace: &meta.namespace,
        cluster: &meta.cluster,
    };
    // The sources sorted, and where each went: `at[0]` the ExternalService, `at[1 + j]`
    // endpoint j.
    let mut tagged: Vec<(SourceRef, usize)> = std::iter::once(ctx.source(meta))
        .chain(eps.iter().map(|e| ctx.source(&e.meta)))
        .enumerate()
        .map(|(i, s)| (s, i))
        .collect();
    tagged.sort();
    let mut at = vec![0; tagged.len()];
    for (pos, (_, i)) in tagged.iter().enumerate() {
        at[*i] = pos;
    }
    let sources: Vec<SourceRef> = tagged.into_iter().map(|(s, _)| s).collect();
    let se_origins = service_entry_origins(es, &at);
    for (cluster, ns, ws) in placements {
        let place = Place {
            cluster: &cluster,
            namespace: &ns,
            workspace: &ws,
        };
        // Name pattern (docs/translation.md#generated-names, [O]):
        // externalservice-<es>-<esNs>-<esCluster>-<ws>.
        let name = sanitize_name_v2(&format!(
            "externalservice-{}-{}-{}-{}",
            meta.name, meta.namespace, meta.cluster, ws
        ));
        let md = metadata(&name, &place, &parent, &[]);
        part.objects.push(
            ctx.object("ServiceEntry", md, spec.clone(), &cluster, sources.clone())
                .with_origins(se_origins.clone()),
        );
        egress::objects(ctx, es, &egress, &place, &parent, &mut part.objects);
        // The ports with DestinationRule settings: client TLS, or what the destination
        // policies give them in this workspace (docs/translation.md#destination-policies).
        let Some(mut dest) =
            Destination::seen_from(ctx, DestinationKind::ExternalService, meta, &ws)
        else {
            continue;
        };
        let first_host = es.spec.hosts.first().map_or("", String::as_str);
        dest.host = first_host;
        let mut dr_sources = sources.clone();
        let mut dr_ports: Vec<(usize, &ExternalServicePort)> = Vec::new();
        let mut from_policies: Vec<Map<String, Value>> = Vec::new();
        for (i, p) in es.spec.ports.iter().enumerate() {
            let port = Port {
                number: p.number,
                name: &p.name,
            };
            let (fields, from) = destination_policies::port_settings(ctx, &dest, port, &mut part);
            if needs_tls(p) || !fields.is_empty() {
                dr_ports.push((i, p));
                from_policies.push(fields);
            }
            for f in from {
                if !dr_sources.contains(&f) {
                    dr_sources.push(f);
                }
            }
        }
        if dr_ports.is_empty() {
            continue;
        }
        let hosts = if es.spec.hosts.is_empty() {
            vec![primary_host(es)]
        } else {
            es.spec.hosts.clone()
        };
        for (h, host) in hosts.iter().enumerate() {
            // One DR per host (docs/translation.md#generated-names, [O]):
            // externalservice-<es>-<esNs>-<esCluster>-<host>-<ws>.
            let name = sanitize_name_v2(&format!(
                "externalservice-{}-{}-{}-{}-{}",
                meta.name, meta.namespace, meta.cluster, host, ws
            ));
            let md = metadata(&name, &place, &parent, &[]);
            let settings: Vec<Value> = dr_ports
                .iter()
                .zip(&from_policies)
                .map(|((_, p), extra)| {
                    let mut entry = extra.clone();
                    entry.insert("port".into(), json!({"number": p.number}));
                    // A ClientTLSPolicy's mode replaces the port's clientsideTls
                    // (docs/translation.md#clienttlspolicy).
                    if needs_tls(p) && !entry.contains_key("tls") {
                        entry.insert("tls".into(), client_tls(es, p, host));
                    }
                    Value::Object(entry)
                })
                .collect();
            // exportTo is not set on these DestinationRules in the observed output
            // (docs/translation.md#externalservice-rules, [O]).
            let dr = json!({"host": host, "trafficPolicy": {"portLevelSettings": settings}});
            part.objects.push(
                ctx.object("DestinationRule", md, dr, &cluster, dr_sources.clone())
                    .with_origins(tls_rule_origins(es, h, &dr_ports, at[0])),
            );
        }
    }
    part
}

/// Where a ServiceEntry's parts come from: hosts, addresses and ports from the
/// ExternalService's fields of the same names (its host made up from its addresses when it
/// has none), endpoint `j` from the `j`-th selected ExternalEndpoint. `at` maps the
/// ExternalService (0) and endpoint `j` (`1 + j`) to their places in the sorted sources.
fn service_entry_origins(es: &Typed<ExternalServiceSpec>, at: &[usize]) -> Origins {
    let es_at = at[0];
    let eps = at.len() - 1;
    let mut o = Origins::with_capacity(3 + 2 * eps);
    if es.spec.hosts.is_empty() {
        o.add(
            FieldAt::key(Template::Hosts),
            es_at,
            FieldAt::key(Template::Addresses),
            false,
        );
    } else {
        o.add(
            FieldAt::key(Template::Hosts),
            es_at,
            FieldAt::key(Template::Hosts),
            true,
        );
    }
    o.add(
        FieldAt::key(Template::Addresses),
        es_at,
        FieldAt::key(Template::Addresses),
        true,
    );
    o.add(
        FieldAt::key(Template::Ports),
        es_at,
        FieldAt::key(Template::Ports),
        true,
    );
    for (j, &ee_at) in at[1..].iter().enumerate() {
        o.add(
            FieldAt::at(Template::Endpoint, j),
            ee_at,
            FieldAt::key(Template::Spec),
            true,
        );
        o.add(
            FieldAt::at(Template::EndpointLabels, j),
            ee_at,
            FieldAt::key(Template::MetadataLabels),
            true,
        );
    }
    o
}

/// Where a DestinationRule's parts come from: its host from the ExternalService's host `h`,
/// each port-level setting from its port, the TLS settings from the port's `clientsideTls`.
fn tls_rule_origins(
    es: &Typed<ExternalServiceSpec>,
    h: usize,
    tls_ports: &[(usize, &ExternalServicePort)],
    es_at: usize,
) -> Origins {
    let mut o = Origins::with_capacity(1 + 2 * tls_ports.len());
    let host = if es.spec.hosts.is_empty() {
        FieldAt::key(Template::Addresses)
    } else {
        FieldAt::at(Template::HostAt, h)
    };
    o.add(FieldAt::key(Template::Host), es_at, host, false);
    for (k, (i, p)) in tls_ports.iter().enumerate() {
        o.add(
            FieldAt::at(Template::PortLevelSetting, k),
            es_at,
            FieldAt::at(Template::PortAt, *i),
            false,
        );
        if !needs_tls(p) {
            continue;
        }
        o.add(
            FieldAt::at(Template::PortLevelTls, k),
            es_at,
            FieldAt::at(Template::PortClientTls, *i),
            true,
        );
    }
    o
}

/// Istio ClientTLSSettings for one port: mode and SNI as observed
/// (docs/translation.md#externalservice-rules, [O]), the other fields under the same names in Istio
/// (docs/translation.md#externalservice--serviceentry-destinationrule, [I]).
fn client_tls(es: &Typed<ExternalServiceSpec>, p: &ExternalServicePort, host: &str) -> Value {
    let t = p.clientside_tls.clone().unwrap_or_default();
    let mode = t.mode.unwrap_or_default();
    let mut m = Map::new();
    m.insert("mode".into(), json!(mode.as_str()));
    if mode == ClientTlsMode::Disable {
        return Value::Object(m);
    }
    // "If there is a single host in the hosts list, this will be used as the SNI" [C S1]; with
    // several hosts each host's DestinationRule uses its own host [I].
    let sni = if !t.sni.is_empty() {
        t.sni.clone()
    } else {
        host.to_string()
    };
    if !es.spec.hosts.is_empty() && !host.contains('*') && mode != ClientTlsMode::IstioMutual {
        m.insert("sni".into(), json!(sni));
    }
    if mode != ClientTlsMode::IstioMutual {
        for (k, v) in [
            ("clientCertificate", &t.client_certificate),
            ("privateKey", &t.private_key),
            ("caCertificates", &t.ca_certificates),
            ("credentialName", &t.credential_name),
        ] {
            if !v.is_empty() {
                m.insert(k.into(), json!(v));
            }
        }
        if let Some(skip) = t.insecure_skip_verify {
            m.insert("insecureSkipVerify".into(), json!(skip));
        }
        if !es.spec.subject_alt_names.is_empty() && t.insecure_skip_verify != Some(true) {
            m.insert("subjectAltNames".into(), json!(es.spec.subject_alt_names));
        }
    }
    Value::Object(m)
}

fn service_entry_spec(
    ctx: &Ctx<'_>,
    es: &Typed<ExternalServiceSpec>,
    eps: &[&Typed<ExternalEndpointSpec>],
    part: &mut Part,
) -> Option<Value> {
    let meta = &es.meta;
    let s = &es.spec;
    if !s.hosts.is_empty() && !s.addresses.is_empty() {
        part.diagnostics.push(ctx.error(
            meta,
            Translate::HostsAndAddresses,
            "spec.addresses",
            "an ExternalService has hosts or addresses, not both (they are mutually exclusive)",
        ));
        return None;
    }
    if s.hosts.is_empty() && s.addresses.is_empty() {
        part.diagnostics.push(ctx.error(
            meta,
            Translate::NoHosts,
            "spec",
            "an ExternalService needs hosts or addresses",
        ));
        return None;
    }
    if s.ports.is_empty() {
        part.diagnostics.push(ctx.error(
            meta,
            Translate::NoPorts,
            "spec.ports",
            "an ExternalService needs at least one port",
        ));
        return None;
    }
    let mut ok = true;
    let mut ports = Vec::new();
    for (i, p) in s.ports.iter().enumerate() {
        let mut port = Map::new();
        port.insert("name".into(), json!(port_name(p)));
        port.insert("number".into(), json!(p.number));
        if let Some(pr) = p.protocol {
            port.insert("protocol".into(), json!(pr.as_str()));
        }
        if eps.is_empty() {
            // Without endpoints the SE port carries targetPort, defaulting to number [O E1].
            match &p.target_port {
                Some(tp) if tp.name.is_some() => {
                    part.diagnostics.push(ctx.error(
                        meta,
                        Translate::TargetPortName,
                        &format!("spec.ports[{i}].targetPort.name"),
                        "targetPort.name needs selected ExternalEndpoints; with none, use a number",
                    ));
                    ok = false;
                }
                Some(tp) => {
                    port.insert("targetPort".into(), json!(tp.number.unwrap_or(p.number)));
                }
                None => {
                    port.insert("targetPort".into(), json!(p.number));
                }
            }
        }
        ports.push(Value::Object(port));
    }
    let wildcard = s.hosts.iter().any(|h| h.starts_with('*'));
    // Resolution (docs/translation.md#externalservice-rules, [O]): DNS without endpoints, STATIC
    // with IP endpoints; NONE for wildcard hosts and addresses without endpoints, DNS for hostname
    // endpoints [I].
    let resolution = if !eps.is_empty() {
        if eps
            .iter()
            .all(|e| is_ip(&e.spec.address) || e.spec.address.starts_with("unix://"))
        {
            "STATIC"
        } else {
            "DNS"
        }
    } else if wildcard || !s.addresses.is_empty() {
        "NONE"
    } else {
        "DNS"
    };
    let hosts = if s.hosts.is_empty() {
        vec![primary_host(es)]
    } else {
        s.hosts.clone()
    };
    let mut spec = Map::new();
    spec.insert("exportTo".into(), json!(["."]));
    spec.insert("hosts".into(), json!(hosts));
    if !s.addresses.is_empty() {
        spec.insert("addresses".into(), json!(s.addresses));
    }
    spec.insert("ports".into(), Value::Array(ports));
    spec.insert("resolution".into(), json!(resolution));
    if !eps.is_empty() {
        let mut endpoints = Vec::new();
        for ee in eps {
            match endpoint(ctx, es, ee, part) {
                Some(e) => endpoints.push(e),
                None => ok = false,
            }
        }
        spec.insert("endpoints".into(), Value::Array(endpoints));
    }
    ok.then_some(Value::Object(spec))
}

/// One ServiceEntry endpoint from an ExternalEndpoint (docs/translation.md#externalservice-rules,
/// [O]): labels are the union of the EE's and the ES's metadata labels; each ES port maps to the EE
/// port matched by targetPort (name or number, defaulting to the port number).
fn endpoint(
    ctx: &Ctx<'_>,
    es: &Typed<ExternalServiceSpec>,
    ee: &Typed<ExternalEndpointSpec>,
    part: &mut Part,
) -> Option<Value> {
    let mut labels: Labels = ee.meta.labels.clone();
    for (k, v) in &es.meta.labels {
        labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
    labels.sort_keys();
    let mut ports = Map::new();
    let mut ok = true;
    for (i, p) in es.spec.ports.iter().enumerate() {
        let tp = p.target_port.clone().unwrap_or_default();
        let found = ee.spec.ports.iter().find(|ep| match (&tp.name, tp.number) {
            (Some(n), _) => &ep.name == n,
            (None, Some(n)) => ep.number == n,
            (None, None) => {
                ep.number == p.number || (ee.spec.ports.len() == 1 && ep.name.is_empty())
            }
        });
        match found {
            Some(ep) => {
                ports.insert(port_name(p), json!(ep.number));
            }
            None if ee.spec.ports.is_empty() => {
                ports.insert(port_name(p), json!(tp.number.unwrap_or(p.number)));
            }
            None => {
                // "All of the backing ExternalEndpoints ... must contain this port"
                // (docs/translation.md#externalservice-rules, [C]).
                part.diagnostics.push(ctx.error(
                    &es.meta,
                    Translate::EndpointPort,
                    &format!("spec.ports[{i}]"),
                    format!(
                        "selected ExternalEndpoint {}/{} has no port matching {}",
                        ee.meta.namespace,
                        ee.meta.name,
                        describe(&tp, p.number)
                    ),
                ));
                ok = false;
            }
        }
    }
    let mut e = Map::new();
    e.insert("address".into(), json!(ee.spec.address));
    if !labels.is_empty() {
        e.insert("labels".into(), json!(labels));
    }
    if let Some(l) = &ee.spec.locality {
        // Istio's locality format region/zone/subZone
        // (docs/translation.md#externalservice--serviceentry-destinationrule, [I]).
        let parts: Vec<&str> = [l.region.as_str(), l.zone.as_str(), l.sub_zone.as_str()]
            .into_iter()
            .take_while(|s| !s.is_empty())
            .collect();
        if !parts.is_empty() {
            e.insert("locality".into(), json!(parts.join("/")));
        }
    }
    if !ports.is_empty() && !ee.spec.address.starts_with("unix://") {
        e.insert("ports".into(), Value::Object(ports));
    }
    ok.then_some(Value::Object(e))
}

fn describe(tp: &crate::gloo::types::PortSelector, number: u32) -> String {
    match (&tp.name, tp.number) {
        (Some(n), _) => format!("name `{n}`"),
        (None, Some(n)) => format!("number {n}"),
        (None, None) => format!("number {number}"),
    }
}
