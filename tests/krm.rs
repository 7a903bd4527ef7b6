//! The KRM function (`meshform krm`) and the kustomize side of the install: the plugin/
//! kustomize Component and `render --out-dir` output, built with `kubectl kustomize`.

mod support;
use support::{bin, meshform, root, Cli, Run, TempRepo};

use serde_json::{json, Value};
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

#[test]
fn errors_leave_stdout_empty_and_fail() {
    // The same object twice in one cluster.
    let input = resource_list(vec![cm("a", "eu/a.yaml", 0), cm("a", "eu/b.yaml", 0)]);
    let out = krm(&input);
    assert!(out.code != Some(0));
    assert!(out.stdout.is_empty());
    let err = &out.stderr;
    assert!(
        err.contains("duplicate-object") && err.contains("eu/b.yaml"),
        "{err}"
    );
    // Not a ResourceList.
    let out = krm("apiVersion: v1\nkind: ConfigMap\n");
    assert!(out.code != Some(0) && out.stdout.is_empty());
    // An empty result is refused unless allowed.
    let mut fc = function_config();
    fc["spec"]["cluster"] = json!("us");
    let input = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "items": [cm("a", "eu/a.yaml", 0)], "functionConfig": fc})
    .to_string();
    let out = krm(&input);
    assert!(out.code != Some(0) && out.stdout.is_empty());
    fc["spec"]["allowEmpty"] = json!(true);
    let input = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "items": [cm("a", "eu/a.yaml", 0)], "functionConfig": fc})
    .to_string();
    let out = krm(&input);
    out.exit(0);
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

/// `kustomize build --enable-alpha-plugins --enable-exec`, from a standalone kustomize or
/// kubectl when either supports exec functions. kubectl's embedded kustomize (1.32 here)
/// has no `--enable-exec` and skips exec functions, so the test says so and stops there.
fn kustomize_with_exec(dir: &Path) -> Option<Output> {
    let has = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("--enable-exec"))
            .unwrap_or(false)
    };
    let mut cmd = if has("kustomize", &["build", "--help"]) {
        let mut c = Command::new("kustomize");
        c.arg("build");
        c
    } else if has("kubectl", &["kustomize", "--help"]) {
        let mut c = Command::new("kubectl");
        c.arg("kustomize");
        c
    } else {
        eprintln!("note: neither kustomize nor kubectl kustomize supports --enable-exec here");
        return None;
    };
    Some(
        cmd.args(["--enable-alpha-plugins", "--enable-exec"])
            .arg(dir)
            .output()
            .unwrap(),
    )
}

#[test]
#[ignore = "needs a kustomize with --enable-exec (kubectl 1.32's embedded kustomize has none); run with --ignored where one is installed"]
fn kustomize_runs_the_function() {
    let t = TempRepo::new();
    link_krm(&t);
    t.write("eu/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: apps\ndata:\n  a: \"1\"\n");
    t.write(
        "us.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: apps\n",
    );
    let fc = meshform::yaml::to_string(&function_config()).unwrap();
    t.write("fn.yaml", fc);
    t.write(
        "kustomization.yaml",
        "resources: [eu/cm.yaml, us.yaml]\ntransformers: [fn.yaml]\n",
    );
    let Some(out) = kustomize_with_exec(t.path()) else {
        panic!("no kustomize with --enable-exec on PATH");
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = yaml(&String::from_utf8(out.stdout).unwrap());
    // us.yaml matches no cluster path: it falls to the default cluster, the first (eu).
    let names: Vec<&str> = docs
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
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
