//! docs/validation.md, "HTTP routes": an HTTP route (`validateHTTPRoute` and helpers): its kind
//! conflicts (item 34), authority, rewrite, redirect and direct response (items 37–40), timeout
//! (item 42) and mirrors (item 45). It hands matches, header operations, retries, CORS, faults
//! and destinations to the modules beside this one.

use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::grammar;
use crate::validate::rules::common::{arr, map, num, s, set};
use crate::validate::rules::Ctx;
use crate::validate::Loc;
use serde_json::Value;

impl Ctx<'_> {
    pub(super) fn http_route(&mut self, r: &Value, p: &Loc<'_>, delegate_vs: bool, mesh: bool) {
        let routes = arr(r, "route");
        // item 34
        self.route_conflicts(r, p, delegate_vs);
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
                self.err(Istio::Duration, p.key("timeout"), e);
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

    /// Item 34 (`validateHTTPRouteConflict`): which kinds of route may be combined.
    fn route_conflicts(&mut self, r: &Value, p: &Loc<'_>, delegate_vs: bool) {
        let routes = arr(r, "route");
        if set(r, "delegate") {
            if delegate_vs {
                self.err(
                    Istio::RouteConflict,
                    p.key("delegate"),
                    "a delegate virtual service's routes must not delegate",
                );
            }
            if !routes.is_empty() {
                self.err(
                    Istio::RouteConflict,
                    p.key("route"),
                    "a route with delegate must not have route",
                );
            }
            if set(r, "redirect") {
                self.err(
                    Istio::RouteConflict,
                    p.key("redirect"),
                    "a route with delegate must not have redirect",
                );
            }
        } else {
            if set(r, "redirect") {
                if !routes.is_empty() {
                    self.err(
                        Istio::RouteConflict,
                        p.key("route"),
                        "HTTP route cannot contain both route and redirect",
                    );
                }
                for k in ["fault", "rewrite", "directResponse"] {
                    if set(r, k) {
                        self.err(
                            Istio::RouteConflict,
                            p.key(k),
                            format!("HTTP route cannot contain both redirect and {k}"),
                        );
                    }
                }
            }
            if set(r, "directResponse") {
                if !routes.is_empty() {
                    self.err(
                        Istio::RouteConflict,
                        p.key("route"),
                        "HTTP route cannot contain both route and directResponse",
                    );
                }
                for k in ["fault", "rewrite"] {
                    if set(r, k) {
                        self.err(
                            Istio::RouteConflict,
                            p.key(k),
                            format!("HTTP route cannot contain both directResponse and {k}"),
                        );
                    }
                }
            }
            if !set(r, "redirect") && !set(r, "directResponse") && routes.is_empty() {
                self.err(
                    Istio::RouteConflict,
                    p.key("route"),
                    "HTTP route or redirect or directResponse is required",
                );
            }
        }
        if set(r, "mirror") && set(r, "mirrors") {
            self.err(
                Istio::RouteConflict,
                p.key("mirrors"),
                "mirror and mirrors cannot both be set",
            );
        }
    }

    /// Item 37 (`validateAuthorityRewrite`): the authority is set in one place at most.
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
                Istio::Rewrite,
                p.clone(),
                format!(
                    "the authority is set in more than one place: {}",
                    places.join(", ")
                ),
            );
        }
    }

    /// Item 38 (`validateHTTPRewrite`).
    fn rewrite(&mut self, rw: &Value, p: &Loc<'_>) {
        let uri = !s(rw, "uri").is_empty();
        let regex = set(rw, "uriRegexRewrite");
        let authority = !s(rw, "authority").is_empty();
        if uri && regex {
            self.err(
                Istio::Rewrite,
                p.clone(),
                "rewrite may only contain one of uri and uriRegexRewrite",
            );
        }
        if !uri && !regex && !authority {
            self.err(
                Istio::Rewrite,
                p.clone(),
                "rewrite must specify at least one of uri, uriRegexRewrite or authority (an empty uri is not allowed; use \"/\")",
            );
        }
        if regex {
            let rr = rw.at("uriRegexRewrite");
            let rp = p.key("uriRegexRewrite");
            if s(rr, "match").is_empty() || !set(rr, "rewrite") {
                self.err(
                    Istio::Rewrite,
                    rp.clone(),
                    "uriRegexRewrite needs both match and rewrite",
                );
            }
            if !s(rr, "match").is_empty() {
                if let Err(e) = grammar::regex(s(rr, "match")) {
                    self.err(Istio::Regex, rp.key("match"), e);
                }
            }
        }
    }

    /// Item 39 (`validateHTTPRedirect`); only the first problem is reported.
    fn redirect(&mut self, rd: &Value, p: &Loc<'_>) {
        let any = !s(rd, "uri").is_empty()
            || !s(rd, "authority").is_empty()
            || num(rd, "port") != 0
            || set(rd, "derivePort")
            || !s(rd, "scheme").is_empty();
        if !any {
            self.err(
                Istio::Redirect,
                p.clone(),
                "redirect must specify at least one of uri, authority, port or scheme",
            );
            return;
        }
        let code = num(rd, "redirectCode");
        if code != 0 && !(300..=399).contains(&code) {
            self.err(
                Istio::Redirect,
                p.key("redirectCode"),
                format!("{code} is not a valid redirect code (300..399)"),
            );
            return;
        }
        let scheme = s(rd, "scheme");
        if !scheme.is_empty() && scheme != "http" && scheme != "https" {
            self.err(
                Istio::Redirect,
                p.key("scheme"),
                format!("redirect scheme must be http or https, not {scheme:?}"),
            );
            return;
        }
        if set(rd, "port") && !grammar::is_port(num(rd, "port")) {
            self.err(
                Istio::Redirect,
                p.key("port"),
                "redirect port must be in 1..65535",
            );
        }
    }

    /// Item 40 (`validateHTTPDirectResponse`).
    fn direct_response(&mut self, dr: &Value, p: &Loc<'_>) {
        let status = num(dr, "status");
        if !(200..=600).contains(&status) {
            self.err(
                Istio::DirectResponse,
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
                Istio::DirectResponse,
                p.key("body"),
                format!("directResponse body is {len} bytes, more than 1 MiB"),
            );
        } else if len > 100 << 10 {
            self.warn(
                Istio::DirectResponse,
                p.key("body"),
                format!("directResponse body is {len} bytes, more than 100 KiB"),
            );
        }
    }

    /// Item 45: `mirror`, `mirrors` and their percentages.
    fn mirrors(&mut self, r: &Value, p: &Loc<'_>) {
        if set(r, "mirror") {
            self.destination(r.at("mirror"), &p.key("mirror"));
        }
        for (i, m) in arr(r, "mirrors").iter().enumerate() {
            let mp = p.key("mirrors").index(i);
            if !set(m, "destination") {
                self.err(Istio::Mirror, mp.clone(), "mirror needs a destination");
            } else {
                self.destination(m.at("destination"), &mp.key("destination"));
            }
            let v = m.at("percentage").at("value").as_f64().unwrap_or(0.0);
            if !(0.0..=100.0).contains(&v) {
                self.err(
                    Istio::Mirror,
                    mp.key("percentage"),
                    "mirror percentage must be in 0..100",
                );
            }
        }
        if set(r, "mirrorPercentage") {
            let v = r.at("mirrorPercentage").at("value").as_f64().unwrap_or(0.0);
            if !(0.0..=100.0).contains(&v) {
                self.err(
                    Istio::Mirror,
                    p.key("mirrorPercentage"),
                    "mirrorPercentage must be in 0..100",
                );
            }
        }
        if set(r, "mirrorPercent") {
            if num(r, "mirrorPercent") > 100 {
                self.err(
                    Istio::Mirror,
                    p.key("mirrorPercent"),
                    "mirrorPercent must be at most 100",
                );
            }
            self.warn(
                Istio::Mirror,
                p.key("mirrorPercent"),
                "mirrorPercent is deprecated; use mirrorPercentage",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run};
    use serde_json::json;

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
}
