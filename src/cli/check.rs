//! `meshform check`: runs the policies and Istio validation and reports the findings.

use super::common::{print_diagnostics, print_load_errors, print_stdout, SourceArgs};
use super::Exit;
use crate::diag::Severity;
use crate::pipeline;
use crate::render::Keep;
use crate::report;

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
    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Runs `check`: exit 0 when clean or only warnings, 1 on errors, 2 on bad input or a broken
/// policy.
pub fn run(args: Args) -> Exit {
    let mut opts = match args.source.options() {
        Ok(o) => o,
        Err(d) => {
            print_diagnostics(&[d], &[], 1);
            return Exit::Error;
        }
    };
    // Only findings are reported: rendered objects are validated and dropped.
    opts.render.keep = Keep::Findings;
    let origin = args.source.origin();
    let outcome = match pipeline::load(&origin, &opts).and_then(|r| pipeline::run(r, &opts)) {
        Ok(o) => o,
        Err(e) => {
            let diags = e.into_diagnostics();
            print_load_errors(&origin, &diags);
            eprintln!(
                "error: {} in the input or the policies",
                crate::diag::count(diags.len(), "problem", "problems")
            );
            return Exit::Error;
        }
    };
    let f = &outcome.findings;
    let text = match args.format {
        Format::Text => {
            let mut t =
                report::text::render(f, &outcome.repo.files, outcome.repo.limits.max_diagnostics);
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
        Format::Json => report::json::render(
            f,
            &outcome.suppressed,
            report::json::Summary {
                objects: outcome.repo.objects.len(),
                policies: outcome.policies,
            },
        ),
        Format::Sarif => report::sarif::render(f, &crate::policy::descriptions()),
        Format::Github => report::github::render(f),
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
