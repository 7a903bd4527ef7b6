//! Reporting findings: text (rustc-style), JSON, SARIF, GitHub annotations, Markdown; the
//! route test report (`route_tests`).

pub mod github;
pub mod json;
pub mod markdown;
pub mod route_tests;
pub mod sarif;
pub mod text;

use crate::diag::Diagnostic;
use std::sync::Arc;

/// `prefix/file`, or `file` when `prefix` is empty or `file` is absolute (a file named on the
/// command line outside the repo).
pub fn rebased(prefix: &str, file: &str) -> Arc<str> {
    if prefix.is_empty() || file.starts_with('/') {
        file.into()
    } else {
        format!("{prefix}/{file}").into()
    }
}

/// Makes the files of `diags` (locations and related locations), which are relative to the
/// repo root, relative to the directory `prefix` is the repo root's path from: the git work
/// tree's root for the CI formats (docs/ci.md#report-paths).
pub fn rebase(diags: &mut [Diagnostic], prefix: &str) {
    if prefix.is_empty() {
        return;
    }
    for d in diags {
        if let Some(l) = &mut d.location {
            l.file = rebased(prefix, &l.file);
        }
        for (l, _) in &mut d.related {
            l.file = rebased(prefix, &l.file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::codes::Load;
    use crate::manifest::Location;

    #[test]
    fn rebase_prefixes_every_location_and_leaves_an_empty_prefix_alone() {
        let at = |f: &str| Location {
            file: f.into(),
            line: 2,
            column: 1,
        };
        let d = Diagnostic::error(Load::Config, "x")
            .at(at("rt.yaml"))
            .related(at("b.yaml"), "other");
        let mut v = vec![d.clone()];
        rebase(&mut v, "");
        assert_eq!(v[0], d);
        rebase(&mut v, "deploy/mesh");
        assert_eq!(
            v[0].location.as_ref().map(|l| &*l.file),
            Some("deploy/mesh/rt.yaml")
        );
        assert_eq!(&*v[0].related[0].0.file, "deploy/mesh/b.yaml");
    }
}
