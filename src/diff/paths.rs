//! Changed field paths between two values, written like serde paths:
//! `spec.http[0].route[1].weight`, with keys that are not plain words quoted:
//! `metadata.labels["app.kubernetes.io/name"]`.

use serde_json::Value;

/// Every leaf path where `a` and `b` differ, in document order of `b` then removed keys of `a`.
/// A key or index on one side only is reported once, at that key or index.
pub fn changed_paths(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(a, b, &mut String::new(), &mut out);
    out
}

fn plain(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn push_key(path: &mut String, key: &str) {
    if plain(key) {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&serde_json::to_string(key).unwrap_or_default());
        path.push(']');
    }
}

fn walk(a: &Value, b: &Value, path: &mut String, out: &mut Vec<String>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            for (k, vb) in mb {
                let len = path.len();
                push_key(path, k);
                match ma.get(k) {
                    Some(va) => walk(va, vb, path, out),
                    None => out.push(path.clone()),
                }
                path.truncate(len);
            }
            for k in ma.keys().filter(|k| !mb.contains_key(*k)) {
                let len = path.len();
                push_key(path, k);
                out.push(path.clone());
                path.truncate(len);
            }
        }
        (Value::Array(xa), Value::Array(xb)) => {
            for i in 0..xa.len().max(xb.len()) {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                match (xa.get(i), xb.get(i)) {
                    (Some(va), Some(vb)) => walk(va, vb, path, out),
                    _ => out.push(path.clone()),
                }
                path.truncate(len);
            }
        }
        _ => out.push(if path.is_empty() {
            ".".into()
        } else {
            path.clone()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaf_paths_with_indices_and_quoted_keys() {
        let a = json!({"metadata": {"labels": {"app.kubernetes.io/name": "a", "x": "1"}},
                       "spec": {"http": [{"route": [{"weight": 90}, {"weight": 10}]}]}});
        let b = json!({"metadata": {"labels": {"app.kubernetes.io/name": "b"}},
                       "spec": {"http": [{"route": [{"weight": 80}, {"weight": 10}, {"weight": 10}]}],
                                "hosts": ["h"]}});
        assert_eq!(
            changed_paths(&a, &b),
            vec![
                "metadata.labels[\"app.kubernetes.io/name\"]",
                "metadata.labels.x",
                "spec.http[0].route[0].weight",
                "spec.http[0].route[2]",
                "spec.hosts",
            ]
        );
    }

    #[test]
    fn equal_values_have_no_paths_and_type_changes_are_leaves() {
        let v = json!({"a": [1, {"b": null}]});
        assert!(changed_paths(&v, &v).is_empty());
        assert_eq!(
            changed_paths(&json!({"a": 1}), &json!({"a": [1]})),
            vec!["a"]
        );
        assert_eq!(changed_paths(&json!(1), &json!(2)), vec!["."]);
    }
}
