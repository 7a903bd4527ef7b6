//! HeaderManipulationPolicy and CORSPolicy on the routes they select: `http[].headers` and
//! `http[].corsPolicy` (docs/translation.md#headermanipulationpolicy,
//! docs/translation.md#corspolicy); and the values Istio rejects, each an error at the
//! policy's field, which the output leaves out.

use super::super::{Ctx, Part};
use super::delegation::FlatRoute;
use crate::diag::codes::Translate;
use crate::diag::Diagnostic;
use crate::gloo::types::{CorsConfig, HeaderManipulationConfig, Labels, StringMatch};
use crate::gloo::Meta;
use crate::validate::grammar::{self, HeaderOp};
use serde_json::{json, Map, Value};

/// Writes a HeaderManipulationPolicy's `headers` into the rendered route `j`. Istio takes the
/// authority from one place only: a request header `host` or `:authority` on a route that
/// rewrites its authority is an error at the policy's field, and left out.
pub(super) fn write_headers(
    ctx: &Ctx<'_>,
    r: &FlatRoute<'_>,
    meta: &Meta,
    h: &Value,
    j: &mut Map<String, Value>,
    part: &mut Part,
) {
    let mut h = h.clone();
    let rewrites = j.get("rewrite").and_then(|w| w.get("authority")).is_some();
    if rewrites {
        if let Some(add) = h
            .get_mut("request")
            .and_then(|q| q.get_mut("add"))
            .and_then(Value::as_object_mut)
        {
            let clash: Vec<String> = add.keys().filter(|k| is_authority(k)).cloned().collect();
            for k in clash {
                add.remove(&k);
                part.diagnostics.push(
                    ctx.error(
                        meta,
                        Translate::PolicyValue,
                        &key("spec.config.appendRequestHeaders", &k),
                        format!(
                            "appendRequestHeaders sets `{k}` on route `{}` of RouteTable {}/{}, \
                             which rewrites its authority (hostRewrite or autoHostRewrite); \
                             Istio takes the authority from one place only",
                            r.name, r.table.meta.namespace, r.table.meta.name
                        ),
                    )
                    .help("drop the header from the policy, or the rewrite from the route"),
                );
            }
        }
        prune(&mut h);
    }
    if h.as_object().is_some_and(|m| !m.is_empty()) {
        j.insert("headers".into(), h);
    }
}

/// `field.name`, or `field["name"]` for a name that is not plain.
fn key(field: &str, name: &str) -> String {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        format!("{field}.{name}")
    } else {
        format!("{field}[{name:?}]")
    }
}

fn is_authority(name: &str) -> bool {
    name.eq_ignore_ascii_case("host") || name.eq_ignore_ascii_case(":authority")
}

/// Drops `request` or `response` when it holds nothing.
fn prune(h: &mut Value) {
    if let Some(m) = h.as_object_mut() {
        for side in ["request", "response"] {
            if let Some(ops) = m.get_mut(side).and_then(Value::as_object_mut) {
                ops.retain(|_, v| match v {
                    Value::Object(o) => !o.is_empty(),
                    Value::Array(a) => !a.is_empty(),
                    _ => true,
                });
            }
        }
        m.retain(|_, v| v.as_object().is_none_or(|o| !o.is_empty()));
    }
}

/// One side of Istio's `headers`: `add` (Gloo appends) and `remove`, without the names and
/// values Istio rejects; `None` when both are empty.
fn side(add: &Labels, add_op: HeaderOp, remove: &[String]) -> Option<Value> {
    let mut m = Map::new();
    let add: Map<String, Value> = add
        .iter()
        .filter(|(k, v)| {
            grammar::header_op_name(k, add_op).is_ok() && grammar::header_value(v).is_ok()
        })
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    if !add.is_empty() {
        m.insert("add".into(), Value::Object(add));
    }
    let remove: Vec<&String> = remove
        .iter()
        .filter(|k| grammar::header_op_name(k, HeaderOp::Other).is_ok())
        .collect();
    if !remove.is_empty() {
        m.insert("remove".into(), json!(remove));
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// Istio `headers` of a HeaderManipulationPolicy; `None` when it sets nothing.
pub(super) fn headers(c: &HeaderManipulationConfig) -> Option<Value> {
    let mut m = Map::new();
    let request = side(
        &c.append_request_headers,
        HeaderOp::RequestAddOrSet,
        &c.remove_request_headers,
    );
    if let Some(v) = request {
        m.insert("request".into(), v);
    }
    let response = side(
        &c.append_response_headers,
        HeaderOp::Other,
        &c.remove_response_headers,
    );
    if let Some(v) = response {
        m.insert("response".into(), v);
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// The methods Istio's CORS policy takes.
const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*",
];

/// Istio's StringMatch of one origin: exact, prefix or regex. `None` for a suffix (rejected
/// at typing) and for what Istio rejects.
fn origin(o: &StringMatch) -> Option<Value> {
    if origin_problem(o).is_some() {
        return None;
    }
    if let Some(e) = &o.exact {
        Some(json!({"exact": e}))
    } else if let Some(p) = &o.prefix {
        Some(json!({"prefix": p}))
    } else {
        o.regex.as_ref().map(|r| json!({"regex": r}))
    }
}

/// Why Istio rejects an origin matcher (not for a suffix one: typing rejects suffix).
fn origin_problem(o: &StringMatch) -> Option<(&'static str, String)> {
    let set = [&o.exact, &o.prefix, &o.regex];
    match set.iter().filter(|v| v.is_some()).count() {
        0 if o.suffix.is_some() => None,
        0 => Some((
            "",
            "an origin matcher needs exact, prefix or regex".to_string(),
        )),
        1 => {
            if let Some(r) = &o.regex {
                grammar::regex(r).err().map(|e| (".regex", e.to_string()))
            } else if set.iter().any(|v| v.as_deref() == Some("")) {
                Some(("", "an origin matcher may not be empty".to_string()))
            } else {
                None
            }
        }
        _ => Some((
            "",
            "an origin matcher sets one of exact, prefix and regex, not several".to_string(),
        )),
    }
}

/// Why Istio rejects a CORS header name: a token or `*`.
fn cors_header_ok(h: &str) -> bool {
    h == "*" || grammar::is_token(h)
}

/// Why Istio rejects a CORS `maxAge`: at least 1ms in whole milliseconds, and whole seconds.
fn max_age_problem(nanos: i128) -> Option<&'static str> {
    (nanos < 1_000_000_000 || nanos % 1_000_000_000 != 0)
        .then_some("Istio takes a maxAge of whole seconds, at least 1s")
}

/// Istio `corsPolicy` of a CORSPolicy, without what Istio rejects; `None` when it sets nothing.
pub(super) fn cors(c: &CorsConfig) -> Option<Value> {
    let mut m = Map::new();
    let origins: Vec<Value> = c.allow_origins.iter().filter_map(origin).collect();
    if !origins.is_empty() {
        m.insert("allowOrigins".into(), Value::Array(origins));
    }
    let methods: Vec<&String> = c
        .allow_methods
        .iter()
        .filter(|x| METHODS.contains(&x.as_str()))
        .collect();
    if !methods.is_empty() {
        m.insert("allowMethods".into(), json!(methods));
    }
    for (k, list) in [
        ("allowHeaders", &c.allow_headers),
        ("exposeHeaders", &c.expose_headers),
    ] {
        let ok: Vec<&String> = list.iter().filter(|h| cors_header_ok(h)).collect();
        if !ok.is_empty() {
            m.insert(k.into(), json!(ok));
        }
    }
    if let Some(d) = c
        .max_age
        .as_ref()
        .filter(|d| max_age_problem(d.nanos).is_none())
    {
        m.insert("maxAge".into(), json!(d.istio()));
    }
    if let Some(b) = c.allow_credentials {
        m.insert("allowCredentials".into(), json!(b));
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// The values of HeaderManipulationPolicies and CORSPolicies that Istio rejects, each an
/// error at the policy's field. Runs once per policy.
pub(crate) fn check(ctx: &Ctx<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for p in &ctx.model.header_policies {
        let Some(c) = &p.spec.config else {
            continue;
        };
        let mut bad = |field: String, msg: String, help: &str| {
            out.push(
                ctx.error(&p.meta, Translate::PolicyValue, &field, msg)
                    .help(help.to_string()),
            );
        };
        for (list, op, field) in [
            (
                &c.append_request_headers,
                HeaderOp::RequestAddOrSet,
                "spec.config.appendRequestHeaders",
            ),
            (
                &c.append_response_headers,
                HeaderOp::Other,
                "spec.config.appendResponseHeaders",
            ),
        ] {
            for (k, v) in list {
                if let Err(e) = grammar::header_op_name(k, op) {
                    bad(
                        key(field, k),
                        format!("Istio rejects header `{k}`: {e}"),
                        if op == HeaderOp::Other {
                            "name a header other than `host` and without a `:` prefix"
                        } else {
                            "name a header without a `:` prefix (`:authority` is the one allowed)"
                        },
                    );
                } else if let Err(e) = grammar::header_value(v) {
                    bad(
                        key(field, k),
                        format!("Istio rejects the value of header `{k}`: {e}"),
                        "write a literal % as %%, and no control characters",
                    );
                }
            }
        }
        let authority: Vec<&String> = c
            .append_request_headers
            .keys()
            .filter(|k| is_authority(k))
            .collect();
        if authority.len() > 1 {
            bad(
                key("spec.config.appendRequestHeaders", authority[1]),
                format!(
                    "appendRequestHeaders sets both `{}` and `{}`; Istio takes the authority from one place only",
                    authority[0], authority[1]
                ),
                "keep one of the two headers",
            );
        }
        for (list, field) in [
            (
                &c.remove_request_headers,
                "spec.config.removeRequestHeaders",
            ),
            (
                &c.remove_response_headers,
                "spec.config.removeResponseHeaders",
            ),
        ] {
            for (i, k) in list.iter().enumerate() {
                if let Err(e) = grammar::header_op_name(k, HeaderOp::Other) {
                    bad(
                        format!("{field}[{i}]"),
                        format!("Istio rejects removing header `{k}`: {e}"),
                        "name a header other than `host` and without a `:` prefix",
                    );
                }
            }
        }
    }
    for p in &ctx.model.cors_policies {
        let Some(c) = &p.spec.config else {
            continue;
        };
        let mut bad = |field: String, msg: String, help: &str| {
            out.push(
                ctx.error(&p.meta, Translate::PolicyValue, &field, msg)
                    .help(help.to_string()),
            );
        };
        for (i, o) in c.allow_origins.iter().enumerate() {
            if let Some((sub, why)) = origin_problem(o) {
                bad(
                    format!("spec.config.allowOrigins[{i}]{sub}"),
                    format!("Istio rejects this origin: {why}"),
                    "write one of `exact`, `prefix` or a valid RE2 `regex`",
                );
            }
        }
        for (i, m) in c.allow_methods.iter().enumerate() {
            if !METHODS.contains(&m.as_str()) {
                let upper = m.to_ascii_uppercase();
                let help = if METHODS.contains(&upper.as_str()) {
                    format!("write `{upper}`: Istio takes methods in upper case")
                } else {
                    "write one of GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS, TRACE or *"
                        .to_string()
                };
                bad(
                    format!("spec.config.allowMethods[{i}]"),
                    format!("Istio rejects CORS method `{m}`"),
                    &help,
                );
            }
        }
        for (list, field) in [
            (&c.allow_headers, "spec.config.allowHeaders"),
            (&c.expose_headers, "spec.config.exposeHeaders"),
        ] {
            for (i, h) in list.iter().enumerate() {
                if !cors_header_ok(h) {
                    bad(
                        format!("{field}[{i}]"),
                        format!(
                            "Istio rejects CORS header name `{h}`: a header name is a token or `*`"
                        ),
                        "write the header name without spaces, colons or other separators",
                    );
                }
            }
        }
        if let Some(d) = &c.max_age {
            if let Some(why) = max_age_problem(d.nanos) {
                bad(
                    "spec.config.maxAge".into(),
                    format!("maxAge `{}`: {why}", d.text),
                    "write whole seconds, such as `1m` or `86400s`",
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg<T: serde::de::DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn append_becomes_add_and_what_istio_rejects_is_left_out() {
        let c: HeaderManipulationConfig = cfg(json!({
            "appendRequestHeaders": {"x-a": "1", ":path": "/", "x-b": "50%"},
            "removeRequestHeaders": ["x-c", "host"],
            "appendResponseHeaders": {"host": "h"},
            "removeResponseHeaders": ["server"],
        }));
        assert_eq!(
            headers(&c),
            Some(json!({"request": {"add": {"x-a": "1"}, "remove": ["x-c"]},
                        "response": {"remove": ["server"]}}))
        );
        assert_eq!(headers(&cfg(json!({}))), None);
    }

    #[test]
    fn cors_fields_carry_over_and_max_age_is_protojson() {
        let c: CorsConfig = cfg(json!({
            "allowOrigins": [{"regex": ".*"}, {"exact": "https://a.com"}, {"suffix": ".com"}, {"regex": "("}],
            "allowMethods": ["GET", "get"],
            "allowHeaders": ["*", "bad header"],
            "exposeHeaders": ["x-id"],
            "maxAge": "1m",
            "allowCredentials": false,
        }));
        assert_eq!(
            cors(&c),
            Some(
                json!({"allowOrigins": [{"regex": ".*"}, {"exact": "https://a.com"}],
                        "allowMethods": ["GET"], "allowHeaders": ["*"], "exposeHeaders": ["x-id"],
                        "maxAge": "60s", "allowCredentials": false})
            )
        );
        assert!(max_age_problem(1_500_000_000).is_some());
        assert!(max_age_problem(60_000_000_000).is_none());
        assert!(max_age_problem(0).is_some());
        assert_eq!(cors(&cfg(json!({}))), None);
    }

    #[test]
    fn map_keys_are_spelled_for_locate() {
        assert_eq!(key("a.b", "x-y"), "a.b.x-y");
        assert_eq!(key("a.b", ":path"), "a.b[\":path\"]");
    }
}
