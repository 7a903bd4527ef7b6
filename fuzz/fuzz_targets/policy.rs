//! Policy loading and CEL evaluation over an in-memory repo's objects.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::policy(data));
