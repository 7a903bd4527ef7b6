//! Istio's HTTP match conditions as Envoy applies them (docs/trace.md#matching): each
//! condition of a match block, in a fixed order, with the first that fails described.

use super::Request;
use regex::Regex;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

/// Compiled regexes by the text compiled, shared by the traces of one tracer (which may run
/// in parallel): a pattern is compiled once, not once per trace.
#[derive(Default)]
pub(super) struct Regexes(Mutex<HashMap<String, Result<Arc<Regex>, String>>>);

impl Regexes {
    /// `source` compiled, or the compiler's message.
    pub(super) fn get(&self, source: &str) -> Result<Arc<Regex>, String> {
        let cached = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(source)
            .cloned();
        if let Some(r) = cached {
            return r;
        }
        let r = Regex::new(source).map(Arc::new).map_err(|e| e.to_string());
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(source.to_string(), r.clone());
        r
    }
}

/// What a match block is compared with besides the request.
pub(super) struct Context<'a> {
    /// The caller's workload labels (a gateway's pod labels).
    pub labels: &'a BTreeMap<String, String>,
    /// The caller's namespace (a gateway's).
    pub namespace: &'a str,
    /// The port a route's `port` is compared with: the Gateway server's at a gateway, the
    /// service port in the mesh.
    pub port: u32,
    /// `mesh`, or the Gateway as `namespace/name`.
    pub gateway: Option<(&'a str, &'a str)>,
    /// The tracer's compiled regexes.
    pub regexes: &'a Regexes,
}

/// Whether host `pattern` (`*.example.com`, `*`, or a name) takes `host`.
pub(super) fn host_matches(pattern: &str, host: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix('*') {
        Some(suffix) => host.len() > suffix.len() && ends_with_ignore_case(host, suffix),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// How specific a host pattern is when several take a request: an exact name over any
/// wildcard, then the longer wildcard (Envoy's virtual host selection). Higher is more
/// specific.
pub(super) fn host_rank(pattern: &str) -> (bool, usize) {
    (!pattern.starts_with('*'), pattern.len())
}

/// A StringMatch (`exact`, `prefix`, `regex`; `{}` for presence) against `value` (None:
/// absent); `ignore_case` for `exact` and `prefix`. `Err` for a regex that does not compile.
fn string_match(
    m: &Value,
    value: Option<&str>,
    ignore_case: bool,
    regexes: &Regexes,
) -> Result<bool, String> {
    let Some(value) = value else {
        return Ok(false);
    };
    let Some(obj) = m.as_object() else {
        return Ok(true);
    };
    if let Some(e) = obj.get("exact").and_then(Value::as_str) {
        return Ok(if ignore_case {
            value.eq_ignore_ascii_case(e)
        } else {
            value == e
        });
    }
    if let Some(p) = obj.get("prefix").and_then(Value::as_str) {
        return Ok(if ignore_case {
            value.len() >= p.len()
                && value.is_char_boundary(p.len())
                && value[..p.len()].eq_ignore_ascii_case(p)
        } else {
            value.starts_with(p)
        });
    }
    if let Some(r) = obj.get("regex").and_then(Value::as_str) {
        return full_match(r, value, regexes);
    }
    Ok(true)
}

/// RE2 semantics, matched against the whole value as Envoy's `safe_regex` does.
pub(super) fn full_match(pattern: &str, value: &str, regexes: &Regexes) -> Result<bool, String> {
    let re = regexes.get(&format!("^(?:{pattern})$"))?;
    Ok(re.is_match(value))
}

/// A StringMatch written as a condition: `prefix /db/`, `regex [a-z]+`, `present`.
pub(super) fn describe(m: &Value) -> String {
    let Some(obj) = m.as_object() else {
        return "present".to_string();
    };
    for k in ["exact", "prefix", "regex"] {
        if let Some(v) = obj.get(k).and_then(Value::as_str) {
            return format!("{k} `{v}`");
        }
    }
    "present".to_string()
}

/// The first condition of match block `m` the request fails, or None when it matches.
pub(super) fn first_failure(
    m: &Map<String, Value>,
    req: &Request,
    cx: &Context<'_>,
) -> Option<String> {
    let ignore_case = m.get("ignoreUriCase").and_then(Value::as_bool) == Some(true);
    let path = req.path_only();
    let checks: [(&str, Option<&str>); 4] = [
        ("uri", Some(path)),
        ("scheme", Some(req.scheme.as_str())),
        ("method", Some(req.method.as_str())),
        ("authority", None),
    ];
    for (key, value) in checks {
        let Some(want) = m.get(key) else { continue };
        let authority;
        let value = match value {
            Some(v) => v,
            None => {
                authority = req.authority();
                authority.as_str()
            }
        };
        let case = key == "uri" && ignore_case;
        match string_match(want, Some(value), case, cx.regexes) {
            Ok(true) => {}
            Ok(false) => {
                let case = if case { " (ignoring case)" } else { "" };
                return Some(format!(
                    "{key} {}{case}: request has `{value}`",
                    describe(want)
                ));
            }
            Err(e) => return Some(format!("{key} regex does not compile: {e}")),
        }
    }
    if let Some(Value::Object(hs)) = m.get("headers") {
        for (name, want) in hs {
            let got = req.header(name);
            match string_match(want, got, false, cx.regexes) {
                Ok(true) => {}
                Ok(false) => {
                    return Some(match got {
                        None => format!("header `{name}` {}: request has none", describe(want)),
                        Some(g) => format!("header `{name}` {}: request has `{g}`", describe(want)),
                    })
                }
                Err(e) => return Some(format!("header `{name}` regex does not compile: {e}")),
            }
        }
    }
    if let Some(Value::Object(hs)) = m.get("withoutHeaders") {
        for (name, want) in hs {
            let got = req.header(name);
            match string_match(want, got, false, cx.regexes) {
                Ok(false) => {}
                Ok(true) => {
                    return Some(format!(
                        "without header `{name}` {}: request has `{}`",
                        describe(want),
                        got.unwrap_or_default()
                    ))
                }
                Err(e) => return Some(format!("header `{name}` regex does not compile: {e}")),
            }
        }
    }
    if let Some(Value::Object(qs)) = m.get("queryParams") {
        let query = req.query();
        for (name, want) in qs {
            let got = query.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
            match string_match(want, got, false, cx.regexes) {
                Ok(true) => {}
                Ok(false) => {
                    return Some(match got {
                        None => format!(
                            "query parameter `{name}` {}: request has none",
                            describe(want)
                        ),
                        Some(g) => format!(
                            "query parameter `{name}` {}: request has `{g}`",
                            describe(want)
                        ),
                    })
                }
                Err(e) => {
                    return Some(format!(
                        "query parameter `{name}` regex does not compile: {e}"
                    ))
                }
            }
        }
    }
    if let Some(p) = m.get("port").and_then(Value::as_u64) {
        if p != u64::from(cx.port) {
            return Some(format!("port {p}: request is on port {}", cx.port));
        }
    }
    if let Some(Value::Object(ls)) = m.get("sourceLabels") {
        for (k, v) in ls {
            let want = v.as_str().unwrap_or_default();
            match cx.labels.get(k) {
                Some(got) if got == want => {}
                Some(got) => return Some(format!("source label {k}={want}: caller has {k}={got}")),
                None => return Some(format!("source label {k}={want}: caller has no label {k}")),
            }
        }
    }
    if let Some(ns) = m.get("sourceNamespace").and_then(Value::as_str) {
        if ns != cx.namespace {
            return Some(format!(
                "source namespace `{ns}`: caller is in `{}`",
                cx.namespace
            ));
        }
    }
    if let Some(Value::Array(gws)) = m.get("gateways") {
        let mine = |g: &str| match cx.gateway {
            None => g == "mesh",
            Some((ns, name)) => g == name || g.split_once('/') == Some((ns, name)),
        };
        if !gws.iter().filter_map(Value::as_str).any(mine) {
            let caller = match cx.gateway {
                None => "mesh".to_string(),
                Some((ns, name)) => format!("{ns}/{name}"),
            };
            let list: Vec<&str> = gws.iter().filter_map(Value::as_str).collect();
            return Some(format!(
                "gateways [{}]: request comes from {caller}",
                list.join(", ")
            ));
        }
    }
    None
}

/// A match block written as its conditions: `uri prefix `/db/`, method exact `GET``.
pub(super) fn describe_block(m: &Map<String, Value>) -> String {
    let mut parts = Vec::new();
    for (k, v) in m {
        match k.as_str() {
            "uri" | "scheme" | "method" | "authority" => parts.push(format!("{k} {}", describe(v))),
            "ignoreUriCase" => {
                if v.as_bool() == Some(true) {
                    parts.push("ignoring uri case".to_string());
                }
            }
            "headers" | "withoutHeaders" | "queryParams" => {
                let what = match k.as_str() {
                    "headers" => "header",
                    "withoutHeaders" => "without header",
                    _ => "query parameter",
                };
                for (name, want) in v.as_object().into_iter().flatten() {
                    parts.push(format!("{what} `{name}` {}", describe(want)));
                }
            }
            "sourceLabels" => {
                let labels: Vec<String> = v
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect();
                parts.push(format!("source labels {}", labels.join(",")));
            }
            "gateways" => {
                let list: Vec<&str> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                parts.push(format!("gateways [{}]", list.join(", ")));
            }
            "port" => parts.push(format!("port {v}")),
            "sourceNamespace" => parts.push(format!(
                "source namespace {}",
                v.as_str().unwrap_or_default()
            )),
            "name" => {}
            other => parts.push(format!("{other} {v}")),
        }
    }
    if parts.is_empty() {
        "any request".to_string()
    } else {
        parts.join(", ")
    }
}

/// The path after `rewrite.uri` (`uri`) replaced the matched prefix, or the whole path for
/// any other uri match, keeping the query (Istio's HTTPRewrite.uri).
pub(super) fn rewrite_path(
    req: &Request,
    matched: Option<&Map<String, Value>>,
    uri: &str,
) -> String {
    let path = req.path_only();
    let query = req.path.strip_prefix(path).unwrap_or_default();
    let prefix = matched
        .and_then(|m| m.get("uri"))
        .and_then(|u| u.get("prefix"))
        .and_then(Value::as_str);
    match prefix {
        Some(p) if path.len() >= p.len() && path.is_char_boundary(p.len()) => {
            format!("{uri}{}{query}", &path[p.len()..])
        }
        _ => format!("{uri}{query}"),
    }
}

/// The path after `rewrite.uriRegexRewrite` (every match of `pattern` replaced by
/// `rewrite`, `\1` for a group, as RE2's GlobalReplace), keeping the query; None when the
/// pattern does not compile.
pub(super) fn regex_rewrite_path(
    req: &Request,
    pattern: &str,
    rewrite: &str,
    regexes: &Regexes,
) -> Option<String> {
    let re = regexes.get(pattern).ok()?;
    let path = req.path_only();
    let query = req.path.strip_prefix(path).unwrap_or_default();
    // RE2 writes groups `\1`; the regex crate `${1}`.
    let mut rep = String::with_capacity(rewrite.len());
    let mut chars = rewrite.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                rep.push_str(&format!("${{{d}}}"));
                chars.next();
            }
            ('$', _) => rep.push_str("$$"),
            _ => rep.push(c),
        }
    }
    Some(format!("{}{query}", re.replace_all(path, rep.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(url: &str, headers: &[&str]) -> Request {
        let h: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
        Request::parse(url, None, &h).expect("parses")
    }

    fn fail(m: Value, r: &Request) -> Option<String> {
        let labels = BTreeMap::from([("app".to_string(), "gw".to_string())]);
        let cx = Context {
            labels: &labels,
            namespace: "istio-gateways",
            port: 8080,
            gateway: Some(("istio-gateways", "gw")),
            regexes: &Regexes::default(),
        };
        first_failure(m.as_object().expect("object"), r, &cx)
    }

    #[test]
    fn hosts_match_exact_and_wildcards() {
        assert!(host_matches("*.example.com", "www.example.com"));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(host_matches("WWW.example.com", "www.example.com"));
        assert!(host_matches("*", "anything"));
        assert!(host_rank("www.example.com") > host_rank("*.example.com"));
        assert!(host_rank("*.www.example.com") > host_rank("*.example.com"));
    }

    #[test]
    fn uri_prefix_is_a_plain_string_prefix() {
        let r = req("http://a/dbx/users", &[]);
        assert!(fail(json!({"uri": {"prefix": "/db"}}), &r).is_none());
        let f = fail(json!({"uri": {"prefix": "/db/"}}), &r).expect("fails");
        assert_eq!(f, "uri prefix `/db/`: request has `/dbx/users`");
    }

    #[test]
    fn uri_kinds_and_case() {
        let r = req("http://a/Docs/x?q=1", &[]);
        assert!(fail(json!({"uri": {"exact": "/Docs/x"}}), &r).is_none());
        assert!(fail(json!({"uri": {"exact": "/docs/x"}}), &r).is_some());
        assert!(fail(
            json!({"uri": {"exact": "/docs/x"}, "ignoreUriCase": true}),
            &r
        )
        .is_none());
        assert!(fail(
            json!({"uri": {"prefix": "/docs/"}, "ignoreUriCase": true}),
            &r
        )
        .is_none());
        // A regex matches the whole path, not a part of it.
        assert!(fail(json!({"uri": {"regex": "/Docs/[a-z]"}}), &r).is_none());
        assert!(fail(json!({"uri": {"regex": "/Docs"}}), &r).is_some());
    }

    #[test]
    fn headers_without_headers_query_method_port_labels() {
        let r = req(
            "http://a/search?q=abc&lang=en",
            &["X-Version: v2", "x-user: admin-1"],
        );
        let ok =
            json!({"headers": {"x-version": {"exact": "v2"}, "x-user": {"regex": "admin-.*"}}});
        assert!(fail(ok, &r).is_none());
        assert!(fail(json!({"headers": {"x-user": {"regex": "admin"}}}), &r).is_some());
        assert!(fail(json!({"headers": {"x-user": {"prefix": "admin"}}}), &r).is_none());
        assert!(fail(json!({"headers": {"x-trace": {}}}), &r)
            .unwrap()
            .contains("request has none"));
        assert!(fail(
            json!({"withoutHeaders": {"x-debug": {"exact": "true"}}}),
            &r
        )
        .is_none());
        assert!(fail(json!({"withoutHeaders": {"x-version": {}}}), &r).is_some());
        assert!(fail(
            json!({"queryParams": {"q": {"regex": "[a-z]+"}, "lang": {"exact": "en"}}}),
            &r
        )
        .is_none());
        assert!(fail(json!({"queryParams": {"lang": {"exact": "de"}}}), &r).is_some());
        assert!(fail(json!({"method": {"exact": "GET"}}), &r).is_none());
        assert!(fail(json!({"method": {"exact": "POST"}}), &r).is_some());
        assert_eq!(
            fail(json!({"port": 80}), &r).as_deref(),
            Some("port 80: request is on port 8080")
        );
        assert!(fail(json!({"sourceLabels": {"app": "gw"}}), &r).is_none());
        assert!(fail(json!({"sourceLabels": {"app": "other"}}), &r).is_some());
        assert!(fail(json!({"gateways": ["gw"]}), &r).is_none());
        assert!(fail(json!({"gateways": ["mesh"]}), &r).is_some());
        assert!(fail(json!({"authority": {"exact": "a"}}), &r).is_none());
    }

    #[test]
    fn rewrites_prefix_and_regex() {
        let r = req("http://a/db/users?x=1", &[]);
        let m = json!({"uri": {"prefix": "/db/"}});
        assert_eq!(rewrite_path(&r, m.as_object(), "/"), "/users?x=1");
        let m = json!({"uri": {"exact": "/db/users"}});
        assert_eq!(rewrite_path(&r, m.as_object(), "/v2"), "/v2?x=1");
        assert_eq!(
            regex_rewrite_path(&r, "^/db/(.*)$", "/api/\\1", &Regexes::default()).as_deref(),
            Some("/api/users?x=1")
        );
    }
}
