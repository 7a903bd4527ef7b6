//! The GitHub Actions recipe stays in step with the diff command it drives.

use meshform::report::markdown::MARKER;

const WORKFLOW: &str = include_str!("../plugin/github/meshform.yml");

#[test]
fn workflow_finds_the_comment_by_our_marker() {
    assert!(
        WORKFLOW.contains(&format!("const marker = '{MARKER}';")),
        "the sticky-comment script must look for {MARKER}"
    );
}

#[test]
fn workflow_stays_under_github_limits() {
    let caps: Vec<u64> = WORKFLOW
        .split("--max-length ")
        .skip(1)
        .map(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .expect("a number after --max-length")
        })
        .collect();
    assert_eq!(
        caps.len(),
        2,
        "one cap for the comment, one for the summary"
    );
    assert!(
        caps[0] <= 65_536,
        "PR comments are capped at 65,536 characters"
    );
    assert!(
        caps[1] <= 1_048_576,
        "job summaries are capped at 1 MiB per step"
    );
    for needle in [
        "merge-base:origin/",
        "GITHUB_STEP_SUMMARY",
        "upload-sarif",
        "--format sarif",
        "fetch-depth: 0",
        "pull-requests: write",
    ] {
        assert!(WORKFLOW.contains(needle), "workflow lacks {needle}");
    }
}
