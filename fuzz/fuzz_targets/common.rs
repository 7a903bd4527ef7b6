//! Shared by the repo-level targets: an in-memory repo built from fuzz input.

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use meshform::config::{Config, Limits};
use meshform::repo::{LoadOptions, Repo};
use meshform::source::SourceFile;

/// Names a fuzzed file can take: plain manifests, a template, a policy, nested directories.
const NAMES: &[&str] = &[
    "a.yaml",
    "b.yml",
    "gloo/rt.yaml",
    "gloo/ws.yaml",
    "clusters/c2/x.yaml",
    "t.yaml.j2",
    "policies/p.yaml",
    "policies/q.yaml",
];

/// A fuzzed repo: an optional meshform.yaml and a few files.
#[derive(Debug, Arbitrary)]
pub struct FuzzRepo {
    pub config: Option<String>,
    pub files: Vec<(u8, String)>,
}

/// Small limits so that every input runs quickly.
pub fn limits() -> Limits {
    Limits {
        file_size: 1 << 16,
        total_size: 1 << 18,
        files: 32,
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

impl FuzzRepo {
    /// Loads the repo as `Repo::load` would, from memory.
    pub fn load(&self) -> Option<Repo> {
        let config = match &self.config {
            Some(t) => Config::parse(t).ok()?,
            None => Config::default(),
        };
        let mut files: Vec<SourceFile> = self
            .files
            .iter()
            .take(16)
            .map(|(n, t)| SourceFile {
                path: NAMES[*n as usize % NAMES.len()].to_string(),
                data: t.as_bytes().to_vec(),
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup_by(|a, b| a.path == b.path);
        Repo::from_files(config, files, "cluster1", &LoadOptions::default(), limits()).ok()
    }
}
