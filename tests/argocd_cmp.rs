//! An emulation of Argo CD's cmp-server running `meshform argocd generate`, following
//! docs/argocd.md, "The contract with Argo CD" (argoproj/argo-cd `util/io/files/tar.go`,
//! `cmpserver/plugin/plugin.go`, `reposerver/repository/repository.go`,
//! `gitops-engine/pkg/utils/kube/kube.go`):
//! 1. the repo-server tars and gzips the repo root (optionally without `.git/*`);
//! 2. the sidecar extracts it into a fresh work dir: dirs 0755, files 0644, symlinks resolved
//!    to absolute paths and refused when they leave the tree;
//! 3. the environment is the sidecar's own plus the build env, parameters and plugin env;
//! 4. `init` (none for meshform) and `generate` from plugin/plugin.yaml run in
//!    `<workdir>/<app path>` under a deadline;
//! 5. stdout is split as a YAML or JSON stream, empty and null documents skipped, `List`s
//!    flattened, and a non-zero exit fails the generation.

mod support;
use support::{git_out, meshform, root, write_file, Run, TempRepo};

use serde_json::{json, Value};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

// ---------------------------------------------------------------- the repo-server side

/// Go `filepath.Match` semantics for the exclusion patterns (`*` does not cross `/`).
fn excluded(rel: &str, patterns: &[&str]) -> bool {
    patterns.iter().any(|p| {
        globset::GlobBuilder::new(p)
            .literal_separator(true)
            .build()
            .unwrap()
            .compile_matcher()
            .is_match(rel)
    })
}

/// `files.Tgz`: a lexical walk (symlinks not followed) of regular files, dirs and symlinks.
fn tgz(src: &Path, exclusions: &[&str]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tw = tar::Builder::new(gz);
    tw.follow_symlinks(false);
    fn walk(dir: &Path, src: &Path, ex: &[&str], tw: &mut tar::Builder<impl std::io::Write>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let rel = p.strip_prefix(src).unwrap().to_str().unwrap().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if excluded(&rel, ex) {
                continue; // a dir: SkipDir; a file: skipped
            }
            let ft = meta.file_type();
            if ft.is_dir() {
                tw.append_dir(&rel, &p).unwrap();
                walk(&p, src, ex, tw);
            } else if ft.is_symlink() {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.set_mode(0o777);
                tw.append_link(&mut h, &rel, std::fs::read_link(&p).unwrap())
                    .unwrap();
            } else if ft.is_file() {
                tw.append_path_with_name(&p, &rel).unwrap();
            }
        }
    }
    walk(src, src, exclusions, &mut tw);
    tw.into_inner().unwrap().finish().unwrap()
}

// ---------------------------------------------------------------- the sidecar side

/// Lexical `filepath.Clean` of an absolute path.
fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

fn inbound(candidate: &Path, base: &Path) -> bool {
    clean(candidate).starts_with(clean(base))
}

/// `files.Untgz` with preserveFileMode false.
fn untgz(dst: &Path, data: &[u8]) -> Result<(), String> {
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(data));
    for entry in ar.entries().unwrap() {
        let mut e = entry.unwrap();
        let name = e.path().unwrap().into_owned();
        if name == Path::new(".") {
            continue;
        }
        let target = dst.join(&name);
        if !inbound(&target, dst) {
            return Err(format!("illegal filepath in archive: {}", target.display()));
        }
        match e.header().entry_type() {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&target).unwrap();
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            tar::EntryType::Symlink => {
                let link = e.link_name().unwrap().unwrap().into_owned();
                let link_target = clean(&target.parent().unwrap().join(link));
                let real = match std::fs::canonicalize(&link_target) {
                    Ok(r) => r,
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => link_target.clone(),
                    Err(err) => return Err(format!("error checking symlink realpath: {err}")),
                };
                if !inbound(&real, dst) {
                    return Err(format!(
                        "illegal filepath in symlink: {}",
                        link_target.display()
                    ));
                }
                std::os::unix::fs::symlink(&real, &target).unwrap();
            }
            tar::EntryType::Regular => {
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                let mut buf = Vec::new();
                e.read_to_end(&mut buf).unwrap();
                std::fs::write(&target, buf).unwrap();
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
            _ => {}
        }
    }
    Ok(())
}

/// One Application source using the plugin.
#[derive(Clone)]
struct App {
    /// spec.source.path.
    path: String,
    /// spec.source.plugin.parameters; None sends `null` (a plugin section without any).
    params: Option<Vec<Value>>,
    /// spec.source.plugin.env.
    env: Vec<(String, String)>,
    /// reposerver.plugin.tar.exclusions.
    exclusions: Vec<&'static str>,
}

impl App {
    fn new(path: &str) -> App {
        App {
            path: path.into(),
            params: None,
            env: Vec::new(),
            exclusions: Vec::new(),
        }
    }
    fn cluster(mut self, c: &str) -> App {
        self.params
            .get_or_insert_with(Vec::new)
            .push(json!({"name": "cluster", "string": c}));
        self
    }
    fn param(mut self, p: Value) -> App {
        self.params.get_or_insert_with(Vec::new).push(p);
        self
    }
    fn without_git(mut self) -> App {
        self.exclusions.push(".git/*");
        self
    }
}

/// `escaped` in types.go.
fn escape(name: &str) -> String {
    name.chars()
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The environment `generateManifest` builds (docs/argocd.md).
fn build_env(app: &App, rev: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        // The sidecar's own environment.
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".into(), "/home/argocd".into()),
        // The build environment.
        ("ARGOCD_APP_NAME".into(), "mesh".into()),
        ("ARGOCD_APP_NAMESPACE".into(), "istio-config".into()),
        ("ARGOCD_APP_PROJECT_NAME".into(), "default".into()),
        ("ARGOCD_APP_REVISION".into(), rev.into()),
        (
            "ARGOCD_APP_REVISION_SHORT".into(),
            rev.chars().take(7).collect(),
        ),
        (
            "ARGOCD_APP_REVISION_SHORT_8".into(),
            rev.chars().take(8).collect(),
        ),
        ("ARGOCD_APP_SOURCE_PATH".into(), app.path.clone()),
        (
            "ARGOCD_APP_SOURCE_REPO_URL".into(),
            "https://git.example.com/mesh.git".into(),
        ),
        ("ARGOCD_APP_SOURCE_TARGET_REVISION".into(), "main".into()),
        ("KUBE_VERSION".into(), "1.31.0".into()),
        (
            "KUBE_API_VERSIONS".into(),
            "v1,apps/v1,networking.istio.io/v1".into(),
        ),
    ];
    for (k, v) in &app.env {
        env.push((format!("ARGOCD_ENV_{k}"), v.clone()));
    }
    match &app.params {
        None => env.push(("ARGOCD_APP_PARAMETERS".into(), "null".into())),
        Some(ps) => {
            env.push((
                "ARGOCD_APP_PARAMETERS".into(),
                Value::Array(ps.clone()).to_string(),
            ));
            for p in ps {
                let name = escape(p["name"].as_str().unwrap());
                if let Some(s) = p["string"].as_str() {
                    env.push((format!("PARAM_{name}"), s.into()));
                }
                if let Some(a) = p["array"].as_array() {
                    for (i, v) in a.iter().enumerate() {
                        env.push((format!("PARAM_{name}_{i}"), v.as_str().unwrap().into()));
                    }
                }
                if let Some(m) = p["map"].as_object() {
                    for (k, v) in m {
                        env.push((
                            format!("PARAM_{name}_{}", escape(k)),
                            v.as_str().unwrap().into(),
                        ));
                    }
                }
            }
        }
    }
    env
}

/// plugin/plugin.yaml, as the cmp-server reads it.
fn plugin_config() -> Value {
    let text = std::fs::read_to_string(root().join("plugin/plugin.yaml")).unwrap();
    let doc = meshform::yaml::parse_stream(&text, &Default::default())
        .unwrap()
        .documents
        .remove(0)
        .value
        .to_json();
    // config.go validation.
    assert_eq!(doc["kind"], "ConfigManagementPlugin");
    assert!(!doc["metadata"]["name"].as_str().unwrap().is_empty());
    assert!(!doc["spec"]["generate"]["command"]
        .as_array()
        .unwrap()
        .is_empty());
    doc
}

/// Runs a plugin command (`command` + `args`, `meshform` replaced by the built binary) in
/// `dir` under a deadline, killing it when the deadline passes (the test fails).
fn exec(cmd: &Value, dir: &Path, env: &[(String, String)], deadline: Duration) -> Run {
    let mut argv: Vec<String> = cmd["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    if let Some(a) = cmd["args"].as_array() {
        argv.extend(a.iter().map(|v| v.as_str().unwrap().to_string()));
    }
    assert_eq!(argv[0], "meshform");
    meshform()
        .args(&argv[1..])
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .timeout(deadline)
        .run()
}

/// `SplitYAMLToString` + `GenerateManifests` post-processing: documents of a YAML or JSON
/// stream, empty and null ones skipped, Lists flattened; each must be a Kubernetes object.
fn parse_manifests(stdout: &str) -> Vec<Value> {
    let docs =
        meshform::yaml::parse_stream(stdout, &Default::default()).expect("stdout is a YAML stream");
    let mut out = Vec::new();
    for d in docs.documents {
        match d.value.to_json() {
            Value::Null => {}
            Value::Object(m) if m.get("kind") == Some(&json!("List")) => {
                out.extend(m["items"].as_array().unwrap().iter().cloned());
            }
            v => out.push(v),
        }
    }
    for o in &out {
        assert!(
            o["apiVersion"].is_string() && o["kind"].is_string(),
            "not an object: {o}"
        );
    }
    out
}

/// The result of one GenerateManifest call.
struct Generated {
    /// Ok(manifests) when the command exited 0; Err(stderr) otherwise.
    result: Result<Vec<Value>, String>,
    run: Run,
}

/// GenerateManifest: tar the repo root, extract it into a fresh work dir, run init and
/// generate in the app dir with a 60 s budget (the repo-server timeout, minus 100 ms).
fn generate(repo: &Path, app: &App) -> Generated {
    let cfg = plugin_config();
    let rev = git_out(repo, &["rev-parse", "HEAD"]).unwrap_or_else(|| "0".repeat(40));
    let data = tgz(repo, &app.exclusions);
    let work = tempfile::tempdir().unwrap();
    let dst = std::fs::canonicalize(work.path())
        .unwrap()
        .join("_cmp_server")
        .join("app-1");
    std::fs::create_dir_all(&dst).unwrap();
    untgz(&dst, &data).expect("extraction");
    let app_dir = dst.join(&app.path);
    let env = build_env(app, &rev);
    let deadline = Duration::from_millis(60_000 - 100);
    if !cfg["spec"]["init"].is_null() {
        let r = exec(&cfg["spec"]["init"], &app_dir, &env, deadline);
        assert_eq!(r.code, Some(0), "init failed: {}", r.stderr);
    }
    let run = exec(&cfg["spec"]["generate"], &app_dir, &env, deadline);
    let result = if run.code == Some(0) {
        Ok(parse_manifests(&run.stdout))
    } else {
        Err(run.stderr.clone())
    };
    Generated { result, run }
}

// ---------------------------------------------------------------- fixtures

const CONFIG: &str = "apiVersion: meshform.dev/v1alpha1
kind: Config
clusters:
- name: eu
  paths: [\"clusters/eu/**\"]
  labels: {region: eu-west}
  values: {replicas: 2}
- name: us
  paths: [\"clusters/us/**\"]
  labels: {region: us-east}
  values: {replicas: 3}
- name: empty
  paths: [\"clusters/empty/**\"]
";

fn cm(name: &str, ns: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n  a: \"1\"\n")
}

/// A mesh config at `prefix` (empty for the repo root) of a git repo.
fn mesh_files(root: &Path, prefix: &str) {
    let p = |r: &str| format!("{prefix}{r}");
    write_file(root, &p("meshform.yaml"), CONFIG);
    write_file(root, &p("clusters/eu/cm.yaml"), cm("eu-only", "apps"));
    write_file(root, &p("clusters/us/cm.yaml"), cm("us-only", "apps"));
    write_file(root,
        &p("templates/settings.yaml.j2"),
        "{% if cluster.name != 'empty' %}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\n  labels:\n    region: {{ cluster.labels.region }}\ndata:\n  cluster: {{ cluster.name }}\n  replicas: \"{{ values.replicas }}\"\n  tier: {{ values.tier | default('standard') }}\n{% endif %}\n",
    );
}

fn repo_with(prefix: &str) -> TempRepo {
    let t = TempRepo::new();
    mesh_files(t.path(), prefix);
    t.git_init().commit("one");
    t.write(
        &format!("{prefix}clusters/eu/cm2.yaml"),
        cm("eu-second", "apps"),
    );
    t.commit("two");
    t
}

fn names(objs: &[Value]) -> Vec<String> {
    objs.iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

fn passthrough() -> Value {
    json!({"name": "passthrough", "string": "true"})
}

// ---------------------------------------------------------------- cases

#[test]
fn happy_path_per_cluster_with_and_without_git() {
    let repo = repo_with("");
    for (cluster, want, replicas) in [
        (
            "eu",
            vec![
                "ConfigMap/eu-only",
                "ConfigMap/eu-second",
                "ConfigMap/settings",
            ],
            "2",
        ),
        ("us", vec!["ConfigMap/settings", "ConfigMap/us-only"], "3"),
    ] {
        let app = App::new(".").cluster(cluster).param(passthrough());
        let with_git = generate(repo.path(), &app);
        let objs = with_git.result.unwrap_or_else(|e| panic!("{cluster}: {e}"));
        assert_eq!(names(&objs), want, "{cluster}");
        let settings = objs
            .iter()
            .find(|o| o["metadata"]["name"] == "settings")
            .unwrap();
        assert_eq!(settings["data"]["cluster"], cluster);
        assert_eq!(settings["data"]["replicas"], replicas);
        let without_git = generate(repo.path(), &app.clone().without_git());
        assert_eq!(without_git.run.code, Some(0), "{}", without_git.run.stderr);
        assert_eq!(
            with_git.run.stdout, without_git.run.stdout,
            "{cluster}: .git changes nothing"
        );
        // The same bytes as `meshform render` of that cluster.
        let cli = meshform()
            .args(["render", "--passthrough", "--cluster", cluster])
            .arg(repo.path())
            .run();
        assert_eq!(cli.success(), with_git.run.stdout);
    }
}

#[test]
fn cluster_from_plugin_env_and_values_parameter() {
    let repo = repo_with("");
    repo.write("values/eu.json", "{\"tier\": \"gold\", \"replicas\": 5}");
    let mut app = App::new(".")
        .param(passthrough())
        .param(json!({"name": "values", "array": ["values/eu.json"]}));
    app.env.push(("CLUSTER".into(), "eu".into()));
    let objs = generate(repo.path(), &app).result.unwrap();
    let settings = objs
        .iter()
        .find(|o| o["metadata"]["name"] == "settings")
        .unwrap();
    assert_eq!(settings["data"]["tier"], "gold");
    assert_eq!(settings["data"]["replicas"], "5");
    // A values file the loader would also read as a manifest is refused with a hint.
    repo.write("values/eu.yaml", "tier: gold\n");
    let app = App::new(".")
        .cluster("eu")
        .param(json!({"name": "values", "array": ["values/eu.yaml"]}));
    let err = generate(repo.path(), &app).result.unwrap_err();
    assert!(err.contains("*.json"), "{err}");
    std::fs::remove_file(repo.path().join("values/eu.yaml")).unwrap();
    // A values file outside the repo is refused.
    let app = App::new(".")
        .cluster("eu")
        .param(json!({"name": "values", "array": ["../../../../etc/hostname"]}));
    let g = generate(repo.path(), &app);
    assert!(g.result.is_err() && g.run.stdout.is_empty());
}

#[test]
fn bad_yaml_fails_with_file_and_line_and_no_output() {
    let repo = repo_with("");
    repo.write(
        "clusters/eu/broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n",
    );
    let g = generate(
        repo.path(),
        &App::new(".").cluster("eu").param(passthrough()),
    );
    assert_ne!(g.run.code, Some(0));
    assert!(g.run.stdout.is_empty(), "stdout: {}", g.run.stdout);
    let err = g.result.unwrap_err();
    assert!(err.contains("clusters/eu/broken.yaml:"), "{err}");
    assert!(err.contains("yaml-syntax"), "{err}");
}

#[test]
fn an_error_finding_fails_with_no_output() {
    // Until the policy engine lands, an error the loader raises: one object defined twice.
    let repo = repo_with("");
    repo.write("clusters/eu/dup.yaml", cm("eu-only", "apps"));
    let g = generate(
        repo.path(),
        &App::new(".").cluster("eu").param(passthrough()),
    );
    assert_ne!(g.run.code, Some(0));
    assert!(g.run.stdout.is_empty());
    let err = g.result.unwrap_err();
    assert!(
        err.contains("duplicate-object") && err.contains("clusters/eu/dup.yaml"),
        "{err}"
    );
    // A broken repo is broken for every cluster: no app renders from it.
    let us = generate(
        repo.path(),
        &App::new(".").cluster("us").param(passthrough()),
    );
    assert!(us.result.is_err() && us.run.stdout.is_empty());
}

#[test]
fn an_empty_render_fails_unless_allowed() {
    let repo = repo_with("");
    let g = generate(
        repo.path(),
        &App::new(".").cluster("empty").param(passthrough()),
    );
    assert_ne!(g.run.code, Some(0));
    assert!(g.run.stdout.is_empty());
    assert!(g.result.unwrap_err().contains("allow-empty"));
    let g = generate(
        repo.path(),
        &App::new(".")
            .cluster("empty")
            .param(passthrough())
            .param(json!({"name": "allow-empty", "string": "true"})),
    );
    assert_eq!(g.result.unwrap(), Vec::<Value>::new());
    // Without passthrough, only Gloo objects are rendered: nothing here yet.
    assert!(generate(repo.path(), &App::new(".").cluster("eu"))
        .result
        .is_err());
}

#[test]
fn a_missing_or_unknown_cluster_parameter_fails() {
    let repo = repo_with("");
    // `plugin: {}` without parameters: ARGOCD_APP_PARAMETERS=null.
    let g = generate(repo.path(), &App::new("."));
    assert_ne!(g.run.code, Some(0));
    assert!(g.run.stdout.is_empty());
    let err = g.result.unwrap_err();
    assert!(
        err.contains("no target cluster") && err.contains("eu, us, empty"),
        "{err}"
    );
    let err = generate(repo.path(), &App::new(".").cluster("mars"))
        .result
        .unwrap_err();
    assert!(err.contains("`mars` is not in meshform.yaml"), "{err}");
    let err = generate(
        repo.path(),
        &App::new(".")
            .cluster("eu")
            .param(json!({"name": "passthru", "string": "true"})),
    )
    .result
    .unwrap_err();
    assert!(err.contains("unknown parameter `passthru`"), "{err}");
}

#[test]
fn a_shallow_clone_renders_the_same() {
    let repo = repo_with("");
    let shallow = TempRepo::new();
    let url = format!("file://{}", repo.path().display());
    shallow.git(&["clone", "-q", "--depth", "1", &url, "c"]);
    let clone = shallow.path().join("c");
    assert_eq!(
        git_out(&clone, &["rev-parse", "--is-shallow-repository"]).as_deref(),
        Some("true")
    );
    let app = App::new(".").cluster("eu").param(passthrough());
    let a = generate(repo.path(), &app);
    let b = generate(&clone, &app);
    assert_eq!(b.run.code, Some(0), "{}", b.run.stderr);
    assert_eq!(a.run.stdout, b.run.stdout);
}

#[test]
fn a_subpath_root() {
    let repo = repo_with("deploy/mesh/");
    repo.write("README.yaml", "not: a manifest of ours\n");
    let app = App::new("deploy/mesh").cluster("us").param(passthrough());
    let top = generate(repo.path(), &app);
    assert_eq!(
        names(&top.result.unwrap()),
        ["ConfigMap/settings", "ConfigMap/us-only"]
    );
    // An app path below the meshform root (a named plugin; discovery would not match there)
    // renders the whole meshform root, never files above it.
    let below = generate(
        repo.path(),
        &App::new("deploy/mesh/clusters/us")
            .cluster("us")
            .param(passthrough()),
    );
    assert_eq!(below.run.code, Some(0), "{}", below.run.stderr);
    assert_eq!(top.run.stdout, below.run.stdout);
}

#[test]
fn symlinks_pointing_outside() {
    // Out of the tarball: the cmp-server itself refuses to extract it.
    let repo = repo_with("");
    std::os::unix::fs::symlink("/etc/hostname", repo.path().join("clusters/eu/evil.yaml")).unwrap();
    let data = tgz(repo.path(), &[]);
    let dst = tempfile::tempdir().unwrap();
    let err = untgz(&std::fs::canonicalize(dst.path()).unwrap(), &data).unwrap_err();
    assert!(err.contains("illegal filepath in symlink"), "{err}");

    // Inside the tarball but outside the meshform root: meshform refuses to read it.
    let repo = repo_with("deploy/mesh/");
    repo.write("secrets/creds.yaml", cm("leak", "apps"));
    std::os::unix::fs::symlink(
        "../../../../secrets/creds.yaml",
        repo.path().join("deploy/mesh/clusters/eu/evil.yaml"),
    )
    .unwrap();
    let g = generate(
        repo.path(),
        &App::new("deploy/mesh").cluster("eu").param(passthrough()),
    );
    assert_ne!(g.run.code, Some(0));
    assert!(g.run.stdout.is_empty());
    let err = g.result.unwrap_err();
    assert!(
        err.contains("clusters/eu/evil.yaml") && err.contains("outside the repo root"),
        "{err}"
    );
}

#[test]
fn discovery_and_dynamic_parameters() {
    let repo = repo_with("deploy/mesh/");
    let cfg = plugin_config();
    // discover.fileName is a glob relative to the app dir.
    let pattern = cfg["spec"]["discover"]["fileName"].as_str().unwrap();
    assert!(repo.path().join("deploy/mesh").join(pattern).is_file());
    let app = App::new("deploy/mesh");
    let env = build_env(&app, "0");
    let r = exec(
        &cfg["spec"]["parameters"]["dynamic"],
        &repo.path().join("deploy/mesh"),
        &env,
        Duration::from_secs(10),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let arr = v.as_array().expect("a JSON array (argo-cd#16077)");
    assert_eq!(arr[0]["name"], "cluster");
    assert_eq!(arr[0]["required"], true);
    assert!(arr[0]["tooltip"]
        .as_str()
        .unwrap()
        .contains("eu, us, empty"));
}

// ---------------------------------------------------------------- Gloo objects

/// A Gloo repo whose RouteTable host and destination come from per-cluster values.
fn gloo_repo(us_dest: &str) -> TempRepo {
    let t = TempRepo::new();
    t.write( "meshform.yaml", format!("apiVersion: meshform.dev/v1alpha1\nkind: Config\nclusters:\n- name: eu\n  values: {{host: eu.example.com}}\n- name: us\n  values: {{host: us.example.com, dest: {us_dest}}}\n"));
    t.write("workspaces.yaml", "apiVersion: admin.gloo.solo.io/v2\nkind: Workspace\nmetadata: {name: web, namespace: gloo-mesh}\nspec:\n  workloadClusters: [{name: eu, namespaces: [{name: web}]}, {name: us, namespaces: [{name: web}]}]\n");
    t.write("web/external.yaml.j2", "apiVersion: networking.gloo.solo.io/v2\nkind: ExternalService\nmetadata: {name: db, namespace: web}\nspec:\n  hosts: [db.example.com]\n  ports:\n  - {name: http, number: 80, protocol: HTTP}\n");
    t.write("web/routes.yaml.j2", "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\nmetadata: {name: web, namespace: web}\nspec:\n  hosts: [{{ values.host }}]\n  http:\n  - name: db\n    matchers: [{uri: {prefix: /db/}}]\n    forwardTo:\n      destinations:\n      - {kind: EXTERNAL_SERVICE, ref: {name: {{ values.dest | default('db') }}}, port: {number: 80}}\n");
    t.git_init().commit("gloo");
    t
}

#[test]
fn gloo_objects_render_per_cluster() {
    let repo = gloo_repo("db");
    for cluster in ["eu", "us"] {
        let g = generate(repo.path(), &App::new(".").cluster(cluster).without_git());
        let objs = g.result.unwrap_or_else(|e| panic!("{cluster}: {e}"));
        let vs: Vec<&Value> = objs
            .iter()
            .filter(|o| o["kind"] == "VirtualService")
            .collect();
        assert!(!vs.is_empty(), "{cluster}: {}", g.run.stdout);
        let host = format!("{cluster}.example.com");
        assert!(
            vs.iter().any(|v| v["spec"]["hosts"]
                .as_array()
                .unwrap()
                .contains(&json!(host))),
            "{cluster}"
        );
        assert!(
            objs.iter()
                .all(|o| o["metadata"]["annotations"]["cluster.solo.io/cluster"] == cluster),
            "{cluster}"
        );
        let cli = meshform()
            .args(["render", "--cluster", cluster])
            .arg(repo.path())
            .run();
        assert_eq!(
            cli.stdout, g.run.stdout,
            "{cluster}: render and generate differ"
        );
    }
}

#[test]
fn a_translation_error_fails_with_findings_exit_and_no_output() {
    let repo = gloo_repo("nope");
    // Only us's copy of the template names the missing destination: eu renders, and us fails.
    let eu = generate(repo.path(), &App::new(".").cluster("eu"));
    assert_eq!(eu.run.code, Some(0), "{}", eu.run.stderr);
    let g = generate(repo.path(), &App::new(".").cluster("us"));
    assert_eq!(g.run.code, Some(1), "findings exit 1: {}", g.run.stderr);
    assert!(g.run.stdout.is_empty());
    let err = g.result.unwrap_err();
    assert!(
        // One finding per problem: the references-visible policy names the broken reference.
        err.contains("routetable-references-visible")
            && err.contains("web/nope")
            && err.contains("web/routes.yaml.j2:11"),
        "{err}"
    );
}

#[test]
fn a_deny_finding_fails_with_findings_exit_and_no_output() {
    let repo = gloo_repo("db");
    repo.write("web/split.yaml", "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\nmetadata: {name: split, namespace: web}\nspec:\n  hosts: [split.example.com]\n  http:\n  - name: split\n    forwardTo:\n      destinations:\n      - {kind: EXTERNAL_SERVICE, ref: {name: db}, port: {number: 80}, weight: 100}\n      - {kind: EXTERNAL_SERVICE, ref: {name: db}, port: {number: 80}, weight: 50}\n");
    let g = generate(repo.path(), &App::new(".").cluster("eu"));
    assert_eq!(g.run.code, Some(1), "{}", g.run.stderr);
    assert!(g.run.stdout.is_empty());
    let err = g.result.unwrap_err();
    assert!(
        err.contains("routetable-weights") && err.contains("web/split.yaml:"),
        "{err}"
    );
}

// ---------------------------------------------------------------- every policy kind

/// `fixtures/features/policies-mixed` (one policy of every kind meshform renders) as a git
/// repo with one commit.
fn policies_repo() -> TempRepo {
    let t = TempRepo::copy_of(&root().join("fixtures/features/policies-mixed"));
    t.git_init().commit("policies");
    t
}

/// The route and port fields each rendered policy kind writes, found in `objs`.
fn policy_fields(objs: &[Value]) -> Vec<&'static str> {
    let routes: Vec<&Value> = objs
        .iter()
        .filter(|o| o["kind"] == "VirtualService")
        .flat_map(|o| o["spec"]["http"].as_array().into_iter().flatten())
        .collect();
    let ports: Vec<&Value> = objs
        .iter()
        .filter(|o| o["kind"] == "DestinationRule")
        .flat_map(|o| {
            o["spec"]["trafficPolicy"]["portLevelSettings"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .collect();
    let mut found = Vec::new();
    for f in [
        "retries",
        "timeout",
        "fault",
        "mirror",
        "headers",
        "corsPolicy",
    ] {
        if routes.iter().any(|r| !r[f].is_null()) {
            found.push(f);
        }
    }
    for f in ["outlierDetection", "loadBalancer", "connectionPool", "tls"] {
        if ports.iter().any(|p| !p[f].is_null()) {
            found.push(f);
        }
    }
    if ports
        .iter()
        .any(|p| !p["loadBalancer"]["localityLbSetting"].is_null())
    {
        found.push("localityLbSetting");
    }
    found
}

#[test]
fn generate_equals_render_cluster_with_every_policy_kind() {
    let repo = policies_repo();
    for app in [
        App::new(".").cluster("cluster1"),
        App::new(".").cluster("cluster1").without_git(),
    ] {
        let g = generate(repo.path(), &app);
        let objs = g.result.unwrap_or_else(|e| panic!("generate failed: {e}"));
        assert_eq!(
            policy_fields(&objs),
            [
                "retries",
                "timeout",
                "fault",
                "mirror",
                "headers",
                "corsPolicy",
                "outlierDetection",
                "loadBalancer",
                "connectionPool",
                "tls",
                "localityLbSetting"
            ],
            "{}",
            g.run.stdout
        );
        let cli = meshform()
            .args(["render", "--cluster", "cluster1"])
            .arg(repo.path())
            .run();
        assert_eq!(
            cli.success(),
            g.run.stdout,
            "render --cluster and generate differ"
        );
    }
}

#[test]
fn check_and_diff_run_clean_with_every_policy_kind() {
    let repo = policies_repo();
    meshform()
        .args(["check"])
        .arg(repo.path())
        .run()
        .exit(0)
        .stdout_has(&["0 errors, 0 warnings"]);
    // The head changes one route policy and one destination policy.
    let rt = std::fs::read_to_string(repo.join("routetable.yaml")).unwrap();
    let dst = std::fs::read_to_string(repo.join("destinations.yaml")).unwrap();
    repo.write("routetable.yaml", rt.replace("attempts: 3", "attempts: 4"));
    repo.write(
        "destinations.yaml",
        dst.replace("maxConnections: 50", "maxConnections: 60"),
    );
    repo.commit("more retries, more connections");
    let run = meshform()
        .current_dir(repo.path())
        .args([
            "diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "json",
        ])
        .run();
    let v = run.exit(0).json();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let mut changed: Vec<(String, String, Vec<String>)> = v["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| {
            let files = o["sources"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["file"].as_str().map(String::from))
                .collect();
            (
                o["kind"].as_str().unwrap_or_default().to_string(),
                o["changedPaths"].to_string(),
                files,
            )
        })
        .collect();
    changed.sort();
    // One VirtualService (every retrying route) and the ExternalService's two rules.
    assert_eq!(changed.len(), 3, "{v:#}");
    let (kind, paths, files) = &changed[2];
    assert_eq!(kind, "VirtualService");
    assert!(paths.contains("retries.attempts"), "{paths}");
    assert!(files.iter().any(|f| f == "routetable.yaml"), "{files:?}");
    for (kind, paths, files) in &changed[..2] {
        assert_eq!(kind, "DestinationRule");
        assert!(
            paths.contains("connectionPool.tcp.maxConnections"),
            "{paths}"
        );
        assert!(files.iter().any(|f| f == "destinations.yaml"), "{files:?}");
    }
}
