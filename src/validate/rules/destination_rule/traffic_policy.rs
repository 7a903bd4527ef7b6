//! docs/validation.md, "DestinationRule": a rule's traffic policy (item 56) and its parts:
//! connection pool (item 59), outlier detection (item 60), load balancer (item 61), port level
//! settings (item 62) and tunnel (item 63). Client TLS (item 58) is in `client_tls`.

use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::grammar;
use crate::validate::rules::common::{arr, num, s, set};
use crate::validate::rules::Ctx;
use crate::validate::Loc;
use serde_json::Value;
use std::collections::BTreeSet;

impl Ctx<'_> {
    /// Item 56 (`validateTrafficPolicy`), at the top level and in each subset.
    pub(super) fn traffic_policy(&mut self, tp: &Value, p: &Loc<'_>) {
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
                Istio::TrafficPolicy,
                p.clone(),
                "trafficPolicy must have at least one field (an empty trafficPolicy is rejected)",
            );
        }
        if set(tp, "tunnel") && set(tp, "proxyProtocol") {
            self.err(
                Istio::TrafficPolicy,
                p.clone(),
                "tunnel and proxyProtocol cannot both be set",
            );
        }
        self.policy_parts(tp, p);
        // item 62
        self.port_level_settings(tp, p);
        // item 63
        if set(tp, "tunnel") {
            self.tunnel(tp.at("tunnel"), &p.key("tunnel"));
        }
    }

    /// Item 62: `portLevelSettings`.
    fn port_level_settings(&mut self, tp: &Value, p: &Loc<'_>) {
        for (i, pl) in arr(tp, "portLevelSettings").iter().enumerate() {
            let pp = p.key("portLevelSettings").index(i);
            if pl.is_null() {
                self.err(Istio::PortLevel, pp, "port level setting may not be null");
                continue;
            }
            if !set(pl, "port") {
                self.err(
                    Istio::PortLevel,
                    pp.key("port"),
                    "port level setting needs a port",
                );
            }
            if !["outlierDetection", "connectionPool", "loadBalancer", "tls"]
                .iter()
                .any(|k| set(pl, k))
            {
                self.err(
                    Istio::PortLevel,
                    pp.clone(),
                    "port level setting must set at least one of outlierDetection, connectionPool, loadBalancer and tls",
                );
            }
            self.policy_parts(pl, &pp);
        }
    }

    /// Item 63: `tunnel`.
    fn tunnel(&mut self, t: &Value, p: &Loc<'_>) {
        let proto = s(t, "protocol");
        if !matches!(proto, "" | "CONNECT" | "POST") {
            self.err(
                Istio::Tunnel,
                p.key("protocol"),
                format!("tunnel protocol {proto:?} must be CONNECT or POST"),
            );
        }
        let th = s(t, "targetHost");
        if !grammar::is_ip(th) && grammar::fqdn(th).is_err() {
            self.err(
                Istio::Tunnel,
                p.key("targetHost"),
                format!("tunnel targetHost {th:?} must be an FQDN or an IP"),
            );
        }
        if !grammar::is_port(num(t, "targetPort")) {
            self.err(
                Istio::Tunnel,
                p.key("targetPort"),
                "tunnel targetPort must be in 1..65535",
            );
        }
    }

    /// Items 58–61: the parts a port level setting shares with the whole policy.
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

    /// The duration at `k`, when set, must pass `ValidateDuration`; `zero_ok` also admits 0.
    fn duration_field(&mut self, v: &Value, k: &str, p: &Loc<'_>, zero_ok: bool) {
        if !set(v, k) {
            return;
        }
        let d = s(v, k);
        if zero_ok && grammar::go_duration_nanos(d) == Some(0) {
            return;
        }
        if let Err(e) = grammar::istio_duration(d) {
            self.err(Istio::Duration, p.key(k), e);
        }
    }

    /// Item 59 (`validateConnectionPool`).
    fn connection_pool(&mut self, c: &Value, p: &Loc<'_>) {
        if !set(c, "http") && !set(c, "tcp") {
            self.err(
                Istio::ConnectionPool,
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
                    Istio::ConnectionPool,
                    hp.key(k),
                    format!("{k} must not be negative"),
                );
            }
        }
        self.duration_field(h, "idleTimeout", &hp, false);
        if s(h, "h2UpgradePolicy") == "UPGRADE" && h.at("useClientProtocol").as_bool() == Some(true)
        {
            self.err(
                Istio::ConnectionPool,
                hp.clone(),
                "h2UpgradePolicy UPGRADE cannot be combined with useClientProtocol: true",
            );
        }
        let t = c.at("tcp");
        let tp = p.key("tcp");
        if num(t, "maxConnections") < 0 {
            self.err(
                Istio::ConnectionPool,
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

    /// Item 60 (`validateOutlierDetection`).
    fn outlier(&mut self, o: &Value, p: &Loc<'_>) {
        self.duration_field(o, "interval", p, false);
        self.duration_field(o, "baseEjectionTime", p, false);
        for k in ["maxEjectionPercent", "minHealthPercent"] {
            let v = num(o, k);
            if !(0..=100).contains(&v) {
                self.err(Istio::Outlier, p.key(k), format!("{k} must be in 0..100"));
            }
        }
        if num(o, "consecutiveLocalOriginFailures") > 0
            && o.at("splitExternalLocalOriginErrors").as_bool() != Some(true)
        {
            self.err(
                Istio::Outlier,
                p.key("consecutiveLocalOriginFailures"),
                "consecutiveLocalOriginFailures requires splitExternalLocalOriginErrors: true",
            );
        }
        if set(o, "consecutiveErrors") {
            self.warn(
                Istio::Outlier,
                p.key("consecutiveErrors"),
                "consecutiveErrors is deprecated",
            );
        }
    }

    /// Item 61 (`validateLoadBalancer`).
    fn load_balancer(&mut self, lb: &Value, p: &Loc<'_>) {
        if set(lb, "consistentHash") {
            self.consistent_hash(lb.at("consistentHash"), &p.key("consistentHash"));
        }
        let loc = lb.at("localityLbSetting");
        if !arr(loc, "distribute").is_empty() && !arr(loc, "failover").is_empty() {
            self.err(
                Istio::LoadBalancer,
                p.key("localityLbSetting"),
                "localityLbSetting cannot set both distribute and failover",
            );
        }
        if set(lb, "warmup") {
            self.warmup(lb.at("warmup"), &p.key("warmup"));
        }
    }

    /// Item 61, `consistentHash`.
    fn consistent_hash(&mut self, ch: &Value, cp: &Loc<'_>) {
        if set(ch, "httpCookie") {
            let c = ch.at("httpCookie");
            if s(c, "name").is_empty() {
                self.err(
                    Istio::LoadBalancer,
                    cp.key("httpCookie").key("name"),
                    "httpCookie needs a name",
                );
            }
            let mut names = BTreeSet::new();
            for (i, a) in arr(c, "attributes").iter().enumerate() {
                let n = s(a, "name");
                if n.is_empty() || !names.insert(n) {
                    self.err(
                        Istio::LoadBalancer,
                        cp.key("httpCookie").key("attributes").index(i),
                        "cookie attribute names must be unique and non-empty",
                    );
                }
            }
        }
        if set(ch, "minimumRingSize") {
            self.warn(
                Istio::LoadBalancer,
                cp.key("minimumRingSize"),
                "minimumRingSize is deprecated; use ringHash",
            );
            if set(ch, "maglev") || set(ch, "ringHash") {
                self.err(
                    Istio::LoadBalancer,
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
                    Istio::LoadBalancer,
                    cp.key("maglev").key("tableSize"),
                    "maglev tableSize must be set, below 5000011 and prime",
                );
            }
        }
    }

    /// Item 61, `warmup`.
    fn warmup(&mut self, w: &Value, wp: &Loc<'_>) {
        if !set(w, "duration") {
            self.err(
                Istio::LoadBalancer,
                wp.key("duration"),
                "warmup needs a duration",
            );
        }
        self.duration_field(w, "duration", wp, false);
        if w.at("minimumPercent").at("value").as_f64().unwrap_or(0.0) > 100.0 {
            self.err(
                Istio::LoadBalancer,
                wp.key("minimumPercent"),
                "minimumPercent must be at most 100",
            );
        }
        if set(w, "aggression") && w.at("aggression").at("value").as_f64().unwrap_or(1.0) < 1.0 {
            self.err(
                Istio::LoadBalancer,
                wp.key("aggression"),
                "aggression must be at least 1",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run};
    use serde_json::json;

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
}
