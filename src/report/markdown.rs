//! The pull-request comment: Markdown GitHub renders, capped at `--max-length`.
//!
//! Layout (docs/ci.md): a hidden marker so CI updates one sticky comment, the requests of the
//! route tests whose outcome changed, the changed routes, a summary table
//! with a row per cluster, the policy findings the change adds or fixes, a Mermaid picture per
//! host and change (one for the clusters where the host changed alike), then one `<details>`
//! per cluster holding a ```` ```diff ```` fence per object headed `Kind namespace/name`,
//! objects whose routing changed first.
//!
//! Over the cap, whole blocks are left out (never cut inside a fence), the least important
//! first (`importance`), and a notice under the summary counts by kind and names what was left
//! out. The notice is
//! never cut: at a cap too small for it, it is all the comment holds, shortened whole words at
//! a time.

use crate::diff::{ObjectDiff, Report};
use std::fmt::Write;

/// The marker CI looks for to update its one comment.
pub const MARKER: &str = "<!-- meshform-diff -->";

/// GitHub's comment size limit.
pub const DEFAULT_MAX_LENGTH: usize = 65_536;

/// How many findings of each list are shown before "and N more".
const MAX_FINDINGS: usize = 50;
/// How many cut items the notice names before "and N more".
const MAX_CUT_NAMES: usize = 20;
/// How many it names when more than [`MAX_CUT_NAMES`] could be cut: the count by kind says
/// the rest, and the room goes to the route summary.
const FEW_CUT_NAMES: usize = 5;

/// How many of `n` cut items (or items that could be cut) the notice names.
fn names_for(n: usize) -> usize {
    if n <= MAX_CUT_NAMES {
        n
    } else {
        FEW_CUT_NAMES
    }
}

/// Options of the Markdown format.
#[derive(Debug, Clone)]
pub struct Options {
    /// The cap, in bytes of UTF-8 (so also in characters): the comment never exceeds it.
    pub max_length: usize,
    /// The heading.
    pub title: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_length: DEFAULT_MAX_LENGTH,
            title: "meshform diff".into(),
        }
    }
}

/// A code fence longer than any run of backticks in `body` (CommonMark).
fn fence_for(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// Text safe inside inline code.
fn code(s: &str) -> String {
    let f = if s.contains('`') { "``" } else { "`" };
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{f}{pad}{s}{pad}{f}")
}

/// Escapes text for a Markdown paragraph or table cell (no HTML, no emphasis, no pipes).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A group of units sharing an opening and closing (a `<details>` per cluster).
struct Section {
    open: String,
    /// Names what `hidden` holds, when the section is shown.
    close: String,
    units: Vec<Unit>,
    /// Items never shown (the pictures past the cap), which the notice counts when the
    /// section is left out.
    hidden: Vec<Unit>,
}

/// A block kept or cut whole.
struct Unit {
    /// How the notice names it when cut.
    name: String,
    /// How the notice counts it when cut: the object's kind, or `routing picture`.
    kind: String,
    text: String,
    /// Lower is kept first (`importance`).
    rank: u8,
}

/// How much a block matters to a reviewer, lower first: 0 a VirtualService or Gateway whose
/// routing changed, 1 a routing picture, 2 any other object that changed (DestinationRules,
/// ServiceEntries follow the routes), 3 an object whose metadata alone changed, or whose change
/// repeats one shown for another cluster.
fn importance(d: &ObjectDiff, copy: bool) -> u8 {
    let routing = matches!(d.id.kind.as_str(), "VirtualService" | "Gateway")
        && crate::manifest::group_of(&d.id.api_version) == "networking.istio.io";
    let in_metadata = |p: &String| {
        p.strip_prefix("metadata")
            .is_some_and(|r| r.is_empty() || r.starts_with(['.', '[']))
    };
    let metadata_only = !d.paths.is_empty() && d.paths.iter().all(in_metadata);
    if copy || metadata_only {
        3
    } else if routing {
        0
    } else {
        2
    }
}

fn object_unit(d: &ObjectDiff, rank: u8) -> Unit {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "#### {} ({})\n",
        escape(&d.id.to_string()),
        d.change.as_str()
    );
    let sources = crate::diff::source_labels(d);
    if !sources.is_empty() {
        let list: Vec<String> = sources.iter().map(|s| code(s)).collect();
        let _ = writeln!(t, "Source: {}\n", list.join(", "));
    }
    if !d.paths.is_empty() {
        let shown: Vec<String> = d.paths.iter().take(10).map(|p| code(p)).collect();
        let more = d.paths.len().saturating_sub(10);
        let _ = write!(t, "Changed: {}", shown.join(", "));
        if more > 0 {
            let _ = write!(t, " and {more} more");
        }
        t.push_str("\n\n");
    }
    let fence = fence_for(&d.unified);
    let _ = writeln!(t, "{fence}diff");
    t.push_str(&d.unified);
    if !d.unified.ends_with('\n') {
        t.push('\n');
    }
    let _ = writeln!(t, "{fence}\n");
    Unit {
        name: format!("{} in {} ({})", d.id, d.cluster, d.change.as_str()),
        kind: d.id.kind.clone(),
        text: t,
        rank,
    }
}

/// The most routing pictures a comment holds; a line names the hosts left out.
pub const MAX_PICTURES: usize = 10;

/// A routing picture and the clusters where its host changed that way.
struct Picture<'a> {
    host: &'a str,
    clusters: Vec<&'a str>,
    mermaid: String,
}

impl Picture<'_> {
    /// How the notice names it.
    fn name(&self) -> String {
        format!(
            "routing picture of {} in {}",
            self.host,
            self.clusters.join(", ")
        )
    }

    /// `` `host` in cluster1, cluster2 ``.
    fn title(&self) -> String {
        format!(
            "{} in {}",
            code(self.host),
            escape(&self.clusters.join(", "))
        )
    }
}

/// One picture per host and change: a host that changed alike in several clusters is drawn
/// once, in the order of its first cluster.
fn pictures(report: &Report) -> Vec<Picture<'_>> {
    let mut out: Vec<Picture> = Vec::new();
    let mut index: std::collections::HashMap<(&str, String), usize> =
        std::collections::HashMap::new();
    for h in &report.routing {
        let mermaid = h.mermaid();
        match index.entry((h.host.as_str(), mermaid)) {
            std::collections::hash_map::Entry::Occupied(e) => {
                out[*e.get()].clusters.push(&h.cluster);
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                let mermaid = e.key().1.clone();
                e.insert(out.len());
                out.push(Picture {
                    host: &h.host,
                    clusters: vec![&h.cluster],
                    mermaid,
                });
            }
        }
    }
    out
}

fn routing_section(report: &Report) -> Option<Section> {
    if report.routing.is_empty() {
        return None;
    }
    let all = pictures(report);
    let (drawn, left) = all.split_at(all.len().min(MAX_PICTURES));
    let units = drawn
        .iter()
        .map(|p| {
            let fence = fence_for(&p.mermaid);
            Unit {
                name: p.name(),
                kind: "routing picture".into(),
                text: format!(
                    "#### {}\n\n{fence}mermaid\n{}{fence}\n\n",
                    p.title(),
                    p.mermaid
                ),
                rank: 1,
            }
        })
        .collect();
    let mut close = String::new();
    if !left.is_empty() {
        let mut names: Vec<String> = left.iter().take(MAX_PICTURES).map(Picture::title).collect();
        if left.len() > MAX_PICTURES {
            names.push(format!("and {} more", left.len() - MAX_PICTURES));
        }
        let _ = write!(
            close,
            "{} more routing picture{} not drawn: {}.\n\n",
            left.len(),
            if left.len() == 1 { "" } else { "s" },
            names.join("; ")
        );
    }
    Some(Section {
        open: "### Routing changes\n\nGreen: added, red dashed: removed, amber: changed.\n\n"
            .into(),
        close,
        units,
        hidden: left
            .iter()
            .map(|p| Unit {
                name: p.name(),
                kind: "routing picture".into(),
                text: String::new(),
                rank: 1,
            })
            .collect(),
    })
}

/// One `<details>` per cluster, its objects by importance, then by key.
fn cluster_sections(report: &Report) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    let mut current: Option<&str> = None;
    let mut seen: std::collections::HashSet<(&crate::manifest::ObjectId, &str)> =
        std::collections::HashSet::new();
    let mut ranked: Vec<(u8, usize, &ObjectDiff)> = report
        .objects
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let copy = !seen.insert((&d.id, d.unified.as_str()));
            (importance(d, copy), i, d)
        })
        .collect();
    // Objects come sorted by cluster: sorting within each cluster keeps them together.
    ranked.sort_by(|a, b| (&a.2.cluster, a.0, a.1).cmp(&(&b.2.cluster, b.0, b.1)));
    for (rank, _, d) in ranked {
        if current != Some(d.cluster.as_str()) {
            current = Some(d.cluster.as_str());
            let c = report.clusters.get(&d.cluster).copied().unwrap_or_default();
            out.push(Section {
                open: format!(
                    "<details>\n<summary>{}: {} added, {} changed, {} removed</summary>\n\n",
                    escape(&d.cluster),
                    c.added,
                    c.changed,
                    c.removed
                ),
                close: "</details>\n\n".into(),
                units: Vec::new(),
                hidden: Vec::new(),
            });
        }
        if let Some(s) = out.last_mut() {
            s.units.push(object_unit(d, rank));
        }
    }
    out
}

fn findings(title: &str, list: &[crate::diag::Diagnostic], out: &mut String) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "**{title}** ({})\n", list.len());
    for d in list.iter().take(MAX_FINDINGS) {
        let at = d
            .location
            .as_ref()
            .map(|l| format!(" at {}", code(&format!("{}:{}", l.file, l.line))))
            .unwrap_or_default();
        let obj = d
            .object
            .as_ref()
            .map(|o| format!(" {}:", escape(&o.to_string())))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "- {} {}{obj} {}{at}",
            d.severity,
            code(&d.code),
            escape(&d.message)
        );
    }
    if list.len() > MAX_FINDINGS {
        let _ = writeln!(out, "- and {} more", list.len() - MAX_FINDINGS);
    }
    out.push('\n');
}

/// `orders/canary 10 %` with no-break spaces before the share and its `%`, so a share of
/// traffic stays on the line of its destination.
fn keep_shares(v: &str) -> String {
    let mut c: Vec<char> = v.chars().collect();
    for i in 0..c.len().saturating_sub(1) {
        if c[i] != ' ' || c[i + 1] != '%' {
            continue;
        }
        c[i] = '\u{a0}';
        let digits = c[..i]
            .iter()
            .rev()
            .take_while(|x| x.is_ascii_digit() || **x == '.')
            .count();
        if digits > 0 && i > digits && c[i - digits - 1] == ' ' {
            c[i - digits - 1] = '\u{a0}';
        }
    }
    c.into_iter().collect()
}

/// How long a value of the route summary may be before it is cut with `…`.
const MAX_ROUTE_VALUE: usize = 160;

/// A value of a route or outcome line, on one line, shares kept to their number, cut at
/// [`MAX_ROUTE_VALUE`], as code.
fn route_value(v: &str) -> String {
    let mut v = keep_shares(&v.replace(['\n', '\r'], " "));
    if v.len() > MAX_ROUTE_VALUE {
        v = cut_to(v, MAX_ROUTE_VALUE);
        v.push('…');
    }
    code(&v)
}

/// The last line of a list of `total` entries cut at `max`: `- and N more{what} (…)`.
fn more_lines(out: &mut String, total: usize, max: usize, what: &str) {
    if total > max {
        let _ = writeln!(
            out,
            "- and {} more{what} (`meshform diff --format text` lists them all)",
            total - max
        );
    }
}

/// The changed routes in Gloo's terms (docs/ci.md#route-changes), at most `max` lines, then a
/// count of the rest. Part of the head, so truncation never drops it.
fn route_summary(report: &Report, max: usize) -> String {
    use crate::diff::routes::{Part, RouteChange};
    if report.routes.is_empty() {
        return String::new();
    }
    let parts = |ps: &[Part]| -> String {
        ps.iter()
            .map(|p| match p {
                Part::Text(t) => escape(t),
                Part::Value(v) => route_value(v),
            })
            .collect()
    };
    // The route and its change in bold, then the table and clusters, what changed, and where.
    let line = |c: &RouteChange| {
        let mut l = format!("- **{}", parts(&c.route_label()));
        if c.change != crate::diff::Change::Changed {
            let _ = write!(l, " {}", c.change.as_str());
        }
        let _ = write!(
            l,
            "** · {} in {}: ",
            code(&format!("{}/{}", c.namespace, c.table)),
            escape(&c.clusters.join(", "))
        );
        let what: Vec<String> = c.what.iter().map(|p| parts(p)).collect();
        l.push_str(&what.join("; "));
        let at: Vec<String> = c
            .locations
            .iter()
            .take(2)
            .map(|l| code(&format!("{}:{}", l.file, l.line)))
            .collect();
        let more = c.locations.len().saturating_sub(2);
        let _ = writeln!(
            l,
            " ({}{})",
            at.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        l
    };
    let mut out = format!("### Changed routes ({})\n\n", report.routes.len());
    for c in report.routes.iter().take(max) {
        out.push_str(&line(c));
    }
    more_lines(&mut out, report.routes.len(), max, " routes");
    out.push('\n');
    out
}

/// The requests of the route tests whose outcome changed (docs/ci.md#changed-outcomes), at
/// most `max` lines, then a count of the rest. First in the head, so truncation never drops
/// it.
fn outcome_summary(report: &Report, max: usize) -> String {
    if report.outcomes.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "### Changed outcomes ({})\n\nRequests of the repo's route tests that this change \
         sends elsewhere.\n\n",
        report.outcomes.len()
    );
    for c in report.outcomes.iter().take(max) {
        let what: Vec<String> = c
            .what
            .iter()
            .map(|p| {
                let label = p.label.map(|l| format!("{l} ")).unwrap_or_default();
                format!(
                    "{label}{} → {}",
                    route_value(&p.before),
                    route_value(&p.after)
                )
            })
            .collect();
        let at = c
            .after
            .location()
            .map(|l| format!("{}; ", code(&format!("{}:{}", l.file, l.line))))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "- **{}** · {} ({at}test “{}” at {}{})",
            code(&c.request),
            what.join(", "),
            escape(&c.name),
            code(&format!("{}:{}", c.test.file, c.test.line)),
            match crate::diff::outcome_verdict(c) {
                "" => String::new(),
                v => format!(", **{}**", v.trim_start_matches(", ")),
            }
        );
    }
    more_lines(&mut out, report.outcomes.len(), max, "");
    out.push('\n');
    out
}

/// The head of the comment. `level` 0 is everything; 1 counts the findings instead of listing
/// them; 2 also replaces the per-cluster table and the base errors by one line each.
fn header(report: &Report, opts: &Options, level: u8) -> String {
    let mut h = String::new();
    let _ = writeln!(h, "{MARKER}");
    let _ = writeln!(h, "## {}\n", escape(&opts.title));
    let _ = writeln!(
        h,
        "Rendered output of {} compared with {}.\n",
        code(&report.head.describe()),
        code(&report.base.describe())
    );
    if let Some(errs) = &report.base_error {
        let _ = writeln!(
            h,
            "> [!WARNING]\n> The base failed to render ({}), so every object of the head \
             is shown as added.",
            crate::diag::count(errs.len(), "problem", "problems")
        );
        if level < 2 {
            for e in errs.iter().take(5) {
                let _ = writeln!(h, "> - {}", escape(&e.to_string()));
            }
        }
        h.push('\n');
    }
    h.push_str(&outcome_summary(
        report,
        [50, 20, 5][usize::from(level.min(2))],
    ));
    h.push_str(&route_summary(
        report,
        [50, 20, 5][usize::from(level.min(2))],
    ));
    if !report.has_changes() {
        h.push_str("No changes in the rendered output.\n\n");
    } else if level >= 2 {
        let t = report.totals();
        let _ = writeln!(
            h,
            "{} added, {} changed, {} removed, {} unchanged in {}.\n",
            t.added,
            t.changed,
            t.removed,
            t.unchanged,
            crate::diag::count(report.clusters.len(), "cluster", "clusters")
        );
    } else {
        h.push_str("| Cluster | Added | Changed | Removed | Unchanged |\n");
        h.push_str("|---|--:|--:|--:|--:|\n");
        for (cluster, c) in &report.clusters {
            let _ = writeln!(
                h,
                "| {} | {} | {} | {} | {} |",
                escape(cluster),
                c.added,
                c.changed,
                c.removed,
                c.unchanged
            );
        }
        h.push('\n');
    }
    if level == 0 {
        findings("Policy findings added", &report.findings_added, &mut h);
        findings("Policy findings fixed", &report.findings_fixed, &mut h);
    } else if !report.findings_added.is_empty() || !report.findings_fixed.is_empty() {
        let _ = writeln!(
            h,
            "Policy findings: {} added, {} fixed (not listed, to fit `--max-length`).\n",
            report.findings_added.len(),
            report.findings_fixed.len()
        );
    }
    h
}

/// Cuts `s` to at most `max` bytes at a character boundary.
fn cut_to(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut i = max;
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        s.truncate(i);
    }
    s
}

/// `3 VirtualServices, 1 routing picture`: the cut items counted by kind, the kinds in the
/// order of their first cut item.
fn by_kind(cut: &[&Unit]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for u in cut {
        match counts.iter_mut().find(|(k, _)| *k == u.kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((&u.kind, 1)),
        }
    }
    counts
        .iter()
        .map(|(k, n)| {
            let plural = if let Some(stem) = k
                .strip_suffix('y')
                .filter(|s| !s.ends_with(['a', 'e', 'o']))
            {
                format!("{stem}ies")
            } else if k.ends_with('s') {
                format!("{k}es")
            } else {
                format!("{k}s")
            };
            crate::diag::count(*n, k, &plural)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The notice naming what was cut: counted by kind when `kinds`, up to `names` of the cut
/// items, and the hint where to see the full diff when `hint`.
fn notice(cut: &[&Unit], max: usize, kinds: bool, names: usize, hint: bool) -> String {
    let items = crate::diag::count(cut.len(), "item", "items");
    // `3 VirtualServices not shown`, or `5 items not shown (3 VirtualServices, 2 Gateways)`.
    let what = match kinds.then(|| by_kind(cut)) {
        Some(k) if cut.iter().all(|u| u.kind == cut[0].kind) => format!("{k} not shown"),
        Some(k) => format!("{items} not shown ({k})"),
        None => format!("{items} not shown"),
    };
    let mut n = format!("> [!WARNING]\n> Output cut to fit `--max-length` ({max}): {what}");
    if names == 0 {
        n.push_str(".\n");
    } else {
        n.push_str(":\n");
        for c in cut.iter().take(names) {
            let _ = writeln!(n, "> - {}", escape(&c.name));
        }
        if cut.len() > names {
            let _ = writeln!(n, "> - and {} more", cut.len() - names);
        }
    }
    if hint {
        n.push_str(
            "> \n> Run `meshform diff` locally, or see the job summary, for the full diff.\n",
        );
    }
    n.push('\n');
    n
}

/// The longest notice of at most `room` bytes: fewer names, then no hint, then no count by
/// kind, then its first line cut after a whole word.
fn notice_within(cut: &[&Unit], max: usize, room: usize) -> String {
    for kinds in [true, false] {
        for hint in [true, false] {
            for names in (0..=names_for(cut.len())).rev() {
                let n = notice(cut, max, kinds, names, hint);
                if n.len() <= room {
                    return n;
                }
            }
        }
    }
    let line = format!(
        "Output cut to fit --max-length ({max}): {} not shown.",
        crate::diag::count(cut.len(), "item", "items")
    );
    let mut words = String::new();
    for w in line.split(' ') {
        let longer = if words.is_empty() {
            w.to_string()
        } else {
            format!("{words} {w}")
        };
        if longer.len() + "…\n".len() > room {
            break;
        }
        words = longer;
    }
    if words.is_empty() {
        return String::new();
    }
    if words.len() < line.len() {
        words.push('…');
    }
    words.push('\n');
    words
}

/// Renders the report as a PR comment of at most `opts.max_length` bytes.
pub fn render(report: &Report, opts: &Options) -> String {
    let max = opts.max_length;
    let mut sections: Vec<Section> = Vec::new();
    sections.extend(routing_section(report));
    sections.extend(cluster_sections(report));

    // Room for the notice: its fixed text plus the longest names it could list.
    let mut name_lens: Vec<usize> = sections
        .iter()
        .flat_map(|s| s.units.iter().chain(&s.hidden))
        .map(|u| escape(&u.name).len() + 5)
        .collect();
    name_lens.sort_unstable_by(|a, b| b.cmp(a));
    let all: Vec<&Unit> = sections
        .iter()
        .flat_map(|s| s.units.iter().chain(&s.hidden))
        .collect();
    let reserve =
        200 + by_kind(&all).len() + name_lens.iter().take(names_for(all.len())).sum::<usize>();

    let mut head = header(report, opts, 0);
    for level in 1..=2 {
        if head.len() + reserve <= max {
            break;
        }
        head = header(report, opts, level);
    }
    // Only a huge title or cluster list gets here; the head holds no fences to break.
    let head = cut_to(head, max.saturating_sub(reserve.min(max / 2)));

    // The blocks by importance, then in the order shown; kept while they fit.
    let mut order: Vec<(u8, usize, usize)> = sections
        .iter()
        .enumerate()
        .flat_map(|(si, s)| {
            s.units
                .iter()
                .enumerate()
                .map(move |(ui, u)| (u.rank, si, ui))
        })
        .collect();
    order.sort_unstable();
    let mut budget = max.saturating_sub(head.len() + reserve);
    let mut kept: Vec<Vec<bool>> = sections
        .iter()
        .map(|s| vec![false; s.units.len()])
        .collect();
    let mut opened = vec![false; sections.len()];
    let mut cut: Vec<&Unit> = Vec::new();
    for &(_, si, ui) in &order {
        let s = &sections[si];
        let cost = s.units[ui].text.len()
            + if opened[si] {
                0
            } else {
                s.open.len() + s.close.len()
            };
        if cost <= budget {
            budget -= cost;
            opened[si] = true;
            kept[si][ui] = true;
        } else {
            cut.push(&s.units[ui]);
        }
    }
    let mut body = String::new();
    for (si, s) in sections.iter().enumerate() {
        if !opened[si] {
            cut.extend(&s.hidden);
            continue;
        }
        body.push_str(&s.open);
        for (ui, u) in s.units.iter().enumerate() {
            if kept[si][ui] {
                body.push_str(&u.text);
            }
        }
        body.push_str(&s.close);
    }
    if cut.is_empty() {
        let mut out = head;
        out.push_str(&body);
        return cut_to(out, max);
    }
    let n = notice_within(&cut, max, max.saturating_sub(head.len() + body.len()));
    if n.starts_with('>') && head.len() + n.len() + body.len() <= max {
        return format!("{head}{n}{body}");
    }
    // A cap too small for the summary and the notice: the notice alone, whole words.
    let everything: Vec<&Unit> = order
        .iter()
        .map(|&(_, si, ui)| &sections[si].units[ui])
        .chain(sections.iter().flat_map(|s| &s.hidden))
        .collect();
    let marker = format!("{MARKER}\n");
    let n = notice_within(&everything, max, max.saturating_sub(marker.len()));
    if n.is_empty() {
        notice_within(&everything, max, max)
    } else {
        format!("{marker}{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_backticks_in_the_body() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ``` b"), "````");
    }

    fn report(clusters: usize, findings: usize) -> Report {
        use crate::diff::{Change, Counts};
        use crate::manifest::ObjectId;
        let mut r = Report::default();
        for i in 0..clusters {
            r.clusters.insert(
                format!("cluster-with-a-long-name-{i:04}"),
                Counts {
                    changed: 1,
                    ..Default::default()
                },
            );
        }
        r.objects.push(ObjectDiff {
            cluster: "cluster-with-a-long-name-0000".into(),
            id: ObjectId {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                namespace: "default".into(),
                name: "a".into(),
            },
            change: Change::Changed,
            before: None,
            after: None,
            paths: vec!["data.k".into()],
            unified: "@@ -1 +1 @@\n-k: a\n+k: b\n".into(),
            lines_added: 1,
            lines_removed: 1,
            sources: Vec::new(),
        });
        for i in 0..findings {
            r.findings_added.push(crate::diag::Diagnostic::error(
                crate::diag::Code::policy("rule"),
                format!("finding number {i}"),
            ));
        }
        r
    }

    #[test]
    fn the_head_shrinks_before_the_cap_is_broken() {
        let opts = |max| Options {
            max_length: max,
            ..Default::default()
        };
        // Findings are counted instead of listed when they would not fit.
        let r = report(1, 200);
        let md = render(&r, &opts(2000));
        assert!(md.len() <= 2000, "{}", md.len());
        assert!(md.contains("Policy findings: 200 added, 0 fixed"), "{md}");
        assert!(md.contains("#### ConfigMap default/a (changed)"), "{md}");
        let full = render(&r, &opts(DEFAULT_MAX_LENGTH));
        assert!(full.contains("- error `rule` finding number 49"), "{full}");
        assert!(full.contains("- and 150 more"), "{full}");
        // Hundreds of clusters: one totals line instead of the table.
        let r = report(300, 0);
        let md = render(&r, &opts(4000));
        assert!(md.len() <= 4000, "{}", md.len());
        assert!(md.contains("0 added, 300 changed, 0 removed, 0 unchanged in 300 clusters."));
        assert!(md.starts_with(MARKER));
    }

    #[test]
    fn below_its_length_the_notice_stands_alone_in_whole_words() {
        let r = report(1, 0);
        let opts = |max| Options {
            max_length: max,
            ..Default::default()
        };
        assert_eq!(
            render(&r, &opts(120)),
            "<!-- meshform-diff -->\n> [!WARNING]\n> Output cut to fit `--max-length` (120): \
             1 ConfigMap not shown.\n\n"
        );
        assert_eq!(
            render(&r, &opts(60)),
            "<!-- meshform-diff -->\nOutput cut to fit --max-length…\n"
        );
        assert_eq!(render(&r, &opts(10)), "Output…\n");
        assert_eq!(render(&r, &opts(3)), "");
        for max in 0..600 {
            assert!(render(&r, &opts(max)).len() <= max, "{max}");
        }
    }

    #[test]
    fn routes_first_then_what_follows_them() {
        let r = report(1, 0);
        let mut d = r.objects[0].clone();
        assert_eq!(importance(&d, false), 2);
        assert_eq!(importance(&d, true), 3);
        d.id.api_version = "networking.istio.io/v1".into();
        d.id.kind = "VirtualService".into();
        d.paths = vec!["spec.http[a].route[0].weight".into()];
        assert_eq!(importance(&d, false), 0);
        d.paths = vec!["metadata.labels.team".into()];
        assert_eq!(importance(&d, false), 3);
        d.paths.push("metadataOther".into());
        assert_eq!(importance(&d, false), 0);
        d.id.kind = "DestinationRule".into();
        d.paths = vec!["spec.subsets[v1]".into()];
        assert_eq!(importance(&d, false), 2);
    }

    #[test]
    fn the_notice_counts_what_it_left_out_by_kind() {
        let unit = |kind: &str| Unit {
            name: format!("a {kind}"),
            kind: kind.into(),
            text: String::new(),
            rank: 0,
        };
        let units: Vec<Unit> = [
            "VirtualService",
            "routing picture",
            "VirtualService",
            "ServiceEntry",
            "AuthorizationPolicy",
            "Gateway",
            "Gateway",
        ]
        .iter()
        .map(|k| unit(k))
        .collect();
        let cut: Vec<&Unit> = units.iter().collect();
        assert_eq!(
            by_kind(&cut),
            "2 VirtualServices, 1 routing picture, 1 ServiceEntry, 1 AuthorizationPolicy, \
             2 Gateways"
        );
        let n = notice(&cut, 100, true, 1, false);
        assert!(
            n.starts_with(
                "> [!WARNING]\n> Output cut to fit `--max-length` (100): 7 items not shown \
                 (2 VirtualServices, 1 routing picture, 1 ServiceEntry, 1 AuthorizationPolicy, \
                 2 Gateways):\n> - a VirtualService\n> - and 6 more\n"
            ),
            "{n}"
        );
        assert!(notice(&cut[..1], 100, true, 0, false).contains(": 1 VirtualService not shown."));
    }

    #[test]
    fn a_share_stays_with_its_destination() {
        assert_eq!(
            keep_shares("a/stable 90 %, a/canary 9.5 %"),
            "a/stable\u{a0}90\u{a0}%, a/canary\u{a0}9.5\u{a0}%"
        );
        assert_eq!(keep_shares("100 % of x %"), "100\u{a0}% of x\u{a0}%");
    }

    #[test]
    fn escaping_keeps_html_and_tables_inert() {
        assert_eq!(escape("<b>|x_y"), "&lt;b&gt;\\|x\\_y");
        assert_eq!(code("a`b"), "``a`b``");
    }
}
