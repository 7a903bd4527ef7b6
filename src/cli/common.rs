//! Arguments and helpers shared by subcommands.

use crate::diag::Diagnostic;
use crate::manifest::SourceText;
use crate::pipeline;
use crate::render::{IstioApi, Keep, RenderOptions};
use crate::repo::{origin, LoadOptions};
use crate::source::Origin;
use std::io::Write;
use std::path::PathBuf;

/// `--istio-api`: the Istio networking API version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IstioApiArg {
    /// `networking.istio.io/v1` (Istio 1.22 and later).
    V1,
    /// `networking.istio.io/v1beta1`, for older Istio.
    V1beta1,
}

impl From<IstioApiArg> for IstioApi {
    fn from(a: IstioApiArg) -> IstioApi {
        match a {
            IstioApiArg::V1 => IstioApi::V1,
            IstioApiArg::V1beta1 => IstioApi::V1beta1,
        }
    }
}

/// Where to read the repo and which clusters to render.
#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    /// Repo root (where meshform.yaml lives).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Read this git revision from the object database instead of the working tree.
    #[arg(long)]
    pub rev: Option<String>,
    /// Render only this cluster (repeatable). Without meshform.yaml, names the one cluster.
    #[arg(long = "cluster")]
    pub clusters: Vec<String>,
    /// Extra template values file (repeatable), merged over meshform.yaml's cluster values.
    #[arg(long = "values")]
    pub values: Vec<PathBuf>,
    /// Istio networking API version to write.
    #[arg(long, value_enum, default_value = "v1")]
    pub istio_api: IstioApiArg,
    /// Also emit the repo's non-Gloo objects.
    #[arg(long)]
    pub passthrough: bool,
    /// Extra policy directory (repeatable).
    #[arg(long = "policy-dir")]
    pub policy_dirs: Vec<PathBuf>,
    /// Ignore exemption annotations (for CI).
    #[arg(long)]
    pub no_exemptions: bool,
}

impl SourceArgs {
    /// The origin to read.
    pub fn origin(&self) -> Origin {
        origin(self.path.clone(), self.rev.clone())
    }

    /// Pipeline options from the arguments.
    pub fn options(&self) -> Result<pipeline::Options, Diagnostic> {
        let mut values = serde_json::Map::new();
        for f in &self.values {
            let text = std::fs::read_to_string(f)
                .map_err(|e| Diagnostic::error("values", format!("{}: {e}", f.display())))?;
            let parsed = crate::yaml::parse_stream(&text, &Default::default()).map_err(|e| {
                Diagnostic::error(
                    "values",
                    format!(
                        "{}:{}:{}: {}",
                        f.display(),
                        e.pos.line,
                        e.pos.column,
                        e.message
                    ),
                )
            })?;
            for d in parsed.documents {
                if let serde_json::Value::Object(m) = d.value.to_json() {
                    crate::source::template::merge(&mut values, &m);
                } else {
                    return Err(Diagnostic::error(
                        "values",
                        format!("{}: a values file must be a mapping", f.display()),
                    ));
                }
            }
        }
        Ok(pipeline::Options {
            load: LoadOptions {
                fallback_cluster: self.clusters.first().cloned(),
                values,
                limits: None,
            },
            render: RenderOptions {
                clusters: self.clusters.clone(),
                istio_api: self.istio_api.into(),
                passthrough: self.passthrough,
                keep: Keep::Values,
            },
            policy_dirs: self.policy_dirs.clone(),
            skip_policies: false,
            no_exemptions: self.no_exemptions,
            // render, check and diff use only the findings, files and rendered objects after
            // the run (diff has loaded both revisions by then).
            release_inputs: true,
        })
    }
}

/// Prints diagnostics to stderr, capped.
pub fn print_diagnostics(diags: &[Diagnostic], files: &[SourceText], cap: usize) {
    let text = crate::report::text::render(diags, files, cap);
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Writes to stdout in one go; a closed pipe is not an error worth a panic.
pub fn print_stdout(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

/// Writes a YAML stream to stdout document by document, through one buffer; a closed pipe is
/// not an error worth a panic.
pub fn print_stream(stream: &crate::render::Stream) {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let _ = stream.write_to(&mut out);
    let _ = out.flush();
}

/// Prints load errors with source lines, reading the files they name from `origin`: from the
/// working tree, only regular files inside the root (never through a symlink); from a git
/// revision, only regular blobs of its tree (never a link). Either way at most 16 MiB a file.
pub fn print_load_errors(origin: &Origin, diags: &[Diagnostic]) {
    const MAX: u64 = 16 << 20;
    let mut files: Vec<SourceText> = Vec::new();
    let root = match origin {
        Origin::Dir(root) => std::fs::canonicalize(root).ok(),
        Origin::Rev { .. } => None,
    };
    for d in diags {
        let Some(loc) = &d.location else { continue };
        if files.iter().any(|f| f.path == loc.file) {
            continue;
        }
        let bytes = match (origin, &root) {
            (Origin::Dir(_), Some(root)) => {
                let p = root.join(&*loc.file);
                let regular =
                    std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_file() && m.len() < MAX);
                let inside = std::fs::canonicalize(&p).is_ok_and(|c| c.starts_with(root));
                (regular && inside)
                    .then(|| std::fs::read(&p).ok())
                    .flatten()
            }
            (Origin::Rev { path, rev }, _) => {
                crate::source::read_rev_file(path, rev, &loc.file, MAX)
                    .ok()
                    .flatten()
            }
            _ => None,
        };
        if let Some(text) = bytes.and_then(|b| String::from_utf8(b).ok()) {
            files.push(SourceText {
                path: loc.file.clone(),
                text: text.into(),
            });
        }
    }
    print_diagnostics(
        diags,
        &files,
        crate::config::Limits::default().max_diagnostics,
    );
}
