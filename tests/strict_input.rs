//! Strict input, one table for every front end (docs/config.md "Strictness").
//!
//! Each case changes the bundled `fixtures/external-services` repo the way a user's mistake
//! would, and runs it through `render`, `check`, `diff` (the mistake as a new commit),
//! `argocd generate` and `krm`. All five must agree: the same exit code, the same finding,
//! and nothing on stdout when the run fails (Argo CD and Flux prune what a render leaves out).

mod support;
use support::{meshform, root, Run, TempRepo};

use serde_json::{json, Value};

/// A change to the fixture repo.
enum Edit {
    /// Replace the first `from` in a file with `to`.
    Replace(&'static str, &'static str, &'static str),
    /// Add (or overwrite) a file.
    Write(&'static str, &'static str),
    /// Remove a file.
    Remove(&'static str),
}

/// One mistake and what every front end must say about it.
struct Case {
    name: &'static str,
    edits: &'static [Edit],
    /// The exit code of every front end.
    exit: i32,
    /// Text every front end's stderr holds.
    says: &'static [&'static str],
    /// `file:line:col` (or `file:line`) the file-based front ends point at; krm's items carry
    /// their own paths but not the repo's line numbers.
    at: Option<&'static str>,
}

const ES: &str = "externalservices.yaml";
const RT: &str = "routetable.yaml";

const CASES: &[Case] = &[
    Case {
        name: "the fixture as it is",
        edits: &[],
        exit: 0,
        says: &[],
        at: None,
    },
    // Kinds.
    Case {
        name: "a misspelled kind",
        edits: &[Edit::Replace(ES, "kind: ExternalService", "kind: ExternalServise")],
        exit: 2,
        says: &["error[unknown-kind]", "did you mean `ExternalService`?"],
        at: Some("externalservices.yaml:3:7"),
    },
    Case {
        name: "a version Gloo does not serve",
        edits: &[Edit::Replace(
            ES,
            "networking.gloo.solo.io/v2",
            "networking.gloo.solo.io/v1",
        )],
        exit: 2,
        says: &["Gloo serves ExternalService as `networking.gloo.solo.io/v2`"],
        at: Some("externalservices.yaml:2:13"),
    },
    Case {
        name: "a Gloo kind meshform does not translate",
        edits: &[Edit::Write("ratelimit.yaml", RATE_LIMIT)],
        exit: 2,
        says: &[
            "error[kind-not-translated]",
            "the output would lack the EnvoyFilter for rate limiting",
        ],
        at: Some("ratelimit.yaml:2:7"),
    },
    Case {
        name: "a Gloo kind meshform does not translate, accepted in meshform.yaml",
        edits: &[
            Edit::Write("ratelimit.yaml", RATE_LIMIT),
            Edit::Replace(
                "meshform.yaml",
                "defaultCluster: cluster1",
                "defaultCluster: cluster1\naccept:\n  kinds: [RateLimitPolicy]",
            ),
        ],
        exit: 0,
        says: &["kind-not-translated"],
        at: None,
    },
    Case {
        name: "a Gloo kind that makes no routing objects",
        edits: &[Edit::Write("cluster.yaml", CLUSTER)],
        exit: 0,
        says: &[],
        at: None,
    },
    // Fields.
    Case {
        name: "a misspelled field",
        edits: &[Edit::Replace(RT, "pathRewrite: /", "pathRewite: /")],
        exit: 2,
        says: &["error[unknown-field]", "did you mean `pathRewrite`?"],
        at: Some("routetable.yaml:13:"),
    },
    Case {
        name: "a field meshform does not translate",
        edits: &[Edit::Replace(
            RT,
            "  hosts: [www.example.com]",
            "  applyToDestinations: [{selector: {labels: {app: db}}}]\n  hosts: [www.example.com]",
        )],
        exit: 2,
        says: &[
            "error[unsupported-field]",
            "is not supported yet: its effect would be missing from the output",
        ],
        at: Some("routetable.yaml:6:3"),
    },
    Case {
        name: "a misspelled enum value",
        edits: &[Edit::Replace(
            RT,
            "  hosts: [www.example.com]",
            "  failureMode: FREEZE_CONFG\n  hosts: [www.example.com]",
        )],
        exit: 2,
        says: &["error[unknown-value]", "did you mean `FREEZE_CONFIG`?"],
        at: Some("routetable.yaml:6:16"),
    },
    Case {
        name: "a FaultInjectionPolicy selecting routes by a misspelled destination field",
        edits: &[Edit::Write("fault.yaml", FAULT)],
        exit: 2,
        says: &["error[unknown-field]", "did you mean `selector`?"],
        at: Some("fault.yaml:6:"),
    },
    // Clusters.
    Case {
        name: "a reference to a cluster meshform.yaml does not declare",
        edits: &[Edit::Replace(RT, "cluster: cluster1}", "cluster: cluster9}")],
        exit: 2,
        says: &[
            "error[undeclared-cluster]",
            "cluster `cluster9` is not declared in meshform.yaml (clusters: cluster1)",
        ],
        at: Some("routetable.yaml:7:"),
    },
    // Nothing to render.
    Case {
        name: "no manifests at all",
        edits: &[
            Edit::Remove(ES),
            Edit::Remove(RT),
            Edit::Remove("gateway.yaml"),
            Edit::Remove("workspaces.yaml"),
        ],
        exit: 2,
        says: &["error[no-manifests]"],
        at: None,
    },
    // Findings at the field.
    Case {
        name: "a wildcard host on a table bound to the sidecars",
        edits: &[Edit::Replace(
            RT,
            "  hosts: [www.example.com]\n  virtualGateways: [{name: istio-ingressgateway, namespace: istio-gateways, cluster: cluster1}]\n",
            "  hosts: ['*']\n",
        )],
        exit: 1,
        says: &["error[wildcard-host]", "httpbin.org"],
        at: Some("routetable.yaml:6:"),
    },
    Case {
        name: "a TCP port of an ExternalService with two hosts",
        edits: &[Edit::Write("tcp.yaml", TCP)],
        exit: 1,
        says: &["error[istio-port]"],
        at: Some("tcp.yaml:8:"),
    },
];

const RATE_LIMIT: &str = "apiVersion: trafficcontrol.policy.gloo.solo.io/v2
kind: RateLimitPolicy
metadata: {name: ratelimit, namespace: app}
spec:
  applyToRoutes: [{route: {labels: {ratelimited: \"true\"}}}]
";

/// Routes selected by their destinations, which meshform does not translate.
const FAULT: &str = "apiVersion: resilience.policy.gloo.solo.io/v2
kind: FaultInjectionPolicy
metadata: {name: slow, namespace: app}
spec:
  applyToRoutes:
  - withDestinations: {selektor: {name: web}}
  config: {delay: {fixedDelay: 2s}}
";

const CLUSTER: &str = "apiVersion: admin.gloo.solo.io/v2
kind: KubernetesCluster
metadata: {name: cluster1, namespace: gloo-mesh}
spec: {clusterDomain: cluster.local}
";

/// Two hosts and a TCP port: Istio needs addresses to tell the hosts apart on one port.
const TCP: &str = "apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: brokers, namespace: app}
spec:
  hosts: [kafka-1.example.com, kafka-2.example.com]
  ports:
  - name: kafka
    protocol: TCP
    number: 9092
";

/// The fixture repo with a case's edits, as a git repo whose HEAD~1 is the fixture itself.
fn repo_for(case: &Case) -> TempRepo {
    let t = TempRepo::copy_of(&root().join("fixtures/external-services"));
    t.git_init();
    t.commit("fixture");
    for e in case.edits {
        match e {
            Edit::Replace(file, from, to) => {
                let text = std::fs::read_to_string(t.join(file)).expect("fixture file");
                assert!(text.contains(from), "{}: {file} lacks {from:?}", case.name);
                t.write(file, text.replacen(from, to, 1));
            }
            Edit::Write(file, text) => {
                t.write(file, text);
            }
            Edit::Remove(file) => t.remove(file),
        }
    }
    t.git(&["add", "-A"]);
    t.git(&["commit", "-q", "--allow-empty", "-m", case.name]);
    t
}

/// The repo's objects as a KRM ResourceList, meshform.yaml as the functionConfig's config.
fn resource_list(t: &TempRepo) -> String {
    let mut items = Vec::new();
    let mut config = Value::Null;
    let mut files: Vec<_> = support::walk(t.path())
        .into_iter()
        .filter(|p| !p.components().any(|c| c.as_os_str() == ".git"))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for path in files {
        let rel = path
            .strip_prefix(t.path())
            .expect("inside")
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(&path).expect("read");
        let docs = meshform::yaml::parse_stream(&text, &Default::default())
            .expect("the cases are YAML")
            .documents;
        for (i, d) in docs.into_iter().enumerate() {
            let mut v = d.value.to_json();
            if rel == "meshform.yaml" {
                config = v;
                continue;
            }
            if !v.is_object() {
                continue;
            }
            let annotations = &mut v["metadata"]["annotations"];
            if !annotations.is_object() {
                *annotations = json!({});
            }
            annotations["config.kubernetes.io/path"] = json!(rel);
            annotations["internal.config.kubernetes.io/path"] = json!(rel);
            annotations["config.kubernetes.io/index"] = json!(i.to_string());
            items.push(v);
        }
    }
    let mut spec = json!({"cluster": "cluster1"});
    if !config.is_null() {
        spec["config"] = config;
    }
    json!({
        "apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items,
        "functionConfig": {"apiVersion": "meshform.dev/v1alpha1", "kind": "Render",
            "metadata": {"name": "render"}, "spec": spec},
    })
    .to_string()
}

/// Every front end's run of one case.
fn runs(t: &TempRepo) -> Vec<(&'static str, Run)> {
    let dir = t.path();
    vec![
        ("render", meshform().arg("render").arg(dir).run()),
        ("check", meshform().arg("check").arg(dir).run()),
        (
            "diff",
            meshform()
                .args(["diff", "--base", "HEAD~1", "--head", "HEAD"])
                .arg(dir)
                .run(),
        ),
        (
            "argocd generate",
            meshform()
                .args(["argocd", "generate"])
                .current_dir(dir)
                .env("ARGOCD_APP_NAME", "mesh")
                .env("ARGOCD_APP_SOURCE_PATH", ".")
                .env("ARGOCD_ENV_CLUSTER", "cluster1")
                .run(),
        ),
        ("krm", meshform().arg("krm").stdin(resource_list(t)).run()),
    ]
}

/// The exit code `front` gives for a case whose verdict is `exit`: `diff` compares two
/// revisions, so a head that renders with errors is a difference it reports (its findings are
/// listed as added), exit 0 as `kubectl diff` without `--exit-code` (docs/ci.md).
fn exit_of(front: &str, exit: i32) -> i32 {
    if front == "diff" && exit == 1 {
        0
    } else {
        exit
    }
}

/// True when `front` prints its report on stdout even on findings: `check` and `diff` print
/// findings, the others print objects to apply.
fn reports(front: &str) -> bool {
    front == "check" || front == "diff"
}

#[test]
fn every_front_end_agrees_on_every_case() {
    let mut failures = Vec::new();
    for case in CASES {
        let t = repo_for(case);
        for (front, run) in runs(&t) {
            let mut problems = Vec::new();
            let exit = exit_of(front, case.exit);
            if run.code != Some(exit) {
                problems.push(format!("exit {:?}, expected {exit}", run.code));
            }
            // check and diff report findings on stdout; krm answers an error with a
            // ResourceList of results and no items.
            let reported = (case.exit == 1 && reports(front))
                || (front == "krm" && run.stdout.contains("items: []"));
            if case.exit != 0 && !run.stdout.is_empty() && !reported {
                problems.push("stdout is not empty".to_string());
            }
            // Errors go to stderr; check and diff report findings on stdout, and krm returns
            // warnings as the ResourceList's results.
            let said = format!("{}{}", run.stdout, run.stderr);
            for needle in case.says {
                if !said.contains(needle) {
                    problems.push(format!("the output lacks {needle:?}"));
                }
            }
            if let Some(at) = case.at.filter(|_| front != "krm") {
                if !said.contains(at) {
                    problems.push(format!("the output lacks the place {at:?}"));
                }
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{} / {front}: {}\n{}",
                    case.name,
                    problems.join("; "),
                    run.transcript()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
