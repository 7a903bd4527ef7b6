//! Policy as code: CEL policies (ValidatingAdmissionPolicy-shaped) over the whole repo.
//!
//! `format` reads policy files, `engine` compiles and checks them, `run` evaluates them in
//! parallel over the repo's objects, `functions` and `gloo` provide the helper
//! functions, and `test_runner` runs `meshform policy test`. See docs/policies.md.

pub mod convert;
pub mod engine;
pub mod format;
pub mod functions;
pub mod gloo;
mod hash;
mod reads;
pub mod run;
pub mod test_runner;

use crate::diag::codes::Policy;
use crate::diag::Diagnostic;
use crate::gloo::Model;
use crate::incremental::{Earlier, Incr};
use crate::manifest::SourceText;
use crate::repo::{LoadError, Repo};
use std::path::{Path, PathBuf};

/// What a policy run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Findings, not yet sorted.
    pub findings: Vec<Diagnostic>,
    /// Findings suppressed by exemption annotations.
    pub suppressed: Vec<Diagnostic>,
    /// Number of policies evaluated.
    pub policies: usize,
    /// How many (policy, object) results were taken from an earlier revision's run instead
    /// of evaluated ([`check`]).
    pub taken: usize,
}

/// The annotation prefix that exempts an object from a policy: `<prefix><policy-name>`.
pub const EXEMPTION_PREFIX: &str = "policy.meshform.dev/ignore-";

/// The built-in policies, embedded in the binary: (file name, text).
pub const BUILTINS: &[(&str, &str)] = &[
    (
        "routetable-unique-prefix.yaml",
        include_str!("../../policies/routetable-unique-prefix.yaml"),
    ),
    (
        "routetable-shadowed-route.yaml",
        include_str!("../../policies/routetable-shadowed-route.yaml"),
    ),
    (
        "routetable-spec-rules.yaml",
        include_str!("../../policies/routetable-spec-rules.yaml"),
    ),
    (
        "routetable-weights.yaml",
        include_str!("../../policies/routetable-weights.yaml"),
    ),
    (
        "routetable-tcp-destinations.yaml",
        include_str!("../../policies/routetable-tcp-destinations.yaml"),
    ),
    (
        "routetable-references-visible.yaml",
        include_str!("../../policies/routetable-references-visible.yaml"),
    ),
    (
        "routetable-service-exists.yaml",
        include_str!("../../policies/routetable-service-exists.yaml"),
    ),
    (
        "externalservice-hosts-addresses.yaml",
        include_str!("../../policies/externalservice-hosts-addresses.yaml"),
    ),
    (
        "externalservice-wildcard-endpoints.yaml",
        include_str!("../../policies/externalservice-wildcard-endpoints.yaml"),
    ),
    (
        "externalservice-ports.yaml",
        include_str!("../../policies/externalservice-ports.yaml"),
    ),
];

/// The built-in policy sources, as `builtin:policies/<file>`.
pub fn builtin_sources() -> Vec<SourceText> {
    BUILTINS
        .iter()
        .map(|(f, t)| SourceText {
            path: format!("builtin:policies/{f}").into(),
            text: (*t).into(),
        })
        .collect()
}

/// True for a file under `policies/` that is a policy (not a test or a test fixture).
pub fn is_policy_path(path: &str) -> bool {
    let p = path.strip_prefix(crate::repo::POLICY_DIR).unwrap_or(path);
    (p.ends_with(".yaml") || p.ends_with(".yml")) && !p.split('/').any(|s| s == "tests")
}

/// Reads the `*.yaml`/`*.yml` files directly in `dir`, sorted by name. Links are refused.
pub fn read_dir(dir: &Path) -> Result<Vec<SourceText>, Box<Diagnostic>> {
    let io = |e: std::io::Error| Diagnostic::error(Policy::Dir, format!("{}: {e}", dir.display()));
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for p in names {
        let meta = std::fs::symlink_metadata(&p).map_err(io)?;
        if !meta.is_file() {
            continue;
        }
        if meta.len() > 4 << 20 {
            return Err(Box::new(Diagnostic::error(
                Policy::Dir,
                format!("{}: policy file larger than 4 MiB", p.display()),
            )));
        }
        let text = std::fs::read_to_string(&p).map_err(io)?;
        out.push(SourceText {
            path: p.display().to_string().into(),
            text: text.into(),
        });
    }
    Ok(out)
}

/// Loads and compiles policies from sources; every broken policy is listed.
pub fn load(sources: &[SourceText]) -> Result<Vec<engine::Compiled>, LoadError> {
    let mut errors = Vec::new();
    let mut out: Vec<engine::Compiled> = Vec::new();
    for s in sources {
        match format::parse_file(s) {
            Ok(docs) => {
                for d in docs {
                    if let Some(prev) = out.iter().find(|c| c.name() == d.doc.metadata.name) {
                        errors.push(
                            format::broken_at(
                                d.locate("/metadata/name"),
                                format!(
                                    "policy {} is defined twice (built-in policies cannot be replaced)",
                                    d.doc.metadata.name
                                ),
                            )
                            .related(prev.src.locate("/metadata/name"), "first defined"),
                        );
                        continue;
                    }
                    match engine::compile(d) {
                        Ok(c) => out.push(c),
                        Err(e) => errors.push(*e),
                    }
                }
            }
            Err(es) => errors.extend(es),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        crate::diag::normalize(&mut errors);
        Err(LoadError::Invalid(errors))
    }
}

/// What a policy run recorded for a run of a later revision ([`check`]).
#[derive(Debug)]
pub struct Memo {
    /// The policy sources it ran, in order.
    sources: Vec<SourceText>,
    run: run::Memo,
}

/// Runs the built-in policies, the repo's `policies/` and `extra_dirs`. A broken policy is a
/// `LoadError` (exit 2).
///
/// With `inc.record`, also returns what a later revision's check can take; with
/// `inc.earlier`, the results that cannot have changed are taken from the earlier revision's
/// memo ([`run::run`]). The memo is used only when the policy sources are the same.
pub fn check(
    repo: &Repo,
    model: &Model,
    extra_dirs: &[PathBuf],
    no_exemptions: bool,
    inc: Incr<'_, &Memo>,
) -> Result<(Report, Option<Memo>), LoadError> {
    let sources = sources(repo, extra_dirs)?;
    let policies = load(&sources)?;
    let same = |m: &Memo| {
        m.sources.len() == sources.len()
            && m.sources
                .iter()
                .zip(&sources)
                .all(|(a, b)| a.path == b.path && a.text == b.text)
    };
    let earlier = inc.earlier.filter(|e| same(e.memo)).map(|e| Earlier {
        repo: e.repo,
        same: e.same,
        memo: &e.memo.run,
    });
    let inc = Incr {
        record: inc.record,
        earlier,
    };
    let (report, _, memo) = run::run(repo, model, &policies, no_exemptions, inc)?;
    Ok((report, memo.map(|run| Memo { sources, run })))
}

/// The built-in policies, then the repo's, then those of `extra_dirs`.
fn sources(repo: &Repo, extra_dirs: &[PathBuf]) -> Result<Vec<SourceText>, LoadError> {
    let mut sources = builtin_sources();
    sources.extend(
        repo.policy_files
            .iter()
            .filter(|f| is_policy_path(&f.path))
            .cloned(),
    );
    for d in extra_dirs {
        sources.extend(read_dir(d).map_err(|e| LoadError::Invalid(vec![*e]))?);
    }
    Ok(sources)
}

/// Short descriptions of the built-in policies by name (SARIF rule texts).
pub fn descriptions() -> std::collections::BTreeMap<String, String> {
    builtin_sources()
        .iter()
        .filter_map(|s| format::parse_file(s).ok())
        .flatten()
        .map(|l| {
            let d = l
                .doc
                .metadata
                .annotations
                .get("description")
                .cloned()
                .unwrap_or_default();
            (l.doc.metadata.name, d)
        })
        .collect()
}
