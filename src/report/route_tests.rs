//! The report of `meshform test` (docs/route-tests.md#output): a line per case, the trace of
//! each failure; JSON for bots; GitHub annotations at the failing cases.

use crate::route_test::format::caller_label;
use crate::route_test::run::{destinations_label, route_label, status_label, Run};
use serde_json::{json, Value};
use std::fmt::Write;

/// `N cases: P passed, F failed[, S skipped]`.
fn totals(run: &Run<'_>) -> String {
    let mut s = format!(
        "{}: {} passed, {} failed",
        crate::diag::count(run.results.len(), "case", "cases"),
        run.passed(),
        run.failed()
    );
    if run.skipped > 0 {
        let _ = write!(s, ", {} skipped (other clusters)", run.skipped);
    }
    s
}

/// The text report: `PASS`/`FAIL file:line name` per case; under each failure the request,
/// what was expected and got, and the trace (`trace_text` renders it); then the totals.
pub fn text(run: &Run<'_>, trace_text: &dyn Fn(&crate::trace::Trace) -> String) -> String {
    let mut out = String::new();
    for r in &run.results {
        let c = r.case;
        let _ = writeln!(
            out,
            "{} {}:{} {}",
            if r.passed() { "PASS" } else { "FAIL" },
            c.location.file,
            c.location.line,
            c.name
        );
        if r.passed() {
            continue;
        }
        let _ = writeln!(
            out,
            "  {} from {} in {}",
            c.request_label(),
            caller_label(&c.caller),
            r.cluster
        );
        for p in &r.problems {
            let _ = writeln!(out, "  {p}");
        }
        let _ = writeln!(out, "  trace:");
        for l in trace_text(&r.trace).lines() {
            if l.is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "    {l}");
            }
        }
    }
    let _ = writeln!(out, "{}", totals(run));
    out
}

/// The JSON report: every case with its place, request, caller, cluster, whether it passed,
/// its unmet expectations and its outcome; failures also carry the whole trace. `prefix`
/// rebases the files on the git work tree's root (docs/ci.md#report-paths).
pub fn json(run: &Run<'_>, prefix: &str) -> String {
    let cases: Vec<Value> = run
        .results
        .iter()
        .map(|r| {
            let c = r.case;
            let o = &r.trace.outcome;
            let mut v = json!({
                "file": &*crate::report::rebased(prefix, &c.location.file),
                "line": c.location.line,
                "column": c.location.column,
                "suite": c.suite,
                "name": c.name,
                "cluster": r.cluster,
                "request": {
                    "method": c.request.method,
                    "url": c.request.url,
                    "headers": c.request.headers,
                },
                "caller": c.caller,
                "passed": r.passed(),
                "problems": r.problems,
                "outcome": {
                    "status": o.status,
                    "summary": summary(o),
                    "route": o.route,
                    "destinations": o.destinations,
                },
            });
            if !r.passed() {
                v["trace"] = serde_json::to_value(&r.trace).unwrap_or(Value::Null);
            }
            v
        })
        .collect();
    let v = json!({
        "cases": cases,
        "summary": {
            "cases": run.results.len(),
            "passed": run.passed(),
            "failed": run.failed(),
            "skipped": run.skipped,
        },
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// An outcome in one line: `routed: app/www db to db-api.internal.example.com:80`.
pub fn summary(o: &crate::trace::Outcome) -> String {
    let mut s = status_label(&o.status);
    if let Some(r) = route_label(o) {
        let _ = write!(s, " by {r}");
    }
    if matches!(o.status, crate::trace::Status::Routed) {
        let _ = write!(s, " to {}", destinations_label(&o.destinations));
    }
    s
}

/// GitHub workflow commands: an `::error` at each failing case (paths rebased on `prefix`),
/// then the totals.
pub fn github(run: &Run<'_>, prefix: &str) -> String {
    let mut findings = run.findings();
    crate::report::rebase(&mut findings, prefix);
    let mut out = crate::report::github::annotations(&findings);
    let _ = writeln!(out, "meshform test: {}", totals(run));
    out
}
