//! The machine-readable format: one JSON document with the sides, a summary, every object
//! with its before, after, changed field paths, sources and unified diff, the requests of the
//! route tests whose outcome changed, the changed Gloo
//! routes, the routing changes and the policy findings added and fixed.

use super::Report;
use serde_json::{json, Value};

fn finding(d: &crate::diag::Diagnostic) -> Value {
    json!({
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        "file": d.location.as_ref().map(|l| l.file.to_string()),
        "line": d.location.as_ref().map(|l| l.line),
        "column": d.location.as_ref().map(|l| l.column),
        "object": d.object,
        "field": d.field,
    })
}

/// A changed route: its table, route (or index, and protocol), change, clusters, where it is written, the change in
/// words and both sides (docs/ci.md#route-changes).
fn route(c: &super::routes::RouteChange) -> Value {
    use super::routes::RouteId;
    let name = match &c.route {
        RouteId::Named(n) => Some(n.as_str()),
        _ => None,
    };
    let first = c.locations.first();
    json!({
        "namespace": c.namespace,
        "table": c.table,
        "route": name,
        "index": c.route.index(),
        "scope": if c.route == RouteId::Table { "table" } else { "route" },
        "protocol": c.route.protocol(),
        "change": c.change,
        "clusters": c.clusters,
        "file": first.map(|l| l.file.to_string()),
        "line": first.map(|l| l.line),
        "locations": c.locations.iter().map(|l| json!({"file": l.file.to_string(), "line": l.line})).collect::<Vec<_>>(),
        "summary": super::routes::plain_what(c),
        "before": c.before,
        "after": c.after,
    })
}

/// A request whose outcome changed: the case, its place, the change in words and both
/// outcomes with the Gloo route's place (docs/ci.md#changed-outcomes).
fn outcome(c: &crate::route_test::changes::OutcomeChange) -> Value {
    let side = |s: &crate::route_test::changes::Side| {
        json!({
            "summary": s.outcome.as_ref().map(crate::report::route_tests::summary),
            "outcome": s.outcome,
            "error": s.error,
            "passes": s.passes,
            "file": s.location().map(|l| l.file.to_string()),
            "line": s.location().map(|l| l.line),
        })
    };
    json!({
        "name": c.name,
        "file": c.test.file.to_string(),
        "line": c.test.line,
        "request": c.request,
        "caller": c.caller,
        "cluster": c.cluster,
        "summary": c.summary(),
        "before": side(&c.before),
        "after": side(&c.after),
    })
}

/// The report as a JSON value (keys in a fixed order).
pub fn to_value(report: &Report) -> Value {
    let objects: Vec<Value> = report
        .objects
        .iter()
        .map(|d| {
            json!({
                "cluster": d.cluster,
                "apiVersion": d.id.api_version,
                "kind": d.id.kind,
                "namespace": d.id.namespace,
                "name": d.id.name,
                "change": d.change,
                "changedPaths": d.paths,
                "sources": d.sources.iter().map(|s| json!({
                    "file": s.location.file.to_string(),
                    "line": s.location.line,
                    "apiVersion": s.id.api_version,
                    "kind": s.id.kind,
                    "namespace": s.id.namespace,
                    "name": s.id.name,
                })).collect::<Vec<_>>(),
                "before": d.before,
                "after": d.after,
                "diff": d.unified,
            })
        })
        .collect();
    let totals = report.totals();
    json!({
        "base": {
            "rev": report.base.label,
            "commit": report.base.commit,
            "error": report.base_error.as_ref().map(|es| es.iter().map(|e| e.to_string()).collect::<Vec<_>>()),
        },
        "head": {"rev": report.head.label, "commit": report.head.commit},
        "summary": {
            "added": totals.added,
            "changed": totals.changed,
            "removed": totals.removed,
            "unchanged": totals.unchanged,
            "clusters": report.clusters,
        },
        "outcomes": report.outcomes.iter().map(outcome).collect::<Vec<_>>(),
        "routes": report.routes.iter().map(route).collect::<Vec<_>>(),
        "objects": objects,
        "routing": report.routing.iter().map(|h| json!({
            "cluster": h.cluster,
            "host": h.host,
            "before": h.before,
            "after": h.after,
        })).collect::<Vec<_>>(),
        "findings": {
            "added": report.findings_added.iter().map(finding).collect::<Vec<_>>(),
            "fixed": report.findings_fixed.iter().map(finding).collect::<Vec<_>>(),
        },
    })
}

/// The report as pretty JSON with a final newline.
pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(report)).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}
