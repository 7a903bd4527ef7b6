//! Names and metadata of generated objects (docs/translation.md, "Names that Gloo hashes").

use md5::{Digest, Md5};
use serde_json::{Map, Value};

/// Solo's `SanitizeNameV2` (solo-io/k8s-utils `kubeutils/util.go`, S3 in docs/translation.md):
/// replace `* / . : _` and space with `-`, delete `[ ] " '` and newlines, and when longer than
/// 63 characters keep 31, a `-`, and 31 hex digits of the MD5 of the whole sanitized string;
/// finally lower-case.
pub fn sanitize_name_v2(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '*' | '/' | '.' | ':' | '_' | ' ' => s.push('-'),
            '[' | ']' | '"' | '\'' | '\n' | '\r' => {}
            c => s.push(c),
        }
    }
    if s.len() > 63 {
        let digest = Md5::digest(s.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let head: String = s.chars().take(31).collect();
        s = format!("{head}-{}", &hex[..31]);
    }
    s.to_lowercase()
}

/// A label value is at most 63 characters [docs/validation.md item 4]; longer source
/// names are shortened the way object names are.
pub fn label_value(v: &str) -> String {
    if v.len() <= 63 {
        v.to_string()
    } else {
        sanitize_name_v2(v)
    }
}

/// The Gloo source of a generated object, for `gloo.solo.io/parent_*` labels.
#[derive(Debug, Clone)]
pub struct Parent<'a> {
    /// API group (`networking.gloo.solo.io`, or `""` for core Services).
    pub group: &'a str,
    /// API version (`v2`, `v1` for Services).
    pub version: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// Name.
    pub name: &'a str,
    /// Namespace.
    pub namespace: &'a str,
    /// Cluster of the source object.
    pub cluster: &'a str,
}

/// Where a generated object is written.
#[derive(Debug, Clone)]
pub struct Place<'a> {
    /// Cluster written to.
    pub cluster: &'a str,
    /// Namespace written to.
    pub namespace: &'a str,
    /// Workspace owning that namespace.
    pub workspace: &'a str,
}

/// The metadata meshform writes: the labels Gloo was observed to write (parent_*,
/// context.mesh.gloo.solo.io/*, reconciler; docs/translation.md#what-comes-from-what) and the
/// `cluster.solo.io/cluster` annotation. Deployment-specific labels (agent, relay, owner) are left
/// out.
pub fn metadata(
    name: &str,
    place: &Place<'_>,
    parent: &Parent<'_>,
    extra_annotations: &[(String, String)],
) -> Value {
    let st = |v: &str| Value::String(v.to_string());
    let labels: Map<String, Value> = [
        ("context.mesh.gloo.solo.io/cluster", st(place.cluster)),
        ("context.mesh.gloo.solo.io/namespace", st(place.namespace)),
        (
            "context.mesh.gloo.solo.io/workspace",
            Value::String(label_value(place.workspace)),
        ),
        ("gloo.solo.io/parent_cluster", st(parent.cluster)),
        ("gloo.solo.io/parent_group", st(parent.group)),
        ("gloo.solo.io/parent_kind", st(parent.kind)),
        (
            "gloo.solo.io/parent_name",
            Value::String(label_value(parent.name)),
        ),
        ("gloo.solo.io/parent_namespace", st(parent.namespace)),
        ("gloo.solo.io/parent_version", st(parent.version)),
        ("reconciler.mesh.gloo.solo.io/name", st("translator")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut annotations = Map::new();
    for (k, v) in extra_annotations {
        annotations.insert(k.clone(), st(v));
    }
    annotations.insert("cluster.solo.io/cluster".into(), st(place.cluster));
    // Keys in sorted order, as emitted.
    let mut m = Map::new();
    m.insert("annotations".into(), Value::Object(annotations));
    m.insert("labels".into(), Value::Object(labels));
    m.insert("name".into(), Value::String(name.into()));
    m.insert("namespace".into(), Value::String(place.namespace.into()));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_only_substituted() {
        assert_eq!(
            sanitize_name_v2("externalservice-httpbin-httpbin-cluster1-httpbin"),
            "externalservice-httpbin-httpbin-cluster1-httpbin"
        );
        assert_eq!(
            sanitize_name_v2("externalservice-httpbin-httpbin-cluster1-httpbin.org-httpbin"),
            "externalservice-httpbin-httpbin-cluster1-httpbin-org-httpbin"
        );
        assert_eq!(
            sanitize_name_v2("vd-productpage.global-bookinfo"),
            "vd-productpage-global-bookinfo"
        );
        assert_eq!(sanitize_name_v2("A*[b]_c"), "a-b-c");
    }

    #[test]
    fn long_names_are_hashed_to_63() {
        let n = sanitize_name_v2(
            "virtualgateway-north-south-gw-istio-gateways-cluster1-istio-gateways-gateways",
        );
        assert_eq!(n.len(), 63);
        assert!(n.starts_with("virtualgateway-north-south-gw-i-"), "{n}");
        // Stable: the same input always gives the same name.
        assert_eq!(
            n,
            sanitize_name_v2(
                "virtualgateway-north-south-gw-istio-gateways-cluster1-istio-gateways-gateways"
            )
        );
        let h = &n[32..];
        assert!(h.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
