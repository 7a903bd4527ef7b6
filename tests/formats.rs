//! Every output format pinned by an insta snapshot (tests/snapshots/formats__*.snap) of one run
//! over bundled fixtures: `render` as YAML and `-o json`, `check` in each `--format`, and
//! `diff` in each `--format` over a two-commit repo made from a fixture. A snapshot holds the
//! run's exit code, stdout and stderr as the CLI prints them.

mod support;
use support::{meshform, redact, root, Run, TempRepo};

/// Findings of the kinds the reports show: errors at a field, one with a related place, each
/// with a help line; `render` refuses to print anything.
const FINDINGS: &str = "fixtures/features/unresolved-reference";

/// Renders, with one finding suppressed by an exemption.
const RENDERS: &str = "fixtures/features/resolution";

/// meshform with `args`, run from the crate root (fixture paths are relative to it).
fn run(args: &[&str]) -> Run {
    meshform().current_dir(root()).args(args).run()
}

#[test]
fn render_yaml() {
    let r = run(&["render", RENDERS]);
    r.exit(0);
    insta::assert_snapshot!("render_yaml", r.transcript());
}

#[test]
fn render_json() {
    let r = run(&["render", "-o", "json", RENDERS]);
    r.exit(0);
    insta::assert_snapshot!("render_json", r.transcript());
}

#[test]
fn render_with_error_findings() {
    let r = run(&["render", FINDINGS]);
    r.fails(1, &["routetable-references-visible"]);
    insta::assert_snapshot!("render_findings", r.transcript());
}

#[test]
fn check_in_each_format() {
    for format in ["text", "json", "sarif", "github"] {
        let r = run(&["check", "--format", format, FINDINGS]);
        r.exit(1);
        insta::assert_snapshot!(format!("check_{format}"), r.transcript());
    }
}

/// The weights fixture, committed, then a route's prefix and weights changed and committed.
fn two_commits() -> TempRepo {
    let t = TempRepo::copy_of(&root().join("fixtures/features/weights"));
    t.git_init().commit("base");
    let path = t.join("routetable.yaml");
    let before = std::fs::read_to_string(&path).expect("routetable.yaml");
    let after = before
        .replace("prefix: /given/", "prefix: /split/")
        .replace(
            "{ref: {name: web}, port: {number: 8080}, weight: 50}",
            "{ref: {name: web}, port: {number: 8080}, weight: 80}",
        )
        .replace(
            "{ref: {name: api}, port: {number: 8080}, weight: 50}",
            "{ref: {name: api}, port: {number: 8080}, weight: 20}",
        );
    assert_eq!(after.matches("/split/").count(), 1, "the fixture changed");
    assert!(after.contains("weight: 80}") && after.contains("weight: 20}"));
    t.write("routetable.yaml", after);
    t.commit("split");
    t
}

#[test]
fn diff_in_each_format() {
    let t = two_commits();
    for format in ["text", "markdown", "json"] {
        let r = meshform()
            .current_dir(t.path())
            .args([
                "diff", "--base", "HEAD~1", "--head", "HEAD", "--format", format,
            ])
            .run();
        r.exit(0);
        insta::assert_snapshot!(format!("diff_{format}"), redact(&r.transcript()));
    }
}
