//! Where a table's VirtualServices go (docs/translation.md#routetable-rules): the namespaces of the
//! gateway workloads its VirtualGateways select, and, for sidecars, every namespace where the table
//! is visible; with the `gateways` and `sourceLabels` each place writes.

use super::super::gateway::{gateway_name, selected_workloads};
use super::super::{Ctx, Part};
use super::Rt;
use crate::diag::codes::Translate;
use crate::gloo::types::{Labels, ObjectReference, VirtualGatewaySpec, WorkloadSelector};
use crate::gloo::Typed;
use std::collections::{BTreeMap, BTreeSet};

/// One VirtualService to write.
#[derive(Default)]
pub(super) struct Instance {
    pub workspace: String,
    pub gateways: BTreeSet<String>,
    /// `None` means "no sourceLabels" (all sources).
    pub sources: Vec<Option<Labels>>,
}

impl Instance {
    fn add_source(&mut self, s: &Option<Labels>) {
        if !self.sources.contains(s) {
            self.sources.push(s.clone());
        }
    }
}

/// The VirtualServices to write, by (cluster, namespace).
pub(super) type Instances = BTreeMap<(String, String), Instance>;

/// Every place the table's VirtualServices go; what stops a gateway from binding it is
/// reported.
pub(super) fn instances(ctx: &Ctx<'_>, rt: &Rt, own_ws: &str, part: &mut Part) -> Instances {
    let mut out = Instances::new();
    let vgs = rt.spec.virtual_gateways.as_deref().unwrap_or(&[]);
    for (i, r) in vgs.iter().enumerate() {
        gateway_instances(ctx, rt, own_ws, i, r, &mut out, part);
    }
    let selectors = rt.spec.workload_selectors.as_deref().unwrap_or(&[]);
    // docs/translation.md#routetable-rules: no gateways → sidecars; gateways plus a selector →
    // gateways and those sidecars.
    if vgs.is_empty() || !selectors.is_empty() {
        mesh_instances(ctx, rt, selectors, &mut out);
    }
    out
}

/// The places of the gateway workloads that `spec.virtualGateways[i]` selects.
fn gateway_instances(
    ctx: &Ctx<'_>,
    rt: &Rt,
    own_ws: &str,
    i: usize,
    r: &ObjectReference,
    out: &mut Instances,
    part: &mut Part,
) {
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
            Translate::UnresolvedVirtualGateway,
            &field,
            format!(
                "VirtualGateway {ns}/{} in cluster {cl} does not exist",
                r.name
            ),
        ));
        return;
    };
    let Some(vg_ws) = ctx.ws_of(&vg.meta) else {
        return;
    };
    if !ctx.model.workspaces.visible(&rt.meta, "RouteTable", vg_ws) {
        part.diagnostics.push(ctx.error(&rt.meta, Translate::NotVisibleToGateway, &field,
            format!("this RouteTable is not visible in workspace `{vg_ws}` of VirtualGateway {ns}/{}; export it from `{own_ws}` and import it there", r.name)));
        return;
    }
    if !host_allowed(vg, &rt.meta.namespace, &rt.spec.hosts) {
        part.diagnostics.push(ctx.warning(&rt.meta, Translate::HostNotAllowed, "spec.hosts",
            format!("no listener of VirtualGateway {ns}/{} allows these hosts for a RouteTable in namespace {}; the table is not bound to it", r.name, rt.meta.namespace)));
        return;
    }
    for (cluster, gns, workloads) in selected_workloads(ctx, vg) {
        if !ctx.selected(&cluster) {
            continue;
        }
        let Some(gws) = ctx.model.workspace_of(&cluster, &gns) else {
            continue;
        };
        let inst = out.entry((cluster.clone(), gns.clone())).or_default();
        inst.workspace = gws.to_string();
        inst.gateways.insert(gateway_name(&vg.meta, &gns, gws));
        for w in workloads {
            inst.add_source(&Some(w.pod_labels.clone()));
        }
    }
}

/// The sidecar places: every namespace where the table is visible, with the workload
/// selectors' labels as sources (none: all sources).
fn mesh_instances(ctx: &Ctx<'_>, rt: &Rt, selectors: &[WorkloadSelector], out: &mut Instances) {
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
        let inst = out.entry((cluster, ns)).or_default();
        inst.workspace = ws;
        inst.gateways.insert(super::MESH.into());
        for s in &mesh_sources {
            inst.add_source(s);
        }
    }
}

/// True if some listener of the gateway allows one of the hosts (`allowedRouteTables[].host`,
/// wildcards allowed; no entries means any table; docs/translation.md#virtualgateway-rules). A
/// `namespace/` prefix restricts the tables to that namespace: `*/` (or none) any, `./` the
/// VirtualGateway's, as virtual_gateway.proto `RouteTableFilter.host` and Istio's Gateway `hosts`
/// have it [C].
fn host_allowed(vg: &Typed<VirtualGatewaySpec>, rt_namespace: &str, hosts: &[String]) -> bool {
    let namespace_ok = |ns: &str| match ns {
        "*" => true,
        "." => rt_namespace == vg.meta.namespace,
        ns => rt_namespace == ns,
    };
    vg.spec
        .listeners
        .iter()
        .any(|l| match &l.allowed_route_tables {
            None => true,
            Some(list) if list.is_empty() => true,
            Some(list) => list.iter().any(|a| match a.namespace_and_host() {
                None => true,
                Some((ns, h)) => namespace_ok(ns) && hosts.iter().any(|x| host_matches(h, x)),
            }),
        })
        || vg.spec.listeners.is_empty()
}

/// `*`, `*.example.com` or an exact host.
fn host_matches(pattern: &str, host: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        assert!(host_matches("*", "a.com"));
        assert!(host_matches("*.example.com", "api.example.com"));
        assert!(!host_matches("*.example.com", "example.org"));
        assert!(host_matches("a.com", "a.com"));
    }
}
