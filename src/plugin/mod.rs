//! Front ends for other tools: the Argo CD config-management plugin and the KRM function.
//!
//! Both go through [`crate::pipeline`] exactly as `meshform render` does, so a cluster renders
//! to the same bytes everywhere. Both write manifests to stdout only when the run is clean.

pub mod argocd;
pub mod krm;

use crate::diag::Diagnostic;
use crate::manifest::SourceText;

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
                "{}; nothing rendered for cluster {cluster}",
                crate::diag::count(outcome.count(Severity::Error), "error", "errors")
            ),
            diagnostics: shown,
            files: outcome.repo.files,
            findings: true,
        });
    }
    Ok((outcome, shown))
}
