//! Route policies select routes by effective labels (the route's, its table's, then those of
//! the routes and tables delegating to it), by namespace, cluster and workspace, or every route
//! of their workspace; of several policies of one kind on a route the oldest applies, with a
//! warning (docs/translation.md#policies).

mod support;
use support::{copy_tree, meshform, redact, root, TempRepo};

const WORKSPACES: &str = "apiVersion: admin.gloo.solo.io/v2
kind: Workspace
metadata: {name: app, namespace: gloo-mesh}
spec:
  workloadClusters:
  - name: cluster1
    namespaces: [{name: app}, {name: istio-gateways}]
---
apiVersion: admin.gloo.solo.io/v2
kind: WorkspaceSettings
metadata: {name: app, namespace: app}
spec: {}
---
apiVersion: admin.gloo.solo.io/v2
kind: Workspace
metadata: {name: other, namespace: gloo-mesh}
spec:
  workloadClusters:
  - name: cluster1
    namespaces: [{name: other}]
---
apiVersion: admin.gloo.solo.io/v2
kind: WorkspaceSettings
metadata: {name: other, namespace: other}
spec: {}
";

const TABLES: &str = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: shop, namespace: app, labels: {tier: front}}
spec:
  hosts: [www.example.com]
  virtualGateways: [{name: ingress, namespace: istio-gateways}]
  http:
  - name: api
    labels: {tier: back}
    matchers: [{uri: {prefix: /api}}]
    delegate:
      routeTables: [{labels: {parent: shop}}]
  - name: home
    forwardTo: {destinations: [{ref: {name: web}, port: {number: 8080}}]}
---
apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: users, namespace: app, labels: {parent: shop}}
spec:
  http:
  - name: user
    matchers: [{uri: {prefix: /api/users}}]
    forwardTo: {destinations: [{ref: {name: api}, port: {number: 8080}}]}
---
apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: other, namespace: other, labels: {tier: front}}
spec:
  hosts: [other.other.svc.cluster.local]
  http:
  - name: other
    forwardTo: {destinations: [{ref: {name: other}, port: {number: 8080}}]}
";

/// A FaultInjectionPolicy `name` in `app` aborting with `status`; `extra` goes under metadata
/// and `select` under spec.
fn policy(name: &str, status: u32, extra: &str, select: &str) -> String {
    format!(
        "apiVersion: resilience.policy.gloo.solo.io/v2
kind: FaultInjectionPolicy
metadata:
  name: {name}
  namespace: app{extra}
spec:{select}
  config: {{abort: {{httpStatus: {status}}}}}
"
    )
}

fn repo(policies: &[String]) -> TempRepo {
    let d = TempRepo::new();
    copy_tree(&root().join("fixtures/features/delegation-regex"), d.path());
    d.write("workspace.yaml", WORKSPACES);
    d.write("routetables.yaml", TABLES);
    d.write("policies.yaml", policies.join("---\n"));
    d
}

/// The abort status of each named route of the rendered VirtualServices (0: no fault).
fn aborts(out: &str) -> Vec<(String, u64)> {
    let mut v = Vec::new();
    for doc in out.split("\n---\n") {
        let y: serde_json::Value = serde_saphyr::from_str(doc).expect("rendered YAML");
        for r in y["spec"]["http"].as_array().into_iter().flatten() {
            let status = r["fault"]["abort"]["httpStatus"].as_u64().unwrap_or(0);
            v.push((r["name"].as_str().unwrap_or_default().to_string(), status));
        }
    }
    v.sort();
    v
}

fn render(d: &TempRepo) -> support::Run {
    meshform().arg("render").arg(d.path()).run()
}

#[test]
fn labels_come_from_the_route_its_table_and_the_delegating_route_nearest_first() {
    let d = repo(&[
        policy(
            "front",
            501,
            "",
            "\n  applyToRoutes: [{route: {labels: {tier: front}}}]",
        ),
        policy(
            "back",
            502,
            "",
            "\n  applyToRoutes: [{route: {labels: {tier: back}}}]",
        ),
        policy(
            "child",
            503,
            "",
            "\n  applyToRoutes: [{route: {labels: {parent: shop}}}]",
        ),
    ]);
    let r = render(&d);
    // `home` has its table's tier: front. `user` inherits tier: back from the delegating route
    // `api`, which beats the parent table's tier: front; its own table's parent: shop selects it
    // for `child` too, and `back` < `child` by name: `back` applies, `child` is reported.
    // The `other` table is in another workspace: no policy of `app` reaches it.
    assert_eq!(
        aborts(r.success()),
        vec![
            ("home-shop".to_string(), 501),
            ("other-other".to_string(), 0),
            (
                "user-users.app.cluster1--shop.app.cluster1".to_string(),
                502
            ),
        ]
    );
    r.stderr_has(&[
        "warning[policy-conflict]",
        "FaultInjectionPolicy app/child and app/back both select route",
        "--> policies.yaml:",
    ]);
}

#[test]
fn a_policy_without_selectors_applies_to_every_route_of_its_workspace() {
    let d = repo(&[policy("all", 500, "", "")]);
    let r = render(&d);
    assert_eq!(
        aborts(r.success()),
        vec![
            ("home-shop".to_string(), 500),
            ("other-other".to_string(), 0),
            (
                "user-users.app.cluster1--shop.app.cluster1".to_string(),
                500
            ),
        ]
    );
    assert!(!r.stderr.contains("policy-conflict"), "{}", r.stderr);
}

#[test]
fn namespace_and_workspace_narrow_the_selection_to_the_defining_table() {
    let d = repo(&[policy(
        "ns",
        504,
        "",
        "\n  applyToRoutes: [{route: {labels: {tier: front}, namespace: app, workspace: app}}]",
    )]);
    assert_eq!(
        aborts(render(&d).success()),
        vec![
            ("home-shop".to_string(), 504),
            ("other-other".to_string(), 0),
            ("user-users.app.cluster1--shop.app.cluster1".to_string(), 0),
        ]
    );
    let d = repo(&[policy(
        "ns",
        504,
        "",
        "\n  applyToRoutes: [{route: {namespace: other}}]",
    )]);
    assert!(aborts(render(&d).success()).iter().all(|(_, s)| *s == 0));
}

#[test]
fn the_oldest_policy_applies_whole_and_each_other_is_a_warning_naming_both() {
    let d = repo(&[
        // Sorts first by name, but has no creation time: a manifest not applied yet is newer.
        policy("a-new", 500, "", ""),
        policy(
            "z-old",
            503,
            "\n  creationTimestamp: \"2024-01-01T00:00:00Z\"",
            "",
        ),
        policy(
            "y-older",
            502,
            "\n  creationTimestamp: \"2023-06-01T00:00:00Z\"",
            "\n  applyToRoutes: [{route: {labels: {tier: back}}}]",
        ),
    ]);
    let r = render(&d);
    assert_eq!(
        aborts(r.success()),
        vec![
            ("home-shop".to_string(), 503),
            ("other-other".to_string(), 0),
            (
                "user-users.app.cluster1--shop.app.cluster1".to_string(),
                502
            ),
        ]
    );
    r.stderr_has(&[
        "FaultInjectionPolicy app/a-new and app/z-old both select route `home-shop` of RouteTable app/shop; Gloo applies only the oldest, app/z-old (the older by creationTimestamp)",
        "FaultInjectionPolicy app/z-old and app/y-older both select route",
        "note: FaultInjectionPolicy app/z-old at policies.yaml:12:9",
    ]);
    // check reports the collisions and passes.
    meshform()
        .arg("check")
        .arg(d.path())
        .run()
        .exit(0)
        .stdout_has(&["policy-conflict"]);
}

#[test]
fn a_delegated_route_takes_policies_of_its_own_and_of_the_delegating_tables_workspaces() {
    let d = TempRepo::new();
    copy_tree(&root().join("fixtures/multicluster"), d.path());
    // `edge` is in the parent table's workspace (gateways) and selects the children by their
    // tables' label; `team` is in the backend workspace and selects all of its routes.
    d.write(
        "clusters/cluster1/policies.yaml",
        [
            policy(
                "edge",
                501,
                "",
                "\n  applyToRoutes: [{route: {labels: {delegate: shop}}}]",
            )
            .replace("namespace: app", "namespace: istio-gateways"),
            policy("team", 502, "", "").replace("namespace: app", "namespace: backend-apis"),
        ]
        .join("---\n"),
    );
    let r = meshform()
        .arg("render")
        .arg(d.path())
        .args(["--cluster", "cluster1"])
        .run();
    let got = aborts(r.success());
    let status = |prefix: &str| {
        got.iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .map(|(_, s)| *s)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        status("frontend-web.web-ui.cluster1--shop"),
        vec![501],
        "{got:?}"
    );
    // Both select `orders`: backend-apis/team sorts before istio-gateways/edge.
    assert_eq!(
        status("orders-orders.backend-apis.cluster1--shop"),
        vec![502],
        "{got:?}"
    );
    r.stderr_has(&[
        "FaultInjectionPolicy istio-gateways/edge and backend-apis/team both select route",
    ]);
}

#[test]
fn with_destinations_selects_the_forward_routes_sending_to_a_selected_destination() {
    // By the Service's metadata labels: only the delegated `user` route sends to `api`.
    let d = repo(&[policy(
        "dest",
        503,
        "",
        "\n  applyToRoutes: [{withDestinations: {selector: {labels: {app: api}}}}]",
    )]);
    let r = render(&d);
    assert_eq!(
        aborts(r.success()),
        vec![
            ("home-shop".to_string(), 0),
            ("other-other".to_string(), 0),
            (
                "user-users.app.cluster1--shop.app.cluster1".to_string(),
                503
            ),
        ]
    );
    assert!(!r.stderr.contains("policy-selects-nothing"), "{}", r.stderr);
    // By name and port name: `home` sends to port 8080 of `web`, named http.
    let d = repo(&[policy(
        "dest",
        503,
        "",
        "\n  applyToRoutes: [{withDestinations: {selector: {name: web, namespace: app}, port: {name: http}}}]",
    )]);
    assert_eq!(
        aborts(render(&d).success()),
        vec![
            ("home-shop".to_string(), 503),
            ("other-other".to_string(), 0),
            ("user-users.app.cluster1--shop.app.cluster1".to_string(), 0),
        ]
    );
}

#[test]
fn with_destinations_needs_the_kind_and_port_of_the_destination() {
    // The kind defaults to SERVICE: a VIRTUAL_DESTINATION selector matches no Service, and
    // port 9090 of `web` is not the one `home` sends to.
    for select in [
        "{withDestinations: {kind: VIRTUAL_DESTINATION, selector: {labels: {app: web}}}}",
        "{withDestinations: {selector: {name: web}, port: {number: 9090}}}",
    ] {
        let d = repo(&[policy(
            "dest",
            503,
            "",
            &format!("\n  applyToRoutes: [{select}]"),
        )]);
        let r = render(&d);
        assert!(aborts(r.success()).iter().all(|(_, s)| *s == 0), "{select}");
        r.stderr_has(&["policy-selects-nothing"]);
    }
}

#[test]
fn an_entry_with_both_route_and_with_destinations_is_an_input_error() {
    let d = repo(&[policy(
        "both",
        503,
        "",
        "\n  applyToRoutes: [{route: {labels: {tier: front}}, withDestinations: {selector: {name: web}}}]",
    )]);
    render(&d).input_error(&["policies.yaml:7:", "sets both route and withDestinations"]);
    let d = repo(&[policy(
        "typo",
        503,
        "",
        "\n  applyToRoutes: [{withDestinations: {selektor: {name: web}}}]",
    )]);
    render(&d).input_error(&["selektor"]);
}

#[test]
fn a_route_policy_that_selects_no_route_is_a_warning_at_its_selector() {
    let d = repo(&[
        policy(
            "nothing",
            503,
            "",
            "\n  applyToRoutes: [{route: {labels: {tier: none}}}]",
        ),
        policy("all", 500, "", ""),
    ]);
    let r = render(&d);
    r.success();
    r.stderr_has(&[
        "policy-selects-nothing",
        "FaultInjectionPolicy app/nothing selects no route of workspace app",
        "policies.yaml:7:",
    ]);
    assert!(!r.stderr.contains("app/all selects"), "{}", r.stderr);
    // check reports it and passes.
    meshform()
        .arg("check")
        .arg(d.path())
        .run()
        .exit(0)
        .stdout_has(&["policy-selects-nothing"]);
    // A run for some clusters only cannot tell: the route may be in another cluster.
    let r = meshform()
        .arg("render")
        .arg(d.path())
        .args(["--cluster", "cluster1"])
        .run();
    r.success();
    assert!(!r.stderr.contains("policy-selects-nothing"), "{}", r.stderr);
}

#[test]
fn the_routing_picture_shows_a_changed_route_policy_on_the_routes_it_changes() {
    let d = repo(&[policy(
        "dest",
        500,
        "",
        "\n  applyToRoutes: [{withDestinations: {selector: {labels: {app: api}}}}]",
    )]);
    let commit = |tag: &str| {
        d.git(&["add", "-A"]);
        d.git(&["commit", "-q", "-m", tag]);
        d.git(&["tag", tag]);
    };
    d.git(&["init", "-q", "-b", "main"]);
    commit("c0");
    d.write(
        "policies.yaml",
        policy(
            "dest",
            503,
            "",
            "\n  applyToRoutes: [{withDestinations: {selector: {labels: {app: api}}}}]",
        ),
    );
    commit("c1");
    let r = meshform()
        .current_dir(d.path())
        .args([
            "diff", "--base", "c0", "--head", "c1", "--format", "markdown",
        ])
        .run();
    let out = r.success();
    // Only the route the policy selects changed: the other routes of the host are drawn
    // without a policy.
    assert!(
        out.contains("FaultInjectionPolicy app/dest changed"),
        "{out}"
    );
    assert_eq!(support::check_mermaid(out).len(), 1, "{out}");
    insta::assert_snapshot!("policy_change_markdown", redact(out));
}
