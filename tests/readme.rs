//! The README's first screen promises two commands on a fresh machine; keep them true.

use std::path::Path;

fn setup_commands() -> Vec<String> {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a ```sh block");
    block
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn the_first_screen_has_exactly_two_setup_commands() {
    let cmds = setup_commands();
    assert_eq!(cmds.len(), 2, "{cmds:?}");
    assert!(
        cmds[0].starts_with("cargo run -- render fixtures/"),
        "{cmds:?}"
    );
    assert_eq!(cmds[1], "cargo test");
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let first_screen: String = readme.lines().take(24).collect::<Vec<_>>().join("\n");
    assert!(first_screen.contains(&cmds[0]) && first_screen.contains(&cmds[1]));
}

#[test]
fn ci_runs_the_readme_test_command() {
    let ci = std::fs::read_to_string(".ci/run").expect(".ci/run");
    let cmds = setup_commands();
    assert!(
        ci.lines().any(|l| {
            let l = l.trim();
            l == cmds[1] || l.starts_with(&format!("{} 2>&1", cmds[1]))
        }),
        ".ci/run must run `{}`",
        cmds[1]
    );
}

#[test]
fn the_example_repo_renders_cleanly() {
    let cmds = setup_commands();
    let args: Vec<&str> = cmds[0]
        .trim_start_matches("cargo run -- render ")
        .split_whitespace()
        .collect();
    let dir = args[0];
    // Several clusters to stdout: the command asks for all of them.
    assert_eq!(args[1..], ["--all-clusters"], "{cmds:?}");
    assert!(Path::new(dir).is_dir(), "{dir} is bundled");
    let opts = meshform::pipeline::Options::default();
    let out = meshform::pipeline::load(&meshform::source::Origin::Dir(dir.into()), &opts)
        .and_then(|r| meshform::pipeline::run(r, &opts))
        .unwrap_or_else(|e| panic!("{dir} loads: {:?}", e.diagnostics()));
    let errors: Vec<_> = out
        .findings
        .iter()
        .filter(|d| d.severity == meshform::diag::Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        out.objects.len() > 10,
        "renders a real mesh: {} objects",
        out.objects.len()
    );
    let clusters: std::collections::BTreeSet<&str> =
        out.objects.iter().map(|o| o.cluster.as_str()).collect();
    assert!(clusters.len() >= 2, "{clusters:?}");
}
