//! `meshform test`: runs the repo's route tests (docs/route-tests.md) against its render.
//!
//! A top-level command beside `render`, `check` and `trace`, with the same PATH and source
//! flags: route tests are about the repo's render, as `trace` is (`meshform policy test` tests
//! policies against fixtures of their own).

use super::common::{print_load_errors, print_stdout, report_prefix, SourceArgs};
use super::Exit;
use crate::diag::Diagnostic;
use crate::manifest::SourceText;
use crate::pipeline;
use crate::render::Keep;
use crate::report;
use crate::route_test;
use std::path::{Path, PathBuf};

/// Report format of `test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A line per case; the trace of each failure.
    Text,
    /// One JSON document: every case, its outcome and problems, the trace of failures.
    Json,
    /// GitHub Actions annotations at the failing cases.
    Github,
}

/// Arguments of `test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Route test files to run instead of the repo's own (those matching meshform.yaml
    /// `routeTests.paths`, default `tests/routes/**`).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Report format on stdout. In json and github, paths are relative to the git
    /// repository's root.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Runs `test`: exit 0 when every case passes, 1 when one fails, 2 on bad input (the repo, a
/// malformed test file, a case naming a cluster or gateway the render lacks).
pub fn run(args: Args) -> Exit {
    let origin = args.source.origin();
    let mut opts = match args.source.options() {
        Ok(o) => o,
        Err(d) => return input_errors(&args, &origin, vec![d]),
    };
    // The trace reads the rendered objects; policies are `check`'s business.
    opts.render.keep = Keep::Values;
    opts.release_inputs = false;
    opts.skip_policies = true;
    if args.source.path.is_file() {
        eprintln!(
            "error: {} is a file: meshform test takes the repo root first, then test files \
             (meshform test . {})",
            args.source.path.display(),
            args.source.path.display()
        );
        return Exit::Error;
    }
    let repo = match pipeline::load(&origin, &opts) {
        Ok(r) => r,
        Err(e) => return input_errors(&args, &origin, e.into_diagnostics()),
    };
    let files = if args.files.is_empty() {
        repo.route_test_files.clone()
    } else {
        match read_files(&args.source.path, &args.files) {
            Ok(f) => f,
            Err(d) => return input_errors(&args, &origin, vec![d]),
        }
    };
    if files.is_empty() {
        eprintln!(
            "error: no route test files in {}: write RouteTest files under {} (meshform.yaml \
             `routeTests.paths`), or name them after the path (docs/route-tests.md)",
            pipeline::describe(&origin),
            repo.config.route_tests.paths.join(", ")
        );
        return Exit::Error;
    }
    let cases = match route_test::parse_all(&files) {
        Ok(c) => c,
        Err(d) => return input_errors_in(&args, &origin, &files, d),
    };
    let clusters = opts.render.clusters.clone();
    let outcome = match pipeline::run(repo, &opts) {
        Ok(o) => o,
        Err(e) => return input_errors(&args, &origin, e.into_diagnostics()),
    };
    if outcome.has_errors() {
        eprintln!(
            "warning: the render has {}; `meshform check` lists them",
            crate::diag::count(
                outcome.count(crate::diag::Severity::Error),
                "error",
                "errors"
            )
        );
    }
    let run = match route_test::run::run(&cases, &outcome.objects, &outcome.repo, &clusters, true) {
        Ok(r) => r,
        Err(d) => return input_errors_in(&args, &origin, &files, d),
    };
    let prefix = || report_prefix(&args.source.path);
    let text = match args.format {
        Format::Text => report::route_tests::text(&run, &crate::trace::text),
        Format::Json => report::route_tests::json(&run, &prefix()),
        Format::Github => report::route_tests::github(&run, &prefix()),
    };
    print_stdout(&text);
    let exit = if run.failed() > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    };
    std::mem::forget(run);
    std::mem::forget(outcome);
    exit
}

/// The files named on the command line, each named by its path from the repo root when it is
/// inside it, else by its absolute path.
fn read_files(root: &Path, files: &[PathBuf]) -> Result<Vec<SourceText>, Diagnostic> {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| {
            Diagnostic::error(
                crate::diag::codes::Load::Io,
                format!("{}: {e}", f.display()),
            )
        })?;
        let abs = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
        let label = match abs.strip_prefix(&root) {
            Ok(rel) => rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => abs.display().to_string(),
        };
        out.push(route_test::format::source(&label, text));
    }
    Ok(out)
}

/// Input errors located in the test files (which may lie outside the repo): printed with
/// their source lines, then as [`input_errors`] reports them.
fn input_errors_in(
    args: &Args,
    origin: &crate::source::Origin,
    files: &[SourceText],
    diags: Vec<Diagnostic>,
) -> Exit {
    let color = false;
    let text = report::text::render_styled(&diags, files, usize::MAX, color);
    eprint!("{text}");
    report_input_errors(args, origin, diags, false)
}

/// Reports input errors on stderr; in json and github also on stdout, as check does. Exit 2.
fn input_errors(args: &Args, origin: &crate::source::Origin, diags: Vec<Diagnostic>) -> Exit {
    report_input_errors(args, origin, diags, true)
}

fn report_input_errors(
    args: &Args,
    origin: &crate::source::Origin,
    mut diags: Vec<Diagnostic>,
    print: bool,
) -> Exit {
    if print {
        print_load_errors(origin, &diags, false);
    }
    eprintln!(
        "error: {} in the input or the route tests",
        crate::diag::count(diags.len(), "problem", "problems")
    );
    if args.format != Format::Text {
        let prefix = report_prefix(&args.source.path);
        report::rebase(&mut diags, &prefix);
        print_stdout(&match args.format {
            Format::Json => report::json::render(&diags, &[], report::json::Summary::default()),
            _ => report::github::render(&diags),
        });
    }
    Exit::Error
}
