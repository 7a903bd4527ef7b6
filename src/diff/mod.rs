//! Diffs of rendered output between two revisions.
