//! Changed field paths between two values, written like serde paths:
//! `spec.http[0].route[1].weight`, with keys that are not plain words quoted:
//! `metadata.labels["app.kubernetes.io/name"]`. Entries of keyed lists (`keyed`) are named by
//! their key instead of their index: `spec.http[orders].match[0].headers`.

use super::keyed::{self, Keyed};
use serde_json::Value;

/// Every leaf path where `a` and `b` differ, in document order of `b` then removed keys of `a`.
/// A key, index or keyed entry on one side only is reported once, at that key, index or entry.
/// A keyed list whose order matters and changed is reported at the list (`spec.http`); an
/// entry that moved is otherwise no change.
pub fn changed_paths(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let lists = keyed::lists_of(b);
    let mut trace = Vec::new();
    walk(a, b, lists, &mut trace, &mut String::new(), &mut out);
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

/// Paths of the entries of a keyed list, matched by key; false when an entry has no key or
/// two share one (the list is then compared by position).
fn walk_keyed<'v>(
    list: &Keyed,
    (xa, xb): (&'v [Value], &'v [Value]),
    lists: &[Keyed],
    trace: &mut Vec<&'v str>,
    path: &mut String,
    out: &mut Vec<String>,
) -> bool {
    let (Some(ka), Some(kb)) = (list.keys(xa), list.keys(xb)) else {
        return false;
    };
    if list.reordered(&ka, &kb) {
        out.push(path.clone());
    }
    let index: std::collections::HashMap<&str, usize> = ka
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    trace.push("*");
    for (key, vb) in kb.iter().zip(xb) {
        let len = path.len();
        path.push_str(&keyed::segment(key));
        match index.get(key.as_str()) {
            Some(&i) => walk(&xa[i], vb, lists, trace, path, out),
            None => out.push(path.clone()),
        }
        path.truncate(len);
    }
    trace.pop();
    let in_b: std::collections::HashSet<&String> = kb.iter().collect();
    for key in ka.iter().filter(|k| !in_b.contains(k)) {
        out.push(format!("{path}{}", keyed::segment(key)));
    }
    true
}

fn walk<'v>(
    a: &'v Value,
    b: &'v Value,
    lists: &[Keyed],
    trace: &mut Vec<&'v str>,
    path: &mut String,
    out: &mut Vec<String>,
) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            for (k, vb) in mb {
                let len = path.len();
                push_key(path, k);
                trace.push(k);
                match ma.get(k) {
                    Some(va) => walk(va, vb, lists, trace, path, out),
                    None => out.push(path.clone()),
                }
                trace.pop();
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
            if let Some(list) = keyed::find(lists, trace) {
                if walk_keyed(list, (xa, xb), lists, trace, path, out) {
                    return;
                }
            }
            trace.push("*");
            for i in 0..xa.len().max(xb.len()) {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                match (xa.get(i), xb.get(i)) {
                    (Some(va), Some(vb)) => walk(va, vb, lists, trace, path, out),
                    _ => out.push(path.clone()),
                }
                path.truncate(len);
            }
            trace.pop();
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
