//! Item 36 of docs/validation.md (`ValidateHTTPHeader*`): header operations, on a route and
//! on each of its destinations.

use crate::diag::codes::Istio;
use crate::validate::rules::common::{arr, map};
use crate::validate::rules::Ctx;
use crate::validate::Loc;
use serde_json::Value;

impl Ctx<'_> {
    /// A header value: no control characters and balanced `%VAR%` (`header_value_validator.go`).
    fn header_value(&mut self, v: &str, p: &Loc<'_>) {
        if v.chars().any(|c| c.is_control() && c != '\t') {
            self.err(
                Istio::Header,
                p.clone(),
                "header value contains control characters",
            );
            return;
        }
        // `%VAR%` must be balanced; a lone `%` is written `%%`.
        let mut chars = v.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                continue;
            }
            if chars.peek() == Some(&'%') {
                chars.next();
                continue;
            }
            let mut closed = false;
            for d in chars.by_ref() {
                if d == '%' {
                    closed = true;
                    break;
                }
            }
            if !closed {
                self.err(
                    Istio::Header,
                    p.clone(),
                    format!("header value {v:?} has an unbalanced %; write a literal % as %%"),
                );
                return;
            }
        }
    }

    /// Item 36: the request and response header operations under `headers`.
    pub(super) fn header_ops(&mut self, h: &Value, p: &Loc<'_>) {
        if h.is_null() {
            return;
        }
        for side in ["request", "response"] {
            let ops = &h[side];
            for op in ["set", "add"] {
                if let Some(m) = map(ops, op) {
                    for (name, val) in m {
                        let hp = p.key(side).key(op).key(name);
                        let lower = name.to_ascii_lowercase();
                        let bad = name.is_empty()
                            || (side == "request"
                                && name.starts_with(':')
                                && lower != ":authority")
                            || (side == "response" && (lower == "host" || name.starts_with(':')));
                        if bad {
                            self.err(
                                Istio::Header,
                                hp.clone(),
                                format!("invalid header name {name:?} to {op}"),
                            );
                        }
                        self.header_value(val.as_str().unwrap_or(""), &hp);
                    }
                }
            }
            for (i, name) in arr(ops, "remove").iter().enumerate() {
                let name = name.as_str().unwrap_or("");
                if name.eq_ignore_ascii_case("host") || name.starts_with(':') || name.is_empty() {
                    self.err(
                        Istio::Header,
                        p.key(side).key("remove").index(i),
                        format!("invalid header name {name:?} to remove"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run};
    use serde_json::json;

    #[test]
    fn header_rules() {
        let ok = json!({"headers": {"request": {"set": {"x-a": "b %DOWNSTREAM_REMOTE_ADDRESS% 100%%"}}}, "route": [{"destination": {"host": "a"}}]});
        clean(&run(
            "VirtualService",
            json!({"hosts": ["a.com"], "http": [ok]}),
        ));
        let bad = json!({"headers": {"request": {"set": {":path": "x", "x-b": "50%"}}, "response": {"remove": ["host"]}},
                         "route": [{"destination": {"host": "a"}}]});
        let p = run("VirtualService", json!({"hosts": ["a.com"], "http": [bad]}));
        has(
            &p,
            "istio-header",
            "spec.http[0].headers.request.set[\":path\"]",
            true,
        );
        has(
            &p,
            "istio-header",
            "spec.http[0].headers.request.set.x-b",
            true,
        );
        has(
            &p,
            "istio-header",
            "spec.http[0].headers.response.remove[0]",
            true,
        );
    }
}
