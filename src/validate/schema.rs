//! docs/validation.md, "Layer 1": what the Kubernetes API server checks with the CRD's
//! structural schema. Types, enums, required, bounds: the `jsonschema` crate. Unknown fields
//! (strict field validation), `x-kubernetes-list-type` uniqueness, the `oneOf` "at most one of"
//! groups and the CRD CEL rules (docs/validation.md, "CEL rules"): our own walk, with the CEL rules
//! written in Rust and looked up by their exact text (a rule without an implementation is reported,
//! and a unit test keeps the table complete).

use super::grammar;
use super::{Path, Problem};
use crate::diag::codes::Istio;
use crate::json::Field;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// The extracted schemas (scripts/extract-istio-schemas.py; Istio 1.30.3).
const EMBEDDED: &str = include_str!("../../schemas/istio/networking.json");

struct KindSchema {
    node: Node,
    validator: jsonschema::Validator,
}

type Schemas = BTreeMap<String, KindSchema>;

/// Why the embedded schemas do not load (a build defect, reported on every object).
#[derive(Debug, thiserror::Error)]
enum SchemaError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("embedded schema file has no `kinds`")]
    NoKinds,
    #[error("{kind}: {message}")]
    Kind { kind: String, message: String },
}

fn schemas() -> &'static Result<Schemas, SchemaError> {
    static S: OnceLock<Result<Schemas, SchemaError>> = OnceLock::new();
    S.get_or_init(|| {
        let doc: Value = serde_json::from_str(EMBEDDED)?;
        let kinds = doc.at("kinds").as_object().ok_or(SchemaError::NoKinds)?;
        let mut out = BTreeMap::new();
        for (kind, entry) in kinds {
            let raw = entry.at("openAPIV3Schema").clone();
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft4)
                .should_validate_formats(false)
                .build(&for_jsonschema(&raw))
                .map_err(|e| SchemaError::Kind {
                    kind: kind.clone(),
                    message: e.to_string(),
                })?;
            let node = Node::compile(&raw);
            out.insert(kind.clone(), KindSchema { node, validator });
        }
        Ok(out)
    })
}

/// The Istio version and source commit of the embedded schemas.
pub fn source() -> &'static (String, String) {
    static S: OnceLock<(String, String)> = OnceLock::new();
    S.get_or_init(|| {
        let doc: Value = serde_json::from_str(EMBEDDED).unwrap_or_default();
        (
            doc.at("source")
                .at("istioVersion")
                .as_str()
                .unwrap_or("")
                .into(),
            doc.at("source").at("commit").as_str().unwrap_or("").into(),
        )
    })
}

/// The kinds with an embedded schema.
pub fn kinds() -> Vec<String> {
    match schemas() {
        Ok(s) => s.keys().cloned().collect(),
        Err(_) => Vec::new(),
    }
}

/// Rewrites OpenAPI v3 specifics for a JSON Schema validator: `nullable` becomes a `null` type,
/// and the `oneOf` groups (checked by `walk` with a clearer message) are dropped.
fn for_jsonschema(s: &Value) -> Value {
    match s {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                match k.as_str() {
                    "oneOf" | "allOf" if one_of_groups(s).is_some() => {}
                    "description" => {}
                    "properties" | "additionalProperties" | "items" => {
                        let v = match v {
                            Value::Object(props) if k == "properties" => Value::Object(
                                props
                                    .iter()
                                    .map(|(pk, pv)| (pk.clone(), for_jsonschema(pv)))
                                    .collect(),
                            ),
                            other => for_jsonschema(other),
                        };
                        out.insert(k.clone(), v);
                    }
                    _ => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            if m.get("nullable").and_then(Value::as_bool) == Some(true) {
                if let Some(Value::String(t)) = m.get("type") {
                    out.insert("type".into(), serde_json::json!([t, "null"]));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// The protobuf `oneof` groups of a schema node (`oneOf: [{not: {anyOf: [{required: [a]}, ..]}},
/// {required: [a]}, ..]`, alone or under `allOf`), as lists of field names.
fn one_of_groups(s: &Value) -> Option<Vec<Vec<String>>> {
    fn group(one_of: &Value) -> Option<Vec<String>> {
        let arr = one_of.as_array()?;
        let mut names = Vec::new();
        for (i, alt) in arr.iter().enumerate() {
            if i == 0 {
                alt.get("not")?.get("anyOf")?;
                continue;
            }
            let req = alt.get("required")?.as_array()?;
            if req.len() != 1 || alt.as_object()?.len() != 1 {
                return None;
            }
            names.push(req[0].as_str()?.to_string());
        }
        Some(names)
    }
    let mut groups = Vec::new();
    if let Some(o) = s.get("oneOf") {
        groups.push(group(o)?);
    }
    if let Some(all) = s.get("allOf") {
        for a in all.as_array()? {
            if a.as_object()?.len() != 1 {
                return None;
            }
            groups.push(group(a.get("oneOf")?)?);
        }
    }
    if groups.is_empty() {
        None
    } else {
        Some(groups)
    }
}

/// Checks one object against its kind's schema; `false` when the kind has none.
pub fn check(kind: &str, obj: &Value, out: &mut Vec<Problem>) -> bool {
    let schemas = match schemas() {
        Ok(s) => s,
        Err(e) => {
            out.push(Problem::error(
                Istio::Schema,
                Path::root(),
                format!("internal error: the embedded Istio schemas do not load: {e}"),
            ));
            return true;
        }
    };
    let Some(ks) = schemas.get(kind) else {
        return false;
    };
    if !ks.validator.is_valid(obj) {
        for e in ks.validator.iter_errors(obj) {
            let path = Path::from_pointer(e.instance_path().as_str());
            out.push(Problem::error(Istio::Schema, path, e.to_string()));
        }
    }
    let mut path = Path::root();
    walk(&ks.node, obj, &mut path, out, true);
    true
}

fn is_set(v: Option<&Value>) -> bool {
    v.is_some_and(|v| !v.is_null())
}

/// A schema node compiled for the structural walk (done once per kind).
#[derive(Default)]
struct Node {
    rules: Vec<(Option<Rule>, String, String)>,
    one_of: Vec<Vec<String>>,
    int32: bool,
    props: Option<BTreeMap<String, Node>>,
    additional: Additional,
    items: Option<Box<Node>>,
    list_map_keys: Option<Vec<String>>,
    list_set: bool,
}

#[derive(Default)]
enum Additional {
    #[default]
    Rejected,
    Allowed,
    Schema(Box<Node>),
}

impl Node {
    fn compile(s: &Value) -> Node {
        let rules = s
            .get("x-kubernetes-validations")
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .map(|r| {
                        let rule = r.at("rule").as_str().unwrap_or("").to_string();
                        let message = r.at("message").as_str().unwrap_or(&rule).to_string();
                        (cel_rule(&rule), rule, message)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let preserve = s
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            == Some(true);
        let additional = match s.get("additionalProperties") {
            Some(a @ Value::Object(_)) => Additional::Schema(Box::new(Node::compile(a))),
            Some(Value::Bool(true)) => Additional::Allowed,
            _ if preserve => Additional::Allowed,
            _ => Additional::Rejected,
        };
        let list_type = s.get("x-kubernetes-list-type").and_then(Value::as_str);
        Node {
            rules,
            one_of: one_of_groups(s).unwrap_or_default(),
            int32: s.get("format").and_then(Value::as_str) == Some("int32"),
            props: s.get("properties").and_then(Value::as_object).map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), Node::compile(v)))
                    .collect()
            }),
            additional,
            items: s.get("items").map(|i| Box::new(Node::compile(i))),
            list_map_keys: (list_type == Some("map")).then(|| {
                s.get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default()
            }),
            list_set: list_type == Some("set"),
        }
    }
}

fn walk(node: &Node, v: &Value, path: &mut Path, out: &mut Vec<Problem>, top: bool) {
    if v.is_null() {
        return;
    }
    for (f, rule, message) in &node.rules {
        match f {
            Some(f) => {
                if !f(v) {
                    out.push(Problem::error(
                        Istio::Schema,
                        path.clone(),
                        format!("{message} (CRD validation rule `{rule}`)"),
                    ));
                }
            }
            None => out.push(Problem::error(
                Istio::Schema,
                path.clone(),
                format!("internal error: CRD rule `{rule}` has no implementation"),
            )),
        }
    }
    if let Some(m) = v.as_object() {
        for g in &node.one_of {
            let set: Vec<&str> = g
                .iter()
                .filter(|n| is_set(m.field(n.as_str())))
                .map(String::as_str)
                .collect();
            if set.len() > 1 {
                out.push(Problem::error(
                    Istio::Schema,
                    path.clone(),
                    format!(
                        "only one of {} may be set, found {}",
                        g.join(", "),
                        set.join(" and ")
                    ),
                ));
            }
        }
    }
    if node.int32 {
        if let Some(n) = v.as_i64() {
            if i32::try_from(n).is_err() {
                out.push(Problem::error(
                    Istio::Schema,
                    path.clone(),
                    format!("{n} does not fit in a 32-bit integer"),
                ));
            }
        }
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if top && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let len = path.len();
                path.push_key(k);
                if let Some(ps) = node.props.as_ref().and_then(|p| p.get(k)) {
                    walk(ps, child, path, out, false);
                } else {
                    match &node.additional {
                        Additional::Schema(a) => walk(a, child, path, out, false),
                        Additional::Allowed => {}
                        Additional::Rejected => out.push(Problem::error(
                            Istio::Schema,
                            path.clone(),
                            format!("unknown field `{k}` (rejected by strict field validation)"),
                        )),
                    }
                }
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            if let Some(is) = &node.items {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_index(i);
                    walk(is, item, path, out, false);
                    path.truncate(len);
                }
            }
            list_type(node, items, path, out);
        }
        _ => {}
    }
}

/// `x-kubernetes-list-type: map` (unique map keys) and `set` (unique items).
fn list_type(node: &Node, items: &[Value], path: &Path, out: &mut Vec<Problem>) {
    if let Some(keys) = &node.list_map_keys {
        let mut seen: BTreeMap<Vec<String>, usize> = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            let key: Vec<String> = keys.iter().map(|k| item.at(k).to_string()).collect();
            if let Some(&first) = seen.get(&key) {
                let shown = keys
                    .iter()
                    .zip(&key)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                out.push(Problem::error(
                    Istio::Schema,
                    path.index(i),
                    format!(
                        "Duplicate value: {{{shown}}} (also at index {first}; the list is keyed by {})",
                        keys.join(", ")
                    ),
                ));
            }
            seen.insert(key, i);
        }
    }
    if node.list_set {
        // A string's JSON form never equals another type's, so strings are compared as they are.
        let mut strs: BTreeSet<&str> = BTreeSet::new();
        let mut others: BTreeSet<String> = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let new = match item {
                Value::String(s) => strs.insert(s),
                other => others.insert(other.to_string()),
            };
            if !new {
                out.push(Problem::error(
                    Istio::Schema,
                    path.index(i),
                    format!("Duplicate value: {item}"),
                ));
            }
        }
    }
}

type Rule = fn(&Value) -> bool;

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn has(v: &Value, f: &str) -> bool {
    is_set(v.field(f))
}

fn port_ok(v: &Value) -> bool {
    v.as_i64().is_some_and(|n| 0 < n && n <= 65535)
}

fn uds_ok_prefix(v: &Value) -> bool {
    let s = str_of(v);
    match s.strip_prefix("unix://") {
        Some(rest) => rest.starts_with('/') || rest.starts_with('@'),
        None => true,
    }
}

/// The CRD CEL rules of the kinds we render, by exact rule text (docs/validation.md, "CEL rules").
fn cel_rule(rule: &str) -> Option<Rule> {
    let f: Rule = match rule {
        "duration(self) >= duration('1ms')" => {
            |v| grammar::go_duration_nanos(str_of(v)).is_some_and(|n| n >= 1_000_000)
        }
        "self.all(key, !key.contains(\"*\"))" => {
            |v| v.as_object().is_some_and(|m| m.keys().all(|k| !k.contains('*')))
        }
        "self.all(key, key.size() != 0)" => {
            |v| v.as_object().is_some_and(|m| m.keys().all(|k| !k.is_empty()))
        }
        "!self.contains(\"*\")" => |v| !str_of(v).contains('*'),
        "(has(self.tlsCertificates) ? 1 : 0) + (has(self.credentialNames) ? 1 : 0) <= 1"
        | "(has(self.credentialNames) ? 1 : 0) + (has(self.tlsCertificates) ? 1 : 0) <= 1" => {
            |v| !(has(v, "tlsCertificates") && has(v, "credentialNames"))
        }
        "(has(self.credentialName) ? 1 : 0) + (has(self.credentialNames) ? 1 : 0) <= 1" => {
            |v| !(has(v, "credentialName") && has(v, "credentialNames"))
        }
        "(has(self.workloadSelector) ? 1 : 0) + (has(self.endpoints) ? 1 : 0) <= 1" => {
            |v| !(has(v, "workloadSelector") && has(v, "endpoints"))
        }
        "!((has(self.addresses) ? self.addresses : []).exists(k, k.contains(\"/\")) && !((has(self.resolution) ? self.resolution : \"NONE\") in [\"STATIC\", \"NONE\"]))" => {
            |v| {
                let cidr = v.at("addresses")
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| str_of(x).contains('/')));
                let res = v.at("resolution").as_str().unwrap_or("NONE");
                !cidr || matches!(res, "STATIC" | "NONE")
            }
        }
        "((has(self.resolution) ? self.resolution : \"NONE\") == \"NONE\") ? !has(self.endpoints) : true" => {
            |v| v.at("resolution").as_str().unwrap_or("NONE") != "NONE" || !has(v, "endpoints")
        }
        "((has(self.resolution) ? self.resolution : \"\") == \"DNS_ROUND_ROBIN\") ? ((has(self.endpoints) ? self.endpoints : []).size() <= 1) : true" => {
            |v| {
                v.at("resolution").as_str() != Some("DNS_ROUND_ROBIN")
                    || v.at("endpoints").as_array().map_or(0, Vec::len) <= 1
            }
        }
        "has(self.address) || has(self.network)" => |v| has(v, "address") || has(v, "network"),
        "(has(self.address) ? self.address : \"\").startsWith(\"unix://\") ? !has(self.ports) : true" => {
            |v| !str_of(v.at("address")).starts_with("unix://") || !has(v, "ports")
        }
        "self.startsWith(\"unix://\") ? (self.substring(7, 8) == \"/\" || self.substring(7, 8) == \"@\") : true" => {
            uds_ok_prefix
        }
        "self.startsWith(\"unix://\") ? !self.endsWith(\"/\") : true" => {
            |v| !str_of(v).starts_with("unix://") || !str_of(v).ends_with('/')
        }
        "self.all(key, size(key) < 63 && key.matches(\"^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$\"))" => {
            |v| {
                v.as_object()
                    .is_some_and(|m| m.keys().all(|k| k.len() < 63 && grammar::is_label(k)))
            }
        }
        "0 < self && self <= 65535" => port_ok,
        "self != \"*\"" => |v| str_of(v) != "*",
        "self.all(l1, self.exists_one(l2, l1.number == l2.number))" => |v| {
            let Some(a) = v.as_array() else { return true };
            let mut seen = BTreeSet::new();
            a.iter().all(|p| seen.insert(p.at("number").to_string()))
        },
        _ => return None,
    };
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all_rules(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(rs) = m.get("x-kubernetes-validations").and_then(Value::as_array) {
                    out.extend(
                        rs.iter()
                            .filter_map(|r| r["rule"].as_str().map(String::from)),
                    );
                }
                m.values().for_each(|c| all_rules(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| all_rules(c, out)),
            _ => {}
        }
    }

    #[test]
    fn embedded_schemas_load_and_every_cel_rule_is_implemented() {
        assert!(schemas().is_ok(), "{:?}", schemas().as_ref().err());
        assert_eq!(
            kinds(),
            [
                "DestinationRule",
                "Gateway",
                "ServiceEntry",
                "VirtualService",
                "WorkloadEntry"
            ]
        );
        assert_eq!(source().0, "1.30.3");
        let doc: Value = serde_json::from_str(EMBEDDED).unwrap();
        let mut rules = Vec::new();
        all_rules(&doc, &mut rules);
        assert!(rules.len() > 50);
        for r in rules {
            assert!(cel_rule(&r).is_some(), "no implementation for {r}");
        }
    }

    fn problems(kind: &str, v: Value) -> Vec<Problem> {
        let mut out = Vec::new();
        assert!(check(kind, &v, &mut out));
        out
    }

    fn se(spec: Value) -> Value {
        json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
               "metadata": {"name": "a", "namespace": "ns"}, "spec": spec})
    }

    #[test]
    fn valid_service_entry_passes() {
        let p = problems(
            "ServiceEntry",
            se(json!({"hosts": ["httpbin.org"], "resolution": "DNS",
                      "ports": [{"name": "http", "number": 80, "protocol": "HTTP", "targetPort": 80}]})),
        );
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn types_enums_and_unknown_fields_are_rejected() {
        let p = problems(
            "ServiceEntry",
            se(
                json!({"hosts": ["a.com"], "resolution": "MAYBE", "bogus": 1,
                      "ports": [{"name": "http", "number": "80"}]}),
            ),
        );
        let text: Vec<String> = p
            .iter()
            .map(|p| format!("{} {}", p.path, p.message))
            .collect();
        assert!(
            text.iter()
                .any(|t| t.starts_with("spec.bogus unknown field")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.starts_with("spec.resolution ")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.starts_with("spec.ports[0].number ")),
            "{text:?}"
        );
    }

    #[test]
    fn list_map_keys_are_unique() {
        let p = problems(
            "ServiceEntry",
            se(json!({"hosts": ["a.com"], "resolution": "DNS",
                      "ports": [{"name": "http", "number": 80}, {"name": "http", "number": 81}]})),
        );
        assert!(
            p.iter().any(|p| p.path.to_string() == "spec.ports[1]"
                && p.message.starts_with("Duplicate value")),
            "{p:?}"
        );
    }

    #[test]
    fn cel_rules_apply() {
        let p = problems(
            "ServiceEntry",
            se(
                json!({"hosts": ["*"], "addresses": ["10.0.0.0/8"], "resolution": "DNS",
                      "ports": [{"name": "a", "number": 80}, {"name": "b", "number": 80}]}),
            ),
        );
        let msgs: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("hostname cannot be wildcard")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("CIDR addresses are allowed only")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("port number cannot be duplicated")),
            "{msgs:?}"
        );
        let p = problems(
            "VirtualService",
            json!({"spec": {"hosts": ["a"], "http": [{"timeout": "0.5ms", "route": [{"destination": {"host": "a"}}]}]}}),
        );
        assert!(
            p.iter()
                .any(|p| p.path.to_string() == "spec.http[0].timeout"),
            "{p:?}"
        );
    }

    #[test]
    fn one_of_groups_are_at_most_one() {
        let p = problems(
            "VirtualService",
            json!({"spec": {"hosts": ["a"], "http": [{"redirect": {"port": 80, "derivePort": "FROM_REQUEST_PORT"}}]}}),
        );
        assert!(
            p.iter()
                .any(|p| p.message.contains("only one of port, derivePort")),
            "{p:?}"
        );
        let ok = problems(
            "VirtualService",
            json!({"spec": {"hosts": ["a"], "http": [{"redirect": {"port": 80}}]}}),
        );
        assert!(ok.is_empty(), "{ok:?}");
    }

    #[test]
    fn unknown_kind_is_not_checked() {
        let mut out = Vec::new();
        assert!(!check("Sidecar", &json!({}), &mut out));
    }
}
