//! Keys that carry their hash, for the policy stage's indexes (the maps themselves are
//! [`crate::hashing`]'s).

use crate::hashing::FastState;
use std::hash::{BuildHasher, Hash, Hasher};

/// A key that carries its hash, computed once: a map of these rehashes the stored `u64` when
/// it grows instead of hashing each key again, which matters for keys that hash a whole JSON
/// value (the route conflict check's matchers).
#[derive(Clone, Copy)]
pub struct Prehashed<K> {
    hash: u64,
    /// The key itself, compared on equal hashes.
    key: K,
}

impl<K: Hash> Prehashed<K> {
    /// Hashes `key` once with `state`.
    pub fn new(state: &FastState, key: K) -> Self {
        Prehashed {
            hash: state.hash_one(&key),
            key,
        }
    }
}

impl<K: Eq> PartialEq for Prehashed<K> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.key == other.key
    }
}

impl<K: Eq> Eq for Prehashed<K> {}

impl<K> Hash for Prehashed<K> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashing::FastMap;

    #[test]
    fn prehashed_keys_find_equal_keys_and_only_those() {
        let state = FastState::default();
        let mut m: FastMap<Prehashed<(&str, u32)>, u32> = FastMap::default();
        for i in 0..1000 {
            m.insert(Prehashed::new(&state, ("k", i)), i);
        }
        assert_eq!(m.len(), 1000);
        assert_eq!(m.get(&Prehashed::new(&state, ("k", 7))), Some(&7));
        assert_eq!(m.get(&Prehashed::new(&state, ("j", 7))), None);
    }
}
