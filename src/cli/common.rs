//! Arguments and helpers shared by subcommands.

use crate::config::{Limits, Validate};
use crate::diag::codes::Load;
use crate::diag::Diagnostic;
use crate::manifest::SourceText;
use crate::pipeline;
use crate::render::{IstioApi, Keep, RenderOptions};
use crate::repo::{origin, LoadOptions};
use crate::source::values::{read_values_file, ValuesError};
use crate::source::Origin;
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// `--validate`: what an unknown Gloo field, or a known one meshform does not translate, is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateArg {
    /// An input error (exit 2), as kubectl's default.
    Strict,
    /// A warning; the field is left out of the output.
    Warn,
}

impl From<ValidateArg> for Validate {
    fn from(a: ValidateArg) -> Validate {
        match a {
            ValidateArg::Strict => Validate::Strict,
            ValidateArg::Warn => Validate::Warn,
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
    /// Istio networking API version of the rendered objects.
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
    /// What an unknown Gloo field, or a set field meshform does not translate, is: `strict`
    /// makes it an input error (exit 2), `warn` a warning with the field left out of the
    /// output. Default: meshform.yaml `validate`, else strict (docs/translation.md#strictness).
    #[arg(long, value_enum, value_name = "MODE")]
    pub validate: Option<ValidateArg>,
    /// Accept objects of this Gloo kind, which meshform does not translate, with a warning
    /// naming what the output lacks instead of an error (repeatable; meshform.yaml
    /// `accept.kinds` does the same for every run).
    #[arg(long = "accept-kind", value_name = "KIND")]
    pub accept_kinds: Vec<String>,
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
            read_values_file(f, &Limits::default(), &mut values)
                .map_err(|e| Diagnostic::error(Load::Values, values_message(f, &e)))?;
        }
        for k in &self.accept_kinds {
            if let Some(why) = crate::gloo::kinds::refused_acceptance(k) {
                return Err(Diagnostic::error(
                    Load::Config,
                    format!("--accept-kind: {why}"),
                ));
            }
        }
        Ok(pipeline::Options {
            load: LoadOptions {
                fallback_cluster: self.clusters.first().cloned(),
                values,
                limits: None,
                validate: self.validate.map(Validate::from),
                accept_kinds: self.accept_kinds.clone(),
                clusters: self.clusters.clone(),
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

/// What `--values FILE` reports when FILE cannot be used.
fn values_message(f: &Path, e: &ValuesError) -> String {
    let f = f.display();
    match e {
        ValuesError::Yaml(y) => format!("{f}:{}:{}: {}", y.pos.line, y.pos.column, y.message),
        ValuesError::NotMapping { .. } => format!("{f}: a values file must be a mapping"),
        // The words `read_to_string` uses for bytes that are not UTF-8.
        ValuesError::NotUtf8 => format!("{f}: stream did not contain valid UTF-8"),
        e => format!("{f}: {e}"),
    }
}

/// `--color`: when to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// When the stream written to is a terminal and NO_COLOR is unset or empty.
    Auto,
    /// Always, whatever NO_COLOR says.
    Always,
    /// Never.
    Never,
}

impl Color {
    /// Whether to colour a stream that is (`terminal`) or is not a terminal.
    pub fn enabled(self, terminal: bool) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// The directory that report paths of `path` are relative to, as a prefix (`""` or
/// `dir/sub`, `/` separators): the root of the git work tree holding `path`; outside one, the
/// current directory when `path` is inside it; else `path` itself (docs/ci.md#report-paths).
pub fn report_prefix(path: &Path) -> String {
    let Ok(abs) = std::fs::canonicalize(path) else {
        return String::new();
    };
    let git_root = git2::Repository::discover(&abs)
        .ok()
        .and_then(|r| r.workdir().and_then(|w| std::fs::canonicalize(w).ok()));
    let root = git_root.or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|d| std::fs::canonicalize(d).ok())
    });
    root.and_then(|r| abs.strip_prefix(r).ok().map(|p| p.to_path_buf()))
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default()
}

/// Prints diagnostics to stderr, capped.
pub fn print_diagnostics(diags: &[Diagnostic], files: &[SourceText], cap: usize) {
    print_diagnostics_styled(diags, files, cap, false);
}

/// Prints diagnostics to stderr, capped, in colour when `color`.
pub fn print_diagnostics_styled(
    diags: &[Diagnostic],
    files: &[SourceText],
    cap: usize,
    color: bool,
) {
    let text = crate::report::text::render_styled(diags, files, cap, color);
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

/// Reports a run that failed on its input: each error with its source lines, then
/// `error: N problems; nothing <done>` (`done`: "rendered", "traced"). Exit 2.
pub fn input_failed(origin: &Origin, e: crate::repo::LoadError, done: &str) -> super::Exit {
    let diags = e.into_diagnostics();
    print_load_errors(origin, &diags, false);
    eprintln!(
        "error: {}; nothing {done}",
        crate::diag::count(diags.len(), "problem", "problems")
    );
    super::Exit::Error
}

/// Prints load errors with source lines, reading the files they name from `origin` as the
/// loader reads sources (`source::read_file`: only files inside the repo, a link only when it
/// stays inside, at most the default `limits.fileSize`); in colour when `color`.
pub fn print_load_errors(origin: &Origin, diags: &[Diagnostic], color: bool) {
    let limits = Limits::default();
    let mut files: Vec<SourceText> = Vec::new();
    for d in diags {
        let Some(loc) = &d.location else { continue };
        if files.iter().any(|f| f.path == loc.file) {
            continue;
        }
        let bytes = crate::source::read_file(origin, &loc.file, &limits)
            .ok()
            .flatten();
        if let Some(text) = bytes.and_then(|b| String::from_utf8(b).ok()) {
            files.push(SourceText {
                path: loc.file.clone(),
                text: text.into(),
            });
        }
    }
    print_diagnostics_styled(diags, &files, limits.max_diagnostics, color);
}
