//! `meshform check`: runs the policies and Istio validation and reports the findings.
//!
//! The repo's route tests run too when it has any (docs/route-tests.md): each failing case is
//! a `route-test-failed` finding at the case.
//!
//! In the CI formats (`json`, `sarif`, `github`) paths are relative to the git work tree's
//! root ([`report_prefix`]), and input errors are reported like findings, on stdout, as well
//! as on stderr (docs/ci.md#report-paths).

use super::common::{print_load_errors, print_stdout, report_prefix, Color, SourceArgs};
use super::Exit;
use crate::diag::{count, Diagnostic, Severity};
use crate::pipeline::{self, Outcome};
use crate::render::Keep;
use crate::report;
use crate::route_test;
use std::io::IsTerminal;
use std::time::Instant;

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-style text with the source line.
    Text,
    /// Stable JSON (docs/policies.md).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Report format on stdout. In json, sarif and github, paths are relative to the git
    /// repository's root, and input errors are reported too (exit 2).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Colour the text format: `auto` when the output is a terminal and NO_COLOR is unset.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: Color,
}

/// Runs `check`: exit 0 when clean or only warnings, 1 on errors, 2 on bad input or a broken
/// policy.
pub fn run(args: Args) -> Exit {
    let origin = args.source.origin();
    let mut opts = match args.source.options() {
        Ok(o) => o,
        Err(d) => return input_errors(&args, &origin, vec![d]),
    };
    // Only findings are reported: rendered objects are validated and dropped, unless the
    // repo's route tests trace requests through them.
    opts.render.keep = Keep::Findings;
    let start = Instant::now();
    let repo = match pipeline::load(&origin, &opts) {
        Ok(r) => r,
        Err(e) => return input_errors(&args, &origin, e.into_diagnostics()),
    };
    tracing::info!(
        "loaded {}: {}, {}, {} {} in {:?}",
        pipeline::describe(&origin),
        count(repo.files.len(), "file", "files"),
        count(repo.objects.len(), "object", "objects"),
        if repo.clusters.len() == 1 {
            "cluster"
        } else {
            "clusters"
        },
        repo.clusters.join(", "),
        start.elapsed()
    );
    let cases = match route_test::parse_all(&repo.route_test_files) {
        Ok(c) => c,
        Err(d) => return input_errors(&args, &origin, d),
    };
    if !cases.is_empty() {
        // The traces read the rendered objects, and the Gloo routes' names from the values.
        opts.render.keep = Keep::Values;
        opts.release_inputs = false;
    }
    let mut outcome = match pipeline::run(repo, &opts) {
        Ok(o) => o,
        Err(e) => return input_errors(&args, &origin, e.into_diagnostics()),
    };
    if !cases.is_empty() {
        let traced = Instant::now();
        let run = route_test::run::run(
            &cases,
            &outcome.objects,
            &outcome.repo,
            &opts.render.clusters,
            false,
        );
        match run {
            Ok(run) => {
                tracing::info!(
                    "route tests: {} passed, {} failed in {:?}",
                    run.passed(),
                    run.failed(),
                    traced.elapsed()
                );
                outcome.findings.extend(run.findings());
                crate::diag::normalize(&mut outcome.findings);
            }
            Err(d) => return input_errors(&args, &origin, d),
        }
    }
    tracing::info!(
        "checked: {}, {} rendered and validated, {} in {:?}",
        count(outcome.policies, "policy", "policies"),
        count(outcome.rendered, "object", "objects"),
        count(outcome.findings.len(), "finding", "findings"),
        start.elapsed()
    );
    let text = match args.format {
        Format::Text => text_report(
            &outcome,
            args.color.enabled(std::io::stdout().is_terminal()),
        ),
        Format::Json | Format::Sarif | Format::Github => {
            let prefix = report_prefix(&args.source.path);
            let mut findings = outcome.findings.clone();
            let mut suppressed = outcome.suppressed.clone();
            report::rebase(&mut findings, &prefix);
            report::rebase(&mut suppressed, &prefix);
            let summary = report::json::Summary {
                objects: outcome.repo.objects.len(),
                policies: outcome.policies,
            };
            ci_report(&args, &prefix, &findings, &suppressed, summary)
        }
    };
    print_stdout(&text);
    let exit = if outcome.has_errors() {
        Exit::Findings
    } else {
        Exit::Clean
    };
    // The process ends here: freeing every object one by one would only cost time (0.5 s of a
    // 10,000-object check, docs/performance.md).
    std::mem::forget(outcome);
    exit
}

/// The text report: the findings with their source lines, the counts, the suppressed ones.
fn text_report(outcome: &Outcome, color: bool) -> String {
    // Failing route tests are shown at their case, in files that are not manifests.
    let repo = &outcome.repo;
    let files: std::borrow::Cow<[crate::manifest::SourceText]> = if repo.route_test_files.is_empty()
    {
        (&repo.files[..]).into()
    } else {
        let mut all = repo.files.clone();
        all.extend(repo.route_test_files.iter().cloned());
        all.into()
    };
    let mut t = report::text::render_styled(
        &outcome.findings,
        &files,
        outcome.repo.limits.max_diagnostics,
        color,
    );
    t.push_str(&format!(
        "{}, {}, {}; {} suppressed by exemptions; {}, {}\n",
        crate::diag::count(outcome.count(Severity::Error), "error", "errors"),
        crate::diag::count(outcome.count(Severity::Warning), "warning", "warnings"),
        crate::diag::count(outcome.count(Severity::Info), "info", "infos"),
        outcome.suppressed.len(),
        crate::diag::count(outcome.repo.objects.len(), "object", "objects"),
        crate::diag::count(outcome.policies, "policy", "policies")
    ));
    for d in &outcome.suppressed {
        let at = d
            .location
            .as_ref()
            .map(|l| l.to_string())
            .unwrap_or_default();
        t.push_str(&format!(
            "suppressed: {at}: {}[{}]: {}{}\n",
            d.severity,
            d.code,
            d.message,
            d.help
                .as_ref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default()
        ));
    }
    t
}

/// A report in one of the CI formats, of findings whose paths are already rebased on `prefix`.
fn ci_report(
    args: &Args,
    prefix: &str,
    findings: &[Diagnostic],
    suppressed: &[Diagnostic],
    summary: report::json::Summary,
) -> String {
    match args.format {
        Format::Json => report::json::render(findings, suppressed, summary),
        Format::Sarif => {
            // A finding without a place (a git error, an unknown --cluster) is shown at the
            // repo's meshform.yaml when it has one.
            let config = crate::config::FILE_NAME;
            let unlocated = args
                .source
                .path
                .join(config)
                .is_file()
                .then(|| report::rebased(prefix, config));
            report::sarif::render(
                findings,
                &crate::policy::descriptions(),
                unlocated.as_deref(),
            )
        }
        Format::Github | Format::Text => report::github::render(findings),
    }
}

/// Reports input errors: always on stderr as text; in a CI format also on stdout, as that
/// format's report, so CI annotates them. Exit 2 either way.
fn input_errors(args: &Args, origin: &crate::source::Origin, mut diags: Vec<Diagnostic>) -> Exit {
    print_load_errors(
        origin,
        &diags,
        args.color.enabled(std::io::stderr().is_terminal()),
    );
    eprintln!(
        "error: {} in the input or the policies",
        crate::diag::count(diags.len(), "problem", "problems")
    );
    if args.format != Format::Text {
        let prefix = report_prefix(&args.source.path);
        report::rebase(&mut diags, &prefix);
        print_stdout(&ci_report(
            args,
            &prefix,
            &diags,
            &[],
            report::json::Summary::default(),
        ));
    }
    Exit::Error
}
