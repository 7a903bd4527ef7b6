//! A rendered object: its value, the cluster it is written to and the Gloo sources it came
//! from, and the canonical key order its output uses. `render` builds these; `validate`,
//! `diff` and the front ends read them.

use crate::canon::{AsTree, Shape, Tree};
use crate::manifest::{Location, ObjectId};
use crate::node::Node;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// A Gloo source object that contributed to a rendered object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourceRef {
    /// The source object.
    pub id: ObjectId,
    /// Where it is written.
    pub location: Location,
}

/// One rendered Istio (or passthrough) object: its value a `serde_json::Value`, or a compact
/// [`Node`] where many are held (`render::Keep::Nodes`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rendered<V = Value> {
    /// The cluster it is written to.
    pub cluster: String,
    /// The object, keys in a stable order.
    pub value: V,
    /// Where it came from (for diff attribution and diagnostics).
    pub sources: Vec<SourceRef>,
}

impl<V: AsTree> Rendered<V> {
    /// apiVersion, kind, namespace and name, borrowed from the value (empty where a field is
    /// missing or not a string).
    pub fn id_str(&self) -> [&str; 4] {
        fn field<'a, V: Tree>(v: &'a V, path: &[&str]) -> &'a str {
            match path
                .iter()
                .try_fold(v, |v, k| v.get_key(k))
                .map(Tree::shape)
            {
                Some(Shape::String(s)) => s,
                _ => "",
            }
        }
        let v = self.value.tree();
        [
            field(v, &["apiVersion"]),
            field(v, &["kind"]),
            field(v, &["metadata", "namespace"]),
            field(v, &["metadata", "name"]),
        ]
    }

    /// apiVersion, kind, namespace, name of the rendered object.
    pub fn id(&self) -> ObjectId {
        let [api_version, kind, namespace, name] = self.id_str();
        ObjectId {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// The output sort key: cluster, apiVersion, kind, namespace, name.
    pub fn sort_key(&self) -> (String, ObjectId) {
        (self.cluster.clone(), self.id())
    }
}

/// A rendered object kept as a compact node (`render::Keep::Nodes`), shared rather than
/// copied where a diff's head takes it from the base.
pub type Kept = Rendered<Arc<Node>>;

/// Sorts keys recursively (as `kubectl get -o yaml` does), keeping apiVersion, kind,
/// metadata, spec first at the top level, so output bytes never depend on build order.
pub fn canonical(value: &Value) -> Value {
    let mut v = value.clone();
    canonicalize(&mut v);
    v
}

/// In-place form of [`canonical`].
pub fn canonicalize(value: &mut Value) {
    crate::json::sort_keys(value);
    if let Value::Object(m) = value {
        const TOP: [&str; 4] = ["apiVersion", "kind", "metadata", "spec"];
        // Keys are sorted now: the four come first exactly when the present ones lead in order.
        let present: Vec<&str> = TOP.iter().copied().filter(|k| m.contains_key(*k)).collect();
        if m.keys().zip(&present).all(|(a, b)| a == b) {
            return;
        }
        let mut out = serde_json::Map::new();
        for k in TOP {
            if let Some(v) = m.shift_remove(k) {
                out.insert(k.to_string(), v);
            }
        }
        out.append(m);
        *m = out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonicalize_sorts_nested_keys_and_leads_with_the_four() {
        let mut v = json!({"spec": {"b": 1, "a": [{"y": 1, "x": 2}]}, "data": 1,
                           "metadata": {"name": "n"}, "kind": "K", "apiVersion": "v1"});
        canonicalize(&mut v);
        assert_eq!(
            v.to_string(),
            r#"{"apiVersion":"v1","kind":"K","metadata":{"name":"n"},"spec":{"a":[{"x":2,"y":1}],"b":1},"data":1}"#
        );
    }

    #[test]
    fn ids_are_read_from_the_value() {
        let r = Rendered {
            cluster: "c1".into(),
            value: json!({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "n", "namespace": "ns"}}),
            sources: Vec::new(),
        };
        assert_eq!(r.id_str(), ["v1", "ConfigMap", "ns", "n"]);
        let bare = Rendered {
            value: json!({"kind": 1}),
            ..r
        };
        assert_eq!(bare.id_str(), ["", "", "", ""]);
    }
}
