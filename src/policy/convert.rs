//! YAML/JSON values to CEL values the way Kubernetes converts them: integers are `int`
//! (cel's own serde path makes positive integers `uint`; docs/policies.md).

use crate::node::Node;
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt, Kind,
};
use cel::common::value::Val;
use cel::objects::{Key, Map};
use cel::Value;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Arc;

/// Converts an input value to a CEL value; integers become `int`, other numbers `double`.
pub fn to_cel(v: &Node) -> Value {
    match v {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::UInt(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Node::String(s) => Value::String(Arc::new(s.to_string())),
        Node::Array(a) => Value::List(Arc::new(a.iter().map(to_cel).collect())),
        Node::Object(m) => {
            let map: HashMap<Key, Value> = m
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.to_string())), to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// Converts an input value straight to a CEL value as [`to_cel`] does, borrowing its strings:
/// one conversion instead of two (JSON to `Value` to `Val`), and no string copies.
pub fn to_val(v: &Node) -> Box<dyn Val + '_> {
    match v {
        Node::Null => Box::new(CelNull),
        Node::Bool(b) => Box::new(CelBool::from(*b)),
        Node::Number(n) => {
            if let Some(i) = n.as_i64() {
                Box::new(CelInt::from(i))
            } else if let Some(u) = n.as_u64() {
                Box::new(CelUInt::from(u))
            } else {
                Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN)))
            }
        }
        Node::String(s) => Box::new(CelString::from(&**s)),
        Node::Array(a) => Box::new(CelList::from(a.iter().map(to_val).collect::<Vec<_>>())),
        Node::Object(m) => Box::new(CelMap::from(
            m.iter()
                .map(|(k, v)| (CelMapKey::from(k), to_val(v)))
                .collect::<HashMap<_, _>>(),
        )),
    }
}

/// True when a CEL value converts to a `Value` and back unchanged: scalars, strings, bytes and
/// lists and maps of them (not types, optionals, opaque values or structs).
pub fn plain(v: &dyn Val) -> bool {
    match v.get_type().kind() {
        Kind::Boolean
        | Kind::Int
        | Kind::UInt
        | Kind::Double
        | Kind::String
        | Kind::NullType
        | Kind::Bytes => true,
        Kind::List => v
            .downcast_ref::<CelList>()
            .is_some_and(|l| l.iter().all(|x| plain(x.as_ref()))),
        Kind::Map => v
            .downcast_ref::<CelMap>()
            .is_some_and(|m| m.values().all(|x| plain(x.as_ref()))),
        _ => false,
    }
}

/// `v.f` when `v` is a map holding `f`, borrowed (what both `v.f` and `v.?f` find).
pub fn map_field<'a, 'v>(v: &'a (dyn Val + 'v), f: &str) -> Option<&'a (dyn Val + 'v)> {
    use cel::common::traits::Indexer;
    match Indexer::get(v.downcast_ref::<CelMap>()?, &CelString::from(f)) {
        Ok(cel::common::value::CowVal::Borrowed(x)) => Some(x),
        _ => None,
    }
}

/// Converts a CEL value back to JSON (maps with non-string keys get stringified keys).
pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::UInt(u) => Json::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::String(s) => Json::String(s.to_string()),
        Value::List(l) => Json::Array(l.iter().map(to_json).collect()),
        Value::Map(m) => {
            let mut entries: Vec<(String, Json)> = m
                .map
                .iter()
                .map(|(k, v)| (key_string(k), to_json(v)))
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(entries.into_iter().collect())
        }
        other => Json::String(format!("{other:?}")),
    }
}

/// A map key as text.
pub fn key_string(k: &Key) -> String {
    match k {
        Key::String(s) => s.to_string(),
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
    }
}

/// Looks a string key up in a CEL map value.
pub fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Map(m) => m.map.get(&Key::String(Arc::new(key.to_string()))),
        _ => None,
    }
}

/// The string inside a CEL value.
pub fn as_str(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s.as_str()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_int_not_uint() {
        let v = to_cel(&Node::from(
            &serde_json::json!({"a": 443, "b": -1, "c": 1.5, "d": [true]}),
        ));
        assert_eq!(get(&v, "a"), Some(&Value::Int(443)));
        assert_eq!(get(&v, "b"), Some(&Value::Int(-1)));
        assert_eq!(get(&v, "c"), Some(&Value::Float(1.5)));
        assert_eq!(
            to_json(&v),
            serde_json::json!({"a": 443, "b": -1, "c": 1.5, "d": [true]})
        );
    }

    #[test]
    fn direct_conversion_matches_the_value_path() {
        let j = serde_json::json!({"a": 443, "b": -1, "c": 1.5, "d": [true, null, "x"],
            "e": {"f": 18446744073709551615u64}});
        let j = Node::from(&j);
        let direct = to_val(&j);
        assert!(plain(direct.as_ref()));
        let via: Box<dyn Val> = Box::<dyn Val>::try_from(to_cel(&j)).unwrap();
        assert!(direct.equals(via.as_ref()));
        assert_eq!(Value::try_from(direct.as_ref()).unwrap(), to_cel(&j));
    }
}
