//! Secret masking: values of Secrets are never printed, but a change is still visible.
//!
//! Like Argo CD's `HideSecretData` (gitops-engine), each `data`/`stringData` value is replaced
//! by a mask that is the same on both sides when the value did not change and differs when it
//! did, so the diff shows which keys changed without showing a byte of any value. The
//! `kubectl.kubernetes.io/last-applied-configuration` annotation, which repeats the data, is
//! masked the same way.

use serde_json::{Map, Value};

/// The mask of an unchanged (or one-sided) secret value.
pub const MASK: &str = "<masked>";
/// The mask of a value that differs between base and head (shown on the head side).
pub const MASK_CHANGED: &str = "<masked, changed>";

const FIELDS: [&str; 2] = ["data", "stringData"];
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// True for a core `v1` Secret.
pub fn is_secret(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("Secret")
        && v.get("apiVersion").and_then(Value::as_str) == Some("v1")
}

/// Masks the secret values of both sides of a comparison. Objects that are not Secrets are
/// returned as they are.
pub fn mask_pair(before: Option<&Value>, after: Option<&Value>) -> (Option<Value>, Option<Value>) {
    let secret = before.is_some_and(is_secret) || after.is_some_and(is_secret);
    if !secret {
        return (before.cloned(), after.cloned());
    }
    let mut b = before.cloned();
    let mut a = after.cloned();
    for field in FIELDS {
        let old = before.and_then(|v| v.get(field));
        let new = after.and_then(|v| v.get(field));
        let (mb, ma) = mask_field(old, new);
        if let (Some(Value::Object(m)), Some(x)) = (b.as_mut(), mb) {
            m.insert(field.into(), x);
        }
        if let (Some(Value::Object(m)), Some(x)) = (a.as_mut(), ma) {
            m.insert(field.into(), x);
        }
    }
    let ann = |v: Option<&Value>| {
        v.and_then(|v| v.pointer("/metadata/annotations"))
            .and_then(|a| a.get(LAST_APPLIED))
            .cloned()
    };
    let (ob, oa) = (ann(before), ann(after));
    let changed = ob != oa;
    for (side, old, changed_mask) in [(&mut b, ob, false), (&mut a, oa, changed)] {
        if old.is_none() {
            continue;
        }
        if let Some(Value::Object(m)) = side
            .as_mut()
            .and_then(|v| v.pointer_mut("/metadata/annotations"))
        {
            m.insert(
                LAST_APPLIED.into(),
                Value::String(if changed_mask { MASK_CHANGED } else { MASK }.into()),
            );
        }
    }
    (b, a)
}

/// Masks one field (`data` or `stringData`) of both sides.
fn mask_field(old: Option<&Value>, new: Option<&Value>) -> (Option<Value>, Option<Value>) {
    match (old, new) {
        (None, None) => (None, None),
        (Some(Value::Object(o)), Some(Value::Object(n))) => {
            let mo: Map<String, Value> = o.keys().map(|k| (k.clone(), MASK.into())).collect();
            let mn: Map<String, Value> = n
                .iter()
                .map(|(k, v)| {
                    let same = o.get(k).is_none_or(|ov| ov == v);
                    (k.clone(), if same { MASK } else { MASK_CHANGED }.into())
                })
                .collect();
            (Some(Value::Object(mo)), Some(Value::Object(mn)))
        }
        (o, n) => {
            let changed = o.is_some() && n.is_some() && o != n;
            let m = |v: Option<&Value>, changed: bool| {
                v.map(|v| match v {
                    Value::Object(m) => {
                        Value::Object(m.keys().map(|k| (k.clone(), MASK.into())).collect())
                    }
                    _ => Value::String(if changed { MASK_CHANGED } else { MASK }.into()),
                })
            };
            (m(o, false), m(n, changed))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "s", "namespace": "n"}, "data": data})
    }

    #[test]
    fn values_never_survive_and_changes_show() {
        let b = secret(json!({"same": "c2VjcmV0", "changed": "b2xk", "gone": "eA=="}));
        let a = secret(json!({"same": "c2VjcmV0", "changed": "bmV3", "new": "eQ=="}));
        let (mb, ma) = mask_pair(Some(&b), Some(&a));
        let (mb, ma) = (mb.unwrap(), ma.unwrap());
        let text = format!("{mb}{ma}");
        for v in ["c2VjcmV0", "b2xk", "bmV3", "eA==", "eQ=="] {
            assert!(!text.contains(v), "{v} leaked: {text}");
        }
        assert_eq!(mb["data"]["changed"], MASK);
        assert_eq!(ma["data"]["changed"], MASK_CHANGED);
        assert_eq!(ma["data"]["same"], MASK);
        assert_eq!(mb["data"]["gone"], MASK);
        assert_eq!(ma["data"]["new"], MASK);
        assert!(ma["data"].get("gone").is_none());
    }

    #[test]
    fn string_data_annotation_and_odd_shapes_are_masked() {
        let mut b = secret(json!("not-a-map"));
        b["stringData"] = json!({"k": "plain"});
        b["metadata"]["annotations"] = json!({LAST_APPLIED: "{\"data\":{\"k\":\"cGxhaW4=\"}}",
                                              "other": "kept"});
        let (mb, ma) = mask_pair(Some(&b), None);
        assert!(ma.is_none());
        let mb = mb.unwrap();
        assert_eq!(mb["data"], MASK);
        assert_eq!(mb["stringData"]["k"], MASK);
        assert_eq!(mb["metadata"]["annotations"][LAST_APPLIED], MASK);
        assert_eq!(mb["metadata"]["annotations"]["other"], "kept");
    }

    #[test]
    fn other_kinds_are_untouched() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"}});
        let (b, _) = mask_pair(Some(&cm), None);
        assert_eq!(b.unwrap(), cm);
    }
}
