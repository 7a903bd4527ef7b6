//! SARIF 2.1.0 output (OASIS SARIF v2.1.0: sarifLog → runs[].tool.driver, results[] with
//! ruleId, level, message.text, locations[].physicalLocation.{artifactLocation.uri, region}).

use crate::diag::{Code, Diagnostic, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The `$schema` written into the log.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A repo-relative path as a URI reference (percent-encoding what is not unreserved or `/`).
pub fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(file: &str, line: u32, column: u32) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri(file), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": line.max(1), "startColumn": column.max(1)}
        }
    })
}

/// Renders findings as a SARIF 2.1.0 log. A rule's text is the policy's description
/// (`descriptions`, policy name to text) or the code registry's (`diag::codes`). A finding
/// without a location is placed at line 1 of `unlocated` when given: GitHub code scanning
/// refuses a result without a location.
pub fn render(
    findings: &[Diagnostic],
    descriptions: &BTreeMap<String, String>,
    unlocated: Option<&str>,
) -> String {
    let codes: Vec<&Code> = {
        let mut v: Vec<&Code> = findings.iter().map(|d| &d.code).collect();
        v.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        v.dedup_by(|a, b| a.as_str() == b.as_str());
        v
    };
    let ids: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    let rules: Vec<Value> = codes
        .iter()
        .map(|code| {
            let id = code.as_str();
            let text = match (descriptions.get(id), code.description()) {
                (Some(d), _) => d.clone(),
                (None, Some(d)) => d.to_string(),
                (None, None) => format!("policy {id}"),
            };
            json!({"id": id, "name": id, "shortDescription": {"text": text}})
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|d| {
            let mut r = json!({
                "ruleId": d.code,
                "ruleIndex": ids.iter().position(|i| *i == d.code.as_str()).unwrap_or(0),
                "level": level(d.severity),
                "message": {"text": match &d.help {
                    Some(h) => format!("{} (help: {h})", d.message),
                    None => d.message.clone(),
                }},
            });
            if let Some(l) = &d.location {
                r["locations"] = json!([location(&l.file, l.line, l.column)]);
            } else if let Some(f) = unlocated {
                r["locations"] = json!([location(f, 1, 1)]);
            }
            if !d.related.is_empty() {
                r["relatedLocations"] = d
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, (l, n))| {
                        let mut v = location(&l.file, l.line, l.column);
                        v["id"] = json!(i + 1);
                        v["message"] = json!({"text": n});
                        v
                    })
                    .collect();
            }
            r
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "meshform",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/meshform/meshform",
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the repository root"}}},
            "results": results,
        }]
    });
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}
