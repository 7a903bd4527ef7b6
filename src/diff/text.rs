//! The terminal format: the requests whose outcome changed, the changed routes in Gloo's terms, a summary, then a git-style unified diff per object, then the policy
//! findings the change adds or fixes. Colour is optional (ANSI, via anstyle).

use super::{routes, Change, Report};
use anstyle::{AnsiColor, Style};
use std::fmt::Write;

struct Palette {
    on: bool,
}

impl Palette {
    fn paint(&self, style: Style, s: &str) -> String {
        if self.on {
            format!("{style}{s}{style:#}")
        } else {
            s.to_string()
        }
    }
    fn fg(c: AnsiColor) -> Style {
        Style::new().fg_color(Some(c.into()))
    }
}

/// The changed routes in Gloo's terms (docs/ci.md#route-changes), one line each.
fn route_lines(report: &Report, p: &Palette, out: &mut String) {
    if report.routes.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}", p.paint(Style::new().bold(), "Changed routes:"));
    for c in &report.routes {
        let mut l = format!(
            "  {}/{} {}",
            c.namespace,
            c.table,
            routes::plain(&c.route_label())
        );
        if c.change != Change::Changed {
            let _ = write!(l, " {}", c.change.as_str());
        }
        let at: Vec<String> = c
            .locations
            .iter()
            .take(2)
            .map(|l| format!("{}:{}", l.file, l.line))
            .collect();
        let more = c.locations.len().saturating_sub(2);
        let _ = writeln!(
            out,
            "{l} at {}{} in {}: {}",
            at.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            c.clusters.join(", "),
            routes::plain_what(c)
        );
    }
    out.push('\n');
}

/// The requests of the route tests whose outcome changed (docs/ci.md#changed-outcomes), one
/// line each.
fn outcome_lines(report: &Report, p: &Palette, out: &mut String) {
    if report.outcomes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{}",
        p.paint(Style::new().bold(), "Changed outcomes (route tests):")
    );
    for c in &report.outcomes {
        let _ = writeln!(
            out,
            "  {}{} (test `{}` at {}:{}{})",
            c.summary(),
            c.after
                .location()
                .map(|l| format!(" at {}:{}", l.file, l.line))
                .unwrap_or_default(),
            c.name,
            c.test.file,
            c.test.line,
            super::outcome_verdict(c)
        );
    }
    out.push('\n');
}

/// Renders the report for a terminal; `color` adds ANSI colours.
pub fn render(report: &Report, color: bool) -> String {
    let p = Palette { on: color };
    let bold = Style::new().bold();
    let red = Palette::fg(AnsiColor::Red);
    let green = Palette::fg(AnsiColor::Green);
    let cyan = Palette::fg(AnsiColor::Cyan);
    let yellow = Palette::fg(AnsiColor::Yellow);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        p.paint(
            bold,
            &format!(
                "meshform diff: {} -> {}",
                report.base.describe(),
                report.head.describe()
            )
        )
    );
    if let Some(errs) = &report.base_error {
        let _ = writeln!(
            out,
            "{}",
            p.paint(
                yellow,
                &format!(
                    "warning: the base failed to render ({}); every head object is shown as added",
                    crate::diag::count(errs.len(), "problem", "problems")
                )
            )
        );
        for e in errs.iter().take(5) {
            let _ = writeln!(out, "  {e}");
        }
    }
    outcome_lines(report, &p, &mut out);
    route_lines(report, &p, &mut out);
    if !report.has_changes() {
        let _ = writeln!(out, "No changes in the rendered output.");
    }
    for (cluster, c) in report.clusters.iter().filter(|(_, c)| c.any()) {
        let _ = writeln!(
            out,
            "{cluster}: {} added, {} changed, {} removed, {} unchanged",
            c.added, c.changed, c.removed, c.unchanged
        );
    }
    for d in &report.objects {
        out.push('\n');
        let head = format!("{} {} in {}", d.change.as_str(), d.id, d.cluster);
        let _ = writeln!(out, "{}", p.paint(bold, &head));
        let sources = super::source_labels(d);
        if !sources.is_empty() {
            let _ = writeln!(out, "  source: {}", sources.join(", "));
        }
        if !d.paths.is_empty() {
            let _ = writeln!(out, "  fields: {}", d.paths.join(", "));
        }
        let label = d.file_label();
        let (a, b) = match d.change {
            Change::Added => ("/dev/null".to_string(), format!("b/{label}")),
            Change::Removed => (format!("a/{label}"), "/dev/null".to_string()),
            Change::Changed => (format!("a/{label}"), format!("b/{label}")),
        };
        let _ = writeln!(out, "{}", p.paint(bold, &format!("--- {a}")));
        let _ = writeln!(out, "{}", p.paint(bold, &format!("+++ {b}")));
        for line in d.unified.lines() {
            let styled = if line.starts_with("@@") {
                p.paint(cyan, line)
            } else if line.starts_with('+') {
                p.paint(green, line)
            } else if line.starts_with('-') {
                p.paint(red, line)
            } else {
                line.to_string()
            };
            let _ = writeln!(out, "{styled}");
        }
    }
    if !report.routing.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "{}", p.paint(bold, "Routing changed for:"));
        for h in &report.routing {
            let what = match (&h.before, &h.after) {
                (None, _) => "new host",
                (_, None) => "no longer routed",
                _ => "routes changed",
            };
            let _ = writeln!(out, "  {} {} ({what})", h.cluster, h.host);
        }
    }
    for (title, list, style) in [
        ("Policy findings added:", &report.findings_added, red),
        ("Policy findings fixed:", &report.findings_fixed, green),
    ] {
        if list.is_empty() {
            continue;
        }
        out.push('\n');
        let _ = writeln!(out, "{}", p.paint(bold, title));
        for f in list {
            let _ = writeln!(out, "  {}", p.paint(style, &f.to_string()));
        }
    }
    out
}
