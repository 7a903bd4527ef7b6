//! A whole run on an in-memory repo: load → type → check → render → validate → emit. On
//! success the YAML stream parses back to the same objects.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use meshform::pipeline::{self, Options};
use meshform::render::{emit, RenderOptions};
use meshform::yaml::{self, YamlLimits};

fuzz_target!(|input: common::FuzzRepo| {
    let Some(repo) = input.load() else { return };
    let opts = Options {
        render: RenderOptions {
            passthrough: true,
            ..RenderOptions::default()
        },
        ..Options::default()
    };
    let Ok(out) = pipeline::run_repo(repo, &opts) else {
        return;
    };
    let Ok(text) = emit::yaml_stream(&out.objects) else {
        return;
    };
    let back = yaml::parse_stream(&text, &YamlLimits::default()).expect("our output parses");
    assert_eq!(back.documents.len(), out.objects.len());
    for (d, o) in back.documents.iter().zip(&out.objects) {
        assert_eq!(d.value, o.value);
    }
    let _ = emit::json_array(&out.objects);
});
