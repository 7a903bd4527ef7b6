//! Destination policies: the destination ports an OutlierDetectionPolicy, LoadBalancerPolicy,
//! ConnectionPolicy, FailoverPolicy or ClientTLSPolicy selects (`applyToDestinations`), which
//! one of several of one kind applies to a port, and the DestinationRule port-level settings
//! they become (docs/translation.md#destination-policies).

use super::oldest::{oldest, Target};
use super::{Ctx, Part};
use crate::diag::codes::Translate;
use crate::diag::Diagnostic;
use crate::gloo::types::{
    ClientTlsPolicySpec, ConnectionPolicySpec, ConsistentHash, DestinationKind,
    DestinationSelector, FailoverPolicySpec, LoadBalancerPolicySpec, OutlierDetectionPolicySpec,
};
use crate::gloo::{Meta, ServiceInfo, Typed};
use crate::hashing::FastSet;
use crate::istio::object::SourceRef;
use serde_json::{json, Map, Value};

/// A policy kind that selects destinations with `applyToDestinations`.
pub(crate) trait DestinationPolicy {
    /// The kind, as written in manifests.
    const KIND: &'static str;
    /// `spec.applyToDestinations`.
    fn apply_to_destinations(&self) -> &[DestinationSelector];
}

impl DestinationPolicy for OutlierDetectionPolicySpec {
    const KIND: &'static str = "OutlierDetectionPolicy";
    fn apply_to_destinations(&self) -> &[DestinationSelector] {
        &self.apply_to_destinations
    }
}

impl DestinationPolicy for ConnectionPolicySpec {
    const KIND: &'static str = "ConnectionPolicy";
    fn apply_to_destinations(&self) -> &[DestinationSelector] {
        &self.apply_to_destinations
    }
}

impl DestinationPolicy for FailoverPolicySpec {
    const KIND: &'static str = "FailoverPolicy";
    fn apply_to_destinations(&self) -> &[DestinationSelector] {
        &self.apply_to_destinations
    }
}

impl DestinationPolicy for ClientTlsPolicySpec {
    const KIND: &'static str = "ClientTLSPolicy";
    fn apply_to_destinations(&self) -> &[DestinationSelector] {
        &self.apply_to_destinations
    }
}

impl DestinationPolicy for LoadBalancerPolicySpec {
    const KIND: &'static str = "LoadBalancerPolicy";
    fn apply_to_destinations(&self) -> &[DestinationSelector] {
        &self.apply_to_destinations
    }
}

/// A destination object as policies see it: a Service, VirtualDestination or ExternalService.
pub(crate) struct Destination<'a> {
    /// What it is.
    pub kind: DestinationKind,
    /// Its identity and labels.
    pub meta: &'a Meta,
    /// The workspace owning it.
    pub ws: &'a str,
    /// The workspace of the DestinationRule copy being written, when it is another one that
    /// imports the destination: its policies act too, and win over the owner's.
    pub client_ws: Option<&'a str>,
    /// Its first host: the SNI of a ClientTLSPolicy that gives none (`""`: no SNI).
    pub host: &'a str,
}

impl<'a> Destination<'a> {
    /// The destination as the copy in a namespace of workspace `at` sees it.
    pub(crate) fn seen_from(
        ctx: &Ctx<'a>,
        kind: DestinationKind,
        meta: &'a Meta,
        at: &'a str,
    ) -> Option<Destination<'a>> {
        let ws = ctx.ws_of(meta)?;
        let client_ws = (at != ws).then_some(at);
        Some(Destination {
            kind,
            meta,
            ws,
            client_ws,
            host: "",
        })
    }
}

/// One port of a destination: its number and name (`""` when it has none).
#[derive(Clone, Copy)]
pub(crate) struct Port<'a> {
    /// The port number (not a target port).
    pub number: u32,
    /// The port name.
    pub name: &'a str,
}

fn kind_name(k: DestinationKind) -> &'static str {
    match k {
        DestinationKind::Service => "Service",
        DestinationKind::VirtualDestination => "VirtualDestination",
        DestinationKind::ExternalService => "ExternalService",
    }
}

/// Whether one `applyToDestinations` entry selects the port: the kind is the destination's,
/// every label, name, namespace, cluster and workspace given match the destination object,
/// and the port given (number or name) is this one.
fn selects(s: &DestinationSelector, d: &Destination<'_>, port: Port<'_>) -> bool {
    let sel = &s.selector;
    let m = d.meta;
    s.kind == d.kind
        && (sel.name.is_empty() || sel.name == m.name)
        && (sel.namespace.is_empty() || sel.namespace == m.namespace)
        && (sel.cluster.is_empty() || sel.cluster == m.cluster)
        && (sel.workspace.is_empty() || sel.workspace == d.ws)
        && sel.labels.iter().all(|(k, v)| m.labels.get(k) == Some(v))
        && s.port.as_ref().is_none_or(|p| {
            p.number.is_none_or(|n| n == port.number)
                && p.name.as_deref().is_none_or(|n| n == port.name)
        })
}

/// Whether the policy acts on the port: it is in the workspace owning the destination or in
/// the client workspace of the copy, and it selects the port (no `applyToDestinations`: every
/// port of every destination there).
fn applies<T: DestinationPolicy>(
    ctx: &Ctx<'_>,
    p: &Typed<T>,
    d: &Destination<'_>,
    port: Port<'_>,
) -> bool {
    let Some(pws) = ctx.ws_of(&p.meta) else {
        return false;
    };
    let selectors = p.spec.apply_to_destinations();
    (pws == d.ws || Some(pws) == d.client_ws)
        && (selectors.is_empty() || selectors.iter().any(|s| selects(s, d, port)))
}

/// The policy of this kind that applies to the port: the oldest of those of the client
/// workspace selecting it, else the oldest of the owner's.
fn applying<'p, T: DestinationPolicy>(
    ctx: &Ctx<'_>,
    policies: &'p [Typed<T>],
    d: &Destination<'_>,
    port: Port<'_>,
    part: &mut Part,
) -> Option<&'p Typed<T>> {
    // Only the policies of the owner's and the client's workspaces can apply.
    let mut at: Vec<usize> = ctx.policies_by_ws.of(T::KIND, d.ws).to_vec();
    if let Some(client) = d.client_ws {
        at.extend(ctx.policies_by_ws.of(T::KIND, client));
        at.sort_unstable();
    }
    let mut hits: Vec<&Typed<T>> = at
        .into_iter()
        .map(|i| &policies[i])
        .filter(|p| applies(ctx, p, d, port))
        .collect();
    if let Some(client) = d.client_ws {
        if hits.iter().any(|p| ctx.ws_of(&p.meta) == Some(client)) {
            hits.retain(|p| ctx.ws_of(&p.meta) == Some(client));
        }
    }
    if hits.len() < 2 {
        return hits.first().copied();
    }
    let name = format!(
        "port {} of {} {}/{}",
        port.number,
        kind_name(d.kind),
        d.meta.namespace,
        d.meta.name
    );
    let target = Target {
        name: &name,
        one: "destination port",
        many: "destinations or ports",
    };
    oldest(ctx, T::KIND, hits, &target, part)
}

/// What the destination policies add to one port's `portLevelSettings[]` entry
/// (`outlierDetection`, `loadBalancer` with `localityLbSetting`, `connectionPool`, `tls`), and
/// the policies it comes from. Conflicts, and a failover without outlier detection, are
/// reported into `part`.
pub(crate) fn port_settings(
    ctx: &Ctx<'_>,
    d: &Destination<'_>,
    port: Port<'_>,
    part: &mut Part,
) -> (Map<String, Value>, Vec<SourceRef>) {
    let mut out = Map::new();
    let mut sources = Vec::new();
    let model = ctx.model;
    if !any(ctx) {
        return (out, sources);
    }
    if let Some(p) = applying(ctx, &model.outlier_policies, d, port, part) {
        out.insert("outlierDetection".into(), outlier(&p.spec));
        sources.push(ctx.source(&p.meta));
    }
    let mut lb = None;
    if let Some(p) = applying(ctx, &model.load_balancer_policies, d, port, part) {
        lb = Some(load_balancer(&p.spec));
        sources.push(ctx.source(&p.meta));
    }
    // Gloo does not support ExternalServices as failover destinations [C]: an empty selector
    // passes them by.
    let failover = (d.kind != DestinationKind::ExternalService)
        .then(|| applying(ctx, &model.failover_policies, d, port, part))
        .flatten();
    if let Some(p) = failover {
        // One `loadBalancer` object for both kinds [O PW1].
        lb.get_or_insert_with(Map::new)
            .insert("localityLbSetting".into(), locality_lb(&p.spec));
        sources.push(ctx.source(&p.meta));
    }
    if let Some(lb) = lb {
        out.insert("loadBalancer".into(), Value::Object(lb));
    }
    if let Some(p) = applying(ctx, &model.connection_policies, d, port, part) {
        if let Some(pool) = connection_pool(&p.spec) {
            out.insert("connectionPool".into(), pool);
            sources.push(ctx.source(&p.meta));
        }
    }
    if let Some(p) = applying(ctx, &model.client_tls_policies, d, port, part) {
        out.insert("tls".into(), client_tls(&p.spec, d.host));
        sources.push(ctx.source(&p.meta));
    }
    if let Some(p) = failover {
        let distributes = out["loadBalancer"]["localityLbSetting"]
            .get("distribute")
            .is_some();
        if !out.contains_key("outlierDetection") && !distributes {
            part.diagnostics.push(
                ctx.warning(
                    &p.meta,
                    Translate::FailoverWithoutOutlier,
                    "spec.applyToDestinations",
                    format!(
                        "FailoverPolicy {}/{} applies to port {} of {} {}/{}, which no OutlierDetectionPolicy selects; Istio fails over only from endpoints that outlier detection ejects, so this failover never happens",
                        p.meta.namespace,
                        p.meta.name,
                        port.number,
                        kind_name(d.kind),
                        d.meta.namespace,
                        d.meta.name
                    ),
                )
                .help("add an OutlierDetectionPolicy that selects the same destination port"),
            );
        }
    }
    (out, sources)
}

/// Whether the repo has any destination policy (the renderer's cheap exit when it has none).
pub(crate) fn any(ctx: &Ctx<'_>) -> bool {
    let m = ctx.model;
    !m.outlier_policies.is_empty()
        || !m.load_balancer_policies.is_empty()
        || !m.connection_policies.is_empty()
        || !m.failover_policies.is_empty()
        || !m.client_tls_policies.is_empty()
}

/// The ports of a Service from the repo, in port order.
fn service_ports(svc: &ServiceInfo) -> Vec<Port<'_>> {
    let mut ports: Vec<Port<'_>> = svc
        .ports
        .iter()
        .map(|(name, number, _)| Port {
            number: *number,
            name,
        })
        .collect();
    ports.sort_by_key(|p| p.number);
    ports
}

/// The `trafficPolicy` the destination policies give a Service's DestinationRule copy in a
/// namespace of workspace `at`: one `portLevelSettings[]` entry per selected port, by port
/// number; and the policies it comes from. `None` when no policy selects a port of it.
pub(crate) fn service_traffic_policy(
    ctx: &Ctx<'_>,
    svc: &ServiceInfo,
    host: &str,
    at: &str,
    part: &mut Part,
) -> Option<(Value, Vec<SourceRef>)> {
    let mut d = Destination::seen_from(ctx, DestinationKind::Service, &svc.meta, at)?;
    d.host = host;
    let mut entries = Vec::new();
    let mut sources: Vec<SourceRef> = Vec::new();
    for port in service_ports(svc) {
        let (mut fields, from) = port_settings(ctx, &d, port, part);
        if fields.is_empty() {
            continue;
        }
        fields.insert("port".into(), json!({"number": port.number}));
        entries.push(Value::Object(fields));
        for f in from {
            if !sources.contains(&f) {
                sources.push(f);
            }
        }
    }
    if entries.is_empty() {
        return None;
    }
    Some((json!({"portLevelSettings": entries}), sources))
}

/// Istio `outlierDetection`: `consecutiveErrors` becomes `consecutive5xxErrors`, and unset
/// fields take Gloo's defaults (5, 10s, 30s, 100).
fn outlier(s: &OutlierDetectionPolicySpec) -> Value {
    let c = &s.config;
    let mut m = Map::new();
    m.insert(
        "baseEjectionTime".into(),
        json!(c
            .base_ejection_time
            .as_ref()
            .map_or("30s".into(), |d| d.istio())),
    );
    m.insert(
        "consecutive5xxErrors".into(),
        json!(c.consecutive_errors.unwrap_or(5)),
    );
    if let Some(n) = c.consecutive_gateway_errors.filter(|n| *n > 0) {
        m.insert("consecutiveGatewayErrors".into(), json!(n));
    }
    m.insert(
        "interval".into(),
        json!(c.interval.as_ref().map_or("10s".into(), |d| d.istio())),
    );
    m.insert(
        "maxEjectionPercent".into(),
        json!(c.max_ejection_percent.unwrap_or(100)),
    );
    Value::Object(m)
}

/// Istio `connectionPool`: the same names, but `maxRequests` becomes `http2MaxRequests` and
/// `maxPendingRequests` `http1MaxPendingRequests`; 0 counts are unset. `None` when nothing is
/// set (Istio rejects a pool without `tcp` or `http`).
fn connection_pool(s: &ConnectionPolicySpec) -> Option<Value> {
    let c = &s.config;
    let mut pool = Map::new();
    let count = |m: &mut Map<String, Value>, k: &str, v: Option<i32>| {
        if let Some(n) = v.filter(|n| *n != 0) {
            m.insert(k.into(), json!(n));
        }
    };
    if let Some(t) = &c.tcp {
        let mut tcp = Map::new();
        if let Some(d) = &t.connect_timeout {
            tcp.insert("connectTimeout".into(), json!(d.istio()));
        }
        count(&mut tcp, "maxConnections", t.max_connections);
        if let Some(k) = &t.tcp_keepalive {
            let mut ka = Map::new();
            if let Some(d) = &k.interval {
                ka.insert("interval".into(), json!(d.istio()));
            }
            if let Some(n) = k.probes.filter(|n| *n != 0) {
                ka.insert("probes".into(), json!(n));
            }
            if let Some(d) = &k.time {
                ka.insert("time".into(), json!(d.istio()));
            }
            if !ka.is_empty() {
                tcp.insert("tcpKeepalive".into(), Value::Object(ka));
            }
        }
        if !tcp.is_empty() {
            pool.insert("tcp".into(), Value::Object(tcp));
        }
    }
    if let Some(h) = &c.http {
        let mut http = Map::new();
        count(&mut http, "http1MaxPendingRequests", h.max_pending_requests);
        count(&mut http, "http2MaxRequests", h.max_requests);
        if let Some(d) = &h.idle_timeout {
            http.insert("idleTimeout".into(), json!(d.istio()));
        }
        count(
            &mut http,
            "maxRequestsPerConnection",
            h.max_requests_per_connection,
        );
        count(&mut http, "maxRetries", h.max_retries);
        if !http.is_empty() {
            pool.insert("http".into(), Value::Object(http));
        }
    }
    (!pool.is_empty()).then_some(Value::Object(pool))
}

/// Istio `loadBalancer`: `simple` or `consistentHash` under the same names, and
/// `warmupDurationSecs`.
fn load_balancer(s: &LoadBalancerPolicySpec) -> Map<String, Value> {
    let c = &s.config;
    let mut m = Map::new();
    if let Some(h) = &c.consistent_hash {
        m.insert("consistentHash".into(), consistent_hash(h));
    }
    if let Some(simple) = c.simple {
        m.insert("simple".into(), json!(simple.as_str()));
    }
    if let Some(w) = &c.warmup_duration_secs {
        m.insert("warmupDurationSecs".into(), json!(w.istio()));
    }
    m
}

/// An Istio locality, `region/zone/subZone`, ending in the wildcard `*` where the zone or
/// sub-zone is not given.
fn locality(region: &str, zone: &str, sub_zone: &str) -> String {
    match (zone.is_empty(), sub_zone.is_empty()) {
        (true, _) => format!("{region}/*"),
        (false, true) => format!("{region}/{zone}/*"),
        (false, false) => format!("{region}/{zone}/{sub_zone}"),
    }
}

/// Whether some `to` of the FailoverPolicy's mappings has a weight: then its mappings are
/// Istio `distribute` entries, else `failover` ones.
fn weighted(s: &FailoverPolicySpec) -> bool {
    s.config
        .locality_mappings
        .iter()
        .any(|m| m.to.iter().any(|t| t.weight.is_some()))
}

/// The weights of one mapping's `to` entries: those given, and the rest of 100 spread evenly
/// over the others (the first ones take the remainder).
fn weights(m: &crate::gloo::types::LocalityMapping) -> Vec<u32> {
    let given: u32 = m.to.iter().filter_map(|t| t.weight).sum();
    let open = m.to.iter().filter(|t| t.weight.is_none()).count() as u32;
    let left = 100u32.saturating_sub(given);
    let each = left.checked_div(open).unwrap_or(0);
    let mut extra = left.checked_rem(open).unwrap_or(0);
    m.to.iter()
        .map(|t| {
            t.weight.unwrap_or_else(|| {
                let w = each + u32::from(extra > 0);
                extra = extra.saturating_sub(1);
                w
            })
        })
        .collect()
}

/// Istio `localityLbSetting`: `enabled: true` [O PW1], with `distribute` when a mapping has
/// weights, `failover` (region to region) when none has, else `failoverPriority` from the
/// priority labels (mappings win over them [C]).
fn locality_lb(s: &FailoverPolicySpec) -> Value {
    let c = &s.config;
    let mut m = Map::new();
    m.insert("enabled".into(), json!(true));
    if !c.locality_mappings.is_empty() {
        if weighted(s) {
            let entries: Vec<Value> = c
                .locality_mappings
                .iter()
                .map(|lm| {
                    let f = &lm.from;
                    let to: Map<String, Value> = lm
                        .to
                        .iter()
                        .zip(weights(lm))
                        .map(|(t, w)| (locality(&t.region, &t.zone, &t.sub_zone), json!(w)))
                        .collect();
                    json!({"from": locality(&f.region, &f.zone, &f.sub_zone), "to": to})
                })
                .collect();
            m.insert("distribute".into(), Value::Array(entries));
        } else {
            let entries: Vec<Value> = c
                .locality_mappings
                .iter()
                .flat_map(|lm| {
                    lm.to
                        .iter()
                        .map(|t| json!({"from": lm.from.region, "to": t.region}))
                })
                .collect();
            m.insert("failover".into(), Value::Array(entries));
        }
    } else if let Some(p) = c.priority_labels.as_ref().filter(|p| !p.labels.is_empty()) {
        m.insert("failoverPriority".into(), json!(p.labels));
    }
    Value::Object(m)
}

/// Istio client `tls`: the mode of the policy's oneof; `sni` (the destination's first host
/// when the policy gives none) and `credentialName` for SIMPLE and MUTUAL.
fn client_tls(s: &ClientTlsPolicySpec, host: &str) -> Value {
    let (mode, config) = if let Some(c) = &s.simple {
        ("SIMPLE", Some(&c.config))
    } else if let Some(c) = &s.mutual {
        ("MUTUAL", Some(&c.config))
    } else if s.istio_mutual.is_some() {
        ("ISTIO_MUTUAL", None)
    } else {
        ("DISABLE", None)
    };
    let mut m = Map::new();
    m.insert("mode".into(), json!(mode));
    if let Some(c) = config {
        if !c.credential_name.is_empty() {
            m.insert("credentialName".into(), json!(c.credential_name));
        }
        let sni = c.sni.as_deref().unwrap_or(host);
        if !sni.is_empty() {
            m.insert("sni".into(), json!(sni));
        }
    }
    Value::Object(m)
}

fn consistent_hash(h: &ConsistentHash) -> Value {
    let mut m = Map::new();
    if let Some(c) = &h.http_cookie {
        let mut cookie = Map::new();
        cookie.insert("name".into(), json!(c.name));
        if let Some(p) = &c.path {
            cookie.insert("path".into(), json!(p));
        }
        if let Some(t) = &c.ttl {
            cookie.insert("ttl".into(), json!(t.istio()));
        }
        m.insert("httpCookie".into(), Value::Object(cookie));
    }
    if let Some(n) = &h.http_header_name {
        m.insert("httpHeaderName".into(), json!(n));
    }
    if let Some(n) = &h.http_query_parameter_name {
        m.insert("httpQueryParameterName".into(), json!(n));
    }
    if let Some(b) = h.use_source_ip {
        m.insert("useSourceIp".into(), json!(b));
    }
    Value::Object(m)
}

/// Values Gloo's API or Istio rejects, each an error at the policy's field; and a policy that
/// selects no destination port, a warning. Runs once per policy.
pub(crate) fn check(ctx: &Ctx<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let routed = routed_services(ctx);
    let dests = Destinations::new(ctx);
    for p in &ctx.model.outlier_policies {
        let c = &p.spec.config;
        let mut bad = |field: &str, msg: String| {
            out.push(ctx.error(&p.meta, Translate::PolicyValue, field, msg));
        };
        if c.consecutive_errors == Some(0) {
            bad(
                "spec.config.consecutiveErrors",
                "consecutiveErrors is 0; Gloo takes 1 or more".into(),
            );
        }
        if let Some(n) = c.max_ejection_percent.filter(|n| *n > 100) {
            bad(
                "spec.config.maxEjectionPercent",
                format!("maxEjectionPercent is {n}; it is a percentage, 0 to 100"),
            );
        }
        for (d, field) in [
            (&c.interval, "spec.config.interval"),
            (&c.base_ejection_time, "spec.config.baseEjectionTime"),
        ] {
            if let Some(Err(why)) = d.as_ref().map(|d| d.gloo_ms_rule()) {
                bad(
                    field,
                    format!("`{}`: {why}", d.as_ref().map_or("", |d| &d.text)),
                );
            }
        }
        unused(ctx, p, &dests, &routed, &mut out);
    }
    for p in &ctx.model.connection_policies {
        let c = &p.spec.config;
        let mut bad = |field: &str, msg: String| {
            out.push(ctx.error(&p.meta, Translate::PolicyValue, field, msg));
        };
        let mut counts: Vec<(&str, Option<i32>)> = Vec::new();
        if let Some(t) = &c.tcp {
            counts.push(("tcp.maxConnections", t.max_connections));
            if let Some(d) = t.connect_timeout.as_ref().filter(|d| d.nanos < 1_000_000) {
                bad(
                    "spec.config.tcp.connectTimeout",
                    format!(
                        "connectTimeout `{}` is under 1ms; Gloo takes 1ms or more",
                        d.text
                    ),
                );
            }
        }
        if let Some(h) = &c.http {
            counts.extend([
                (
                    "http.maxRequestsPerConnection",
                    h.max_requests_per_connection,
                ),
                ("http.maxRetries", h.max_retries),
                ("http.maxRequests", h.max_requests),
                ("http.maxPendingRequests", h.max_pending_requests),
            ]);
        }
        for (f, v) in counts {
            if let Some(n) = v.filter(|n| *n < 0) {
                bad(
                    &format!("spec.config.{f}"),
                    format!("{f} is {n}; Istio takes no negative count"),
                );
            }
        }
        unused(ctx, p, &dests, &routed, &mut out);
    }
    for p in &ctx.model.failover_policies {
        failover_values(ctx, p, &mut out);
        unused(ctx, p, &dests, &routed, &mut out);
    }
    for p in &ctx.model.client_tls_policies {
        client_tls_values(ctx, p, &mut out);
        unused(ctx, p, &dests, &routed, &mut out);
    }
    for p in &ctx.model.load_balancer_policies {
        let c = &p.spec.config;
        let mut bad = |field: &str, msg: String| {
            out.push(ctx.error(&p.meta, Translate::PolicyValue, field, msg));
        };
        match (&c.simple, &c.consistent_hash) {
            (None, None) => bad(
                "spec.config",
                "config sets neither simple nor consistentHash; Gloo requires one".into(),
            ),
            (Some(_), Some(_)) => bad(
                "spec.config.consistentHash",
                "config sets both simple and consistentHash; Gloo takes one".into(),
            ),
            _ => {}
        }
        if let Some(h) = &c.consistent_hash {
            let keys = [
                h.http_header_name.is_some(),
                h.http_cookie.is_some(),
                h.use_source_ip.is_some(),
                h.http_query_parameter_name.is_some(),
            ];
            if keys.iter().filter(|k| **k).count() != 1 {
                bad(
                    "spec.config.consistentHash",
                    "consistentHash must set exactly one of httpHeaderName, httpCookie, \
                     useSourceIp and httpQueryParameterName"
                        .into(),
                );
            }
            for (v, f) in [
                (&h.http_header_name, "httpHeaderName"),
                (&h.http_query_parameter_name, "httpQueryParameterName"),
            ] {
                if v.as_deref() == Some("") {
                    bad(
                        &format!("spec.config.consistentHash.{f}"),
                        format!("{f} is empty; Gloo requires a name"),
                    );
                }
            }
            if let Some(cookie) = &h.http_cookie {
                if cookie.name.is_empty() {
                    bad(
                        "spec.config.consistentHash.httpCookie",
                        "httpCookie has no name; Gloo requires one".into(),
                    );
                }
            }
        }
        unused(ctx, p, &dests, &routed, &mut out);
    }
    out
}

/// A FailoverPolicy's values Gloo's API or Istio rejects, each an error at its field: an
/// ExternalService destination, a locality without region, weights that do not make 100,
/// zones in a region-to-region failover, priority labels mixing keys and `key=value`; and
/// priority labels beside mappings, which Gloo ignores (a warning).
fn failover_values(ctx: &Ctx<'_>, p: &Typed<FailoverPolicySpec>, out: &mut Vec<Diagnostic>) {
    let mut bad = |field: &str, msg: String, help: &str| {
        out.push(
            ctx.error(&p.meta, Translate::PolicyValue, field, msg)
                .help(help.to_string()),
        );
    };
    for (i, s) in p.spec.apply_to_destinations.iter().enumerate() {
        if s.kind == DestinationKind::ExternalService {
            bad(
                &format!("spec.applyToDestinations[{i}].kind"),
                "FailoverPolicy selects ExternalServices, which Gloo does not fail over".into(),
                "select Services or VirtualDestinations (kind SERVICE or VIRTUAL_DESTINATION)",
            );
        }
    }
    let c = &p.spec.config;
    let weighted = weighted(&p.spec);
    for (i, m) in c.locality_mappings.iter().enumerate() {
        let at = format!("spec.config.localityMappings[{i}]");
        let mut places: Vec<(String, &str, &str, &str)> = vec![(
            format!("{at}.from"),
            &m.from.region,
            &m.from.zone,
            &m.from.sub_zone,
        )];
        for (j, t) in m.to.iter().enumerate() {
            places.push((format!("{at}.to[{j}]"), &t.region, &t.zone, &t.sub_zone));
        }
        for (f, region, zone, sub_zone) in &places {
            if region.is_empty() {
                bad(
                    &format!("{f}.region"),
                    format!("{f} has no region; Gloo requires one"),
                    "write the region, and optionally the zone and subZone",
                );
            }
            if zone.is_empty() && !sub_zone.is_empty() {
                bad(
                    &format!("{f}.subZone"),
                    format!("{f} has a subZone but no zone"),
                    "write the zone the sub-zone is in",
                );
            }
            let zoned = !zone.is_empty() || !sub_zone.is_empty();
            if !weighted && zoned {
                bad(
                    &format!("{f}.zone"),
                    format!("{f} names a zone, but a mapping without weights becomes Istio `failover`, which goes from region to region only"),
                    "drop the zone and subZone, or give the `to` localities weights (Istio `distribute`)",
                );
            }
        }
        if m.to.is_empty() {
            bad(
                &format!("{at}.to"),
                format!("{at} has no `to` locality"),
                "name the localities the traffic goes to",
            );
            continue;
        }
        if !weighted {
            for (j, t) in m.to.iter().enumerate() {
                if !t.region.is_empty() && t.region == m.from.region {
                    bad(
                        &format!("{at}.to[{j}].region"),
                        format!(
                            "{at} fails over from region {} to itself; Istio requires another region",
                            t.region
                        ),
                        "fail over to another region",
                    );
                }
            }
            continue;
        }
        if m.to.iter().all(|t| t.weight.is_none()) {
            bad(
                &at,
                format!("{at} has no weights while other mappings have: weighted mappings become Istio `distribute` and the others `failover`, which one DestinationRule cannot hold together"),
                "give every mapping weights, or none",
            );
            continue;
        }
        for (j, t) in m.to.iter().enumerate() {
            if let Some(w) = t.weight.filter(|w| !(1..=100).contains(w)) {
                bad(
                    &format!("{at}.to[{j}].weight"),
                    format!("weight is {w}; Istio takes 1 to 100"),
                    "leave out a locality that should get no traffic",
                );
            }
        }
        let given: u32 = m.to.iter().filter_map(|t| t.weight).sum();
        let open = m.to.iter().filter(|t| t.weight.is_none()).count() as u32;
        if (open == 0 && given != 100) || given > 100 {
            bad(
                &format!("{at}.to"),
                format!("the weights of {at} add up to {given}; they must add up to 100"),
                "make the weights add up to 100",
            );
        } else if open > 0 && 100 - given < open {
            bad(
                &format!("{at}.to"),
                format!("the weights of {at} add up to {given}, which leaves less than 1 for each locality without a weight"),
                "lower the weights given, or leave out the localities without one",
            );
        }
    }
    let Some(labels) = c.priority_labels.as_ref() else {
        return;
    };
    if !c.locality_mappings.is_empty() && !labels.labels.is_empty() {
        out.push(
            ctx.warning(
                &p.meta,
                Translate::PolicyIgnored,
                "spec.config.priorityLabels",
                "FailoverPolicy sets both localityMappings and priorityLabels; Gloo uses the mappings and ignores the priority labels",
            )
            .help("remove priorityLabels, or the mappings"),
        );
        return;
    }
    let pairs = labels.labels.first().is_some_and(|l| l.contains('='));
    for (j, l) in labels.labels.iter().enumerate() {
        let field = format!("spec.config.priorityLabels.labels[{j}]");
        if l.is_empty() || l.starts_with('=') {
            out.push(
                ctx.error(
                    &p.meta,
                    Translate::PolicyValue,
                    &field,
                    "priority label is empty or has no key",
                )
                .help("write a label key, or `key=value`"),
            );
        } else if l.contains('=') != pairs {
            out.push(
                ctx.error(
                    &p.meta,
                    Translate::PolicyValue,
                    &field,
                    format!("priority label `{l}` mixes label keys and `key=value` pairs in one list; Gloo takes one form"),
                )
                .help(if pairs {
                    "write every label as `key=value`, as the first one is"
                } else {
                    "write every label as a key alone, as the first one is"
                }),
            );
        }
    }
}

/// A ClientTLSPolicy's values Gloo or Istio rejects: not exactly one mode, MUTUAL without a
/// credential.
fn client_tls_values(ctx: &Ctx<'_>, p: &Typed<ClientTlsPolicySpec>, out: &mut Vec<Diagnostic>) {
    let s = &p.spec;
    let set: Vec<&str> = [
        ("disable", s.disable.is_some()),
        ("simple", s.simple.is_some()),
        ("mutual", s.mutual.is_some()),
        ("istioMutual", s.istio_mutual.is_some()),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(k, _)| k)
    .collect();
    match set.as_slice() {
        [] => out.push(
            ctx.error(
                &p.meta,
                Translate::PolicyValue,
                "spec",
                "ClientTLSPolicy sets no mode; Gloo requires one of disable, simple, mutual and istioMutual",
            )
            .help("add `simple: {}`, `mutual: {config: {credentialName: ...}}`, `istioMutual: {}` or `disable: {}`"),
        ),
        [_] => {}
        [first, rest @ ..] => {
            for k in rest {
                out.push(
                    ctx.error(
                        &p.meta,
                        Translate::PolicyValue,
                        &format!("spec.{k}"),
                        format!("ClientTLSPolicy sets both {first} and {k}; Gloo takes one mode"),
                    )
                    .help("keep one of disable, simple, mutual and istioMutual"),
                );
            }
        }
    }
    if s.mutual
        .as_ref()
        .is_some_and(|m| m.config.credential_name.is_empty())
    {
        out.push(
            ctx.error(
                &p.meta,
                Translate::PolicyValue,
                "spec.mutual",
                "mutual TLS without config.credentialName: the client has no certificate to present, and Istio rejects MUTUAL without one",
            )
            .help("name the Secret with the client certificate in mutual.config.credentialName"),
        );
    }
}

/// The Services (cluster, namespace, name) an HTTP route of the repo sends to: those that get
/// a DestinationRule for their policies. Empty when there is no destination policy.
fn routed_services<'a>(ctx: &Ctx<'a>) -> FastSet<(&'a str, &'a str, &'a str)> {
    if !any(ctx) {
        return FastSet::default();
    }
    ctx.model
        .route_tables
        .iter()
        .flat_map(super::route_table::http_destination_refs)
        .filter(|r| r.kind == DestinationKind::Service)
        .map(|r| (r.cluster, r.namespace, r.name))
        .collect()
}

/// Every Service, VirtualDestination and ExternalService of the model with the workspace owning
/// it and its ports, in that order of kinds: what [`unused`] tests each policy against, built
/// once per check.
struct Destinations<'a> {
    all: Vec<(DestinationKind, &'a Meta, &'a str, Vec<Port<'a>>)>,
}

impl<'a> Destinations<'a> {
    /// Empty when the model has no destination policy.
    fn new(ctx: &Ctx<'a>) -> Self {
        let m = ctx.model;
        let mut all = Vec::new();
        if !any(ctx) {
            return Destinations { all };
        }
        let mut add = |kind, meta: &'a Meta, ports: Vec<Port<'a>>| {
            if let Some(ws) = ctx.ws_of(meta) {
                all.push((kind, meta, ws, ports));
            }
        };
        for v in &m.virtual_destinations {
            let ports = v.spec.ports.iter().map(|x| Port {
                number: x.number,
                name: "",
            });
            add(
                DestinationKind::VirtualDestination,
                &v.meta,
                ports.collect(),
            );
        }
        for e in &m.external_services {
            let ports = e.spec.ports.iter().map(|x| Port {
                number: x.number,
                name: &x.name,
            });
            add(DestinationKind::ExternalService, &e.meta, ports.collect());
        }
        for s in &m.services {
            add(DestinationKind::Service, &s.meta, service_ports(s));
        }
        Destinations { all }
    }
}

/// A warning when the policy selects no port of any Service, VirtualDestination or
/// ExternalService its workspace owns or imports.
fn unused<T: DestinationPolicy>(
    ctx: &Ctx<'_>,
    p: &Typed<T>,
    dests: &Destinations<'_>,
    routed: &FastSet<(&str, &str, &str)>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(ws) = ctx.ws_of(&p.meta) else {
        return;
    };
    let m = ctx.model;
    let selectors = p.spec.apply_to_destinations();
    // Selection before visibility: the selectors are cheap to test, the workspaces an
    // object is visible in are not, and few destinations pass the selectors. The policy is in
    // workspace `ws`, which is the destination's owner or the client seeing it, so `applies`
    // comes down to the selectors.
    let hit = |&(kind, meta, owner, ref ports): &(DestinationKind, &Meta, &str, Vec<Port<'_>>)| {
        let d = Destination {
            kind,
            meta,
            ws: owner,
            client_ws: (owner != ws).then_some(ws),
            host: "",
        };
        (selectors.is_empty()
            || ports
                .iter()
                .any(|&port| selectors.iter().any(|s| selects(s, &d, port))))
            && (owner == ws
                || m.workspaces
                    .visible_workspaces(meta, kind_name(kind))
                    .contains(&ws))
    };
    let mut any = false;
    for dest in &dests.all {
        let service = dest.0 == DestinationKind::Service;
        if (any && !service) || !hit(dest) {
            continue;
        }
        any = true;
        if !service {
            continue;
        }
        // A Service gets its DestinationRule where an HTTP route sends to it
        // (docs/translation.md#destination-policies): a selected Service no route reaches
        // would lack the policy without a word.
        let s = dest.1;
        let key = (s.cluster.as_str(), s.namespace.as_str(), s.name.as_str());
        if !routed.contains(&key) {
            out.push(
                ctx.warning(
                    &p.meta,
                    Translate::PolicyServiceUnrouted,
                    "spec.applyToDestinations",
                    format!(
                        "{} {}/{} selects Service {}/{} (cluster {}), which no HTTP route of the repo sends to; meshform writes no DestinationRule for it, so the output lacks this policy there",
                        T::KIND,
                        p.meta.namespace,
                        p.meta.name,
                        s.namespace,
                        s.name,
                        s.cluster
                    ),
                )
                .help("route to the Service from a RouteTable, or narrow the selector to the destinations that are routed"),
            );
        }
    }
    if !any {
        out.push(
            ctx.warning(
                &p.meta,
                Translate::PolicySelectsNothing,
                "spec.applyToDestinations",
                format!(
                    "{} {}/{} selects no destination port that workspace {ws} owns or imports; it changes nothing",
                    T::KIND,
                    p.meta.namespace,
                    p.meta.name
                ),
            )
            .help(
                "check the selector's kind (SERVICE when unset), labels, name, namespace and port",
            ),
        );
    }
}
