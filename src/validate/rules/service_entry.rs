//! ServiceEntry (`ValidateServiceEntry`; docs/validation.md, "ServiceEntry"), items 5–19, in the
//! checklist's order.

use super::common::{arr, num, s, set};
use super::Ctx;
use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::grammar::{self, Protocol};
use crate::validate::Loc;
use serde_json::Value;
use std::collections::BTreeSet;

/// The parts of a ServiceEntry that several of its rules read.
struct Entry<'v> {
    obj: &'v Value,
    spec: &'v Value,
    /// `resolution`, NONE when unset.
    resolution: &'v str,
    hosts: &'v [Value],
    addresses: &'v [Value],
    ports: &'v [Value],
    endpoints: &'v [Value],
}

impl Ctx<'_> {
    /// Items 5–19.
    pub(super) fn service_entry(&mut self, obj: &Value, spec: &Value, sp: &Loc<'_>) {
        let se = Entry {
            obj,
            spec,
            resolution: match s(spec, "resolution") {
                "" => "NONE",
                r => r,
            },
            hosts: arr(spec, "hosts"),
            addresses: arr(spec, "addresses"),
            ports: arr(spec, "ports"),
            endpoints: arr(spec, "endpoints"),
        };
        self.service_entry_selector(&se, sp);
        self.service_entry_hosts(&se, sp);
        self.service_entry_addresses(&se, sp);
        let port_names = self.service_entry_ports(&se, sp);
        self.service_entry_capture(&se, sp);
        match se.resolution {
            "NONE" => self.resolution_none(&se, sp),
            "STATIC" => self.resolution_static(&se, sp, &port_names),
            "DNS" | "DNS_ROUND_ROBIN" => self.resolution_dns(&se, sp, &port_names),
            "DYNAMIC_DNS" => self.resolution_dynamic_dns(&se, sp),
            _ => {}
        }
        self.service_entry_multi_host_ports(&se, sp);
        // item 19
        self.export_to(spec, sp, true, false);
    }

    /// Items 5 and 6: the workload selector, and not both a selector and endpoints.
    fn service_entry_selector(&mut self, se: &Entry<'_>, sp: &Loc<'_>) {
        if set(se.spec, "workloadSelector") {
            self.workload_selector(
                se.spec.at("workloadSelector"),
                &sp.key("workloadSelector"),
                "labels",
            );
        }
        // item 6
        if set(se.spec, "workloadSelector") && !se.endpoints.is_empty() {
            self.err(
                Istio::Resolution,
                sp.clone(),
                "only one of workloadSelector or endpoints is allowed in service entry",
            );
        }
    }

    /// Items 7–9: hosts.
    fn service_entry_hosts(&mut self, se: &Entry<'_>, sp: &Loc<'_>) {
        // item 7
        if se.hosts.is_empty() {
            self.err(
                Istio::Host,
                sp.key("hosts"),
                "service entry must have at least one host",
            );
        }
        for (i, h) in se.hosts.iter().enumerate() {
            let h = h.as_str().unwrap_or("");
            let p = sp.key("hosts").index(i);
            // item 8
            if h == "*" {
                self.err(Istio::Host, p, "invalid host *");
                continue;
            }
            if let Err(e) = grammar::wildcard_domain(h) {
                self.err(Istio::Host, p, e);
                continue;
            }
            // item 9
            if grammar::is_partial_wildcard(h) && se.resolution != "DYNAMIC_DNS" {
                self.warn(
                    Istio::Host,
                    p,
                    format!("host {h:?} is a partial wildcard; only `*.` prefixes are supported"),
                );
            }
        }
    }

    /// Items 10 and 11: addresses.
    fn service_entry_addresses(&mut self, se: &Entry<'_>, sp: &Loc<'_>) {
        let resolution = se.resolution;
        for (i, a) in se.addresses.iter().enumerate() {
            let a = a.as_str().unwrap_or("");
            let p = sp.key("addresses").index(i);
            // item 10
            if let Err(e) = grammar::ip_subnet(a) {
                self.err(Istio::Address, p, e);
            } else if a.contains('/') && !matches!(resolution, "NONE" | "STATIC") {
                // item 11
                self.err(
                    Istio::Address,
                    p,
                    format!("CIDR address {a} is allowed only with resolution NONE or STATIC, not {resolution}"),
                );
            }
        }
    }

    /// Item 12: ports. Returns the port names, which endpoint ports must name.
    fn service_entry_ports<'v>(&mut self, se: &Entry<'v>, sp: &Loc<'_>) -> BTreeSet<&'v str> {
        let mut names = BTreeSet::new();
        let mut numbers = BTreeSet::new();
        let mut port_names: BTreeSet<&str> = BTreeSet::new();
        for (i, port) in se.ports.iter().enumerate() {
            let p = sp.key("ports").index(i);
            if port.is_null() {
                self.err(Istio::Port, p, "service entry port may not be null");
                continue;
            }
            let name = s(port, "name");
            port_names.insert(name);
            if !names.insert(name) {
                self.err(
                    Istio::Port,
                    p.key("name"),
                    format!("port names must be unique: {name} is used twice"),
                );
            }
            let number = num(port, "number");
            if !numbers.insert(number) {
                self.err(
                    Istio::Port,
                    p.key("number"),
                    format!("port numbers must be unique: {number} is used twice"),
                );
            }
            if set(port, "targetPort")
                && num(port, "targetPort") != 0
                && !grammar::is_port(num(port, "targetPort"))
            {
                self.err(
                    Istio::Port,
                    p.key("targetPort"),
                    "targetPort must be in 1..65535",
                );
            }
            if !grammar::is_label(name) {
                self.err(
                    Istio::Port,
                    p.key("name"),
                    format!("invalid port name {name:?}: it must be a DNS-1123 label"),
                );
            }
            if Protocol::parse(s(port, "protocol")) == Protocol::Unsupported {
                self.err(
                    Istio::Port,
                    p.key("protocol"),
                    format!("unsupported protocol {:?}", s(port, "protocol")),
                );
            }
            if !grammar::is_port(number) {
                self.err(
                    Istio::Port,
                    p.key("number"),
                    "port number must be in 1..65535",
                );
            }
        }
        port_names
    }

    /// Item 13: without addresses or IP auto-allocation, a TCP (or unset) port captures all
    /// TCP traffic on its number.
    fn service_entry_capture(&mut self, se: &Entry<'_>, sp: &Loc<'_>) {
        let autoallocate = se.resolution != "NONE"
            && se
                .obj
                .at("metadata")
                .at("labels")
                .at("networking.istio.io/enable-autoallocate-ip")
                .as_str()
                != Some("false");
        if se.addresses.is_empty() && !autoallocate {
            for (i, port) in se.ports.iter().enumerate() {
                let proto = Protocol::parse(s(port, "protocol"));
                if matches!(proto, Protocol::Unset | Protocol::Known("TCP")) {
                    self.warn(
                        Istio::Port,
                        sp.key("ports").index(i),
                        "service entry has no addresses and a TCP (or unset) protocol port: all TCP \
                         traffic on this port is captured, whatever its destination",
                    );
                    break;
                }
            }
        }
    }

    /// Item 14: resolution NONE.
    fn resolution_none(&mut self, se: &Entry<'_>, sp: &Loc<'_>) {
        if !se.endpoints.is_empty() {
            self.err(
                Istio::Resolution,
                sp.key("endpoints"),
                "no endpoints should be provided for resolution type NONE",
            );
        }
        if set(se.spec, "workloadSelector") {
            self.warn(
                Istio::Resolution,
                sp.key("workloadSelector"),
                "workloadSelector is ignored with resolution NONE",
            );
        }
    }

    /// Item 15: resolution STATIC; each endpoint is checked as a WorkloadEntry (items 20–24).
    fn resolution_static(&mut self, se: &Entry<'_>, sp: &Loc<'_>, port_names: &BTreeSet<&str>) {
        for (i, ep) in se.endpoints.iter().enumerate() {
            let p = sp.key("endpoints").index(i);
            self.workload_entry(ep, &p, Some((port_names, se.ports.len(), true)));
        }
    }

    /// Item 16: resolution DNS and DNS_ROUND_ROBIN.
    fn resolution_dns(&mut self, se: &Entry<'_>, sp: &Loc<'_>, port_names: &BTreeSet<&str>) {
        let resolution = se.resolution;
        if se.endpoints.is_empty() {
            for (i, h) in se.hosts.iter().enumerate() {
                if let Err(e) = grammar::fqdn(h.as_str().unwrap_or("")) {
                    self.err(
                        Istio::Resolution,
                        sp.key("hosts").index(i),
                        format!("hosts must be FQDNs with resolution {resolution} and no endpoints: {e}"),
                    );
                    break;
                }
            }
        }
        if resolution == "DNS_ROUND_ROBIN" && se.endpoints.len() > 1 {
            self.err(
                Istio::Resolution,
                sp.key("endpoints"),
                format!(
                    "there must only be 0 or 1 endpoint for resolution DNS_ROUND_ROBIN, found {}",
                    se.endpoints.len()
                ),
            );
        }
        for (i, ep) in se.endpoints.iter().enumerate() {
            let p = sp.key("endpoints").index(i);
            let addr = s(ep, "address");
            if !grammar::is_ip(addr) && grammar::fqdn(addr).is_err() {
                self.err(
                    Istio::Endpoint,
                    p.key("address"),
                    format!("endpoint address {addr:?} is not a valid FQDN or an IP address"),
                );
            }
            self.labels(Istio::Endpoint, ep, "labels", &p);
            self.endpoint_ports(ep, &p, Some(port_names));
        }
        let tcp = se
            .ports
            .iter()
            .any(|p| Protocol::parse(s(p, "protocol")).is_tcp());
        if !se.addresses.is_empty() && tcp && se.hosts.len() > 1 {
            self.warn(
                Istio::Resolution,
                sp.key("hosts"),
                "service entry with addresses, TCP ports and several hosts: the hosts cannot be told apart",
            );
        }
    }

    /// Item 17: resolution DYNAMIC_DNS.
    fn resolution_dynamic_dns(&mut self, se: &Entry<'_>, sp: &Loc<'_>) {
        for (i, h) in se.hosts.iter().enumerate() {
            if !h.as_str().unwrap_or("").starts_with('*') {
                self.err(
                    Istio::Resolution,
                    sp.key("hosts").index(i),
                    "hosts must be wildcards (start with *) with resolution DYNAMIC_DNS",
                );
            }
        }
        if !se.addresses.is_empty() {
            self.err(
                Istio::Resolution,
                sp.key("addresses"),
                "addresses are not allowed with resolution DYNAMIC_DNS",
            );
        }
        if !se.endpoints.is_empty() {
            self.err(
                Istio::Resolution,
                sp.key("endpoints"),
                "endpoints are not allowed with resolution DYNAMIC_DNS",
            );
        }
        for (i, port) in se.ports.iter().enumerate() {
            let proto = Protocol::parse(s(port, "protocol"));
            if !matches!(proto, Protocol::Known("HTTP" | "TLS" | "GRPC" | "HTTP2")) {
                self.err(
                    Istio::Resolution,
                    sp.key("ports").index(i).key("protocol"),
                    "resolution DYNAMIC_DNS supports only HTTP, TLS, GRPC and HTTP2 ports",
                );
            }
        }
        let waypoint = se
            .obj
            .at("metadata")
            .at("labels")
            .at("istio.io/use-waypoint")
            .as_str();
        if s(se.spec, "location") == "MESH_INTERNAL" && waypoint.is_some_and(|w| w != "none") {
            self.err(
                Istio::Resolution,
                sp.key("location"),
                "MESH_INTERNAL with resolution DYNAMIC_DNS cannot use a waypoint",
            );
        }
    }

    /// Item 18: with a resolution other than NONE, several hosts need HTTP or TLS ports.
    fn service_entry_multi_host_ports(&mut self, se: &Entry<'_>, sp: &Loc<'_>) {
        let resolution = se.resolution;
        if resolution != "NONE" && se.hosts.len() > 1 {
            for (i, port) in se.ports.iter().enumerate() {
                let proto = Protocol::parse(s(port, "protocol"));
                if !proto.is_http() && !proto.is_tls() {
                    self.err(
                        Istio::Port,
                        sp.key("ports").index(i).key("protocol"),
                        format!(
                            "multiple hosts provided with non-HTTP, non-TLS ports (protocol {:?}, resolution {resolution})",
                            s(port, "protocol")
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run, se_dns};
    use serde_json::json;

    #[test]
    fn service_entry_hosts() {
        let mut spec = se_dns();
        spec["hosts"] = json!(["foo.*.com"]);
        has(
            &run("ServiceEntry", spec.clone()),
            "istio-host",
            "spec.hosts[0]",
            true,
        );
        spec["hosts"] = json!(["*foo.com"]);
        spec["resolution"] = json!("NONE");
        spec["ports"][0]["protocol"] = json!("HTTP");
        has(
            &run("ServiceEntry", spec.clone()),
            "istio-host",
            "spec.hosts[0]",
            false,
        );
        spec["hosts"] = json!([]);
        has(&run("ServiceEntry", spec), "istio-host", "spec.hosts", true);
    }

    #[test]
    fn service_entry_addresses() {
        let ok = json!({"hosts": ["db.internal"], "addresses": ["10.0.0.0/24", "10.1.1.1"],
                        "resolution": "NONE", "exportTo": ["."],
                        "ports": [{"name": "tcp", "number": 5432, "protocol": "TCP"}]});
        clean(&run("ServiceEntry", ok.clone()));
        let mut bad = ok.clone();
        bad["addresses"] = json!(["10.0.0.0/24", "not-an-ip"]);
        bad["resolution"] = json!("DNS");
        let p = run("ServiceEntry", bad);
        has(&p, "istio-address", "spec.addresses[0]", true);
        has(&p, "istio-address", "spec.addresses[1]", true);
    }

    #[test]
    fn service_entry_ports() {
        let spec = json!({"hosts": ["a.com"], "resolution": "DNS",
            "ports": [{"name": "http", "number": 80, "protocol": "HTTP"},
                      {"name": "http", "number": 80, "protocol": "HBONE", "targetPort": 70000},
                      {"name": "Bad_Name", "number": 0}]});
        let p = run("ServiceEntry", spec);
        has(&p, "istio-port", "spec.ports[1].name", true);
        has(&p, "istio-port", "spec.ports[1].number", true);
        has(&p, "istio-port", "spec.ports[1].protocol", true);
        has(&p, "istio-port", "spec.ports[1].targetPort", true);
        has(&p, "istio-port", "spec.ports[2].name", true);
        has(&p, "istio-port", "spec.ports[2].number", true);
    }

    #[test]
    fn service_entry_tcp_without_address_warns() {
        let spec = json!({"hosts": ["*.example.com"], "resolution": "NONE",
            "ports": [{"name": "tcp", "number": 9000, "protocol": "TCP"}]});
        has(
            &run("ServiceEntry", spec),
            "istio-port",
            "spec.ports[0]",
            false,
        );
    }

    #[test]
    fn service_entry_resolution_rules() {
        // NONE with endpoints
        let spec = json!({"hosts": ["a.com"], "resolution": "NONE",
            "endpoints": [{"address": "1.2.3.4"}],
            "ports": [{"name": "http", "number": 80, "protocol": "HTTP"}]});
        has(
            &run("ServiceEntry", spec),
            "istio-resolution",
            "spec.endpoints",
            true,
        );
        // DNS with a wildcard host and no endpoints
        let spec = json!({"hosts": ["*.a.com"], "resolution": "DNS",
            "ports": [{"name": "http", "number": 80, "protocol": "HTTP"}]});
        has(
            &run("ServiceEntry", spec),
            "istio-resolution",
            "spec.hosts[0]",
            true,
        );
        // DNS with a wildcard host and endpoints is fine
        let spec = json!({"hosts": ["*.a.com"], "resolution": "DNS", "exportTo": ["."],
            "endpoints": [{"address": "backend.a.com", "ports": {"http": 8080}}],
            "ports": [{"name": "http", "number": 80, "protocol": "HTTP"}]});
        clean(&run("ServiceEntry", spec));
        // STATIC endpoints must be IPs and name service ports
        let spec = json!({"hosts": ["a.com"], "resolution": "STATIC", "exportTo": ["."],
            "endpoints": [{"address": "1.2.3.4", "labels": {"app": "a"}, "ports": {"http": 8080}, "locality": "us-east/zone-a"},
                          {"address": "backend.a.com", "ports": {"grpc": 9000}}],
            "ports": [{"name": "http", "number": 80, "protocol": "HTTP"}]});
        let p = run("ServiceEntry", spec);
        has(&p, "istio-endpoint", "spec.endpoints[1].address", true);
        has(&p, "istio-endpoint", "spec.endpoints[1].ports.grpc", true);
        assert_eq!(p.len(), 2, "{p:#?}");
        // several hosts need HTTP or TLS ports
        let spec = json!({"hosts": ["a.com", "b.com"], "resolution": "DNS",
            "ports": [{"name": "tcp", "number": 5432, "protocol": "TCP"}, {"name": "x", "number": 81}]});
        let p = run("ServiceEntry", spec);
        has(&p, "istio-port", "spec.ports[0].protocol", true);
        has(&p, "istio-port", "spec.ports[1].protocol", true);
        // DNS_ROUND_ROBIN with two endpoints
        let spec = json!({"hosts": ["a.com"], "resolution": "DNS_ROUND_ROBIN",
            "endpoints": [{"address": "1.1.1.1"}, {"address": "2.2.2.2"}],
            "ports": [{"name": "http", "number": 80, "protocol": "HTTP"}]});
        has(
            &run("ServiceEntry", spec),
            "istio-resolution",
            "spec.endpoints",
            true,
        );
        // DYNAMIC_DNS
        let spec = json!({"hosts": ["a.com"], "resolution": "DYNAMIC_DNS",
            "ports": [{"name": "tcp", "number": 80, "protocol": "TCP"}]});
        let p = run("ServiceEntry", spec);
        has(&p, "istio-resolution", "spec.hosts[0]", true);
        has(&p, "istio-resolution", "spec.ports[0].protocol", true);
    }

    #[test]
    fn service_entry_workload_selector() {
        let spec = json!({"hosts": ["a.global"], "resolution": "STATIC", "location": "MESH_INTERNAL",
            "addresses": ["240.0.0.1"], "exportTo": ["."],
            "workloadSelector": {"labels": {"app": "a"}},
            "ports": [{"name": "http-9080", "number": 9080, "protocol": "HTTP"}]});
        clean(&run("ServiceEntry", spec.clone()));
        let mut bad = spec;
        bad["workloadSelector"] = json!({"labels": {"app": "a*"}});
        bad["endpoints"] = json!([{"address": "1.1.1.1"}]);
        let p = run("ServiceEntry", bad);
        has(
            &p,
            "istio-workload-selector",
            "spec.workloadSelector.labels.app",
            true,
        );
        has(&p, "istio-resolution", "spec", true);
    }
}
