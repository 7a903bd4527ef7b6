//! meshform.yaml parsing and the path matcher.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::config(data));
