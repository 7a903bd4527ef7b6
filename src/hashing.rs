//! The hash maps of the indexes built over a repo (the model's, the policies', the render's
//! reuse memo, the diff's): foldhash, seeded per process, in place of std's SipHash. The keys
//! come from the repo, so the seed keeps crafted names from colliding on purpose; nothing
//! iterates these maps to produce output, so their order is free.

/// The hasher builder.
pub type FastState = foldhash::fast::RandomState;
/// A `HashMap` with [`FastState`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, FastState>;
/// A `HashSet` with [`FastState`].
pub type FastSet<K> = std::collections::HashSet<K, FastState>;
