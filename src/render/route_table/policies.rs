//! Route policies: the routes a Gloo policy selects, and which one of several policies of one
//! kind applies to a route (docs/translation.md#policies).

use super::super::oldest::{oldest, Target};
use super::super::{Ctx, Part};
use super::delegation::FlatRoute;
use crate::gloo::types::{
    CorsPolicySpec, FaultInjectionPolicySpec, HeaderManipulationPolicySpec, MirrorPolicySpec,
    RetryTimeoutPolicySpec, RouteSelector,
};
use crate::gloo::Typed;

/// A policy kind that selects routes with `applyToRoutes`.
pub(super) trait RoutePolicy {
    /// The kind, as written in manifests.
    const KIND: &'static str;
    /// `spec.applyToRoutes`.
    fn apply_to_routes(&self) -> &[RouteSelector];
}

impl RoutePolicy for FaultInjectionPolicySpec {
    const KIND: &'static str = "FaultInjectionPolicy";
    fn apply_to_routes(&self) -> &[RouteSelector] {
        &self.apply_to_routes
    }
}

impl RoutePolicy for RetryTimeoutPolicySpec {
    const KIND: &'static str = "RetryTimeoutPolicy";
    fn apply_to_routes(&self) -> &[RouteSelector] {
        &self.apply_to_routes
    }
}

impl RoutePolicy for MirrorPolicySpec {
    const KIND: &'static str = "MirrorPolicy";
    fn apply_to_routes(&self) -> &[RouteSelector] {
        &self.apply_to_routes
    }
}

impl RoutePolicy for HeaderManipulationPolicySpec {
    const KIND: &'static str = "HeaderManipulationPolicy";
    fn apply_to_routes(&self) -> &[RouteSelector] {
        &self.apply_to_routes
    }
}

impl RoutePolicy for CorsPolicySpec {
    const KIND: &'static str = "CORSPolicy";
    fn apply_to_routes(&self) -> &[RouteSelector] {
        &self.apply_to_routes
    }
}

/// The value of label `key` on a route as policies see it: the route's own labels, then its
/// table's, then each delegating route's and its table's, nearest first.
fn effective_label<'a>(r: &FlatRoute<'a>, key: &str) -> Option<&'a String> {
    r.labels
        .get(key)
        .or_else(|| r.table.meta.labels.get(key))
        .or_else(|| {
            r.ancestors.iter().find_map(|(route, table)| {
                route.labels.get(key).or_else(|| table.meta.labels.get(key))
            })
        })
}

/// Whether one `applyToRoutes` entry selects the route: every label matches the route's
/// effective labels, and the namespace, cluster and workspace given match the route's table.
fn selects(s: &RouteSelector, r: &FlatRoute<'_>) -> bool {
    let (sel, t) = (&s.route, &r.table.meta);
    (sel.namespace.is_empty() || sel.namespace == t.namespace)
        && (sel.cluster.is_empty() || sel.cluster == t.cluster)
        && (sel.workspace.is_empty() || sel.workspace == r.ws)
        && sel
            .labels
            .iter()
            .all(|(k, v)| effective_label(r, k) == Some(v))
}

/// Whether the policy acts on the route: it is in the workspace of the route's table or of a
/// table delegating to it, and it selects the route (no `applyToRoutes`: every route).
fn applies<T: RoutePolicy>(ctx: &Ctx<'_>, p: &Typed<T>, r: &FlatRoute<'_>) -> bool {
    let Some(ws) = ctx.ws_of(&p.meta) else {
        return false;
    };
    let in_scope = r.ws == ws
        || r.ancestors
            .iter()
            .any(|(_, t)| ctx.ws_of(&t.meta) == Some(ws));
    let selectors = p.spec.apply_to_routes();
    in_scope && (selectors.is_empty() || selectors.iter().any(|s| selects(s, r)))
}

/// The policy of this kind that applies to the route. Gloo applies the oldest policy whole
/// and marks the others FAILED; each other one is a warning at its own line.
pub(super) fn applying<'p, T: RoutePolicy>(
    ctx: &Ctx<'_>,
    policies: &'p [Typed<T>],
    r: &FlatRoute<'_>,
    part: &mut Part,
) -> Option<&'p Typed<T>> {
    let hits: Vec<&Typed<T>> = policies.iter().filter(|p| applies(ctx, p, r)).collect();
    if hits.len() < 2 {
        return hits.first().copied();
    }
    let table = &r.table.meta;
    let name = format!(
        "route `{}` of RouteTable {}/{}",
        r.name, table.namespace, table.name
    );
    let target = Target {
        name: &name,
        one: "route",
        many: "routes",
    };
    oldest(ctx, T::KIND, hits, &target, part)
}
