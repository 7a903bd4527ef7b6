//! meshform: renders Gloo Platform 2.x routing configuration to the Istio resources Gloo's
//! management server would produce, checks it with CEL policies, and diffs it between revisions.
//!
//! The pipeline, in module order:
//! `source` (bytes from a directory or a git revision, templates) → `manifest` (YAML documents
//! with positions, held as compact `node` trees; `yaml` does the parsing) → `repo` (the loaded
//! repo and its `config`) → `gloo` (typed API and workspace visibility) → `policy` (CEL) →
//! `render` (Istio objects) → `validate` (Istio's own rules) → `trace` (which route a request
//! takes) → `diff` → `report` (text, JSON,
//! SARIF, GitHub, Markdown). `istio::object` is the rendered-object model `render` builds and
//! `validate` and `diff` read.
//! `incremental` holds what a diff's head reuses of its base, behind one context every stage
//! takes. `pipeline` runs the stages; `cli` and `plugin` are the front ends: they parse arguments
//! into the library's options and print its results, and the library never imports them.
//! docs/architecture.md has the whole picture.

// Diagnostics are the error payload everywhere and are created rarely; boxing them would only
// add noise at every call site.
#![allow(clippy::result_large_err)]

pub mod allocator;
pub mod canon;
pub mod cli;
pub mod config;
pub mod diag;
pub mod diff;
pub mod gloo;
pub mod hashing;
pub mod incremental;
pub mod istio;
pub mod json;
pub mod manifest;
pub mod node;
pub mod pipeline;
pub mod plugin;
pub mod policy;
pub mod render;
pub mod repo;
pub mod report;
pub mod source;
pub mod trace;
pub mod validate;
pub mod yaml;
