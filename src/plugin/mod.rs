//! Front ends for other tools: the Argo CD config-management plugin and the KRM function.
//!
//! Both go through [`crate::pipeline`] exactly as `meshform render` does, so a cluster renders
//! to the same bytes everywhere. Both write manifests to stdout only when the run is clean.

pub mod argocd;
pub mod krm;

use crate::config::Limits;
use crate::diag::Diagnostic;
use crate::manifest::SourceText;
use serde_json::{Map, Value};
use std::io::Read;
use std::path::Path;

/// Why a front end produced no manifests.
#[derive(Debug, Default)]
pub struct Failure {
    /// What to print on stderr, in order.
    pub diagnostics: Vec<Diagnostic>,
    /// Texts the diagnostics point into.
    pub files: Vec<SourceText>,
    /// One closing line for stderr.
    pub summary: String,
    /// True when policies or translation reported errors (exit 1) rather than broken input
    /// or parameters (exit 2).
    pub findings: bool,
}

impl Failure {
    /// A failure with one diagnostic.
    pub fn one(d: impl Into<Box<Diagnostic>>) -> Failure {
        Failure {
            summary: "nothing rendered".into(),
            diagnostics: vec![*d.into()],
            ..Failure::default()
        }
    }
}

/// The findings a front end shows (all but Info), or a Failure when any is an error: nothing
/// is rendered then, so Argo CD and kustomize never see partial output.
pub(crate) fn shown_or_fail(
    outcome: crate::pipeline::Outcome,
    cluster: &str,
) -> Result<(crate::pipeline::Outcome, Vec<Diagnostic>), Failure> {
    use crate::diag::Severity;
    let shown = outcome.shown();
    if outcome.has_errors() {
        return Err(Failure {
            summary: format!(
                "{} error(s); nothing rendered for cluster {cluster}",
                outcome.count(Severity::Error)
            ),
            diagnostics: shown,
            files: outcome.repo.files,
            findings: true,
        });
    }
    Ok((outcome, shown))
}

/// Reads a values file (YAML or JSON mappings, several documents merged in order), at most
/// `limits.fileSize` bytes, and merges it deeply into `into`. `shown` names it in errors.
pub fn read_values_file(
    path: &Path,
    shown: &str,
    limits: &Limits,
    into: &mut Map<String, Value>,
) -> Result<(), Box<Diagnostic>> {
    let err = |m: String| Box::new(Diagnostic::error("values", format!("{shown}: {m}")));
    let f = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let mut data = Vec::new();
    f.take(limits.file_size + 1)
        .read_to_end(&mut data)
        .map_err(|e| err(e.to_string()))?;
    if data.len() as u64 > limits.file_size {
        return Err(err(format!(
            "over limits.fileSize ({} bytes)",
            limits.file_size
        )));
    }
    let text = String::from_utf8(data).map_err(|_| err("not UTF-8".into()))?;
    let parsed = crate::yaml::parse_stream(&text, &limits.yaml())
        .map_err(|e| err(format!("{}:{}: {}", e.pos.line, e.pos.column, e.message)))?;
    for d in parsed.documents {
        match d.value.to_json() {
            Value::Object(m) => crate::source::template::merge(into, &m),
            _ => {
                return Err(err(format!(
                    "document at line {} is not a mapping",
                    d.pos.line
                )))
            }
        }
    }
    Ok(())
}
