//! docs/validation.md, "Destinations and weights": route destinations and weights
//! (`validateHTTPRouteDestinations`, `validateRouteDestinations`, `validateDestination`),
//! items 46–51, for HTTP, TLS and TCP routes and mirrors.

use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::grammar;
use crate::validate::rules::common::{num, s, set};
use crate::validate::rules::Ctx;
use crate::validate::Loc;
use serde_json::Value;

impl Ctx<'_> {
    /// Items 47–49 (`validateDestination`): one destination's host, subset and port.
    pub(super) fn destination(&mut self, d: &Value, p: &Loc<'_>) {
        let host = s(d, "host");
        if host == "*" {
            self.err(
                Istio::Destination,
                p.key("host"),
                "destination host may not be *",
            );
        } else if let Err(e) = grammar::wildcard_domain(host) {
            self.err(Istio::Destination, p.key("host"), e);
        }
        let subset = s(d, "subset");
        if set(d, "subset") && !subset.is_empty() && !grammar::is_label(subset) {
            self.err(
                Istio::Subset,
                p.key("subset"),
                format!("subset name {subset:?} is not a DNS-1123 label"),
            );
        }
        if set(d, "port") && !grammar::is_port(num(d.at("port"), "number")) {
            self.err(
                Istio::Destination,
                p.key("port").key("number"),
                "destination port number must be in 1..65535",
            );
        }
    }

    /// Items 46, 50 and 51: a route's destinations and their weights.
    pub(super) fn destinations(&mut self, routes: &[Value], p: &Loc<'_>, _http: bool) {
        let mut all_zero = true;
        for (i, r) in routes.iter().enumerate() {
            let rp = p.index(i);
            if r.is_null() {
                self.err(Istio::Destination, rp, "route destination may not be null");
                continue;
            }
            if !set(r, "destination") {
                self.err(Istio::Destination, rp, "destination is required");
                continue;
            }
            self.destination(r.at("destination"), &rp.key("destination"));
            let w = num(r, "weight");
            if w < 0 {
                self.err(
                    Istio::Weight,
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
                Istio::Weight,
                p.clone(),
                "with more than one destination the weights must not all be 0",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run};
    use serde_json::json;

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
}
