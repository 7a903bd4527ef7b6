//! `meshform diff`: the rendered output of two revisions, compared.

use super::common::{
    print_diagnostics, print_load_errors, print_stdout, Color, IstioApiArg, SourceArgs, ValidateArg,
};
use super::Exit;
use crate::diff::{self, DiffOptions, Side};
use crate::pipeline;
use crate::render::Keep;
use crate::repo::{LoadError, Repo};
use crate::report::markdown;
use crate::route_test;
use crate::source::{GitRepo, Origin, SourceError};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Output format of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Unified diffs for a terminal.
    Text,
    /// A pull-request comment (GitHub-flavoured Markdown with Mermaid).
    Markdown,
    /// One JSON document for bots.
    Json,
}

/// Arguments of `diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Repo root (where meshform.yaml lives), inside a git work tree.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Base revision: a commit, branch, tag, `HEAD~1`, or `merge-base:BRANCH` (the merge base of
    /// HEAD and BRANCH, what a pull request diff needs).
    #[arg(long, default_value = "HEAD")]
    pub base: String,
    /// Head revision; without it, the working tree (as `git diff` does).
    #[arg(long)]
    pub head: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Colour the text format.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: Color,
    /// Lines of context around each change.
    #[arg(short = 'U', long, default_value_t = 3)]
    pub context: usize,
    /// Cap of the markdown output, in bytes (GitHub comments: 65,536 characters). Whole objects
    /// are left out past it, with a notice naming them.
    #[arg(long, default_value_t = markdown::DEFAULT_MAX_LENGTH as u64,
          value_parser = clap::value_parser!(u64).range(1024..))]
    pub max_length: u64,
    /// Heading of the markdown output.
    #[arg(long, default_value = "meshform diff")]
    pub title: String,
    /// Exit 1 when there are differences (like `git diff --exit-code`); 2 stays for errors.
    #[arg(long)]
    pub exit_code: bool,
    /// Diff only this cluster (repeatable).
    #[arg(long = "cluster")]
    pub clusters: Vec<String>,
    /// Extra template values file (repeatable).
    #[arg(long = "values")]
    pub values: Vec<PathBuf>,
    /// Istio networking API version of the rendered objects.
    #[arg(long, value_enum, default_value = "v1")]
    pub istio_api: IstioApiArg,
    /// Also diff the repo's non-Gloo objects (Secrets are masked).
    #[arg(long)]
    pub passthrough: bool,
    /// Extra policy directory (repeatable).
    #[arg(long = "policy-dir")]
    pub policy_dirs: Vec<PathBuf>,
    /// Ignore exemption annotations.
    #[arg(long)]
    pub no_exemptions: bool,
    /// What an unknown Gloo field, or a set field meshform does not translate, is in both
    /// revisions: `strict` makes it an input error (exit 2), `warn` a warning with the field
    /// left out of the output. Default: meshform.yaml `validate`, else strict.
    #[arg(long, value_enum, value_name = "MODE")]
    pub validate: Option<ValidateArg>,
    /// Accept objects of this Gloo kind, which meshform does not translate, with a warning
    /// naming what the output lacks instead of an error (repeatable; meshform.yaml
    /// `accept.kinds` does the same for every run).
    #[arg(long = "accept-kind", value_name = "KIND")]
    pub accept_kinds: Vec<String>,
}

impl Args {
    fn source(&self) -> SourceArgs {
        SourceArgs {
            path: self.path.clone(),
            rev: None,
            clusters: self.clusters.clone(),
            values: self.values.clone(),
            istio_api: self.istio_api,
            passthrough: self.passthrough,
            policy_dirs: self.policy_dirs.clone(),
            no_exemptions: self.no_exemptions,
            validate: self.validate,
            accept_kinds: self.accept_kinds.clone(),
        }
    }
}

/// Why the revisions to compare could not be found.
#[derive(Debug, thiserror::Error)]
enum ResolveError {
    /// The path is not in a readable git repository.
    #[error("{0}")]
    Repo(SourceError),
    /// `--base` names no commit.
    #[error("--base: {0}")]
    Base(SourceError),
    /// `--head` names no commit.
    #[error("--head: {0}")]
    Head(SourceError),
}

/// Resolves both revisions up front, so a missing repository, an empty one or an unknown
/// revision is a usage error (exit 2) and not a base that "failed to render".
fn resolve(args: &Args) -> Result<(Side, Origin, Side, Origin), ResolveError> {
    let g = GitRepo::open(&args.path).map_err(ResolveError::Repo)?;
    let base = g.resolve(&args.base).map_err(ResolveError::Base)?;
    let base_side = Side {
        label: args.base.clone(),
        commit: Some(base.to_string()),
    };
    let base_origin = Origin::Rev {
        path: args.path.clone(),
        rev: base.to_string(),
    };
    let (head_side, head_origin) = match &args.head {
        Some(h) => {
            let id = g.resolve(h).map_err(ResolveError::Head)?;
            (
                Side {
                    label: h.clone(),
                    commit: Some(id.to_string()),
                },
                Origin::Rev {
                    path: args.path.clone(),
                    rev: id.to_string(),
                },
            )
        }
        None => (
            Side {
                label: "working tree".into(),
                commit: None,
            },
            Origin::Dir(args.path.clone()),
        ),
    };
    Ok((base_side, base_origin, head_side, head_origin))
}

/// The requests of the head's route tests whose outcome differs from the base's
/// (docs/ci.md#changed-outcomes); none when the base failed to render. A malformed test file
/// is reported on stderr and the route tests are left out.
fn outcome_changes(
    base: &Result<pipeline::Outcome, LoadError>,
    head: &pipeline::Outcome,
    only: &[String],
) -> Vec<route_test::changes::OutcomeChange> {
    let Ok(base) = base else {
        return Vec::new();
    };
    if head.repo.route_test_files.is_empty() {
        return Vec::new();
    }
    let cases = match route_test::parse_all(&head.repo.route_test_files) {
        Ok(c) => c,
        Err(d) => {
            print_diagnostics(
                &d,
                &head.repo.route_test_files,
                head.repo.limits.max_diagnostics,
            );
            eprintln!(
                "warning: the head's route tests are not run: {}",
                crate::diag::count(d.len(), "problem", "problems")
            );
            return Vec::new();
        }
    };
    let start = std::time::Instant::now();
    let b = route_test::changes::traced_values(&base.nodes);
    let h = route_test::changes::traced_values(&head.nodes);
    let out = route_test::changes::changes(&cases, (&b, &base.repo), (&h, &head.repo), only);
    tracing::info!(
        "route tests: {} cases traced on both sides, {} changed, in {:?}",
        cases.len(),
        out.len(),
        start.elapsed()
    );
    out
}

/// Runs `diff`.
pub fn run(args: Args) -> Exit {
    let opts = match args.source().options() {
        // Two revisions' rendered objects are held at once: as compact nodes.
        Ok(mut o) => {
            o.render.keep = Keep::Nodes;
            o
        }
        Err(d) => {
            print_diagnostics(&[d], &[], 1);
            return Exit::Error;
        }
    };
    let (base_side, base_origin, head_side, head_origin) = match resolve(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Error;
        }
    };
    // Load the base, then the head reusing every file the two revisions share (parsed once),
    // then check and render one after the other: each pipeline already uses every core, and
    // running the two at once only raised the peak (10k diff: 1,059-1,121 MiB side by side,
    // 977-1,014 MiB in turn; docs/performance.md).
    let start = std::time::Instant::now();
    let base = Repo::load(&base_origin, &opts.load);
    tracing::debug!("diff: base loaded in {:?}", start.elapsed());
    let head = match &base {
        Ok(b) => Repo::load_after(&head_origin, &opts.load, b),
        Err(_) => Repo::load(&head_origin, &opts.load),
    };
    tracing::info!(
        "loaded the base ({}) and the head ({}) in {:?}",
        base_side.describe(),
        head_side.describe(),
        start.elapsed()
    );
    // A side with no manifests at all failed to load (a base before the repo existed shows the
    // head as all added; a head without manifests is an input error).
    let some = |r: Result<Repo, LoadError>, o: &Origin| match r {
        Ok(repo) => match pipeline::no_manifests(&repo, &pipeline::describe(o)) {
            Some(d) => Err(LoadError::Invalid(vec![d])),
            None => Ok(repo),
        },
        e => e,
    };
    let (base, head) = (some(base, &base_origin), some(head, &head_origin));
    // A --cluster that neither revision has is a typo (one side only: the change adds or
    // removes that cluster, and the diff shows it).
    let has = |r: &Result<Repo, _>, c: &String| r.as_ref().is_ok_and(|r| r.clusters.contains(c));
    if let Some(c) = opts
        .render
        .clusters
        .iter()
        .find(|c| !has(&base, c) && !has(&head, c))
    {
        if let Some(d) = head
            .as_ref()
            .ok()
            .and_then(|h| pipeline::unknown_cluster(h, std::slice::from_ref(c)))
        {
            print_diagnostics(&[d], &[], crate::config::Limits::default().max_diagnostics);
            eprintln!("error: no revision has cluster `{c}`; nothing compared");
            return Exit::Error;
        }
    }
    // Route tests trace both revisions and read the Gloo routes' names from the values.
    let mut opts = opts;
    if head.as_ref().is_ok_and(|h| !h.route_test_files.is_empty()) {
        opts.release_inputs = false;
    }
    let (base, head) = pipeline::diff(base, head, &opts);
    let head = match head {
        Ok(h) => h,
        Err(e) => {
            let diags = e.into_diagnostics();
            print_load_errors(
                &head_origin,
                &diags,
                args.color.enabled(std::io::stderr().is_terminal()),
            );
            eprintln!(
                "error: the head ({}) failed to render: {}; nothing compared",
                head_side.describe(),
                crate::diag::count(diags.len(), "problem", "problems")
            );
            return Exit::Error;
        }
    };
    let (base_ok, base_error) = match &base {
        Ok(b) => (Some((&b.nodes[..], &b.findings[..])), None),
        Err(e) => {
            let diags = e.diagnostics();
            eprintln!(
                "warning: the base ({}) failed to render ({}); showing the head as all added",
                base_side.describe(),
                crate::diag::count(diags.len(), "problem", "problems")
            );
            (None, Some(diags))
        }
    };
    tracing::info!("rendered and checked both in {:?}", start.elapsed());
    let mut report = diff::build(
        base_side,
        head_side,
        base_ok,
        base_error,
        (&head.nodes, &head.findings),
        &DiffOptions {
            context: args.context,
        },
    );
    report.routes = diff::routes::changes(base.as_ref().ok().map(|b| &b.repo), &head.repo);
    report.outcomes = outcome_changes(&base, &head, &opts.render.clusters);
    let text = match args.format {
        Format::Text => {
            diff::text::render(&report, args.color.enabled(std::io::stdout().is_terminal()))
        }
        Format::Markdown => markdown::render(
            &report,
            &markdown::Options {
                max_length: usize::try_from(args.max_length).unwrap_or(usize::MAX),
                title: args.title.clone(),
            },
        ),
        Format::Json => diff::json::render(&report),
    };
    tracing::info!("compared and formatted in {:?}", start.elapsed());
    print_stdout(&text);
    let exit = if args.exit_code && report.has_changes() {
        Exit::Findings
    } else {
        Exit::Clean
    };
    // The process ends here: freeing both renders object by object would only cost time.
    std::mem::forget(report);
    std::mem::forget(text);
    std::mem::forget(head);
    std::mem::forget(base);
    exit
}
