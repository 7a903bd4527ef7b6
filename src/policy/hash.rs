//! Hash maps for the policy stage's indexes: foldhash, randomly seeded per process, in place
//! of std's SipHash. Nothing iterates these maps to produce output, so their order is free.

/// The hasher builder.
pub type FastState = foldhash::fast::RandomState;
/// A `HashMap` with [`FastState`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, FastState>;
