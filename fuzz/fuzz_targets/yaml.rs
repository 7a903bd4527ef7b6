//! YAML loading: parser, object extraction and field location.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::yaml(data));
