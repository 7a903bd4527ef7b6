//! Destination policies (OutlierDetectionPolicy, LoadBalancerPolicy, ConnectionPolicy,
//! FailoverPolicy, ClientTLSPolicy) select destination ports
//! by kind (SERVICE when unset), selector and port, or every destination of their workspace;
//! their settings land in the port's `portLevelSettings[]` entry of the destination's
//! DestinationRule, created for a Service that has none; of several policies of one kind on a
//! port the oldest applies, with a warning (docs/translation.md#destination-policies).

mod support;
use serde_json::Value;
use support::{copy_tree, meshform, root, TempRepo};

const APP: &str = "apiVersion: admin.gloo.solo.io/v2
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
---
apiVersion: networking.gloo.solo.io/v2
kind: VirtualDestination
metadata: {name: api, namespace: app}
spec:
  hosts: [api.global]
  services: [{namespace: app, labels: {app: api}}]
  ports: [{number: 80, protocol: HTTP, targetPort: {name: http}}]
---
apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: www, namespace: app}
spec:
  hosts: [www.example.com]
  http:
  - name: web
    matchers: [{uri: {prefix: /web}}]
    forwardTo: {destinations: [{ref: {name: web}, port: {number: 8080}}]}
  - name: api
    forwardTo: {destinations: [{ref: {name: api}, kind: VIRTUAL_DESTINATION, port: {number: 80}}]}
";

fn repo(policies: &[&str]) -> TempRepo {
    let d = TempRepo::new();
    copy_tree(
        &root().join("fixtures/features/virtual-destination"),
        d.path(),
    );
    d.remove("virtualdestination.yaml");
    d.write("workspace.yaml", APP);
    d.write("policies.yaml", policies.join("---\n"));
    d
}

fn render(d: &TempRepo) -> support::Run {
    meshform().arg("render").arg(d.path()).run()
}

/// Each DestinationRule's port-level entries as `(namespace/host, port, entry without port
/// and tls)`, sorted.
fn entries(out: &str) -> Vec<(String, u64, Value)> {
    let mut v = Vec::new();
    for doc in out.split("\n---\n") {
        let y: Value = serde_saphyr::from_str(doc).expect("rendered YAML");
        if y["kind"] != "DestinationRule" {
            continue;
        }
        let at = format!(
            "{}/{}",
            y["metadata"]["namespace"].as_str().unwrap_or_default(),
            y["spec"]["host"].as_str().unwrap_or_default()
        );
        for e in y["spec"]["trafficPolicy"]["portLevelSettings"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let port = e["port"]["number"].as_u64().unwrap_or(0);
            let mut e = e.clone();
            if let Some(m) = e.as_object_mut() {
                m.remove("port");
                m.remove("tls");
            }
            v.push((at.clone(), port, e));
        }
    }
    v.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    v
}

fn outlier(name: &str, errors: u32, extra: &str, select: &str) -> String {
    format!(
        "apiVersion: resilience.policy.gloo.solo.io/v2
kind: OutlierDetectionPolicy
metadata:
  name: {name}
  namespace: app{extra}
spec:{select}
  config: {{consecutiveErrors: {errors}}}
"
    )
}

fn od(errors: u32) -> Value {
    serde_json::json!({"outlierDetection": {
        "baseEjectionTime": "30s", "consecutive5xxErrors": errors,
        "interval": "10s", "maxEjectionPercent": 100}})
}

/// The Service web's entries for port `port`: in its namespace, and in the other namespace
/// of the workspace where the table's VirtualService is written too.
fn web(port: u64, e: Value) -> Vec<(String, u64, Value)> {
    ["app", "istio-gateways"]
        .iter()
        .map(|ns| (format!("{ns}/web.app.svc.cluster.local"), port, e.clone()))
        .collect()
}

/// The entries, sorted as [`entries`] sorts them.
fn sorted(mut v: Vec<(String, u64, Value)>) -> Vec<(String, u64, Value)> {
    v.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    v
}

#[test]
fn the_kind_defaults_to_service_and_an_empty_port_selects_every_port() {
    // `name: api` without a kind selects the Service api (no route uses it: no rule, and a
    // warning saying so), never the VirtualDestination api; `name: web` selects both ports of the Service web, whose
    // DestinationRule is created beside the route's VirtualService.
    let d = repo(&[
        &outlier(
            "web",
            2,
            "",
            "\n  applyToDestinations: [{selector: {name: web}}]",
        ),
        &outlier(
            "api",
            3,
            "",
            "\n  applyToDestinations: [{selector: {name: api}}]",
        ),
    ]);
    let r = render(&d);
    assert_eq!(
        entries(r.success()),
        sorted(
            [
                vec![("app/api.global".to_string(), 80, serde_json::json!({}))],
                web(8080, od(2)),
                web(9090, od(2)),
            ]
            .concat()
        )
    );
    r.stderr_has(&[
        "warning[policy-service-unrouted]",
        "selects Service app/api",
    ]);
    assert!(!r.stderr.contains("policy-selects-nothing"), "{}", r.stderr);
}

#[test]
fn a_port_selector_picks_one_port_by_name_or_number() {
    let d = repo(&[
        &outlier(
            "grpc",
            2,
            "",
            "\n  applyToDestinations: [{kind: SERVICE, selector: {name: web}, port: {name: grpc}}]",
        ),
        &outlier(
            "vd",
            4,
            "",
            "\n  applyToDestinations: [{kind: VIRTUAL_DESTINATION, selector: {name: api}, port: {number: 80}}]",
        ),
    ]);
    assert_eq!(
        entries(render(&d).success()),
        sorted(
            [
                vec![("app/api.global".to_string(), 80, od(4))],
                web(9090, od(2))
            ]
            .concat()
        )
    );
}

#[test]
fn an_empty_selector_takes_every_destination_of_the_workspace_and_no_other() {
    // The policy of workspace `other` owns and imports nothing: it changes nothing, and says so.
    let other = outlier("elsewhere", 9, "", "").replace("namespace: app", "namespace: other");
    let d = repo(&[&outlier("all", 2, "", ""), &other]);
    let r = render(&d);
    assert_eq!(
        entries(r.success()),
        sorted(
            [
                vec![("app/api.global".to_string(), 80, od(2))],
                web(8080, od(2)),
                web(9090, od(2)),
            ]
            .concat()
        )
    );
    r.stderr_has(&[
        "warning[policy-selects-nothing]",
        "OutlierDetectionPolicy other/elsewhere selects no destination port",
    ]);
}

#[test]
fn of_two_policies_on_a_port_the_oldest_applies_whole_with_a_warning() {
    let select = "\n  applyToDestinations: [{kind: VIRTUAL_DESTINATION}]";
    let d = repo(&[
        &outlier(
            "a-new",
            2,
            "\n  creationTimestamp: \"2024-05-01T00:00:00Z\"",
            select,
        ),
        &outlier(
            "z-old",
            7,
            "\n  creationTimestamp: \"2023-01-01T00:00:00Z\"",
            select,
        ),
    ]);
    let r = render(&d);
    assert_eq!(
        entries(r.success()),
        vec![("app/api.global".to_string(), 80, od(7))]
    );
    r.stderr_has(&[
        "warning[policy-conflict]",
        "OutlierDetectionPolicy app/a-new and app/z-old both select port 80 of VirtualDestination app/api; Gloo applies only the oldest, app/z-old (the older by creationTimestamp)",
        "--> policies.yaml:",
    ]);
}

#[test]
fn load_balancer_settings_and_subsets_share_the_service_rule() {
    let d = repo(&["apiVersion: trafficcontrol.policy.gloo.solo.io/v2
kind: LoadBalancerPolicy
metadata: {name: sticky, namespace: app}
spec:
  applyToDestinations: [{selector: {name: web}, port: {number: 8080}}]
  config:
    consistentHash: {useSourceIp: true}
"]);
    d.write(
        "workspace.yaml",
        APP.replace(
            "forwardTo: {destinations: [{ref: {name: web}, port: {number: 8080}}]}",
            "forwardTo: {destinations: [{ref: {name: web}, port: {number: 8080}, subset: {version: v1}}]}",
        ),
    );
    let r = render(&d);
    let out = r.success();
    assert_eq!(
        entries(out),
        sorted(
            [
                vec![("app/api.global".to_string(), 80, serde_json::json!({}))],
                web(
                    8080,
                    serde_json::json!({"loadBalancer": {"consistentHash": {"useSourceIp": true}}})
                ),
            ]
            .concat()
        )
    );
    assert!(out.contains("name: version-v1"), "{out}");
}

#[test]
fn the_importing_workspace_s_policy_wins_in_its_copy() {
    // PW2 plus a policy of the Service's own workspace: the gateway's copy takes the gateway
    // workspace's policy, the copy in the Service's namespace the owner's.
    let d = TempRepo::new();
    copy_tree(&root().join("fixtures/reference/PW2"), d.path());
    d.write(
        "owner.yaml",
        "apiVersion: trafficcontrol.policy.gloo.solo.io/v2
kind: LoadBalancerPolicy
metadata: {name: random, namespace: frontend-config}
spec:
  config: {simple: RANDOM}
",
    );
    let r = render(&d);
    let lb = |v: Value| serde_json::json!({ "loadBalancer": v });
    assert_eq!(
        entries(r.success()),
        vec![
            (
                "frontend-ns-1/nginx.frontend-ns-1.svc.cluster.local".to_string(),
                80,
                lb(serde_json::json!({"simple": "RANDOM"}))
            ),
            (
                "istio-gateways/nginx.frontend-ns-1.svc.cluster.local".to_string(),
                80,
                lb(serde_json::json!({"consistentHash": {"httpHeaderName": "x-user"}}))
            ),
        ]
    );
}

#[test]
fn values_gloo_rejects_are_errors_at_the_field() {
    let d = repo(&[
        "apiVersion: resilience.policy.gloo.solo.io/v2
kind: OutlierDetectionPolicy
metadata: {name: bad, namespace: app}
spec:
  config: {maxEjectionPercent: 101, interval: 500us}
",
        "apiVersion: trafficcontrol.policy.gloo.solo.io/v2
kind: LoadBalancerPolicy
metadata: {name: two, namespace: app}
spec:
  config:
    consistentHash: {httpHeaderName: x-user, useSourceIp: true}
",
    ]);
    render(&d).fails(
        1,
        &[
            "error[policy-value]",
            "maxEjectionPercent is 101",
            "`500us`: Gloo does not take the ns and us units",
            "consistentHash must set exactly one of",
            "--> policies.yaml:5:",
        ],
    );
}

#[test]
fn fields_a_destination_rule_cannot_hold_and_unknown_fields_are_input_errors() {
    let lb = |config: &str| {
        format!(
            "apiVersion: trafficcontrol.policy.gloo.solo.io/v2
kind: LoadBalancerPolicy
metadata: {{name: lb, namespace: app}}
spec:
  config: {config}
"
        )
    };
    render(&repo(&[&lb("{simple: RANDOM, healthyPanicThreshold: 10}")]))
        .input_error(&["spec.config.healthyPanicThreshold", "needs an EnvoyFilter"]);
    render(&repo(&[&lb("{simple: RANDOM, sticky: true}")])).input_error(&["sticky"]);
    render(&repo(&[&lb("{simple: FASTEST}")])).input_error(&["FASTEST"]);
}

#[test]
fn connection_pool_counts_take_istio_s_names_and_negative_counts_are_errors() {
    let conn = |http: &str| {
        format!(
            "apiVersion: resilience.policy.gloo.solo.io/v2
kind: ConnectionPolicy
metadata: {{name: pool, namespace: app}}
spec:
  applyToDestinations: [{{kind: VIRTUAL_DESTINATION}}]
  config:
    http: {http}
"
        )
    };
    let d = repo(&[&conn(
        "{maxRequests: 500, maxPendingRequests: 20, maxRetries: 0}",
    )]);
    assert_eq!(
        entries(render(&d).success()),
        vec![(
            "app/api.global".to_string(),
            80,
            serde_json::json!({"connectionPool": {"http": {
                "http1MaxPendingRequests": 20, "http2MaxRequests": 500}}})
        )]
    );
    render(&repo(&[&conn("{maxRequests: -1}")])).fails(
        1,
        &[
            "error[policy-value]",
            "http.maxRequests is -1; Istio takes no negative count",
        ],
    );
}

#[test]
fn a_changed_policy_shows_in_diff_as_the_rule_field_it_changed_from_the_policy() {
    let t = TempRepo::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write(
        "workspaces.yaml",
        "apiVersion: admin.gloo.solo.io/v2
kind: Workspace
metadata: {name: web, namespace: gloo-mesh}
spec:
  workloadClusters: [{name: cluster1, namespaces: [{name: web}]}]
",
    );
    t.write(
        "web/external.yaml",
        "apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: db, namespace: web}
spec:
  hosts: [db.example.com]
  ports: [{name: http, number: 80, protocol: HTTP}]
",
    );
    let policy = "apiVersion: resilience.policy.gloo.solo.io/v2
kind: OutlierDetectionPolicy
metadata: {name: db, namespace: web}
spec:
  applyToDestinations: [{kind: EXTERNAL_SERVICE}]
  config: {consecutiveErrors: 2}
";
    t.write("web/policy.yaml", policy);
    t.commit("base");
    t.write(
        "web/policy.yaml",
        policy.replace("consecutiveErrors: 2", "consecutiveErrors: 3"),
    );
    let o = &support::policies::only_changed_object(&t);
    assert_eq!(o["kind"], "DestinationRule");
    assert_eq!(
        o["changedPaths"],
        serde_json::json!([
            "spec.trafficPolicy.portLevelSettings[port=80].outlierDetection.consecutive5xxErrors"
        ])
    );
    assert!(
        support::policies::source_files(o).contains(&"web/policy.yaml"),
        "{o:#}"
    );
}

#[test]
fn a_selected_service_no_http_route_sends_to_is_a_warning_not_silence() {
    // `api` is reached only through its VirtualDestination: no rule of meshform's carries the
    // Service's own settings, and the policy says so; `web` is routed and takes them.
    let d = repo(&[&outlier(
        "both",
        4,
        "",
        "\n  applyToDestinations:\n  - selector: {name: api}\n  - selector: {name: web}",
    )]);
    let r = render(&d);
    assert_eq!(
        entries(r.success()),
        sorted(
            [
                vec![("app/api.global".to_string(), 80, serde_json::json!({}))],
                web(8080, od(4)),
                web(9090, od(4)),
            ]
            .concat()
        )
    );
    r.stderr_has(&[
        "warning[policy-service-unrouted]",
        "OutlierDetectionPolicy app/both selects Service app/api (cluster cluster1), which no HTTP route of the repo sends to",
    ]);
    assert!(!r.stderr.contains("Service app/web"), "{}", r.stderr);
}

fn failover(name: &str, select: &str, config: &str) -> String {
    format!(
        "apiVersion: resilience.policy.gloo.solo.io/v2
kind: FailoverPolicy
metadata: {{name: {name}, namespace: app}}
spec:{select}
  config:
{config}
"
    )
}

const VD: &str = "\n  applyToDestinations: [{kind: VIRTUAL_DESTINATION, selector: {name: api}}]";
const WEB: &str = "\n  applyToDestinations: [{selector: {name: web}, port: {number: 8080}}]";

#[test]
fn failover_shares_the_port_s_load_balancer_with_a_load_balancer_policy() {
    // One weighted mapping: Istio `distribute`, the weight left to the unweighted locality,
    // in the same `loadBalancer` object as the LoadBalancerPolicy's `simple`.
    let d = repo(&[
        &failover(
            "spread",
            VD,
            "    localityMappings:
    - from: {region: us-east-1, zone: us-east-1a}
      to: [{region: us-east-1, weight: 80}, {region: us-west-2, zone: b, subZone: c}]",
        ),
        "apiVersion: trafficcontrol.policy.gloo.solo.io/v2
kind: LoadBalancerPolicy
metadata: {name: rr, namespace: app}
spec:
  applyToDestinations: [{kind: VIRTUAL_DESTINATION}]
  config: {simple: ROUND_ROBIN}
",
        &outlier(
            "od",
            2,
            "",
            "\n  applyToDestinations: [{kind: VIRTUAL_DESTINATION}]",
        ),
    ]);
    let r = render(&d);
    let mut want = od(2);
    want["loadBalancer"] = serde_json::json!({
        "simple": "ROUND_ROBIN",
        "localityLbSetting": {"enabled": true, "distribute": [{
            "from": "us-east-1/us-east-1a/*",
            "to": {"us-east-1/*": 80, "us-west-2/b/c": 20}}]}});
    assert_eq!(
        entries(r.success()),
        vec![("app/api.global".to_string(), 80, want)]
    );
    assert!(
        !r.stderr.contains("failover-without-outlier"),
        "{}",
        r.stderr
    );
}

#[test]
fn mappings_without_weights_fail_over_by_region_and_priority_labels_become_failover_priority() {
    let d = repo(&[
        &failover(
            "regions",
            VD,
            "    localityMappings:
    - from: {region: us-east-1}
      to: [{region: us-west-2}, {region: eu-west-1}]",
        ),
        &failover(
            "labels",
            WEB,
            "    priorityLabels: {labels: [\"region=us-east-1\", \"zone=a\"]}",
        ),
        &outlier("od", 2, "", ""),
    ]);
    let r = render(&d);
    let with = |loc: Value| {
        let mut e = od(2);
        e["loadBalancer"] = serde_json::json!({ "localityLbSetting": loc });
        e
    };
    assert_eq!(
        entries(r.success()),
        sorted(
            [
                vec![(
                    "app/api.global".to_string(),
                    80,
                    with(serde_json::json!({"enabled": true, "failover": [
                        {"from": "us-east-1", "to": "us-west-2"},
                        {"from": "us-east-1", "to": "eu-west-1"}]}))
                )],
                web(
                    8080,
                    with(serde_json::json!({"enabled": true,
                        "failoverPriority": ["region=us-east-1", "zone=a"]}))
                ),
                web(9090, od(2)),
            ]
            .concat()
        )
    );
}

#[test]
fn failover_without_outlier_detection_on_the_port_is_a_warning() {
    // A weighted mapping distributes whether or not endpoints are ejected: no warning for it.
    let d = repo(&[
        &failover("bare", VD, "    localityMappings: []"),
        &failover(
            "weighted",
            WEB,
            "    localityMappings:
    - from: {region: a}
      to: [{region: b, weight: 100}]",
        ),
    ]);
    let r = render(&d);
    assert_eq!(
        entries(r.success())[0],
        (
            "app/api.global".to_string(),
            80,
            serde_json::json!({"loadBalancer": {"localityLbSetting": {"enabled": true}}})
        )
    );
    r.stderr_has(&[
        "warning[failover-without-outlier]",
        "FailoverPolicy app/bare applies to port 80 of VirtualDestination app/api, which no OutlierDetectionPolicy selects",
        "add an OutlierDetectionPolicy",
    ]);
    assert!(!r.stderr.contains("app/weighted"), "{}", r.stderr);
}

#[test]
fn failover_values_gloo_or_istio_rejects_are_errors_at_the_field() {
    let d = repo(&[
        &failover(
            "es",
            "\n  applyToDestinations: [{kind: EXTERNAL_SERVICE}]",
            "    localityMappings: []",
        ),
        &failover(
            "sum",
            VD,
            "    localityMappings:
    - from: {region: a}
      to: [{region: b, weight: 60}, {region: c, weight: 30}]
    - from: {region: c}
      to: [{region: a}]",
        ),
        &failover(
            "zones",
            WEB,
            "    localityMappings:
    - from: {region: a, zone: z}
      to: [{region: a}]",
        ),
        &failover(
            "mixed",
            WEB,
            "    priorityLabels: {labels: [region, \"zone=a\", \"\"]}",
        ),
    ]);
    render(&d).fails(
        1,
        &[
            "error[policy-value]",
            "FailoverPolicy selects ExternalServices, which Gloo does not fail over",
            "the weights of spec.config.localityMappings[0] add up to 90; they must add up to 100",
            "spec.config.localityMappings[1] has no weights while other mappings have",
            "names a zone, but a mapping without weights becomes Istio `failover`",
            "fails over from region a to itself",
            "priority label `zone=a` mixes label keys and `key=value` pairs",
            "priority label is empty or has no key",
            "--> policies.yaml:5:",
        ],
    );
}

#[test]
fn priority_labels_beside_mappings_are_ignored_with_a_warning() {
    let d = repo(&[
        &failover(
            "both",
            VD,
            "    localityMappings:
    - from: {region: a}
      to: [{region: b}]
    priorityLabels: {labels: [region]}",
        ),
        &outlier("od", 2, "", VD),
    ]);
    let r = render(&d);
    let out = r.success();
    assert!(!out.contains("failoverPriority"), "{out}");
    r.stderr_has(&[
        "warning[policy-ignored]",
        "Gloo uses the mappings and ignores the priority labels",
        "--> policies.yaml:10:",
    ]);
}

#[test]
fn unknown_fields_of_the_new_kinds_are_input_errors() {
    render(&repo(&[&failover(
        "f",
        VD,
        "    localityMappings: [{from: {region: a, city: x}, to: [{region: b}]}]",
    )]))
    .input_error(&["city"]);
    render(&repo(&[&client_tls("t", VD, "disable: {now: true}")])).input_error(&["now"]);
}

fn client_tls(name: &str, select: &str, mode: &str) -> String {
    format!(
        "apiVersion: security.policy.gloo.solo.io/v2
kind: ClientTLSPolicy
metadata: {{name: {name}, namespace: app}}
spec:{select}
  {mode}
"
    )
}

/// Each DestinationRule's port-level `tls` as `(namespace/host, port, tls)`, sorted.
fn tls(out: &str) -> Vec<(String, u64, Value)> {
    let mut v = Vec::new();
    for doc in out.split("\n---\n") {
        let y: Value = serde_saphyr::from_str(doc).expect("rendered YAML");
        if y["kind"] != "DestinationRule" {
            continue;
        }
        let at = format!(
            "{}/{}",
            y["metadata"]["namespace"].as_str().unwrap_or_default(),
            y["spec"]["host"].as_str().unwrap_or_default()
        );
        for e in y["spec"]["trafficPolicy"]["portLevelSettings"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let port = e["port"]["number"].as_u64().unwrap_or(0);
            v.push((at.clone(), port, e["tls"].clone()));
        }
    }
    v.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    v
}

#[test]
fn client_tls_replaces_the_destination_s_tls_on_the_selected_ports() {
    // SIMPLE on the Service web's port 8080, SNI its host; ISTIO_MUTUAL on the
    // VirtualDestination keeps its own settings; MUTUAL replaces an HTTPS ExternalService's
    // SIMPLE, with the policy's SNI.
    let d = repo(&[
        &client_tls("web", WEB, "simple: {config: {credentialName: web-ca}}"),
        &client_tls("api", VD, "istioMutual: {}"),
        &client_tls(
            "db",
            "\n  applyToDestinations: [{kind: EXTERNAL_SERVICE}]",
            "mutual: {config: {credentialName: db-client, sni: sni.db.example.com}}",
        ),
        "apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: db, namespace: app}
spec:
  hosts: [db.example.com]
  ports: [{name: https, number: 443, protocol: HTTPS}]
",
    ]);
    let got = tls(render(&d).success());
    let want_web = serde_json::json!({"mode": "SIMPLE", "credentialName": "web-ca",
        "sni": "web.app.svc.cluster.local"});
    assert_eq!(
        got,
        vec![
            (
                "app/api.global".to_string(),
                80,
                serde_json::json!({"mode": "ISTIO_MUTUAL"})
            ),
            (
                "app/db.example.com".to_string(),
                443,
                serde_json::json!({"mode": "MUTUAL", "credentialName": "db-client",
                    "sni": "sni.db.example.com"})
            ),
            (
                "app/web.app.svc.cluster.local".to_string(),
                8080,
                want_web.clone()
            ),
            (
                "istio-gateways/db.example.com".to_string(),
                443,
                serde_json::json!({"mode": "MUTUAL", "credentialName": "db-client",
                    "sni": "sni.db.example.com"})
            ),
            (
                "istio-gateways/web.app.svc.cluster.local".to_string(),
                8080,
                want_web
            ),
        ]
    );
}

#[test]
fn client_tls_modes_gloo_or_istio_rejects_are_errors() {
    let d = repo(&[
        &client_tls("none", VD, ""),
        &client_tls("two", VD, "disable: {}\n  istioMutual: {}"),
        &client_tls("nocert", WEB, "mutual: {config: {sni: web}}"),
    ]);
    render(&d).fails(
        1,
        &[
            "error[policy-value]",
            "ClientTLSPolicy sets no mode; Gloo requires one of disable, simple, mutual and istioMutual",
            "ClientTLSPolicy sets both disable and istioMutual; Gloo takes one mode",
            "mutual TLS without config.credentialName",
        ],
    );
}

#[test]
fn a_changed_failover_policy_shows_in_diff_as_the_rule_field_it_changed_from_the_policy() {
    let t = TempRepo::new();
    t.git(&["init", "-q", "-b", "main"]);
    copy_tree(
        &root().join("fixtures/features/virtual-destination"),
        t.path(),
    );
    t.remove("virtualdestination.yaml");
    t.write("workspace.yaml", APP);
    let policy = failover(
        "spread",
        VD,
        "    localityMappings:
    - from: {region: a}
      to: [{region: b, weight: 100}]",
    );
    t.write("app/failover.yaml", &policy);
    t.commit("base");
    t.write(
        "app/failover.yaml",
        policy.replace("from: {region: a}", "from: {region: z}"),
    );
    let o = &support::policies::only_changed_object(&t);
    assert_eq!(o["kind"], "DestinationRule");
    assert_eq!(
        o["changedPaths"],
        serde_json::json!([
            "spec.trafficPolicy.portLevelSettings[port=80].loadBalancer.localityLbSetting.distribute[0].from"
        ])
    );
    assert!(
        support::policies::source_files(o).contains(&"app/failover.yaml"),
        "{o:#}"
    );
}
