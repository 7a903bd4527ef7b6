//! What several kinds share: readers of spec fields that treat a missing or mistyped field as
//! unset (docs/validation.md, "Layer 2": unset numbers are 0, an empty string is unset), and
//! the label and workload selector rules.

use super::Ctx;
use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::grammar;
use crate::validate::Loc;
use serde_json::{Map, Value};

/// The string at `k`, or `""`.
pub(super) fn s<'v>(v: &'v Value, k: &str) -> &'v str {
    v.field(k).and_then(Value::as_str).unwrap_or("")
}

/// The list at `k`, or an empty one.
pub(super) fn arr<'v>(v: &'v Value, k: &str) -> &'v [Value] {
    v.field(k)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The map at `k`, if there is one.
pub(super) fn map<'v>(v: &'v Value, k: &str) -> Option<&'v Map<String, Value>> {
    v.field(k).and_then(Value::as_object)
}

/// True when `k` is present and not null.
pub(super) fn set(v: &Value, k: &str) -> bool {
    v.field(k).is_some_and(|x| !x.is_null())
}

/// The integer at `k`, or 0.
pub(super) fn num(v: &Value, k: &str) -> i64 {
    v.field(k).and_then(Value::as_i64).unwrap_or(0)
}

impl Ctx<'_> {
    /// Checks each entry of the label map at `key` (`labels.Instance.Validate`).
    pub(super) fn labels(&mut self, code: Istio, v: &Value, key: &str, p: &Loc<'_>) {
        if let Some(m) = map(v, key) {
            for (k, val) in m {
                if let Err(e) = grammar::label_pair(k, val.as_str().unwrap_or("")) {
                    self.err(code, p.key(key).key(k), e);
                }
            }
        }
    }

    /// Items 5 and 65: workload selector labels.
    pub(super) fn workload_selector(&mut self, sel: &Value, p: &Loc<'_>, key: &str) {
        let labels = map(sel, key);
        if labels.is_none_or(|m| m.is_empty()) {
            self.warn(
                Istio::WorkloadSelector,
                p.clone(),
                "workload selector has no labels, so it selects every workload in the namespace",
            );
            return;
        }
        for (k, val) in labels.into_iter().flatten() {
            let val = val.as_str().unwrap_or("");
            if k.is_empty() {
                self.err(
                    Istio::WorkloadSelector,
                    p.key(key),
                    "empty key is not supported in selector",
                );
            } else if k.contains('*') || val.contains('*') {
                self.err(
                    Istio::WorkloadSelector,
                    p.key(key).key(k),
                    "wildcard is not supported in selector",
                );
            }
        }
    }
}
