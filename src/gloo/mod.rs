//! The typed Gloo Platform 2.x API (shared/reference/gloo-translation.md §2–8) and the
//! workspace visibility graph built from it.

use crate::diag::Diagnostic;
use crate::repo::Repo;

/// Every Gloo object of the repo, typed, with workspaces resolved.
#[derive(Debug, Default)]
pub struct Model {}

impl Model {
    /// Types every Gloo object; type errors name file:line:col, the object and the field.
    pub fn build(repo: &Repo) -> (Model, Vec<Diagnostic>) {
        let _ = repo;
        (Model {}, Vec::new())
    }
}
