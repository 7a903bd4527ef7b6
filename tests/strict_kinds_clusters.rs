//! Gloo kinds, clusters and templates are rendered faithfully or rejected loudly, alike in
//! `render`, `check`, `diff`, `argocd generate` and `krm` (docs/translation.md#kinds,
//! docs/config.md): unknown kinds, versions and groups, kinds meshform does not translate
//! (unless accepted), paths with no manifests, several clusters in one stream, references to
//! undeclared clusters, and templates of the clusters that hold them.

mod support;
use support::{meshform, Run, TempRepo};

use serde_json::json;
use std::path::Path;

const CONFIG: &str = "apiVersion: meshform.dev/v1alpha1\nkind: Config\nclusters:\n- name: cluster1\n  paths: [\"clusters/cluster1/**\"]\n";

const SVC: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: web\nspec:\n  selector: {app: web}\n  ports:\n  - {name: http, port: 80}\n";

fn es(kind: &str, api: &str) -> String {
    let name = if kind == "ExternalService" && api.ends_with("/v2") {
        "ext"
    } else {
        "extra"
    };
    format!(
        "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: web\nspec:\n  hosts: [ext.example.com]\n  ports:\n  - {{name: https, number: 443, protocol: HTTPS}}\n"
    )
}

fn rtp() -> String {
    "apiVersion: trafficcontrol.policy.gloo.solo.io/v2\nkind: RateLimitPolicy\nmetadata:\n  name: ratelimit\n  namespace: web\nspec:\n  applyToRoutes:\n  - route: {labels: {ratelimited: \"true\"}}\n".to_string()
}

/// A one-cluster repo with a Service, an ExternalService and `extra` at `extra.yaml`.
fn repo(extra: &str) -> TempRepo {
    let t = TempRepo::new();
    t.write("meshform.yaml", CONFIG);
    t.write("svc.yaml", SVC);
    t.write(
        "es.yaml",
        es("ExternalService", "networking.gloo.solo.io/v2"),
    );
    t.write("extra.yaml", extra);
    t
}

fn render(root: &Path, extra: &[&str]) -> Run {
    meshform().arg("render").args(extra).arg(root).run()
}

fn check(root: &Path, extra: &[&str]) -> Run {
    meshform().arg("check").args(extra).arg(root).run()
}

fn generate(root: &Path) -> Run {
    meshform()
        .args(["argocd", "generate"])
        .current_dir(root)
        .env_clear()
        .env("ARGOCD_APP_SOURCE_PATH", ".")
        .env("ARGOCD_ENV_CLUSTER", "cluster1")
        .run()
}

/// `meshform krm` on the repo's files (one item per document), with `config` as the
/// functionConfig's config.
fn krm(root: &Path, config: serde_json::Value) -> Run {
    let mut items = Vec::new();
    for name in ["svc.yaml", "es.yaml", "extra.yaml"] {
        let Ok(text) = std::fs::read_to_string(root.join(name)) else {
            continue;
        };
        for d in meshform::yaml::parse_stream(&text, &Default::default())
            .unwrap()
            .documents
        {
            let mut v = d.value.to_json();
            v["metadata"]["annotations"] = json!({"config.kubernetes.io/path": name});
            items.push(v);
        }
    }
    let list = json!({
        "apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items,
        "functionConfig": {"apiVersion": "meshform.dev/v1alpha1", "kind": "Render",
            "metadata": {"name": "r"}, "spec": {"cluster": "cluster1", "config": config}},
    });
    meshform().arg("krm").stdin(list.to_string()).run()
}

/// `diff` of the committed repo (base) against the working tree (head) with `extra` written
/// at `extra.yaml`.
fn diff(extra: &str) -> Run {
    let t = repo("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  namespace: web\n");
    t.git_init().commit("base");
    t.write("extra.yaml", extra);
    meshform().arg("diff").arg(t.path()).run()
}

/// Every front end fails with exit 2, nothing on stdout, and the needles on stderr.
#[track_caller]
fn all_reject(extra: &str, needles: &[&str]) {
    let t = repo(extra);
    render(t.path(), &[]).input_error(needles);
    check(t.path(), &[]).input_error(needles);
    generate(t.path()).input_error(needles);
    diff(extra).input_error(needles);
    let krm_config = json!({"clusters": [{"name": "cluster1"}]});
    // krm's items carry no line of their own: the message is the same, and stdout holds the
    // ResourceList of results with no items.
    let k = krm(t.path(), krm_config);
    k.exit(2).stderr_has(&needles[..1]);
    assert!(k.stdout.contains("items: []"), "{}", k.stdout);
}

#[test]
fn a_misspelled_kind_is_an_input_error_with_the_nearest_kind() {
    all_reject(
        &es("ExternalServise", "networking.gloo.solo.io/v2"),
        &[
            "networking.gloo.solo.io has no kind `ExternalServise`; did you mean `ExternalService`?",
            "extra.yaml:2:7",
        ],
    );
}

#[test]
fn a_wrong_version_is_an_input_error_naming_the_served_versions() {
    all_reject(
        &es("ExternalService", "networking.gloo.solo.io/v1"),
        &[
            "Gloo serves ExternalService as `networking.gloo.solo.io/v2`, not `networking.gloo.solo.io/v1`",
            "extra.yaml:1:13",
        ],
    );
}

#[test]
fn a_misspelled_group_is_an_input_error() {
    all_reject(
        &es("ExternalService", "networkin.gloo.solo.io/v2"),
        &["did you mean `networking.gloo.solo.io`?"],
    );
}

#[test]
fn a_kind_meshform_does_not_translate_is_an_error_naming_what_is_lacking() {
    all_reject(
        &rtp(),
        &[
            "meshform does not translate RateLimitPolicy: the output would lack the EnvoyFilter for rate limiting",
            "--accept-kind RateLimitPolicy",
        ],
    );
}

#[test]
fn an_accepted_kind_renders_with_a_warning() {
    let t = repo(&rtp());
    // By flag, on render, check and diff.
    let out = render(t.path(), &["--accept-kind", "RateLimitPolicy"]);
    out.success();
    out.stderr_has(&[
        "warning[kind-not-translated]",
        "(accepted): the output lacks the EnvoyFilter for rate limiting",
    ]);
    assert!(out.stdout.contains("kind: ServiceEntry"), "{}", out.stdout);
    check(t.path(), &["--accept-kind", "RateLimitPolicy"]).success();
    // By meshform.yaml, which argocd generate and krm read as well.
    t.write(
        "meshform.yaml",
        format!("{CONFIG}accept:\n  kinds: [RateLimitPolicy]\n"),
    );
    render(t.path(), &[]).success();
    generate(t.path()).success();
    let krm_config =
        json!({"clusters": [{"name": "cluster1"}], "accept": {"kinds": ["RateLimitPolicy"]}});
    krm(t.path(), krm_config).success();
}

#[test]
fn accepting_a_name_that_is_not_an_untranslated_kind_is_refused() {
    let t = repo(&rtp());
    render(t.path(), &["--accept-kind", "RateLimitPolicyy"])
        .input_error(&["did you mean `RateLimitPolicy`?"]);
    render(t.path(), &["--accept-kind", "RouteTable"]).input_error(&["is translated"]);
    t.write(
        "meshform.yaml",
        format!("{CONFIG}accept:\n  kinds: [RateLimitPolicyy]\n"),
    );
    render(t.path(), &[]).input_error(&["meshform.yaml:7:11", "did you mean `RateLimitPolicy`?"]);
}

#[test]
fn an_out_of_scope_kind_is_skipped_with_an_info() {
    let kc = "apiVersion: admin.gloo.solo.io/v2\nkind: KubernetesCluster\nmetadata:\n  name: cluster1\n  namespace: gloo-mesh\nspec:\n  clusterDomain: cluster.local\n";
    let t = repo(kc);
    let out = render(t.path(), &[]);
    assert!(out.success().contains("kind: ServiceEntry"));
    check(t.path(), &[]).success();
    let c = check(t.path(), &[]);
    assert!(
        c.stdout.contains("info[kind-out-of-scope]")
            && c.stdout
                .contains("KubernetesCluster produces no routing objects"),
        "{}",
        c.stdout
    );
}

// ------------------------------------------------------------------------------------------
// No manifests at all.

#[test]
fn a_path_with_no_manifests_is_an_input_error() {
    let t = TempRepo::new();
    t.write("meshform.yaml", CONFIG);
    t.write("README.md", "not a manifest\n");
    let needle = "no manifests found in";
    render(t.path(), &[]).input_error(&[needle]);
    render(t.path(), &["--allow-empty"]).input_error(&[needle]);
    check(t.path(), &[]).input_error(&[needle]);
    generate(t.path()).input_error(&[needle]);
    render(&t.join("wrong/subpath"), &[]).exit(2);
    let empty = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [],
        "functionConfig": {"apiVersion": "meshform.dev/v1alpha1", "kind": "Render",
            "metadata": {"name": "r"}, "spec": {"allowEmpty": true}}});
    let k = meshform().arg("krm").stdin(empty.to_string()).run();
    k.exit(2)
        .stderr_has(&["no manifests found in the ResourceList's items"]);
    // stdout holds the ResourceList of results, with no items.
    assert!(k.stdout.contains("items: []"), "{}", k.stdout);
    // A diff whose head has none.
    let r = repo("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  namespace: web\n");
    r.git_init().commit("base");
    for f in ["svc.yaml", "es.yaml", "extra.yaml"] {
        r.remove(f);
    }
    meshform()
        .arg("diff")
        .arg(r.path())
        .run()
        .input_error(&[needle]);
}

// ------------------------------------------------------------------------------------------
// One cluster per stream.

const TWO: &str = "apiVersion: meshform.dev/v1alpha1\nkind: Config\nclusters:\n- name: cluster1\n  paths: [\"clusters/cluster1/**\"]\n- name: cluster2\n  paths: [\"clusters/cluster2/**\"]\n";

fn two_clusters() -> TempRepo {
    let t = TempRepo::new();
    t.write("meshform.yaml", TWO);
    for c in ["cluster1", "cluster2"] {
        t.write(&format!("clusters/{c}/svc.yaml"), SVC);
        t.write(
            &format!("clusters/{c}/es.yaml"),
            es("ExternalService", "networking.gloo.solo.io/v2"),
        );
    }
    t
}

#[test]
fn render_of_several_clusters_to_stdout_asks_which() {
    let t = two_clusters();
    render(t.path(), &[]).input_error(&[
        "error[several-clusters]",
        "this repo has 2 clusters (cluster1, cluster2)",
        "--cluster cluster1",
        "--all-clusters",
        "--out-dir",
    ]);
    render(t.path(), &["-o", "json"]).input_error(&["several-clusters"]);
    let copies = |out: &str, c: &str| {
        out.matches(&format!("cluster.solo.io/cluster: {c}"))
            .count()
    };
    let one = render(t.path(), &["--cluster", "cluster2"]);
    let out = one.success();
    assert!(
        copies(out, "cluster2") > 0 && copies(out, "cluster1") == 0,
        "{out}"
    );
    let all = render(t.path(), &["--all-clusters"]);
    let out = all.success();
    assert!(
        copies(out, "cluster2") > 0 && copies(out, "cluster1") > 0,
        "{out}"
    );
    render(t.path(), &["--all-clusters", "--cluster", "cluster1"]).exit(2);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    render(t.path(), &["--out-dir", out.to_str().unwrap()]).success();
    assert!(out.join("cluster1").is_dir() && out.join("cluster2").is_dir());
}

#[test]
fn findings_of_clusters_not_asked_for_stay_quiet() {
    let t = two_clusters();
    // A broken reference in cluster2's table.
    t.write(
        "clusters/cluster2/rt.yaml",
        "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\nmetadata:\n  name: rt\n  namespace: web\nspec:\n  hosts: [web.example.com]\n  http:\n  - name: r\n    forwardTo:\n      destinations:\n      - ref: {name: nosuch}\n        port: {number: 80}\n",
    );
    let c2 = check(t.path(), &["--cluster", "cluster2"]);
    assert!(c2.stdout.contains("nosuch"), "{}", c2.stdout);
    let c1 = check(t.path(), &["--cluster", "cluster1"]);
    assert!(!c1.stdout.contains("nosuch"), "{}", c1.stdout);
    let r1 = render(t.path(), &["--cluster", "cluster1"]);
    assert!(!r1.stderr.contains("nosuch"), "{}", r1.stderr);
}

// ------------------------------------------------------------------------------------------
// Cluster names.

#[test]
fn a_reference_to_an_undeclared_cluster_is_an_error_at_the_field() {
    let rt = "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\nmetadata:\n  name: rt\n  namespace: web\nspec:\n  hosts: [web.example.com]\n  http:\n  - name: r\n    forwardTo:\n      destinations:\n      - ref: {name: web, cluster: cluster9}\n        port: {number: 80}\n";
    all_reject(
        rt,
        &[
            "error[undeclared-cluster]",
            "cluster `cluster9` is not declared in meshform.yaml (clusters: cluster1); did you mean `cluster1`?",
            "extra.yaml:12:",
        ],
    );
    // The declared cluster renders.
    let t = repo(&rt.replace("cluster9", "cluster1"));
    render(t.path(), &[]).success();
}

// ------------------------------------------------------------------------------------------
// Templates.

const THREE: &str = "apiVersion: meshform.dev/v1alpha1\nkind: Config\ndefaultCluster: mgmt\nclusters:\n- name: mgmt\n  paths: [\"mgmt/**\"]\n- name: cluster1\n  paths: [\"clusters/cluster1/**\"]\n  values: {domain: one.example.com}\n- name: cluster2\n  paths: [\"clusters/cluster2/**\"]\n  values: {domain: two.example.com}\n";

fn cm_template(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-{{{{ cluster.name }}}}\n  namespace: web\ndata:\n  domain: \"{{{{ values.domain }}}}\"\n")
}

#[test]
fn templates_render_for_the_clusters_whose_paths_hold_them() {
    let t = TempRepo::new();
    t.write("meshform.yaml", THREE);
    t.write("mgmt/svc.yaml", SVC);
    t.write("clusters/cluster1/app.yaml.j2", cm_template("app"));
    t.write("clusters/cluster2/svc.yaml", SVC);
    // cluster1's template uses values mgmt lacks: it is rendered for cluster1 alone.
    let all = render(t.path(), &["--passthrough", "--all-clusters"]);
    let out = all.success();
    assert!(out.contains("name: app-cluster1"), "{out}");
    assert!(
        !out.contains("app-mgmt") && !out.contains("app-cluster2"),
        "{out}"
    );
    render(t.path(), &["--passthrough", "--cluster", "cluster1"]).success();
    render(t.path(), &["--passthrough", "--cluster", "mgmt"]).success();
}

#[test]
fn templates_outside_every_clusters_paths_render_for_the_clusters_asked_for() {
    let t = TempRepo::new();
    t.write("meshform.yaml", THREE);
    t.write("mgmt/svc.yaml", SVC);
    t.write("common/app.yaml.j2", cm_template("app"));
    // mgmt has no `domain`: asking for cluster1 alone does not render the template for mgmt.
    let one = render(t.path(), &["--passthrough", "--cluster", "cluster1"]);
    let out = one.success();
    assert!(out.contains("name: app-cluster1"), "{out}");
    // Every cluster: the error names mgmt and the template's line and column, once.
    let all = render(t.path(), &["--passthrough", "--all-clusters"]);
    all.input_error(&[
        "common/app.yaml.j2:7:",
        "for cluster `mgmt`: undefined value",
        "values.domain",
    ]);
    assert_eq!(
        all.stderr.matches("undefined value").count(),
        1,
        "{}",
        all.stderr
    );
}

#[test]
fn a_template_error_of_several_clusters_is_reported_once() {
    let t = TempRepo::new();
    t.write("meshform.yaml", THREE);
    t.write("mgmt/svc.yaml", SVC);
    t.write(
        "common/broken.yaml.j2",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: {{ values.nope }}\n",
    );
    let all = render(t.path(), &["--all-clusters"]);
    all.input_error(&[
        "common/broken.yaml.j2:5:17",
        "for clusters `mgmt`, `cluster1`, `cluster2`: undefined value",
    ]);
    assert_eq!(
        all.stderr.matches("undefined value").count(),
        1,
        "{}",
        all.stderr
    );
}
