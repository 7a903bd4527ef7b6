//! Findings about rendered objects point at the Gloo field that made the offending value, once
//! per problem however many copies of the object are rendered (docs/architecture.md, "Where
//! findings point").

mod support;
use support::{meshform, TempRepo};

const WORKSPACE: &str = "apiVersion: admin.gloo.solo.io/v2
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
";

/// Two hosts and a TCP port: istiod rejects the ServiceEntry (several hosts need HTTP or TLS
/// ports), and it is copied into both namespaces of the workspace.
const TWO_HOSTS_TCP: &str = "apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: databases, namespace: app}
spec:
  hosts: [db1.example.com, db2.example.com]
  ports:
  - name: tcp-postgres
    number: 5432
    protocol: TCP
";

fn findings(out: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(out).expect("json report");
    v["findings"].as_array().expect("findings").clone()
}

#[test]
fn an_istio_finding_is_at_the_gloo_field_once_for_every_copy() {
    let d = TempRepo::with([
        ("workspace.yaml", WORKSPACE),
        ("externalservice.yaml", TWO_HOSTS_TCP),
    ]);
    let r = meshform()
        .args(["check", "--format", "json"])
        .arg(d.path())
        .run();
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let port: Vec<serde_json::Value> = findings(&r.stdout)
        .into_iter()
        .filter(|f| f["policy"] == "istio-port")
        .collect();
    assert_eq!(port.len(), 1, "one finding for both copies: {port:#?}");
    let f = &port[0];
    assert_eq!(f["file"], "externalservice.yaml", "{f}");
    // `protocol: TCP`, not the apiVersion line.
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(9), Some(15)),
        "{f}"
    );
    assert_eq!(f["field"], "spec.ports[0].protocol", "{f}");
    let msg = f["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with(
            "rendered ServiceEntry app/externalservice-databases-app-cluster1-app, \
             istio-gateways/externalservice-databases-app-cluster1-app (cluster cluster1) \
             spec.ports[0].protocol: multiple hosts"
        ),
        "both copies are listed: {msg}"
    );

    let r = meshform().arg("check").arg(d.path()).run();
    assert_eq!(r.code, Some(1));
    assert!(
        r.stdout.contains("  --> externalservice.yaml:9:15"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("9 |     protocol: TCP"), "{}", r.stdout);
    assert_eq!(
        r.stdout.matches("error[istio-port]").count(),
        1,
        "{}",
        r.stdout
    );
}

#[test]
fn a_problem_in_a_delegated_route_is_at_the_child_tables_route() {
    let parent = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: parent, namespace: app}
spec:
  hosts: [www.example.com]
  http:
  - name: delegate
    delegate:
      routeTables: [{labels: {parent: www}}]
";
    let child = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: child, namespace: app, labels: {parent: www}}
spec:
  http:
  - name: ok
    matchers: [{uri: {prefix: /ok}}]
    directResponse: {status: 200}
  - name: bad
    matchers: [{uri: {regex: 'a('}}]
    directResponse: {status: 200}
";
    let d = TempRepo::with([("parent.yaml", parent), ("child.yaml", child)]);
    let r = meshform()
        .args(["check", "--format", "json"])
        .arg(d.path())
        .run();
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let regex: Vec<serde_json::Value> = findings(&r.stdout)
        .into_iter()
        .filter(|f| f["policy"] == "istio-regex")
        .collect();
    assert_eq!(regex.len(), 1, "{regex:#?}");
    let f = &regex[0];
    assert_eq!(
        (
            f["file"].as_str(),
            f["line"].as_u64(),
            f["column"].as_u64(),
            f["field"].as_str()
        ),
        (
            Some("child.yaml"),
            Some(10),
            Some(30),
            Some("spec.http[1].matchers[0].uri.regex")
        ),
        "the regex of the child's second route, not the parent VirtualService's first line: {f}"
    );
}

const ROUTE_WORKSPACE: &str = "apiVersion: admin.gloo.solo.io/v2
kind: Workspace
metadata: {name: app, namespace: gloo-mesh}
spec:
  workloadClusters:
  - name: cluster1
    namespaces: [{name: app}]
---
apiVersion: admin.gloo.solo.io/v2
kind: WorkspaceSettings
metadata: {name: app, namespace: app}
spec: {}
---
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: app}
spec:
  ports: [{name: http, port: 80}]
";

/// Istio rejects parts of the second route: a matcher's regex and header name, and the
/// regexRewrite's pattern. Two workload selectors render each matcher twice (once per set of
/// source labels), so the bad matcher is the rendered `match[2]` and `match[3]`.
const BAD_ROUTE_PARTS: &str = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: www, namespace: app}
spec:
  hosts: [orders.app.svc.cluster.local]
  workloadSelectors:
  - selector: {labels: {app: a}}
  - selector: {labels: {app: b}}
  http:
  - name: ok
    matchers:
    - uri: {prefix: /ok}
    directResponse: {status: 200}
  - name: bad
    matchers:
    - uri: {prefix: /a}
    - uri: {regex: 'a('}
      headers:
      - name: bad header
        value: x
    forwardTo:
      regexRewrite:
        pattern: {regex: 'b('}
        substitution: x
      destinations:
      - ref: {name: orders}
        port: {number: 80}
";

/// (file, line, column, field) of each finding of `code`.
fn places(out: &str, code: &str) -> Vec<(String, u64, u64, String)> {
    findings(out)
        .into_iter()
        .filter(|f| f["policy"] == code)
        .map(|f| {
            (
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["column"].as_u64().unwrap_or_default(),
                f["field"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn problems_inside_a_route_are_at_the_matcher_or_rewrite_field() {
    let d = TempRepo::with([("ws.yaml", ROUTE_WORKSPACE), ("rt.yaml", BAD_ROUTE_PARTS)]);
    let r = meshform()
        .args(["check", "--format", "json"])
        .arg(d.path())
        .run();
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let at = |line, column, field: &str| ("rt.yaml".to_string(), line, column, field.to_string());
    assert_eq!(
        places(&r.stdout, "istio-regex"),
        vec![
            at(17, 20, "spec.http[1].matchers[1].uri.regex"),
            at(23, 26, "spec.http[1].forwardTo.regexRewrite.pattern.regex"),
        ],
        "one finding per problem, both copies of the match: {}",
        r.stdout
    );
    assert_eq!(
        places(&r.stdout, "istio-match"),
        vec![at(
            19,
            9,
            "spec.http[1].matchers[1].headers[\"bad header\"]"
        )],
        "{}",
        r.stdout
    );
}

/// A subset of a Service destination whose label value Istio rejects in the DestinationRule
/// meshform makes for it.
const BAD_SUBSET: &str = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: www, namespace: app}
spec:
  hosts: [www.example.com]
  http:
  - name: orders
    forwardTo:
      destinations:
      - ref: {name: orders}
        port: {number: 80}
        subset: {version: 'v 1'}
";

#[test]
fn a_subset_destination_rule_finding_is_at_the_destinations_subset() {
    let d = TempRepo::with([("ws.yaml", ROUTE_WORKSPACE), ("rt.yaml", BAD_SUBSET)]);
    let r = meshform()
        .args(["check", "--format", "json"])
        .arg(d.path())
        .run();
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert_eq!(
        places(&r.stdout, "istio-subset"),
        vec![(
            "rt.yaml".to_string(),
            12,
            27,
            "spec.http[0].forwardTo.destinations[0].subset.version".to_string()
        )],
        "{}",
        r.stdout
    );
}

#[test]
fn two_sources_rendering_one_object_differently_are_each_at_their_name() {
    let ws = "apiVersion: admin.gloo.solo.io/v2
kind: Workspace
metadata: {name: ws, namespace: gloo-mesh}
spec:
  workloadClusters: [{name: cluster1, namespaces: [{name: bar-baz}, {name: baz}]}]
";
    // `foo` in `bar-baz` and `foo-bar` in `baz` make the same ServiceEntry name.
    let es = |name: &str, ns: &str, host: &str| {
        format!(
            "apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata:
  namespace: {ns}
  name: {name}
spec:
  hosts: [{host}]
  ports:
  - {{name: http, number: 80, protocol: HTTP}}
"
        )
    };
    let a = es("foo", "bar-baz", "a.example.com");
    let b = es("foo-bar", "baz", "b.example.com");
    let d = TempRepo::with([
        ("ws.yaml", ws),
        ("a.yaml", a.as_str()),
        ("b.yaml", b.as_str()),
    ]);
    let r = meshform().arg("check").arg(d.path()).run();
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let out = &r.stdout;
    assert!(out.contains("error[output-collision]"), "{out}");
    assert!(out.contains("  --> b.yaml:5:9"), "{out}");
    assert!(out.contains("5 |   name: foo-bar"), "{out}");
    assert!(
        out.contains("= object: ExternalService baz/foo-bar, field: metadata.name"),
        "{out}"
    );
    assert!(out.contains("also rendered from at a.yaml:5:9"), "{out}");
    assert!(
        out.contains("= help: rename one of the two sources"),
        "{out}"
    );
}

/// The seed guide's sidecar table: `hosts: ['*']` without virtualGateways.
const STAR: &str = "apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: httpbin, namespace: apps}
spec:
  hosts: [httpbin.org]
  ports:
  - {name: http, number: 80, protocol: HTTP}
---
apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: rt, namespace: apps}
spec:
  hosts: ['*']
  http:
  - forwardTo:
      destinations:
      - ref: {name: httpbin}
        kind: EXTERNAL_SERVICE
        port: {number: 80}
";

#[test]
fn a_wildcard_host_on_sidecars_is_a_gloo_error_at_the_host_saying_what_to_write() {
    let d = TempRepo::with([("rt.yaml", STAR)]);
    let r = meshform().arg("check").arg(d.path()).run();
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let out = &r.stdout;
    assert!(
        out.contains("error[wildcard-host]: host `*` is not allowed in a RouteTable that applies to sidecars (it has no virtualGateways): Istio rejects a VirtualService bound to the mesh gateway with host `*`, and Gloo 2.6 rejects `*` in RouteTable hosts"),
        "{out}"
    );
    assert!(out.contains("  --> rt.yaml:13:11"), "{out}");
    assert!(
        out.contains("= object: RouteTable apps/rt, field: spec.hosts[0]"),
        "{out}"
    );
    assert!(
        out.contains("= help: list the hostnames the clients call instead, such as `httpbin.org` (where this table routes to); or bind the table to a VirtualGateway (spec.virtualGateways)"),
        "{out}"
    );
    // One finding: Istio's own rejection of the same host is not repeated.
    assert!(!out.contains("istio-vs-host"), "{out}");
    assert!(out.contains("1 error,"), "{out}");

    let r = meshform().arg("render").arg(d.path()).run();
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout, "", "nothing rendered on an error");
    assert!(r.stderr.contains("error[wildcard-host]"), "{}", r.stderr);
}

#[test]
fn a_wildcard_host_bound_to_a_gateway_only_is_not_this_error() {
    let gateway = "apiVersion: networking.gloo.solo.io/v2
kind: VirtualGateway
metadata: {name: ingress, namespace: apps}
spec:
  workloads:
  - selector: {labels: {istio: ingressgateway}}
  listeners:
  - http: {}
    port: {number: 80}
";
    let rt = STAR.replace(
        "  hosts: ['*']\n",
        "  hosts: ['*']\n  virtualGateways: [{name: ingress, namespace: apps}]\n",
    );
    let d = TempRepo::with([("rt.yaml", rt.as_str()), ("gateway.yaml", gateway)]);
    let r = meshform().arg("check").arg(d.path()).run();
    assert!(!r.stdout.contains("wildcard-host"), "{}", r.stdout);
    assert!(!r.stdout.contains("istio-vs-host"), "{}", r.stdout);
}
