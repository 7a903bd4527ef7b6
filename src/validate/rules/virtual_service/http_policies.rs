//! Items 41, 43 and 44 of docs/validation.md: an HTTP route's retries (`validateHTTPRetry`),
//! CORS policy (`validateCORSPolicy`) and fault injection (`validateHTTPFaultInjection`).

use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::grammar;
use crate::validate::rules::common::{arr, num, s, set};
use crate::validate::rules::Ctx;
use crate::validate::Loc;
use serde_json::Value;

impl Ctx<'_> {
    /// Item 41 (`validateHTTPRetry`).
    pub(super) fn retries(&mut self, r: &Value, p: &Loc<'_>) {
        let attempts = num(r, "attempts");
        if attempts < 0 {
            self.err(
                Istio::Retry,
                p.key("attempts"),
                "attempts cannot be negative",
            );
        }
        if set(r, "attempts") && attempts == 0 {
            for k in ["perTryTimeout", "retryOn", "retryRemoteLocalities"] {
                if set(r, k) {
                    self.err(
                        Istio::Retry,
                        p.key(k),
                        format!("{k} cannot be set with attempts: 0"),
                    );
                }
            }
        }
        for k in ["perTryTimeout", "backoff"] {
            if set(r, k) {
                if let Err(e) = grammar::istio_duration(s(r, k)) {
                    self.err(Istio::Duration, p.key(k), e);
                }
            }
        }
        const POLICIES: [&str; 16] = [
            "5xx",
            "gateway-error",
            "reset",
            "reset-before-request",
            "connect-failure",
            "retriable-4xx",
            "refused-stream",
            "retriable-status-codes",
            "retriable-headers",
            "envoy-ratelimited",
            "http3-post-connect-failure",
            "cancelled",
            "deadline-exceeded",
            "internal",
            "resource-exhausted",
            "unavailable",
        ];
        let on = s(r, "retryOn");
        if !on.is_empty() {
            for part in on.split(',') {
                let status = part.parse::<u16>().is_ok_and(|c| (100..=599).contains(&c));
                if !status && !POLICIES.contains(&part) {
                    self.err(
                        Istio::Retry,
                        p.key("retryOn"),
                        format!("{part:?} is not a valid retryOn policy (no spaces are allowed)"),
                    );
                }
            }
        }
    }

    /// Item 43 (`validateCORSPolicy`).
    pub(super) fn cors(&mut self, c: &Value, p: &Loc<'_>) {
        for (i, o) in arr(c, "allowOrigins").iter().enumerate() {
            let op = p.key("allowOrigins").index(i);
            let any = ["exact", "prefix", "regex"]
                .iter()
                .any(|k| !s(o, k).is_empty());
            if !any {
                self.err(
                    Istio::Cors,
                    op,
                    "allowOrigins entry needs a non-empty exact, prefix or regex",
                );
            } else if let Some(re) = o.field("regex").and_then(Value::as_str) {
                if let Err(e) = grammar::regex(re) {
                    self.err(Istio::Regex, op.key("regex"), e);
                }
            }
        }
        const METHODS: [&str; 10] = [
            "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*",
        ];
        for (i, m) in arr(c, "allowMethods").iter().enumerate() {
            let m = m.as_str().unwrap_or("");
            if !METHODS.contains(&m) {
                self.err(
                    Istio::Cors,
                    p.key("allowMethods").index(i),
                    format!("{m:?} is not a valid HTTP method"),
                );
            }
        }
        for key in ["allowHeaders", "exposeHeaders"] {
            for (i, h) in arr(c, key).iter().enumerate() {
                let h = h.as_str().unwrap_or("");
                if h != "*" && !grammar::is_token(h) {
                    self.err(
                        Istio::Cors,
                        p.key(key).index(i),
                        format!("invalid header name {h:?}"),
                    );
                }
            }
        }
        if set(c, "maxAge") {
            let m = s(c, "maxAge");
            match grammar::istio_duration(m) {
                Err(e) => self.err(Istio::Duration, p.key("maxAge"), e),
                Ok(()) => {
                    if grammar::go_duration_nanos(m).is_some_and(|n| n % 1_000_000_000 != 0) {
                        self.err(
                            Istio::Cors,
                            p.key("maxAge"),
                            "maxAge must be a whole number of seconds",
                        );
                    }
                }
            }
        }
    }

    /// Item 44: a percentage is 0 or in [0.0001, 100].
    fn percentage(&mut self, v: &Value, p: &Loc<'_>) {
        let x = v.at("value").as_f64().unwrap_or(0.0);
        if x != 0.0 && !(0.0001..=100.0).contains(&x) {
            self.err(
                Istio::Fault,
                p.clone(),
                format!("percentage {x} must be 0 or in [0.0001, 100]"),
            );
        }
    }

    /// Item 44 (`validateHTTPFaultInjection`).
    pub(super) fn fault(&mut self, f: &Value, p: &Loc<'_>) {
        if !set(f, "abort") && !set(f, "delay") {
            self.err(
                Istio::Fault,
                p.clone(),
                "fault injection needs abort or delay",
            );
        }
        if set(f, "abort") {
            self.fault_abort(f.at("abort"), &p.key("abort"));
        }
        if set(f, "delay") {
            self.fault_delay(f.at("delay"), &p.key("delay"));
        }
    }

    /// Item 44, `abort`: one known error type.
    fn fault_abort(&mut self, a: &Value, ap: &Loc<'_>) {
        if set(a, "percentage") {
            self.percentage(a.at("percentage"), &ap.key("percentage"));
        }
        if set(a, "http2Error") {
            self.err(
                Istio::Fault,
                ap.key("http2Error"),
                "http2Error is not supported",
            );
        } else if set(a, "grpcStatus") {
            const CODES: [&str; 17] = [
                "OK",
                "CANCELLED",
                "UNKNOWN",
                "INVALID_ARGUMENT",
                "DEADLINE_EXCEEDED",
                "NOT_FOUND",
                "ALREADY_EXISTS",
                "PERMISSION_DENIED",
                "RESOURCE_EXHAUSTED",
                "FAILED_PRECONDITION",
                "ABORTED",
                "OUT_OF_RANGE",
                "UNIMPLEMENTED",
                "INTERNAL",
                "UNAVAILABLE",
                "DATA_LOSS",
                "UNAUTHENTICATED",
            ];
            if !CODES.contains(&s(a, "grpcStatus")) {
                self.err(
                    Istio::Fault,
                    ap.key("grpcStatus"),
                    format!("unknown gRPC status {:?}", s(a, "grpcStatus")),
                );
            }
        } else if set(a, "httpStatus") {
            let st = num(a, "httpStatus");
            if !(200..=600).contains(&st) {
                self.err(
                    Istio::Fault,
                    ap.key("httpStatus"),
                    format!("httpStatus {st} must be in 200..600"),
                );
            }
        } else {
            self.warn(
                Istio::Fault,
                ap.clone(),
                "abort has no error type (httpStatus or grpcStatus)",
            );
        }
    }

    /// Item 44, `delay`: a fixed delay.
    fn fault_delay(&mut self, d: &Value, dp: &Loc<'_>) {
        if set(d, "percentage") {
            self.percentage(d.at("percentage"), &dp.key("percentage"));
        }
        if set(d, "exponentialDelay") {
            self.err(
                Istio::Fault,
                dp.key("exponentialDelay"),
                "exponentialDelay is not supported",
            );
        } else if let Err(e) = grammar::istio_duration(s(d, "fixedDelay")) {
            self.err(Istio::Duration, dp.key("fixedDelay"), e);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run};
    use serde_json::json;

    #[test]
    fn retries_timeout_cors_fault_mirror_rules() {
        let ok = json!({"timeout": "1.5s", "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,reset,503"},
                        "corsPolicy": {"allowOrigins": [{"exact": "https://a.com"}], "allowMethods": ["GET"], "maxAge": "24h"},
                        "fault": {"delay": {"fixedDelay": "2s", "percentage": {"value": 100}}},
                        "mirror": {"host": "m"}, "mirrorPercentage": {"value": 10},
                        "route": [{"destination": {"host": "a"}}]});
        clean(&run(
            "VirtualService",
            json!({"hosts": ["a.com"], "http": [ok]}),
        ));
        let bad = json!({"timeout": "1500us", "retries": {"attempts": 0, "retryOn": "5xx, reset"},
                        "corsPolicy": {"allowOrigins": [{}], "allowMethods": ["FETCH"], "maxAge": "1500ms"},
                        "fault": {"abort": {"httpStatus": 700}},
                        "mirror": {"host": "*"}, "mirrors": [{"destination": {"host": "m"}}],
                        "route": [{"destination": {"host": "a"}}]});
        let p = run("VirtualService", json!({"hosts": ["a.com"], "http": [bad]}));
        has(&p, "istio-duration", "spec.http[0].timeout", true);
        has(&p, "istio-retry", "spec.http[0].retries.retryOn", true);
        has(
            &p,
            "istio-cors",
            "spec.http[0].corsPolicy.allowOrigins[0]",
            true,
        );
        has(
            &p,
            "istio-cors",
            "spec.http[0].corsPolicy.allowMethods[0]",
            true,
        );
        has(&p, "istio-cors", "spec.http[0].corsPolicy.maxAge", true);
        has(
            &p,
            "istio-fault",
            "spec.http[0].fault.abort.httpStatus",
            true,
        );
        has(&p, "istio-destination", "spec.http[0].mirror.host", true);
        has(&p, "istio-route-conflict", "spec.http[0].mirrors", true);
    }
}
