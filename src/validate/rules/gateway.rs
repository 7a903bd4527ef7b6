//! Gateway: istiod's `ValidateGateway` and the functions it calls (istio/istio 1.30.3,
//! `pkg/config/validation/validation.go`: `validateServer`, `validateServerPort`,
//! `validateServerBind`, `validateTLSOptions`; `pkg/config/validation/agent/validation.go`:
//! `ValidateNamespaceSlashWildcardHostname`). Each rule names the function and keeps the
//! message it follows (docs/translation.md, "VirtualGateway → Gateway", lists them).

use super::common::{arr, map, num, s, set};
use super::Ctx;
use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::grammar::{self, Protocol};
use crate::validate::Loc;
use serde_json::Value;
use std::collections::BTreeSet;

/// `security.ValidCipherSuites` (`pkg/config/security/security.go`).
const CIPHER_SUITES: [&str; 15] = [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-RSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-SHA",
    "AES256-SHA",
    "DES-CBC3-SHA",
];

/// `security.IsValidCipherSuite`: a listed name, empty, `ALL`, or an expression starting with
/// an operator (`-`, `+`, `!`, `[`), which istiod does not parse.
fn valid_cipher(c: &str) -> bool {
    match c.chars().next() {
        None => true,
        Some(first) if !first.is_alphanumeric() => true,
        Some(_) => c == "ALL" || CIPHER_SUITES.contains(&c),
    }
}

/// The TLS mode, PASSTHROUGH when unset (`ServerTLSSettings.TLSmode` value 0).
fn tls_mode(t: &Value) -> &str {
    match s(t, "mode") {
        "" => "PASSTHROUGH",
        m => m,
    }
}

/// True when the list at `k` has entries.
fn non_empty(v: &Value, k: &str) -> bool {
    !arr(v, k).is_empty()
}

impl Ctx<'_> {
    /// `ValidateGateway`: the name, at least one server, each server, unique port names, and
    /// `httpsRedirect` only on HTTP servers.
    pub(super) fn gateway(&mut self, obj: &Value, spec: &Value, sp: &Loc<'_>) {
        let meta = obj.at("metadata");
        // Gateways converted from the Kubernetes Gateway API skip the name rule and accept `~/`.
        let gateway_semantics = map(meta, "annotations")
            .and_then(|a| a.get("internal.istio.io/gateway-semantics"))
            .and_then(Value::as_str)
            == Some("gateway");
        let name = s(meta, "name");
        if !gateway_semantics && !grammar::is_label(name) {
            self.err(
                Istio::Metadata,
                Loc::root().key("metadata").key("name"),
                format!("invalid gateway name: {name:?} (a Gateway name is a DNS-1123 label, without dots)"),
            );
        }
        let servers = arr(spec, "servers");
        let sp_servers = sp.key("servers");
        if servers.is_empty() {
            self.err(
                Istio::GatewayServer,
                sp_servers.clone(),
                "gateway must have at least one server",
            );
        }
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for (i, server) in servers.iter().enumerate() {
            let p = sp_servers.index(i);
            if server.is_null() {
                self.err(Istio::GatewayServer, p, "server may not be null");
                continue;
            }
            self.server(server, &p, gateway_semantics);
            if !set(server, "port") {
                continue;
            }
            let port = server.at("port");
            let port_name = s(port, "name");
            if !names.insert(port_name) {
                self.err(
                    Istio::GatewayPortName,
                    p.key("port").key("name"),
                    format!("port names in servers must be unique: duplicate name {port_name}"),
                );
            }
            let redirect = server.at("tls").at("httpsRedirect").as_bool() == Some(true);
            if redirect && !Protocol::parse(s(port, "protocol")).is_http() {
                self.warn(
                    Istio::ServerTls,
                    p.key("tls").key("httpsRedirect"),
                    "tls.httpsRedirect should only be used with http servers",
                );
            }
        }
    }

    /// `validateServer`: hosts, port, bind and TLS settings, and a TLS block exactly where the
    /// protocol needs one.
    fn server(&mut self, server: &Value, p: &Loc<'_>, gateway_semantics: bool) {
        let hosts = arr(server, "hosts");
        if hosts.is_empty() {
            self.err(
                Istio::GatewayServer,
                p.key("hosts"),
                "server config must contain at least one host",
            );
        }
        for (j, h) in hosts.iter().enumerate() {
            let h = h.as_str().unwrap_or("");
            for e in gateway_host_errors(h, gateway_semantics) {
                self.err(
                    Istio::GatewayServer,
                    p.key("hosts").index(j),
                    format!("{h:?}: {e}"),
                );
            }
        }
        let port_ok = self.server_port(server, p);
        self.server_bind(server, p);
        let tls = server.field("tls").filter(|t| !t.is_null());
        if let Some(t) = tls {
            self.tls_options(t, &p.key("tls"));
        }
        if !port_ok {
            return;
        }
        let proto = Protocol::parse(s(server.at("port"), "protocol"));
        match tls {
            None if proto.is_tls() => self.err(
                Istio::GatewayServer,
                p.key("tls"),
                "server must have TLS settings for HTTPS/TLS protocols",
            ),
            Some(t) if !proto.is_tls() => {
                // A plain HTTP server may carry only a passthrough block (httpsRedirect).
                let passthrough = matches!(tls_mode(t), "PASSTHROUGH" | "AUTO_PASSTHROUGH");
                let files = ["caCertificates", "privateKey", "serverCertificate"]
                    .iter()
                    .any(|k| !s(t, k).is_empty());
                if !proto.is_http() {
                    self.err(
                        Istio::GatewayServer,
                        p.key("tls"),
                        "server cannot have TLS settings for non HTTPS/TLS ports",
                    );
                } else if !passthrough || files {
                    self.err(
                        Istio::GatewayServer,
                        p.key("tls"),
                        "server cannot have TLS settings for plain text HTTP ports",
                    );
                }
            }
            _ => {}
        }
    }

    /// `validateServerPort`; true when it found nothing.
    fn server_port(&mut self, server: &Value, p: &Loc<'_>) -> bool {
        if !set(server, "port") {
            self.err(Istio::GatewayServer, p.key("port"), "port is required");
            return false;
        }
        let port = server.at("port");
        let pp = p.key("port");
        let before = self.out.len();
        let proto = s(port, "protocol");
        if Protocol::parse(proto) == Protocol::Unsupported {
            self.err(
                Istio::GatewayServer,
                pp.key("protocol"),
                format!("invalid protocol {proto:?}, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP"),
            );
        }
        let number = num(port, "number");
        if (number > 0 || !s(server, "bind").starts_with("unix://")) && !grammar::is_port(number) {
            self.err(
                Istio::GatewayServer,
                pp.key("number"),
                format!("port number {number} must be in the range 1..65535"),
            );
        }
        if num(port, "targetPort") > 0 {
            self.err(
                Istio::GatewayServer,
                pp.key("targetPort"),
                "targetPort has no impact on Gateways",
            );
        }
        if s(port, "name").is_empty() {
            self.err(
                Istio::GatewayServer,
                pp.key("name"),
                "port name must be set",
            );
        }
        self.out.len() == before
    }

    /// `validateServerBind`: a `unix://` socket (port number 0) or an IP address.
    fn server_bind(&mut self, server: &Value, p: &Loc<'_>) {
        let bind = s(server, "bind");
        if let Some(addr) = bind.strip_prefix("unix://") {
            let ok = addr.starts_with('@') || (addr.starts_with('/') && !addr.ends_with('/'));
            if !ok {
                self.err(
                    Istio::GatewayServer,
                    p.key("bind"),
                    format!("{addr:?} is not an absolute path to a file"),
                );
            }
            if num(server.at("port"), "number") != 0 {
                self.err(
                    Istio::GatewayServer,
                    p.key("port").key("number"),
                    "port number must be 0 for unix domain socket",
                );
            }
        } else if !bind.is_empty() && !grammar::is_ip(bind) {
            self.err(
                Istio::GatewayServer,
                p.key("bind"),
                format!("{bind} is not a valid IP"),
            );
        }
    }

    /// `validateTLSOptions`: cipher suites, and the certificates each mode needs or refuses.
    fn tls_options(&mut self, t: &Value, p: &Loc<'_>) {
        let ciphers = arr(t, "cipherSuites");
        if matches!(s(t, "minProtocolVersion"), "TLSV1_0" | "TLSV1_1") && ciphers.is_empty() {
            self.warn(
                Istio::ServerTls,
                p.key("minProtocolVersion"),
                "TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.",
            );
        }
        let mut invalid = BTreeSet::new();
        let mut valid = BTreeSet::new();
        let mut duplicate = BTreeSet::new();
        for c in ciphers.iter().map(|c| c.as_str().unwrap_or("")) {
            if !valid_cipher(c) {
                invalid.insert(c);
            } else if !valid.insert(c) {
                duplicate.insert(c);
            }
        }
        if !invalid.is_empty() {
            self.warn(
                Istio::ServerTls,
                p.key("cipherSuites"),
                format!("ignoring invalid cipher suites: {invalid:?}"),
            );
        }
        if !duplicate.is_empty() {
            self.warn(
                Istio::ServerTls,
                p.key("cipherSuites"),
                format!("ignoring duplicate cipher suites: {duplicate:?}"),
            );
        }
        let mode = tls_mode(t);
        let cert = !s(t, "serverCertificate").is_empty();
        let key = !s(t, "privateKey").is_empty();
        let cred = !s(t, "credentialName").is_empty();
        let creds = non_empty(t, "credentialNames");
        let certs = non_empty(t, "tlsCertificates");
        if mode == "ISTIO_MUTUAL" {
            for (present, k) in [
                (cert, "serverCertificate"),
                (key, "privateKey"),
                (!s(t, "caCertificates").is_empty(), "caCertificates"),
                (certs, "tlsCertificates"),
                (cred, "credentialName"),
                (creds, "credentialNames"),
            ] {
                if present {
                    self.err(
                        Istio::ServerTls,
                        p.key(k),
                        format!("ISTIO_MUTUAL TLS cannot have associated {k}"),
                    );
                }
            }
            return;
        }
        if matches!(mode, "PASSTHROUGH" | "AUTO_PASSTHROUGH")
            && (cert
                || key
                || cred
                || creds
                || certs
                || !s(t, "caCertificates").is_empty()
                || !s(t, "caCrl").is_empty())
        {
            self.warn(
                Istio::ServerTls,
                p.key("mode"),
                format!("{mode} mode does not use certificates, they will be ignored"),
            );
        }
        let sources =
            usize::from(cert && key) + usize::from(cred) + usize::from(creds) + usize::from(certs);
        if sources > 1 {
            self.err(
                Istio::ServerTls,
                p.clone(),
                "only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified",
            );
        }
        let terminates = matches!(mode, "SIMPLE" | "MUTUAL" | "OPTIONAL_MUTUAL");
        if terminates && !(cred || creds) {
            let prefix = if mode == "SIMPLE" {
                "SIMPLE TLS"
            } else {
                "MUTUAL TLS"
            };
            if mode != "SIMPLE" && s(t, "caCertificates").is_empty() {
                self.err(
                    Istio::ServerTls,
                    p.key("caCertificates"),
                    format!("{prefix} requires a client CA bundle"),
                );
            }
            let list = arr(t, "tlsCertificates");
            if list.len() > 2 {
                self.warn(
                    Istio::ServerTls,
                    p.key("tlsCertificates"),
                    format!("{prefix} can support up to 2 server certificates"),
                );
            }
            if list.is_empty() {
                self.server_certificate(t, p, prefix);
            }
            for (i, c) in list.iter().enumerate() {
                self.server_certificate(c, &p.key("tlsCertificates").index(i), prefix);
            }
        }
        if !s(t, "caCrl").is_empty() {
            if cred {
                self.err(
                    Istio::ServerTls,
                    p.key("caCrl"),
                    "CRL is not supported with credentialName. CRL has to be specified in the credential",
                );
            }
            if mode == "SIMPLE" {
                self.err(
                    Istio::ServerTls,
                    p.key("caCrl"),
                    "CRL is not supported with SIMPLE TLS",
                );
            }
        }
    }
}

impl Ctx<'_> {
    /// `validateTLSOptions`: a terminating mode's certificate and key, without credentialName.
    fn server_certificate(&mut self, c: &Value, p: &Loc<'_>, prefix: &str) {
        if s(c, "serverCertificate").is_empty() {
            self.err(
                Istio::ServerTls,
                p.key("serverCertificate"),
                format!("{prefix} requires a server certificate"),
            );
        }
        if s(c, "privateKey").is_empty() {
            self.err(
                Istio::ServerTls,
                p.key("privateKey"),
                format!("{prefix} requires a private key"),
            );
        }
    }
}

/// `ValidateNamespaceSlashWildcardHostname` for a Gateway: `[namespace/]dnsName`, the
/// namespace `*`, `.` or a label (`~` too under Gateway API semantics), the name a dotted or
/// `*`-prefixed domain or an IP address.
fn gateway_host_errors(host: &str, gateway_semantics: bool) -> Vec<String> {
    let mut errs = Vec::new();
    let Some((ns, name)) = host.split_once('/') else {
        hostname_part(host, &mut errs);
        return errs;
    };
    if ns.is_empty() || name.is_empty() {
        errs.push("config namespace and dnsName in host entry cannot be empty".into());
    }
    let ns_ok = ns == "*" || ns == "." || (ns == "~" && gateway_semantics) || grammar::is_label(ns);
    if !ns_ok {
        errs.push(format!("invalid namespace value {ns:?} in gateway"));
    }
    hostname_part(name, &mut errs);
    errs
}

/// `validateSidecarOrGatewayHostnamePart` for a Gateway.
fn hostname_part(host: &str, errs: &mut Vec<String>) {
    if host != "*" && !host.contains('.') {
        errs.push("short names (non FQDN) are not allowed".into());
    }
    if let Err(e) = grammar::wildcard_domain(host) {
        if !grammar::is_ip(host) {
            errs.push(e.to_string());
        }
    }
    // `ValidatePartialWildCard`
    if host.contains('*') && host.len() != 1 && !host.starts_with("*.") {
        errs.push(format!("partial wildcard {host:?} not allowed"));
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run, run_obj};
    use serde_json::{json, Value};

    fn gw(servers: Value) -> Value {
        json!({"selector": {"istio": "ingressgateway"}, "servers": servers})
    }

    fn http(name: &str, host: &str) -> Value {
        json!({"hosts": [host], "port": {"name": name, "number": 8080, "protocol": "HTTP"}})
    }

    fn https(tls: Value) -> Value {
        json!({"hosts": ["a.example.com"], "port": {"name": "https", "number": 8443, "protocol": "HTTPS"}, "tls": tls})
    }

    #[test]
    fn valid_gateways_pass() {
        clean(&run(
            "Gateway",
            gw(json!([
                http("http-8080-all", "*"),
                http("http-8080-a", "shop/a.example.com"),
                http("http-8080-b", "./*.b.example.com"),
                https(json!({"mode": "SIMPLE", "credentialName": "cert", "minProtocolVersion": "TLSV1_2",
                             "cipherSuites": ["ECDHE-RSA-AES128-GCM-SHA256"]})),
                {"hosts": ["*"], "port": {"name": "redirect", "number": 8081, "protocol": "HTTP"}, "tls": {"httpsRedirect": true}},
                {"hosts": ["1.2.3.4"], "port": {"name": "tls", "number": 15443, "protocol": "TLS"}, "tls": {"mode": "AUTO_PASSTHROUGH"}},
            ])),
        ));
    }

    #[test]
    fn duplicate_port_names_are_rejected() {
        let p = run(
            "Gateway",
            gw(json!([
                http("http-8080-shop-example-com", "*.shop.example.com"),
                http("http-8080-shop-example-com", "shop.example.com"),
            ])),
        );
        has(
            &p,
            "istio-gateway-port-name",
            "spec.servers[1].port.name",
            true,
        );
        assert_eq!(p.len(), 1, "{p:#?}");
    }

    #[test]
    fn gateway_name_and_servers() {
        let p = run_obj(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
            "metadata": {"name": "a.b", "namespace": "ns"}, "spec": gw(json!([]))}),
        );
        has(&p, "istio-metadata", "metadata.name", true);
        has(&p, "istio-gateway-server", "spec.servers", true);
        let p = run("Gateway", gw(json!([null])));
        has(&p, "istio-gateway-server", "spec.servers[0]", true);
    }

    #[test]
    fn server_hosts() {
        for bad in [
            "shop",
            "shop/",
            "/a.example.com",
            "Bad_ns/a.example.com",
            "~/a.example.com",
            "a*.example.com",
            "foo.*.com",
        ] {
            let p = run("Gateway", gw(json!([http("h", bad)])));
            has(&p, "istio-gateway-server", "spec.servers[0].hosts[0]", true);
        }
        let p = run(
            "Gateway",
            gw(json!([{"hosts": [], "port": {"name": "h", "number": 80, "protocol": "HTTP"}}])),
        );
        has(&p, "istio-gateway-server", "spec.servers[0].hosts", true);
    }

    #[test]
    fn server_port_and_bind() {
        let server =
            |port: Value, bind: &str| json!([{"hosts": ["*"], "port": port, "bind": bind}]);
        let p = run("Gateway", gw(json!([{"hosts": ["*"]}])));
        has(&p, "istio-gateway-server", "spec.servers[0].port", true);
        let p = run(
            "Gateway",
            gw(server(
                json!({"name": "", "number": 0, "protocol": "HBONE", "targetPort": 80}),
                "",
            )),
        );
        for f in ["name", "number", "protocol", "targetPort"] {
            has(
                &p,
                "istio-gateway-server",
                &format!("spec.servers[0].port.{f}"),
                true,
            );
        }
        let p = run(
            "Gateway",
            gw(server(
                json!({"name": "h", "number": 80, "protocol": "HTTP"}),
                "unix://rel/",
            )),
        );
        has(&p, "istio-gateway-server", "spec.servers[0].bind", true);
        has(
            &p,
            "istio-gateway-server",
            "spec.servers[0].port.number",
            true,
        );
        clean(&run(
            "Gateway",
            gw(server(
                json!({"name": "h", "number": 0, "protocol": "HTTP"}),
                "unix:///var/run/gw.sock",
            )),
        ));
        let p = run(
            "Gateway",
            gw(server(
                json!({"name": "h", "number": 80, "protocol": "HTTP"}),
                "gw.local",
            )),
        );
        has(&p, "istio-gateway-server", "spec.servers[0].bind", true);
    }

    #[test]
    fn tls_block_where_the_protocol_needs_one() {
        let p = run(
            "Gateway",
            gw(
                json!([{"hosts": ["*"], "port": {"name": "s", "number": 443, "protocol": "HTTPS"}}]),
            ),
        );
        has(&p, "istio-gateway-server", "spec.servers[0].tls", true);
        let p = run(
            "Gateway",
            gw(
                json!([{"hosts": ["*"], "port": {"name": "t", "number": 9000, "protocol": "TCP"}, "tls": {"mode": "SIMPLE", "credentialName": "c"}}]),
            ),
        );
        has(&p, "istio-gateway-server", "spec.servers[0].tls", true);
        let p = run(
            "Gateway",
            gw(
                json!([{"hosts": ["*"], "port": {"name": "h", "number": 80, "protocol": "HTTP"}, "tls": {"mode": "SIMPLE", "credentialName": "c"}}]),
            ),
        );
        has(&p, "istio-gateway-server", "spec.servers[0].tls", true);
        let p = run(
            "Gateway",
            gw(
                json!([{"hosts": ["*"], "port": {"name": "t", "number": 9000, "protocol": "TCP"}, "tls": {"httpsRedirect": true}}]),
            ),
        );
        has(
            &p,
            "istio-server-tls",
            "spec.servers[0].tls.httpsRedirect",
            false,
        );
    }

    #[test]
    fn tls_modes() {
        let at = |f: &str| format!("spec.servers[0].tls{f}");
        let p = run("Gateway", gw(json!([https(json!({"mode": "SIMPLE"}))])));
        has(&p, "istio-server-tls", &at(".serverCertificate"), true);
        has(&p, "istio-server-tls", &at(".privateKey"), true);
        clean(&run(
            "Gateway",
            gw(json!([https(
                json!({"mode": "SIMPLE", "serverCertificate": "/c", "privateKey": "/k"})
            )])),
        ));
        let p = run(
            "Gateway",
            gw(json!([https(
                json!({"mode": "MUTUAL", "serverCertificate": "/c", "privateKey": "/k"})
            )])),
        );
        has(&p, "istio-server-tls", &at(".caCertificates"), true);
        clean(&run(
            "Gateway",
            gw(json!([https(
                json!({"mode": "MUTUAL", "credentialName": "c"})
            )])),
        ));
        let p = run(
            "Gateway",
            gw(json!([https(
                json!({"mode": "SIMPLE", "credentialName": "c", "serverCertificate": "/c", "privateKey": "/k"})
            )])),
        );
        has(&p, "istio-server-tls", &at(""), true);
        let p = run(
            "Gateway",
            gw(json!([https(
                json!({"mode": "ISTIO_MUTUAL", "credentialName": "c"})
            )])),
        );
        has(&p, "istio-server-tls", &at(".credentialName"), true);
        let p = run(
            "Gateway",
            gw(json!([https(
                json!({"mode": "PASSTHROUGH", "credentialName": "c"})
            )])),
        );
        has(&p, "istio-server-tls", &at(".mode"), false);
        let p = run(
            "Gateway",
            gw(json!([https(
                json!({"mode": "SIMPLE", "credentialName": "c", "caCrl": "/crl"})
            )])),
        );
        has(&p, "istio-server-tls", &at(".caCrl"), true);
        let p = run(
            "Gateway",
            gw(json!([https(
                json!({"mode": "SIMPLE", "tlsCertificates": [{"serverCertificate": "/c"}]})
            )])),
        );
        has(
            &p,
            "istio-server-tls",
            &at(".tlsCertificates[0].privateKey"),
            true,
        );
    }

    #[test]
    fn tls_versions_and_ciphers() {
        let at = |f: &str| format!("spec.servers[0].tls.{f}");
        let p = run(
            "Gateway",
            gw(json!([https(
                json!({"mode": "SIMPLE", "credentialName": "c", "minProtocolVersion": "TLSV1_0"})
            )])),
        );
        has(&p, "istio-server-tls", &at("minProtocolVersion"), false);
        let p = run(
            "Gateway",
            gw(json!([https(
                json!({"mode": "SIMPLE", "credentialName": "c",
                "cipherSuites": ["NOT-A-CIPHER", "AES128-SHA", "AES128-SHA", "-ALL"]})
            )])),
        );
        has(&p, "istio-server-tls", &at("cipherSuites"), false);
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(p
            .iter()
            .all(|x| x.severity == crate::diag::Severity::Warning));
    }
}
