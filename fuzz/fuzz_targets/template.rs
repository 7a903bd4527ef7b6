//! Template rendering: any template ends, within the fuel and output limits, with text or a
//! diagnostic; never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meshform::config::{Config, Limits};
use meshform::source::template;
use std::sync::Arc;

fuzz_target!(|text: &str| {
    let limits = Limits {
        template_output: 1 << 16,
        template_fuel: 100_000,
        ..Limits::default()
    };
    let ctx = template::Context::for_cluster(&Config::default(), "cluster1", &Default::default());
    let path: Arc<str> = "t.yaml.j2".into();
    if let Ok(out) = template::render(&path, text, &ctx, &limits) {
        assert!(out.len() <= limits.template_output);
    }
});
