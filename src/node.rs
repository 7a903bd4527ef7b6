//! The compact, read-only tree that input objects are held in.
//!
//! `serde_json::Value` with `preserve_order` spends about 145 bytes on each map entry (an
//! `IndexMap` bucket of 112 bytes, its hash slot, the key's own allocation) and a hash table on
//! every map, most of which hold one to four keys. A 10,000-object repo's inputs took 116 MiB
//! that way (heaptrack, docs/performance.md). A [`Node`] map is one exact-size slice of
//! (shared key, node) pairs, 48 bytes an entry, with keys shared within a file; maps wider than
//! [`SCAN`] keys also get a hash index, so a lookup stays constant time on any input.
//!
//! Numbers are `serde_json::Number`, so typing through [`Node`]'s deserializer sees exactly what
//! it saw through `serde_json::Value` (a non-negative integer is `u64`), and the messages of
//! type errors stay the same.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{forward_to_deserialize_any, Serialize, Serializer};
use serde_json::{Number, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A map key, shared by every map of a file that uses it.
pub type Key = Arc<str>;

/// A table of shared keys: each distinct key once.
pub type Keys = std::collections::HashSet<Key, foldhash::fast::FixedState>;

/// The table's shared copy of `key`, added on first sight.
pub fn intern(keys: &mut Keys, key: &str) -> Key {
    match keys.get(key) {
        Some(k) => k.clone(),
        None => {
            let k = Key::from(key);
            keys.insert(k.clone());
            k
        }
    }
}

/// Up to this many entries a map is scanned; wider maps are looked up through a hash index.
pub const SCAN: usize = 16;

static NULL: Node = Node::Null;

/// One YAML/JSON value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Node {
    /// `null`, `~` or an empty scalar.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer or a float, as serde_json keeps it.
    Number(Number),
    /// Text.
    String(Box<str>),
    /// A sequence.
    Array(Box<[Node]>),
    /// A mapping, in the order written.
    Object(NodeMap),
}

/// A mapping: its entries in the order written, and a hash index when it is wide.
#[derive(Debug, Clone, Default)]
pub struct NodeMap {
    entries: Box<[(Key, Node)]>,
    // Boxed on purpose: 8 bytes in every map instead of a 32-byte table that most never use.
    #[allow(clippy::box_collection)]
    index: Option<Box<HashMap<Key, u32, foldhash::fast::FixedState>>>,
}

impl PartialEq for NodeMap {
    /// Same keys with equal values, in any order (as `serde_json::Map` compares).
    fn eq(&self, other: &NodeMap) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl NodeMap {
    /// A map of these entries, in this order; keys must be distinct.
    pub fn new(entries: Vec<(Key, Node)>) -> NodeMap {
        let index = (entries.len() > SCAN).then(|| {
            Box::new(
                entries
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i as u32))
                    .collect(),
            )
        });
        NodeMap {
            entries: entries.into_boxed_slice(),
            index,
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value under `key`.
    #[inline]
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_key_value(key).map(|(_, v)| v)
    }

    /// The map's own key and its value under `key`.
    #[inline]
    pub fn get_key_value(&self, key: &str) -> Option<(&str, &Node)> {
        let (k, v) = match &self.index {
            Some(ix) => ix.get(key).map(|&i| &self.entries[i as usize]),
            None => self
                .entries
                .iter()
                .find(|(k, _)| k.len() == key.len() && &**k == key),
        }?;
        Some((k, v))
    }

    /// True when the map has `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The entries in the order written.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Node)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// The entries with their shared keys.
    pub fn entries(&self) -> &[(Key, Node)] {
        &self.entries
    }

    /// The keys in the order written.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| &**k)
    }

    /// The values in the order written.
    pub fn values(&self) -> impl Iterator<Item = &Node> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The entries, for a caller that rebuilds the map.
    pub fn into_entries(self) -> Vec<(Key, Node)> {
        self.entries.into_vec()
    }
}

impl Node {
    /// The value under `key` when this is a map that has it.
    #[inline]
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Object(m) => m.get(key),
            _ => None,
        }
    }

    /// The value under `key`, or `null`, as indexing gives.
    #[inline]
    pub fn at(&self, key: &str) -> &Node {
        self.get(key).unwrap_or(&NULL)
    }

    /// The text, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, when this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Node::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as `u64`, when it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Node::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The number as `i64`, when it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Node::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The number as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Node::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The items, when this is a sequence.
    pub fn as_array(&self) -> Option<&[Node]> {
        match self {
            Node::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The map, when this is one.
    pub fn as_object(&self) -> Option<&NodeMap> {
        match self {
            Node::Object(m) => Some(m),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// True for a sequence.
    pub fn is_array(&self) -> bool {
        matches!(self, Node::Array(_))
    }

    /// True for a map.
    pub fn is_object(&self) -> bool {
        matches!(self, Node::Object(_))
    }

    /// The number of nodes in this tree, itself included.
    pub fn count(&self) -> usize {
        match self {
            Node::Array(a) => 1 + a.iter().map(Node::count).sum::<usize>(),
            Node::Object(m) => 1 + m.values().map(Node::count).sum::<usize>(),
            _ => 1,
        }
    }

    /// The same value as `serde_json::Value`, key order kept.
    pub fn to_json(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.to_string()),
            Node::Array(a) => Value::Array(a.iter().map(Node::to_json).collect()),
            Node::Object(m) => {
                let mut out = serde_json::Map::with_capacity(m.len());
                out.extend(m.iter().map(|(k, v)| (k.to_string(), v.to_json())));
                Value::Object(out)
            }
        }
    }
}

impl From<&Value> for Node {
    /// The same value as a `Node` (keys are not shared between maps).
    fn from(v: &Value) -> Node {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(s) => Node::String(s.as_str().into()),
            Value::Array(a) => Node::Array(a.iter().map(Node::from).collect()),
            Value::Object(m) => Node::Object(NodeMap::new(
                m.iter()
                    .map(|(k, v)| (Key::from(k.as_str()), Node::from(v)))
                    .collect(),
            )),
        }
    }
}

impl Node {
    /// Takes a value over without copying its strings; map keys are shared through a
    /// per-thread table, so the keys of many objects (`apiVersion`, `metadata`, ...) are held
    /// once. For rendered objects that are held until a run ends (`diff`, `-o json`,
    /// `--out-dir`, the KRM function). The table lives as long as its thread and holds each
    /// distinct key of the run's output once.
    pub fn from_value(v: Value) -> Node {
        thread_local! {
            static KEYS: std::cell::RefCell<Keys> = Default::default();
        }
        fn convert(v: Value, keys: &mut Keys) -> Node {
            match v {
                Value::Null => Node::Null,
                Value::Bool(b) => Node::Bool(b),
                Value::Number(n) => Node::Number(n),
                Value::String(s) => Node::String(s.into_boxed_str()),
                Value::Array(a) => Node::Array(a.into_iter().map(|x| convert(x, keys)).collect()),
                Value::Object(m) => {
                    let mut entries = Vec::with_capacity(m.len());
                    for (k, x) in m {
                        entries.push((intern(keys, &k), convert(x, keys)));
                    }
                    Node::Object(NodeMap::new(entries))
                }
            }
        }
        KEYS.with(|keys| convert(v, &mut keys.borrow_mut()))
    }
}

impl std::ops::Index<&str> for Node {
    type Output = Node;
    /// The value under the key, or `null`.
    fn index(&self, key: &str) -> &Node {
        self.at(key)
    }
}

impl std::ops::Index<usize> for Node {
    type Output = Node;
    /// The item at the index, or `null`.
    fn index(&self, i: usize) -> &Node {
        match self {
            Node::Array(a) => a.get(i).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
}

impl PartialEq<&str> for Node {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

macro_rules! eq_number {
    ($($t:ty => $as:ident),*) => {$(
        impl PartialEq<$t> for Node {
            fn eq(&self, other: &$t) -> bool {
                self.$as() == Some(*other as _)
            }
        }
    )*};
}
eq_number!(i32 => as_i64, i64 => as_i64, u32 => as_u64, u64 => as_u64, f64 => as_f64);

impl PartialEq<bool> for Node {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

impl PartialEq<Value> for Node {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Node::Null, Value::Null) => true,
            (Node::Bool(a), Value::Bool(b)) => a == b,
            (Node::Number(a), Value::Number(b)) => a == b,
            (Node::String(a), Value::String(b)) => **a == **b,
            (Node::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
            }
            (Node::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v == w))
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Node {
    /// The value as compact JSON.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| std::fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::String(t) => s.serialize_str(t),
            Node::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a.iter() {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Node::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m.iter() {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

// Deserializing from a borrowed node, as serde_json's `impl Deserializer for &Value` does: the
// same visits for the same input, so derived types accept and reject exactly what they did.
impl<'de> de::Deserializer<'de> for &'de Node {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Node::Null => visitor.visit_unit(),
            Node::Bool(b) => visitor.visit_bool(*b),
            Node::Number(n) => de::Deserializer::deserialize_any(n, visitor),
            Node::String(s) => visitor.visit_borrowed_str(s),
            Node::Array(a) => {
                let mut seq = Items(a.iter());
                let v = visitor.visit_seq(&mut seq)?;
                match seq.0.len() {
                    0 => Ok(v),
                    _ => Err(de::Error::invalid_length(
                        a.len(),
                        &"fewer elements in array",
                    )),
                }
            }
            Node::Object(m) => {
                let mut map = Entries {
                    iter: m.entries.iter(),
                    value: None,
                };
                let v = visitor.visit_map(&mut map)?;
                match map.iter.len() {
                    0 => Ok(v),
                    _ => Err(de::Error::invalid_length(m.len(), &"fewer elements in map")),
                }
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Node::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self {
            Node::String(s) => visitor.visit_enum(de::value::BorrowedStrDeserializer::new(s)),
            // Enums written as a one-key map are rare in these APIs: serde_json's own rules.
            other => de::Deserializer::deserialize_enum(other.to_json(), name, variants, visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct Items<'de>(std::slice::Iter<'de, Node>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0.next().map(|v| seed.deserialize(v)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'de> {
    iter: std::slice::Iter<'de, (Key, Node)>,
    value: Option<&'de Node>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(de::value::BorrowedStrDeserializer::new(k))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(v),
            None => Err(de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Port {
        number: u32,
        name: Option<String>,
        protocol: Option<Protocol>,
        #[serde(default)]
        labels: std::collections::BTreeMap<String, String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "UPPERCASE")]
    enum Protocol {
        Http,
        Tcp,
    }

    fn both<T: for<'a> Deserialize<'a> + std::fmt::Debug + PartialEq>(j: Value) {
        let node = Node::from(&j);
        let via_node = T::deserialize(&node).map_err(|e| e.to_string());
        let via_json = T::deserialize(&j).map_err(|e| e.to_string());
        assert_eq!(via_node, via_json, "{j}");
    }

    #[test]
    fn typing_through_a_node_accepts_and_rejects_what_serde_json_does() {
        both::<Port>(json!({"number": 80, "name": "http", "protocol": "HTTP"}));
        both::<Port>(json!({"number": 80, "labels": {"a": "b"}}));
        both::<Port>(json!({"number": "http"}));
        both::<Port>(json!({"number": -1}));
        both::<Port>(json!({"number": 1.5}));
        both::<Port>(json!({"number": 80, "protocol": "UDP"}));
        both::<Port>(json!({"number": 80, "protocol": {"HTTP": null}}));
        both::<Port>(json!({"number": 80, "labels": {"a": 1}}));
        both::<Port>(json!([80, "http"]));
        both::<Port>(json!("80"));
        both::<Vec<Port>>(json!([{"number": 1}, {"number": true}]));
        both::<Option<Port>>(json!(null));
        both::<(u32, u32)>(json!([1, 2, 3]));
    }

    #[test]
    fn wide_and_narrow_maps_find_every_key_and_keep_the_order() {
        for n in [1, SCAN, SCAN + 1, 200] {
            let entries: Vec<(Key, Node)> = (0..n)
                .map(|i| (Key::from(format!("k{i}")), Node::Number(i.into())))
                .collect();
            let m = NodeMap::new(entries);
            assert_eq!(m.index.is_some(), n > SCAN);
            for i in 0..n {
                assert_eq!(
                    m.get(&format!("k{i}")).and_then(Node::as_u64),
                    Some(i as u64)
                );
            }
            assert_eq!(m.get("missing"), None);
            let keys: Vec<String> = m.keys().map(str::to_string).collect();
            let want: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
            assert_eq!(keys, want);
        }
    }

    #[test]
    fn json_round_trip_lookup_and_equality() {
        let j = json!({"b": [1, -2, 1.5, null, true], "a": {"x/y": "s", "~": {}}});
        let n = Node::from(&j);
        assert_eq!(n.to_json(), j);
        assert_eq!(serde_json::to_value(&n).unwrap(), j);
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            serde_json::to_string(&j).unwrap()
        );
        assert!(n == j);
        assert_eq!(n["a"]["x/y"], Node::String("s".into()));
        assert_eq!(n["b"][1].as_i64(), Some(-2));
        assert!(n["a"]["~"].is_object());
        assert!(n["b"][9].is_null());
        assert!(n["missing"]["deeper"].is_null());
        assert_eq!(n["b"][2].as_f64(), Some(1.5));
        assert_eq!(n.count(), 10);
        let reordered =
            Node::from(&json!({"a": {"~": {}, "x/y": "s"}, "b": [1, -2, 1.5, null, true]}));
        assert_eq!(n, reordered);
    }
}
