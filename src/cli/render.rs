//! `meshform render`.

use super::common::{input_failed, print_diagnostics, print_stdout, print_stream, SourceArgs};
use super::Exit;
use crate::diag::codes::Run;
use crate::diag::{count, Diagnostic, Severity};
use crate::pipeline;
use crate::render::{emit, Keep};
use crate::repo::LoadError;
use std::path::PathBuf;

/// Output format for `render`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A YAML stream, `---` between documents.
    Yaml,
    /// A JSON array.
    Json,
}

/// Arguments of `render`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format on stdout (not with --out-dir, which writes YAML files).
    #[arg(
        short = 'o',
        long = "output",
        value_enum,
        default_value = "yaml",
        conflicts_with = "out_dir"
    )]
    pub format: Format,
    /// Write DIR/<cluster>/<namespace>/<kind>-<name>.yaml, in lower case (cluster-scoped
    /// objects under _cluster), and a kustomization.yaml per cluster instead of printing;
    /// replaced atomically, so DIR must be absent, empty or an earlier output (marked by a
    /// .meshform-out file).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Print every cluster's objects in one stream. Without it, rendering a repo of several
    /// clusters to stdout needs `--cluster NAME` (or `--out-dir`, which writes one directory
    /// per cluster): one stream of several clusters' copies, applied with `kubectl apply`,
    /// would put them all in one cluster.
    #[arg(long, conflicts_with = "clusters")]
    pub all_clusters: bool,
    /// Succeed even when the clusters render no object. Without it an empty render is an
    /// error: Argo CD or Flux with pruning would delete everything they manage.
    #[arg(long)]
    pub allow_empty: bool,
}

/// The error for a render of no object: the clusters asked for (or all of the repo's).
fn empty_render(outcome: &pipeline::Outcome, opts: &pipeline::Options) -> Diagnostic {
    let asked = &opts.render.clusters;
    let clusters = if asked.is_empty() {
        &outcome.repo.clusters
    } else {
        asked
    };
    let (noun, verb) = if clusters.len() == 1 {
        ("cluster", "renders")
    } else {
        ("clusters", "render")
    };
    Diagnostic::error(
        Run::EmptyRender,
        format!(
            "{noun} {} {verb} no objects; refusing to write an empty output",
            clusters.join(", ")
        ),
    )
    .help(
        "an empty output makes Argo CD or Flux with pruning delete everything they manage; \
         check the path and --cluster, or pass --allow-empty if an empty output is really wanted",
    )
}

/// The usage error for a stdout render of several clusters that asked for none.
fn several_clusters(clusters: &[String]) -> Diagnostic {
    Diagnostic::error(
        Run::SeveralClusters,
        format!(
            "this repo has {} clusters ({}); one stream of all their objects would be applied \
             as one cluster's config",
            clusters.len(),
            clusters.join(", ")
        ),
    )
    .help(format!(
        "render one cluster with `--cluster {}`, write one directory per cluster with \
         `--out-dir DIR`, or pass `--all-clusters` to print every cluster's copies in one stream",
        clusters[0]
    ))
}

/// Runs `render`.
pub fn run(args: Args) -> Exit {
    let mut opts = match args.source.options() {
        Ok(o) => o,
        Err(d) => {
            print_diagnostics(&[d], &[], 1);
            return Exit::Error;
        }
    };
    opts.render.keep = if args.out_dir.is_none() && args.format == Format::Yaml {
        // Only the stream is printed: each object is written as it is rendered.
        Keep::Stream
    } else {
        // Every object is held until the run is known to be clean: as compact nodes.
        Keep::Nodes
    };
    let origin = args.source.origin();
    let start = std::time::Instant::now();
    let loaded = pipeline::load(&origin, &opts).and_then(|r| {
        tracing::info!(
            "loaded {}: {}, {}, {} {} in {:?}",
            pipeline::describe(&origin),
            count(r.files.len(), "file", "files"),
            count(r.objects.len(), "object", "objects"),
            if r.clusters.len() == 1 {
                "cluster"
            } else {
                "clusters"
            },
            r.clusters.join(", "),
            start.elapsed()
        );
        let stdout = args.out_dir.is_none() && !args.all_clusters;
        if stdout && opts.render.clusters.is_empty() && r.clusters.len() > 1 {
            return Err(LoadError::Invalid(vec![several_clusters(&r.clusters)]));
        }
        pipeline::run(r, &opts)
    });
    let outcome = match loaded {
        Ok(o) => o,
        Err(e) => return input_failed(&origin, e, "rendered"),
    };
    tracing::info!(
        "rendered and validated {}, {}, {} in {:?}",
        count(outcome.rendered, "object", "objects"),
        count(outcome.policies, "policy", "policies"),
        count(outcome.findings.len(), "finding", "findings"),
        start.elapsed()
    );
    let cap = outcome.repo.limits.max_diagnostics;
    let shown = outcome.shown();
    print_diagnostics(&shown, &outcome.repo.files, cap);
    if outcome.has_errors() {
        eprintln!(
            "error: {}; nothing rendered (run `meshform check` for details)",
            crate::diag::count(outcome.count(Severity::Error), "error", "errors")
        );
        return Exit::Findings;
    }
    if outcome.rendered == 0 && !args.allow_empty {
        print_diagnostics(&[empty_render(&outcome, &opts)], &[], cap);
        eprintln!("error: nothing rendered");
        return Exit::Findings;
    }
    if let Some(dir) = &args.out_dir {
        return match emit::write_out_dir(dir, &outcome.nodes) {
            Ok(n) => {
                eprintln!(
                    "wrote {} to {}",
                    crate::diag::count(n, "object", "objects"),
                    dir.display()
                );
                Exit::Clean
            }
            Err(e) => {
                eprintln!("error: {e}");
                Exit::Error
            }
        };
    }
    let start = std::time::Instant::now();
    let bytes = match args.format {
        Format::Yaml => match &outcome.stream {
            Ok(stream) => {
                print_stream(stream);
                stream.len()
            }
            Err(e) => {
                eprintln!("error: cannot write YAML: {e}");
                return Exit::Error;
            }
        },
        Format::Json => {
            let text = emit::json_array(&outcome.nodes);
            print_stdout(&text);
            text.len()
        }
    };
    tracing::debug!(
        "emit: {bytes} bytes in {:?}; {}",
        start.elapsed(),
        crate::pipeline::rss()
    );
    // The process ends here: freeing every object one by one would only cost time.
    std::mem::forget(outcome);
    Exit::Clean
}
