//! DestinationRule (`ValidateDestinationRule`; docs/validation.md), items 55–65.
//!
//! This module holds the host, subsets, `exportTo` and workload selector (items 55, 57, 64,
//! 65); `traffic_policy` holds the traffic policy (items 56, 59–63) and `client_tls` its TLS
//! settings (item 58).

mod client_tls;
mod traffic_policy;

use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::grammar;
use crate::validate::rules::common::{arr, s, set};
use crate::validate::rules::Ctx;
use crate::validate::Loc;
use serde_json::Value;
use std::collections::BTreeSet;

impl Ctx<'_> {
    /// Items 55–57, 64 and 65.
    pub(super) fn destination_rule(&mut self, spec: &Value, sp: &Loc<'_>) {
        // item 55
        if let Err(e) = grammar::wildcard_domain(s(spec, "host")) {
            self.err(Istio::DrHost, sp.key("host"), e);
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
                self.err(Istio::Subset, p, "subset may not be null");
                continue;
            }
            let name = s(sub, "name");
            if name.is_empty() {
                self.err(Istio::Subset, p.key("name"), "subset name is required");
            } else if !grammar::is_label(name) {
                self.err(
                    Istio::Subset,
                    p.key("name"),
                    format!("subset name {name:?} is not a DNS-1123 label"),
                );
            }
            if !names.insert(name) {
                self.err(
                    Istio::Subset,
                    p.key("name"),
                    format!("duplicate subset name {name:?}"),
                );
            }
            self.labels(Istio::Subset, sub, "labels", &p);
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
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run};
    use serde_json::json;

    #[test]
    pub(super) fn destination_rule_rules() {
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
