//! GitHub Actions workflow commands (`::error file=…,line=…::message`): at most
//! [`PER_SEVERITY`] annotations per severity, then a summary line.

use crate::diag::{Diagnostic, Severity};
use std::fmt::Write;

/// Annotations shown per severity (GitHub shows 10 per step and type).
pub const PER_SEVERITY: usize = 10;

fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn prop(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders findings as workflow commands, then the `meshform check` totals.
pub fn render(findings: &[Diagnostic]) -> String {
    let mut out = annotations(findings);
    let hidden: usize = [Severity::Error, Severity::Warning, Severity::Info]
        .iter()
        .map(|s| {
            findings
                .iter()
                .filter(|d| d.severity == *s)
                .count()
                .saturating_sub(PER_SEVERITY)
        })
        .sum();
    let count = |s| findings.iter().filter(|d| d.severity == s).count();
    let _ = writeln!(
        out,
        "meshform check: {}, {}, {}{}",
        crate::diag::count(count(Severity::Error), "error", "errors"),
        crate::diag::count(count(Severity::Warning), "warning", "warnings"),
        crate::diag::count(count(Severity::Info), "info", "infos"),
        if hidden > 0 {
            format!("; {hidden} not annotated (run with --format text to see all)")
        } else {
            String::new()
        }
    );
    out
}

/// The workflow commands of findings, at most [`PER_SEVERITY`] per severity.
pub fn annotations(findings: &[Diagnostic]) -> String {
    let mut out = String::new();
    for sev in [Severity::Error, Severity::Warning, Severity::Info] {
        let cmd = match sev {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let all: Vec<&Diagnostic> = findings.iter().filter(|d| d.severity == sev).collect();
        for d in all.iter().take(PER_SEVERITY) {
            let mut props = Vec::new();
            if let Some(l) = &d.location {
                props.push(format!("file={}", prop(&l.file)));
                props.push(format!("line={}", l.line));
                props.push(format!("col={}", l.column));
            }
            props.push(format!("title={}", prop(&d.code)));
            let mut msg = d.message.clone();
            if let Some(o) = &d.object {
                msg = format!("{o}: {msg}");
            }
            for (l, n) in &d.related {
                let _ = write!(msg, "\n{n} at {l}");
            }
            if let Some(h) = &d.help {
                let _ = write!(msg, "\nhelp: {h}");
            }
            let _ = writeln!(out, "::{cmd} {}::{}", props.join(","), data(&msg));
        }
    }
    out
}
