//! meshform.yaml: parsing the config and building the path matcher never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meshform::config::Config;

fuzz_target!(|text: &str| {
    if let Ok(c) = Config::parse(text) {
        if let Ok(m) = c.path_matcher("cluster1") {
            let _ = m.cluster_of("a/b.yaml");
        }
    }
});
