//! `meshform trace` (docs/trace.md): which route a request takes, from an ingress gateway or a
//! sidecar, on the bundled fixtures and small repos made here.

mod support;
use support::{meshform, root, TempRepo};

use serde_json::Value;
use std::path::Path;

const GATEWAY: &str = "istio-gateways/ingress";

/// `meshform trace DIR URL ARGS... --format json`: the exit code and the trace.
fn trace_json(dir: &Path, url: &str, args: &[&str]) -> (i32, Value) {
    let run = meshform()
        .arg("trace")
        .arg(dir)
        .arg(url)
        .args(args)
        .args(["--format", "json"])
        .run();
    let code = run.code.expect("exit code");
    assert!(code == 0 || code == 1, "exit {code}: {}", run.stderr);
    (code, run.json())
}

/// The chosen VirtualService route's name, or the status kind when none.
fn chosen(t: &Value) -> String {
    match t["outcome"]["route"]["name"].as_str() {
        Some(n) => n.to_string(),
        None => t["outcome"]["status"]["kind"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    }
}

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("fixtures/features").join(name)
}

#[test]
fn seed_scenario_routes_db_users_to_db_api_with_the_prefix_rewritten() {
    let dir = root().join("fixtures/external-services");
    let run = meshform()
        .args(["trace"])
        .arg(&dir)
        .args([
            "http://www.example.com/db/users",
            "--gateway",
            "istio-gateways/istio-ingressgateway",
        ])
        .run();
    let out = run.success();
    insta::assert_snapshot!("trace_seed_text", out);
    // docs/trace.md shows this output as it is.
    let docs = std::fs::read_to_string(root().join("docs/trace.md")).expect("docs/trace.md");
    assert!(
        docs.contains(out),
        "docs/trace.md lacks the seed trace:\n{out}"
    );
    let (code, t) = trace_json(
        &dir,
        "http://www.example.com/db/users",
        &["--gateway", "istio-gateways/istio-ingressgateway"],
    );
    assert_eq!(code, 0);
    assert_eq!(t["outcome"]["status"]["kind"], "routed");
    assert_eq!(t["outcome"]["route"]["gloo"]["route"], "db");
    assert_eq!(t["outcome"]["route"]["gloo"]["table"]["name"], "www");
    assert_eq!(
        t["outcome"]["route"]["gloo"]["location"]["file"],
        "routetable.yaml"
    );
    assert_eq!(t["outcome"]["route"]["gloo"]["location"]["line"], 9);
    assert_eq!(
        t["outcome"]["destinations"],
        serde_json::json!([{"host": "db-api.internal.example.com", "port": 80, "subset": null, "weight": 100}])
    );
    assert_eq!(t["chosen"]["rewrittenPath"], "/users");
    assert_eq!(t["entry"]["listenPort"], 8080);
    let service = &t["chosen"]["backends"][0]["service"];
    assert_eq!(service["resolution"], "STATIC");
    let endpoints: Vec<String> = service["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["address"].as_str().unwrap_or_default(),
                e["port"]
            )
        })
        .collect();
    assert_eq!(
        endpoints,
        ["10.0.1.10:8080", "10.0.1.11:8080", "10.0.2.10:8080"]
    );
}

#[test]
fn tls_origination_to_an_external_service() {
    let (code, t) = trace_json(
        &root().join("fixtures/external-services"),
        "http://www.example.com/anything",
        &["--gateway", "istio-gateways/istio-ingressgateway"],
    );
    assert_eq!(code, 0);
    assert_eq!(chosen(&t), "httpbin-www");
    assert_eq!(t["chosen"]["rewrittenAuthority"], "httpbin.org");
    let b = &t["chosen"]["backends"][0];
    assert_eq!(b["destination"]["host"], "httpbin.org");
    assert_eq!(b["destination"]["port"], 443);
    assert_eq!(b["service"]["resolution"], "DNS");
    assert_eq!(
        b["destinationRule"]["tls"],
        serde_json::json!({"mode": "SIMPLE", "sni": "httpbin.org"})
    );
}

#[test]
fn each_matcher_kind() {
    let dir = fixture("matchers");
    let gw = ["--gateway", GATEWAY];
    let cases: &[(&str, &[&str], &str)] = &[
        ("http://www.example.com/login", &[], "exact-www"),
        ("http://www.example.com/items/42", &[], "regex-www"),
        // A regex matches the whole path: /items/42/x is not /items/[0-9]+.
        ("http://www.example.com/DOCS/a", &[], "ignore-case-www"),
        (
            "http://www.example.com/api/x",
            &[
                "-H",
                "x-version: v2",
                "-H",
                "X-User: admin-1",
                "-H",
                "x-trace: 1",
            ],
            "headers-www",
        ),
        (
            "http://www.example.com/search?q=abc&lang=en",
            &["-X", "GET"],
            "query-and-method-www",
        ),
    ];
    for (url, extra, want) in cases {
        let mut args: Vec<&str> = gw.to_vec();
        args.extend_from_slice(extra);
        let (code, t) = trace_json(&dir, url, &args);
        assert_eq!((code, chosen(&t)), (0, want.to_string()), "{url}: {t:#}");
    }
    // Each condition that fails is named: a header absent, withoutHeaders present, a
    // query value, the method, and a gateway route's port (the Gateway server's, 8080).
    let failing: &[(&str, &[&str], &str)] = &[
        (
            "http://www.example.com/items/42/x",
            &[],
            "uri regex `/items/[0-9]+`",
        ),
        (
            "http://www.example.com/api/x",
            &["-H", "x-version: v2", "-H", "x-user: admin-1"],
            "header `x-trace` present: request has none",
        ),
        (
            "http://www.example.com/api/x",
            &[
                "-H",
                "x-version: v2",
                "-H",
                "x-user: admin-1",
                "-H",
                "x-trace: 1",
                "-H",
                "x-debug: true",
            ],
            "without header `x-debug` exact `true`",
        ),
        (
            "http://www.example.com/search?q=abc&lang=de",
            &[],
            "query parameter `lang` exact `en`: request has `de`",
        ),
        (
            "http://www.example.com/search?q=abc&lang=en",
            &["-X", "POST"],
            "method exact `GET`: request has `POST`",
        ),
    ];
    for (url, extra, why) in failing {
        let mut args: Vec<&str> = gw.to_vec();
        args.extend_from_slice(extra);
        let (code, t) = trace_json(&dir, url, &args);
        assert_eq!(code, 1, "{url}: {t:#}");
        assert_eq!(chosen(&t), "noRoute");
        let reasons: Vec<&str> = t["tried"]
            .as_array()
            .expect("tried")
            .iter()
            .flat_map(|r| r["failed"].as_array().expect("failed").iter())
            .filter_map(Value::as_str)
            .collect();
        assert!(
            reasons.iter().any(|r| r.contains(why)),
            "{url}: {why} not in {reasons:#?}"
        );
        assert!(
            reasons.contains(&"port 80: request is on port 8080"),
            "{reasons:#?}"
        );
    }
}

#[test]
fn no_route_exits_1_and_names_each_routes_failure_in_text() {
    let run = meshform()
        .arg("trace")
        .arg(fixture("matchers"))
        .args(["http://www.example.com/nothing", "--gateway", GATEWAY])
        .run();
    run.exit(1).stdout_has(&[
        "skipped `exact-www`",
        "match[0] fails: uri exact `/login`: request has `/nothing`",
        "from RouteTable app/www route `exact` (routetable.yaml:",
        "match[0] fails: port 80: request is on port 8080",
        "=> no route",
    ]);
}

#[test]
fn no_host_exits_1_with_the_nearest_hosts() {
    let (code, t) = trace_json(
        &root().join("fixtures/external-services"),
        "http://api.example.com/",
        &["--gateway", "istio-gateways/istio-ingressgateway"],
    );
    assert_eq!(code, 1);
    assert_eq!(t["outcome"]["status"]["kind"], "noHost");
    assert_eq!(t["nearest"], serde_json::json!(["www.example.com"]));
    // No server of the gateway takes https here: no host either.
    let (code, t) = trace_json(
        &root().join("fixtures/external-services"),
        "https://www.example.com/db/users",
        &["--gateway", "istio-gateways/istio-ingressgateway"],
    );
    assert_eq!(code, 1);
    assert_eq!(t["entry"]["server"], Value::Null);
    assert_eq!(t["entry"]["listenPort"], 8443);
}

#[test]
fn weighted_destinations() {
    let (code, t) = trace_json(
        &fixture("weights"),
        "http://www.example.com/other",
        &["--gateway", GATEWAY],
    );
    assert_eq!(code, 0);
    let got: Vec<(String, u64, u64)> = t["outcome"]["destinations"]
        .as_array()
        .expect("destinations")
        .iter()
        .map(|d| {
            (
                d["host"].as_str().unwrap_or_default().to_string(),
                d["port"].as_u64().unwrap_or_default(),
                d["weight"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("web.app.svc.cluster.local".to_string(), 8080, 60),
            ("api.app.svc.cluster.local".to_string(), 8080, 20),
            ("web.app.svc.cluster.local".to_string(), 9090, 20),
        ]
    );
}

#[test]
fn redirects_and_direct_responses() {
    let gw = ["--gateway", GATEWAY];
    let (code, t) = trace_json(
        &fixture("redirect"),
        "http://www.example.com/old/x?y=1",
        &gw,
    );
    assert_eq!(code, 0);
    assert_eq!(
        t["outcome"]["status"],
        serde_json::json!({"kind": "redirect", "code": 301, "location": "http://new.example.com/new/?y=1"})
    );
    assert_eq!(t["outcome"]["destinations"], serde_json::json!([]));
    let (_, t) = trace_json(&fixture("redirect"), "http://www.example.com/promo", &gw);
    assert_eq!(
        t["outcome"]["status"],
        serde_json::json!({"kind": "redirect", "code": 302, "location": "http://www.example.com/sale"})
    );
    let (code, t) = trace_json(
        &fixture("direct-response"),
        "http://www.example.com/v0/a",
        &gw,
    );
    assert_eq!(code, 0);
    assert_eq!(
        t["outcome"]["status"],
        serde_json::json!({"kind": "directResponse", "code": 410})
    );
    assert_eq!(t["outcome"]["route"]["gloo"]["route"], "gone");
}

#[test]
fn gateway_and_mesh_callers_see_different_virtual_services() {
    let dir = fixture("source-labels");
    let url = "http://api.app.svc.cluster.local:8080/v1/x";
    // A sidecar whose labels a workloadSelector names takes the route.
    let (code, t) = trace_json(&dir, url, &["--from", "app", "--from-label", "app=web"]);
    assert_eq!((code, chosen(&t)), (0, "v1-api".to_string()), "{t:#}");
    assert_eq!(t["entry"]["kind"], "mesh");
    assert_eq!(
        t["entry"]["visible"][0]["exportTo"],
        serde_json::json!(["."])
    );
    // Other labels: the route's sourceLabels fail.
    let (code, t) = trace_json(&dir, url, &["--from", "app", "--from-label", "app=batch"]);
    assert_eq!((code, chosen(&t)), (1, "noRoute".to_string()));
    assert!(t["tried"][0]["failed"][0]
        .as_str()
        .unwrap_or_default()
        .contains("source label app=web: caller has app=batch"));
    // A gateway's VirtualService is not a sidecar's: from the mesh the host is unknown.
    let seed = root().join("fixtures/external-services");
    let url = "http://www.example.com/db/users";
    let (code, t) = trace_json(
        &seed,
        url,
        &["--gateway", "istio-gateways/istio-ingressgateway"],
    );
    assert_eq!((code, chosen(&t)), (0, "db-www".to_string()));
    let (code, t) = trace_json(&seed, url, &["--from", "istio-gateways"]);
    assert_eq!((code, chosen(&t)), (1, "noHost".to_string()));
    // A sidecar calling a Service no VirtualService takes uses its default route.
    let (code, t) = trace_json(
        &dir,
        "http://web.app.svc.cluster.local:8080/",
        &["--from", "app"],
    );
    assert_eq!(code, 0);
    assert_eq!(t["outcome"]["route"], Value::Null);
    assert_eq!(t["defaultRoute"]["service"]["kind"], "Service");
}

/// A repo on the `weights` fixture's gateway (hosts `*`) with these route tables.
fn repo_with_tables(tables: &str) -> TempRepo {
    let repo = TempRepo::copy_of(&fixture("weights"));
    repo.write("routetable.yaml", tables);
    repo
}

/// A table on the ingress gateway: `hosts` and one route to `web` at `prefix`.
fn table(name: &str, hosts: &str, prefix: &str) -> String {
    format!(
        "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\nmetadata: {{name: {name}, namespace: app}}\n\
         spec:\n  hosts: [{hosts}]\n  virtualGateways: [{{name: ingress, namespace: istio-gateways}}]\n  http:\n\
         \x20 - name: r\n    matchers: [{{uri: {{prefix: {prefix}}}}}]\n    forwardTo: {{destinations: [{{ref: {{name: web}}, port: {{number: 8080}}}}]}}\n"
    )
}

#[test]
fn exact_host_over_wildcard_and_the_longest_wildcard_first() {
    let repo = repo_with_tables(
        &[
            table("wild", "'*.example.com'", "/"),
            table("deep", "'*.www.example.com'", "/"),
            table("exact", "www.example.com", "/"),
            // A second table of the exact host: merged after `exact` (name order).
            table("exact2", "www.example.com", "/"),
        ]
        .join("---\n"),
    );
    let gw = ["--gateway", GATEWAY];
    let cases = [
        ("http://www.example.com/", "r-exact"),
        ("http://api.example.com/", "r-wild"),
        ("http://a.www.example.com/", "r-deep"),
    ];
    for (url, want) in cases {
        let (code, t) = trace_json(repo.path(), url, &gw);
        assert_eq!((code, chosen(&t)), (0, want.to_string()), "{url}: {t:#}");
    }
    let (_, t) = trace_json(repo.path(), "http://www.example.com/", &gw);
    let candidates: Vec<&str> = t["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .filter_map(|c| c["virtualService"]["name"].as_str())
        .collect();
    assert_eq!(
        candidates,
        [
            "routetable-exact-app-cluster1-app",
            "routetable-exact2-app-cluster1-app"
        ]
    );
    assert_eq!(t["chosen"]["shadows"][0]["name"], "r-exact2");
}

#[test]
fn a_delegation_chain_of_three_tables_is_named_at_each_line() {
    let repo = repo_with_tables(
        "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: root, namespace: app}
spec:
  hosts: [www.example.com]
  virtualGateways: [{name: ingress, namespace: istio-gateways}]
  http:
  - name: to-api
    matchers: [{uri: {prefix: /api/}}]
    delegate: {routeTables: [{labels: {level: middle}}]}
---
apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: middle, namespace: app, labels: {level: middle}}
spec:
  http:
  - name: to-v2
    matchers: [{uri: {prefix: /api/v2/}}]
    delegate: {routeTables: [{labels: {level: leaf}}]}
---
apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: leaf, namespace: app, labels: {level: leaf}}
spec:
  http:
  - name: users
    matchers: [{uri: {prefix: /api/v2/users}}]
    forwardTo: {destinations: [{ref: {name: api}, port: {number: 8080}}]}
",
    );
    let (code, t) = trace_json(
        repo.path(),
        "http://www.example.com/api/v2/users/7",
        &["--gateway", GATEWAY],
    );
    assert_eq!(code, 0, "{t:#}");
    let route = &t["outcome"]["route"];
    let at = |g: &Value| {
        format!(
            "{}/{} {} {}:{}",
            g["table"]["namespace"].as_str().unwrap_or_default(),
            g["table"]["name"].as_str().unwrap_or_default(),
            g["route"].as_str().unwrap_or_default(),
            g["location"]["file"].as_str().unwrap_or_default(),
            g["location"]["line"]
        )
    };
    let chain: Vec<String> = route["delegatedBy"]
        .as_array()
        .expect("delegatedBy")
        .iter()
        .map(at)
        .collect();
    assert_eq!(
        chain,
        [
            "app/root to-api routetable.yaml:8",
            "app/middle to-v2 routetable.yaml:17"
        ]
    );
    assert_eq!(at(&route["gloo"]), "app/leaf users routetable.yaml:26");
}

#[test]
fn input_errors_exit_2_with_nothing_on_stdout() {
    let dir = root().join("fixtures/external-services");
    let gw = "istio-gateways/istio-ingressgateway";
    meshform()
        .arg("trace")
        .arg(&dir)
        .args(["www.example.com/db", "--gateway", gw])
        .run()
        .input_error(&["trace-request", "has no scheme"]);
    meshform()
        .arg("trace")
        .arg(&dir)
        .args(["http://www.example.com/", "--gateway", gw, "-H", "no colon"])
        .run()
        .input_error(&["is not `Name: value`"]);
    meshform()
        .arg("trace")
        .arg(&dir)
        .args([
            "http://www.example.com/",
            "--gateway",
            "istio-gateways/nope",
        ])
        .run()
        .input_error(&[
            "trace-caller",
            "gateways here: istio-gateways/istio-ingressgateway",
        ]);
    meshform()
        .arg("trace")
        .arg(&dir)
        .args(["http://www.example.com/"])
        .run()
        .input_error(&["--gateway NS/NAME or --from NS"]);
}

#[test]
fn the_path_defaults_to_the_current_directory() {
    meshform()
        .current_dir(root().join("fixtures/external-services"))
        .args([
            "trace",
            "http://www.example.com/db/users",
            "--gateway",
            "istio-gateways/istio-ingressgateway",
        ])
        .run()
        .success();
}

#[test]
fn subsets_come_with_their_destination_rule_labels() {
    let (code, t) = trace_json(
        &fixture("subsets"),
        "http://www.example.com/",
        &["--gateway", GATEWAY],
    );
    assert_eq!(code, 0);
    let subsets: Vec<(String, u64, Value)> = t["chosen"]["backends"]
        .as_array()
        .expect("backends")
        .iter()
        .map(|b| {
            (
                b["destination"]["subset"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                b["destination"]["weight"].as_u64().unwrap_or_default(),
                b["destinationRule"]["subset"]["labels"].clone(),
            )
        })
        .collect();
    assert_eq!(
        subsets,
        [
            (
                "version-primary".to_string(),
                70,
                serde_json::json!({"version": "primary"})
            ),
            (
                "version-canary".to_string(),
                30,
                serde_json::json!({"version": "canary"})
            ),
        ]
    );
}

#[test]
fn a_virtual_destination_from_a_sidecar() {
    let (code, t) = trace_json(
        &fixture("virtual-destination"),
        "http://api.global/x",
        &["--from", "app"],
    );
    assert_eq!(code, 0);
    let b = &t["chosen"]["backends"][0];
    assert_eq!(b["service"]["object"]["name"], "vd-api-global-app");
    assert_eq!(
        b["service"]["workloadSelector"],
        serde_json::json!({"app": "api"})
    );
    assert_eq!(b["destinationRule"]["tls"]["mode"], "ISTIO_MUTUAL");
}

#[test]
fn route_policies_are_named_with_their_config_line() {
    let (code, t) = trace_json(
        &fixture("retry-timeout"),
        "http://www.example.com/web/x",
        &["--gateway", GATEWAY],
    );
    assert_eq!(code, 0);
    let policies: Vec<String> = t["chosen"]["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .map(|p| {
            format!(
                "{} {} {}:{}",
                p["field"].as_str().unwrap_or_default(),
                p["object"]["name"].as_str().unwrap_or_default(),
                p["location"]["file"].as_str().unwrap_or_default(),
                p["location"]["line"]
            )
        })
        .collect();
    assert_eq!(
        policies,
        [
            "retries front routetable.yaml:44",
            "timeout front routetable.yaml:44"
        ]
    );
    assert_eq!(t["chosen"]["actions"]["timeout"], "60s");
}
