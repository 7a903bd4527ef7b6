//! VirtualGateway → Gateway through the CLI (docs/translation.md, "VirtualGateway → Gateway"):
//! port names that never repeat in a Gateway, listener TLS parameters in Gloo's spelling, and
//! `allowedRouteTables[].host` in `namespace/host` form.

mod support;
use support::{meshform, root, TempRepo};

use std::collections::BTreeSet;

/// The rendered objects of a repo, from `render -o json`.
fn render_json(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let run = meshform().args(["render", "-o", "json"]).arg(dir).run();
    let out = run.success();
    serde_json::from_str::<Vec<serde_json::Value>>(out).expect("a JSON array")
}

/// (first host, port name) of every Gateway server.
fn gateway_ports(objects: &[serde_json::Value]) -> Vec<(String, String)> {
    objects
        .iter()
        .filter(|o| o["kind"] == "Gateway")
        .flat_map(|o| o["spec"]["servers"].as_array().cloned().unwrap_or_default())
        .map(|s| {
            (
                s["hosts"][0].as_str().unwrap_or_default().to_string(),
                s["port"]["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_wildcard_and_its_apex_and_hosts_differing_in_dot_or_dash_get_unique_port_names() {
    let dir = root().join("fixtures/features/gateway-wildcard-apex");
    let ports = gateway_ports(&render_json(&dir));
    let names: BTreeSet<&str> = ports.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names.len(), ports.len(), "repeated port names: {ports:#?}");
    // The plain form is kept where no other host gives the same name.
    assert!(
        ports.contains(&("www.example.com".into(), "http-8080-www-example-com".into())),
        "{ports:#?}"
    );
    // meshform's own validation passes the Gateway (it rejects repeated names, see the
    // adversarial case gateway-duplicate-port-names).
    meshform().arg("check").arg(&dir).run().exit(0);
}

#[test]
fn port_names_do_not_depend_on_the_order_hosts_are_listed_in() {
    let fixture = root().join("fixtures/features/gateway-wildcard-apex");
    let repo = TempRepo::copy_of(&fixture);
    let text = std::fs::read_to_string(repo.join("gateway.yaml")).expect("fixture");
    let swapped = text.replace(
        "    - host: '*.shop.example.com'\n    - host: shop.example.com\n    - host: a-b.com\n    - host: a.b.com\n",
        "    - host: a.b.com\n    - host: shop.example.com\n    - host: a-b.com\n    - host: '*.shop.example.com'\n",
    );
    assert_ne!(text, swapped, "the fixture's host list changed");
    repo.write("gateway.yaml", swapped);
    let mut before = gateway_ports(&render_json(&fixture));
    let mut after = gateway_ports(&render_json(repo.path()));
    before.sort();
    after.sort();
    assert_eq!(before, after);
}

#[test]
fn tls_parameters_are_read_in_gloo_spelling_and_written_in_istio_spelling() {
    let dir = root().join("fixtures/features/gateway-tls-parameters");
    let objects = render_json(&dir);
    let tls = &objects
        .iter()
        .find(|o| o["kind"] == "Gateway")
        .expect("a Gateway")["spec"]["servers"][0]["tls"];
    assert_eq!(tls["minProtocolVersion"], "TLSV1_2");
    assert_eq!(tls["maxProtocolVersion"], "TLSV1_3");
    assert_eq!(tls["cipherSuites"][1], "ECDHE-RSA-AES128-GCM-SHA256");
}

/// A copy of the TLS parameters fixture whose first listener's parameters are `params`.
fn with_parameters(params: &str) -> TempRepo {
    let repo = TempRepo::copy_of(&root().join("fixtures/features/gateway-tls-parameters"));
    let text = std::fs::read_to_string(repo.join("gateway.yaml")).expect("fixture");
    let from = "        minimumProtocolVersion: TLSv1_2\n";
    assert!(text.contains(from));
    repo.write("gateway.yaml", text.replace(from, params));
    repo
}

#[test]
fn istio_names_for_tls_parameters_are_unknown_fields_pointed_at_gloo_names() {
    let repo = with_parameters("        minProtocolVersion: TLSV1_2\n");
    meshform()
        .arg("render")
        .arg(repo.path())
        .run()
        .input_error(&[
            "error[unknown-field]",
            "`spec.listeners[0].tls.parameters.minProtocolVersion`",
            "did you mean `minimumProtocolVersion`?",
            "--> gateway.yaml:18:9",
        ]);
}

#[test]
fn ecdh_curves_is_not_a_gloo_field_and_is_an_error_at_its_line() {
    // Istio's ServerTLSSettings has no ECDH curves, and neither has Gloo's TLSConfig.Parameters:
    // the field is an error, never dropped in silence.
    let repo =
        with_parameters("        minimumProtocolVersion: TLSv1_2\n        ecdhCurves: [X25519]\n");
    meshform()
        .arg("render")
        .arg(repo.path())
        .run()
        .input_error(&[
            "error[unknown-field]",
            "`spec.listeners[0].tls.parameters.ecdhCurves`",
            "--> gateway.yaml:19:9",
        ]);
}

#[test]
fn namespaced_hosts_give_dns_name_servers_and_bind_tables_of_that_namespace() {
    let dir = root().join("fixtures/features/gateway-namespaced-hosts");
    let run = meshform().args(["render", "-o", "json"]).arg(&dir).run();
    let objects: Vec<serde_json::Value> =
        serde_json::from_str(run.success()).expect("a JSON array");
    let ports = gateway_ports(&objects);
    let hosts: Vec<&str> = ports.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        hosts,
        ["*.shop.example.com", "admin.example.com", "www.example.com"]
    );
    assert!(ports.iter().all(|(_, n)| !n.contains('/')), "{ports:#?}");
    let bound: BTreeSet<&str> = objects
        .iter()
        .filter(|o| o["kind"] == "VirtualService")
        .map(|o| {
            o["metadata"]["labels"]["gloo.solo.io/parent_name"]
                .as_str()
                .unwrap_or_default()
        })
        .collect();
    // `other` (namespace web) matches `shop/*.shop.example.com` by host but not by namespace.
    assert_eq!(bound, BTreeSet::from(["admin", "shop", "www"]));
    run.stderr_has(&[
        "warning[host-not-allowed]",
        "for a RouteTable in namespace web",
        "routetables.yaml:17:",
    ]);
}

#[test]
fn istio_findings_on_a_gateway_point_at_the_listener_field_that_made_them() {
    let repo = TempRepo::copy_of(&root().join("fixtures/features/virtual-gateway"));
    repo.write(
        "gateway.yaml",
        "apiVersion: networking.gloo.solo.io/v2
kind: VirtualGateway
metadata: {name: ingress, namespace: istio-gateways}
spec:
  workloads:
  - selector: {labels: {istio: ingressgateway}}
  listeners:
  - http: {}
    port: {number: 443}
    tls: {mode: SIMPLE}
    allowedRouteTables: [{host: a.example.com}, {host: shop}]
",
    );
    meshform().arg("render").arg(repo.path()).run().fails(
        1,
        &[
            "error[istio-server-tls]",
            "spec.servers[0].tls.serverCertificate: SIMPLE TLS requires a server certificate",
            "--> gateway.yaml:10:10",
            "field: spec.listeners[0].tls",
            "error[istio-gateway-server]",
            "\"shop\": short names (non FQDN) are not allowed",
            "--> gateway.yaml:11:56",
            "field: spec.listeners[0].allowedRouteTables[1].host",
        ],
    );
}
