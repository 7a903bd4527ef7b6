//! Helpers for `serde_json::Value`: field access that skips hashing for small maps, and a
//! recursive key sort.
//!
//! serde_json's `preserve_order` maps are `IndexMap`s keyed with SipHash: `v["spec"]` hashes
//! the key before it compares anything. Kubernetes maps mostly hold a few keys, where comparing
//! each key (lengths first) costs less than the hash. Istio validation and the policies'
//! cross-resource index read tens of fields per route this way (docs/performance.md).

use serde_json::{Map, Value};

/// Up to this many entries a map is scanned; past it, looked up by hash.
const SCAN: usize = 16;

static NULL: Value = Value::Null;

/// Field access by key, as `Value::get` and `Value::index` give, without hashing small maps.
pub trait Field {
    /// The value under `key` when `self` is a map that has it.
    fn field(&self, key: &str) -> Option<&Value> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key and value under `key` when `self` is a map that has it.
    fn entry(&self, key: &str) -> Option<(&String, &Value)>;

    /// The value under `key`, or `null`, as `self[key]` gives.
    fn at(&self, key: &str) -> &Value {
        self.field(key).unwrap_or(&NULL)
    }
}

impl Field for Value {
    #[inline]
    fn entry(&self, key: &str) -> Option<(&String, &Value)> {
        match self {
            Value::Object(m) => m.entry(key),
            _ => None,
        }
    }
}

impl Field for Map<String, Value> {
    #[inline]
    fn entry(&self, key: &str) -> Option<(&String, &Value)> {
        if self.len() <= SCAN {
            self.iter().find(|(k, _)| k.as_str() == key)
        } else {
            self.get_key_value(key)
        }
    }
}

/// Sorts the keys of every map, recursively; maps already in order are left as they are.
pub fn sort_keys(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let mut keys = m.keys();
            let sorted = match keys.next() {
                None => true,
                Some(first) => keys
                    .try_fold(first, |prev, k| (prev < k).then_some(k))
                    .is_some(),
            };
            if !sorted {
                m.sort_keys();
            }
            m.values_mut().for_each(sort_keys);
        }
        Value::Array(a) => a.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn small_and_large_maps_answer_as_get_does() {
        let small = json!({"a": 1, "b": {"c": 2}});
        let large: Value = (0..40).map(|i| (format!("k{i}"), json!(i))).collect();
        for (v, keys) in [
            (&small, vec!["a", "b", "z"]),
            (&large, vec!["k0", "k33", "k40"]),
        ] {
            for k in keys {
                assert_eq!(v.field(k), v.get(k), "{k}");
                assert_eq!(v.entry(k), v.as_object().unwrap().get_key_value(k), "{k}");
                assert_eq!(v.at(k), &v[k], "{k}");
            }
        }
        assert_eq!(small.at("b").at("c"), &json!(2));
        assert_eq!(json!([1]).field("a"), None);
        assert_eq!(json!("s").at("a"), &Value::Null);
    }
}
