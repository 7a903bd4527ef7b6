//! `meshform render` end to end: git revisions, exit codes, stdout discipline, determinism,
//! out-dir layout.

mod support;
use support::{git, meshform, TempRepo};

use std::fs;
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

const ROUTES: &str = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: web, namespace: web}
spec:
  hosts: [web.example.com]
  http:
  - name: db
    matchers: [{uri: {prefix: /db/}}]
    forwardTo:
      pathRewrite: /
      destinations:
      - {kind: EXTERNAL_SERVICE, ref: {name: db}, port: {number: 80}}
";

fn repo() -> TempRepo {
    TempRepo::with([
        ("workspaces.yaml", WORKSPACE),
        ("web/external.yaml", EXTERNAL),
        ("web/routes.yaml", ROUTES),
    ])
}

/// `meshform render DIR EXTRA...`: exit code, stdout, stderr.
fn render(dir: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let r = meshform().arg("render").arg(dir).args(extra).run();
    (r.code, r.stdout, r.stderr)
}

#[test]
fn renders_the_route_to_an_external_service() {
    let d = repo();
    let (code, out, err) = render(d.path(), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("kind: ServiceEntry"), "{out}");
    assert!(
        out.contains("name: routetable-web-web-cluster1-web"),
        "{out}"
    );
    assert!(out.contains("prefix: /db/"));
    assert!(
        out.contains("uri: /"),
        "pathRewrite becomes rewrite.uri: {out}"
    );
    assert!(out.contains("gateways:\n  - mesh"), "{out}");
}

#[test]
fn rev_reads_the_object_database_and_equals_a_checkout() {
    let d = repo();
    git(d.path(), &["init", "-q"]);
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-qm", "one"]);
    // A second commit changes the route and adds an ignored file and a hidden directory.
    d.write("web/routes.yaml", ROUTES.replace("/db/", "/database/"));
    d.write(".gitignore", "ignored/\n");
    d.write(".hidden/x.yaml", "not: [valid");
    d.write("ignored/x.yaml", "not: [valid");
    git(d.path(), &["add", "-A", "-f"]);
    git(d.path(), &["commit", "-qm", "two"]);
    // The working tree now differs from both commits.
    d.write("web/routes.yaml", ROUTES.replace("/db/", "/working-tree/"));

    let (code, from_rev, err) = render(d.path(), &["--rev", "HEAD~1"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(from_rev.contains("prefix: /db/"));

    let checkout = TempRepo::new();
    let wt = checkout.path().join("wt");
    git(
        d.path(),
        &[
            "worktree",
            "add",
            "-q",
            wt.to_str().expect("utf8"),
            "HEAD~1",
        ],
    );
    let (code, from_checkout, err) = render(&wt, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(from_rev, from_checkout);

    // HEAD: ignored and hidden files are skipped in the object database too.
    let (code, head, err) = render(d.path(), &["--rev", "HEAD"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(head.contains("prefix: /database/"));
    let wt2 = checkout.path().join("wt2");
    git(
        d.path(),
        &["worktree", "add", "-q", wt2.to_str().expect("utf8"), "HEAD"],
    );
    assert_eq!(head, render(&wt2, &[]).1);

    let (code, out, err) = render(d.path(), &["--rev", "no-such-branch"]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert!(err.contains("unknown revision `no-such-branch`"), "{err}");
}

#[test]
fn rev_outside_a_git_repository_is_a_clear_error() {
    let d = repo();
    let (code, out, err) = render(d.path(), &["--rev", "HEAD"]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert!(err.contains("is not in a git repository"), "{err}");
}

/// A missing or non-directory PATH names the path in the message, not as a file:line of the
/// repo (there is no such file to point into).
#[test]
fn a_missing_path_is_named_plainly() {
    let d = repo();
    let missing = d.path().join("nope");
    let (code, out, err) = render(&missing, &[]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    let want = format!("error[io]: cannot read the repo at {}: ", missing.display());
    assert!(err.starts_with(&want), "{err}");
    assert!(
        !err.contains("-->"),
        "no location for the repo itself: {err}"
    );
    let file = d.path().join("workspaces.yaml");
    let (code, _, err) = render(&file, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(&format!("{} is not a directory", file.display())),
        "{err}"
    );
    let (code, _, err) = render(&missing, &["--rev", "HEAD"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("cannot read the repo at"), "{err}");
}

#[test]
fn a_type_error_names_file_line_column_object_and_field_and_prints_nothing() {
    let d = repo();
    d.write(
        "web/external.yaml",
        EXTERNAL.replace(
            "  - {name: http, number: 80, protocol: HTTP}\n",
            "  - {name: http, number: 80, protocol: HTTP}\n  - {name: https, number: http}\n",
        ),
    );
    let (code, out, err) = render(d.path(), &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty(), "nothing on stdout on error: {out}");
    assert!(
        err.contains("spec.ports[1].number: expected an integer, found \"http\""),
        "{err}"
    );
    assert!(err.contains("--> web/external.yaml:8:27"), "{err}");
    assert!(
        err.contains("8 |   - {name: https, number: http}"),
        "source line shown: {err}"
    );
    assert!(err.contains("ExternalService web/db"), "{err}");

    // The same source line whether the input is the working tree or a revision read from
    // git, and from `check` as from `render`.
    git(d.path(), &["init", "-q"]);
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-qm", "broken"]);
    for (cmd, extra) in [
        ("render", &["--rev", "HEAD"][..]),
        ("check", &[][..]),
        ("check", &["--rev", "HEAD"][..]),
    ] {
        let out = meshform().arg(cmd).arg(d.path()).args(extra).run();
        let err = &out.stderr;
        assert_eq!(out.code, Some(2), "{cmd} {extra:?}: {err}");
        assert!(out.stdout.is_empty(), "{cmd} {extra:?}: nothing on stdout");
        assert!(
            err.contains("--> web/external.yaml:8:27"),
            "{cmd} {extra:?}: {err}"
        );
        assert!(
            err.contains("8 |   - {name: https, number: http}"),
            "{cmd} {extra:?}: source line shown: {err}"
        );
    }
}

#[test]
fn every_problem_of_the_run_is_reported() {
    let d = repo();
    d.write("a.yaml", "a: [1\n");
    d.write("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n");
    let (code, out, err) = render(d.path(), &[]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert!(err.contains("a.yaml:1:4"), "{err}");
    assert!(err.contains("b.yaml:1:1"), "{err}");
    assert!(err.contains("metadata.name"), "{err}");
}

#[test]
fn an_unresolved_destination_is_an_error_at_the_route_table() {
    let d = repo();
    d.write(
        "web/routes.yaml",
        ROUTES.replace("ref: {name: db}", "ref: {name: nope}"),
    );
    let (code, out, err) = render(d.path(), &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty());
    // Reported once, by the references-visible policy, at the reference itself.
    assert!(
        err.contains("error[routetable-references-visible]"),
        "{err}"
    );
    assert!(err.contains("EXTERNAL_SERVICE web/nope"), "{err}");
    assert!(err.contains("--> web/routes.yaml:12:"), "{err}");
    assert_eq!(
        err.matches("error[").count(),
        1,
        "one problem, one finding: {err}"
    );
}

#[test]
fn output_is_identical_whatever_the_thread_count_or_file_layout() {
    let d = repo();
    let one = meshform()
        .env("RAYON_NUM_THREADS", "1")
        .arg("render")
        .arg(d.path())
        .run();
    let four = meshform()
        .env("RAYON_NUM_THREADS", "4")
        .arg("render")
        .arg(d.path())
        .run();
    assert_eq!(one.code, Some(0));
    assert_eq!(one.stdout, four.stdout);
    // The same objects in one file, in another order, render the same bytes.
    let e = TempRepo::new();
    e.write(
        "all.yaml",
        format!("{ROUTES}---\n{EXTERNAL}---\n{WORKSPACE}"),
    );
    let other = meshform().arg("render").arg(e.path()).run();
    assert_eq!(one.stdout, other.stdout);
}

#[test]
fn json_output_is_an_array_of_the_same_objects() {
    let d = repo();
    let (code, out, _) = render(d.path(), &["-o", "json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let kinds: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|o| o["kind"].as_str())
        .collect();
    assert_eq!(kinds, vec!["ServiceEntry", "VirtualService"]);
}

#[test]
fn out_dir_writes_files_and_kustomizations_and_replaces_the_old_content() {
    let d = repo();
    let out = TempRepo::new();
    let dir = out.path().join("rendered");
    let arg = ["--out-dir", dir.to_str().expect("utf8")];
    let (code, stdout, err) = render(d.path(), &arg);
    assert_eq!(code, Some(0), "{err}");
    assert!(stdout.is_empty());
    assert!(dir.join(".meshform-out").is_file(), "marked as meshform's");
    fs::create_dir_all(dir.join("stale")).expect("mkdir");
    fs::write(dir.join("stale/old.yaml"), "x").expect("write");
    let (code, _, err) = render(d.path(), &arg);
    assert_eq!(code, Some(0), "{err}");
    assert!(!dir.join("stale").exists(), "old content replaced");
    let k = fs::read_to_string(dir.join("cluster1/kustomization.yaml")).expect("kustomization");
    assert!(
        k.contains("web/serviceentry-externalservice-db-web-cluster1-web.yaml"),
        "{k}"
    );
    assert!(dir
        .join("cluster1/web/virtualservice-routetable-web-web-cluster1-web.yaml")
        .exists());
}

/// `--out-dir` replaces a whole directory, so a directory meshform did not write (or a file)
/// is refused and left as it was: a mistyped `--out-dir .` must not wipe a source tree.
#[test]
fn an_empty_render_is_an_error_unless_allowed() {
    let r = TempRepo::new();
    r.write("notes/readme.yaml", "# nothing here\n");
    // An object, so the path has manifests, but none that renders without --passthrough.
    r.write(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: web}\n",
    );
    let out = r.path().join("out");
    let run = meshform().arg("render").arg(r.path()).run();
    run.fails(1, &["error[empty-render]", "cluster1", "--allow-empty"]);
    let run = meshform()
        .arg("render")
        .arg(r.path())
        .arg("--out-dir")
        .arg(&out)
        .run();
    run.fails(1, &["error[empty-render]"]);
    assert!(!out.exists(), "nothing is written");
    let run = meshform()
        .arg("render")
        .arg(r.path())
        .arg("--allow-empty")
        .run();
    assert_eq!(run.success(), "");
}

#[test]
fn an_output_format_with_out_dir_is_a_usage_error() {
    let r = repo();
    let out = r.path().join("out");
    for format in ["json", "yaml"] {
        let run = meshform()
            .arg("render")
            .arg(r.path())
            .args(["-o", format, "--out-dir"])
            .arg(&out)
            .run();
        run.input_error(&["cannot be used with", "--out-dir"]);
        assert!(!out.exists(), "nothing is written");
    }
}

#[test]
fn out_dir_refuses_what_meshform_did_not_write() {
    let d = repo();
    let out = TempRepo::new();
    let mine = out.path().join("notes");
    fs::create_dir_all(&mine).expect("mkdir");
    fs::write(mine.join("todo.txt"), "keep me").expect("write");
    let (code, stdout, err) = render(d.path(), &["--out-dir", mine.to_str().expect("utf8")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(stdout.is_empty());
    assert!(
        err.contains("was not written by meshform (no .meshform-out file)"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(mine.join("todo.txt")).expect("kept"),
        "keep me"
    );
    let file = out.path().join("meshform.yaml");
    fs::write(&file, "apiVersion: meshform.dev/v1alpha1\n").expect("write");
    let (code, _, err) = render(d.path(), &["--out-dir", file.to_str().expect("utf8")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("exists and is not a directory"), "{err}");
    assert!(file.is_file(), "the file is left as it was");
    let leftovers: Vec<_> = fs::read_dir(out.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "no staging directories left: {leftovers:?}"
    );
    let empty = out.path().join("empty");
    fs::create_dir_all(&empty).expect("mkdir");
    let (code, _, err) = render(d.path(), &["--out-dir", empty.to_str().expect("utf8")]);
    assert_eq!(code, Some(0), "an empty directory is fine: {err}");
}

/// An out-dir inside the repo is meshform's output, not its input: rendering again (from the
/// working tree or from a commit that holds the out-dir) reads the same sources and gives the
/// same output, passthrough included.
#[test]
fn an_out_dir_inside_the_repo_is_not_read_back() {
    let d = repo();
    let (_, before, _) = render(d.path(), &["--passthrough"]);
    let out = d.path().join("rendered");
    let arg = ["--passthrough", "--out-dir", out.to_str().expect("utf8")];
    for _ in 0..2 {
        let (code, _, err) = render(d.path(), &arg);
        assert_eq!(code, Some(0), "{err}");
    }
    assert!(out.join("cluster1/kustomization.yaml").is_file());
    let (code, after, err) = render(d.path(), &["--passthrough"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(after, before);
    git(d.path(), &["init", "-q"]);
    git(d.path(), &["add", "-A", "-f"]);
    git(d.path(), &["commit", "-qm", "with the output"]);
    let (code, from_rev, err) = render(d.path(), &["--passthrough", "--rev", "HEAD"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(from_rev, before);
    // Pointed at the out-dir itself, meshform reads it (it is the root, not a part of it).
    let (code, own, err) = render(&out, &["--passthrough"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(own.contains("kind: ServiceEntry"), "{own}");
}

#[test]
fn cluster_selection_and_istio_api_version() {
    let d = repo();
    d.write("meshform.yaml", "apiVersion: meshform.dev/v1alpha1\nkind: Config\nclusters: [{name: cluster1}, {name: cluster2}]\n");
    // Nothing lives in cluster2: an empty render is refused unless allowed.
    let (code, out, err) = render(d.path(), &["--cluster", "cluster2"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        out.is_empty() && err.contains("cluster cluster2 renders no objects"),
        "{err}"
    );
    let (code, out, err) = render(d.path(), &["--cluster", "cluster2", "--allow-empty"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.is_empty(), "{out}");
    let (_, out, _) = render(d.path(), &["--cluster", "cluster1"]);
    assert!(out.contains("kind: VirtualService"));
    let (_, out, _) = render(
        d.path(),
        &["--istio-api", "v1beta1", "--cluster", "cluster1"],
    );
    assert!(out.contains("apiVersion: networking.istio.io/v1beta1"));
}

/// An unknown `--cluster` would render an empty stream (which Argo CD reads as "prune
/// everything"): it is a usage error, for render and check alike, with or without meshform.yaml.
#[test]
fn an_unknown_cluster_is_a_usage_error() {
    let d = repo();
    let (code, out, err) = render(d.path(), &["--cluster", "a", "--cluster", "b"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("cluster `b` is not this repo's"), "{err}");
    d.write("meshform.yaml", "apiVersion: meshform.dev/v1alpha1\nkind: Config\nclusters: [{name: cluster1}, {name: cluster2}]\n");
    let (code, out, err) = render(d.path(), &["--cluster", "nope"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("error[unknown-cluster]: cluster `nope` is not in meshform.yaml (clusters: cluster1, cluster2)"),
        "{err}"
    );
    let check = meshform()
        .args(["check", "--cluster", "nope"])
        .arg(d.path())
        .run();
    assert_eq!(check.code, Some(2));
    assert!(check.stdout.is_empty());
    assert!(check.stderr.contains("unknown-cluster"));
}

#[test]
fn usage_errors_exit_2() {
    let out = meshform().args(["render", "--no-such-flag"]).run();
    assert_eq!(out.code, Some(2));
    assert!(out.stdout.is_empty());
    let out = meshform().arg("--help").run();
    assert_eq!(out.code, Some(0));
}

/// Gloo's name pattern `externalservice-<es>-<esNs>-<esCluster>-<ws>` (docs/translation.md,
/// "Names that Gloo hashes") gives `foo` in `bar-baz` and `foo-bar` in `baz` the same ServiceEntry name; each is
/// placed in every namespace of the workspace, so two different objects share one identity.
#[test]
fn two_sources_rendering_one_identity_is_an_error_naming_both() {
    let d = TempRepo::new();
    d.write(
        "workspaces.yaml",
        "apiVersion: admin.gloo.solo.io/v2
kind: Workspace
metadata: {name: ws, namespace: gloo-mesh}
spec:
  workloadClusters: [{name: cluster1, namespaces: [{name: bar-baz}, {name: baz}]}]
",
    );
    let es = |name: &str, ns: &str, host: &str| {
        format!(
            "apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {{name: {name}, namespace: {ns}}}
spec:
  hosts: [{host}]
  ports:
  - {{name: http, number: 80, protocol: HTTP}}
"
        )
    };
    d.write("a.yaml", es("foo", "bar-baz", "a.example.com"));
    d.write("b.yaml", es("foo-bar", "baz", "b.example.com"));
    let (code, stdout, stderr) = render(d.path(), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("output-collision"), "{stderr}");
    assert!(
        stderr.contains("ServiceEntry baz/externalservice-foo-bar-baz-cluster1-ws"),
        "{stderr}"
    );
    // Both places are named: the later source, and the earlier as related.
    assert!(
        stderr.contains("a.yaml") && stderr.contains("b.yaml"),
        "{stderr}"
    );
    // check keeps no rendered objects, only a fingerprint of each: the same error.
    let out = meshform()
        .args(["check", "--format", "json"])
        .arg(d.path())
        .run();
    assert_eq!(out.code, Some(1));
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let collisions = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["policy"] == "output-collision")
        .count();
    // One per namespace of the workspace.
    assert_eq!(collisions, 2, "{json}");
}

const VD_SERVICE: &str = "apiVersion: v1
kind: Service
metadata: {name: api, namespace: web, labels: {app: api}}
spec:
  selector: {app: api}
  ports: [{name: http, port: 8080, targetPort: 8080}]
";

const VD: &str = "apiVersion: networking.gloo.solo.io/v2
kind: VirtualDestination
metadata: {name: api, namespace: web}
spec:
  hosts: [api.global]
  services: [{labels: {app: api}}]
  ports:
  - {number: 80, protocol: HTTP, targetPort: {name: http}}
";

fn vd_repo(vd: &str) -> TempRepo {
    TempRepo::with([
        ("workspaces.yaml", WORKSPACE),
        ("web/service.yaml", VD_SERVICE),
        ("web/vd.yaml", vd),
    ])
}

#[test]
fn a_virtual_destination_target_port_is_where_its_backends_receive() {
    for target in ["{name: http}", "{number: 8080}"] {
        let d = vd_repo(&VD.replace("{name: http}", target));
        meshform().arg("render").arg(d.path()).run().stdout_has(&[
            "name: http-80\n    number: 80\n    protocol: HTTP\n    targetPort: 8080\n",
        ]);
    }
}

#[test]
fn a_virtual_destination_target_port_no_backing_service_has_is_an_error_at_it() {
    let d = vd_repo(&VD.replace("{name: http}", "{name: grpc}"));
    meshform().arg("render").arg(d.path()).run().fails(
        1,
        &[
            "error[target-port-unresolved]",
            "backing Service web/api (cluster cluster1) has no port named `grpc`",
            "--> web/vd.yaml:8:53",
            "set targetPort to one of its ports: 8080 (http)",
        ],
    );
    // Unset, targetPort is the port's number, which the Service must have too.
    let d = vd_repo(&VD.replace(", targetPort: {name: http}", ""));
    meshform().arg("render").arg(d.path()).run().fails(
        1,
        &[
            "error[target-port-unresolved]",
            "has no port 80",
            "--> web/vd.yaml:8:14",
        ],
    );
}

#[test]
fn a_virtual_destination_target_port_without_backends_is_an_error_at_it() {
    let d = vd_repo(&VD.replace("services: [{labels: {app: api}}]", "services: []"));
    meshform().arg("render").arg(d.path()).run().fails(
        1,
        &[
            "error[target-port-without-backends]",
            "--> web/vd.yaml:8:46",
            "remove targetPort",
        ],
    );
}
