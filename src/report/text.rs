//! rustc-style text diagnostics with the offending source line.

use crate::diag::Diagnostic;
use crate::manifest::SourceText;
use std::fmt::Write;

/// Renders diagnostics for a terminal or a log, at most `cap` of them, then a count of the rest.
pub fn render(diags: &[Diagnostic], files: &[SourceText], cap: usize) -> String {
    let mut out = String::new();
    for d in diags.iter().take(cap) {
        let _ = writeln!(out, "{}[{}]: {}", d.severity, d.code, d.message);
        if let Some(loc) = &d.location {
            let _ = writeln!(out, "  --> {loc}");
            if let Some(line) = files
                .iter()
                .find(|f| f.path == loc.file)
                .and_then(|f| f.text.lines().nth(loc.line.saturating_sub(1) as usize))
            {
                let num = loc.line.to_string();
                let pad = " ".repeat(num.len());
                let _ = writeln!(out, "{pad} |");
                let _ = writeln!(out, "{num} | {line}");
                let caret = " ".repeat(loc.column.saturating_sub(1) as usize);
                let _ = writeln!(out, "{pad} | {caret}^");
            }
        }
        if let Some(o) = &d.object {
            let _ = write!(out, "  = object: {o}");
            if let Some(f) = &d.field {
                let _ = write!(out, ", field: {f}");
            }
            out.push('\n');
        } else if let Some(f) = &d.field {
            let _ = writeln!(out, "  = field: {f}");
        }
        for (loc, note) in &d.related {
            let _ = writeln!(out, "  = note: {note} at {loc}");
        }
        if let Some(h) = &d.help {
            let _ = writeln!(out, "  = help: {h}");
        }
        out.push('\n');
    }
    if diags.len() > cap {
        let _ = writeln!(
            out,
            "... and {} more (showing the first {cap})",
            diags.len() - cap
        );
    }
    out
}
