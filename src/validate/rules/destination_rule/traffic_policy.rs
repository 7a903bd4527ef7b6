//! docs/validation.md, "DestinationRule": a rule's traffic policy (item 56) and its parts:
//! connection pool (item 59), outlier detection (item 60), load balancer (item 61), port level
//! settings (item 62) and tunnel (item 63). Client TLS (item 58) is in `client_tls`.

use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::grammar;
use crate::validate::rules::common::{arr, map, num, s, set};
use crate::validate::rules::Ctx;
use crate::validate::Loc;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

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
            let outlier = set(tp, "outlierDetection");
            self.load_balancer(tp.at("loadBalancer"), outlier, &p.key("loadBalancer"));
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

    /// Item 61 (`validateLoadBalancer`); `outlier`: the same level sets `outlierDetection`.
    fn load_balancer(&mut self, lb: &Value, outlier: bool, p: &Loc<'_>) {
        if set(lb, "consistentHash") {
            self.consistent_hash(lb.at("consistentHash"), &p.key("consistentHash"));
        }
        if set(lb, "localityLbSetting") {
            self.locality_lb(
                lb.at("localityLbSetting"),
                outlier,
                &p.key("localityLbSetting"),
            );
        }
        if set(lb, "warmup") {
            self.warmup(lb.at("warmup"), &p.key("warmup"));
        }
    }

    /// Item 61, `localityLbSetting` (`ValidateLocalityLbSetting`): `distribute` and `failover`
    /// exclusive, `failover` beside no topology label of `failoverPriority`, each
    /// `distribute[].to` of weights 1..100 adding up to 100, localities well formed and not
    /// overlapping, `failover` from one region to another (no zone, no `*`), and a warning
    /// for failover without outlier detection.
    fn locality_lb(&mut self, loc: &Value, outlier: bool, lp: &Loc<'_>) {
        let distribute = arr(loc, "distribute");
        let failover = arr(loc, "failover");
        let priority = arr(loc, "failoverPriority");
        if !distribute.is_empty() && !failover.is_empty() {
            self.err(
                Istio::LoadBalancer,
                lp.clone(),
                "localityLbSetting cannot set both distribute and failover",
            );
            return;
        }
        const TOPOLOGY: [&str; 3] = [
            "topology.kubernetes.io/region",
            "topology.kubernetes.io/zone",
            "topology.istio.io/subzone",
        ];
        if !failover.is_empty() {
            if let Some(i) = priority
                .iter()
                .position(|l| TOPOLOGY.contains(&l.as_str().unwrap_or_default()))
            {
                self.err(
                    Istio::LoadBalancer,
                    lp.key("failoverPriority").index(i),
                    "failoverPriority cannot name a topology label when failover is set",
                );
                return;
            }
        }
        let dp = lp.key("distribute");
        for (i, d) in distribute.iter().enumerate() {
            let to = map(d, "to");
            let tp = dp.index(i).key("to");
            let weights: Vec<i64> = to
                .map(|m| m.values().map(|w| w.as_i64().unwrap_or(0)).collect())
                .unwrap_or_default();
            if weights.iter().any(|w| !(1..=100).contains(w)) {
                self.err(
                    Istio::LoadBalancer,
                    tp,
                    "locality weights must be in 1..100",
                );
                return;
            }
            let total: i64 = weights.iter().sum();
            if total != 100 {
                self.err(
                    Istio::LoadBalancer,
                    tp,
                    format!("locality weights add up to {total}, not 100"),
                );
                return;
            }
            let keys: Vec<&str> = to
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            if let Err(e) = localities(&keys) {
                self.err(Istio::LoadBalancer, tp, e);
            }
        }
        let froms: Vec<&str> = distribute.iter().map(|d| s(d, "from")).collect();
        if let Err(e) = localities(&froms) {
            self.err(Istio::LoadBalancer, dp, e);
        }
        if (!failover.is_empty() || !priority.is_empty()) && !outlier {
            self.warn(
                Istio::LoadBalancer,
                lp.clone(),
                "locality failover needs outlierDetection beside it; without it the failover does not take effect",
            );
        }
        for (i, f) in failover.iter().enumerate() {
            let (from, to) = (s(f, "from"), s(f, "to"));
            let fp = lp.key("failover").index(i);
            if from == to {
                self.err(
                    Istio::LoadBalancer,
                    fp.clone(),
                    "locality failover must go from one region to another",
                );
            }
            if from.contains('/') || to.contains('/') {
                self.err(
                    Istio::LoadBalancer,
                    fp.clone(),
                    "locality failover names regions only (no `/`)",
                );
            }
            if from.contains('*') || to.contains('*') {
                self.err(
                    Istio::LoadBalancer,
                    fp,
                    "locality failover regions cannot contain `*`",
                );
            }
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

/// Istio's `validateLocalities`: each locality is `region[/zone[/subZone]]` without an empty
/// part, with at most one `*`, at its end; and none overlaps one before it (a region given
/// whole, then one of its zones; a zone twice).
fn localities(list: &[&str]) -> Result<(), String> {
    let mut seen: BTreeMap<&str, BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for &l in list {
        let stars = l.matches('*').count();
        if stars > 1 || (stars == 1 && !l.ends_with('*')) {
            return Err(format!(
                "locality {l}: at most one `*`, and only at the end"
            ));
        }
        let overlap = || Err(format!("locality {l} overlaps one given before it"));
        if seen.contains_key("*") {
            return overlap();
        }
        let parts: Vec<&str> = l.splitn(3, '/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "locality {l} has an empty region, zone or sub-zone"
            ));
        }
        match parts.as_slice() {
            [region] => {
                if seen.contains_key(region) {
                    return overlap();
                }
                seen.insert(region, BTreeMap::from([("*", BTreeSet::from(["*"]))]));
            }
            [region, zone] => {
                let zones = seen.entry(region).or_default();
                if zones.contains_key("*") || zones.contains_key(zone) {
                    return overlap();
                }
                zones.insert(zone, BTreeSet::from(["*"]));
            }
            [region, zone, sub] => {
                let zones = seen.entry(region).or_default();
                if zones.contains_key("*") {
                    return overlap();
                }
                let subs = zones.entry(zone).or_default();
                if subs.contains("*") || !subs.insert(sub) {
                    return overlap();
                }
            }
            _ => {}
        }
    }
    Ok(())
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

    fn locality(loc: serde_json::Value, outlier: bool) -> Vec<crate::validate::Problem> {
        let mut pl = json!({"port": {"number": 80}, "loadBalancer": {"localityLbSetting": loc}});
        if outlier {
            pl["outlierDetection"] = json!({"interval": "5s"});
        }
        run(
            "DestinationRule",
            json!({"host": "a", "trafficPolicy": {"portLevelSettings": [pl]}}),
        )
    }

    const AT: &str = "spec.trafficPolicy.portLevelSettings[0].loadBalancer.localityLbSetting";

    #[test]
    fn locality_clean() {
        clean(&locality(json!({"enabled": true}), false));
        clean(&locality(
            json!({"enabled": true, "distribute": [{"from": "us-east-1/*", "to": {"us-west-2/*": 60, "us-east-1/z1/*": 40}}]}),
            false,
        ));
        clean(&locality(
            json!({"enabled": true, "failover": [{"from": "us-east-1", "to": "us-west-2"}]}),
            true,
        ));
        clean(&locality(
            json!({"enabled": true, "failoverPriority": ["topology.kubernetes.io/region"]}),
            true,
        ));
    }

    #[test]
    fn locality_distribute_and_failover_exclusive() {
        let p = locality(
            json!({"distribute": [{"from": "a/*", "to": {"b/*": 100}}], "failover": [{"from": "a", "to": "b"}]}),
            true,
        );
        has(&p, "istio-load-balancer", AT, true);
    }

    #[test]
    fn locality_failover_with_topology_priority() {
        let p = locality(
            json!({"failover": [{"from": "a", "to": "b"}], "failoverPriority": ["x", "topology.kubernetes.io/zone"]}),
            true,
        );
        has(
            &p,
            "istio-load-balancer",
            &format!("{AT}.failoverPriority[1]"),
            true,
        );
    }

    #[test]
    fn locality_weights_in_range_and_sum_to_100() {
        let zero = locality(
            json!({"distribute": [{"from": "a/*", "to": {"b/*": 0, "c/*": 100}}]}),
            true,
        );
        has(
            &zero,
            "istio-load-balancer",
            &format!("{AT}.distribute[0].to"),
            true,
        );
        let sum = locality(
            json!({"distribute": [{"from": "a/*", "to": {"b/*": 50, "c/*": 40}}]}),
            true,
        );
        has(
            &sum,
            "istio-load-balancer",
            &format!("{AT}.distribute[0].to"),
            true,
        );
    }

    #[test]
    fn locality_well_formed_and_not_overlapping() {
        let star = locality(
            json!({"distribute": [{"from": "a/*/c", "to": {"b/*": 100}}]}),
            true,
        );
        has(
            &star,
            "istio-load-balancer",
            &format!("{AT}.distribute"),
            true,
        );
        let empty = locality(
            json!({"distribute": [{"from": "a/*", "to": {"b//c": 100}}]}),
            true,
        );
        has(
            &empty,
            "istio-load-balancer",
            &format!("{AT}.distribute[0].to"),
            true,
        );
        let overlap = locality(
            json!({"distribute": [{"from": "a", "to": {"b/*": 100}}, {"from": "a/z", "to": {"b/*": 100}}]}),
            true,
        );
        has(
            &overlap,
            "istio-load-balancer",
            &format!("{AT}.distribute"),
            true,
        );
    }

    #[test]
    fn locality_failover_regions() {
        for f in [
            json!({"from": "a", "to": "a"}),
            json!({"from": "a/z", "to": "b"}),
            json!({"from": "a", "to": "b*"}),
        ] {
            let p = locality(json!({"failover": [f]}), true);
            has(
                &p,
                "istio-load-balancer",
                &format!("{AT}.failover[0]"),
                true,
            );
        }
    }

    #[test]
    fn locality_failover_without_outlier_warns() {
        let p = locality(json!({"failover": [{"from": "a", "to": "b"}]}), false);
        has(&p, "istio-load-balancer", AT, false);
        let p = locality(json!({"failoverPriority": ["k"]}), false);
        has(&p, "istio-load-balancer", AT, false);
    }
}
