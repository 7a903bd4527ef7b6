//! docs/validation.md, "WorkloadEntry": WorkloadEntry and ServiceEntry STATIC endpoints
//! (`ValidateWorkloadEntry` → `validateWorkloadEntry`), items 20–24, and the endpoint port rules
//! that DNS endpoints (item 16) share.

use super::common::{map, s, set};
use super::Ctx;
use crate::diag::codes::Istio;
use crate::validate::grammar;
use crate::validate::Loc;
use serde_json::Value;
use std::collections::BTreeSet;

impl Ctx<'_> {
    /// Items 20–24. `se` is `(service port names, service port count, static)` for ServiceEntry
    /// endpoints.
    pub(super) fn workload_entry(
        &mut self,
        we: &Value,
        p: &Loc<'_>,
        se: Option<(&BTreeSet<&str>, usize, bool)>,
    ) {
        let addr = s(we, "address");
        // item 20
        if addr.is_empty() {
            if s(we, "network").is_empty() {
                self.err(Istio::Endpoint, p.key("address"), "address is required");
            } else {
                self.warn(
                    Istio::Endpoint,
                    p.key("address"),
                    "address is empty: the endpoint is reached only through its network's gateway",
                );
            }
        } else if let Some(path) = addr.strip_prefix("unix://") {
            // item 21
            if !(path.starts_with('/') || path.starts_with('@')) || path.ends_with('/') {
                self.err(
                    Istio::Endpoint,
                    p.key("address"),
                    format!("{addr:?}: a unix address must be an absolute path or an abstract socket, not a directory"),
                );
            }
            if set(we, "ports") {
                self.err(
                    Istio::Endpoint,
                    p.key("ports"),
                    "a unix address may not have ports",
                );
            }
            if let Some((_, n, _)) = se {
                if n != 1 {
                    self.err(
                        Istio::Endpoint,
                        p.key("address"),
                        "a service entry with a unix endpoint must have exactly one port",
                    );
                }
            }
        } else if !grammar::is_ip(addr) {
            // item 22
            let fqdn_ok = se.is_none() && grammar::fqdn(addr).is_ok();
            if !fqdn_ok {
                self.err(
                    Istio::Endpoint,
                    p.key("address"),
                    format!("endpoint address {addr:?} is not a valid IP address"),
                );
            }
        }
        // items 23, 24
        self.endpoint_ports(we, p, se.map(|(names, _, _)| names));
        self.labels(Istio::Endpoint, we, "labels", p);
    }

    /// Items 16 and 23: endpoint port names and numbers; `service_ports` are the ServiceEntry's
    /// port names, which a ServiceEntry endpoint's ports must name.
    pub(super) fn endpoint_ports(
        &mut self,
        ep: &Value,
        p: &Loc<'_>,
        service_ports: Option<&BTreeSet<&str>>,
    ) {
        let Some(ports) = map(ep, "ports") else {
            return;
        };
        for (k, val) in ports {
            let pp = p.key("ports").key(k);
            if let Some(sp) = service_ports {
                if !sp.contains(k.as_str()) {
                    self.err(
                        Istio::Endpoint,
                        pp.clone(),
                        format!("endpoint port {k:?} is not one of the service entry's port names"),
                    );
                }
            }
            if !grammar::is_label(k) {
                self.err(
                    Istio::Endpoint,
                    pp.clone(),
                    format!("invalid endpoint port name {k:?}"),
                );
            }
            if !grammar::is_port(val.as_i64().unwrap_or(0)) {
                self.err(Istio::Endpoint, pp, "endpoint port must be in 1..65535");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run};
    use serde_json::json;

    #[test]
    fn workload_entry_rules() {
        clean(&run(
            "WorkloadEntry",
            json!({"address": "172.23.0.6", "labels": {"app": "p"},
            "locality": "us-east-1", "ports": {"http-9080": 15443}}),
        ));
        clean(&run("WorkloadEntry", json!({"address": "vm.example.com"})));
        let p = run(
            "WorkloadEntry",
            json!({"address": "unix://rel/path", "ports": {"http": 80}}),
        );
        has(&p, "istio-endpoint", "spec.address", true);
        has(&p, "istio-endpoint", "spec.ports", true);
        has(
            &run("WorkloadEntry", json!({})),
            "istio-endpoint",
            "spec.address",
            true,
        );
        has(
            &run("WorkloadEntry", json!({"network": "n1"})),
            "istio-endpoint",
            "spec.address",
            false,
        );
        let p = run(
            "WorkloadEntry",
            json!({"address": "1.1.1.1", "ports": {"Bad_": 0}, "labels": {"k": "bad value"}}),
        );
        has(&p, "istio-endpoint", "spec.ports.Bad_", true);
        has(&p, "istio-endpoint", "spec.labels.k", true);
    }
}
