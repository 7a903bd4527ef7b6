//! JSON values compared and hashed as their canonical form: map keys in any order, numbers
//! by their JSON text. Used where two values written apart must be told equal or different
//! (the policies' matcher index, `check`'s fingerprints of rendered objects).

use crate::json::Field;
use crate::node::Node;
use serde_json::{Number, Value};
use std::hash::{Hash, Hasher};

/// The read-only view of a JSON-like tree that the canonical form needs: the rendered output
/// is `serde_json::Value`, the input objects [`Node`]s.
pub trait Tree: PartialEq + Sized {
    /// A map's entries, in their order.
    type Entries<'a>: Iterator<Item = (&'a str, &'a Self)>
    where
        Self: 'a;
    /// What kind of value this is.
    fn shape(&self) -> Shape<'_, Self>;
    /// A map's entries (none for anything else).
    fn entries(&self) -> Self::Entries<'_>;
    /// A map's value under `key`.
    fn get_key(&self, key: &str) -> Option<&Self>;
}

/// A value that is, or holds, a [`Tree`]: rendered objects are kept as a `serde_json::Value`,
/// a [`Node`], or a [`Node`] shared between two revisions (`Arc<Node>`, a diff).
pub trait AsTree {
    /// The tree held.
    type Tree: Tree;
    /// The tree.
    fn tree(&self) -> &Self::Tree;
}

impl AsTree for Value {
    type Tree = Value;
    fn tree(&self) -> &Value {
        self
    }
}

impl AsTree for Node {
    type Tree = Node;
    fn tree(&self) -> &Node {
        self
    }
}

impl AsTree for std::sync::Arc<Node> {
    type Tree = Node;
    fn tree(&self) -> &Node {
        self
    }
}

/// The kinds of value, with what each holds (a map: its length).
pub enum Shape<'a, T> {
    Null,
    Bool(bool),
    Number(&'a Number),
    String(&'a str),
    Array(&'a [T]),
    Object(usize),
}

type JsonEntries<'a> = std::iter::Map<
    std::iter::Flatten<std::option::IntoIter<serde_json::map::Iter<'a>>>,
    fn((&'a String, &'a Value)) -> (&'a str, &'a Value),
>;

impl Tree for Value {
    type Entries<'a> = JsonEntries<'a>;
    fn shape(&self) -> Shape<'_, Value> {
        match self {
            Value::Null => Shape::Null,
            Value::Bool(b) => Shape::Bool(*b),
            Value::Number(n) => Shape::Number(n),
            Value::String(s) => Shape::String(s),
            Value::Array(a) => Shape::Array(a),
            Value::Object(m) => Shape::Object(m.len()),
        }
    }
    fn entries(&self) -> JsonEntries<'_> {
        fn pair<'a>((k, v): (&'a String, &'a Value)) -> (&'a str, &'a Value) {
            (k.as_str(), v)
        }
        self.as_object()
            .map(|m| m.iter())
            .into_iter()
            .flatten()
            .map(pair as fn(_) -> _)
    }
    fn get_key(&self, key: &str) -> Option<&Value> {
        self.field(key)
    }
}

type NodeEntries<'a> = std::iter::Map<
    std::slice::Iter<'a, (crate::node::Key, Node)>,
    fn(&'a (crate::node::Key, Node)) -> (&'a str, &'a Node),
>;

impl Tree for Node {
    type Entries<'a> = NodeEntries<'a>;
    fn shape(&self) -> Shape<'_, Node> {
        match self {
            Node::Null => Shape::Null,
            Node::Bool(b) => Shape::Bool(*b),
            Node::Number(n) => Shape::Number(n),
            Node::String(s) => Shape::String(s),
            Node::Array(a) => Shape::Array(a),
            Node::Object(m) => Shape::Object(m.len()),
        }
    }
    fn entries(&self) -> NodeEntries<'_> {
        fn pair((k, v): &(crate::node::Key, Node)) -> (&str, &Node) {
            (k, v)
        }
        let all: &[(crate::node::Key, Node)] = self.as_object().map_or(&[], |m| m.entries());
        all.iter().map(pair as fn(_) -> _)
    }
    fn get_key(&self, key: &str) -> Option<&Node> {
        self.get(key)
    }
}

/// True when `canon(a) == canon(b)`, without building either: objects compare whatever their
/// key order, numbers by their JSON text.
pub fn canon_eq<T: Tree>(a: &T, b: &T) -> bool {
    match (a.shape(), b.shape()) {
        (Shape::Object(x), Shape::Object(y)) => {
            x == y
                && a.entries()
                    .all(|(k, v)| b.get_key(k).is_some_and(|w| canon_eq(v, w)))
        }
        (Shape::Array(x), Shape::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| canon_eq(v, w))
        }
        (Shape::Number(x), Shape::Number(y)) => x == y && x.to_string() == y.to_string(),
        _ => a == b,
    }
}

/// Hashes a value consistently with [`canon_eq`].
pub fn canon_hash<T: Tree, H: Hasher>(v: &T, h: &mut H) {
    match v.shape() {
        Shape::Null => h.write_u8(0),
        Shape::Bool(b) => {
            h.write_u8(1);
            b.hash(h);
        }
        Shape::Number(n) => {
            h.write_u8(2);
            n.to_string().hash(h);
        }
        Shape::String(s) => {
            h.write_u8(3);
            s.hash(h);
        }
        Shape::Array(a) => {
            h.write_u8(4);
            h.write_usize(a.len());
            a.iter().for_each(|x| canon_hash(x, h));
        }
        Shape::Object(len) => {
            h.write_u8(5);
            h.write_usize(len);
            if len == 1 || v.entries().map(|(k, _)| k).is_sorted() {
                for (k, x) in v.entries() {
                    k.hash(h);
                    canon_hash(x, h);
                }
            } else {
                let mut entries: Vec<(&str, &T)> = v.entries().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                for (k, x) in entries {
                    k.hash(h);
                    canon_hash(x, h);
                }
            }
        }
    }
}

/// A JSON value compared and hashed as its canonical form (sorted keys).
#[derive(Clone, Copy)]
pub struct Canon<'a, T: Tree>(pub &'a T);

impl<T: Tree> PartialEq for Canon<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        canon_eq(self.0, other.0)
    }
}

impl<T: Tree> Eq for Canon<'_, T> {}

impl<T: Tree> Hash for Canon<'_, T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        canon_hash(self.0, h);
    }
}
