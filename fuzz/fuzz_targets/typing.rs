//! Gloo typing: `gloo::Model::build` on any loaded repo returns a model and diagnostics; it
//! never panics.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use meshform::gloo::Model;

fuzz_target!(|input: common::FuzzRepo| {
    if let Some(repo) = input.load() {
        let _ = Model::build(&repo);
    }
});
