//! Property (issue 7): the diff of a revision with itself is empty, for every bundled fixture.

mod support;
use support::git;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

fn fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for top in ["fixtures", "fixtures/features", "fixtures/reference"] {
        for e in std::fs::read_dir(top).expect("fixtures") {
            let p = e.expect("entry").path();
            if p.is_dir() && !["features", "reference"].iter().any(|s| p.ends_with(s)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_revision_diffed_with_itself_is_empty() {
    let all = fixtures();
    assert!(all.len() > 20, "{all:?}");
    for f in all {
        let t = tempfile::tempdir().expect("tempdir");
        copy_dir(&f, t.path());
        git(t.path(), &["init", "-q"]);
        git(t.path(), &["add", "-A"]);
        git(t.path(), &["commit", "-qm", "x"]);
        let out = Command::cargo_bin("meshform")
            .expect("binary")
            .args([
                "diff",
                "--base",
                "HEAD",
                "--head",
                "HEAD",
                "--exit-code",
                "--format",
                "json",
            ])
            .arg(t.path())
            .output()
            .expect("runs");
        let code = out.status.code();
        // A fixture that is meant to fail to render fails the same way on both sides (exit 2).
        let expected_errors = f.join("expected-errors.txt").exists();
        if expected_errors && code == Some(2) {
            continue;
        }
        assert_eq!(
            code,
            Some(0),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
