//! SARIF 2.1.0 output (OASIS SARIF v2.1.0: sarifLog → runs[].tool.driver, results[] with
//! ruleId, level, message.text, locations[].physicalLocation.{artifactLocation.uri, region}).

use crate::diag::{Diagnostic, Severity};
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

/// Renders findings as a SARIF 2.1.0 log; `descriptions` maps rule ids to a short text.
pub fn render(findings: &[Diagnostic], descriptions: &BTreeMap<String, String>) -> String {
    let ids: Vec<&str> = {
        let mut v: Vec<&str> = findings.iter().map(|d| d.code.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let rules: Vec<Value> = ids
        .iter()
        .map(|id| {
            let text = descriptions
                .get(*id)
                .cloned()
                .unwrap_or_else(|| id.replace('-', " "));
            json!({"id": id, "name": id, "shortDescription": {"text": text}})
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|d| {
            let mut r = json!({
                "ruleId": d.code,
                "ruleIndex": ids.iter().position(|i| *i == d.code).unwrap_or(0),
                "level": level(d.severity),
                "message": {"text": match &d.help {
                    Some(h) => format!("{} (help: {h})", d.message),
                    None => d.message.clone(),
                }},
            });
            if let Some(l) = &d.location {
                r["locations"] = json!([location(&l.file, l.line, l.column)]);
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
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the repo root"}}},
            "results": results,
        }]
    });
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}
