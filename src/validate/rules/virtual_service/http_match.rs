//! Item 35 of docs/validation.md (`validateHTTPRouteMatchRequest`): the match conditions of
//! an HTTP route.

use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::grammar;
use crate::validate::rules::common::{arr, map, num, s, set};
use crate::validate::rules::Ctx;
use crate::validate::Loc;
use serde_json::Value;

impl Ctx<'_> {
    /// A `StringMatch`: not null, a valid regex, and (unless `empty_prefix_ok`) a non-empty prefix.
    fn string_match(&mut self, m: &Value, p: &Loc<'_>, empty_prefix_ok: bool) {
        if m.is_null() {
            self.err(Istio::Match, p.clone(), "match value may not be null");
            return;
        }
        if !empty_prefix_ok && m.field("prefix").and_then(Value::as_str) == Some("") {
            self.err(
                Istio::Match,
                p.key("prefix"),
                "prefix match may not be empty",
            );
        }
        if let Some(re) = m.field("regex").and_then(Value::as_str) {
            if let Err(e) = grammar::regex(re) {
                self.err(Istio::Regex, p.key("regex"), e);
            }
        }
    }

    /// A header name to match: a JWT claim (gateways only), a pseudo-header or a token.
    fn header_name(&mut self, name: &str, p: &Loc<'_>, mesh: bool) {
        let claim =
            name.starts_with("@request.auth.claims.") || name.starts_with("@request.auth.claims[");
        if claim {
            if mesh {
                self.err(
                    Istio::Match,
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
                Istio::Match,
                p.clone(),
                format!("invalid header name {name:?}"),
            );
        }
    }

    /// Item 35 (`validateHTTPRouteMatchRequest`): one match condition.
    pub(super) fn http_match(&mut self, m: &Value, p: &Loc<'_>, mesh: bool) {
        if m.is_null() {
            return;
        }
        for key in ["headers", "withoutHeaders"] {
            if let Some(hs) = map(m, key) {
                for (name, val) in hs {
                    let hp = p.key(key).key(name);
                    if val.is_null() {
                        self.err(
                            Istio::Match,
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
            self.err(Istio::Match, p.key("port"), "port must be in 1..65535");
        }
        self.labels(Istio::Match, m, "sourceLabels", p);
        self.gateway_names(arr(m, "gateways"), &p.key("gateways"));
        let sns = s(m, "sourceNamespace");
        if !sns.is_empty() && !grammar::is_label(sns) {
            self.err(
                Istio::Match,
                p.key("sourceNamespace"),
                format!("invalid sourceNamespace {sns:?}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run};
    use serde_json::json;

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
}
