//! VirtualService (`ValidateVirtualService`; docs/validation.md, "VirtualService").
//!
//! This module holds the top level (items 25–33); the parts of a route are in:
//! - `http_route`: "HTTP routes", a route and its conflicts, rewrite, redirect, direct response
//!   and mirrors (items 34, 37–40, 42, 45);
//! - `http_match`: item 35, HTTP match conditions;
//! - `headers`: item 36, header operations;
//! - `http_policies`: items 41, 43 and 44, retries, CORS and fault injection;
//! - `destination`: "Destinations and weights", route destinations and weights (items 46–51);
//! - `l4_route`: "TLS and TCP routes", TLS and TCP routes (items 53, 54);
//! - `unreachable`: item 33, the unreachable-route warnings.

mod destination;
mod headers;
mod http_match;
mod http_policies;
mod http_route;
mod l4_route;
mod unreachable;

use super::common::arr;
use super::Ctx;
use crate::diag::codes::Istio;
use crate::validate::grammar;
use crate::validate::Loc;
use serde_json::Value;

impl Ctx<'_> {
    /// Items 25–33; each HTTP route (item 31) is checked by `http_route`.
    pub(super) fn virtual_service(&mut self, spec: &Value, sp: &Loc<'_>) {
        let hosts = arr(spec, "hosts");
        let gateways = arr(spec, "gateways");
        let delegate = hosts.is_empty();
        // item 25
        if delegate {
            self.delegate_fields(spec, sp);
        }
        // item 26
        self.gateway_names(gateways, &sp.key("gateways"));
        // item 27
        let mesh = gateways.is_empty() || gateways.iter().any(|g| g.as_str() == Some("mesh"));
        self.virtual_service_hosts(hosts, sp, mesh);
        // item 30
        if ["http", "tcp", "tls"]
            .iter()
            .all(|k| arr(spec, k).is_empty())
        {
            self.err(
                Istio::RouteConflict,
                sp.clone(),
                "http, tcp or tls must be provided in virtual service",
            );
        }
        // item 31
        for (i, r) in arr(spec, "http").iter().enumerate() {
            let p = sp.key("http").index(i);
            if r.is_null() {
                self.err(Istio::RouteConflict, p, "http route may not be null");
                continue;
            }
            self.http_route(r, &p, delegate, mesh);
        }
        self.tls_routes(spec, sp, hosts);
        self.tcp_routes(spec, sp);
        // item 32
        self.export_to(spec, sp, false, false);
        // item 33
        self.unreachable(arr(spec, "http"), sp);
    }

    /// Item 25: a delegate VirtualService (no hosts) has no gateways, tls or tcp.
    fn delegate_fields(&mut self, spec: &Value, sp: &Loc<'_>) {
        for k in ["gateways", "tls", "tcp"] {
            if !arr(spec, k).is_empty() {
                self.err(
                    Istio::VsHost,
                    sp.key(k),
                    format!("a delegate virtual service (no hosts) must not have {k}"),
                );
            }
        }
    }

    /// Items 28 and 29: each host is valid, and no two hosts overlap.
    fn virtual_service_hosts(&mut self, hosts: &[Value], sp: &Loc<'_>, mesh: bool) {
        // item 28
        let mut all_valid = true;
        for (i, h) in hosts.iter().enumerate() {
            let h = h.as_str().unwrap_or("");
            let p = sp.key("hosts").index(i);
            if let Err(e) = grammar::wildcard_domain(h) {
                if !grammar::is_ip(h) {
                    self.err(Istio::VsHost, p, e);
                    all_valid = false;
                }
            } else if mesh && h == "*" {
                self.err(
                    Istio::VsHost,
                    p,
                    "wildcard host * is not allowed for virtual services bound to the mesh gateway",
                );
                all_valid = false;
            }
        }
        // item 29
        if all_valid {
            for i in 0..hosts.len() {
                for j in i + 1..hosts.len() {
                    let (a, b) = (
                        hosts[i].as_str().unwrap_or(""),
                        hosts[j].as_str().unwrap_or(""),
                    );
                    if grammar::hosts_match(a, b) {
                        self.err(
                            Istio::VsHost,
                            sp.key("hosts").index(j),
                            format!("duplicate hosts in virtual service: {a} & {b}"),
                        );
                    }
                }
            }
        }
    }

    /// Item 26 (`validateGatewayNames`), also for the `gateways` of a match (items 35, 53, 54).
    fn gateway_names(&mut self, gateways: &[Value], p: &Loc<'_>) {
        for (i, g) in gateways.iter().enumerate() {
            let g = g.as_str().unwrap_or("");
            let gp = p.index(i);
            match g.split_once('/') {
                Some((ns, name)) => {
                    if !grammar::is_label(ns) || !grammar::is_label(name) {
                        self.err(
                            Istio::GatewayName,
                            gp,
                            format!("invalid gateway name {g:?}: namespace and name must be DNS-1123 labels"),
                        );
                    }
                }
                None => {
                    if g.contains('.') {
                        let parts: Vec<&str> = g.split('.').collect();
                        self.warn(
                            Istio::GatewayName,
                            gp.clone(),
                            format!(
                                "using legacy gatewayName format {g:?}; prefer the <namespace>/<name> format: \"{}/{}\"",
                                parts.get(1).unwrap_or(&""),
                                parts[0]
                            ),
                        );
                    }
                    if let Err(e) = grammar::fqdn(g) {
                        self.err(Istio::GatewayName, gp, e);
                    }
                    // istiod stops at the first name without a namespace.
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run};
    use serde_json::{json, Value};

    fn route(host: &str) -> Value {
        json!({"route": [{"destination": {"host": host, "port": {"number": 80}}}]})
    }

    #[test]
    fn virtual_service_hosts_and_gateways() {
        let ok = json!({"hosts": ["*"], "gateways": ["virtualgateway-x"], "exportTo": ["."], "http": [route("httpbin.org")]});
        clean(&run("VirtualService", ok));
        let mesh = json!({"hosts": ["*"], "gateways": ["mesh"], "http": [route("a")]});
        has(
            &run("VirtualService", mesh),
            "istio-vs-host",
            "spec.hosts[0]",
            true,
        );
        let overlap = json!({"hosts": ["*.example.com", "api.example.com"], "http": [route("a")]});
        has(
            &run("VirtualService", overlap),
            "istio-vs-host",
            "spec.hosts[1]",
            true,
        );
        let ip = json!({"hosts": ["10.0.0.1"], "http": [route("a")]});
        clean(&run("VirtualService", ip));
        let gw = json!({"hosts": ["a.com"], "gateways": ["ns/Bad_gw"], "http": [route("a")]});
        has(
            &run("VirtualService", gw),
            "istio-gateway-name",
            "spec.gateways[0]",
            true,
        );
        let legacy = json!({"hosts": ["a.com"], "gateways": ["gw.ns"], "http": [route("a")]});
        has(
            &run("VirtualService", legacy),
            "istio-gateway-name",
            "spec.gateways[0]",
            false,
        );
        let delegate = json!({"gateways": ["gw"], "http": [route("a")]});
        has(
            &run("VirtualService", delegate),
            "istio-vs-host",
            "spec.gateways",
            true,
        );
        let empty = json!({"hosts": ["a.com"]});
        has(
            &run("VirtualService", empty),
            "istio-route-conflict",
            "spec",
            true,
        );
    }
}
