//! VirtualDestination → ServiceEntry, WorkloadEntry per remote endpoint, DestinationRule
//! (gloo-translation.md §6, §9.1, §9.7 item 3; worked example E7).
//!
//! Observed [O S7 lab12]: one ServiceEntry and one DestinationRule in the VirtualDestination's
//! namespace whose `exportTo` lists every namespace of the workspaces that can see it; a
//! WorkloadEntry per remote cluster, addressed at that cluster's east-west gateway.

use super::names::{metadata, sanitize_name_v2, Parent, Place};
use super::{Ctx, Part};
use crate::diag::codes::Translate;
use crate::gloo::types::{Labels, VirtualDestinationSpec};
use crate::gloo::{labels_match, str_labels, Typed};
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
            "VirtualDestination hosts may not contain `*` [C §6]",
        ));
        return part;
    }
    if s.ports.is_empty() {
        part.diagnostics.push(ctx.error(
            meta,
            Translate::NoPorts,
            "spec.ports",
            "a VirtualDestination needs at least one port [C §6]",
        ));
        return part;
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
    let ports: Vec<Value> = s.ports.iter().map(|p| {
        let proto = p.protocol.map_or("", |pr| pr.as_str());
        json!({"name": format!("{}-{}", proto.to_lowercase(), p.number), "number": p.number, "protocol": proto})
    }).collect();
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
        // Name `vd-<host>-<ws>` [O §9.2].
        let name = sanitize_name_v2(&format!("vd-{host}-{own_ws}"));
        let md = metadata(&name, &place, &parent, &[]);
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
            .map(|p| {
                let mut tls = Map::new();
                tls.insert("mode".into(), json!("ISTIO_MUTUAL"));
                if !sans.is_empty() {
                    tls.insert("subjectAltNames".into(), json!(sans));
                }
                json!({"port": {"number": p.number}, "tls": tls})
            })
            .collect();
        let dr_name = sanitize_name_v2(&format!(
            "{host}-virtual-destination-{}-{}-{own_ws}",
            meta.namespace, meta.cluster
        ));
        let md = metadata(&dr_name, &place, &parent, &[]);
        let dr = json!({"exportTo": export, "host": host, "trafficPolicy": {"portLevelSettings": settings}});
        part.objects.push(
            ctx.object("DestinationRule", md, dr, cluster, sources.clone())
                .with_origins(dr_origins.clone()),
        );
    }
    part
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
