//! End-to-end tests of `meshform diff` over real git repos built in temporary directories.

mod support;
use support::{git, meshform, redact, write_file, Cli, Run, TempRepo};

use std::path::Path;

fn commit(dir: &Path, msg: &str, tag: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", msg]);
    git(dir, &["tag", tag]);
}

const APP: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app
  namespace: default
data:
  greeting: hello
  color: blue
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  ports:
  - port: 80
    targetPort: 8080
";

const SECRET: &str = "\
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: default
type: Opaque
data:
  password: c2VjcmV0LW9uZQ==
  user: YWRtaW4=
stringData:
  token: plain-token-value
";

fn istio(weight: u32) -> String {
    format!(
        "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: api
  namespace: gw
spec:
  hosts: [api.example.com]
  http:
  - name: api
    match:
    - uri: {{prefix: /api}}
    route:
    - destination: {{host: ext.example.com, port: {{number: 443}}}}
      weight: {weight}
    - destination: {{host: web.default.svc.cluster.local, port: {{number: 80}}}}
      weight: {}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ext
  namespace: gw
spec:
  hosts: [ext.example.com]
  resolution: STATIC
  ports: [{{number: 443, name: https, protocol: TLS}}]
  endpoints:
  - address: 10.0.0.1
",
        100 - weight
    )
}

const EXTRA: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
  namespace: default
data:
  k: v
";

/// A repo with one commit per kind of change, tagged c0 (initial) to c6.
fn history() -> TempRepo {
    let t = TempRepo::new();
    let d = t.path();
    git(d, &["init", "-q", "-b", "main"]);
    write_file(d, "app.yaml", APP);
    write_file(d, "secret.yaml", SECRET);
    write_file(d, "istio.yaml", istio(90));
    commit(d, "initial", "c0");
    write_file(d, "extra.yaml", EXTRA);
    commit(d, "add", "c1");
    write_file(
        d,
        "app.yaml",
        APP.replace("greeting: hello", "greeting: hi"),
    );
    write_file(
        d,
        "secret.yaml",
        SECRET.replace("c2VjcmV0LW9uZQ==", "c2VjcmV0LXR3bw=="),
    );
    write_file(d, "istio.yaml", istio(80));
    commit(d, "change", "c2");
    let app = APP.replace("greeting: hello", "greeting: hi");
    let (cm, _svc) = app.split_once("---\n").unwrap();
    write_file(d, "app.yaml", cm);
    commit(d, "remove", "c3");
    write_file(
        d,
        "extra.yaml",
        EXTRA.replace("name: extra", "name: extra-renamed"),
    );
    commit(d, "rename", "c4");
    std::fs::remove_file(d.join("app.yaml")).unwrap();
    write_file(d, "moved/app.yaml", cm);
    commit(d, "move", "c5");
    write_file(
        d,
        "secret.yaml",
        "# same Secret, other layout\nkind: Secret\napiVersion: v1\n\
         stringData: {token: \"plain-token-value\"}\n\
         data: {user: \"YWRtaW4=\", password: 'c2VjcmV0LXR3bw=='}\n\
         metadata: {namespace: default, name: creds}\ntype: \"Opaque\"\n",
    );
    commit(d, "reformat", "c6");
    t
}

/// `meshform diff --passthrough ARGS...` run in `dir`.
fn diff_cmd(dir: &Path, args: &[&str]) -> Cli {
    let mut c = meshform();
    c.current_dir(dir)
        .arg("diff")
        .arg("--passthrough")
        .args(args);
    c
}

fn diff(dir: &Path, args: &[&str]) -> Run {
    diff_cmd(dir, args).run()
}

const SECRET_VALUES: [&str; 4] = [
    "c2VjcmV0LW9uZQ==",
    "c2VjcmV0LXR3bw==",
    "YWRtaW4=",
    "plain-token-value",
];

#[test]
fn change_in_each_format() {
    let t = history();
    for (fmt, name) in [
        ("text", "change_text"),
        ("markdown", "change_markdown"),
        ("json", "change_json"),
    ] {
        let o = diff(
            t.path(),
            &[
                "--base", "c1", "--head", "c2", "--format", fmt, "--color", "never",
            ],
        );
        assert_eq!(o.code, Some(0), "{}", o.stderr);
        let out = o.stdout;
        for v in SECRET_VALUES {
            assert!(!out.contains(v), "{fmt} output leaks a secret value {v}");
        }
        if fmt == "markdown" {
            assert_eq!(support::check_mermaid(&out).len(), 1, "{out}");
        }
        insta::assert_snapshot!(name, redact(&out));
    }
}

#[test]
fn json_lists_objects_with_paths_sources_and_masked_secrets() {
    let t = history();
    let o = diff(
        t.path(),
        &["--base", "c1", "--head", "c2", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let objs = v["objects"].as_array().unwrap();
    let names: Vec<(&str, &str)> = objs
        .iter()
        .map(|o| (o["name"].as_str().unwrap(), o["change"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        vec![("app", "changed"), ("creds", "changed"), ("api", "changed")]
    );
    assert_eq!(
        objs[0]["changedPaths"],
        serde_json::json!(["data.greeting"])
    );
    assert_eq!(objs[0]["sources"][0]["file"], "app.yaml");
    assert_eq!(
        objs[1]["changedPaths"],
        serde_json::json!(["data.password"])
    );
    assert_eq!(objs[1]["before"]["data"]["password"], "<masked>");
    assert_eq!(objs[1]["after"]["data"]["password"], "<masked, changed>");
    assert_eq!(objs[1]["after"]["data"]["user"], "<masked>");
    assert_eq!(v["summary"]["changed"], 3);
    assert_eq!(v["routing"][0]["host"], "api.example.com");
}

#[test]
fn add_remove_and_rename() {
    let t = history();
    let o = diff(
        t.path(),
        &["--base", "c0", "--head", "c1", "--color", "never"],
    );
    let out = &o.stdout;
    assert!(
        out.contains("added ConfigMap default/extra in cluster1"),
        "{out}"
    );
    assert!(
        out.contains("+++ b/cluster1/v1/ConfigMap/default/extra"),
        "{out}"
    );
    assert!(out.contains("--- /dev/null"), "{out}");

    let o = diff(
        t.path(),
        &["--base", "c2", "--head", "c3", "--color", "never"],
    );
    let out = o.stdout;
    assert!(
        out.contains("removed Service default/web in cluster1"),
        "{out}"
    );
    assert!(out.contains("-    targetPort: 8080"), "{out}");
    insta::assert_snapshot!("remove_text", redact(&out));

    let o = diff(
        t.path(),
        &["--base", "c3", "--head", "c4", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let got: Vec<(&str, &str)> = v["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap(), o["change"].as_str().unwrap()))
        .collect();
    assert_eq!(got, vec![("extra", "removed"), ("extra-renamed", "added")]);
}

#[test]
fn move_and_reformat_are_no_change() {
    let t = history();
    for (base, head) in [("c4", "c5"), ("c5", "c6")] {
        let o = diff(t.path(), &["--base", base, "--head", head, "--exit-code"]);
        assert_eq!(o.code, Some(0), "{base}..{head}: {}", o.stdout);
        assert!(o.stdout.contains("No changes in the rendered output."));
        let o = diff(
            t.path(),
            &["--base", base, "--head", head, "--format", "markdown"],
        );
        let md = &o.stdout;
        assert!(md.starts_with("<!-- meshform-diff -->\n"), "{md}");
        assert!(md.contains("No changes"), "{md}");
        assert!(!md.contains("<details>"), "{md}");
        let o = diff(
            t.path(),
            &["--base", base, "--head", head, "--format", "json"],
        );
        let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(v["objects"], serde_json::json!([]));
    }
}

#[test]
fn exit_codes_follow_kubectl_diff() {
    let t = history();
    let o = diff(t.path(), &["--base", "c0", "--head", "c1"]);
    assert_eq!(o.code, Some(0));
    let o = diff(t.path(), &["--base", "c0", "--head", "c1", "--exit-code"]);
    assert_eq!(o.code, Some(1));
    let o = diff(t.path(), &["--base", "nope", "--exit-code"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stdout.is_empty());
    assert!(o.stderr.contains("unknown revision `nope`"));
}

#[test]
fn default_compares_head_with_the_working_tree() {
    let t = history();
    let o = diff(t.path(), &["--exit-code"]);
    assert_eq!(o.code, Some(0), "{}", o.stdout);
    write_file(t.path(), "extra.yaml", EXTRA.replace("k: v", "k: w"));
    let o = diff(t.path(), &["--exit-code", "--color", "never"]);
    assert_eq!(o.code, Some(1));
    let out = &o.stdout;
    assert!(
        out.starts_with("meshform diff: HEAD (") && out.contains(") -> working tree\n"),
        "{out}"
    );
    // extra.yaml was renamed in c4, so the working tree's extra.yaml is a new object again.
    assert!(
        out.contains("added ConfigMap default/extra in cluster1"),
        "{out}"
    );
}

#[test]
fn merge_base_of_a_branch() {
    let t = history();
    let d = t.path();
    git(d, &["checkout", "-q", "-b", "feature", "c2"]);
    write_file(d, "extra.yaml", EXTRA.replace("k: v", "k: feature"));
    commit(d, "feature change", "f1");
    // main moved on (c3..c6) after the branch point; the merge base is c2.
    let o = diff(
        d,
        &[
            "--base",
            "merge-base:main",
            "--head",
            "HEAD",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let names: Vec<&str> = v["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["extra"]);
    assert_eq!(
        v["objects"][0]["changedPaths"],
        serde_json::json!(["data.k"])
    );
    assert_eq!(v["base"]["rev"], "merge-base:main");
}

#[test]
fn not_a_repository_or_no_commits_is_exit_2() {
    let t = TempRepo::new();
    write_file(t.path(), "a.yaml", EXTRA);
    let o = diff(t.path(), &[]);
    assert_eq!(o.code, Some(2));
    assert!(o.stdout.is_empty());
    let err = &o.stderr;
    assert!(err.contains("is not in a git repository"), "{err}");

    git(t.path(), &["init", "-q"]);
    let o = diff(t.path(), &[]);
    assert_eq!(o.code, Some(2));
    assert!(o.stdout.is_empty());
    let err = &o.stderr;
    assert!(err.contains("no commits yet"), "{err}");
}

#[test]
fn broken_base_shows_head_as_added_and_broken_head_is_exit_2() {
    let t = TempRepo::new();
    let d = t.path();
    git(d, &["init", "-q", "-b", "main"]);
    write_file(d, "a.yaml", "kind: ConfigMap\nmetadata: [unclosed\n");
    commit(d, "broken", "b0");
    write_file(d, "a.yaml", EXTRA);
    commit(d, "fixed", "b1");
    let o = diff(d, &["--base", "b0", "--head", "b1", "--color", "never"]);
    assert_eq!(o.code, Some(0));
    let out = &o.stdout;
    assert!(out.contains("the base failed to render"), "{out}");
    assert!(out.contains("added ConfigMap default/extra"), "{out}");
    assert!(o.stderr.contains("failed to render"));
    let o = diff(d, &["--base", "b0", "--head", "b1", "--format", "markdown"]);
    assert!(o.stdout.contains("The base failed to render"));

    let o = diff(d, &["--base", "b1", "--head", "b0"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stdout.is_empty(), "nothing on stdout on error");
    let err = &o.stderr;
    assert!(err.contains("--> a.yaml:"), "errors name the file: {err}");
    assert!(
        err.contains(" | metadata: [unclosed"),
        "the head's source line, read from git: {err}"
    );
}

#[test]
fn color_is_honoured() {
    let t = history();
    let args = ["--base", "c1", "--head", "c2"];
    // NO_COLOR unset, so that only the flag and the piped stdout decide.
    let run = |color: &str| {
        diff_cmd(t.path(), &[&args[..], &["--color", color]].concat())
            .env_remove("NO_COLOR")
            .run()
    };
    let always = run("always");
    assert!(always.stdout.contains("\u{1b}["));
    // The harness pipes stdout: auto must not colour.
    let auto = run("auto");
    assert!(!auto.stdout.contains('\u{1b}'));
    let never = run("never");
    assert!(!never.stdout.contains('\u{1b}'));
    assert_eq!(auto.stdout, never.stdout);
}

#[test]
fn markdown_over_the_cap_is_cut_cleanly() {
    let t = TempRepo::new();
    let d = t.path();
    git(d, &["init", "-q", "-b", "main"]);
    write_file(d, "keep.yaml", EXTRA);
    commit(d, "base", "m0");
    for i in 0..30 {
        let body: String = (0..8)
            .map(|j| format!("line-{j}: {}\n", "x".repeat(60 + i)))
            .collect();
        write_file(
            d,
            &format!("cm{i:02}.yaml"),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i:02}\n  namespace: default\ndata:\n  big: |\n{}",
                body.lines().map(|l| format!("    {l}\n")).collect::<String>()
            ),
        );
    }
    commit(d, "many", "m1");
    let max = 4000;
    let o = diff(
        d,
        &[
            "--base",
            "m0",
            "--head",
            "m1",
            "--format",
            "markdown",
            "--max-length",
            &max.to_string(),
        ],
    );
    assert_eq!(o.code, Some(0));
    let md = &o.stdout;
    assert!(md.len() <= max, "{} > {max}", md.len());
    assert!(md.starts_with("<!-- meshform-diff -->\n"));
    // Every fence is closed: fence lines come in pairs, each object block is whole.
    let fences = md.lines().filter(|l| l.starts_with("```")).count();
    assert_eq!(fences % 2, 0, "{md}");
    let shown = md.matches("#### ConfigMap default/cm").count();
    assert!(shown >= 1, "at least one object fits: {md}");
    assert_eq!(fences, shown * 2, "{md}");
    for i in 0..30 {
        let name = format!("ConfigMap default/cm{i:02}");
        let head = format!("#### {name} (added)");
        if md.contains(&head) {
            // The whole object is there: its last line is present.
            let block = md.split(&head).nth(1).unwrap();
            assert!(
                block.contains("+    line-7:"),
                "object {name} cut inside: {md}"
            );
        }
    }
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    assert!(
        md.contains("Output cut to fit `--max-length` (4000)"),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "{} not shown",
            meshform::diag::count(30 - shown, "ConfigMap", "ConfigMaps")
        )),
        "{md}"
    );
    // Objects are kept in order; the first cut one is named, the tail is counted: past 20
    // cut, 5 are named.
    let first_cut = format!("> - ConfigMap default/cm{shown:02} in cluster1 (added)");
    assert!(md.contains(&first_cut), "{md}");
    let cut = 30 - shown;
    assert!(cut > 20, "the case must cut more than 20: {md}");
    assert!(md.contains(&format!("> - and {} more\n", cut - 5)), "{md}");
    assert!(md.contains("| cluster1 | 30 | 0 | 0 | 1 |"), "{md}");

    // With the default cap everything fits and nothing is cut.
    let o = diff(d, &["--base", "m0", "--head", "m1", "--format", "markdown"]);
    let md = &o.stdout;
    assert!(!md.contains("Output cut"), "{md}");
    assert_eq!(md.matches("#### ConfigMap").count(), 30);
}

#[test]
fn context_lines_follow_dash_u() {
    let t = history();
    let o = diff(
        t.path(),
        &[
            "--base", "c1", "--head", "c2", "-U", "0", "--color", "never",
        ],
    );
    let out = &o.stdout;
    assert!(
        out.contains("@@ -8 +8 @@\n-  greeting: hello\n+  greeting: hi\n"),
        "{out}"
    );
    assert!(
        !out.contains("   color: blue"),
        "no context lines with -U 0: {out}"
    );
    let o = diff(
        t.path(),
        &[
            "--base", "c1", "--head", "c2", "-U", "1", "--color", "never",
        ],
    );
    let out = &o.stdout;
    assert!(out.contains("   color: blue\n-  greeting: hello"), "{out}");
    assert!(
        !out.contains(" data:\n   color: blue"),
        "one line of context only: {out}"
    );
}

/// A `--cluster` that only one revision has is a cluster the change adds or removes (its
/// objects show as added or removed); one that neither has is a typo, exit 2.
#[test]
fn a_cluster_neither_revision_has_is_exit_2() {
    let t = TempRepo::new();
    let d = t.path();
    git(d, &["init", "-q", "-b", "main"]);
    let config = |clusters: &str| {
        format!("apiVersion: meshform.dev/v1alpha1\nkind: Config\nclusters: [{clusters}]\n")
    };
    write_file(d, "meshform.yaml", config("{name: a}"));
    write_file(d, "app.yaml", APP);
    commit(d, "one cluster", "c0");
    write_file(
        d,
        "meshform.yaml",
        config("{name: a}, {name: b, paths: [\"b/**\"]}"),
    );
    write_file(d, "b/app.yaml", APP);
    commit(d, "a second cluster", "c1");
    let o = diff(d, &["--base", "c0", "--head", "c1", "--cluster", "b"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("ConfigMap"), "{}", o.stdout);
    let o = diff(d, &["--base", "c0", "--head", "c1", "--cluster", "nope"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stdout.is_empty());
    let err = &o.stderr;
    assert!(err.contains("no revision has cluster `nope`"), "{err}");
    assert!(err.contains("clusters: a, b"), "{err}");
}
