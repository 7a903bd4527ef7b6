//! JSON values compared and hashed as their canonical form: map keys in any order, numbers
//! by their JSON text. Used where two values written apart must be told equal or different
//! (the policies' matcher index, `check`'s fingerprints of rendered objects).

use crate::json::Field;
use serde_json::Value;
use std::hash::{Hash, Hasher};

/// True when `canon(a) == canon(b)`, without building either: objects compare whatever their
/// key order, numbers by their JSON text.
pub fn canon_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.field(k).is_some_and(|w| canon_eq(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| canon_eq(v, w))
        }
        (Value::Number(x), Value::Number(y)) => x == y && x.to_string() == y.to_string(),
        _ => a == b,
    }
}

/// Hashes a value consistently with [`canon_eq`].
pub fn canon_hash<H: Hasher>(v: &Value, h: &mut H) {
    match v {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => {
            h.write_u8(1);
            b.hash(h);
        }
        Value::Number(n) => {
            h.write_u8(2);
            n.to_string().hash(h);
        }
        Value::String(s) => {
            h.write_u8(3);
            s.hash(h);
        }
        Value::Array(a) => {
            h.write_u8(4);
            h.write_usize(a.len());
            a.iter().for_each(|x| canon_hash(x, h));
        }
        Value::Object(m) => {
            h.write_u8(5);
            h.write_usize(m.len());
            if m.len() == 1 || m.keys().is_sorted() {
                for (k, x) in m {
                    k.hash(h);
                    canon_hash(x, h);
                }
            } else {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
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
pub struct Canon<'a>(pub &'a Value);

impl PartialEq for Canon<'_> {
    fn eq(&self, other: &Self) -> bool {
        canon_eq(self.0, other.0)
    }
}

impl Eq for Canon<'_> {}

impl Hash for Canon<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        canon_hash(self.0, h);
    }
}
