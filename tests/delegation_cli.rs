//! Delegated child routes whose matchers conflict with the delegating route: Gloo replaces the
//! delegating route with a 500 direct response and keeps the rest of the table
//! (docs/translation.md, RouteTable → VirtualService).

mod support;
use support::{copy_tree, meshform, root, TempRepo};

/// The bundled regex-under-prefix fixture, with `users` child routes replaced by `child`.
fn repo(child: &str, parent_extra: &str) -> TempRepo {
    let d = TempRepo::new();
    copy_tree(&root().join("fixtures/features/delegation-regex"), d.path());
    let routes = format!(
        "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {{name: parent, namespace: app}}
spec:
  hosts: [www.example.com]
  virtualGateways: [{{name: ingress, namespace: istio-gateways}}]{parent_extra}
  http:
  - name: api
    matchers: [{{uri: {{prefix: /api}}}}]
    delegate:
      routeTables: [{{labels: {{parent: www}}}}]
  - name: web
    forwardTo: {{destinations: [{{ref: {{name: web}}, port: {{number: 8080}}}}]}}
---
apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {{name: users, namespace: app, labels: {{parent: www}}}}
spec:
  http:
  - name: user
    matchers: [{{uri: {{regex: '/api/users/[0-9]+'}}}}]
    forwardTo: {{destinations: [{{ref: {{name: api}}, port: {{number: 8080}}}}]}}
{child}"
    );
    d.write("routetables.yaml", routes);
    d
}

const CONFLICT: &str = "  - name: web-users
    matchers: [{uri: {regex: '.*/users/[0-9]+'}}]
    forwardTo: {destinations: [{ref: {name: api}, port: {number: 8080}}]}
";

#[test]
fn a_regex_within_the_parent_prefix_renders_as_written() {
    let d = repo("", "");
    let r = meshform().arg("render").arg(d.path()).run();
    let out = r.success();
    assert!(out.contains("regex: /api/users/[0-9]+"), "{out}");
    assert!(
        !r.stderr.contains("delegate-matcher-conflict"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_conflicting_child_replaces_the_delegating_route_with_a_500_and_warns_at_its_matchers() {
    let d = repo(CONFLICT, "");
    let r = meshform().arg("render").arg(d.path()).run();
    let out = r.success();
    // The delegating route `api`, all its children with it, is the 500; `web` still renders.
    assert!(out.contains("name: api-parent"), "{out}");
    assert!(out.contains("directResponse:\n      status: 500"), "{out}");
    assert!(!out.contains("/api/users/[0-9]+"), "{out}");
    assert!(out.contains("name: web-parent"), "{out}");
    r.stderr_has(&[
        "warning[delegate-matcher-conflict]",
        "regex `.*/users/[0-9]+` is not within parent uri prefix `/api`",
        "Gloo replaces the delegating route with a 500 direct response",
        "routetables.yaml:24:15",
    ]);
    // check reports it as a warning and passes.
    meshform()
        .arg("check")
        .arg(d.path())
        .run()
        .exit(0)
        .stdout_has(&["delegate-matcher-conflict"]);
}

#[test]
fn under_freeze_config_a_conflict_fails_the_run_and_prints_nothing() {
    let d = repo(CONFLICT, "\n  failureMode: FREEZE_CONFIG");
    meshform().arg("render").arg(d.path()).run().fails(
        1,
        &["error[delegate-matcher-conflict]", "routetables.yaml:25:15"],
    );
}
