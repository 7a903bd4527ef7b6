//! Strict fields (docs/translation.md#strictness): an unknown Gloo field, or a set field
//! meshform does not translate, is an input error at its line in every front end (render,
//! check, diff, argocd generate, krm), and a warning under `--validate=warn` or
//! meshform.yaml `validate: warn`.

mod support;
use support::{git, meshform, Run, TempRepo};

use serde_json::{json, Value};
use std::path::Path;

const WORKSPACE: &str = "apiVersion: admin.gloo.solo.io/v2
kind: Workspace
metadata: {name: web, namespace: gloo-mesh}
spec:
  workloadClusters: [{name: cluster1, namespaces: [{name: web}]}]
";

const EXTERNAL: &str = "apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: db, namespace: web}
spec:
  hosts: [db.example.com]
  ports:
  - {name: http, number: 80, protocol: HTTP}
";

/// A route whose `pathRewrite` is spelled `pathRewite` (line 10).
const TYPO: &str = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: web, namespace: web}
spec:
  hosts: [web.example.com]
  http:
  - name: db
    matchers: [{uri: {prefix: /db/}}]
    forwardTo:
      pathRewite: /
      destinations:
      - {kind: EXTERNAL_SERVICE, ref: {name: db}, port: {number: 80}}
";

/// A RouteTable with producer-side routing (`applyToDestinations` on line 6), which meshform
/// does not render.
const UNSUPPORTED: &str = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: web, namespace: web}
spec:
  hosts: [web.example.com]
  applyToDestinations: [{selector: {labels: {app: db}}}]
  http:
  - name: db
    forwardTo:
      destinations:
      - {kind: EXTERNAL_SERVICE, ref: {name: db}, port: {number: 80}}
";

const CONFIG: &str =
    "apiVersion: meshform.dev/v1alpha1\nkind: Config\nclusters: [{name: cluster1}]\n";

fn repo(routes: &str, external: &str) -> TempRepo {
    TempRepo::with([
        ("meshform.yaml", CONFIG),
        ("workspaces.yaml", WORKSPACE),
        ("web/external.yaml", external),
        ("web/routes.yaml", routes),
    ])
}

const CLEAN_ROUTES: &str = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: web, namespace: web}
spec:
  hosts: [web.example.com]
  http:
  - name: db
    forwardTo:
      destinations:
      - {kind: EXTERNAL_SERVICE, ref: {name: db}, port: {number: 80}}
";

/// One front end, run on a repo directory.
type FrontEnd = fn(&Path, &[&str]) -> Run;

fn render(dir: &Path, extra: &[&str]) -> Run {
    meshform().arg("render").arg(dir).args(extra).run()
}

fn check(dir: &Path, extra: &[&str]) -> Run {
    meshform().arg("check").arg(dir).args(extra).run()
}

/// `diff` of the working tree against a commit of the same repo with clean routes and
/// services.
fn diff(dir: &Path, extra: &[&str]) -> Run {
    let files = ["web/routes.yaml", "web/external.yaml"];
    let saved: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap())
        .collect();
    std::fs::write(dir.join(files[0]), CLEAN_ROUTES).unwrap();
    std::fs::write(dir.join(files[1]), EXTERNAL).unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "clean"]);
    for (f, text) in files.iter().zip(&saved) {
        std::fs::write(dir.join(f), text).unwrap();
    }
    meshform().arg("diff").arg(dir).args(extra).run()
}

/// `argocd generate` in the repo, as the CMP sidecar runs it (no flags: meshform.yaml only).
fn argocd(dir: &Path, extra: &[&str]) -> Run {
    assert!(extra.is_empty(), "argocd generate takes no flags");
    meshform()
        .args(["argocd", "generate"])
        .current_dir(dir)
        .env("ARGOCD_ENV_CLUSTER", "cluster1")
        .run()
}

/// `krm` with the repo's files as items and meshform.yaml as `spec.config`.
fn krm(dir: &Path, extra: &[&str]) -> Run {
    assert!(extra.is_empty(), "krm takes no flags");
    let mut items = Vec::new();
    let mut config = json!({});
    for f in [
        "workspaces.yaml",
        "web/external.yaml",
        "web/routes.yaml",
        "meshform.yaml",
    ] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        let doc = meshform::yaml::parse_stream(&text, &Default::default())
            .unwrap()
            .documents
            .remove(0)
            .value
            .to_json();
        if f == "meshform.yaml" {
            config = doc;
            continue;
        }
        let mut doc = doc;
        doc["metadata"]["annotations"] = json!({
            "config.kubernetes.io/path": f, "internal.config.kubernetes.io/path": f,
            "config.kubernetes.io/index": "0", "internal.config.kubernetes.io/index": "0",
        });
        items.push(doc);
    }
    let fc = json!({
        "apiVersion": "meshform.dev/v1alpha1", "kind": "Render",
        "metadata": {"name": "render"},
        "spec": {"cluster": "cluster1", "config": config},
    });
    let input: Value = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "items": items, "functionConfig": fc});
    meshform().arg("krm").stdin(input.to_string()).run()
}

const ALL: [(&str, FrontEnd); 5] = [
    ("render", render),
    ("check", check),
    ("diff", diff),
    ("argocd", argocd),
    ("krm", krm),
];

#[test]
fn an_unknown_field_is_an_input_error_at_its_line_with_the_nearest_field() {
    for (name, run) in ALL {
        let d = repo(TYPO, EXTERNAL);
        let r = run(d.path(), &[]);
        assert_eq!(r.code, Some(2), "{name}: {}", r.stderr);
        // krm answers with a ResourceList of results and no items.
        assert!(
            r.stdout.is_empty() || (name == "krm" && r.stdout.contains("items: []")),
            "{name}: {}",
            r.stdout
        );
        r.stderr_has(&[
            "error[unknown-field]",
            "RouteTable has no field `spec.http[0].forwardTo.pathRewite`",
            "did you mean `pathRewrite`?",
        ]);
        if name != "krm" {
            r.stderr_has(&["web/routes.yaml:10:"]);
        }
    }
}

#[test]
fn a_set_field_meshform_does_not_translate_is_an_input_error_at_its_line() {
    for (name, run) in ALL {
        let d = repo(UNSUPPORTED, EXTERNAL);
        let r = run(d.path(), &[]);
        assert_eq!(r.code, Some(2), "{name}: {}", r.stderr);
        // krm answers with a ResourceList of results and no items.
        assert!(
            r.stdout.is_empty() || (name == "krm" && r.stdout.contains("items: []")),
            "{name}: {}",
            r.stdout
        );
        r.stderr_has(&[
            "error[unsupported-field]",
            "`spec.applyToDestinations` is not supported yet: its effect would be missing from the output",
            "waypoint",
        ]);
        if name != "krm" {
            r.stderr_has(&["web/routes.yaml:6:"]);
        }
    }
}

#[test]
fn validate_warn_renders_without_the_field_and_warns() {
    let flag: [(&str, FrontEnd); 3] = [("render", render), ("check", check), ("diff", diff)];
    for (name, run) in flag {
        for (routes, external, needle) in [
            (TYPO, EXTERNAL, "warning[unknown-field]"),
            (UNSUPPORTED, EXTERNAL, "warning[unsupported-field]"),
        ] {
            let d = repo(routes, external);
            let r = run(d.path(), &["--validate=warn"]);
            assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
            // check and diff report findings on stdout, the others on stderr.
            let all = format!("{}{}", r.stdout, r.stderr);
            assert!(all.contains(needle), "{name}: {all}");
            if name == "render" {
                r.stdout_has(&["kind: VirtualService", "kind: ServiceEntry"]);
                assert!(!r.stdout.contains("rewrite"), "{}", r.stdout);
            }
        }
    }
}

#[test]
fn meshform_yaml_validate_warn_is_read_by_every_front_end_and_the_flag_wins() {
    for (name, run) in ALL {
        let d = repo(TYPO, EXTERNAL);
        d.write("meshform.yaml", format!("{CONFIG}validate: warn\n"));
        let r = run(d.path(), &[]);
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        // krm reports it in the ResourceList's results, as `[unknown-field] ...`.
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(all.contains("unknown-field]"), "{name}: {all}");
        assert!(all.contains("pathRewite`; it is ignored"), "{name}: {all}");
    }
    let d = repo(TYPO, EXTERNAL);
    d.write("meshform.yaml", format!("{CONFIG}validate: warn\n"));
    render(d.path(), &["--validate=strict"]).input_error(&["error[unknown-field]"]);
}

#[test]
fn validate_takes_strict_or_warn_only() {
    let d = repo(CLEAN_ROUTES, EXTERNAL);
    render(d.path(), &["--validate=ignore"]).input_error(&["--validate"]);
    d.write("meshform.yaml", format!("{CONFIG}validate: lenient\n"));
    render(d.path(), &[]).input_error(&["meshform.yaml:4:", "lenient"]);
}
