//! The validation rules Gloo's CRDs and protos put on field values (CEL and patterns): the API
//! server rejects an object that breaks one, so each is an input error at the field
//! (docs/translation.md#retrytimeoutpolicy, #mirrorpolicy).

use super::duration::Duration;
use super::types::*;

/// One broken rule: the field to fix (`spec.config.retries.attempts`), what is wrong, and
/// what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The field, from `spec`.
    pub field: String,
    /// What is wrong, with the API's own message where it has one.
    pub message: String,
    /// What to write instead.
    pub help: &'static str,
}

/// The value rules of a typed spec. A few comparisons per object: typing runs it on every
/// object, and kinds without rules keep the empty default.
pub trait Rules {
    /// Pushes every broken rule.
    fn broken(&self, _out: &mut Vec<Broken>) {}
}

impl Rules for ExternalServiceSpec {}
impl Rules for ExternalEndpointSpec {}
impl Rules for RouteTableSpec {}
impl Rules for VirtualDestinationSpec {}
impl Rules for VirtualGatewaySpec {}
impl Rules for WorkspaceSpec {}
impl Rules for WorkspaceSettingsSpec {}
impl Rules for FaultInjectionPolicySpec {
    fn broken(&self, out: &mut Vec<Broken>) {
        route_selectors(out, &self.apply_to_routes);
    }
}
impl Rules for OutlierDetectionPolicySpec {}
impl Rules for LoadBalancerPolicySpec {}
impl Rules for ConnectionPolicySpec {}
impl Rules for HeaderManipulationPolicySpec {
    fn broken(&self, out: &mut Vec<Broken>) {
        route_selectors(out, &self.apply_to_routes);
    }
}
impl Rules for CorsPolicySpec {
    fn broken(&self, out: &mut Vec<Broken>) {
        route_selectors(out, &self.apply_to_routes);
    }
}
impl Rules for FailoverPolicySpec {}
impl Rules for ClientTlsPolicySpec {}

fn push(out: &mut Vec<Broken>, field: &str, message: String, help: &'static str) {
    out.push(Broken {
        field: field.to_string(),
        message,
        help,
    });
}

/// Gloo's rule on route policy durations: at least 1ms, in whole milliseconds.
fn duration(out: &mut Vec<Broken>, field: &str, d: &Option<Duration>) {
    if let Some(d) = d {
        if let Err(e) = d.gloo_ms_rule() {
            push(
                out,
                field,
                format!("`{}` is not a duration Gloo takes here: {e}", d.text),
                "write whole milliseconds of at least 1ms, such as `500ms` or `1.5s`",
            );
        }
    }
}

/// `applyToRoutes[]` entries are a oneof in Gloo's proto: `route` or `withDestinations`.
fn route_selectors(out: &mut Vec<Broken>, sels: &[RouteSelector]) {
    for (i, s) in sels.iter().enumerate() {
        if s.with_destinations.is_some() && s.route != ObjectSelector::default() {
            push(
                out,
                &format!("spec.applyToRoutes[{i}].withDestinations"),
                "an applyToRoutes entry sets both route and withDestinations; Gloo takes one"
                    .into(),
                "split it into two entries (entries are ORed), or keep one of the two",
            );
        }
    }
}

/// The retry conditions Gloo's RetryTimeoutPolicy lists; any HTTP status code is taken too.
const RETRY_ON: &[&str] = &[
    "5xx",
    "gateway-error",
    "reset",
    "connect-failure",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "envoy-ratelimited",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

/// Why `retryOn` breaks Gloo's pattern `^[^,]+(?:,[^,]+)*$` or names an unknown condition.
fn retry_on_problem(s: &str) -> Option<String> {
    if s.is_empty() || s.split(',').any(str::is_empty) {
        return Some(format!(
            "retryOn `{s}` must be a comma-separated list without empty items"
        ));
    }
    let bad = s.split(',').find(|t| {
        let t = t.trim();
        let status = t.len() == 3 && t.bytes().all(|b| b.is_ascii_digit());
        !(RETRY_ON.contains(&t) || status)
    })?;
    Some(format!(
        "retryOn `{s}`: `{bad}` is not a retry condition Gloo supports"
    ))
}

impl Rules for RetryTimeoutPolicySpec {
    fn broken(&self, out: &mut Vec<Broken>) {
        route_selectors(out, &self.apply_to_routes);
        let Some(c) = &self.config else {
            push(
                out,
                "spec",
                "Either config.retries or config.requestTimeout must be set".into(),
                "add `config.requestTimeout` or `config.retries`",
            );
            return;
        };
        if c.retries.is_none() && c.request_timeout.is_none() {
            push(
                out,
                "spec.config",
                "Either config.retries or config.requestTimeout must be set".into(),
                "add `requestTimeout` or `retries` under config",
            );
        }
        duration(out, "spec.config.requestTimeout", &c.request_timeout);
        let Some(r) = &c.retries else {
            return;
        };
        let at = "spec.config.retries";
        match r.attempts {
            Some(a) if a < 0 => push(
                out,
                &format!("{at}.attempts"),
                format!("attempts {a} must be 0 or more"),
                "write the number of retries after the first try; 0 disables retries",
            ),
            Some(0) if r.per_try_timeout.is_some()
                || r.retry_on.is_some()
                || r.retry_remote_localities.is_some() =>
            {
                push(
                    out,
                    &format!("{at}.attempts"),
                    "When attempts is set to 0, perTryTimeout, retryOn, or retryRemoteLocalities cannot be set".into(),
                    "remove perTryTimeout, retryOn and retryRemoteLocalities, or set attempts above 0",
                )
            }
            _ => {}
        }
        duration(out, &format!("{at}.perTryTimeout"), &r.per_try_timeout);
        if let Some(problem) = r.retry_on.as_deref().and_then(retry_on_problem) {
            push(
                out,
                &format!("{at}.retryOn"),
                problem,
                "list conditions such as `connect-failure,5xx` or HTTP status codes, separated by commas without spaces",
            );
        }
    }
}

impl Rules for MirrorPolicySpec {
    fn broken(&self, out: &mut Vec<Broken>) {
        route_selectors(out, &self.apply_to_routes);
        let Some(c) = &self.config else {
            push(
                out,
                "spec",
                "config is required: a MirrorPolicy needs config.destination".into(),
                "add `config.destination` with the ref and port of the Service to mirror to",
            );
            return;
        };
        match &c.destination {
            None => push(
                out,
                "spec.config",
                "config.destination is required".into(),
                "add `destination` with the ref and port of the Service to mirror to",
            ),
            // An AWS Lambda destination has no ref; it is rejected as untranslated.
            Some(d) if d.r#ref.is_none() && d.aws_lambda.is_none() => push(
                out,
                "spec.config.destination",
                "the mirror destination has no ref".into(),
                "add `ref: {name, namespace}` naming the Service, VirtualDestination or ExternalService",
            ),
            _ => {}
        }
        if let Some(p) = c.percentage {
            if !(0.0..=100.0).contains(&p) || p.is_nan() {
                push(
                    out,
                    "spec.config.percentage",
                    format!("percentage {p} must be between 0 and 100"),
                    "write a percentage from 0 to 100, or leave it out to mirror every request",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broken<T: Rules + serde::de::DeserializeOwned>(v: serde_json::Value) -> Vec<String> {
        let spec: T = serde_json::from_value(v).unwrap();
        let mut out = Vec::new();
        spec.broken(&mut out);
        out.into_iter().map(|b| b.field).collect()
    }

    #[test]
    fn retry_timeout_rules() {
        let rt = |v| broken::<RetryTimeoutPolicySpec>(v);
        use serde_json::json;
        assert!(rt(json!({"config": {"requestTimeout": "0.5s"}})).is_empty());
        assert_eq!(rt(json!({})), ["spec"]);
        assert_eq!(rt(json!({"config": {}})), ["spec.config"]);
        assert_eq!(
            rt(json!({"config": {"retries": {"attempts": 0, "retryOn": "5xx"}}})),
            ["spec.config.retries.attempts"]
        );
        assert!(rt(json!({"config": {"retries": {"attempts": 0}}})).is_empty());
        assert_eq!(
            rt(json!({"config": {"retries": {"perTryTimeout": "500us"}}})),
            ["spec.config.retries.perTryTimeout"]
        );
        assert_eq!(
            rt(json!({"config": {"retries": {"retryOn": "5xx,,reset"}}})),
            ["spec.config.retries.retryOn"]
        );
        assert_eq!(
            rt(json!({"config": {"retries": {"retryOn": "5xx,flaky"}}})),
            ["spec.config.retries.retryOn"]
        );
        assert!(rt(json!({"config": {"retries": {"retryOn": "connect-failure,503"}}})).is_empty());
        let both = json!({"applyToRoutes": [
            {"withDestinations": {"selector": {"name": "a"}}},
            {"route": {"labels": {"a": "b"}}, "withDestinations": {"selector": {"name": "a"}}},
        ], "config": {"requestTimeout": "1s"}});
        assert_eq!(rt(both), ["spec.applyToRoutes[1].withDestinations"]);
    }

    #[test]
    fn mirror_rules() {
        let m = |v| broken::<MirrorPolicySpec>(v);
        use serde_json::json;
        assert!(
            m(json!({"config": {"destination": {"ref": {"name": "a"}}, "percentage": 50}}))
                .is_empty()
        );
        assert_eq!(m(json!({})), ["spec"]);
        assert_eq!(m(json!({"config": {"percentage": 5}})), ["spec.config"]);
        assert_eq!(
            m(json!({"config": {"destination": {"ref": {"name": "a"}}, "percentage": 150}})),
            ["spec.config.percentage"]
        );
    }
}
