//! Gloo typing of an in-memory repo (a text bundle, see common.rs).
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::typing(data));
