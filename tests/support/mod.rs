//! The integration tests' harness; a test file takes it with `mod support;`.
//!
//! - [`TempRepo`]: a temporary directory to write a repo into, with [`git`] at a fixed
//!   identity; [`memory_repo`] for a repo loaded from files in memory.
//! - [`meshform`]: the built binary as a command ([`Cli`]); [`Run`] holds its exit code, stdout
//!   and stderr and asserts on them.
//! - Snapshots: [`Run::transcript`] and [`redact`] shape output for insta.
//! - Files: [`fixture_dirs`] lists the bundled fixtures; [`write_tree`], [`read_tree`],
//!   [`copy_tree`] and [`walk`] handle trees of files.
//! - [`check_mermaid`]: a markdown document's Mermaid blocks parse with Mermaid's parser and
//!   keep their labels short.
//! - [`full_sweep`]: whether a long randomized sweep runs in full (`MESHFORM_FULL_SWEEP`).
//!
//! Each test binary uses a part of it.

#![allow(dead_code, unused_imports)]

mod cli;
mod files;
mod mermaid;
pub mod policies;
mod repo;
mod snap;

pub use cli::{bin, meshform, Cli, Run, BIN, TIMEOUT};
pub use files::{copy_tree, fixture_dirs, read_tree, root, walk, write_file, write_tree, Files};
pub use mermaid::{check_mermaid, mermaid_blocks, mermaid_labels, MAX_LABEL};
pub use repo::{git, git_out, memory_repo, TempRepo};
pub use snap::redact;

/// The environment variable that runs a long randomized sweep in full.
pub const FULL_SWEEP: &str = "MESHFORM_FULL_SWEEP";

/// True when `MESHFORM_FULL_SWEEP` is set to anything but empty or `0`: a sweep then runs every
/// round instead of its default sample (`.ci/run` sets it for a separate step).
pub fn full_sweep() -> bool {
    std::env::var_os(FULL_SWEEP).is_some_and(|v| !v.is_empty() && v != "0")
}
