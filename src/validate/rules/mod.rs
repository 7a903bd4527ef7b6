//! docs/validation.md, "Layer 2": istiod's validating webhook (`pkg/config/validation/`),
//! the numbered rules there, for the kinds we render. E rules give errors, W rules warnings;
//! item numbers in comments refer to that checklist.
//!
//! One module per part of the checklist:
//! - `object`: "Every object" (metadata, `exportTo`);
//! - `service_entry`: "ServiceEntry";
//! - `workload_entry`: "WorkloadEntry", also used for ServiceEntry endpoints;
//! - `virtual_service`: "VirtualService", its HTTP, TLS and TCP routes and destinations;
//! - `destination_rule`: "DestinationRule" and its traffic policies;
//! - `gateway`: Gateway (`ValidateGateway`, which the checklist does not cover);
//! - `common`: field readers and the label and workload selector rules several kinds share.

mod common;
mod destination_rule;
mod gateway;
mod object;
mod service_entry;
mod virtual_service;
mod workload_entry;

use super::{Loc, Problem};
use crate::diag::codes::Istio;
use crate::json::Field;
use serde_json::Value;

/// Runs the webhook rules of one kind.
pub fn check(kind: &str, v: &Value, out: &mut Vec<Problem>) {
    let mut c = Ctx {
        out,
        namespace: v.at("metadata").at("namespace").as_str().unwrap_or(""),
    };
    c.metadata(kind, v);
    let spec = v.at("spec");
    let sp = Loc::root().key("spec");
    match kind {
        "ServiceEntry" => c.service_entry(v, spec, &sp),
        "WorkloadEntry" => c.workload_entry(spec, &sp, None),
        "VirtualService" => c.virtual_service(spec, &sp),
        "DestinationRule" => c.destination_rule(spec, &sp),
        "Gateway" => c.gateway(v, spec, &sp),
        _ => {}
    }
}

/// The problems found so far and the checked object's namespace; each part of the checklist
/// adds its rules to this type in its own module.
struct Ctx<'a> {
    out: &'a mut Vec<Problem>,
    namespace: &'a str,
}

impl Ctx<'_> {
    fn err(&mut self, code: Istio, path: Loc<'_>, msg: impl Into<String>) {
        self.out.push(Problem::error(code, path.path(), msg));
    }

    fn warn(&mut self, code: Istio, path: Loc<'_>, msg: impl Into<String>) {
        self.out.push(Problem::warning(code, path.path(), msg));
    }
}

/// What the tests of every part use: running the rules and asserting on their problems.
#[cfg(test)]
mod testing {
    use super::{check, Problem};
    use serde_json::{json, Value};

    pub(super) fn run(kind: &str, spec: Value) -> Vec<Problem> {
        run_obj(json!({"apiVersion": "networking.istio.io/v1", "kind": kind,
                       "metadata": {"name": "x", "namespace": "ns"}, "spec": spec}))
    }

    pub(super) fn run_obj(v: Value) -> Vec<Problem> {
        let mut out = Vec::new();
        check(v["kind"].as_str().unwrap(), &v, &mut out);
        out
    }

    /// Asserts exactly the given codes (with severity) at the given paths.
    #[track_caller]
    pub(super) fn has(p: &[Problem], code: &str, path: &str, error: bool) {
        assert!(
            p.iter().any(|x| x.code.id() == code
                && x.path.to_string() == path
                && (x.severity == crate::diag::Severity::Error) == error),
            "expected {code} at {path}, got {p:#?}"
        );
    }

    #[track_caller]
    pub(super) fn clean(p: &[Problem]) {
        assert!(p.is_empty(), "{p:#?}");
    }

    pub(super) fn se_dns() -> Value {
        json!({"hosts": ["httpbin.org"], "resolution": "DNS", "exportTo": ["."],
               "ports": [{"name": "http", "number": 80, "protocol": "HTTP", "targetPort": 80}]})
    }
}
