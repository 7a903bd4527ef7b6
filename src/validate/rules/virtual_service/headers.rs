//! Item 36 of docs/validation.md (`ValidateHTTPHeader*`): header operations, on a route and
//! on each of its destinations.

use crate::diag::codes::Istio;
use crate::validate::grammar::{self, HeaderOp};
use crate::validate::rules::common::{arr, map};
use crate::validate::rules::Ctx;
use crate::validate::Loc;
use serde_json::Value;

impl Ctx<'_> {
    /// Item 36: the request and response header operations under `headers`.
    pub(super) fn header_ops(&mut self, h: &Value, p: &Loc<'_>) {
        if h.is_null() {
            return;
        }
        for side in ["request", "response"] {
            let ops = &h[side];
            for op in ["set", "add"] {
                let kind = if side == "request" {
                    HeaderOp::RequestAddOrSet
                } else {
                    HeaderOp::Other
                };
                if let Some(m) = map(ops, op) {
                    for (name, val) in m {
                        let hp = p.key(side).key(op).key(name);
                        if let Err(e) = grammar::header_op_name(name, kind) {
                            self.err(Istio::Header, hp.clone(), format!("{e} (in {op})"));
                        }
                        if let Err(e) = grammar::header_value(val.as_str().unwrap_or("")) {
                            self.err(Istio::Header, hp, e);
                        }
                    }
                }
            }
            for (i, name) in arr(ops, "remove").iter().enumerate() {
                let name = name.as_str().unwrap_or("");
                if let Err(e) = grammar::header_op_name(name, HeaderOp::Other) {
                    self.err(
                        Istio::Header,
                        p.key(side).key("remove").index(i),
                        format!("{e} (in remove)"),
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
