//! docs/validation.md, "TLS and TCP routes": TLS routes (item 53) and TCP routes (item 54).

use crate::diag::codes::Istio;
use crate::validate::grammar;
use crate::validate::rules::common::{arr, num, set};
use crate::validate::rules::Ctx;
use crate::validate::Loc;
use serde_json::Value;

impl Ctx<'_> {
    /// What TLS and TCP matches share: `destinationSubnets`, `port`, `sourceLabels`, `gateways`.
    fn l4_match_common(&mut self, m: &Value, p: &Loc<'_>) {
        for (i, sub) in arr(m, "destinationSubnets").iter().enumerate() {
            if let Err(e) = grammar::ip_subnet(sub.as_str().unwrap_or("")) {
                self.err(Istio::Match, p.key("destinationSubnets").index(i), e);
            }
        }
        let port = num(m, "port");
        if set(m, "port") && !grammar::is_port(port) {
            self.err(Istio::Match, p.key("port"), "port must be in 1..65535");
        }
        self.labels(Istio::Match, m, "sourceLabels", p);
        self.gateway_names(arr(m, "gateways"), &p.key("gateways"));
    }

    /// Item 53: `tls` routes; each SNI host must be within the VirtualService's hosts.
    pub(super) fn tls_routes(&mut self, spec: &Value, sp: &Loc<'_>, hosts: &[Value]) {
        for (i, r) in arr(spec, "tls").iter().enumerate() {
            let p = sp.key("tls").index(i);
            let matches = arr(r, "match");
            if matches.is_empty() {
                self.err(
                    Istio::TlsRoute,
                    p.key("match"),
                    "TLS route must have at least one match condition",
                );
            }
            for (j, m) in matches.iter().enumerate() {
                let mp = p.key("match").index(j);
                let sni = arr(m, "sniHosts");
                if sni.is_empty() {
                    self.err(
                        Istio::TlsRoute,
                        mp.key("sniHosts"),
                        "TLS match must have at least one SNI host",
                    );
                }
                for (k, h) in sni.iter().enumerate() {
                    let h = h.as_str().unwrap_or("");
                    let hp = mp.key("sniHosts").index(k);
                    if grammar::is_ip(h) {
                        self.warn(
                            Istio::TlsRoute,
                            hp.clone(),
                            format!(
                                "SNI host {h} is an IP address; clients do not send IPs in SNI"
                            ),
                        );
                    } else if let Err(e) = grammar::wildcard_domain(h) {
                        self.err(Istio::TlsRoute, hp.clone(), e);
                        continue;
                    }
                    let covered = hosts
                        .iter()
                        .any(|vh| grammar::host_subset_of(h, vh.as_str().unwrap_or("")));
                    if !covered {
                        self.err(
                            Istio::TlsRoute,
                            hp,
                            format!(
                                "SNI host {h} is not a subset of any of the virtual service hosts"
                            ),
                        );
                    }
                }
                self.l4_match_common(m, &mp);
            }
            let routes = arr(r, "route");
            if routes.is_empty() {
                self.err(Istio::TlsRoute, p.key("route"), "TLS route is required");
            }
            self.destinations(routes, &p.key("route"), false);
        }
    }

    /// Item 54: `tcp` routes.
    pub(super) fn tcp_routes(&mut self, spec: &Value, sp: &Loc<'_>) {
        for (i, r) in arr(spec, "tcp").iter().enumerate() {
            let p = sp.key("tcp").index(i);
            for (j, m) in arr(r, "match").iter().enumerate() {
                let mp = p.key("match").index(j);
                if m.is_null() {
                    self.err(Istio::TcpRoute, mp, "TCP match may not be null");
                    continue;
                }
                self.l4_match_common(m, &mp);
            }
            let routes = arr(r, "route");
            if routes.is_empty() {
                self.err(Istio::TcpRoute, p.key("route"), "TCP route is required");
            }
            self.destinations(routes, &p.key("route"), false);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run};
    use serde_json::json;

    #[test]
    fn tls_and_tcp_route_rules() {
        let ok = json!({"hosts": ["*.example.com"], "gateways": ["mesh"],
            "tls": [{"match": [{"sniHosts": ["a.example.com"], "port": 443}], "route": [{"destination": {"host": "a.example.com"}}]}],
            "tcp": [{"match": [{"port": 5432, "destinationSubnets": ["10.0.0.0/8"]}], "route": [{"destination": {"host": "db"}}]}]});
        clean(&run("VirtualService", ok));
        let bad = json!({"hosts": ["*.example.com"],
            "tls": [{"match": [{"sniHosts": ["other.com"]}, {}], "route": []}],
            "tcp": [{"match": [{"destinationSubnets": ["x"]}], "route": []}]});
        let p = run("VirtualService", bad);
        has(
            &p,
            "istio-tls-route",
            "spec.tls[0].match[0].sniHosts[0]",
            true,
        );
        has(&p, "istio-tls-route", "spec.tls[0].match[1].sniHosts", true);
        has(&p, "istio-tls-route", "spec.tls[0].route", true);
        has(
            &p,
            "istio-match",
            "spec.tcp[0].match[0].destinationSubnets[0]",
            true,
        );
        has(&p, "istio-tcp-route", "spec.tcp[0].route", true);
    }
}
