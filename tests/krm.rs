//! The KRM function (`meshform krm`), alone and under the installed `kpt` (docs/flux.md#kpt),
//! and the kustomize side of the install: the plugin/kustomize Component and `render
//! --out-dir` output, built with `kubectl kustomize`.

mod support;
use support::{bin, meshform, root, walk, Cli, Run, TempRepo};

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

/// `meshform krm` with `input` on stdin.
fn krm(input: &str) -> Run {
    meshform().arg("krm").stdin(input).run()
}

fn yaml(text: &str) -> Vec<Value> {
    meshform::yaml::parse_stream(text, &Default::default())
        .unwrap()
        .documents
        .into_iter()
        .map(|d| d.value.to_json())
        .collect()
}

fn cm(name: &str, path: &str, index: usize) -> Value {
    // Items as kustomize v5 passes them to a function.
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "apps", "annotations": {
            "config.kubernetes.io/index": index.to_string(),
            "internal.config.kubernetes.io/index": index.to_string(),
            "internal.config.kubernetes.io/path": path,
            "config.kubernetes.io/path": path,
            "internal.config.kubernetes.io/id": "1",
            "config.k8s.io/id": "1",
            "team": "mesh",
        }},
        "data": {"a": "1"},
    })
}

fn function_config() -> Value {
    json!({
        "apiVersion": "meshform.dev/v1alpha1", "kind": "Render",
        "metadata": {"name": "render", "annotations": {
            "config.kubernetes.io/function": "exec:\n  path: ./meshform-krm\n"}},
        "spec": {
            "cluster": "eu",
            "keepSources": false,
            "config": {"clusters": [
                {"name": "eu", "paths": ["eu/**"]},
                {"name": "us", "paths": ["us/**"]},
            ]},
        },
    })
}

fn resource_list(items: Vec<Value>) -> String {
    json!({
        "apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "items": items, "functionConfig": function_config(),
    })
    .to_string()
}

#[test]
fn renders_a_resource_list_for_one_cluster() {
    let input = resource_list(vec![
        cm("b", "eu/b.yaml", 0),
        cm("a", "eu/a.yaml", 0),
        cm("other", "us/a.yaml", 0),
    ]);
    let out = krm(&input);
    out.exit(0);
    let docs = yaml(&out.stdout);
    assert_eq!(docs.len(), 1);
    let list = &docs[0];
    assert_eq!(list["kind"], "ResourceList");
    let items = list["items"].as_array().unwrap();
    let names: Vec<&str> = items
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"], "only cluster eu, sorted");
    // Kustomize's bookkeeping annotations are gone; the user's stay.
    assert_eq!(items[0]["metadata"]["annotations"], json!({"team": "mesh"}));
    assert!(list.get("results").is_none());
}

/// The `results` of a failed run: stdout holds a ResourceList with no items.
fn failure_results(out: &Run) -> Vec<Value> {
    assert!(out.code != Some(0), "{}", out.transcript());
    let list = yaml(&out.stdout).remove(0);
    assert_eq!(list["kind"], "ResourceList");
    assert_eq!(list["items"], json!([]), "no items on an error");
    list["results"].as_array().unwrap().clone()
}

#[test]
fn errors_come_back_as_results_with_no_items_and_fail() {
    // The same object twice in one cluster.
    let input = resource_list(vec![cm("a", "eu/a.yaml", 0), cm("a", "eu/b.yaml", 0)]);
    let out = krm(&input);
    let results = failure_results(&out);
    let err = &out.stderr;
    assert!(
        err.contains("duplicate-object") && err.contains("eu/b.yaml"),
        "{err}"
    );
    assert!(results.iter().any(|r| r["severity"] == "error"
        && r["message"]
            .as_str()
            .unwrap()
            .starts_with("[duplicate-object]")));
    // Not a ResourceList.
    let out = krm("apiVersion: v1\nkind: ConfigMap\n");
    assert!(failure_results(&out)[0]["message"]
        .as_str()
        .unwrap()
        .contains("not a ResourceList"));
    // An empty result is refused unless allowed.
    let mut fc = function_config();
    fc["spec"]["cluster"] = json!("us");
    let input = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "items": [cm("a", "eu/a.yaml", 0)], "functionConfig": fc})
    .to_string();
    failure_results(&krm(&input));
    fc["spec"]["allowEmpty"] = json!(true);
    let input = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "items": [cm("a", "eu/a.yaml", 0)], "functionConfig": fc})
    .to_string();
    let out = krm(&input);
    out.exit(0);
}

#[test]
fn sources_are_kept_by_default_and_earlier_output_is_replaced() {
    let fc = json!({"apiVersion": "meshform.dev/v1alpha1", "kind": "Render",
        "metadata": {"name": "render"}, "spec": {"config": {"clusters": [{"name": "eu"}]}}});
    let mut items = yaml(GLOO);
    for (i, v) in items.iter_mut().enumerate() {
        v["metadata"]["annotations"] = json!({"internal.config.kubernetes.io/path": "gloo.yaml",
            "internal.config.kubernetes.io/index": i.to_string()});
    }
    // An earlier run's VirtualService under rendered/.
    let stale = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "old", "namespace": "web", "annotations": {
            "internal.config.kubernetes.io/path": "rendered/eu/web/virtualservice-old.yaml"}},
        "spec": {"hosts": ["old.example.com"]}});
    let mut input = items.clone();
    input.push(stale);
    let list = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "items": input, "functionConfig": fc});
    let out = krm(&list.to_string());
    out.exit(0);
    let out_items = yaml(&out.stdout).remove(0)["items"]
        .as_array()
        .unwrap()
        .clone();
    // The sources come back as they came, annotations included; the stale object is gone.
    assert_eq!(out_items[..items.len()], items[..]);
    let added: Vec<(&str, &str)> = out_items[items.len()..]
        .iter()
        .map(|i| {
            (
                i["metadata"]["name"].as_str().unwrap(),
                i["metadata"]["annotations"]["internal.config.kubernetes.io/path"]
                    .as_str()
                    .unwrap(),
            )
        })
        .collect();
    assert!(!added.is_empty());
    assert!(!added.iter().any(|(n, _)| *n == "old"), "{added:?}");
    for (_, path) in &added {
        assert!(path.starts_with("rendered/eu/"), "{added:?}");
    }
}

fn link_krm(dir: &TempRepo) {
    dir.symlink(bin(), "meshform-krm");
}

#[test]
fn runs_as_meshform_krm_without_arguments() {
    let t = TempRepo::new();
    link_krm(&t);
    let out = Cli::program(t.join("meshform-krm"))
        .stdin(resource_list(vec![cm("a", "eu/a.yaml", 0)]))
        .run();
    out.exit(0);
    assert!(out.stdout.contains("kind: ResourceList"));
}

// ---------------------------------------------------------------- under kpt

/// A Gloo package: one route to a Service through an ingress VirtualGateway, in a workspace
/// of clusters eu and us. Flow style and a comment, so a rewrite would show.
const PACKAGE: [(&str, &str); 4] = [
    (
        "workspace.yaml",
        "apiVersion: admin.gloo.solo.io/v2
kind: Workspace
metadata: {name: web, namespace: gloo-mesh}
spec:
  workloadClusters:
  - name: eu
    namespaces: [{name: web}, {name: istio-gateways}]
  - name: us
    namespaces: [{name: web}, {name: istio-gateways}]
---
apiVersion: admin.gloo.solo.io/v2
kind: WorkspaceSettings
metadata: {name: web, namespace: web}
spec: {}
",
    ),
    (
        "gateway.yaml",
        "apiVersion: networking.gloo.solo.io/v2
kind: VirtualGateway
metadata: {name: ingress, namespace: istio-gateways}
spec:
  workloads:
  - selector: {labels: {istio: ingressgateway}}
  listeners:
  - http: {}
    port: {number: 80}
",
    ),
    (
        "routes.yaml",
        "# The web routes.
apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: web, namespace: web}
spec:
  hosts: [web.example.com]
  virtualGateways: [{name: ingress, namespace: istio-gateways}]
  http:
  - name: all
    forwardTo: {destinations: [{ref: {name: web}, port: {number: 8080}}]}
",
    ),
    (
        "services.yaml",
        "apiVersion: v1
kind: Service
metadata: {name: web, namespace: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 8080, targetPort: 8080}
",
    ),
];

/// The package as one stream.
const GLOO: &str = "apiVersion: admin.gloo.solo.io/v2
kind: Workspace
metadata: {name: web, namespace: gloo-mesh}
spec:
  workloadClusters:
  - name: eu
    namespaces: [{name: web}, {name: istio-gateways}]
---
apiVersion: admin.gloo.solo.io/v2
kind: WorkspaceSettings
metadata: {name: web, namespace: web}
spec: {}
---
apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: db, namespace: web}
spec:
  hosts: [db.example.com]
  ports:
  - {name: http, number: 80, protocol: HTTP}
---
apiVersion: networking.gloo.solo.io/v2
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

/// The ingress gateway Gloo would discover in a cluster, as meshform.yaml declares it.
const GATEWAYS: &str = "  gateways:
  - name: istio-ingressgateway
    namespace: istio-gateways
    selector: {istio: ingressgateway}
    podLabels: {istio: ingressgateway}
    ports:
    - {name: http2, port: 80, targetPort: 8080}
";

/// meshform.yaml as a KRM object (kpt reads every YAML file of a package and needs a
/// `metadata.name`), for clusters eu and us with their gateways.
fn meshform_yaml() -> String {
    format!(
        "apiVersion: meshform.dev/v1alpha1
kind: Config
metadata:
  name: meshform
  annotations:
    config.kubernetes.io/local-config: \"true\"
defaultCluster: eu
clusters:
- name: eu
{GATEWAYS}- name: us
{GATEWAYS}"
    )
}

/// A package directory `pkg` in a temp dir with the Gloo sources and, when given, meshform.yaml.
fn package(config: Option<&str>) -> TempRepo {
    let t = TempRepo::new();
    for (f, text) in PACKAGE {
        t.write(&format!("pkg/{f}"), text);
    }
    if let Some(c) = config {
        t.write("pkg/meshform.yaml", c);
    }
    t
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// True when the installed `kpt` runs; otherwise says why the test stops there.
fn have_kpt() -> bool {
    let ok = Command::new("kpt")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: `kpt` is not installed (https://kpt.dev/installation/)");
    }
    ok
}

/// `kpt ARGS` in `dir`.
fn kpt(dir: &Path, args: &[&str]) -> Output {
    Command::new("kpt")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("kpt runs")
}

#[track_caller]
fn kpt_ok(dir: &Path, args: &[&str]) -> String {
    let out = kpt(dir, args);
    assert!(
        out.status.success(),
        "kpt {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `--exec` for kpt: the built binary and the subcommand.
fn exec() -> String {
    format!("{} krm", bin().display())
}

/// The files `meshform render --out-dir` writes for `sources` (its kustomization.yaml files
/// and marker aside), under `rendered/`.
fn render_out_dir(sources: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let repo = TempRepo::with(sources);
    let dir = repo.join("out");
    meshform()
        .args(["render", "--out-dir"])
        .arg(&dir)
        .arg(repo.path())
        .run()
        .exit(0);
    tree(&dir)
        .into_iter()
        .filter(|(p, _)| !p.ends_with("kustomization.yaml") && !p.starts_with(".meshform"))
        .map(|(p, t)| (format!("rendered/{p}"), t))
        .collect()
}

/// The package after a run: the sources unchanged, and the files under rendered/.
#[track_caller]
fn assert_sources_kept_and_rendered(pkg: &Path, sources: &BTreeMap<String, String>) {
    let now = tree(pkg);
    for (f, text) in sources {
        assert_eq!(now.get(f), Some(text), "{f} changed");
    }
    let rendered: BTreeMap<String, String> = now
        .into_iter()
        .filter(|(p, _)| p.starts_with("rendered/"))
        .collect();
    assert_eq!(
        rendered,
        render_out_dir(sources),
        "rendered/ as `render --out-dir` writes it"
    );
    let kinds: Vec<&str> = rendered.keys().map(String::as_str).collect();
    for c in ["eu", "us"] {
        for k in ["gateway-", "virtualservice-"] {
            let want = format!("rendered/{c}/istio-gateways/{k}");
            assert!(
                kinds.iter().any(|p| p.starts_with(&want)),
                "{want} in {kinds:?}"
            );
        }
    }
}

#[test]
fn kpt_fn_eval_exec_to_stdout_leaves_the_package_alone() {
    if !have_kpt() {
        return;
    }
    let t = package(Some(&meshform_yaml()));
    let before = tree(&t.join("pkg"));
    let out = kpt_ok(
        t.path(),
        &["fn", "eval", "pkg", "--exec", &exec(), "-o", "stdout"],
    );
    assert_eq!(tree(&t.join("pkg")), before, "-o stdout writes nothing");
    let list = yaml(&out).remove(0);
    let items = list["items"].as_array().unwrap();
    let path = |i: &Value| {
        i["metadata"]["annotations"]["internal.config.kubernetes.io/path"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    // The sources and meshform.yaml come back, and the rendered objects are added.
    for f in [
        "workspace.yaml",
        "gateway.yaml",
        "routes.yaml",
        "services.yaml",
        "meshform.yaml",
    ] {
        assert!(items.iter().any(|i| path(i) == f), "{f}: {out}");
    }
    let rendered: Vec<(String, &str)> = items
        .iter()
        .filter(|i| path(i).starts_with("rendered/"))
        .map(|i| (path(i), i["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(rendered.len(), 4, "{rendered:?}");
    assert!(rendered
        .iter()
        .any(|(p, k)| p.starts_with("rendered/us/") && *k == "Gateway"));
}

#[test]
fn kpt_fn_eval_in_place_keeps_the_sources_and_is_idempotent() {
    if !have_kpt() {
        return;
    }
    let t = package(Some(&meshform_yaml()));
    let pkg = t.join("pkg");
    let sources = tree(&pkg);
    kpt_ok(t.path(), &["fn", "eval", "pkg", "--exec", &exec()]);
    assert_sources_kept_and_rendered(&pkg, &sources);
    let once = tree(&pkg);
    kpt_ok(t.path(), &["fn", "eval", "pkg", "--exec", &exec()]);
    assert_eq!(tree(&pkg), once, "a second run changes nothing");
    // A route removed from the sources: its VirtualService goes from rendered/ too.
    t.write("pkg/routes.yaml", "# No routes.\n");
    kpt_ok(t.path(), &["fn", "eval", "pkg", "--exec", &exec()]);
    assert!(!tree(&pkg).keys().any(|p| p.contains("virtualservice-")));
}

#[test]
fn kpt_fn_render_runs_a_kptfile_exec_pipeline() {
    if !have_kpt() {
        return;
    }
    let t = package(Some(&meshform_yaml()));
    t.write(
        "pkg/Kptfile",
        format!(
            "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\npipeline:\n  \
             mutators:\n  - exec: \"{}\"\n",
            exec()
        ),
    );
    let pkg = t.join("pkg");
    let sources = tree(&pkg);
    kpt_ok(t.path(), &["fn", "render", "pkg", "--allow-exec"]);
    assert_sources_kept_and_rendered(&pkg, &sources);
    let once = tree(&pkg);
    kpt_ok(t.path(), &["fn", "render", "pkg", "--allow-exec"]);
    assert_eq!(tree(&pkg), once, "a second render changes nothing");
}

#[test]
fn kpt_function_config_carries_clusters_and_gateways() {
    if !have_kpt() {
        return;
    }
    // No meshform.yaml in the package: the clusters and their gateways come from a typed
    // functionConfig; only cluster us is rendered.
    let t = package(None);
    let config = yaml(&meshform_yaml()).remove(0);
    let fc = json!({
        "apiVersion": "meshform.dev/v1alpha1", "kind": "Render",
        "metadata": {"name": "render"},
        "spec": {"cluster": "us", "config": {
            "defaultCluster": config["defaultCluster"], "clusters": config["clusters"]}},
    });
    t.write("render.yaml", meshform::yaml::to_string(&fc).unwrap());
    let out = kpt_ok(
        t.path(),
        &[
            "fn",
            "eval",
            "pkg",
            "--exec",
            &exec(),
            "--fn-config",
            "render.yaml",
            "-o",
            "stdout",
        ],
    );
    let list = yaml(&out).remove(0);
    let rendered: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| {
            let p = i["metadata"]["annotations"]["internal.config.kubernetes.io/path"].as_str()?;
            p.starts_with("rendered/")
                .then(|| format!("{} {p}", i["kind"].as_str().unwrap()))
        })
        .collect();
    assert_eq!(rendered.len(), 2, "{rendered:?}");
    assert!(
        rendered[0].starts_with("Gateway rendered/us/istio-gateways/"),
        "{rendered:?}"
    );
    assert!(
        rendered[1].starts_with("VirtualService rendered/us/istio-gateways/"),
        "{rendered:?}"
    );
    // The ConfigMap short form (`-- cluster=us`) with the config from meshform.yaml.
    let t = package(Some(&meshform_yaml()));
    let out = kpt_ok(
        t.path(),
        &[
            "fn",
            "eval",
            "pkg",
            "--exec",
            &exec(),
            "-o",
            "stdout",
            "--",
            "cluster=us",
        ],
    );
    assert!(
        out.contains("rendered/us/istio-gateways/virtualservice-"),
        "{out}"
    );
    assert!(!out.contains("rendered/eu/"), "{out}");
    // meshform.yaml itself as the functionConfig.
    let t = package(None);
    t.write("meshform.yaml", meshform_yaml());
    let out = kpt_ok(
        t.path(),
        &[
            "fn",
            "eval",
            "pkg",
            "--exec",
            &exec(),
            "--fn-config",
            "meshform.yaml",
            "-o",
            "stdout",
        ],
    );
    assert!(out.contains("rendered/eu/istio-gateways/gateway-"), "{out}");
}

#[test]
fn kpt_reports_errors_as_results_and_leaves_the_package() {
    if !have_kpt() {
        return;
    }
    let t = package(Some(&meshform_yaml()));
    t.write(
        "pkg/routes.yaml",
        PACKAGE[2]
            .1
            .replace("  - name: all\n", "  - name: all\n    pathRewite: /x\n"),
    );
    let pkg = t.join("pkg");
    let before = tree(&pkg);
    let out = kpt(
        t.path(),
        &[
            "fn",
            "eval",
            "pkg",
            "--exec",
            &exec(),
            "--results-dir",
            "results",
        ],
    );
    assert!(!out.status.success());
    assert_eq!(tree(&pkg), before, "nothing written on an error");
    let results = yaml(&std::fs::read_to_string(t.join("results/results.yaml")).unwrap()).remove(0);
    let item = &results["items"][0];
    assert_eq!(item["exitCode"], 2);
    let r = &item["results"][0];
    assert_eq!(r["severity"], "error");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .starts_with("[unknown-field]"),
        "{r}"
    );
    assert_eq!(r["file"]["path"], "routes.yaml");
    assert_eq!(r["field"]["path"], "spec.http[0].pathRewite");
    assert_eq!(r["resourceRef"]["kind"], "RouteTable");
}

#[test]
fn kpt_source_and_sink_around_the_function() {
    if !have_kpt() {
        return;
    }
    let t = package(Some(&meshform_yaml()));
    let pkg = t.join("pkg");
    let sources = tree(&pkg);
    let list = kpt_ok(t.path(), &["fn", "source", "pkg"]);
    let out = krm(&list);
    out.exit(0);
    let mut sink = Command::new("kpt")
        .args(["fn", "sink", "out"])
        .current_dir(t.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    sink.stdin
        .take()
        .unwrap()
        .write_all(out.stdout.as_bytes())
        .unwrap();
    assert!(sink.wait().unwrap().success());
    assert_eq!(tree(&pkg), sources, "the source package is untouched");
    assert_sources_kept_and_rendered(&t.join("out"), &sources);
}

// ---------------------------------------------------------------- kustomize builds

fn kubectl_kustomize(dir: &Path) -> Vec<Value> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl is installed");
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    yaml(&String::from_utf8(out.stdout).unwrap())
}

/// The parts of upstream's argocd-repo-server Deployment the patch relies on
/// (argo-cd `manifests/base/repo-server/argocd-repo-server-deployment.yaml`).
const REPO_SERVER: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: argocd-repo-server}
  template:
    metadata:
      labels: {app.kubernetes.io/name: argocd-repo-server}
    spec:
      initContainers:
      - name: copyutil
        image: quay.io/argoproj/argocd:v3.2.0
        command: [/bin/cp, -n, /usr/local/bin/argocd, /var/run/argocd/argocd-cmp-server]
        volumeMounts:
        - {name: var-files, mountPath: /var/run/argocd}
      containers:
      - name: argocd-repo-server
        image: quay.io/argoproj/argocd:v3.2.0
        volumeMounts:
        - {name: plugins, mountPath: /home/argocd/cmp-server/plugins}
      volumes:
      - {name: var-files, emptyDir: {}}
      - {name: plugins, emptyDir: {}}
";

#[test]
fn the_plugin_component_adds_the_sidecar() {
    // A copy of plugin/kustomize (kustomize refuses absolute component paths), with
    // example/'s remote Argo CD install replaced by the stub; its `components` are kept.
    let t = tempfile::tempdir().unwrap();
    let src = root().join("plugin/kustomize");
    let dst = t.path().join("kustomize");
    std::fs::create_dir_all(dst.join("example")).unwrap();
    std::fs::create_dir_all(dst.join("component")).unwrap();
    for f in [
        "component/kustomization.yaml",
        "component/repo-server-patch.yaml",
        "example/kustomization.yaml",
    ] {
        std::fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    let example = dst.join("example");
    std::fs::write(example.join("repo-server.yaml"), REPO_SERVER).unwrap();
    let mut k =
        yaml(&std::fs::read_to_string(example.join("kustomization.yaml")).unwrap()).remove(0);
    assert_eq!(k["components"], json!(["../component"]));
    k["resources"] = json!(["repo-server.yaml"]);
    std::fs::write(
        example.join("kustomization.yaml"),
        meshform::yaml::to_string(&k).unwrap(),
    )
    .unwrap();
    let docs = kubectl_kustomize(&example);
    assert_eq!(docs.len(), 1);
    let spec = &docs[0]["spec"]["template"]["spec"];
    assert_eq!(docs[0]["metadata"]["namespace"], "argocd");
    let containers = spec["containers"].as_array().unwrap();
    let mut names: Vec<&str> = containers
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["argocd-repo-server", "meshform"]);
    let side = containers.iter().find(|c| c["name"] == "meshform").unwrap();
    assert_eq!(
        side["command"],
        json!(["/var/run/argocd/argocd-cmp-server"])
    );
    assert_eq!(side["securityContext"]["runAsUser"], 999);
    assert_eq!(side["image"], "ghcr.io/meshform/meshform-cmp:v0.1.0");
    // Every volume the sidecar mounts exists, and /tmp is its own.
    let volumes: Vec<&str> = spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    for m in side["volumeMounts"].as_array().unwrap() {
        assert!(volumes.contains(&m["name"].as_str().unwrap()), "{m}");
    }
    let tmp = side["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == "/tmp")
        .unwrap();
    assert_eq!(tmp["name"], "meshform-tmp");
}

#[test]
fn out_dir_clusters_build_with_kustomize() {
    let t = TempRepo::new();
    let repo = t.join("repo");
    t.write("repo/meshform.yaml", "apiVersion: meshform.dev/v1alpha1\nkind: Config\nclusters:\n- name: eu\n  paths: [\"clusters/eu/**\"]\n- name: us\n  paths: [\"clusters/us/**\"]\n");
    t.write("repo/clusters/eu/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: apps\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n");
    t.write(
        "repo/clusters/us/b.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: apps\n",
    );
    let out = t.join("rendered");
    meshform()
        .args(["render", "--passthrough", "--out-dir"])
        .arg(&out)
        .arg(&repo)
        .run()
        .exit(0);
    let eu = kubectl_kustomize(&out.join("eu"));
    let mut names: Vec<String> = eu
        .iter()
        .map(|d| {
            format!(
                "{}/{}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    names.sort();
    assert_eq!(names, ["ConfigMap/a", "Namespace/apps"]);
    let us = kubectl_kustomize(&out.join("us"));
    assert_eq!(us.len(), 1);
    assert_eq!(us[0]["metadata"]["name"], "b");
}

#[test]
fn gloo_items_become_istio_items() {
    let docs = yaml(
        "apiVersion: admin.gloo.solo.io/v2
kind: Workspace
metadata: {name: web, namespace: gloo-mesh}
spec:
  workloadClusters: [{name: eu, namespaces: [{name: web}]}]
---
apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: db, namespace: web}
spec:
  hosts: [db.example.com]
  ports:
  - {name: http, number: 80, protocol: HTTP}
---
apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: web, namespace: web}
spec:
  hosts: [web.example.com]
  http:
  - name: db
    forwardTo:
      destinations:
      - {kind: EXTERNAL_SERVICE, ref: {name: db}, port: {number: 80}}
",
    );
    let mut fc = function_config();
    fc["spec"]["config"] = json!({"clusters": [{"name": "eu"}]});
    let input = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "items": docs, "functionConfig": fc})
    .to_string();
    let out = krm(&input);
    out.exit(0);
    let list = yaml(&out.stdout).remove(0);
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"VirtualService") && kinds.contains(&"ServiceEntry"),
        "{kinds:?}"
    );
    assert!(!list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["apiVersion"].as_str().unwrap().contains("gloo.solo.io")));
}
