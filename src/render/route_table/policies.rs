//! Route policies: the routes a Gloo policy selects, and which one of several policies of one
//! kind applies to a route (docs/translation.md#policies).

use super::super::oldest::{oldest, Target};
use super::super::{Ctx, Part};
use super::delegation::{Action, FlatRoute};
use super::destinations::{http_destinations, Written};
use crate::diag::codes::Translate;
use crate::diag::Diagnostic;
use crate::gloo::refs;
use crate::gloo::types::{
    CorsPolicySpec, DestinationKind, DestinationReference, DestinationSelector,
    FaultInjectionPolicySpec, HeaderManipulationPolicySpec, MirrorPolicySpec,
    RetryTimeoutPolicySpec, RouteSelector,
};
use crate::gloo::{Meta, Model, Typed};
use crate::hashing::{FastMap, FastSet};

/// A route policy that selected a route, by identity (a translation kept for a later
/// revision keeps it, so it names no repo object index).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct UsedPolicy {
    kind: &'static str,
    cluster: String,
    namespace: String,
    name: String,
}

impl UsedPolicy {
    fn is(&self, kind: &str, m: &Meta) -> bool {
        self.kind == kind
            && self.name == m.name
            && self.namespace == m.namespace
            && self.cluster == m.cluster
    }
}

/// A warning for each route policy that selected no route of a rendered table: `used` are
/// those that did, gathered while the tables were translated. Runs once per run, and only
/// when every cluster is rendered (a route of a cluster left out may be the one it selects).
pub(crate) fn unused_policies(ctx: &Ctx<'_>, used: &[UsedPolicy]) -> Vec<Diagnostic> {
    let m = ctx.model;
    let mut out = Vec::new();
    if !ctx.opts.clusters.is_empty() {
        return out;
    }
    let used: FastSet<(&str, &str, &str, &str)> = used
        .iter()
        .map(|u| {
            (
                u.kind,
                u.cluster.as_str(),
                u.namespace.as_str(),
                u.name.as_str(),
            )
        })
        .collect();
    unused_of(ctx, &m.fault_policies, &used, &mut out);
    unused_of(ctx, &m.retry_timeout_policies, &used, &mut out);
    unused_of(ctx, &m.mirror_policies, &used, &mut out);
    out
}

fn unused_of<T: RoutePolicy>(
    ctx: &Ctx<'_>,
    policies: &[Typed<T>],
    used: &FastSet<(&str, &str, &str, &str)>,
    out: &mut Vec<Diagnostic>,
) {
    for p in policies {
        let m = &p.meta;
        let Some(ws) = ctx.ws_of(m) else {
            continue;
        };
        if used.contains(&(
            T::KIND,
            m.cluster.as_str(),
            m.namespace.as_str(),
            m.name.as_str(),
        )) {
            continue;
        }
        let field = if p.spec.apply_to_routes().is_empty() {
            "metadata.name"
        } else {
            "spec.applyToRoutes"
        };
        out.push(
            ctx.warning(
                m,
                Translate::PolicySelectsNothing,
                field,
                format!(
                    "{} {}/{} selects no route of workspace {ws} (or of a table delegating to one of its routes); it changes nothing",
                    T::KIND,
                    m.namespace,
                    m.name
                ),
            )
            .help("check the selector's labels (the route's, its table's, or inherited through delegation), namespace, cluster and workspace, or withDestinations' kind (SERVICE when unset), selector and port"),
        );
    }
}

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

/// Whether one `applyToRoutes` entry selects the route: with `withDestinations`, whether the
/// route forwards to a destination it selects; else whether every label matches the route's
/// effective labels, and the namespace, cluster and workspace given match the route's table.
fn selects(ctx: &Ctx<'_>, s: &RouteSelector, r: &FlatRoute<'_>) -> bool {
    if let Some(d) = &s.with_destinations {
        return forwards_to(ctx, d, r);
    }
    let (sel, t) = (&s.route, &r.table.meta);
    (sel.namespace.is_empty() || sel.namespace == t.namespace)
        && (sel.cluster.is_empty() || sel.cluster == t.cluster)
        && (sel.workspace.is_empty() || sel.workspace == r.ws)
        && sel
            .labels
            .iter()
            .all(|(k, v)| effective_label(r, k) == Some(v))
}

/// Whether a forwardTo route sends to a destination `s` selects: one of its destinations (the
/// table's default when it lists none) is of the selector's kind, its object has the name,
/// namespace, cluster, workspace and labels given, and its port is the one given. Delegating,
/// redirect and direct-response routes have no destination, so none is selected
/// (docs/translation.md#policies).
fn forwards_to(ctx: &Ctx<'_>, s: &DestinationSelector, r: &FlatRoute<'_>) -> bool {
    let Action::Forward(f) = &r.action else {
        return false;
    };
    match http_destinations(r.table, f) {
        Some(Written::Route(ds)) => ds
            .iter()
            .any(|d| destination_selected(ctx, s, &r.table.meta, d)),
        Some(Written::Default(d)) => destination_selected(ctx, s, &r.table.meta, d),
        None => false,
    }
}

/// Whether selector `s` selects destination `d` written in the table of `table`.
fn destination_selected(
    ctx: &Ctx<'_>,
    s: &DestinationSelector,
    table: &Meta,
    d: &DestinationReference,
) -> bool {
    let Some(r) = d.r#ref.as_ref() else {
        return false;
    };
    if s.kind != d.kind {
        return false;
    }
    let t = refs::Target::of(table, d.kind, r);
    let sel = &s.selector;
    if !(sel.name.is_empty() || sel.name == t.name)
        || !(sel.namespace.is_empty() || sel.namespace == t.namespace)
        || !(sel.cluster.is_empty() || sel.cluster == t.cluster)
    {
        return false;
    }
    let m = ctx.model;
    if !sel.workspace.is_empty() && m.workspace_of(t.cluster, t.namespace) != Some(&sel.workspace) {
        return false;
    }
    // The object's metadata labels and its ports as (number, name); a Service not in the repo
    // has neither.
    let (labels, ports): (Option<&crate::gloo::types::Labels>, Vec<(u32, &str)>) = match d.kind {
        DestinationKind::Service => {
            m.service(t.cluster, t.namespace, t.name)
                .map_or((None, Vec::new()), |svc| {
                    let ports = svc.ports.iter().map(|(n, p, _)| (*p, n.as_str())).collect();
                    (Some(&svc.meta.labels), ports)
                })
        }
        DestinationKind::VirtualDestination => m
            .virtual_destination(t.cluster, t.namespace, t.name)
            .map_or((None, Vec::new()), |v| {
                let ports = v.spec.ports.iter().map(|p| (p.number, "")).collect();
                (Some(&v.meta.labels), ports)
            }),
        DestinationKind::ExternalService => m
            .external_service(t.cluster, t.namespace, t.name)
            .map_or((None, Vec::new()), |e| {
                let ports = e
                    .spec
                    .ports
                    .iter()
                    .map(|p| (p.number, p.name.as_str()))
                    .collect();
                (Some(&e.meta.labels), ports)
            }),
    };
    let labelled = sel
        .labels
        .iter()
        .all(|(k, v)| labels.is_some_and(|l| l.get(k) == Some(v)));
    if !labelled {
        return false;
    }
    let Some(want) = &s.port else {
        return true;
    };
    let fits = |number: Option<u32>, name: Option<&str>| {
        want.number.is_none_or(|n| number == Some(n))
            && want.name.as_deref().is_none_or(|n| name == Some(n))
    };
    match &d.port {
        // The port the route names: the object's port of that number or name, else as written.
        Some(p) => {
            let named = ports.iter().find(|(number, name)| {
                p.number.is_some_and(|n| n == *number)
                    || p.name
                        .as_deref()
                        .is_some_and(|n| !n.is_empty() && n == *name)
            });
            match named {
                Some((number, name)) => fits(Some(*number), Some(name)),
                None => fits(p.number, p.name.as_deref()),
            }
        }
        // No port: the destination's only port.
        None => ports
            .iter()
            .any(|(number, name)| fits(Some(*number), Some(name))),
    }
}

/// The route and destination policies of each kind by the workspace they are in: (kind,
/// workspace) → their indexes in the model's list of that kind, in order. Built once per
/// render, so a route or destination port tests only the policies of its workspaces.
pub(crate) struct PoliciesByWorkspace<'a>(FastMap<(&'static str, &'a str), Vec<usize>>);

impl<'a> PoliciesByWorkspace<'a> {
    pub(crate) fn new(m: &'a Model) -> Self {
        let mut map: FastMap<(&'static str, &'a str), Vec<usize>> = FastMap::default();
        let mut add = |kind: &'static str, metas: &mut dyn Iterator<Item = &'a Meta>| {
            for (i, meta) in metas.enumerate() {
                if let Some(ws) = m.workspace_of(&meta.cluster, &meta.namespace) {
                    map.entry((kind, ws)).or_default().push(i);
                }
            }
        };
        add(
            FaultInjectionPolicySpec::KIND,
            &mut m.fault_policies.iter().map(|p| &p.meta),
        );
        add(
            RetryTimeoutPolicySpec::KIND,
            &mut m.retry_timeout_policies.iter().map(|p| &p.meta),
        );
        add(
            MirrorPolicySpec::KIND,
            &mut m.mirror_policies.iter().map(|p| &p.meta),
        );
        add(
            HeaderManipulationPolicySpec::KIND,
            &mut m.header_policies.iter().map(|p| &p.meta),
        );
        add(
            CorsPolicySpec::KIND,
            &mut m.cors_policies.iter().map(|p| &p.meta),
        );
        let destination_kinds: [(&'static str, &mut dyn Iterator<Item = &'a Meta>); 5] = [
            (
                "OutlierDetectionPolicy",
                &mut m.outlier_policies.iter().map(|p| &p.meta),
            ),
            (
                "LoadBalancerPolicy",
                &mut m.load_balancer_policies.iter().map(|p| &p.meta),
            ),
            (
                "FailoverPolicy",
                &mut m.failover_policies.iter().map(|p| &p.meta),
            ),
            (
                "ConnectionPolicy",
                &mut m.connection_policies.iter().map(|p| &p.meta),
            ),
            (
                "ClientTLSPolicy",
                &mut m.client_tls_policies.iter().map(|p| &p.meta),
            ),
        ];
        for (kind, metas) in destination_kinds {
            add(kind, metas);
        }
        PoliciesByWorkspace(map)
    }

    /// The indexes of the policies of `kind` in workspace `ws`.
    pub(crate) fn of(&self, kind: &'static str, ws: &'a str) -> &[usize] {
        self.0.get(&(kind, ws)).map_or(&[], Vec::as_slice)
    }
}

/// The policies that act on the route: those in the workspace of the route's table or of a
/// table delegating to it that select the route (no `applyToRoutes`: every route), in the
/// order of `policies`.
fn selecting<'p, T: RoutePolicy>(
    ctx: &Ctx<'_>,
    policies: &'p [Typed<T>],
    r: &FlatRoute<'_>,
) -> Vec<&'p Typed<T>> {
    let mut scope: Vec<&str> = vec![r.ws];
    for (_, t) in &r.ancestors {
        if let Some(ws) = ctx.ws_of(&t.meta) {
            if !scope.contains(&ws) {
                scope.push(ws);
            }
        }
    }
    let mut found: Vec<usize> = scope
        .iter()
        .flat_map(|ws| ctx.policies_by_ws.of(T::KIND, ws))
        .copied()
        .filter(|&i| {
            let selectors = policies[i].spec.apply_to_routes();
            selectors.is_empty() || selectors.iter().any(|s| selects(ctx, s, r))
        })
        .collect();
    found.sort_unstable();
    found.into_iter().map(|i| &policies[i]).collect()
}

/// The policy of this kind that applies to the route. Gloo applies the oldest policy whole
/// and marks the others FAILED; each other one is a warning at its own line.
pub(super) fn applying<'p, T: RoutePolicy>(
    ctx: &Ctx<'_>,
    policies: &'p [Typed<T>],
    r: &FlatRoute<'_>,
    part: &mut Part,
) -> Option<&'p Typed<T>> {
    let hits = selecting(ctx, policies, r);
    for p in &hits {
        let m = &p.meta;
        if !part.used.iter().any(|u| u.is(T::KIND, m)) {
            part.used.push(UsedPolicy {
                kind: T::KIND,
                cluster: m.cluster.clone(),
                namespace: m.namespace.clone(),
                name: m.name.clone(),
            });
        }
    }
    let winner = if hits.len() < 2 {
        hits.first().copied()
    } else {
        conflict(ctx, hits, r, part)
    };
    winner
}

/// The oldest of several policies of one kind selecting the route; each other is a warning.
fn conflict<'p, T: RoutePolicy>(
    ctx: &Ctx<'_>,
    hits: Vec<&'p Typed<T>>,
    r: &FlatRoute<'_>,
    part: &mut Part,
) -> Option<&'p Typed<T>> {
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
