//! References to clusters: every `cluster` a Gloo object names (a destination's `ref`, a
//! `virtualGateways[]` reference, an object selector) must be one meshform.yaml declares, or
//! the output would name a cluster nothing resolves (docs/config.md#clusters). A Workspace's
//! `workloadClusters[].name` is not checked: a workspace may span clusters the repo does not
//! render. Repos without a `clusters` list are one cluster and are not checked.

use super::types::*;
use super::{Meta, Model};
use crate::diag::codes::Typing;
use crate::diag::Diagnostic;
use crate::repo::Repo;

/// Collects the errors of one object's cluster fields.
struct Check<'a> {
    repo: &'a Repo,
    declared: &'a [String],
    out: Vec<Diagnostic>,
}

impl Check<'_> {
    /// `cluster` at `field` of the object of `meta`: an error unless empty, a glob, or declared.
    fn name(&mut self, meta: &Meta, field: &str, cluster: &str) {
        if cluster.is_empty() || cluster.contains('*') || self.declared.iter().any(|c| c == cluster)
        {
            return;
        }
        let Some(o) = self.repo.objects.get(meta.index) else {
            return;
        };
        let guess =
            crate::diag::suggest::nearest(cluster, self.declared.iter().map(String::as_str));
        let mut message = format!(
            "cluster `{cluster}` is not declared in meshform.yaml (clusters: {})",
            self.declared.join(", ")
        );
        if let Some(g) = guess {
            message.push_str(&format!("; did you mean `{g}`?"));
        }
        self.out.push(
            Diagnostic::error(Typing::UndeclaredCluster, message)
                .at(self.repo.locate(o, field))
                .on(o.id.clone())
                .field(field)
                .help(
                    "name a declared cluster, leave `cluster` out for the object's own, or add \
                     the cluster to meshform.yaml `clusters`",
                ),
        );
    }

    fn selector(&mut self, meta: &Meta, at: &str, s: &ObjectSelector) {
        self.name(meta, &format!("{at}.cluster"), &s.cluster);
    }

    fn destination(&mut self, meta: &Meta, at: &str, d: &DestinationReference) {
        if let Some(r) = &d.r#ref {
            self.name(meta, &format!("{at}.ref.cluster"), &r.cluster);
        }
    }

    fn forward(&mut self, meta: &Meta, at: &str, f: &Option<ForwardToAction>) {
        let dests = f.as_ref().and_then(|f| f.destinations.as_ref());
        for (j, d) in dests.into_iter().flatten().enumerate() {
            self.destination(meta, &format!("{at}.forwardTo.destinations[{j}]"), d);
        }
    }

    fn workloads(&mut self, meta: &Meta, at: &str, ws: &Option<Vec<WorkloadSelector>>) {
        for (i, w) in ws.iter().flatten().enumerate() {
            if let Some(s) = &w.selector {
                self.selector(meta, &format!("{at}[{i}].selector"), s);
            }
        }
    }
}

/// The errors for clusters named in `model`'s objects that meshform.yaml does not declare,
/// listing the declared ones.
pub fn undeclared(repo: &Repo, model: &Model) -> Vec<Diagnostic> {
    if repo.config.clusters.is_empty() {
        return Vec::new();
    }
    let mut c = Check {
        repo,
        declared: &repo.clusters,
        out: Vec::new(),
    };
    for t in &model.route_tables {
        let (m, s) = (&t.meta, &*t.spec);
        for (i, r) in s.virtual_gateways.iter().flatten().enumerate() {
            c.name(m, &format!("spec.virtualGateways[{i}].cluster"), &r.cluster);
        }
        c.workloads(m, "spec.workloadSelectors", &s.workload_selectors);
        if let Some(d) = &s.default_destination {
            c.destination(m, "spec.defaultDestination", d);
        }
        for (i, r) in s.http.iter().flatten().enumerate() {
            c.forward(m, &format!("spec.http[{i}]"), &r.forward_to);
            if let Some(d) = &r.delegate {
                for (j, sel) in d.route_tables.iter().enumerate() {
                    c.selector(m, &format!("spec.http[{i}].delegate.routeTables[{j}]"), sel);
                }
            }
        }
        for (i, r) in s.tcp.iter().flatten().enumerate() {
            c.forward(m, &format!("spec.tcp[{i}]"), &r.forward_to);
        }
        for (i, r) in s.tls.iter().flatten().enumerate() {
            c.forward(m, &format!("spec.tls[{i}]"), &r.forward_to);
        }
    }
    for t in &model.virtual_destinations {
        let (m, s) = (&t.meta, &*t.spec);
        for (list, at) in [
            (&s.services, "services"),
            (&s.external_services, "externalServices"),
            (&s.external_workloads, "externalWorkloads"),
        ] {
            for (i, sel) in list.iter().enumerate() {
                c.selector(m, &format!("spec.{at}[{i}]"), sel);
            }
        }
    }
    for t in &model.virtual_gateways {
        c.workloads(&t.meta, "spec.workloads", &t.spec.workloads);
    }
    for t in &model.workspace_settings {
        let s = &*t.spec;
        for (list, at) in [(&s.import_from, "importFrom"), (&s.export_to, "exportTo")] {
            for (i, sel) in list.iter().enumerate() {
                for (j, r) in sel.resources.iter().flatten().enumerate() {
                    let field = format!("spec.{at}[{i}].resources[{j}].cluster");
                    c.name(&t.meta, &field, r.cluster.as_deref().unwrap_or_default());
                }
            }
        }
    }
    for t in &model.fault_policies {
        for (i, r) in t.spec.apply_to_routes.iter().enumerate() {
            c.selector(&t.meta, &format!("spec.applyToRoutes[{i}].route"), &r.route);
        }
    }
    for t in &model.retry_timeout_policies {
        for (i, r) in t.spec.apply_to_routes.iter().enumerate() {
            c.selector(&t.meta, &format!("spec.applyToRoutes[{i}].route"), &r.route);
        }
    }
    for t in &model.mirror_policies {
        for (i, r) in t.spec.apply_to_routes.iter().enumerate() {
            c.selector(&t.meta, &format!("spec.applyToRoutes[{i}].route"), &r.route);
        }
        if let Some(d) = t.spec.config.as_ref().and_then(|c| c.destination.as_ref()) {
            c.destination(&t.meta, "spec.config.destination", d);
        }
    }
    let header_selectors = model
        .header_policies
        .iter()
        .map(|t| (&t.meta, &t.spec.apply_to_routes));
    let cors_selectors = model
        .cors_policies
        .iter()
        .map(|t| (&t.meta, &t.spec.apply_to_routes));
    for (meta, sels) in header_selectors.chain(cors_selectors) {
        for (i, r) in sels.iter().enumerate() {
            c.selector(meta, &format!("spec.applyToRoutes[{i}].route"), &r.route);
        }
    }
    let dest_policies = model
        .outlier_policies
        .iter()
        .map(|t| (&t.meta, &t.spec.apply_to_destinations))
        .chain(
            model
                .load_balancer_policies
                .iter()
                .map(|t| (&t.meta, &t.spec.apply_to_destinations)),
        )
        .chain(
            model
                .connection_policies
                .iter()
                .map(|t| (&t.meta, &t.spec.apply_to_destinations)),
        )
        .chain(
            model
                .failover_policies
                .iter()
                .map(|t| (&t.meta, &t.spec.apply_to_destinations)),
        )
        .chain(
            model
                .client_tls_policies
                .iter()
                .map(|t| (&t.meta, &t.spec.apply_to_destinations)),
        );
    for (meta, selectors) in dest_policies {
        for (i, d) in selectors.iter().enumerate() {
            c.selector(
                meta,
                &format!("spec.applyToDestinations[{i}].selector"),
                &d.selector,
            );
        }
    }
    c.out
}
