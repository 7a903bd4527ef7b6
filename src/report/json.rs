//! The stable JSON report of `meshform check --format json` (documented in docs/policies.md).

use crate::diag::{Diagnostic, Severity};
use serde_json::{json, Value};

/// Counts for the summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    /// Objects in the repo.
    pub objects: usize,
    /// Policies evaluated.
    pub policies: usize,
}

fn finding(d: &Diagnostic) -> Value {
    let mut v = json!({
        "policy": d.code,
        "severity": d.severity.to_string(),
        "message": d.message,
        "file": d.location.as_ref().map(|l| l.file.to_string()),
        "line": d.location.as_ref().map(|l| l.line),
        "column": d.location.as_ref().map(|l| l.column),
        "object": d.object.as_ref().map(|o| json!({
            "apiVersion": o.api_version,
            "kind": o.kind,
            "namespace": o.namespace,
            "name": o.name,
        })),
    });
    if let Some(f) = &d.field {
        v["field"] = json!(f);
    }
    if let Some(h) = &d.help {
        v["help"] = json!(h);
    }
    if !d.related.is_empty() {
        v["related"] = d
            .related
            .iter()
            .map(|(l, n)| json!({"file": l.file.to_string(), "line": l.line, "column": l.column, "note": n}))
            .collect();
    }
    v
}

/// Renders findings (already sorted) and suppressed findings as pretty JSON with a newline.
pub fn render(findings: &[Diagnostic], suppressed: &[Diagnostic], s: Summary) -> String {
    let count = |sev| findings.iter().filter(|d| d.severity == sev).count();
    let v = json!({
        "findings": findings.iter().map(finding).collect::<Vec<_>>(),
        "suppressed": suppressed.iter().map(finding).collect::<Vec<_>>(),
        "summary": {
            "errors": count(Severity::Error),
            "warnings": count(Severity::Warning),
            "infos": count(Severity::Info),
            "suppressed": suppressed.len(),
            "objects": s.objects,
            "policies": s.policies,
        }
    });
    let mut out = serde_json::to_string_pretty(&v).unwrap_or_default();
    out.push('\n');
    out
}
