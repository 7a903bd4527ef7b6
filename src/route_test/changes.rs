//! The requests of the repo's route tests whose outcome a change alters: each case traced
//! through the base's render and the head's, and the two outcomes compared
//! (docs/ci.md#changed-outcomes). What a case expects does not matter here, only what
//! happens; whether the case passes on each side is said beside it.

use super::format::{caller_label, Case};
use super::run::{cluster_of, compare, destinations_label, status_label};
use crate::istio::object::{Kept, Rendered};
use crate::manifest::Location;
use crate::repo::Repo;
use crate::trace::{self, Outcome, Tracer};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// One side of a changed outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// The outcome, or None when the request cannot be traced on this side (`error`).
    pub outcome: Option<Outcome>,
    /// Why the request cannot be traced (the case's gateway is not rendered on this side).
    pub error: Option<String>,
    /// Whether the case's expectations hold on this side.
    pub passes: bool,
}

impl Side {
    /// Where the Gloo route taken is written.
    pub fn location(&self) -> Option<&Location> {
        let r = self.outcome.as_ref()?.route.as_ref()?;
        r.gloo.as_ref().map(|g| &g.location)
    }
}

/// A request whose outcome differs between the revisions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeChange {
    /// The case's name.
    pub name: String,
    /// Where the case is written (the head's file).
    pub test: Location,
    /// `GET www.example.com/db/x`.
    pub request: String,
    /// `gateway NS/NAME` or `mesh NS`.
    pub caller: String,
    /// The cluster traced.
    pub cluster: String,
    /// The base's outcome.
    pub before: Side,
    /// The head's outcome.
    pub after: Side,
    /// What changed, in parts: the destinations or status, the route.
    pub what: Vec<Part>,
}

/// One part of a changed outcome: `db-api:80 → reports:80`, `route db → reports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// What the values are (`route`), or None for the destinations or status.
    pub label: Option<&'static str>,
    /// The base's value.
    pub before: String,
    /// The head's value.
    pub after: String,
}

impl Part {
    fn new(label: Option<&'static str>, before: String, after: String) -> Part {
        Part {
            label,
            before,
            after,
        }
    }
}

impl std::fmt::Display for Part {
    /// `db-api:80 → reports:80`, ``route `db` → `reports` ``.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.label {
            Some(l) => write!(f, "{l} `{}` → `{}`", self.before, self.after),
            None => write!(f, "{} → {}", self.before, self.after),
        }
    }
}

impl OutcomeChange {
    /// The change in one line: `GET www.example.com/db/x: db-api:80 → reports:80, route
    /// `db` → `reports``.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self.what.iter().map(|p| p.to_string()).collect();
        format!("{}: {}", self.request, parts.join(", "))
    }
}

/// What of an outcome counts for a change: status, route (by name, not by line) and
/// destinations.
type Key<'a> = (
    &'a trace::Status,
    Option<(
        &'a trace::NsName,
        Option<&'a String>,
        Option<(&'a trace::NsName, Option<&'a String>)>,
    )>,
    &'a [trace::Destination],
);

fn key(o: &Outcome) -> Key<'_> {
    (
        &o.status,
        o.route.as_ref().map(|r| {
            (
                &r.virtual_service,
                r.name.as_ref(),
                r.gloo.as_ref().map(|g| (&g.table, g.route.as_ref())),
            )
        }),
        &o.destinations,
    )
}

/// The kinds a trace reads among the rendered objects.
const TRACED: &[&str] = &[
    "Gateway",
    "VirtualService",
    "ServiceEntry",
    "DestinationRule",
    "WorkloadEntry",
];

/// The objects of `kept` a trace reads, with their values as JSON.
pub fn traced_values(kept: &[Kept]) -> Vec<Rendered> {
    kept.par_iter()
        .filter(|k| {
            let [api, kind, _, _] = k.id_str();
            crate::manifest::group_of(api) == "networking.istio.io" && TRACED.contains(&kind)
        })
        .map(|k| Rendered {
            cluster: k.cluster.clone(),
            value: k.value.to_json(),
            sources: k.sources.clone(),
            origins: k.origins.clone(),
        })
        .collect()
}

/// A tracer per cluster of a render (those of `only`, when not empty).
fn tracers<'a>(
    (objects, repo): (&'a [Rendered], &'a Repo),
    only: &[String],
) -> BTreeMap<String, Tracer<'a>> {
    repo.clusters
        .iter()
        .filter(|c| only.is_empty() || only.contains(c))
        .map(|c| (c.clone(), Tracer::new(objects, repo, c)))
        .collect()
}

/// Traces `case` on one side.
fn side(tracers: &BTreeMap<String, Tracer<'_>>, repo: &Repo, case: &Case) -> Option<Side> {
    let cluster = cluster_of(case, repo).ok()?;
    let t = tracers.get(&cluster)?;
    Some(match t.trace(&case.request.parsed, &case.caller) {
        Ok(tr) => Side {
            passes: compare(&case.expect, &tr).is_empty(),
            outcome: Some(tr.outcome),
            error: None,
        },
        Err(e) => Side {
            outcome: None,
            error: Some(e.to_string()),
            passes: false,
        },
    })
}

/// The cases (the head's) whose outcome differs between `base` and `head` (each its render
/// as [`traced_values`] and its repo), in case order. Cases of clusters outside `only` (when
/// not empty) or of no cluster of the head are left out.
pub fn changes(
    cases: &[Case],
    base: (&[Rendered], &Repo),
    head: (&[Rendered], &Repo),
    only: &[String],
) -> Vec<OutcomeChange> {
    let (bt, ht) = (tracers(base, only), tracers(head, only));
    cases
        .par_iter()
        .filter_map(|case| {
            let after = side(&ht, head.1, case)?;
            let cluster = cluster_of(case, head.1).ok()?;
            let before = side(&bt, base.1, case).unwrap_or(Side {
                outcome: None,
                error: Some(format!("the base has no cluster `{cluster}`")),
                passes: false,
            });
            let same = match (&before.outcome, &after.outcome) {
                (Some(b), Some(a)) => key(b) == key(a),
                (None, None) => before.error == after.error,
                _ => false,
            };
            if same {
                return None;
            }
            // Only a changed outcome is shown: its routes are located here, not while tracing.
            let (mut before, mut after) = (before, after);
            for (side, tracers) in [(&mut before, &bt), (&mut after, &ht)] {
                let route = side.outcome.as_mut().and_then(|o| o.route.as_mut());
                if let (Some(r), Some(t)) = (route, tracers.get(&cluster)) {
                    t.locate_route(r);
                }
            }
            Some(OutcomeChange {
                name: case.name.clone(),
                test: case.location.clone(),
                request: case.request_label(),
                caller: caller_label(&case.caller),
                cluster,
                what: what(&before, &after),
                before,
                after,
            })
        })
        .collect()
}

/// The Gloo route taken, as a change names it: the route's name, with its table when the
/// tables differ.
fn route_name(o: &Outcome, with_table: bool) -> String {
    match o.route.as_ref() {
        None => "none".into(),
        Some(r) => match &r.gloo {
            Some(g) => {
                let n = g.route.as_deref().unwrap_or("(unnamed)");
                if with_table {
                    format!("{} {n}", g.table)
                } else {
                    n.to_string()
                }
            }
            None => format!(
                "{} {}",
                r.virtual_service,
                r.name.as_deref().unwrap_or("(unnamed)")
            ),
        },
    }
}

/// The parts of a change: the status, the destinations and the route, those that differ.
fn what(before: &Side, after: &Side) -> Vec<Part> {
    let (b, a) = match (&before.outcome, &after.outcome) {
        (Some(b), Some(a)) => (b, a),
        (b, a) => {
            let say = |o: Option<&Outcome>, s: &Side| match o {
                Some(o) => super::run::route_label(o)
                    .map(|r| format!("{} by {r}", status_label(&o.status)))
                    .unwrap_or_else(|| status_label(&o.status)),
                None => s.error.clone().unwrap_or_default(),
            };
            return vec![Part::new(
                None,
                say(b.as_ref(), before),
                say(a.as_ref(), after),
            )];
        }
    };
    let mut out = Vec::new();
    let routed = |o: &Outcome| matches!(o.status, trace::Status::Routed);
    if routed(b) && routed(a) {
        if b.destinations != a.destinations {
            out.push(Part::new(
                None,
                destinations_label(&b.destinations),
                destinations_label(&a.destinations),
            ));
        }
    } else if b.status != a.status || routed(b) != routed(a) {
        let say = |o: &Outcome| {
            if routed(o) {
                destinations_label(&o.destinations)
            } else {
                status_label(&o.status)
            }
        };
        out.push(Part::new(None, say(b), say(a)));
    }
    let tables_differ = b
        .route
        .as_ref()
        .and_then(|r| r.gloo.as_ref())
        .map(|g| &g.table)
        != a.route
            .as_ref()
            .and_then(|r| r.gloo.as_ref())
            .map(|g| &g.table);
    let (rb, ra) = (route_name(b, tables_differ), route_name(a, tables_differ));
    if rb != ra {
        out.push(Part::new(Some("route"), rb, ra));
    }
    if out.is_empty() {
        // The same Gloo route and destinations through another rendered route.
        let vs = |o: &Outcome| {
            o.route
                .as_ref()
                .map(|r| format!("{} {}", r.virtual_service, r.name.as_deref().unwrap_or("")))
                .unwrap_or_default()
        };
        out.push(Part::new(Some("VirtualService route"), vs(b), vs(a)));
    }
    out
}
