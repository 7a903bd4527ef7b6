//! `meshform check` in CI: report paths relative to the git repository's root from a
//! subfolder, input errors in every format, the shipped GitHub workflow run with
//! `MESHFORM_PATH` set to a subfolder, logging levels and `--color` (docs/ci.md).

mod support;
use support::{bin, meshform, root, Run, TempRepo};

use serde_json::Value;
use std::path::Path;

/// Where the Gloo configuration lives inside the git repository in these tests.
const SUB: &str = "deploy/mesh";

/// A git repository (committed) holding, under `deploy/mesh/`, a repo with two error findings
/// in routetable.yaml (one with a related place in workspace.yaml) and a meshform.yaml.
fn subfolder_repo() -> TempRepo {
    let t = TempRepo::new();
    support::copy_tree(
        &root().join("fixtures/features/unresolved-reference"),
        &t.join(SUB),
    );
    assert!(t.join(SUB).join("meshform.yaml").is_file());
    t.git_init().commit("mesh config");
    t
}

fn check(cwd: &Path, path: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Run {
    meshform()
        .current_dir(cwd)
        .arg("check")
        .arg(path)
        .args(args)
        .run()
}

/// The SARIF log on stdout, checked against the SARIF 2.1.0 schema subset of tests/data;
/// every result must have a location (GitHub code scanning refuses one without).
fn sarif(r: &Run) -> Value {
    let log = r.json();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/data/sarif-2.1.0-minimal.schema.json"))
            .expect("schema"),
    )
    .expect("schema JSON");
    let v = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = v.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{log:#}");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert!(!results.is_empty(), "{log:#}");
    for res in results {
        assert!(
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string(),
            "a result without a location: {res:#}"
        );
    }
    log
}

/// The `uri`s of the SARIF results' first locations.
fn sarif_uris(log: &Value) -> Vec<String> {
    log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("uri")
                .to_string()
        })
        .collect()
}

/// The `file=` of each `::error` annotation.
fn annotated_files(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with("::error "))
        .filter_map(|l| {
            l.split_once("file=")
                .and_then(|(_, rest)| rest.split(',').next())
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn ci_report_paths_are_relative_to_the_git_root_from_a_subfolder() {
    let t = subfolder_repo();
    let rt = format!("{SUB}/routetable.yaml");
    // From the repository root, from the subfolder itself, and from elsewhere by absolute path.
    let here = t.join(SUB);
    for (cwd, path) in [
        (t.path(), Path::new(SUB).to_path_buf()),
        (here.as_path(), ".".into()),
        (root().as_path(), here.clone()),
    ] {
        let r = check(cwd, &path, &["--format", "github"]);
        r.exit(1);
        let files = annotated_files(&r.stdout);
        assert_eq!(files, [rt.as_str(), rt.as_str()], "{}", r.stdout);
        assert!(
            r.stdout.contains(&format!("at {SUB}/workspace.yaml:31:18")),
            "the related place is rebased too: {}",
            r.stdout
        );

        let r = check(cwd, &path, &["--format", "sarif"]);
        r.exit(1);
        let log = sarif(&r);
        assert_eq!(sarif_uris(&log), [rt.as_str(), rt.as_str()]);

        let r = check(cwd, &path, &["--format", "json"]);
        r.exit(1);
        let v = r.json();
        assert_eq!(v["findings"][0]["file"], rt.as_str(), "{v:#}");
    }
    // The text format is for a person who named the path: relative to it, as render and diff
    // name files.
    let r = check(t.path(), SUB, &[]);
    r.exit(1);
    assert!(
        r.stdout.contains("  --> routetable.yaml:13:45"),
        "{}",
        r.stdout
    );
}

#[test]
fn outside_git_report_paths_are_relative_to_the_current_directory() {
    let t = TempRepo::new();
    support::copy_tree(
        &root().join("fixtures/features/unresolved-reference"),
        &t.join(SUB),
    );
    let r = check(t.path(), SUB, &["--format", "github"]);
    r.exit(1);
    assert_eq!(
        annotated_files(&r.stdout)[0],
        format!("{SUB}/routetable.yaml")
    );
    // A path outside the current directory (and outside git) keeps paths relative to itself:
    // no `../` path CI could not place anyway.
    let r = check(
        t.join(SUB).parent().expect("deploy"),
        t.join(SUB),
        &["--format", "github"],
    );
    r.exit(1);
    assert_eq!(annotated_files(&r.stdout)[0], "mesh/routetable.yaml");
    let elsewhere = TempRepo::new();
    let r = check(elsewhere.path(), t.join(SUB), &["--format", "github"]);
    r.exit(1);
    assert_eq!(annotated_files(&r.stdout)[0], "routetable.yaml");
}

/// A broken input of each kind, written into the subfolder repo: (name, extra args, the file
/// the error is at, relative to the git root; None for an error without a place).
fn broken_inputs() -> Vec<(&'static str, TempRepo, Vec<&'static str>, Option<String>)> {
    let yaml = subfolder_repo();
    yaml.write(&format!("{SUB}/broken.yaml"), "a: [\n");
    let config = subfolder_repo();
    config.write(
        &format!("{SUB}/meshform.yaml"),
        "apiVersion: meshform.dev/v1alpha1\nkind: Config\nlimits:\n  fileSise: 10\n",
    );
    let template = subfolder_repo();
    template.write(
        &format!("{SUB}/cm.yaml.j2"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {% if %}\n",
    );
    let git = subfolder_repo();
    vec![
        ("yaml", yaml, vec![], Some(format!("{SUB}/broken.yaml"))),
        (
            "config",
            config,
            vec![],
            Some(format!("{SUB}/meshform.yaml")),
        ),
        (
            "template",
            template,
            vec![],
            Some(format!("{SUB}/cm.yaml.j2")),
        ),
        ("git", git, vec!["--rev", "no-such-rev"], None),
    ]
}

#[test]
fn input_errors_are_reported_in_every_format_with_exit_2() {
    for (what, t, extra, file) in broken_inputs() {
        // Text: on stderr only, as every command reports input errors.
        let r = check(t.path(), SUB, &extra);
        r.input_error(&["error: 1 problem in the input"]);

        let mut args = extra.clone();
        args.extend(["--format", "github"]);
        let r = check(t.path(), SUB, &args);
        r.exit(2);
        assert!(!r.stderr.is_empty(), "{what}: stderr keeps the text");
        let errors: Vec<&str> = r
            .stdout
            .lines()
            .filter(|l| l.starts_with("::error"))
            .collect();
        assert_eq!(errors.len(), 1, "{what}: {}", r.stdout);
        match &file {
            Some(f) => assert!(
                errors[0].starts_with(&format!("::error file={f},line=")),
                "{what}: {}",
                r.stdout
            ),
            None => assert!(
                errors[0].starts_with("::error title=git::"),
                "{what}: {}",
                r.stdout
            ),
        }

        let mut args = extra.clone();
        args.extend(["--format", "sarif"]);
        let r = check(t.path(), SUB, &args);
        r.exit(2);
        let log = sarif(&r);
        let res = &log["runs"][0]["results"][0];
        assert_eq!(res["level"], "error", "{what}: {log:#}");
        let uri = &res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        // An error without a place is shown at the repo's meshform.yaml.
        let expected = file.clone().unwrap_or(format!("{SUB}/meshform.yaml"));
        assert_eq!(uri, expected.as_str(), "{what}: {log:#}");
        assert!(
            res["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() >= Some(1),
            "{what}: {log:#}"
        );

        let mut args = extra.clone();
        args.extend(["--format", "json"]);
        let r = check(t.path(), SUB, &args);
        r.exit(2);
        let v = r.json();
        assert_eq!(v["summary"]["errors"], 1, "{what}: {v:#}");
        let f = &v["findings"][0];
        assert_eq!(f["severity"], "error", "{what}: {v:#}");
        assert_eq!(f["file"].as_str(), file.as_deref(), "{what}: {v:#}");
        if what == "yaml" {
            assert_eq!(f["policy"], "yaml-syntax");
            assert_eq!(
                (f["line"].as_u64(), f["column"].as_u64()),
                (Some(1), Some(4))
            );
        }
    }
}

/// The `run:` script of the step named `name` in the shipped workflow.
fn workflow_step(name: &str) -> String {
    let text =
        std::fs::read_to_string(root().join("plugin/github/meshform.yml")).expect("workflow");
    let wf: Value = serde_saphyr::from_str(&text).expect("the workflow is YAML");
    let steps = wf["jobs"]["meshform"]["steps"].as_array().expect("steps");
    steps
        .iter()
        .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(name)))
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("no step {name:?} with a run script"))
        .to_string()
}

/// Runs a workflow step's script as GitHub runs it (`bash -e`), in `repo`, with the built
/// meshform first on PATH and the workflow's environment, `MESHFORM_PATH` a subfolder.
fn run_step(repo: &Path, script: &str, outputs: &Path, env: &[(&str, &str)]) -> Run {
    let dir = bin().parent().expect("the binary's directory");
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = support::Cli::program("bash");
    c.current_dir(repo)
        .args(["--noprofile", "--norc", "-e", "-c", script])
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .env("MESHFORM_PATH", SUB)
        .env("MESHFORM_FLAGS", "")
        .env("GITHUB_OUTPUT", outputs);
    for (k, v) in env {
        c.env(k, v);
    }
    c.run()
}

#[test]
fn the_github_workflow_annotates_and_diffs_a_subfolder_repo() {
    let t = subfolder_repo();
    let out = TempRepo::new();
    let outputs = out.join("output");

    // Findings: annotations and SARIF name files from the repository root; exit 1 passes
    // the step (the job fails at its end, after the comment).
    let check = workflow_step("Check policies");
    let r = run_step(t.path(), &check, &outputs, &[]);
    r.exit(0);
    let rt = format!("{SUB}/routetable.yaml");
    assert_eq!(
        annotated_files(&r.stdout),
        [rt.as_str(), rt.as_str()],
        "{}",
        r.stdout
    );
    let log: Value = serde_json::from_str(
        &std::fs::read_to_string(t.join("meshform.sarif")).expect("meshform.sarif"),
    )
    .expect("SARIF");
    assert_eq!(sarif_uris(&log), [rt.as_str(), rt.as_str()]);
    let status = std::fs::read_to_string(&outputs).expect("GITHUB_OUTPUT");
    assert!(status.contains("status=1"), "{status}");

    // The diff step against the merge base with origin/main.
    let base = t.git(&["rev-parse", "HEAD"]);
    t.git(&["update-ref", "refs/remotes/origin/main", base.trim()]);
    t.git(&["checkout", "-qb", "change"]);
    let path = t.join(&rt);
    let before = std::fs::read_to_string(&path).expect("routetable.yaml");
    std::fs::write(&path, before.replacen("prefix: /", "prefix: /changed/", 1)).expect("edit");
    t.commit("change a route");
    let summary = out.join("summary.md");
    let diff = workflow_step("Diff the rendered output");
    let r = run_step(
        t.path(),
        &diff,
        &outputs,
        &[
            ("BASE_REF", "main"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().expect("UTF-8 path")),
        ],
    );
    r.exit(0);
    let comment = std::fs::read_to_string(t.join("meshform-comment.md")).expect("comment");
    assert!(comment.starts_with("<!-- meshform-diff -->"), "{comment}");
    assert!(comment.contains("(changed)"), "{comment}");
    assert!(
        std::fs::read_to_string(&summary).is_ok_and(|s| s.contains("meshform diff (full)")),
        "the job summary"
    );

    // A YAML syntax error: exit 2 fails the step, with an annotation at the file and a
    // valid SARIF log for the upload step.
    t.write(&format!("{SUB}/broken.yaml"), "a: [\n");
    std::fs::remove_file(&outputs).expect("reset GITHUB_OUTPUT");
    let r = run_step(t.path(), &check, &outputs, &[]);
    assert_ne!(r.code, Some(0), "broken input fails the step");
    assert_eq!(
        annotated_files(&r.stdout),
        [format!("{SUB}/broken.yaml")],
        "{}",
        r.stdout
    );
    let log: Value = serde_json::from_str(
        &std::fs::read_to_string(t.join("meshform.sarif")).expect("meshform.sarif"),
    )
    .expect("SARIF");
    assert_eq!(sarif_uris(&log), [format!("{SUB}/broken.yaml")]);
    let status = std::fs::read_to_string(&outputs).expect("GITHUB_OUTPUT");
    assert!(status.contains("status=2"), "{status}");
}

#[test]
fn verbose_logs_meshform_phases_and_never_other_crates() {
    let t = subfolder_repo();
    // A git-ignored file: the walk (ignore, globset) has something to log at debug level.
    t.write(&format!("{SUB}/.gitignore"), "skip.yaml\n");
    t.write(&format!("{SUB}/skip.yaml"), "a: 1\n");
    let r = check(t.path(), SUB, &["-v"]);
    r.exit(1);
    assert!(
        r.stderr
            .contains(" INFO meshform::cli::check: loaded deploy/mesh: 4 files"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(" INFO meshform::cli::check: checked: "),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("DEBUG"), "{}", r.stderr);
    let r = check(t.path(), SUB, &["-vv"]);
    r.exit(1);
    assert!(
        r.stderr.contains("DEBUG meshform::pipeline: load: "),
        "{}",
        r.stderr
    );
    for r in [
        check(t.path(), SUB, &["-v"]),
        check(t.path(), SUB, &["-vv"]),
    ] {
        for other in ["ignore::", "globset", "rayon", "git2"] {
            assert!(!r.stderr.contains(other), "{other}: {}", r.stderr);
        }
        assert!(
            r.stderr.lines().all(|l| l.contains(" meshform::")),
            "{}",
            r.stderr
        );
    }
    // Other crates through RUST_LOG only.
    let r = meshform()
        .current_dir(t.path())
        .env("RUST_LOG", "globset=debug,ignore=debug")
        .args(["check", SUB])
        .run();
    r.exit(1);
    assert!(r.stderr.contains("DEBUG globset: "), "{}", r.stderr);
    assert!(
        r.stderr.contains("DEBUG ignore::walk: ignoring "),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(" meshform::"), "{}", r.stderr);
}

#[test]
fn check_colours_text_on_request_and_honours_no_color() {
    let t = subfolder_repo();
    let esc = '\x1b';
    // The harness sets NO_COLOR=1; a pipe is not a terminal.
    let r = check(t.path(), SUB, &[]);
    assert!(!r.stdout.contains(esc), "{}", r.stdout);
    let r = check(t.path(), SUB, &["--color", "never"]);
    assert!(!r.stdout.contains(esc), "{}", r.stdout);
    let r = check(t.path(), SUB, &["--color", "always"]);
    r.exit(1);
    assert!(
        r.stdout
            .contains("\x1b[1m\x1b[31merror[routetable-references-visible]"),
        "{}",
        r.stdout
    );
    // The colours wrap the same text.
    let plain = check(t.path(), SUB, &["--color", "never"]).stdout;
    let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
        .expect("regex")
        .replace_all(&r.stdout, "")
        .into_owned();
    assert_eq!(stripped, plain);
    // Input errors on stderr too.
    t.write(&format!("{SUB}/broken.yaml"), "a: [\n");
    let r = check(t.path(), SUB, &["--color", "always"]);
    r.exit(2);
    assert!(
        r.stderr.contains("\x1b[1m\x1b[31merror[yaml-syntax]"),
        "{}",
        r.stderr
    );
    let r = check(t.path(), SUB, &["--color", "never"]);
    assert!(!r.stderr.contains(esc), "{}", r.stderr);
}
