//! Layer 2 of istio-validation.md §1: istiod's validating webhook (`pkg/config/validation/`),
//! the checklist of §3.1–3.8, for the kinds we render. E rules give errors, W rules warnings;
//! item numbers in comments refer to that checklist.

use super::grammar::{self, Protocol};
use super::{Loc, Problem};
use crate::json::Field;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Runs the webhook rules of one kind.
pub fn check(kind: &str, v: &Value, out: &mut Vec<Problem>) {
    let mut c = Ctx {
        out,
        namespace: v.at("metadata").at("namespace").as_str().unwrap_or(""),
    };
    c.metadata(kind, v);
    let spec = v.at("spec");
    let sp = Loc::root().key("spec");
    match kind {
        "ServiceEntry" => c.service_entry(v, spec, &sp),
        "WorkloadEntry" => c.workload_entry(spec, &sp, None),
        "VirtualService" => c.virtual_service(spec, &sp),
        "DestinationRule" => c.destination_rule(spec, &sp),
        _ => {}
    }
}

struct Ctx<'a> {
    out: &'a mut Vec<Problem>,
    namespace: &'a str,
}

fn s<'v>(v: &'v Value, k: &str) -> &'v str {
    v.field(k).and_then(Value::as_str).unwrap_or("")
}

fn arr<'v>(v: &'v Value, k: &str) -> &'v [Value] {
    v.field(k)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn map<'v>(v: &'v Value, k: &str) -> Option<&'v Map<String, Value>> {
    v.field(k).and_then(Value::as_object)
}

fn set(v: &Value, k: &str) -> bool {
    v.field(k).is_some_and(|x| !x.is_null())
}

fn num(v: &Value, k: &str) -> i64 {
    v.field(k).and_then(Value::as_i64).unwrap_or(0)
}

impl Ctx<'_> {
    fn err(&mut self, code: &'static str, path: Loc<'_>, msg: impl Into<String>) {
        self.out.push(Problem::error(code, path.path(), msg));
    }

    fn warn(&mut self, code: &'static str, path: Loc<'_>, msg: impl Into<String>) {
        self.out.push(Problem::warning(code, path.path(), msg));
    }

    // ---- §3.1 every object ----

    fn metadata(&mut self, kind: &str, v: &Value) {
        let m = v.at("metadata");
        let mp = Loc::root().key("metadata");
        let name = s(m, "name");
        if !grammar::is_k8s_subdomain(name) {
            self.err(
                "istio-metadata",
                mp.key("name"),
                format!(
                    "{name:?} is not a lowercase DNS-1123 subdomain (the API server rejects it)"
                ),
            );
        }
        let ns = s(m, "namespace");
        if !ns.is_empty() && !grammar::is_k8s_label(ns) {
            self.err(
                "istio-metadata",
                mp.key("namespace"),
                format!("{ns:?} is not a lowercase DNS-1123 label"),
            );
        }
        if let Some(labels) = map(m, "labels") {
            for (k, val) in labels {
                let p = || mp.key("labels").key(k);
                let val = val.as_str().unwrap_or("");
                if let Err(e) = grammar::label_pair(k, val) {
                    self.err("istio-metadata", p(), e);
                } else if val.len() > 63 {
                    self.err(
                        "istio-metadata",
                        p(),
                        format!("label value is {} characters, more than 63", val.len()),
                    );
                }
            }
        }
        if let Some(ann) = map(m, "annotations") {
            for k in ann.keys() {
                let p = || mp.key("annotations").key(k);
                if let Err(e) = grammar::label_key(k) {
                    self.err(
                        "istio-metadata",
                        p(),
                        e.to_string().replace("label key", "annotation key"),
                    );
                }
                // item 1
                if k == "istio.io/dry-run" && kind != "AuthorizationPolicy" {
                    self.err(
                        "istio-metadata",
                        p(),
                        format!("the istio.io/dry-run annotation is not supported on {kind}"),
                    );
                }
                // item 2
                if matches!(
                    k.as_str(),
                    "internal.istio.io/webhook-always-reject"
                        | "internal.istio.io/parent-namespace"
                        | "internal.istio.io/parents"
                ) {
                    self.err(
                        "istio-metadata",
                        p(),
                        format!("the annotation {k} is reserved for Istio's own use"),
                    );
                }
            }
        }
    }

    /// Item 3 (`validateExportTo`).
    fn export_to(&mut self, spec: &Value, sp: &Loc<'_>, service_entry: bool, dr_selector: bool) {
        let list = arr(spec, "exportTo");
        if list.is_empty() {
            return;
        }
        let p = sp.key("exportTo");
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let ns = self.namespace;
        for (i, e) in list.iter().enumerate() {
            let e = e.as_str().unwrap_or("");
            let key = if e == "." { ns } else { e };
            if seen.contains(key) {
                let msg = if key != e {
                    format!("duplicate entries in exportTo: . and current namespace {ns}")
                } else {
                    format!("duplicate entries in exportTo for entry {e}")
                };
                self.err("istio-export-to", p.index(i), msg);
                continue;
            }
            if service_entry && e == "~" {
                seen.insert(key);
                continue;
            }
            if e == "~" {
                self.err(
                    "istio-export-to",
                    p.index(i),
                    "exportTo ~ (none) is not allowed for Istio configuration objects",
                );
            } else if key != "*" && key != "." && !grammar::is_label(key) {
                self.err(
                    "istio-export-to",
                    p.index(i),
                    format!(
                        "{e:?}: only ., *, or a valid DNS 1123 label is allowed as exportTo entry"
                    ),
                );
            } else {
                seen.insert(key);
            }
        }
        if dr_selector && !seen.is_empty() {
            if seen.contains(ns) {
                if seen.len() > 1 {
                    self.err(
                        "istio-export-to",
                        p.clone(),
                        "destination rule with workload selector cannot have multiple entries in exportTo",
                    );
                }
            } else {
                self.err(
                    "istio-export-to",
                    p.clone(),
                    "destination rule with workload selector cannot have exportTo beyond current namespace",
                );
            }
        }
        if seen.contains("*") && list.len() > 1 {
            self.err(
                "istio-export-to",
                p.clone(),
                "cannot have both public (*) and non-public exportTo values for a resource",
            );
        }
        if seen.contains("~") && list.len() > 1 {
            self.err(
                "istio-export-to",
                p,
                "cannot export service entry to no one (~) and someone",
            );
        }
    }

    fn labels(&mut self, code: &'static str, v: &Value, key: &str, p: &Loc<'_>) {
        if let Some(m) = map(v, key) {
            for (k, val) in m {
                if let Err(e) = grammar::label_pair(k, val.as_str().unwrap_or("")) {
                    self.err(code, p.key(key).key(k), e);
                }
            }
        }
    }

    /// Items 5 and 65: workload selector labels.
    fn workload_selector(&mut self, sel: &Value, p: &Loc<'_>, key: &str) {
        let labels = map(sel, key);
        if labels.is_none_or(|m| m.is_empty()) {
            self.warn(
                "istio-workload-selector",
                p.clone(),
                "workload selector has no labels, so it selects every workload in the namespace",
            );
            return;
        }
        for (k, val) in labels.into_iter().flatten() {
            let val = val.as_str().unwrap_or("");
            if k.is_empty() {
                self.err(
                    "istio-workload-selector",
                    p.key(key),
                    "empty key is not supported in selector",
                );
            } else if k.contains('*') || val.contains('*') {
                self.err(
                    "istio-workload-selector",
                    p.key(key).key(k),
                    "wildcard is not supported in selector",
                );
            }
        }
    }

    // ---- §3.2 ServiceEntry ----

    fn service_entry(&mut self, obj: &Value, spec: &Value, sp: &Loc<'_>) {
        let resolution = match s(spec, "resolution") {
            "" => "NONE",
            r => r,
        };
        if set(spec, "workloadSelector") {
            self.workload_selector(
                spec.at("workloadSelector"),
                &sp.key("workloadSelector"),
                "labels",
            );
        }
        let endpoints = arr(spec, "endpoints");
        // item 6
        if set(spec, "workloadSelector") && !endpoints.is_empty() {
            self.err(
                "istio-resolution",
                sp.clone(),
                "only one of workloadSelector or endpoints is allowed in service entry",
            );
        }
        let hosts = arr(spec, "hosts");
        // item 7
        if hosts.is_empty() {
            self.err(
                "istio-host",
                sp.key("hosts"),
                "service entry must have at least one host",
            );
        }
        for (i, h) in hosts.iter().enumerate() {
            let h = h.as_str().unwrap_or("");
            let p = sp.key("hosts").index(i);
            // item 8
            if h == "*" {
                self.err("istio-host", p, "invalid host *");
                continue;
            }
            if let Err(e) = grammar::wildcard_domain(h) {
                self.err("istio-host", p, e);
                continue;
            }
            // item 9
            if grammar::is_partial_wildcard(h) && resolution != "DYNAMIC_DNS" {
                self.warn(
                    "istio-host",
                    p,
                    format!("host {h:?} is a partial wildcard; only `*.` prefixes are supported"),
                );
            }
        }
        let addresses = arr(spec, "addresses");
        for (i, a) in addresses.iter().enumerate() {
            let a = a.as_str().unwrap_or("");
            let p = sp.key("addresses").index(i);
            // item 10
            if let Err(e) = grammar::ip_subnet(a) {
                self.err("istio-address", p, e);
            } else if a.contains('/') && !matches!(resolution, "NONE" | "STATIC") {
                // item 11
                self.err(
                    "istio-address",
                    p,
                    format!("CIDR address {a} is allowed only with resolution NONE or STATIC, not {resolution}"),
                );
            }
        }
        // item 12
        let ports = arr(spec, "ports");
        let mut names = BTreeSet::new();
        let mut numbers = BTreeSet::new();
        let mut port_names: BTreeSet<&str> = BTreeSet::new();
        for (i, port) in ports.iter().enumerate() {
            let p = sp.key("ports").index(i);
            if port.is_null() {
                self.err("istio-port", p, "service entry port may not be null");
                continue;
            }
            let name = s(port, "name");
            port_names.insert(name);
            if !names.insert(name) {
                self.err(
                    "istio-port",
                    p.key("name"),
                    format!("port names must be unique: {name} is used twice"),
                );
            }
            let number = num(port, "number");
            if !numbers.insert(number) {
                self.err(
                    "istio-port",
                    p.key("number"),
                    format!("port numbers must be unique: {number} is used twice"),
                );
            }
            if set(port, "targetPort")
                && num(port, "targetPort") != 0
                && !grammar::is_port(num(port, "targetPort"))
            {
                self.err(
                    "istio-port",
                    p.key("targetPort"),
                    "targetPort must be in 1..65535",
                );
            }
            if !grammar::is_label(name) {
                self.err(
                    "istio-port",
                    p.key("name"),
                    format!("invalid port name {name:?}: it must be a DNS-1123 label"),
                );
            }
            if Protocol::parse(s(port, "protocol")) == Protocol::Unsupported {
                self.err(
                    "istio-port",
                    p.key("protocol"),
                    format!("unsupported protocol {:?}", s(port, "protocol")),
                );
            }
            if !grammar::is_port(number) {
                self.err(
                    "istio-port",
                    p.key("number"),
                    "port number must be in 1..65535",
                );
            }
        }
        // item 13
        let autoallocate = resolution != "NONE"
            && obj
                .at("metadata")
                .at("labels")
                .at("networking.istio.io/enable-autoallocate-ip")
                .as_str()
                != Some("false");
        if addresses.is_empty() && !autoallocate {
            for (i, port) in ports.iter().enumerate() {
                let proto = Protocol::parse(s(port, "protocol"));
                if matches!(proto, Protocol::Unset | Protocol::Known("TCP")) {
                    self.warn(
                        "istio-port",
                        sp.key("ports").index(i),
                        "service entry has no addresses and a TCP (or unset) protocol port: all TCP \
                         traffic on this port is captured, whatever its destination",
                    );
                    break;
                }
            }
        }
        match resolution {
            // item 14
            "NONE" => {
                if !endpoints.is_empty() {
                    self.err(
                        "istio-resolution",
                        sp.key("endpoints"),
                        "no endpoints should be provided for resolution type NONE",
                    );
                }
                if set(spec, "workloadSelector") {
                    self.warn(
                        "istio-resolution",
                        sp.key("workloadSelector"),
                        "workloadSelector is ignored with resolution NONE",
                    );
                }
            }
            // item 15
            "STATIC" => {
                for (i, ep) in endpoints.iter().enumerate() {
                    let p = sp.key("endpoints").index(i);
                    self.workload_entry(ep, &p, Some((&port_names, ports.len(), true)));
                }
            }
            // item 16
            "DNS" | "DNS_ROUND_ROBIN" => {
                if endpoints.is_empty() {
                    for (i, h) in hosts.iter().enumerate() {
                        if let Err(e) = grammar::fqdn(h.as_str().unwrap_or("")) {
                            self.err(
                                "istio-resolution",
                                sp.key("hosts").index(i),
                                format!("hosts must be FQDNs with resolution {resolution} and no endpoints: {e}"),
                            );
                            break;
                        }
                    }
                }
                if resolution == "DNS_ROUND_ROBIN" && endpoints.len() > 1 {
                    self.err(
                        "istio-resolution",
                        sp.key("endpoints"),
                        format!("there must only be 0 or 1 endpoint for resolution DNS_ROUND_ROBIN, found {}", endpoints.len()),
                    );
                }
                for (i, ep) in endpoints.iter().enumerate() {
                    let p = sp.key("endpoints").index(i);
                    let addr = s(ep, "address");
                    if !grammar::is_ip(addr) && grammar::fqdn(addr).is_err() {
                        self.err(
                            "istio-endpoint",
                            p.key("address"),
                            format!(
                                "endpoint address {addr:?} is not a valid FQDN or an IP address"
                            ),
                        );
                    }
                    self.labels("istio-endpoint", ep, "labels", &p);
                    self.endpoint_ports(ep, &p, Some(&port_names));
                }
                let tcp = ports
                    .iter()
                    .any(|p| Protocol::parse(s(p, "protocol")).is_tcp());
                if !addresses.is_empty() && tcp && hosts.len() > 1 {
                    self.warn(
                        "istio-resolution",
                        sp.key("hosts"),
                        "service entry with addresses, TCP ports and several hosts: the hosts cannot be told apart",
                    );
                }
            }
            // item 17
            "DYNAMIC_DNS" => {
                for (i, h) in hosts.iter().enumerate() {
                    if !h.as_str().unwrap_or("").starts_with('*') {
                        self.err(
                            "istio-resolution",
                            sp.key("hosts").index(i),
                            "hosts must be wildcards (start with *) with resolution DYNAMIC_DNS",
                        );
                    }
                }
                if !addresses.is_empty() {
                    self.err(
                        "istio-resolution",
                        sp.key("addresses"),
                        "addresses are not allowed with resolution DYNAMIC_DNS",
                    );
                }
                if !endpoints.is_empty() {
                    self.err(
                        "istio-resolution",
                        sp.key("endpoints"),
                        "endpoints are not allowed with resolution DYNAMIC_DNS",
                    );
                }
                for (i, port) in ports.iter().enumerate() {
                    let proto = Protocol::parse(s(port, "protocol"));
                    if !matches!(proto, Protocol::Known("HTTP" | "TLS" | "GRPC" | "HTTP2")) {
                        self.err(
                            "istio-resolution",
                            sp.key("ports").index(i).key("protocol"),
                            "resolution DYNAMIC_DNS supports only HTTP, TLS, GRPC and HTTP2 ports",
                        );
                    }
                }
                let waypoint = obj
                    .at("metadata")
                    .at("labels")
                    .at("istio.io/use-waypoint")
                    .as_str();
                if s(spec, "location") == "MESH_INTERNAL" && waypoint.is_some_and(|w| w != "none") {
                    self.err(
                        "istio-resolution",
                        sp.key("location"),
                        "MESH_INTERNAL with resolution DYNAMIC_DNS cannot use a waypoint",
                    );
                }
            }
            _ => {}
        }
        // item 18
        if resolution != "NONE" && hosts.len() > 1 {
            for (i, port) in ports.iter().enumerate() {
                let proto = Protocol::parse(s(port, "protocol"));
                if !proto.is_http() && !proto.is_tls() {
                    self.err(
                        "istio-port",
                        sp.key("ports").index(i).key("protocol"),
                        format!(
                            "multiple hosts provided with non-HTTP, non-TLS ports (protocol {:?}, resolution {resolution})",
                            s(port, "protocol")
                        ),
                    );
                }
            }
        }
        // item 19
        self.export_to(spec, sp, true, false);
    }

    fn endpoint_ports(&mut self, ep: &Value, p: &Loc<'_>, service_ports: Option<&BTreeSet<&str>>) {
        let Some(ports) = map(ep, "ports") else {
            return;
        };
        for (k, val) in ports {
            let pp = p.key("ports").key(k);
            if let Some(sp) = service_ports {
                if !sp.contains(k.as_str()) {
                    self.err(
                        "istio-endpoint",
                        pp.clone(),
                        format!("endpoint port {k:?} is not one of the service entry's port names"),
                    );
                }
            }
            if !grammar::is_label(k) {
                self.err(
                    "istio-endpoint",
                    pp.clone(),
                    format!("invalid endpoint port name {k:?}"),
                );
            }
            if !grammar::is_port(val.as_i64().unwrap_or(0)) {
                self.err("istio-endpoint", pp, "endpoint port must be in 1..65535");
            }
        }
    }

    // ---- §3.3 WorkloadEntry and STATIC endpoints ----

    /// `se` is `(service port names, service port count, static)` for ServiceEntry endpoints.
    fn workload_entry(
        &mut self,
        we: &Value,
        p: &Loc<'_>,
        se: Option<(&BTreeSet<&str>, usize, bool)>,
    ) {
        let addr = s(we, "address");
        // item 20
        if addr.is_empty() {
            if s(we, "network").is_empty() {
                self.err("istio-endpoint", p.key("address"), "address is required");
            } else {
                self.warn(
                    "istio-endpoint",
                    p.key("address"),
                    "address is empty: the endpoint is reached only through its network's gateway",
                );
            }
        } else if let Some(path) = addr.strip_prefix("unix://") {
            // item 21
            if !(path.starts_with('/') || path.starts_with('@')) || path.ends_with('/') {
                self.err(
                    "istio-endpoint",
                    p.key("address"),
                    format!("{addr:?}: a unix address must be an absolute path or an abstract socket, not a directory"),
                );
            }
            if set(we, "ports") {
                self.err(
                    "istio-endpoint",
                    p.key("ports"),
                    "a unix address may not have ports",
                );
            }
            if let Some((_, n, _)) = se {
                if n != 1 {
                    self.err(
                        "istio-endpoint",
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
                    "istio-endpoint",
                    p.key("address"),
                    format!("endpoint address {addr:?} is not a valid IP address"),
                );
            }
        }
        // items 23, 24
        self.endpoint_ports(we, p, se.map(|(names, _, _)| names));
        self.labels("istio-endpoint", we, "labels", p);
    }

    // ---- §3.4 VirtualService ----

    fn virtual_service(&mut self, spec: &Value, sp: &Loc<'_>) {
        let hosts = arr(spec, "hosts");
        let gateways = arr(spec, "gateways");
        let delegate = hosts.is_empty();
        // item 25
        if delegate {
            for k in ["gateways", "tls", "tcp"] {
                if !arr(spec, k).is_empty() {
                    self.err(
                        "istio-vs-host",
                        sp.key(k),
                        format!("a delegate virtual service (no hosts) must not have {k}"),
                    );
                }
            }
        }
        // item 26
        self.gateway_names(gateways, &sp.key("gateways"));
        // item 27
        let mesh = gateways.is_empty() || gateways.iter().any(|g| g.as_str() == Some("mesh"));
        // item 28
        let mut all_valid = true;
        for (i, h) in hosts.iter().enumerate() {
            let h = h.as_str().unwrap_or("");
            let p = sp.key("hosts").index(i);
            if let Err(e) = grammar::wildcard_domain(h) {
                if !grammar::is_ip(h) {
                    self.err("istio-vs-host", p, e);
                    all_valid = false;
                }
            } else if mesh && h == "*" {
                self.err(
                    "istio-vs-host",
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
                            "istio-vs-host",
                            sp.key("hosts").index(j),
                            format!("duplicate hosts in virtual service: {a} & {b}"),
                        );
                    }
                }
            }
        }
        // item 30
        if ["http", "tcp", "tls"]
            .iter()
            .all(|k| arr(spec, k).is_empty())
        {
            self.err(
                "istio-route-conflict",
                sp.clone(),
                "http, tcp or tls must be provided in virtual service",
            );
        }
        // item 31
        for (i, r) in arr(spec, "http").iter().enumerate() {
            let p = sp.key("http").index(i);
            if r.is_null() {
                self.err("istio-route-conflict", p, "http route may not be null");
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

    fn gateway_names(&mut self, gateways: &[Value], p: &Loc<'_>) {
        for (i, g) in gateways.iter().enumerate() {
            let g = g.as_str().unwrap_or("");
            let gp = p.index(i);
            match g.split_once('/') {
                Some((ns, name)) => {
                    if !grammar::is_label(ns) || !grammar::is_label(name) {
                        self.err(
                            "istio-gateway-name",
                            gp,
                            format!("invalid gateway name {g:?}: namespace and name must be DNS-1123 labels"),
                        );
                    }
                }
                None => {
                    if g.contains('.') {
                        let parts: Vec<&str> = g.split('.').collect();
                        self.warn(
                            "istio-gateway-name",
                            gp.clone(),
                            format!(
                                "using legacy gatewayName format {g:?}; prefer the <namespace>/<name> format: \"{}/{}\"",
                                parts.get(1).unwrap_or(&""),
                                parts[0]
                            ),
                        );
                    }
                    if let Err(e) = grammar::fqdn(g) {
                        self.err("istio-gateway-name", gp, e);
                    }
                    // istiod stops at the first name without a namespace.
                    return;
                }
            }
        }
    }

    // ---- §3.5 HTTP route ----

    fn http_route(&mut self, r: &Value, p: &Loc<'_>, delegate_vs: bool, mesh: bool) {
        let routes = arr(r, "route");
        // item 34
        if set(r, "delegate") {
            if delegate_vs {
                self.err(
                    "istio-route-conflict",
                    p.key("delegate"),
                    "a delegate virtual service's routes must not delegate",
                );
            }
            if !routes.is_empty() {
                self.err(
                    "istio-route-conflict",
                    p.key("route"),
                    "a route with delegate must not have route",
                );
            }
            if set(r, "redirect") {
                self.err(
                    "istio-route-conflict",
                    p.key("redirect"),
                    "a route with delegate must not have redirect",
                );
            }
        } else {
            if set(r, "redirect") {
                if !routes.is_empty() {
                    self.err(
                        "istio-route-conflict",
                        p.key("route"),
                        "HTTP route cannot contain both route and redirect",
                    );
                }
                for k in ["fault", "rewrite", "directResponse"] {
                    if set(r, k) {
                        self.err(
                            "istio-route-conflict",
                            p.key(k),
                            format!("HTTP route cannot contain both redirect and {k}"),
                        );
                    }
                }
            }
            if set(r, "directResponse") {
                if !routes.is_empty() {
                    self.err(
                        "istio-route-conflict",
                        p.key("route"),
                        "HTTP route cannot contain both route and directResponse",
                    );
                }
                for k in ["fault", "rewrite"] {
                    if set(r, k) {
                        self.err(
                            "istio-route-conflict",
                            p.key(k),
                            format!("HTTP route cannot contain both directResponse and {k}"),
                        );
                    }
                }
            }
            if !set(r, "redirect") && !set(r, "directResponse") && routes.is_empty() {
                self.err(
                    "istio-route-conflict",
                    p.key("route"),
                    "HTTP route or redirect or directResponse is required",
                );
            }
        }
        if set(r, "mirror") && set(r, "mirrors") {
            self.err(
                "istio-route-conflict",
                p.key("mirrors"),
                "mirror and mirrors cannot both be set",
            );
        }
        // item 35
        for (i, m) in arr(r, "match").iter().enumerate() {
            self.http_match(m, &p.key("match").index(i), mesh);
        }
        // item 36
        self.header_ops(r.at("headers"), &p.key("headers"));
        for (i, d) in routes.iter().enumerate() {
            self.header_ops(d.at("headers"), &p.key("route").index(i).key("headers"));
        }
        // item 37
        self.authority_rewrite(r, p);
        // item 38
        if set(r, "rewrite") {
            self.rewrite(r.at("rewrite"), &p.key("rewrite"));
        }
        // item 39
        if set(r, "redirect") {
            self.redirect(r.at("redirect"), &p.key("redirect"));
        }
        // item 40
        if set(r, "directResponse") {
            self.direct_response(r.at("directResponse"), &p.key("directResponse"));
        }
        // item 41
        if set(r, "retries") {
            self.retries(r.at("retries"), &p.key("retries"));
        }
        // item 42
        if set(r, "timeout") {
            if let Err(e) = grammar::istio_duration(s(r, "timeout")) {
                self.err("istio-duration", p.key("timeout"), e);
            }
        }
        // item 43
        if set(r, "corsPolicy") {
            self.cors(r.at("corsPolicy"), &p.key("corsPolicy"));
        }
        // item 44
        if set(r, "fault") {
            self.fault(r.at("fault"), &p.key("fault"));
        }
        // item 45
        self.mirrors(r, p);
        // item 46-51
        self.destinations(routes, &p.key("route"), true);
    }

    fn string_match(&mut self, m: &Value, p: &Loc<'_>, empty_prefix_ok: bool) {
        if m.is_null() {
            self.err("istio-match", p.clone(), "match value may not be null");
            return;
        }
        if !empty_prefix_ok && m.field("prefix").and_then(Value::as_str) == Some("") {
            self.err(
                "istio-match",
                p.key("prefix"),
                "prefix match may not be empty",
            );
        }
        if let Some(re) = m.field("regex").and_then(Value::as_str) {
            if let Err(e) = grammar::regex(re) {
                self.err("istio-regex", p.key("regex"), e);
            }
        }
    }

    fn header_name(&mut self, name: &str, p: &Loc<'_>, mesh: bool) {
        let claim =
            name.starts_with("@request.auth.claims.") || name.starts_with("@request.auth.claims[");
        if claim {
            if mesh {
                self.err(
                    "istio-match",
                    p.clone(),
                    "JWT claim based routing is only supported for gateways, not the mesh",
                );
            }
            return;
        }
        let pseudo = matches!(
            name,
            ":method" | ":scheme" | ":authority" | ":path" | ":status"
        );
        if !pseudo && !grammar::is_token(name) {
            self.err(
                "istio-match",
                p.clone(),
                format!("invalid header name {name:?}"),
            );
        }
    }

    fn http_match(&mut self, m: &Value, p: &Loc<'_>, mesh: bool) {
        if m.is_null() {
            return;
        }
        for key in ["headers", "withoutHeaders"] {
            if let Some(hs) = map(m, key) {
                for (name, val) in hs {
                    let hp = p.key(key).key(name);
                    if val.is_null() {
                        self.err(
                            "istio-match",
                            hp.clone(),
                            "header match value may not be null",
                        );
                        continue;
                    }
                    self.header_name(name, &hp, mesh);
                    if key == "withoutHeaders"
                        && val.field("regex").and_then(Value::as_str) == Some("*")
                    {
                        continue;
                    }
                    self.string_match(val, &hp, true);
                }
            }
        }
        if set(m, "uri") {
            self.string_match(m.at("uri"), &p.key("uri"), true);
        }
        for key in ["scheme", "method", "authority"] {
            if set(m, key) {
                self.string_match(&m[key], &p.key(key), false);
            }
        }
        if let Some(qs) = map(m, "queryParams") {
            for (name, val) in qs {
                self.string_match(val, &p.key("queryParams").key(name), false);
            }
        }
        let port = num(m, "port");
        if port != 0 && !grammar::is_port(port) {
            self.err("istio-match", p.key("port"), "port must be in 1..65535");
        }
        self.labels("istio-match", m, "sourceLabels", p);
        self.gateway_names(arr(m, "gateways"), &p.key("gateways"));
        let sns = s(m, "sourceNamespace");
        if !sns.is_empty() && !grammar::is_label(sns) {
            self.err(
                "istio-match",
                p.key("sourceNamespace"),
                format!("invalid sourceNamespace {sns:?}"),
            );
        }
    }

    fn header_value(&mut self, v: &str, p: &Loc<'_>) {
        if v.chars().any(|c| c.is_control() && c != '\t') {
            self.err(
                "istio-header",
                p.clone(),
                "header value contains control characters",
            );
            return;
        }
        // `%VAR%` must be balanced; a lone `%` is written `%%`.
        let mut chars = v.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                continue;
            }
            if chars.peek() == Some(&'%') {
                chars.next();
                continue;
            }
            let mut closed = false;
            for d in chars.by_ref() {
                if d == '%' {
                    closed = true;
                    break;
                }
            }
            if !closed {
                self.err(
                    "istio-header",
                    p.clone(),
                    format!("header value {v:?} has an unbalanced %; write a literal % as %%"),
                );
                return;
            }
        }
    }

    fn header_ops(&mut self, h: &Value, p: &Loc<'_>) {
        if h.is_null() {
            return;
        }
        for side in ["request", "response"] {
            let ops = &h[side];
            for op in ["set", "add"] {
                if let Some(m) = map(ops, op) {
                    for (name, val) in m {
                        let hp = p.key(side).key(op).key(name);
                        let lower = name.to_ascii_lowercase();
                        let bad = name.is_empty()
                            || (side == "request"
                                && name.starts_with(':')
                                && lower != ":authority")
                            || (side == "response" && (lower == "host" || name.starts_with(':')));
                        if bad {
                            self.err(
                                "istio-header",
                                hp.clone(),
                                format!("invalid header name {name:?} to {op}"),
                            );
                        }
                        self.header_value(val.as_str().unwrap_or(""), &hp);
                    }
                }
            }
            for (i, name) in arr(ops, "remove").iter().enumerate() {
                let name = name.as_str().unwrap_or("");
                if name.eq_ignore_ascii_case("host") || name.starts_with(':') || name.is_empty() {
                    self.err(
                        "istio-header",
                        p.key(side).key("remove").index(i),
                        format!("invalid header name {name:?} to remove"),
                    );
                }
            }
        }
    }

    fn authority_rewrite(&mut self, r: &Value, p: &Loc<'_>) {
        let mut places = Vec::new();
        if !s(r.at("rewrite"), "authority").is_empty() {
            places.push("rewrite.authority".to_string());
        }
        for op in ["set", "add"] {
            if let Some(m) = map(r.at("headers").at("request"), op) {
                for k in m.keys() {
                    let l = k.to_ascii_lowercase();
                    if l == ":authority" || l == "host" {
                        places.push(format!("headers.request.{op}[{k}]"));
                    }
                }
            }
        }
        if places.len() > 1 {
            self.err(
                "istio-rewrite",
                p.clone(),
                format!(
                    "the authority is set in more than one place: {}",
                    places.join(", ")
                ),
            );
        }
    }

    fn rewrite(&mut self, rw: &Value, p: &Loc<'_>) {
        let uri = !s(rw, "uri").is_empty();
        let regex = set(rw, "uriRegexRewrite");
        let authority = !s(rw, "authority").is_empty();
        if uri && regex {
            self.err(
                "istio-rewrite",
                p.clone(),
                "rewrite may only contain one of uri and uriRegexRewrite",
            );
        }
        if !uri && !regex && !authority {
            self.err(
                "istio-rewrite",
                p.clone(),
                "rewrite must specify at least one of uri, uriRegexRewrite or authority (an empty uri is not allowed; use \"/\")",
            );
        }
        if regex {
            let rr = rw.at("uriRegexRewrite");
            let rp = p.key("uriRegexRewrite");
            if s(rr, "match").is_empty() || !set(rr, "rewrite") {
                self.err(
                    "istio-rewrite",
                    rp.clone(),
                    "uriRegexRewrite needs both match and rewrite",
                );
            }
            if !s(rr, "match").is_empty() {
                if let Err(e) = grammar::regex(s(rr, "match")) {
                    self.err("istio-regex", rp.key("match"), e);
                }
            }
        }
    }

    fn redirect(&mut self, rd: &Value, p: &Loc<'_>) {
        let any = !s(rd, "uri").is_empty()
            || !s(rd, "authority").is_empty()
            || num(rd, "port") != 0
            || set(rd, "derivePort")
            || !s(rd, "scheme").is_empty();
        if !any {
            self.err(
                "istio-redirect",
                p.clone(),
                "redirect must specify at least one of uri, authority, port or scheme",
            );
            return;
        }
        let code = num(rd, "redirectCode");
        if code != 0 && !(300..=399).contains(&code) {
            self.err(
                "istio-redirect",
                p.key("redirectCode"),
                format!("{code} is not a valid redirect code (300..399)"),
            );
            return;
        }
        let scheme = s(rd, "scheme");
        if !scheme.is_empty() && scheme != "http" && scheme != "https" {
            self.err(
                "istio-redirect",
                p.key("scheme"),
                format!("redirect scheme must be http or https, not {scheme:?}"),
            );
            return;
        }
        if set(rd, "port") && !grammar::is_port(num(rd, "port")) {
            self.err(
                "istio-redirect",
                p.key("port"),
                "redirect port must be in 1..65535",
            );
        }
    }

    fn direct_response(&mut self, dr: &Value, p: &Loc<'_>) {
        let status = num(dr, "status");
        if !(200..=600).contains(&status) {
            self.err(
                "istio-direct-response",
                p.key("status"),
                format!("directResponse status {status} must be in 200..600"),
            );
        }
        let body = dr.at("body");
        let len = if let Some(b) = body.field("string").and_then(Value::as_str) {
            b.len()
        } else if let Some(b) = body.field("bytes").and_then(Value::as_str) {
            b.len() * 3 / 4
        } else {
            0
        };
        if len > 1 << 20 {
            self.err(
                "istio-direct-response",
                p.key("body"),
                format!("directResponse body is {len} bytes, more than 1 MiB"),
            );
        } else if len > 100 << 10 {
            self.warn(
                "istio-direct-response",
                p.key("body"),
                format!("directResponse body is {len} bytes, more than 100 KiB"),
            );
        }
    }

    fn retries(&mut self, r: &Value, p: &Loc<'_>) {
        let attempts = num(r, "attempts");
        if attempts < 0 {
            self.err(
                "istio-retry",
                p.key("attempts"),
                "attempts cannot be negative",
            );
        }
        if set(r, "attempts") && attempts == 0 {
            for k in ["perTryTimeout", "retryOn", "retryRemoteLocalities"] {
                if set(r, k) {
                    self.err(
                        "istio-retry",
                        p.key(k),
                        format!("{k} cannot be set with attempts: 0"),
                    );
                }
            }
        }
        for k in ["perTryTimeout", "backoff"] {
            if set(r, k) {
                if let Err(e) = grammar::istio_duration(s(r, k)) {
                    self.err("istio-duration", p.key(k), e);
                }
            }
        }
        const POLICIES: [&str; 16] = [
            "5xx",
            "gateway-error",
            "reset",
            "reset-before-request",
            "connect-failure",
            "retriable-4xx",
            "refused-stream",
            "retriable-status-codes",
            "retriable-headers",
            "envoy-ratelimited",
            "http3-post-connect-failure",
            "cancelled",
            "deadline-exceeded",
            "internal",
            "resource-exhausted",
            "unavailable",
        ];
        let on = s(r, "retryOn");
        if !on.is_empty() {
            for part in on.split(',') {
                let status = part.parse::<u16>().is_ok_and(|c| (100..=599).contains(&c));
                if !status && !POLICIES.contains(&part) {
                    self.err(
                        "istio-retry",
                        p.key("retryOn"),
                        format!("{part:?} is not a valid retryOn policy (no spaces are allowed)"),
                    );
                }
            }
        }
    }

    fn cors(&mut self, c: &Value, p: &Loc<'_>) {
        for (i, o) in arr(c, "allowOrigins").iter().enumerate() {
            let op = p.key("allowOrigins").index(i);
            let any = ["exact", "prefix", "regex"]
                .iter()
                .any(|k| !s(o, k).is_empty());
            if !any {
                self.err(
                    "istio-cors",
                    op,
                    "allowOrigins entry needs a non-empty exact, prefix or regex",
                );
            } else if let Some(re) = o.field("regex").and_then(Value::as_str) {
                if let Err(e) = grammar::regex(re) {
                    self.err("istio-regex", op.key("regex"), e);
                }
            }
        }
        const METHODS: [&str; 10] = [
            "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*",
        ];
        for (i, m) in arr(c, "allowMethods").iter().enumerate() {
            let m = m.as_str().unwrap_or("");
            if !METHODS.contains(&m) {
                self.err(
                    "istio-cors",
                    p.key("allowMethods").index(i),
                    format!("{m:?} is not a valid HTTP method"),
                );
            }
        }
        for key in ["allowHeaders", "exposeHeaders"] {
            for (i, h) in arr(c, key).iter().enumerate() {
                let h = h.as_str().unwrap_or("");
                if h != "*" && !grammar::is_token(h) {
                    self.err(
                        "istio-cors",
                        p.key(key).index(i),
                        format!("invalid header name {h:?}"),
                    );
                }
            }
        }
        if set(c, "maxAge") {
            let m = s(c, "maxAge");
            match grammar::istio_duration(m) {
                Err(e) => self.err("istio-duration", p.key("maxAge"), e),
                Ok(()) => {
                    if grammar::go_duration_nanos(m).is_some_and(|n| n % 1_000_000_000 != 0) {
                        self.err(
                            "istio-cors",
                            p.key("maxAge"),
                            "maxAge must be a whole number of seconds",
                        );
                    }
                }
            }
        }
    }

    fn percentage(&mut self, v: &Value, p: &Loc<'_>) {
        let x = v.at("value").as_f64().unwrap_or(0.0);
        if x != 0.0 && !(0.0001..=100.0).contains(&x) {
            self.err(
                "istio-fault",
                p.clone(),
                format!("percentage {x} must be 0 or in [0.0001, 100]"),
            );
        }
    }

    fn fault(&mut self, f: &Value, p: &Loc<'_>) {
        if !set(f, "abort") && !set(f, "delay") {
            self.err(
                "istio-fault",
                p.clone(),
                "fault injection needs abort or delay",
            );
        }
        if set(f, "abort") {
            let a = f.at("abort");
            let ap = p.key("abort");
            if set(a, "percentage") {
                self.percentage(a.at("percentage"), &ap.key("percentage"));
            }
            if set(a, "http2Error") {
                self.err(
                    "istio-fault",
                    ap.key("http2Error"),
                    "http2Error is not supported",
                );
            } else if set(a, "grpcStatus") {
                const CODES: [&str; 17] = [
                    "OK",
                    "CANCELLED",
                    "UNKNOWN",
                    "INVALID_ARGUMENT",
                    "DEADLINE_EXCEEDED",
                    "NOT_FOUND",
                    "ALREADY_EXISTS",
                    "PERMISSION_DENIED",
                    "RESOURCE_EXHAUSTED",
                    "FAILED_PRECONDITION",
                    "ABORTED",
                    "OUT_OF_RANGE",
                    "UNIMPLEMENTED",
                    "INTERNAL",
                    "UNAVAILABLE",
                    "DATA_LOSS",
                    "UNAUTHENTICATED",
                ];
                if !CODES.contains(&s(a, "grpcStatus")) {
                    self.err(
                        "istio-fault",
                        ap.key("grpcStatus"),
                        format!("unknown gRPC status {:?}", s(a, "grpcStatus")),
                    );
                }
            } else if set(a, "httpStatus") {
                let st = num(a, "httpStatus");
                if !(200..=600).contains(&st) {
                    self.err(
                        "istio-fault",
                        ap.key("httpStatus"),
                        format!("httpStatus {st} must be in 200..600"),
                    );
                }
            } else {
                self.warn(
                    "istio-fault",
                    ap,
                    "abort has no error type (httpStatus or grpcStatus)",
                );
            }
        }
        if set(f, "delay") {
            let d = f.at("delay");
            let dp = p.key("delay");
            if set(d, "percentage") {
                self.percentage(d.at("percentage"), &dp.key("percentage"));
            }
            if set(d, "exponentialDelay") {
                self.err(
                    "istio-fault",
                    dp.key("exponentialDelay"),
                    "exponentialDelay is not supported",
                );
            } else if let Err(e) = grammar::istio_duration(s(d, "fixedDelay")) {
                self.err("istio-duration", dp.key("fixedDelay"), e);
            }
        }
    }

    fn mirrors(&mut self, r: &Value, p: &Loc<'_>) {
        if set(r, "mirror") {
            self.destination(r.at("mirror"), &p.key("mirror"));
        }
        for (i, m) in arr(r, "mirrors").iter().enumerate() {
            let mp = p.key("mirrors").index(i);
            if !set(m, "destination") {
                self.err("istio-mirror", mp.clone(), "mirror needs a destination");
            } else {
                self.destination(m.at("destination"), &mp.key("destination"));
            }
            let v = m.at("percentage").at("value").as_f64().unwrap_or(0.0);
            if !(0.0..=100.0).contains(&v) {
                self.err(
                    "istio-mirror",
                    mp.key("percentage"),
                    "mirror percentage must be in 0..100",
                );
            }
        }
        if set(r, "mirrorPercentage") {
            let v = r.at("mirrorPercentage").at("value").as_f64().unwrap_or(0.0);
            if !(0.0..=100.0).contains(&v) {
                self.err(
                    "istio-mirror",
                    p.key("mirrorPercentage"),
                    "mirrorPercentage must be in 0..100",
                );
            }
        }
        if set(r, "mirrorPercent") {
            if num(r, "mirrorPercent") > 100 {
                self.err(
                    "istio-mirror",
                    p.key("mirrorPercent"),
                    "mirrorPercent must be at most 100",
                );
            }
            self.warn(
                "istio-mirror",
                p.key("mirrorPercent"),
                "mirrorPercent is deprecated; use mirrorPercentage",
            );
        }
    }

    // ---- §3.6 destinations and weights ----

    fn destination(&mut self, d: &Value, p: &Loc<'_>) {
        let host = s(d, "host");
        if host == "*" {
            self.err(
                "istio-destination",
                p.key("host"),
                "destination host may not be *",
            );
        } else if let Err(e) = grammar::wildcard_domain(host) {
            self.err("istio-destination", p.key("host"), e);
        }
        let subset = s(d, "subset");
        if set(d, "subset") && !subset.is_empty() && !grammar::is_label(subset) {
            self.err(
                "istio-subset",
                p.key("subset"),
                format!("subset name {subset:?} is not a DNS-1123 label"),
            );
        }
        if set(d, "port") && !grammar::is_port(num(d.at("port"), "number")) {
            self.err(
                "istio-destination",
                p.key("port").key("number"),
                "destination port number must be in 1..65535",
            );
        }
    }

    fn destinations(&mut self, routes: &[Value], p: &Loc<'_>, _http: bool) {
        let mut all_zero = true;
        for (i, r) in routes.iter().enumerate() {
            let rp = p.index(i);
            if r.is_null() {
                self.err("istio-destination", rp, "route destination may not be null");
                continue;
            }
            if !set(r, "destination") {
                self.err("istio-destination", rp, "destination is required");
                continue;
            }
            self.destination(r.at("destination"), &rp.key("destination"));
            let w = num(r, "weight");
            if w < 0 {
                self.err(
                    "istio-weight",
                    rp.key("weight"),
                    "weight must not be negative",
                );
            }
            if w != 0 {
                all_zero = false;
            }
        }
        if routes.len() > 1 && all_zero {
            self.err(
                "istio-weight",
                p.clone(),
                "with more than one destination the weights must not all be 0",
            );
        }
    }

    // ---- §3.7 TLS and TCP routes ----

    fn l4_match_common(&mut self, m: &Value, p: &Loc<'_>) {
        for (i, sub) in arr(m, "destinationSubnets").iter().enumerate() {
            if let Err(e) = grammar::ip_subnet(sub.as_str().unwrap_or("")) {
                self.err("istio-match", p.key("destinationSubnets").index(i), e);
            }
        }
        let port = num(m, "port");
        if set(m, "port") && !grammar::is_port(port) {
            self.err("istio-match", p.key("port"), "port must be in 1..65535");
        }
        self.labels("istio-match", m, "sourceLabels", p);
        self.gateway_names(arr(m, "gateways"), &p.key("gateways"));
    }

    fn tls_routes(&mut self, spec: &Value, sp: &Loc<'_>, hosts: &[Value]) {
        for (i, r) in arr(spec, "tls").iter().enumerate() {
            let p = sp.key("tls").index(i);
            let matches = arr(r, "match");
            if matches.is_empty() {
                self.err(
                    "istio-tls-route",
                    p.key("match"),
                    "TLS route must have at least one match condition",
                );
            }
            for (j, m) in matches.iter().enumerate() {
                let mp = p.key("match").index(j);
                let sni = arr(m, "sniHosts");
                if sni.is_empty() {
                    self.err(
                        "istio-tls-route",
                        mp.key("sniHosts"),
                        "TLS match must have at least one SNI host",
                    );
                }
                for (k, h) in sni.iter().enumerate() {
                    let h = h.as_str().unwrap_or("");
                    let hp = mp.key("sniHosts").index(k);
                    if grammar::is_ip(h) {
                        self.warn(
                            "istio-tls-route",
                            hp.clone(),
                            format!(
                                "SNI host {h} is an IP address; clients do not send IPs in SNI"
                            ),
                        );
                    } else if let Err(e) = grammar::wildcard_domain(h) {
                        self.err("istio-tls-route", hp.clone(), e);
                        continue;
                    }
                    let covered = hosts
                        .iter()
                        .any(|vh| grammar::host_subset_of(h, vh.as_str().unwrap_or("")));
                    if !covered {
                        self.err(
                            "istio-tls-route",
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
                self.err("istio-tls-route", p.key("route"), "TLS route is required");
            }
            self.destinations(routes, &p.key("route"), false);
        }
    }

    fn tcp_routes(&mut self, spec: &Value, sp: &Loc<'_>) {
        for (i, r) in arr(spec, "tcp").iter().enumerate() {
            let p = sp.key("tcp").index(i);
            for (j, m) in arr(r, "match").iter().enumerate() {
                let mp = p.key("match").index(j);
                if m.is_null() {
                    self.err("istio-tcp-route", mp, "TCP match may not be null");
                    continue;
                }
                self.l4_match_common(m, &mp);
            }
            let routes = arr(r, "route");
            if routes.is_empty() {
                self.err("istio-tcp-route", p.key("route"), "TCP route is required");
            }
            self.destinations(routes, &p.key("route"), false);
        }
    }

    /// Item 33 (`analyzeUnreachableHTTPRules`), warnings.
    fn unreachable(&mut self, routes: &[Value], sp: &Loc<'_>) {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut catch_all: Option<usize> = None;
        let mut earlier: Vec<(usize, &Map<String, Value>)> = Vec::new();
        for (i, r) in routes.iter().enumerate() {
            if r.is_null() {
                continue;
            }
            let p = sp.key("http").index(i);
            if let Some(c) = catch_all {
                self.warn(
                    "istio-unreachable-route",
                    p,
                    format!("route is unreachable: route {c} before it has no match and takes all traffic"),
                );
                continue;
            }
            let matches = arr(r, "match");
            if matches.is_empty() {
                catch_all = Some(i);
                continue;
            }
            let mut dup = 0;
            for (j, m) in matches.iter().enumerate() {
                let key = canonical_json(m, "name");
                let covered_by = earlier.iter().find(|(_, e)| covers(e, m)).map(|(n, _)| *n);
                if let Some(&first) = seen.get(&key) {
                    dup += 1;
                    self.warn(
                        "istio-unreachable-route",
                        p.key("match").index(j),
                        format!("match is never used: route {first} has the same match"),
                    );
                } else if let Some(n) = covered_by {
                    dup += 1;
                    self.warn(
                        "istio-unreachable-route",
                        p.key("match").index(j),
                        format!("match is never used: a shorter prefix in route {n} matches everything it would"),
                    );
                } else {
                    seen.insert(key, i);
                }
            }
            for m in matches {
                if let Some(o) = m.as_object() {
                    earlier.push((i, o));
                }
            }
            if dup == matches.len() {
                self.warn(
                    "istio-unreachable-route",
                    p,
                    "route is unreachable: all its matches are used by earlier routes",
                );
            }
        }
    }

    // ---- §3.8 DestinationRule ----

    fn destination_rule(&mut self, spec: &Value, sp: &Loc<'_>) {
        // item 55
        if let Err(e) = grammar::wildcard_domain(s(spec, "host")) {
            self.err("istio-dr-host", sp.key("host"), e);
        }
        // item 56
        if set(spec, "trafficPolicy") {
            self.traffic_policy(spec.at("trafficPolicy"), &sp.key("trafficPolicy"));
        }
        // item 57
        let mut names = BTreeSet::new();
        for (i, sub) in arr(spec, "subsets").iter().enumerate() {
            let p = sp.key("subsets").index(i);
            if sub.is_null() {
                self.err("istio-subset", p, "subset may not be null");
                continue;
            }
            let name = s(sub, "name");
            if name.is_empty() {
                self.err("istio-subset", p.key("name"), "subset name is required");
            } else if !grammar::is_label(name) {
                self.err(
                    "istio-subset",
                    p.key("name"),
                    format!("subset name {name:?} is not a DNS-1123 label"),
                );
            }
            if !names.insert(name) {
                self.err(
                    "istio-subset",
                    p.key("name"),
                    format!("duplicate subset name {name:?}"),
                );
            }
            self.labels("istio-subset", sub, "labels", &p);
            if set(sub, "trafficPolicy") {
                self.traffic_policy(sub.at("trafficPolicy"), &p.key("trafficPolicy"));
            }
        }
        // items 64, 65
        let selector = set(spec, "workloadSelector");
        self.export_to(spec, sp, false, selector);
        if selector {
            self.workload_selector(
                spec.at("workloadSelector"),
                &sp.key("workloadSelector"),
                "matchLabels",
            );
        }
    }

    fn traffic_policy(&mut self, tp: &Value, p: &Loc<'_>) {
        const PARTS: [&str; 8] = [
            "outlierDetection",
            "connectionPool",
            "loadBalancer",
            "tls",
            "portLevelSettings",
            "tunnel",
            "proxyProtocol",
            "retryBudget",
        ];
        if !PARTS.iter().any(|k| set(tp, k)) {
            self.err(
                "istio-traffic-policy",
                p.clone(),
                "trafficPolicy must have at least one field (an empty trafficPolicy is rejected)",
            );
        }
        if set(tp, "tunnel") && set(tp, "proxyProtocol") {
            self.err(
                "istio-traffic-policy",
                p.clone(),
                "tunnel and proxyProtocol cannot both be set",
            );
        }
        self.policy_parts(tp, p);
        for (i, pl) in arr(tp, "portLevelSettings").iter().enumerate() {
            let pp = p.key("portLevelSettings").index(i);
            if pl.is_null() {
                self.err("istio-port-level", pp, "port level setting may not be null");
                continue;
            }
            if !set(pl, "port") {
                self.err(
                    "istio-port-level",
                    pp.key("port"),
                    "port level setting needs a port",
                );
            }
            if !["outlierDetection", "connectionPool", "loadBalancer", "tls"]
                .iter()
                .any(|k| set(pl, k))
            {
                self.err(
                    "istio-port-level",
                    pp.clone(),
                    "port level setting must set at least one of outlierDetection, connectionPool, loadBalancer and tls",
                );
            }
            self.policy_parts(pl, &pp);
        }
        if set(tp, "tunnel") {
            let t = tp.at("tunnel");
            let tp_ = p.key("tunnel");
            let proto = s(t, "protocol");
            if !matches!(proto, "" | "CONNECT" | "POST") {
                self.err(
                    "istio-tunnel",
                    tp_.key("protocol"),
                    format!("tunnel protocol {proto:?} must be CONNECT or POST"),
                );
            }
            let th = s(t, "targetHost");
            if !grammar::is_ip(th) && grammar::fqdn(th).is_err() {
                self.err(
                    "istio-tunnel",
                    tp_.key("targetHost"),
                    format!("tunnel targetHost {th:?} must be an FQDN or an IP"),
                );
            }
            if !grammar::is_port(num(t, "targetPort")) {
                self.err(
                    "istio-tunnel",
                    tp_.key("targetPort"),
                    "tunnel targetPort must be in 1..65535",
                );
            }
        }
    }

    fn policy_parts(&mut self, tp: &Value, p: &Loc<'_>) {
        if set(tp, "tls") {
            self.client_tls(tp.at("tls"), &p.key("tls"));
        }
        if set(tp, "connectionPool") {
            self.connection_pool(tp.at("connectionPool"), &p.key("connectionPool"));
        }
        if set(tp, "outlierDetection") {
            self.outlier(tp.at("outlierDetection"), &p.key("outlierDetection"));
        }
        if set(tp, "loadBalancer") {
            self.load_balancer(tp.at("loadBalancer"), &p.key("loadBalancer"));
        }
    }

    /// Item 58 (`ValidateTLS`).
    fn client_tls(&mut self, t: &Value, p: &Loc<'_>) {
        let mode = match s(t, "mode") {
            "" => "DISABLE",
            m => m,
        };
        let cred = !s(t, "credentialName").is_empty();
        if mode == "MUTUAL" && !cred {
            for k in ["clientCertificate", "privateKey"] {
                if s(t, k).is_empty() {
                    self.err(
                        "istio-client-tls",
                        p.key(k),
                        format!("{k} is required for mutual TLS without credentialName"),
                    );
                }
            }
        }
        if cred && matches!(mode, "SIMPLE" | "MUTUAL") {
            for k in ["clientCertificate", "caCertificates", "privateKey", "caCrl"] {
                if !s(t, k).is_empty() {
                    self.err(
                        "istio-client-tls",
                        p.key(k),
                        format!("{k} cannot be set together with credentialName"),
                    );
                }
            }
        }
        if t.at("insecureSkipVerify").as_bool() == Some(true) {
            let banned: &[&str] = match mode {
                "SIMPLE" => &["caCertificates", "credentialName", "subjectAltNames"],
                "MUTUAL" => &["caCertificates", "subjectAltNames"],
                _ => &[],
            };
            for k in banned {
                let present = match t.field(k) {
                    Some(Value::String(x)) => !x.is_empty(),
                    Some(Value::Array(a)) => !a.is_empty(),
                    _ => false,
                };
                if present {
                    self.err(
                        "istio-client-tls",
                        p.key(k),
                        format!("{k} cannot be set with insecureSkipVerify: true in mode {mode}"),
                    );
                }
            }
        }
        if let Some(rest) = s(t, "credentialName").strip_prefix("configmap://") {
            if rest.contains('/') && rest.split('/').next() != Some(self.namespace) {
                self.err(
                    "istio-client-tls",
                    p.key("credentialName"),
                    "a configmap:// credentialName must be in the DestinationRule's namespace",
                );
            }
        }
    }

    fn duration_field(&mut self, v: &Value, k: &str, p: &Loc<'_>, zero_ok: bool) {
        if !set(v, k) {
            return;
        }
        let d = s(v, k);
        if zero_ok && grammar::go_duration_nanos(d) == Some(0) {
            return;
        }
        if let Err(e) = grammar::istio_duration(d) {
            self.err("istio-duration", p.key(k), e);
        }
    }

    fn connection_pool(&mut self, c: &Value, p: &Loc<'_>) {
        if !set(c, "http") && !set(c, "tcp") {
            self.err(
                "istio-connection-pool",
                p.clone(),
                "connectionPool must set http or tcp (an empty connectionPool is rejected)",
            );
        }
        let h = c.at("http");
        let hp = p.key("http");
        for k in [
            "http1MaxPendingRequests",
            "http2MaxRequests",
            "maxRequestsPerConnection",
            "maxRetries",
            "maxConcurrentStreams",
        ] {
            if num(h, k) < 0 {
                self.err(
                    "istio-connection-pool",
                    hp.key(k),
                    format!("{k} must not be negative"),
                );
            }
        }
        self.duration_field(h, "idleTimeout", &hp, false);
        if s(h, "h2UpgradePolicy") == "UPGRADE" && h.at("useClientProtocol").as_bool() == Some(true)
        {
            self.err(
                "istio-connection-pool",
                hp.clone(),
                "h2UpgradePolicy UPGRADE cannot be combined with useClientProtocol: true",
            );
        }
        let t = c.at("tcp");
        let tp = p.key("tcp");
        if num(t, "maxConnections") < 0 {
            self.err(
                "istio-connection-pool",
                tp.key("maxConnections"),
                "maxConnections must not be negative",
            );
        }
        self.duration_field(t, "connectTimeout", &tp, false);
        self.duration_field(t, "maxConnectionDuration", &tp, false);
        self.duration_field(t, "idleTimeout", &tp, true);
        self.duration_field(t.at("tcpKeepalive"), "time", &tp.key("tcpKeepalive"), false);
        self.duration_field(
            t.at("tcpKeepalive"),
            "interval",
            &tp.key("tcpKeepalive"),
            false,
        );
    }

    fn outlier(&mut self, o: &Value, p: &Loc<'_>) {
        self.duration_field(o, "interval", p, false);
        self.duration_field(o, "baseEjectionTime", p, false);
        for k in ["maxEjectionPercent", "minHealthPercent"] {
            let v = num(o, k);
            if !(0..=100).contains(&v) {
                self.err("istio-outlier", p.key(k), format!("{k} must be in 0..100"));
            }
        }
        if num(o, "consecutiveLocalOriginFailures") > 0
            && o.at("splitExternalLocalOriginErrors").as_bool() != Some(true)
        {
            self.err(
                "istio-outlier",
                p.key("consecutiveLocalOriginFailures"),
                "consecutiveLocalOriginFailures requires splitExternalLocalOriginErrors: true",
            );
        }
        if set(o, "consecutiveErrors") {
            self.warn(
                "istio-outlier",
                p.key("consecutiveErrors"),
                "consecutiveErrors is deprecated",
            );
        }
    }

    fn load_balancer(&mut self, lb: &Value, p: &Loc<'_>) {
        let ch = lb.at("consistentHash");
        let cp = p.key("consistentHash");
        if set(lb, "consistentHash") {
            if set(ch, "httpCookie") {
                let c = ch.at("httpCookie");
                if s(c, "name").is_empty() {
                    self.err(
                        "istio-load-balancer",
                        cp.key("httpCookie").key("name"),
                        "httpCookie needs a name",
                    );
                }
                let mut names = BTreeSet::new();
                for (i, a) in arr(c, "attributes").iter().enumerate() {
                    let n = s(a, "name");
                    if n.is_empty() || !names.insert(n) {
                        self.err(
                            "istio-load-balancer",
                            cp.key("httpCookie").key("attributes").index(i),
                            "cookie attribute names must be unique and non-empty",
                        );
                    }
                }
            }
            if set(ch, "minimumRingSize") {
                self.warn(
                    "istio-load-balancer",
                    cp.key("minimumRingSize"),
                    "minimumRingSize is deprecated; use ringHash",
                );
                if set(ch, "maglev") || set(ch, "ringHash") {
                    self.err(
                        "istio-load-balancer",
                        cp.key("minimumRingSize"),
                        "minimumRingSize cannot be combined with maglev or ringHash",
                    );
                }
            }
            if set(ch, "maglev") {
                let t = num(ch.at("maglev"), "tableSize");
                let prime = t >= 2 && (2..).take_while(|d| d * d <= t).all(|d| t % d != 0);
                if t == 0 || t >= 5_000_011 || !prime {
                    self.err(
                        "istio-load-balancer",
                        cp.key("maglev").key("tableSize"),
                        "maglev tableSize must be set, below 5000011 and prime",
                    );
                }
            }
        }
        let loc = lb.at("localityLbSetting");
        if !arr(loc, "distribute").is_empty() && !arr(loc, "failover").is_empty() {
            self.err(
                "istio-load-balancer",
                p.key("localityLbSetting"),
                "localityLbSetting cannot set both distribute and failover",
            );
        }
        if set(lb, "warmup") {
            let w = lb.at("warmup");
            let wp = p.key("warmup");
            if !set(w, "duration") {
                self.err(
                    "istio-load-balancer",
                    wp.key("duration"),
                    "warmup needs a duration",
                );
            }
            self.duration_field(w, "duration", &wp, false);
            if w.at("minimumPercent").at("value").as_f64().unwrap_or(0.0) > 100.0 {
                self.err(
                    "istio-load-balancer",
                    wp.key("minimumPercent"),
                    "minimumPercent must be at most 100",
                );
            }
            if set(w, "aggression") && w.at("aggression").at("value").as_f64().unwrap_or(1.0) < 1.0
            {
                self.err(
                    "istio-load-balancer",
                    wp.key("aggression"),
                    "aggression must be at least 1",
                );
            }
        }
    }
}

/// The compact JSON of `v` with map keys sorted at every level and the top-level key `skip`
/// left out: equal for matches that differ only in key order (and in `skip`).
fn canonical_json(v: &Value, skip: &str) -> String {
    struct Sorted<'a>(&'a Value, Option<&'a str>);
    impl serde::Serialize for Sorted<'_> {
        fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            use serde::ser::{SerializeMap, SerializeSeq};
            match self.0 {
                Value::Object(m) => {
                    let mut entries: Vec<(&String, &Value)> = m
                        .iter()
                        .filter(|(k, _)| Some(k.as_str()) != self.1)
                        .collect();
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                    let mut out = ser.serialize_map(Some(entries.len()))?;
                    for (k, x) in entries {
                        out.serialize_entry(k, &Sorted(x, None))?;
                    }
                    out.end()
                }
                Value::Array(a) => {
                    let mut out = ser.serialize_seq(Some(a.len()))?;
                    for x in a {
                        out.serialize_element(&Sorted(x, None))?;
                    }
                    out.end()
                }
                other => other.serialize(ser),
            }
        }
    }
    serde_json::to_string(&Sorted(v, Some(skip))).unwrap_or_default()
}

/// Does the earlier match `e` take every request the later match `m` would (`coveredValidation`)?
/// True when `e`'s URI is a prefix (or absent) that `m`'s prefix or exact path starts with, and
/// every other condition of `e` appears unchanged in `m`.
fn covers(e: &Map<String, Value>, m: &Value) -> bool {
    let Some(m) = m.as_object() else { return false };
    let e_prefix = match e.field("uri") {
        None => "",
        Some(u) => match u.field("prefix").and_then(Value::as_str) {
            Some(p) if u.as_object().is_some_and(|o| o.len() == 1) => p,
            _ => return false,
        },
    };
    let m_path = match m.field("uri") {
        Some(u) if u.as_object().is_some_and(|o| o.len() == 1) => u
            .field("prefix")
            .or_else(|| u.field("exact"))
            .and_then(Value::as_str),
        _ => None,
    };
    let Some(m_path) = m_path else { return false };
    if !m_path.starts_with(e_prefix) {
        return false;
    }
    e.iter()
        .filter(|(k, _)| *k != "uri" && *k != "name")
        .all(|(k, v)| m.field(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_is_the_sorted_form_without_the_key() {
        let m =
            json!({"uri": {"prefix": "/"}, "name": "x", "headers": {"b": {}, "a": {"exact": "1"}}});
        let mut expected = m.clone();
        expected.as_object_mut().unwrap().remove("name");
        assert_eq!(
            canonical_json(&m, "name"),
            crate::istio::object::canonical(&expected).to_string()
        );
        assert_eq!(
            canonical_json(&json!([{"b": 1, "a": 2}]), "name"),
            r#"[{"a":2,"b":1}]"#
        );
    }

    use serde_json::json;

    fn run(kind: &str, spec: Value) -> Vec<Problem> {
        run_obj(json!({"apiVersion": "networking.istio.io/v1", "kind": kind,
                       "metadata": {"name": "x", "namespace": "ns"}, "spec": spec}))
    }

    fn run_obj(v: Value) -> Vec<Problem> {
        let mut out = Vec::new();
        check(v["kind"].as_str().unwrap(), &v, &mut out);
        out
    }

    /// Asserts exactly the given codes (with severity) at the given paths.
    #[track_caller]
    fn has(p: &[Problem], code: &str, path: &str, error: bool) {
        assert!(
            p.iter().any(|x| x.code == code
                && x.path.to_string() == path
                && (x.severity == crate::diag::Severity::Error) == error),
            "expected {code} at {path}, got {p:#?}"
        );
    }

    #[track_caller]
    fn clean(p: &[Problem]) {
        assert!(p.is_empty(), "{p:#?}");
    }

    fn se_dns() -> Value {
        json!({"hosts": ["httpbin.org"], "resolution": "DNS", "exportTo": ["."],
               "ports": [{"name": "http", "number": 80, "protocol": "HTTP", "targetPort": 80}]})
    }

    #[test]
    fn metadata_rules() {
        clean(&run("ServiceEntry", se_dns()));
        let p = run_obj(json!({"kind": "ServiceEntry",
            "metadata": {"name": "Bad_Name", "namespace": "ns",
                         "labels": {"gloo.solo.io/parent_name": "a", "x": "-bad"},
                         "annotations": {"istio.io/dry-run": "true", "internal.istio.io/parents": "x"}},
            "spec": se_dns()}));
        has(&p, "istio-metadata", "metadata.name", true);
        has(&p, "istio-metadata", "metadata.labels.x", true);
        has(
            &p,
            "istio-metadata",
            "metadata.annotations[\"istio.io/dry-run\"]",
            true,
        );
        has(
            &p,
            "istio-metadata",
            "metadata.annotations[\"internal.istio.io/parents\"]",
            true,
        );
        assert_eq!(p.len(), 4, "{p:#?}");
    }

    #[test]
    fn export_to_rules() {
        let mut spec = se_dns();
        spec["exportTo"] = json!(["~"]);
        clean(&run("ServiceEntry", spec.clone()));
        spec["exportTo"] = json!([".", "ns"]);
        has(
            &run("ServiceEntry", spec.clone()),
            "istio-export-to",
            "spec.exportTo[1]",
            true,
        );
        spec["exportTo"] = json!(["*", "other"]);
        has(
            &run("ServiceEntry", spec.clone()),
            "istio-export-to",
            "spec.exportTo",
            true,
        );
        spec["exportTo"] = json!(["Bad_ns"]);
        has(
            &run("ServiceEntry", spec),
            "istio-export-to",
            "spec.exportTo[0]",
            true,
        );
        let vs = json!({"hosts": ["a.com"], "exportTo": ["~"], "http": [{"route": [{"destination": {"host": "a.com"}}]}]});
        has(
            &run("VirtualService", vs),
            "istio-export-to",
            "spec.exportTo[0]",
            true,
        );
        let dr = json!({"host": "a", "workloadSelector": {"matchLabels": {"app": "a"}}, "exportTo": ["other"]});
        has(
            &run("DestinationRule", dr),
            "istio-export-to",
            "spec.exportTo",
            true,
        );
    }

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

    #[test]
    fn route_kind_conflicts() {
        let r = json!({"redirect": {"uri": "/x"}, "route": [{"destination": {"host": "a"}}], "rewrite": {"uri": "/"}});
        let p = run("VirtualService", json!({"hosts": ["a.com"], "http": [r]}));
        has(&p, "istio-route-conflict", "spec.http[0].route", true);
        has(&p, "istio-route-conflict", "spec.http[0].rewrite", true);
        let r = json!({"directResponse": {"status": 500}, "fault": {"abort": {"httpStatus": 500}}});
        has(
            &run("VirtualService", json!({"hosts": ["a.com"], "http": [r]})),
            "istio-route-conflict",
            "spec.http[0].fault",
            true,
        );
        let r = json!({"match": [{"uri": {"prefix": "/"}}]});
        has(
            &run("VirtualService", json!({"hosts": ["a.com"], "http": [r]})),
            "istio-route-conflict",
            "spec.http[0].route",
            true,
        );
        let ok = json!({"directResponse": {"status": 500, "body": {"string": "unresolved"}}});
        clean(&run(
            "VirtualService",
            json!({"hosts": ["a.com"], "http": [ok]}),
        ));
        let d = json!({"delegate": {"name": "c"}, "route": [{"destination": {"host": "a"}}]});
        has(
            &run("VirtualService", json!({"hosts": ["a.com"], "http": [d]})),
            "istio-route-conflict",
            "spec.http[0].route",
            true,
        );
    }

    #[test]
    fn match_rules() {
        let ok = json!({"match": [{"uri": {"regex": "^/api/v[0-9]+/.*"}, "ignoreUriCase": true,
                        "headers": {"x-user": {"exact": "a"}}, "withoutHeaders": {"x-debug": {}},
                        "queryParams": {"q": {"regex": "a.*"}}, "method": {"exact": "GET"}, "port": 80,
                        "sourceLabels": {"app": "a"}}], "route": [{"destination": {"host": "a"}}]});
        clean(&run(
            "VirtualService",
            json!({"hosts": ["a.com"], "http": [ok]}),
        ));
        let bad = json!({"match": [{"uri": {"regex": "("}, "headers": {"bad header": {"exact": "a"}},
                         "method": {"prefix": ""}, "sourceLabels": {"app": "-x"}}],
                         "route": [{"destination": {"host": "a"}}]});
        let p = run("VirtualService", json!({"hosts": ["a.com"], "http": [bad]}));
        has(&p, "istio-regex", "spec.http[0].match[0].uri.regex", true);
        has(
            &p,
            "istio-match",
            "spec.http[0].match[0].headers[\"bad header\"]",
            true,
        );
        has(
            &p,
            "istio-match",
            "spec.http[0].match[0].method.prefix",
            true,
        );
        has(
            &p,
            "istio-match",
            "spec.http[0].match[0].sourceLabels.app",
            true,
        );
        let claims = json!({"match": [{"headers": {"@request.auth.claims.sub": {"exact": "a"}}}], "route": [{"destination": {"host": "a"}}]});
        has(
            &run(
                "VirtualService",
                json!({"hosts": ["a.com"], "http": [claims]}),
            ),
            "istio-match",
            "spec.http[0].match[0].headers[\"@request.auth.claims.sub\"]",
            true,
        );
    }

    #[test]
    fn header_rules() {
        let ok = json!({"headers": {"request": {"set": {"x-a": "b %DOWNSTREAM_REMOTE_ADDRESS% 100%%"}}}, "route": [{"destination": {"host": "a"}}]});
        clean(&run(
            "VirtualService",
            json!({"hosts": ["a.com"], "http": [ok]}),
        ));
        let bad = json!({"headers": {"request": {"set": {":path": "x", "x-b": "50%"}}, "response": {"remove": ["host"]}},
                         "route": [{"destination": {"host": "a"}}]});
        let p = run("VirtualService", json!({"hosts": ["a.com"], "http": [bad]}));
        has(
            &p,
            "istio-header",
            "spec.http[0].headers.request.set[\":path\"]",
            true,
        );
        has(
            &p,
            "istio-header",
            "spec.http[0].headers.request.set.x-b",
            true,
        );
        has(
            &p,
            "istio-header",
            "spec.http[0].headers.response.remove[0]",
            true,
        );
    }

    #[test]
    fn rewrite_rules() {
        let ok = json!({"rewrite": {"uri": "/", "authority": "httpbin.org"}, "route": [{"destination": {"host": "a"}}]});
        clean(&run(
            "VirtualService",
            json!({"hosts": ["a.com"], "http": [ok]}),
        ));
        let ok = json!({"rewrite": {"uriRegexRewrite": {"match": "^/a/(.*)$", "rewrite": "/\\1"}}, "route": [{"destination": {"host": "a"}}]});
        clean(&run(
            "VirtualService",
            json!({"hosts": ["a.com"], "http": [ok]}),
        ));
        let empty = json!({"rewrite": {"uri": ""}, "route": [{"destination": {"host": "a"}}]});
        has(
            &run(
                "VirtualService",
                json!({"hosts": ["a.com"], "http": [empty]}),
            ),
            "istio-rewrite",
            "spec.http[0].rewrite",
            true,
        );
        let both = json!({"rewrite": {"uri": "/", "uriRegexRewrite": {"match": "(", "rewrite": "/"}}, "route": [{"destination": {"host": "a"}}]});
        let p = run(
            "VirtualService",
            json!({"hosts": ["a.com"], "http": [both]}),
        );
        has(&p, "istio-rewrite", "spec.http[0].rewrite", true);
        has(
            &p,
            "istio-regex",
            "spec.http[0].rewrite.uriRegexRewrite.match",
            true,
        );
        let auth = json!({"rewrite": {"authority": "a"}, "headers": {"request": {"set": {"host": "b"}}}, "route": [{"destination": {"host": "a"}}]});
        has(
            &run(
                "VirtualService",
                json!({"hosts": ["a.com"], "http": [auth]}),
            ),
            "istio-rewrite",
            "spec.http[0]",
            true,
        );
    }

    #[test]
    fn redirect_and_direct_response_rules() {
        let ok =
            json!({"redirect": {"authority": "new.example.com", "uri": "/x", "redirectCode": 302}});
        clean(&run(
            "VirtualService",
            json!({"hosts": ["a.com"], "http": [ok]}),
        ));
        let p = run(
            "VirtualService",
            json!({"hosts": ["a.com"], "http": [
            {"redirect": {"redirectCode": 301}},
            {"redirect": {"uri": "/", "redirectCode": 200}},
            {"redirect": {"uri": "/", "scheme": "ftp"}},
            {"directResponse": {"status": 100}}]}),
        );
        has(&p, "istio-redirect", "spec.http[0].redirect", true);
        has(
            &p,
            "istio-redirect",
            "spec.http[1].redirect.redirectCode",
            true,
        );
        has(&p, "istio-redirect", "spec.http[2].redirect.scheme", true);
        has(
            &p,
            "istio-direct-response",
            "spec.http[3].directResponse.status",
            true,
        );
    }

    #[test]
    fn retries_timeout_cors_fault_mirror_rules() {
        let ok = json!({"timeout": "1.5s", "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,reset,503"},
                        "corsPolicy": {"allowOrigins": [{"exact": "https://a.com"}], "allowMethods": ["GET"], "maxAge": "24h"},
                        "fault": {"delay": {"fixedDelay": "2s", "percentage": {"value": 100}}},
                        "mirror": {"host": "m"}, "mirrorPercentage": {"value": 10},
                        "route": [{"destination": {"host": "a"}}]});
        clean(&run(
            "VirtualService",
            json!({"hosts": ["a.com"], "http": [ok]}),
        ));
        let bad = json!({"timeout": "1500us", "retries": {"attempts": 0, "retryOn": "5xx, reset"},
                        "corsPolicy": {"allowOrigins": [{}], "allowMethods": ["FETCH"], "maxAge": "1500ms"},
                        "fault": {"abort": {"httpStatus": 700}},
                        "mirror": {"host": "*"}, "mirrors": [{"destination": {"host": "m"}}],
                        "route": [{"destination": {"host": "a"}}]});
        let p = run("VirtualService", json!({"hosts": ["a.com"], "http": [bad]}));
        has(&p, "istio-duration", "spec.http[0].timeout", true);
        has(&p, "istio-retry", "spec.http[0].retries.retryOn", true);
        has(
            &p,
            "istio-cors",
            "spec.http[0].corsPolicy.allowOrigins[0]",
            true,
        );
        has(
            &p,
            "istio-cors",
            "spec.http[0].corsPolicy.allowMethods[0]",
            true,
        );
        has(&p, "istio-cors", "spec.http[0].corsPolicy.maxAge", true);
        has(
            &p,
            "istio-fault",
            "spec.http[0].fault.abort.httpStatus",
            true,
        );
        has(&p, "istio-destination", "spec.http[0].mirror.host", true);
        has(&p, "istio-route-conflict", "spec.http[0].mirrors", true);
    }

    #[test]
    fn destination_and_weight_rules() {
        let ok = json!({"route": [{"destination": {"host": "a", "subset": "version-v1"}, "weight": 70},
                                  {"destination": {"host": "a", "subset": "version-v2"}, "weight": 30}]});
        clean(&run(
            "VirtualService",
            json!({"hosts": ["a.com"], "http": [ok]}),
        ));
        let bad = json!({"route": [{"destination": {"host": "*", "subset": "Bad_", "port": {}}},
                                   {"destination": {"host": "a"}}, {}]});
        let p = run("VirtualService", json!({"hosts": ["a.com"], "http": [bad]}));
        has(
            &p,
            "istio-destination",
            "spec.http[0].route[0].destination.host",
            true,
        );
        has(
            &p,
            "istio-subset",
            "spec.http[0].route[0].destination.subset",
            true,
        );
        has(
            &p,
            "istio-destination",
            "spec.http[0].route[0].destination.port.number",
            true,
        );
        has(&p, "istio-destination", "spec.http[0].route[2]", true);
        has(&p, "istio-weight", "spec.http[0].route", true);
    }

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

    #[test]
    fn unreachable_rules_warn() {
        let ok = json!({"hosts": ["a.com"], "http": [
            {"match": [{"uri": {"prefix": "/db/"}}], "route": [{"destination": {"host": "a"}}]},
            {"match": [{"uri": {"prefix": "/"}}], "route": [{"destination": {"host": "a"}}]}]});
        clean(&run("VirtualService", ok));
        let bad = json!({"hosts": ["a.com"], "http": [
            {"match": [{"uri": {"prefix": "/"}}], "route": [{"destination": {"host": "a"}}]},
            {"match": [{"uri": {"prefix": "/db/"}}], "route": [{"destination": {"host": "a"}}]},
            {"match": [{"uri": {"prefix": "/"}, "name": "again"}], "route": [{"destination": {"host": "a"}}]},
            {"route": [{"destination": {"host": "a"}}]},
            {"match": [{"uri": {"exact": "/x"}}], "route": [{"destination": {"host": "a"}}]}]});
        let p = run("VirtualService", bad);
        has(&p, "istio-unreachable-route", "spec.http[1]", false);
        has(
            &p,
            "istio-unreachable-route",
            "spec.http[2].match[0]",
            false,
        );
        has(&p, "istio-unreachable-route", "spec.http[4]", false);
        assert!(p
            .iter()
            .all(|x| x.severity == crate::diag::Severity::Warning));
    }

    #[test]
    fn destination_rule_rules() {
        let ok = json!({"host": "httpbin.org", "trafficPolicy": {"portLevelSettings": [
            {"port": {"number": 443}, "tls": {"mode": "SIMPLE", "sni": "httpbin.org", "subjectAltNames": ["httpbin.org"]}}]},
            "subsets": [{"name": "version-v1", "labels": {"version": "v1"}}]});
        clean(&run("DestinationRule", ok));
        let bad = json!({"host": "foo.*.com", "trafficPolicy": {}, "subsets": [
            {"name": "a", "trafficPolicy": {"connectionPool": {}}}, {"name": "a", "labels": {"v": "-"}}, {"name": ""}]});
        let p = run("DestinationRule", bad);
        has(&p, "istio-dr-host", "spec.host", true);
        has(&p, "istio-traffic-policy", "spec.trafficPolicy", true);
        has(
            &p,
            "istio-connection-pool",
            "spec.subsets[0].trafficPolicy.connectionPool",
            true,
        );
        has(&p, "istio-subset", "spec.subsets[1].name", true);
        has(&p, "istio-subset", "spec.subsets[1].labels.v", true);
        has(&p, "istio-subset", "spec.subsets[2].name", true);
    }

    #[test]
    fn client_tls_rules() {
        let mutual = json!({"mode": "MUTUAL", "clientCertificate": "/c.crt", "privateKey": "/c.key", "caCertificates": "/ca.crt", "sni": "mtls.external"});
        let dr = |tls: Value| json!({"host": "a.com", "trafficPolicy": {"portLevelSettings": [{"port": {"number": 80}, "tls": tls}]}});
        clean(&run("DestinationRule", dr(mutual)));
        clean(&run(
            "DestinationRule",
            dr(json!({"mode": "ISTIO_MUTUAL", "subjectAltNames": ["spiffe://c/ns/n/sa/s"]})),
        ));
        let p = run("DestinationRule", dr(json!({"mode": "MUTUAL"})));
        has(
            &p,
            "istio-client-tls",
            "spec.trafficPolicy.portLevelSettings[0].tls.clientCertificate",
            true,
        );
        has(
            &p,
            "istio-client-tls",
            "spec.trafficPolicy.portLevelSettings[0].tls.privateKey",
            true,
        );
        let p = run(
            "DestinationRule",
            dr(json!({"mode": "SIMPLE", "credentialName": "c", "caCertificates": "/ca"})),
        );
        has(
            &p,
            "istio-client-tls",
            "spec.trafficPolicy.portLevelSettings[0].tls.caCertificates",
            true,
        );
        let p = run(
            "DestinationRule",
            dr(json!({"mode": "SIMPLE", "insecureSkipVerify": true, "subjectAltNames": ["a"]})),
        );
        has(
            &p,
            "istio-client-tls",
            "spec.trafficPolicy.portLevelSettings[0].tls.subjectAltNames",
            true,
        );
    }

    #[test]
    fn traffic_policy_parts() {
        let ok = json!({"host": "a", "trafficPolicy": {
            "connectionPool": {"tcp": {"connectTimeout": "1s", "idleTimeout": "0s"}},
            "outlierDetection": {"interval": "10s", "maxEjectionPercent": 50},
            "loadBalancer": {"simple": "ROUND_ROBIN", "localityLbSetting": {"enabled": true}},
            "tunnel": {"protocol": "CONNECT", "targetHost": "proxy.a.com", "targetPort": 3128}}});
        clean(&run("DestinationRule", ok));
        let bad = json!({"host": "a", "trafficPolicy": {
            "connectionPool": {"http": {"h2UpgradePolicy": "UPGRADE", "useClientProtocol": true}},
            "outlierDetection": {"maxEjectionPercent": 150, "consecutiveLocalOriginFailures": 2},
            "loadBalancer": {"consistentHash": {"maglev": {"tableSize": 100}},
                             "localityLbSetting": {"distribute": [{"from": "a"}], "failover": [{"from": "a"}]}},
            "portLevelSettings": [{"port": {"number": 80}}],
            "tunnel": {"protocol": "GET", "targetHost": "", "targetPort": 0}, "proxyProtocol": {}}});
        let p = run("DestinationRule", bad);
        has(
            &p,
            "istio-connection-pool",
            "spec.trafficPolicy.connectionPool.http",
            true,
        );
        has(
            &p,
            "istio-outlier",
            "spec.trafficPolicy.outlierDetection.maxEjectionPercent",
            true,
        );
        has(
            &p,
            "istio-outlier",
            "spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures",
            true,
        );
        has(
            &p,
            "istio-load-balancer",
            "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize",
            true,
        );
        has(
            &p,
            "istio-load-balancer",
            "spec.trafficPolicy.loadBalancer.localityLbSetting",
            true,
        );
        has(
            &p,
            "istio-port-level",
            "spec.trafficPolicy.portLevelSettings[0]",
            true,
        );
        has(&p, "istio-traffic-policy", "spec.trafficPolicy", true);
        has(
            &p,
            "istio-tunnel",
            "spec.trafficPolicy.tunnel.protocol",
            true,
        );
        has(
            &p,
            "istio-tunnel",
            "spec.trafficPolicy.tunnel.targetHost",
            true,
        );
        has(
            &p,
            "istio-tunnel",
            "spec.trafficPolicy.tunnel.targetPort",
            true,
        );
    }

    #[test]
    fn dr_workload_selector() {
        let ok = json!({"host": "a", "workloadSelector": {"matchLabels": {"app": "a"}}, "exportTo": ["."]});
        clean(&run("DestinationRule", ok));
        let bad = json!({"host": "a", "workloadSelector": {"matchLabels": {"app": "*"}}});
        has(
            &run("DestinationRule", bad),
            "istio-workload-selector",
            "spec.workloadSelector.matchLabels.app",
            true,
        );
        let empty = json!({"host": "a", "workloadSelector": {}});
        has(
            &run("DestinationRule", empty),
            "istio-workload-selector",
            "spec.workloadSelector",
            false,
        );
    }
}
