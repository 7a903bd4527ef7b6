//! `meshform.yaml`, the optional repo config (docs/config.md, docs/config.schema.json).

use crate::diag::codes::Load;
use crate::diag::Diagnostic;
use crate::manifest::{locate_field, Location, Object, SourceText};
use crate::yaml::{self, YamlLimits};
use globset::{Glob, GlobSet, GlobSetBuilder};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// File name of the repo config, at the repo root.
pub const FILE_NAME: &str = "meshform.yaml";

/// The repo config.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// Always `meshform.dev/v1alpha1`.
    pub api_version: String,
    /// Always `Config`.
    pub kind: String,
    /// Kubernetes object metadata (`name`, `annotations`), read by nothing but kpt, which
    /// accepts meshform.yaml in a package only with a `metadata.name` (docs/flux.md#kpt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// Cluster of objects outside every cluster's `paths`.
    #[serde(default)]
    pub default_cluster: Option<String>,
    /// Known clusters.
    #[serde(default)]
    pub clusters: Vec<ClusterConfig>,
    /// Resource limits for untrusted input.
    #[serde(default)]
    pub limits: Limits,
    /// How strictly Gloo objects are read: `strict` (default) or `warn`; `--validate`
    /// overrides it.
    #[serde(default, skip_serializing_if = "Validate::is_strict")]
    pub validate: Validate,
    /// Gaps in the output the repo accepts.
    #[serde(default, skip_serializing_if = "Accept::is_empty")]
    pub accept: Accept,
    /// Where the repo's route test files are (docs/route-tests.md).
    #[serde(default, skip_serializing_if = "RouteTests::is_default")]
    pub route_tests: RouteTests,
}

/// Where a repo keeps its route test files (docs/route-tests.md#where-they-live).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteTests {
    /// Globs of repo-relative files holding `RouteTest` documents: read by `meshform test`,
    /// `check` and `diff`, never rendered. Default `tests/routes/**`.
    #[serde(default = "default_route_test_paths")]
    pub paths: Vec<String>,
}

/// The default `routeTests.paths`.
pub const DEFAULT_ROUTE_TESTS: &str = "tests/routes/**";

fn default_route_test_paths() -> Vec<String> {
    vec![DEFAULT_ROUTE_TESTS.to_string()]
}

impl Default for RouteTests {
    fn default() -> Self {
        RouteTests {
            paths: default_route_test_paths(),
        }
    }
}

impl RouteTests {
    /// True for the default paths.
    pub fn is_default(&self) -> bool {
        *self == RouteTests::default()
    }

    /// The matcher of route test files.
    pub fn matcher(&self) -> Result<GlobSet, ConfigError> {
        let mut b = GlobSetBuilder::new();
        for p in &self.paths {
            let g = Glob::new(p).map_err(|e| {
                ConfigError(Box::new(Diagnostic::error(
                    Load::Config,
                    format!("routeTests.paths: bad glob `{p}`: {e}"),
                )))
            })?;
            b.add(g);
        }
        b.build()
            .map_err(|e| ConfigError(Box::new(Diagnostic::error(Load::Config, e.to_string()))))
    }
}

/// What becomes of a Gloo field meshform cannot honour, an unknown field or a known field that
/// meshform does not translate (docs/translation.md#strictness).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Validate {
    /// An input error (exit 2), as kubectl's default `--validate=strict`.
    #[default]
    Strict,
    /// A warning, and the field is left out of the output: for repos mid-migration.
    Warn,
}

impl Validate {
    /// True for the default.
    pub fn is_strict(&self) -> bool {
        *self == Validate::Strict
    }
}

/// Gaps in the output a repo accepts (docs/config.md#accept).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Accept {
    /// Gloo kinds meshform does not translate whose objects are skipped with a warning
    /// instead of an error (`RateLimitPolicy`); also `--accept-kind`.
    #[serde(default)]
    pub kinds: Vec<String>,
}

impl Accept {
    /// True when nothing is accepted.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
}

/// One cluster.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterConfig {
    /// Cluster name, as Workspaces name it.
    pub name: String,
    /// Globs (repo-relative) of files whose objects are applied in this cluster.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Cluster labels, matched by Workspace `workloadClusters[].selector`.
    #[serde(default)]
    pub labels: IndexMap<String, String>,
    /// Gateway workloads Gloo would discover in this cluster.
    #[serde(default)]
    pub gateways: Vec<GatewayConfig>,
    /// Template values for this cluster.
    #[serde(default)]
    pub values: serde_json::Map<String, serde_json::Value>,
    /// The east-west gateway other clusters reach this one through (VirtualDestination
    /// WorkloadEntries).
    #[serde(default)]
    pub east_west_gateway: Option<EastWestGateway>,
    /// Locality of this cluster's workloads, `region[/zone[/subZone]]`.
    #[serde(default)]
    pub locality: Option<String>,
    /// SPIFFE trust domain of this cluster; defaults to the cluster name.
    #[serde(default)]
    pub trust_domain: Option<String>,
}

/// An east-west gateway address, as Gloo discovers it at run time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EastWestGateway {
    /// Address other clusters use.
    pub address: String,
    /// mTLS port (Istio's default 15443).
    #[serde(default = "default_east_west_port")]
    pub port: u32,
}

fn default_east_west_port() -> u32 {
    15443
}

/// A gateway Service and its pods, as Gloo discovers them at run time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayConfig {
    /// Service name.
    pub name: String,
    /// Service namespace.
    pub namespace: String,
    /// Service `spec.selector`.
    #[serde(default)]
    pub selector: IndexMap<String, String>,
    /// Labels of the gateway pods (Istio Gateway `selector`, VirtualService `sourceLabels`).
    #[serde(default)]
    pub pod_labels: IndexMap<String, String>,
    /// Service ports.
    #[serde(default)]
    pub ports: Vec<GatewayPort>,
    /// Service labels, matched by VirtualGateway workload selectors as well as `selector`.
    #[serde(default)]
    pub labels: IndexMap<String, String>,
}

/// A gateway Service port.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayPort {
    /// Port name.
    #[serde(default)]
    pub name: String,
    /// Service port.
    pub port: u32,
    /// Container port; defaults to `port`.
    #[serde(default)]
    pub target_port: Option<u32>,
}

/// Limits on untrusted input (docs/security.md).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub file_size: u64,
    /// Largest total of all files, in bytes.
    pub total_size: u64,
    /// Most files read.
    pub files: usize,
    /// Most YAML documents in one file.
    pub yaml_documents: usize,
    /// Most nodes created by alias expansion in one file.
    pub yaml_alias_nodes: usize,
    /// Deepest YAML nesting.
    pub yaml_depth: usize,
    /// Most objects in the repo.
    pub objects: usize,
    /// CEL cost budget per evaluation.
    pub policy_cost: u64,
    /// CEL time budget per run, in milliseconds.
    pub policy_time_ms: u64,
    /// Largest template output, in bytes.
    pub template_output: usize,
    /// Template fuel (instructions) per file.
    pub template_fuel: u64,
    /// Most diagnostics printed per run.
    pub max_diagnostics: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            file_size: 16 << 20,
            total_size: 512 << 20,
            files: 200_000,
            yaml_documents: 10_000,
            yaml_alias_nodes: 10_000,
            yaml_depth: 64,
            objects: 500_000,
            policy_cost: 1_000_000,
            policy_time_ms: 30_000,
            template_output: 16 << 20,
            template_fuel: 5_000_000,
            max_diagnostics: 200,
        }
    }
}

impl Limits {
    /// The YAML parser's share of the limits.
    pub fn yaml(&self) -> YamlLimits {
        YamlLimits {
            max_documents: self.yaml_documents,
            max_depth: self.yaml_depth,
            max_alias_nodes: self.yaml_alias_nodes,
            ..YamlLimits::default()
        }
    }
}

/// The JSON Schema of meshform.yaml (docs/config.schema.json is this, pretty-printed).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Config);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api_version: "meshform.dev/v1alpha1".into(),
            kind: "Config".into(),
            metadata: None,
            default_cluster: None,
            clusters: Vec::new(),
            limits: Limits::default(),
            validate: Validate::Strict,
            accept: Accept::default(),
            route_tests: RouteTests::default(),
        }
    }
}

/// Errors in meshform.yaml.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub Box<Diagnostic>);

impl Config {
    /// Parses meshform.yaml; unknown keys and wrong types are errors naming line and field.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let path: Arc<str> = FILE_NAME.into();
        let limits = YamlLimits::default();
        let parsed = yaml::parse_stream(text, &limits).map_err(|e| {
            ConfigError(Box::new(
                Diagnostic::error(Load::Config, e.message).at(Location::new(path.clone(), e.pos)),
            ))
        })?;
        let Some(doc) = parsed.documents.into_iter().next() else {
            return Ok(Config::default());
        };
        let fake = Object {
            id: crate::manifest::ObjectId {
                api_version: String::new(),
                kind: "Config".into(),
                namespace: String::new(),
                name: FILE_NAME.into(),
            },
            value: Arc::new(doc.value.clone()),
            location: Location::new(path.clone(), doc.pos),
            doc_index: doc.index,
            pointer: String::new(),
            cluster: String::new(),
            file_index: 0,
            max_list: doc.max_list,
        };
        let cfg: Config = serde_path_to_error::deserialize(&doc.value).map_err(|e| {
            let field = e.path().to_string();
            let files = [SourceText {
                path: path.clone(),
                text: text.into(),
            }];
            let loc = locate_field(&files, &fake, &field, &limits);
            ConfigError(Box::new(
                Diagnostic::error(Load::Config, e.inner().to_string())
                    .at(loc)
                    .field(field),
            ))
        })?;
        if cfg.api_version != "meshform.dev/v1alpha1" || cfg.kind != "Config" {
            return Err(ConfigError(Box::new(
                Diagnostic::error(
                    Load::Config,
                    format!(
                        "expected apiVersion meshform.dev/v1alpha1 and kind Config, found {} {}",
                        cfg.api_version, cfg.kind
                    ),
                )
                .at(fake.location),
            )));
        }
        for (i, kind) in cfg.accept.kinds.iter().enumerate() {
            if let Some(why) = crate::gloo::kinds::refused_acceptance(kind) {
                let field = format!("accept.kinds[{i}]");
                let files = [SourceText {
                    path: path.clone(),
                    text: text.into(),
                }];
                return Err(ConfigError(Box::new(
                    Diagnostic::error(Load::Config, why)
                        .at(locate_field(&files, &fake, &field, &limits))
                        .field(field),
                )));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &cfg.clusters {
            if !seen.insert(c.name.as_str()) {
                return Err(ConfigError(Box::new(
                    Diagnostic::error(
                        Load::Config,
                        format!("cluster `{}` is listed twice", c.name),
                    )
                    .at(fake.location.clone()),
                )));
            }
        }
        Ok(cfg)
    }

    /// The cluster names, in config order; `fallback` when none are configured.
    pub fn cluster_names(&self, fallback: &str) -> Vec<String> {
        if self.clusters.is_empty() {
            vec![self
                .default_cluster
                .clone()
                .unwrap_or_else(|| fallback.to_string())]
        } else {
            self.clusters.iter().map(|c| c.name.clone()).collect()
        }
    }

    /// One cluster's config, if configured.
    pub fn cluster(&self, name: &str) -> Option<&ClusterConfig> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// Builds the path → cluster matcher.
    pub fn path_matcher(&self, fallback: &str) -> Result<ClusterMatcher, ConfigError> {
        let mut sets = Vec::new();
        for c in &self.clusters {
            let mut b = GlobSetBuilder::new();
            for p in &c.paths {
                let g = Glob::new(p).map_err(|e| {
                    ConfigError(Box::new(Diagnostic::error(
                        Load::Config,
                        format!("cluster `{}`: bad path glob `{p}`: {e}", c.name),
                    )))
                })?;
                b.add(g);
            }
            let set = b.build().map_err(|e| {
                ConfigError(Box::new(Diagnostic::error(Load::Config, e.to_string())))
            })?;
            sets.push((c.name.clone(), set));
        }
        let default = self
            .default_cluster
            .clone()
            .or_else(|| self.clusters.first().map(|c| c.name.clone()))
            .unwrap_or_else(|| fallback.to_string());
        Ok(ClusterMatcher { sets, default })
    }
}

/// Maps a repo-relative path to the cluster its objects are applied in.
#[derive(Debug, Clone)]
pub struct ClusterMatcher {
    sets: Vec<(String, GlobSet)>,
    default: String,
}

impl ClusterMatcher {
    /// The cluster for a file; the first cluster whose globs match wins.
    pub fn cluster_of(&self, path: &str) -> &str {
        self.sets
            .iter()
            .find(|(_, s)| s.is_match(path))
            .map(|(n, _)| n.as_str())
            .unwrap_or(&self.default)
    }

    /// Every cluster whose globs match a file, in config order.
    pub fn holding<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.sets
            .iter()
            .filter(move |(_, s)| s.is_match(path))
            .map(|(n, _)| n.as_str())
    }

    /// The default cluster.
    pub fn default_cluster(&self) -> &str {
        &self.default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let c = Config::parse(
            "apiVersion: meshform.dev/v1alpha1\nkind: Config\ndefaultCluster: mgmt\nclusters:\n- name: cluster1\n  paths: [\"clusters/cluster1/**\"]\n  labels: {region: eu-west}\n  gateways:\n  - name: istio-ingressgateway\n    namespace: istio-gateways\n    selector: {istio: ingressgateway}\n    podLabels: {app: istio-ingressgateway, istio: ingressgateway}\n    ports: [{name: http2, port: 80, targetPort: 8080}]\n",
        )
        .unwrap();
        assert_eq!(c.clusters[0].gateways[0].ports[0].target_port, Some(8080));
        let m = c.path_matcher("cluster1").unwrap();
        assert_eq!(m.cluster_of("clusters/cluster1/a.yaml"), "cluster1");
        assert_eq!(m.cluster_of("workspaces.yaml"), "mgmt");
    }

    #[test]
    fn committed_schema_is_current() {
        let committed = include_str!("../docs/config.schema.json");
        assert_eq!(
            committed,
            json_schema(),
            "docs/config.schema.json is stale: run `cargo run --example config-schema > docs/config.schema.json`"
        );
    }

    #[test]
    fn unknown_keys_name_the_line() {
        let e = Config::parse(
            "apiVersion: meshform.dev/v1alpha1\nkind: Config\nclusters:\n- name: a\n  pathz: []\n",
        )
        .unwrap_err();
        let d = e.0;
        assert!(d.message.contains("unknown field `pathz`"), "{}", d.message);
        assert_eq!(d.location.unwrap().line, 5);
    }
}
