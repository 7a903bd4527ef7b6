//! Property (issue 7): the diff of a revision with itself is empty, for every bundled fixture.

mod support;
use support::{fixture_dirs, meshform, TempRepo};

#[test]
fn a_revision_diffed_with_itself_is_empty() {
    let all = fixture_dirs();
    assert!(all.len() > 20, "{all:?}");
    for (_, f) in all {
        let t = TempRepo::copy_of(&f);
        t.git_init().commit("x");
        let out = meshform()
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
            .run();
        let code = out.code;
        // A fixture that is meant to fail to render fails the same way on both sides (exit 2).
        let expected_errors = f.join("expected-errors.txt").exists();
        if expected_errors && code == Some(2) {
            continue;
        }
        assert_eq!(code, Some(0), "{}: {}", f.display(), out.stderr);
    }
}
