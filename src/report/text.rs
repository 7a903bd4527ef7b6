//! rustc-style text diagnostics with the offending source line, optionally in colour (ANSI,
//! via anstyle, as rustc colours them: the severity, the code, the gutter and the caret).

use crate::diag::{Diagnostic, Severity};
use crate::manifest::SourceText;
use anstyle::{AnsiColor, Style};
use std::fmt::Write;

/// Renders diagnostics for a terminal or a log, at most `cap` of them, then a count of the rest.
pub fn render(diags: &[Diagnostic], files: &[SourceText], cap: usize) -> String {
    render_styled(diags, files, cap, false)
}

/// Paints text with a style when colour is on.
struct Paint(bool);

impl Paint {
    fn p(&self, style: Style, s: &str) -> String {
        if self.0 {
            format!("{style}{s}{style:#}")
        } else {
            s.to_string()
        }
    }
}

fn fg(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(c.into())).bold()
}

/// As [`render`]; `color` adds ANSI colours.
pub fn render_styled(
    diags: &[Diagnostic],
    files: &[SourceText],
    cap: usize,
    color: bool,
) -> String {
    let paint = Paint(color);
    let gutter = fg(AnsiColor::Blue);
    let bold = Style::new().bold();
    let mut out = String::new();
    for d in diags.iter().take(cap) {
        let sev = fg(match d.severity {
            Severity::Error => AnsiColor::Red,
            Severity::Warning => AnsiColor::Yellow,
            Severity::Info => AnsiColor::Cyan,
        });
        let _ = writeln!(
            out,
            "{}{}",
            paint.p(sev, &format!("{}[{}]", d.severity, d.code)),
            paint.p(bold, &format!(": {}", d.message))
        );
        if let Some(loc) = &d.location {
            let _ = writeln!(out, "  {} {loc}", paint.p(gutter, "-->"));
            if let Some(line) = files
                .iter()
                .find(|f| f.path == loc.file)
                .and_then(|f| f.text.lines().nth(loc.line.saturating_sub(1) as usize))
            {
                let num = loc.line.to_string();
                let pad = " ".repeat(num.len());
                let bar = paint.p(gutter, &format!("{pad} |"));
                let _ = writeln!(out, "{bar}");
                let _ = writeln!(out, "{} {line}", paint.p(gutter, &format!("{num} |")));
                let caret = " ".repeat(loc.column.saturating_sub(1) as usize);
                let _ = writeln!(out, "{bar} {caret}{}", paint.p(sev, "^"));
            }
        }
        let eq = paint.p(gutter, "=");
        if let Some(o) = &d.object {
            let _ = write!(out, "  {eq} object: {o}");
            if let Some(f) = &d.field {
                let _ = write!(out, ", field: {f}");
            }
            out.push('\n');
        } else if let Some(f) = &d.field {
            let _ = writeln!(out, "  {eq} field: {f}");
        }
        for (loc, note) in &d.related {
            let _ = writeln!(out, "  {eq} {}: {note} at {loc}", paint.p(bold, "note"));
        }
        if let Some(h) = &d.help {
            let _ = writeln!(out, "  {eq} {}: {h}", paint.p(bold, "help"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::codes::Load;
    use crate::manifest::Location;

    #[test]
    fn colour_only_adds_escapes_around_the_same_text() {
        let d = Diagnostic::error(Load::YamlSyntax, "bad")
            .at(Location {
                file: "a.yaml".into(),
                line: 1,
                column: 3,
            })
            .help("fix it");
        let files = [SourceText {
            path: "a.yaml".into(),
            text: "a: [\n".into(),
        }];
        let plain = render_styled(std::slice::from_ref(&d), &files, 10, false);
        let coloured = render_styled(std::slice::from_ref(&d), &files, 10, true);
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(coloured.contains("\x1b["), "{coloured}");
        let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
            .expect("regex")
            .replace_all(&coloured, "");
        assert_eq!(stripped, plain);
        assert_eq!(plain, render(&[d], &files, 10));
    }
}
