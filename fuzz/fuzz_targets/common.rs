//! The fuzz targets' bodies, shared with the replay of kept inputs in tests/adversarial.rs
//! (which includes this file), so that a kept input runs exactly as it did when fuzzed.
//!
//! The repo-level targets (typing, policy, render) read a text bundle: a line `#> PATH` starts the file PATH; text before the first
//! such line is `input.yaml`. `#> meshform.yaml` is the config. A readable format lets the
//! fixtures seed the corpus and lets a crash be kept as a regression input that
//! tests/adversarial.rs unpacks into a directory and renders with the CLI.

#![allow(dead_code)]

use meshform::config::{Config, Limits};
use meshform::gloo::Model;
use meshform::incremental::Incr;
use meshform::manifest;
use meshform::pipeline::{self, Options};
use meshform::policy;
use meshform::render::{emit, RenderOptions};
use meshform::repo::{LoadOptions, Repo};
use meshform::source::{template as tmpl, SourceFile};
use meshform::yaml::{self, YamlLimits};
use std::sync::Arc;

/// A target's body.
pub type Target = fn(&[u8]);

/// The targets, by name (the directory names under tests/adversarial/fuzz/).
pub const TARGETS: &[(&str, Target)] = &[
    ("yaml", yaml),
    ("config", config),
    ("template", template),
    ("typing", typing),
    ("policy", policy),
    ("render", render),
];

/// Most files taken from one input.
const MAX_FILES: usize = 32;

/// Small limits so that every input runs quickly.
pub fn limits() -> Limits {
    Limits {
        file_size: 1 << 16,
        total_size: 1 << 18,
        files: MAX_FILES,
        yaml_documents: 64,
        yaml_alias_nodes: 1_000,
        yaml_depth: 32,
        objects: 256,
        policy_cost: 100_000,
        policy_time_ms: 1_000,
        template_output: 1 << 16,
        template_fuel: 100_000,
        max_diagnostics: 10,
    }
}

/// A path the bundle may name: relative, `/`-separated, no empty, `.` or `..` parts.
fn safe_path(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 100
        && p.split('/').all(|c| {
            !c.is_empty()
                && c != "."
                && c != ".."
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
}

/// The files of a bundle, in order; a later file with the same path replaces an earlier one.
pub fn unbundle(text: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = vec![("input.yaml".into(), String::new())];
    for line in text.split_inclusive('\n') {
        if let Some(p) = line.strip_prefix("#> ") {
            let p = p.trim_end();
            if safe_path(p) && files.len() < MAX_FILES {
                files.retain(|(q, _)| q != p);
                files.push((p.to_string(), String::new()));
                continue;
            }
        }
        if let Some(last) = files.last_mut() {
            last.1.push_str(line);
        }
    }
    files.retain(|(p, t)| p != "input.yaml" || !t.is_empty());
    files
}

/// Loads the bundle as `Repo::load` would load the same files from a directory.
pub fn load(data: &[u8]) -> Option<Repo> {
    let text = std::str::from_utf8(data).ok()?;
    let mut config = Config::default();
    let mut files = Vec::new();
    for (path, t) in unbundle(text) {
        if path == "meshform.yaml" {
            config = Config::parse(&t).ok()?;
        } else {
            files.push(SourceFile {
                path,
                data: t.into_bytes(),
                blob: None,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Repo::from_files(config, files, "cluster1", &LoadOptions::default(), limits()).ok()
}

/// YAML loading: the parser, object extraction and field location never panic and stay within
/// the limits whatever the bytes; what we emit reads back to the same value.
pub fn yaml(data: &[u8]) {
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
            if let Ok(out) = yaml::to_string(&doc.value.to_json()) {
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
}

/// meshform.yaml: parsing the config and building the path matcher never panic.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Config::parse(text) {
        if let Ok(m) = c.path_matcher("cluster1") {
            let _ = m.cluster_of("a/b.yaml");
            let _ = m.cluster_of("clusters/c2/x.yaml");
        }
    }
}

/// Template rendering: any template ends, within the fuel and output limits, with text or a
/// diagnostic.
pub fn template(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = limits();
    let ctx = tmpl::Context::for_cluster(&Config::default(), "cluster1", &Default::default());
    let path: Arc<str> = "t.yaml.j2".into();
    if let Ok(out) = tmpl::render(&path, text, &ctx, &limits) {
        assert!(out.len() <= limits.template_output);
    }
}

/// Gloo typing: `Model::build` on any loaded repo returns a model and diagnostics.
pub fn typing(data: &[u8]) {
    if let Some(repo) = load(data) {
        let _ = Model::build(&repo, Incr::OFF);
    }
}

/// Policy loading and CEL evaluation: the bundle's `policies/*.yaml` are loaded and
/// compiled, then they and the built-in policies (compiled once per thread, to keep the
/// target fast) are evaluated over the bundle's objects.
pub fn policy(data: &[u8]) {
    thread_local! {
        static BUILTIN: Vec<policy::engine::Compiled> =
            policy::load(&policy::builtin_sources()).expect("built-in policies load");
    }
    let Some(repo) = load(data) else {
        return;
    };
    let (model, _, _) = Model::build(&repo, Incr::OFF);
    BUILTIN.with(|b| {
        let _ = policy::run::run(&repo, &model, b, false, Incr::OFF);
    });
    let own: Vec<_> = repo
        .policy_files
        .iter()
        .filter(|f| policy::is_policy_path(&f.path))
        .cloned()
        .collect();
    if let Ok(own) = policy::load(&own) {
        let _ = policy::run::run(&repo, &model, &own, false, Incr::OFF);
    }
}

/// A whole run: load, type, check, render, validate, emit. What is emitted parses back to the
/// same objects.
pub fn render(data: &[u8]) {
    let Some(repo) = load(data) else {
        return;
    };
    let opts = Options {
        render: RenderOptions {
            passthrough: true,
            ..RenderOptions::default()
        },
        ..Options::default()
    };
    let Ok(out) = pipeline::run(repo, &opts) else {
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
}
