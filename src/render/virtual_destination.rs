//! VirtualDestination → ServiceEntry, WorkloadEntry per remote endpoint, DestinationRule
//! (docs/translation.md, "VirtualDestination"; worked example E7).
//!
//! Observed [O S7 lab12]: one ServiceEntry and one DestinationRule in the VirtualDestination's
//! namespace whose `exportTo` lists every namespace of the workspaces that can see it; a
//! WorkloadEntry per remote cluster, addressed at that cluster's east-west gateway. A port's
//! `targetPort` selects a port of the backing Services; the ServiceEntry port's `targetPort`
//! is where the pods receive it ([`target_ports`]).

use super::destination_policies::{self, Destination, Port};
use super::names::{metadata, sanitize_name_v2, Parent, Place};
use super::{Ctx, Part};
use crate::diag::codes::Translate;
use crate::gloo::types::{DestinationKind, Labels, VirtualDestinationPort, VirtualDestinationSpec};
use crate::gloo::{labels_match, str_labels, ServiceInfo, Typed};
use crate::istio::object::{FieldAt, Origins, Template};
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// A stable virtual IP in 254.0.0.0/8 for a host. Gloo allocates its VIPs in that range
/// [O E7: 254.154.115.171]; its allocation is not public, so meshform derives one from the
/// host's MD5 (docs/translation.md).
pub(crate) fn vip(host: &str) -> String {
    let d = Md5::digest(host.as_bytes());
    format!("254.{}.{}.{}", d[0], d[1], d[2].max(1))
}

pub(crate) fn translate(ctx: &Ctx<'_>, vd: &Typed<VirtualDestinationSpec>) -> Part {
    let mut part = Part::default();
    let meta = &vd.meta;
    let Some(own_ws) = ctx.ws_of(meta) else {
        part.diagnostics.push(ctx.warning(meta, Translate::NotInWorkspace, "metadata.namespace",
            format!("namespace {} of cluster {} is in no workspace; Gloo does not translate this VirtualDestination", meta.namespace, meta.cluster)));
        return part;
    };
    let s = &vd.spec;
    let Some(host) = s.hosts.first() else {
        part.diagnostics.push(ctx.error(
            meta,
            Translate::NoHosts,
            "spec.hosts",
            "a VirtualDestination needs at least one host",
        ));
        return part;
    };
    if s.hosts.iter().any(|h| h.contains('*')) {
        part.diagnostics.push(ctx.error(
            meta,
            Translate::WildcardHost,
            "spec.hosts",
            "VirtualDestination hosts may not contain `*`",
        ));
        return part;
    }
    if s.ports.is_empty() {
        part.diagnostics.push(ctx.error(
            meta,
            Translate::NoPorts,
            "spec.ports",
            "a VirtualDestination needs at least one port",
        ));
        return part;
    }
    let backends = s.services.len() + s.external_services.len() + s.external_workloads.len();
    if backends == 0 {
        // "targetPort must be empty if there are no backends"
        // (docs/translation.md#virtualdestination-rules, [C]).
        for (i, _) in s
            .ports
            .iter()
            .enumerate()
            .filter(|(_, p)| p.target_port.is_some())
        {
            part.diagnostics.push(
                ctx.error(
                    meta,
                    Translate::TargetPortWithoutBackends,
                    &format!("spec.ports[{i}].targetPort"),
                    "targetPort is set, but the VirtualDestination has no backends: Gloo requires it to be empty then",
                )
                .help("remove targetPort, or select the backing Services in spec.services"),
            );
        }
    }
    if s.services.is_empty() {
        part.diagnostics.push(ctx.warning(meta, Translate::Unsupported, "spec",
            "meshform translates VirtualDestinations backed by Kubernetes services; externalServices and externalWorkloads backends are not rendered"));
        return part;
    }
    let selector: Labels = s.services[0].labels.clone();
    let svc_ns = if s.services[0].namespace.is_empty() {
        meta.namespace.clone()
    } else {
        s.services[0].namespace.clone()
    };
    // Clusters running the backing service: those named by the selectors, else every cluster
    // of the owning workspace that has the service's namespace [I].
    let mut backend_clusters: BTreeSet<String> = BTreeSet::new();
    for sel in &s.services {
        let ns = if sel.namespace.is_empty() {
            &meta.namespace
        } else {
            &sel.namespace
        };
        for (c, n) in ctx.model.workspaces.members(own_ws) {
            if n == ns && (sel.cluster.is_empty() || &sel.cluster == c) {
                backend_clusters.insert(c.clone());
            }
        }
    }
    let backing = backing_services(ctx, vd, own_ws);
    let mut targets = Vec::with_capacity(s.ports.len());
    for i in 0..s.ports.len() {
        targets.push(target_ports(ctx, vd, i, &backing, &mut part));
    }
    let Some(targets) = targets.into_iter().collect::<Option<Vec<_>>>() else {
        return part;
    };
    let parent = Parent {
        group: "networking.gloo.solo.io",
        version: "v2",
        kind: "VirtualDestination",
        name: &meta.name,
        namespace: &meta.namespace,
        cluster: &meta.cluster,
    };
    let sources = vec![ctx.source(meta)];
    let (se_origins, dr_origins) = origins(s.ports.len());
    // What the destination policies of the owner workspace add to each port's settings.
    let dest = Destination {
        kind: DestinationKind::VirtualDestination,
        meta,
        ws: own_ws,
        client_ws: None,
        host,
    };
    let mut dr_sources = sources.clone();
    let from_policies: Vec<Map<String, Value>> = s
        .ports
        .iter()
        .map(|p| {
            let port = Port {
                number: p.number,
                name: "",
            };
            let (fields, from) = destination_policies::port_settings(ctx, &dest, port, &mut part);
            for f in from {
                if !dr_sources.contains(&f) {
                    dr_sources.push(f);
                }
            }
            fields
        })
        .collect();
    let visible = ctx
        .model
        .workspaces
        .visible_workspaces(meta, "VirtualDestination");
    let mut out_clusters: BTreeSet<String> = BTreeSet::new();
    for ws in &visible {
        for (c, _) in ctx.model.workspaces.members(ws) {
            out_clusters.insert(c.clone());
        }
    }
    for cluster in out_clusters.iter().filter(|c| ctx.selected(c)) {
        let mut export: BTreeSet<String> = BTreeSet::new();
        for ws in &visible {
            for (c, n) in ctx.model.workspaces.members(ws) {
                if c == cluster {
                    export.insert(n.clone());
                }
            }
        }
        let ns = meta.namespace.clone();
        let place = Place {
            cluster,
            namespace: &ns,
            workspace: own_ws,
        };
        // Name `vd-<host>-<ws>` (docs/translation.md#generated-names, [O]).
        let name = sanitize_name_v2(&format!("vd-{host}-{own_ws}"));
        let md = metadata(&name, &place, &parent, &[]);
        let ports: Vec<Value> = s
            .ports
            .iter()
            .zip(&targets)
            .map(|(p, t)| se_port(p, t, cluster))
            .collect();
        let se = json!({
            "addresses": [vip(host)],
            "exportTo": export,
            "hosts": s.hosts,
            "location": "MESH_INTERNAL",
            "ports": ports,
            "resolution": "STATIC",
            "workloadSelector": {"labels": selector},
        });
        part.objects.push(
            ctx.object("ServiceEntry", md, se, cluster, sources.clone())
                .with_origins(se_origins.clone()),
        );

        // One WorkloadEntry per remote cluster running the service, at its east-west gateway.
        for remote in backend_clusters.iter().filter(|r| *r != cluster) {
            let Some(rc) = ctx.repo.config.cluster(remote) else {
                continue;
            };
            let Some(ew) = &rc.east_west_gateway else {
                part.diagnostics.push(ctx.warning(meta, Translate::NoEastWestGateway, "spec.services",
                    format!("cluster {remote} runs the service but meshform.yaml gives no eastWestGateway for it; no WorkloadEntry in {cluster}")));
                continue;
            };
            let label_part: Vec<String> =
                selector.iter().map(|(k, v)| format!("{k}-{v}")).collect();
            let we_name = sanitize_name_v2(&format!(
                "vd-{host}-{own_ws}-{}-{}",
                label_part.join("-"),
                ew.address.replace([':', '.'], "-")
            ));
            let mut md = metadata(&we_name, &place, &parent, &[]);
            for (k, v) in &selector {
                md["labels"][k] = json!(v);
            }
            let mut spec = Map::new();
            spec.insert("address".into(), json!(ew.address));
            spec.insert("labels".into(), json!(selector));
            if let Some(l) = &rc.locality {
                spec.insert("locality".into(), json!(l));
            }
            let mut wp = Map::new();
            for p in &s.ports {
                wp.insert(
                    format!(
                        "{}-{}",
                        p.protocol.map_or("", |pr| pr.as_str()).to_lowercase(),
                        p.number
                    ),
                    json!(ew.port),
                );
            }
            spec.insert("ports".into(), Value::Object(wp));
            part.objects.push(ctx.object(
                "WorkloadEntry",
                md,
                Value::Object(spec),
                cluster,
                sources.clone(),
            ));
        }

        // ISTIO_MUTUAL with the SPIFFE identities of the backing workloads [O E7].
        let sans = subject_alt_names(ctx, &selector, &svc_ns, &backend_clusters);
        let settings: Vec<Value> = s
            .ports
            .iter()
            .zip(&from_policies)
            .map(|(p, extra)| {
                let mut tls = Map::new();
                tls.insert("mode".into(), json!("ISTIO_MUTUAL"));
                if !sans.is_empty() {
                    tls.insert("subjectAltNames".into(), json!(sans));
                }
                let mut entry = extra.clone();
                entry.insert("port".into(), json!({"number": p.number}));
                // A ClientTLSPolicy's mode replaces the VirtualDestination's, except that
                // ISTIO_MUTUAL keeps the identities the VirtualDestination checks
                // (docs/translation.md#clienttlspolicy).
                let keep = entry
                    .get("tls")
                    .is_some_and(|t| t["mode"] != "ISTIO_MUTUAL");
                if !keep {
                    entry.insert("tls".into(), Value::Object(tls));
                }
                Value::Object(entry)
            })
            .collect();
        let dr_name = sanitize_name_v2(&format!(
            "{host}-virtual-destination-{}-{}-{own_ws}",
            meta.namespace, meta.cluster
        ));
        let md = metadata(&dr_name, &place, &parent, &[]);
        let dr = json!({"exportTo": export, "host": host, "trafficPolicy": {"portLevelSettings": settings}});
        part.objects.push(
            ctx.object("DestinationRule", md, dr, cluster, dr_sources.clone())
                .with_origins(dr_origins.clone()),
        );
    }
    part
}

/// A ServiceEntry port: `<protocol>-<number>` as observed [O E7], with `targetPort` when the
/// backends in `cluster` (else in the first cluster that has them) receive on another port.
fn se_port(p: &VirtualDestinationPort, targets: &[(String, u32)], cluster: &str) -> Value {
    let proto = p.protocol.map_or("", |pr| pr.as_str());
    let mut port = Map::new();
    port.insert(
        "name".into(),
        json!(format!("{}-{}", proto.to_lowercase(), p.number)),
    );
    port.insert("number".into(), json!(p.number));
    port.insert("protocol".into(), json!(proto));
    let target = targets
        .iter()
        .find(|(c, _)| c == cluster)
        .or(targets.first())
        .map(|(_, t)| *t);
    if let Some(t) = target.filter(|t| *t != p.number) {
        port.insert("targetPort".into(), json!(t));
    }
    Value::Object(port)
}

/// The Kubernetes Services of the repo backing the VirtualDestination: in its own workspace,
/// in the namespace (the VirtualDestination's when unset) and cluster (any when unset) a
/// `services` selector names, carrying the selector's labels.
fn backing_services<'a>(
    ctx: &Ctx<'a>,
    vd: &Typed<VirtualDestinationSpec>,
    own_ws: &str,
) -> Vec<&'a ServiceInfo> {
    let meta = &vd.meta;
    ctx.model
        .services
        .iter()
        .filter(|svc| {
            let m = &svc.meta;
            vd.spec.services.iter().any(|sel| {
                let ns = if sel.namespace.is_empty() {
                    &meta.namespace
                } else {
                    &sel.namespace
                };
                *ns == m.namespace
                    && (sel.cluster.is_empty() || sel.cluster == m.cluster)
                    && labels_match(&sel.labels, &m.labels)
            }) && ctx.model.workspace_of(&m.cluster, &m.namespace) == Some(own_ws)
        })
        .collect()
}

/// Where the backends receive VirtualDestination port `i`, by cluster; `None` has been
/// reported. `targetPort`, or the port's `number` when unset, selects a port of every backing
/// Service by number or name [C: Solo's virtual_destination.proto, `target_port`: "All of the
/// backing services for this VirtualDestination must contain this port, matching by name or
/// number"]; the ServiceEntry selects the pods themselves, so they receive on that Service
/// port's `targetPort` (a container port name is looked up in the repo's Deployments) [I].
/// Without a backing Service in the repo, a `targetPort` number is taken as it is, and a name
/// cannot be resolved.
fn target_ports(
    ctx: &Ctx<'_>,
    vd: &Typed<VirtualDestinationSpec>,
    i: usize,
    backing: &[&ServiceInfo],
    part: &mut Part,
) -> Option<Vec<(String, u32)>> {
    let meta = &vd.meta;
    let p = &vd.spec.ports[i];
    let given = p.target_port.as_ref();
    let name = given.and_then(|t| t.name.as_deref());
    let number = given.and_then(|t| t.number).unwrap_or(p.number);
    let field = match given {
        Some(t) if t.name.is_some() => format!("spec.ports[{i}].targetPort.name"),
        Some(t) if t.number.is_some() => format!("spec.ports[{i}].targetPort.number"),
        Some(_) => format!("spec.ports[{i}].targetPort"),
        None => format!("spec.ports[{i}].number"),
    };
    let wanted = match name {
        Some(n) => format!("port named `{n}`"),
        None => format!("port {number}"),
    };
    if backing.is_empty() {
        return match (name, given) {
            (Some(n), _) => {
                part.diagnostics.push(
                    ctx.error(
                        meta,
                        Translate::TargetPortUnresolved,
                        &field,
                        format!("targetPort name `{n}` cannot be resolved: no backing Service of this VirtualDestination is in the repo"),
                    )
                    .help("give targetPort as a number, or add the backing Service manifest to the repo"),
                );
                None
            }
            (None, Some(_)) => Some(vec![(String::new(), number)]),
            (None, None) => Some(Vec::new()),
        };
    }
    let mut out = Vec::with_capacity(backing.len());
    let mut ok = true;
    for svc in backing {
        let m = &svc.meta;
        let found = svc.ports.iter().find(|(pn, port, _)| match name {
            Some(n) => pn == n,
            None => *port == number,
        });
        let Some((pn, port, target)) = found else {
            let have: Vec<String> = svc
                .ports
                .iter()
                .map(|(pn, port, _)| {
                    if pn.is_empty() {
                        port.to_string()
                    } else {
                        format!("{port} ({pn})")
                    }
                })
                .collect();
            let instead = if given.is_some() {
                "set targetPort to one of its ports"
            } else {
                "set targetPort to the Service port the backends serve this port on"
            };
            part.diagnostics.push(
                ctx.error(
                    meta,
                    Translate::TargetPortUnresolved,
                    &field,
                    format!(
                        "backing Service {}/{} (cluster {}) has no {wanted}: every backing Service must have the port targetPort selects (by default the port's number)",
                        m.namespace, m.name, m.cluster
                    ),
                )
                .help(format!("{instead}: {}", have.join(", "))),
            );
            ok = false;
            continue;
        };
        match target {
            Some(t) => out.push((m.cluster.clone(), *t)),
            None => match named_target(ctx, svc, pn, *port) {
                Ok(Some(t)) => out.push((m.cluster.clone(), t)),
                Ok(None) => out.push((m.cluster.clone(), *port)),
                Err(container) => part.diagnostics.push(ctx.warning(
                    meta,
                    Translate::TargetPortUnresolved,
                    &field,
                    format!(
                        "backing Service {}/{} (cluster {}) sends port {port} to container port `{container}`, which no Deployment in the repo names; its pods are taken to receive on {}",
                        m.namespace, m.name, m.cluster, p.number
                    ),
                )),
            },
        }
    }
    ok.then_some(out)
}

/// The container port a Service port with a named `targetPort` sends to, from the repo's
/// Deployments whose pod labels match the Service's selector: `Ok(None)` when the Service
/// port has no `targetPort` (it is the port itself), `Err(name)` when no Deployment names it.
fn named_target(
    ctx: &Ctx<'_>,
    svc: &ServiceInfo,
    port_name: &str,
    port: u32,
) -> Result<Option<u32>, String> {
    let o = &ctx.repo.objects[svc.meta.index];
    let raw = o.value["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["port"].as_u64() == Some(u64::from(port))
                && p["name"].as_str().unwrap_or("") == port_name
        });
    let Some(container) = raw.and_then(|p| p["targetPort"].as_str()) else {
        return Ok(None);
    };
    for d in &ctx.repo.objects {
        if d.id.kind != "Deployment"
            || d.cluster != svc.meta.cluster
            || d.id.namespace != svc.meta.namespace
        {
            continue;
        }
        let pod = &d.value["spec"]["template"];
        let pod_labels = str_labels(&pod["metadata"]["labels"]);
        if svc.selector.is_empty() || !labels_match(&svc.selector, &pod_labels) {
            continue;
        }
        let ports = pod["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten());
        for cp in ports {
            if cp["name"].as_str() == Some(container) {
                if let Some(n) = cp["containerPort"]
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                {
                    return Ok(Some(n));
                }
            }
        }
    }
    Err(container.to_string())
}

/// Where the ServiceEntry's and the DestinationRule's parts come from: hosts and ports from
/// the VirtualDestination's fields of the same names, the DestinationRule's host from its
/// first host, each port-level setting from its port.
fn origins(ports: usize) -> (Origins, Origins) {
    let mut se = Origins::with_capacity(2);
    se.add(
        FieldAt::key(Template::Hosts),
        0,
        FieldAt::key(Template::Hosts),
        true,
    );
    se.add(
        FieldAt::key(Template::Ports),
        0,
        FieldAt::key(Template::Ports),
        true,
    );
    let mut dr = Origins::with_capacity(1 + ports);
    dr.add(
        FieldAt::key(Template::Host),
        0,
        FieldAt::at(Template::HostAt, 0),
        false,
    );
    for i in 0..ports {
        dr.add(
            FieldAt::at(Template::PortLevelSetting, i),
            0,
            FieldAt::at(Template::PortAt, i),
            false,
        );
    }
    (se, dr)
}

/// `spiffe://<trust domain>/ns/<ns>/sa/<service account>` for each cluster running the
/// service, from Deployments in the repo whose pod labels match; none when the repo has no such
/// Deployment (Istio then checks the peer identity itself) [I].
fn subject_alt_names(
    ctx: &Ctx<'_>,
    selector: &Labels,
    ns: &str,
    clusters: &BTreeSet<String>,
) -> Vec<String> {
    let mut out = BTreeSet::new();
    for o in &ctx.repo.objects {
        if o.id.kind != "Deployment" || o.id.namespace != ns || !clusters.contains(&o.cluster) {
            continue;
        }
        let pod_labels = str_labels(&o.value["spec"]["template"]["metadata"]["labels"]);
        if selector.is_empty() || !labels_match(selector, &pod_labels) {
            continue;
        }
        let sa = o.value["spec"]["template"]["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or("default");
        let td = ctx
            .repo
            .config
            .cluster(&o.cluster)
            .and_then(|c| c.trust_domain.clone())
            .unwrap_or_else(|| o.cluster.clone());
        out.insert(format!("spiffe://{td}/ns/{ns}/sa/{sa}"));
    }
    out.into_iter().collect()
}
