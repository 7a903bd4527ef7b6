//! Egress through VirtualGateways (docs/translation.md#egress): the fixture
//! `fixtures/features/egress` renders the egress objects, and each broken constraint of
//! `egressGatewayRoutes` and `exposedExternalServices` is an error at its field.

mod support;
use support::{meshform, root, Run, TempRepo};

/// The fixture's egress.yaml: the ExternalService (lines 4-17) and the VirtualGateway.
fn egress_yaml() -> String {
    std::fs::read_to_string(root().join("fixtures/features/egress/egress.yaml"))
        .expect("the egress fixture")
}

/// A copy of the fixture.
fn fixture() -> TempRepo {
    TempRepo::copy_of(&root().join("fixtures/features/egress"))
}

/// The fixture with `from` replaced by `to` in egress.yaml.
fn with(from: &str, to: &str) -> TempRepo {
    let d = fixture();
    let text = egress_yaml();
    assert!(text.contains(from), "egress.yaml lacks {from:?}");
    d.write("egress.yaml", text.replacen(from, to, 1));
    d
}

fn render(d: &TempRepo) -> Run {
    meshform().arg("render").arg(d.path()).run()
}

#[test]
fn mesh_traffic_goes_through_the_egress_gateway() {
    let d = fixture();
    let r = render(&d);
    r.success();
    r.stdout_has(&[
        // The sidecars' route on portMatch to the egress gateway, by its subset.
        "    - gateways:\n      - mesh\n      port: 80\n    route:\n    - destination:\n        host: istio-egressgateway.istio-gateways.svc.cluster.local\n        port:\n          number: 443\n        subset: httpbin-bookinfo-frontends-cluster1-httpbin-org",
        // The gateway's route to the host, on the Gateway server's port.
        "      port: 8443\n    route:\n    - destination:\n        host: httpbin.org\n        port:\n          number: 443",
        // ISTIO_MUTUAL from the sidecars, with the host as SNI.
        "        tls:\n          mode: ISTIO_MUTUAL\n          sni: httpbin.org",
        // The Gateway serves the exposed host.
        "  - hosts:\n    - httpbin.org\n    port:\n      name: https-8443-httpbin-org",
        // The ServiceEntry has the port the sidecars match.
        "  - name: http-egress-80\n    number: 80\n    protocol: HTTP",
    ]);
}

#[test]
fn several_gateways_share_the_traffic_evenly() {
    let d = with(
        "      - {cluster: cluster1, name: egress-gw, namespace: istio-gateways}\n",
        "      - {cluster: cluster1, name: egress-gw, namespace: istio-gateways}\n      - {cluster: cluster1, name: egress-gw-b, namespace: istio-gateways}\n",
    );
    d.write(
        "egress-b.yaml",
        "apiVersion: networking.gloo.solo.io/v2
kind: VirtualGateway
metadata: {name: egress-gw-b, namespace: istio-gateways}
spec:
  workloads:
  - selector: {labels: {istio: egressgateway-b}}
  listeners:
  - http: {}
    port: {number: 443}
    tls: {mode: ISTIO_MUTUAL}
",
    );
    let config = std::fs::read_to_string(d.join("meshform.yaml")).expect("meshform.yaml");
    d.write(
        "meshform.yaml",
        format!(
            "{config}  - name: egress-b
    namespace: istio-gateways
    selector: {{istio: egressgateway-b}}
    ports:
    - {{name: https, port: 443, targetPort: 8443}}
"
        ),
    );
    let r = render(&d);
    r.success();
    r.stdout_has(&[
        "        host: istio-egressgateway.istio-gateways.svc.cluster.local\n        port:\n          number: 443\n        subset: httpbin-bookinfo-frontends-cluster1-httpbin-org\n      weight: 50\n    - destination:\n        host: egress-b.istio-gateways.svc.cluster.local",
        "      weight: 50\n",
    ]);
}

#[test]
fn addresses_cannot_be_routed_through_an_egress_gateway() {
    let d = with("hosts: [httpbin.org]", "addresses: [203.0.113.7]");
    render(&d).fails(
        1,
        &[
            "error[egress-route]",
            "need an ExternalService with hosts, not addresses",
            "egress.yaml:15:7",
        ],
    );
}

#[test]
fn only_http_http2_and_https_ports_are_routed_through_an_egress_gateway() {
    let d = with("protocol: HTTPS", "protocol: TLS");
    render(&d).fails(
        1,
        &[
            "error[egress-route]",
            "this port's protocol is TLS",
            "egress.yaml:12:15",
        ],
    );
}

#[test]
fn port_match_is_unique_per_external_service() {
    let d = with(
        "    clientsideTls: {}\n",
        "    clientsideTls: {}\n    egressGatewayRoutes:\n      virtualGatewayRefs: [{name: egress-gw, namespace: istio-gateways}]\n  - name: http\n    number: 8080\n    protocol: HTTP\n",
    );
    render(&d).fails(
        1,
        &[
            "error[egress-route]",
            "portMatch 80 is also that of spec.ports[0]",
            "field: spec.ports[1].egressGatewayRoutes.portMatch",
            "egress.yaml:20:18",
        ],
    );
}

#[test]
fn a_missing_virtual_gateway_is_an_error_at_its_reference() {
    let d = with(
        "name: egress-gw, namespace: istio-gateways}",
        "name: egress, namespace: istio-gateways}",
    );
    render(&d).fails(
        1,
        &[
            "error[unresolved-virtual-gateway]",
            "VirtualGateway istio-gateways/egress in cluster cluster1 does not exist",
            "egress.yaml:17:9",
        ],
    );
}

#[test]
fn a_gateway_that_does_not_expose_the_service_is_an_error_at_the_reference() {
    let d = with("    - host: httpbin.org", "    - host: example.org");
    render(&d).fails(
        1,
        &[
            "error[egress-not-exposed]",
            "no HTTP listener of VirtualGateway istio-gateways/egress-gw exposes this ExternalService",
            "egress.yaml:17:9",
        ],
    );
    // A selector that does not select the ExternalService does not expose it either.
    let d = with(
        "    - host: httpbin.org",
        "    - host: httpbin.org\n      selector: {labels: {egress: allowed}}",
    );
    render(&d).fails(1, &["error[egress-not-exposed]"]);
}

#[test]
fn the_service_must_be_visible_in_the_gateways_workspace() {
    let d = fixture();
    let ws = std::fs::read_to_string(d.join("workspaces.yaml")).expect("workspaces.yaml");
    d.write(
        "workspaces.yaml",
        ws.replacen(
            "resources: [{kind: EXTERNAL_SERVICE}]",
            "resources: [{kind: ROUTE_TABLE}]",
            1,
        ),
    );
    render(&d).fails(
        1,
        &[
            "error[not-visible-to-gateway]",
            "not visible in workspace `gateways` of VirtualGateway istio-gateways/egress-gw",
            "egress.yaml:17:9",
        ],
    );
}

#[test]
fn an_egress_listener_terminating_tls_itself_is_an_error() {
    let d = with(
        "tls: {mode: ISTIO_MUTUAL}",
        "tls: {mode: SIMPLE, secretName: egress}",
    );
    render(&d).fails(
        1,
        &[
            "error[egress-route]",
            "has TLS mode SIMPLE",
            "egress.yaml:17:9",
        ],
    );
}

#[test]
fn a_cluster_without_the_egress_gateway_is_an_error() {
    let d = with(
        "{labels: {istio: egressgateway}, cluster: cluster1}",
        "{labels: {istio: other}}",
    );
    render(&d).fails(
        1,
        &[
            "error[no-egress-gateway]",
            "no egress gateway of these VirtualGateways is in cluster cluster1",
            "egress.yaml:17:9",
        ],
    );
}

#[test]
fn two_ports_through_one_egress_listener_are_an_error_not_a_dead_route() {
    // Both ports reach the one HTTPS listener: at the gateway the second port's requests
    // would match the first port's route.
    let d = with(
        "      - {cluster: cluster1, name: egress-gw, namespace: istio-gateways}\n",
        "      - {cluster: cluster1, name: egress-gw, namespace: istio-gateways}\n  - name: https-alt\n    number: 8443\n    protocol: HTTPS\n    clientsideTls: {}\n    egressGatewayRoutes:\n      portMatch: 8080\n      virtualGatewayRefs:\n      - {cluster: cluster1, name: egress-gw, namespace: istio-gateways}\n",
    );
    render(&d).fails(
        1,
        &[
            "error[egress-route]",
            "spec.ports[0] already goes through the same egress gateway listener",
            "field: spec.ports[1].egressGatewayRoutes.virtualGatewayRefs",
        ],
    );
}
