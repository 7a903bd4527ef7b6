//! A whole run on an in-memory repo: load, type, check, render, validate, emit.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::render(data));
