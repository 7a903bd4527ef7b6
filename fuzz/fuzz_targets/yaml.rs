//! YAML loading: the parser, object extraction and field location must never panic, and must
//! stay within the limits whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meshform::manifest;
use meshform::yaml::{self, YamlLimits};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = YamlLimits {
        max_documents: 64,
        max_depth: 32,
        max_alias_nodes: 1_000,
        max_nodes: 20_000,
    };
    if let Ok(parsed) = yaml::parse_stream(text, &limits) {
        for doc in &parsed.documents {
            // Emitting what we parsed must work and read back to the same value.
            if let Ok(out) = yaml::to_string(&doc.value) {
                let back = yaml::parse_stream(&out, &YamlLimits::default())
                    .expect("our own output parses");
                assert_eq!(back.documents.len(), 1, "{out}");
                assert_eq!(back.documents[0].value, doc.value, "{out}");
            }
            let _ = yaml::locate(text, doc.index, "/spec/a/0", &limits);
        }
    }
    let path: Arc<str> = "f.yaml".into();
    let _ = manifest::parse_file(&path, text, 0, "c", &limits);
});
