//! The Argo CD config-management plugin (CMP v2 sidecar): `generate` and `parameters`.
//!
//! The contract (docs/argocd.md, "The contract with Argo CD"; argoproj/argo-cd `cmpserver/plugin`,
//! `reposerver/repository/repository.go` and `pkg/apis/application/v1alpha1/types.go`):
//! the repo root (or a sub-tree of it) is extracted into a fresh work dir, the command runs in
//! `<workdir>/<spec.source.path>`, parameters arrive as `ARGOCD_APP_PARAMETERS` (a JSON array,
//! or `null`) and as `PARAM_<NAME>` variables, `spec.source.plugin.env` entries as
//! `ARGOCD_ENV_<NAME>`. stdout must hold only manifests; a non-zero exit fails the sync.

use super::Failure;
use crate::config::{self, Config, Limits};
use crate::diag::codes::{Load, Run};
use crate::diag::Diagnostic;
use crate::pipeline;
use crate::render::{IstioApi, Keep, RenderOptions, Stream};
use crate::repo::LoadOptions;
use crate::source::values::read_values_file;
use crate::source::{Origin, SourceError};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The parameters `generate` understands, as announced in plugin/plugin.yaml.
pub const PARAMETERS: &[&str] = &["cluster", "values", "passthrough", "allow-empty"];

/// The process environment, as a sorted map (tests pass their own).
pub type Env = BTreeMap<String, String>;

/// Parameters of one `generate` run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// The cluster to render (`cluster` parameter or `ARGOCD_ENV_CLUSTER`).
    pub cluster: Option<String>,
    /// Values files, relative to the app directory.
    pub values: Vec<String>,
    /// Also emit the repo's non-Gloo objects.
    pub passthrough: bool,
    /// Exit 0 on an empty render instead of failing.
    pub allow_empty: bool,
}

fn param_err(m: impl Into<String>) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(Run::ArgocdParameter, m).help(format!(
        "known parameters: {}; set them in spec.source.plugin.parameters \
         (or as spec.source.plugin.env CLUSTER, VALUES, PASSTHROUGH, ALLOW_EMPTY)",
        PARAMETERS.join(", ")
    )))
}

fn parse_bool(name: &str, s: &str) -> Result<Option<bool>, Box<Diagnostic>> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "yes" | "1" => Ok(Some(true)),
        "false" | "no" | "0" => Ok(Some(false)),
        _ => Err(param_err(format!(
            "parameter `{name}` must be true or false, not `{s}`"
        ))),
    }
}

/// The escaping Argo CD applies to parameter names in `PARAM_` variables: upper case, and
/// every character outside `[A-Z0-9_]` becomes `_` (types.go `escaped`).
pub fn escape_param_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Reads the parameters from the environment Argo CD builds (docs/argocd.md, "Parameters").
///
/// `ARGOCD_APP_PARAMETERS` is authoritative when it holds an array; when it is unset or
/// `null`, the `PARAM_*` variables are read instead (handy when running by hand). Then
/// `ARGOCD_ENV_CLUSTER`, `ARGOCD_ENV_VALUES` (comma-separated), `ARGOCD_ENV_PASSTHROUGH` and
/// `ARGOCD_ENV_ALLOW_EMPTY` fill what is still unset; a cluster given both ways must agree.
/// Empty values count as unset (Argo CD 3.0+ passes empty env entries). Unknown parameter
/// names are errors, so a typo cannot silently change the output.
pub fn params_from_env(env: &Env) -> Result<Params, Box<Diagnostic>> {
    let mut p = Params::default();
    let mut passthrough = None;
    let mut allow_empty = None;
    let raw = env
        .get("ARGOCD_APP_PARAMETERS")
        .map(|s| s.trim())
        .unwrap_or("");
    if !raw.is_empty() && raw != "null" {
        let list: Value = serde_json::from_str(raw)
            .map_err(|e| param_err(format!("ARGOCD_APP_PARAMETERS is not JSON: {e}")))?;
        let Value::Array(items) = list else {
            return Err(param_err("ARGOCD_APP_PARAMETERS is not a JSON array"));
        };
        for item in items {
            let name = item["name"].as_str().unwrap_or_default();
            let string = item.get("string").and_then(Value::as_str);
            let array: Option<Vec<String>> = match item.get("array").and_then(Value::as_array) {
                Some(a) => Some(
                    a.iter()
                        .map(|v| v.as_str().map(str::to_string))
                        .collect::<Option<_>>()
                        .ok_or_else(|| {
                            param_err(format!("parameter `{name}`: items must be strings"))
                        })?,
                ),
                None => None,
            };
            let want_string = |s: Option<&str>| {
                s.map(str::to_string)
                    .ok_or_else(|| param_err(format!("parameter `{name}` must be a string")))
            };
            match name {
                "cluster" => p.cluster = Some(want_string(string)?),
                "values" => {
                    p.values = match (array, string) {
                        (Some(a), _) => a,
                        (None, Some(s)) => split_list(s),
                        (None, None) => {
                            return Err(param_err("parameter `values` must be an array"))
                        }
                    }
                }
                "passthrough" => passthrough = parse_bool(name, &want_string(string)?)?,
                "allow-empty" => allow_empty = parse_bool(name, &want_string(string)?)?,
                other => return Err(param_err(format!("unknown parameter `{other}`"))),
            }
        }
    } else {
        let known: Vec<String> = PARAMETERS.iter().map(|n| escape_param_name(n)).collect();
        for (k, v) in env.range("PARAM_".to_string()..) {
            let Some(rest) = k.strip_prefix("PARAM_") else {
                break;
            };
            match rest {
                "CLUSTER" => p.cluster = Some(v.clone()),
                "VALUES" => p.values = split_list(v),
                "PASSTHROUGH" => passthrough = parse_bool("passthrough", v)?,
                "ALLOW_EMPTY" => allow_empty = parse_bool("allow-empty", v)?,
                r if r
                    .strip_prefix("VALUES_")
                    .is_some_and(|i| i.parse::<usize>().is_ok()) => {}
                r if !known.iter().any(|n| n == r) => {
                    return Err(param_err(format!("unknown parameter variable `{k}`")))
                }
                _ => {}
            }
        }
        // PARAM_VALUES_0, PARAM_VALUES_1, ... in numeric order.
        let mut idx: Vec<(usize, &String)> = env
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("PARAM_VALUES_")
                    .and_then(|i| i.parse::<usize>().ok())
                    .map(|i| (i, v))
            })
            .collect();
        idx.sort();
        if !idx.is_empty() {
            p.values = idx.into_iter().map(|(_, v)| v.clone()).collect();
        }
    }
    let get = |k: &str| env.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    p.cluster = p
        .cluster
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if let Some(c) = get("ARGOCD_ENV_CLUSTER") {
        match &p.cluster {
            Some(pc) if pc != c => {
                return Err(param_err(format!(
                    "the `cluster` parameter (`{pc}`) and ARGOCD_ENV_CLUSTER (`{c}`) disagree"
                )))
            }
            Some(_) => {}
            None => p.cluster = Some(c.to_string()),
        }
    }
    if p.values.is_empty() {
        if let Some(v) = get("ARGOCD_ENV_VALUES") {
            p.values = split_list(v);
        }
    }
    if passthrough.is_none() {
        if let Some(v) = get("ARGOCD_ENV_PASSTHROUGH") {
            passthrough = parse_bool("passthrough", v)?;
        }
    }
    if allow_empty.is_none() {
        if let Some(v) = get("ARGOCD_ENV_ALLOW_EMPTY") {
            allow_empty = parse_bool("allow-empty", v)?;
        }
    }
    p.values.retain(|v| !v.trim().is_empty());
    p.passthrough = passthrough.unwrap_or(false);
    p.allow_empty = allow_empty.unwrap_or(false);
    Ok(p)
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The directories of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    /// Where the command runs: `<workdir>/<spec.source.path>`.
    pub app_dir: PathBuf,
    /// The top of what Argo CD sent (the git repo root, or the manifest-generate-paths root).
    /// Nothing above it is ever read.
    pub top: PathBuf,
    /// The meshform repo root: the nearest directory from `app_dir` up to `top` holding
    /// meshform.yaml, else `app_dir`.
    pub root: PathBuf,
}

/// Finds the roots from the working directory and `ARGOCD_APP_SOURCE_PATH`.
///
/// The app dir is `<top>/<source path>`; `top` is found by removing the source path's
/// components from the end of the working directory (only as far as they match, since with
/// `reposerver.plugin.use.manifest.generate.paths` the tarball root can sit below the repo
/// root). Without `ARGOCD_APP_SOURCE_PATH`, `top` is the working directory.
pub fn find_roots(cwd: &Path, source_path: Option<&str>) -> Result<Roots, Box<Diagnostic>> {
    let app_dir = std::fs::canonicalize(cwd)
        .map_err(|e| Diagnostic::error(Run::ArgocdRoot, format!("{}: {e}", cwd.display())))?;
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(source_path.unwrap_or("").trim()).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str().unwrap_or("")),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                return Err(Box::new(Diagnostic::error(
                    Run::ArgocdRoot,
                    "ARGOCD_APP_SOURCE_PATH contains `..`",
                )))
            }
        }
    }
    let mut top = app_dir.clone();
    for part in parts.iter().rev() {
        if top.file_name().and_then(|n| n.to_str()) != Some(part) {
            break;
        }
        match top.parent() {
            Some(p) => top = p.to_path_buf(),
            None => break,
        }
    }
    let mut root = app_dir.clone();
    let mut dir = app_dir.as_path();
    loop {
        let f = dir.join(config::FILE_NAME);
        if std::fs::symlink_metadata(&f).is_ok() {
            root = dir.to_path_buf();
            break;
        }
        if dir == top {
            break;
        }
        match dir.parent() {
            Some(p) => dir = p,
            None => break,
        }
    }
    Ok(Roots { app_dir, top, root })
}

fn rel(p: &Path, base: &Path) -> String {
    match p.strip_prefix(base) {
        Ok(r) if r.as_os_str().is_empty() => ".".into(),
        Ok(r) => r.display().to_string(),
        Err(_) => p.display().to_string(),
    }
}

/// Reads the values files, resolved against the app dir and confined to `top`.
fn read_values(roots: &Roots, files: &[String]) -> Result<Map<String, Value>, Box<Diagnostic>> {
    let mut values = Map::new();
    let limits = Limits::default();
    for f in files {
        let err = |m: &str| {
            Box::new(
                Diagnostic::error(Load::Values, format!("values file `{f}`: {m}")).help(
                    "values files are relative to the Application's path and must stay inside \
                     the repo",
                ),
            )
        };
        if Path::new(f).is_absolute() {
            return Err(err("absolute paths are refused"));
        }
        let p = std::fs::canonicalize(roots.app_dir.join(f)).map_err(|e| err(&e.to_string()))?;
        if !p.starts_with(&roots.top) {
            return Err(err("resolves outside the repo; refused, not read"));
        }
        if !p.is_file() {
            return Err(err("not a regular file"));
        }
        if p.starts_with(&roots.root)
            && crate::source::is_manifest_name(&p.file_name().unwrap_or_default().to_string_lossy())
        {
            return Err(err(
                "is inside the meshform root and would also be read as a manifest; \
                 name it *.json or move it out of the rendered tree",
            ));
        }
        read_values_file(&p, &limits, &mut values)
            .map_err(|e| Box::new(Diagnostic::error(Load::Values, format!("{f}: {e}"))))?;
    }
    Ok(values)
}

/// What a clean `generate` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generated {
    /// The YAML stream for stdout (empty only with `allow-empty`), printed document by
    /// document.
    pub stdout: Stream,
    /// Warnings for stderr.
    pub stderr: String,
}

/// `meshform argocd generate`: the YAML stream of one cluster, or why there is none. On
/// `Err` nothing at all goes to stdout.
pub fn generate(cwd: &Path, env: &Env) -> Result<Generated, Failure> {
    let params = params_from_env(env).map_err(Failure::one)?;
    let roots = find_roots(cwd, env.get("ARGOCD_APP_SOURCE_PATH").map(String::as_str))
        .map_err(Failure::one)?;
    let Some(cluster) = params.cluster.clone() else {
        let known = cluster_names(&roots.root).unwrap_or_default();
        let mut d =
            param_err("no target cluster: set the `cluster` parameter (or the CLUSTER plugin env)");
        if !known.is_empty() {
            d.message = format!(
                "{}; clusters in meshform.yaml: {}",
                d.message,
                known.join(", ")
            );
        }
        return Err(Failure::one(d));
    };
    let values = read_values(&roots, &params.values).map_err(Failure::one)?;
    tracing::info!(
        "meshform: rendering cluster {cluster} from {} (app dir {})",
        rel(&roots.root, &roots.top),
        rel(&roots.app_dir, &roots.top)
    );
    let opts = pipeline::Options {
        load: LoadOptions {
            fallback_cluster: Some(cluster.clone()),
            values,
            clusters: vec![cluster.clone()],
            ..LoadOptions::default()
        },
        render: RenderOptions {
            clusters: vec![cluster.clone()],
            istio_api: IstioApi::default(),
            passthrough: params.passthrough,
            // Only the stream is printed: never hold every rendered object as a value.
            keep: Keep::Stream,
        },
        release_inputs: true,
        ..pipeline::Options::default()
    };
    let outcome = pipeline::load(&Origin::Dir(roots.root.clone()), &opts)
        .and_then(|r| pipeline::run(r, &opts))
        .map_err(|e| {
            let diagnostics = e.into_diagnostics();
            Failure {
                summary: format!(
                    "{} loading the repo; nothing rendered",
                    crate::diag::count(diagnostics.len(), "problem", "problems")
                ),
                diagnostics,
                ..Failure::default()
            }
        })?;
    // A cluster the repo does not have is refused by pipeline::load (unknown-cluster).
    let (mut outcome, shown) = super::shown_or_fail(outcome, &cluster)?;
    let mut stderr = crate::report::text::render(
        &shown,
        &outcome.repo.files,
        outcome.repo.limits.max_diagnostics,
    );
    if outcome.rendered == 0 && !params.allow_empty {
        return Err(Failure::one(
            Diagnostic::error(
                Run::EmptyRender,
                format!(
                    "cluster `{cluster}` renders no objects; refusing to print an empty stream"
                ),
            )
            .help(
                "an empty output makes Argo CD prune everything the app manages; set the \
                 `allow-empty` parameter to \"true\" if that is really wanted",
            ),
        ));
    }
    let text = std::mem::replace(&mut outcome.stream, Ok(Stream::default())).map_err(|e| {
        Failure::one(Diagnostic::error(
            Run::Emit,
            format!("cannot write YAML: {e}"),
        ))
    })?;
    if outcome.rendered == 0 {
        stderr.push_str(&format!(
            "warning: cluster `{cluster}` renders no objects (allow-empty is set)\n"
        ));
    }
    // The caller prints and exits: free the render on another thread rather than make it wait
    // (freeing a large render object by object takes longer than printing it).
    // If no thread can be started, the closure and the render are dropped here instead.
    let _ = std::thread::Builder::new().spawn(move || drop(outcome));
    Ok(Generated {
        stdout: text,
        stderr,
    })
}

/// The cluster names of meshform.yaml in `root`, if it exists and parses.
fn cluster_names(root: &Path) -> Result<Vec<String>, Box<Diagnostic>> {
    let data = match crate::source::read_config(&Origin::Dir(root.to_path_buf())) {
        Ok(Some(data)) => data,
        Ok(None) => return Ok(Vec::new()),
        Err(SourceError::Io { source, .. }) => {
            return Err(Box::new(Diagnostic::error(
                Load::Config,
                format!("{}: {source}", config::FILE_NAME),
            )))
        }
        Err(_) => {
            return Err(Box::new(Diagnostic::error(
                Load::Config,
                "meshform.yaml is not a regular file of reasonable size",
            )))
        }
    };
    // (The words `read_to_string` uses for bytes that are not UTF-8.)
    let text = String::from_utf8(data).map_err(|_| {
        Diagnostic::error(
            Load::Config,
            format!("{}: stream did not contain valid UTF-8", config::FILE_NAME),
        )
    })?;
    let cfg = Config::parse(&text).map_err(|e| e.0)?;
    Ok(cfg.clusters.iter().map(|c| c.name.clone()).collect())
}

/// `meshform argocd parameters`: the dynamic parameter announcements (a JSON array, as
/// Argo CD requires; argoproj/argo-cd#16077). It announces `cluster` and lists the clusters
/// of meshform.yaml; the other parameters are announced statically in plugin.yaml. It never
/// fails: a broken meshform.yaml is reported in the tooltip and on stderr.
pub fn parameters(cwd: &Path, env: &Env) -> Value {
    let names = find_roots(cwd, env.get("ARGOCD_APP_SOURCE_PATH").map(String::as_str))
        .and_then(|r| cluster_names(&r.root));
    let tooltip = match &names {
        Ok(n) if n.is_empty() => {
            "The cluster to render. meshform.yaml lists no clusters: any name works.".to_string()
        }
        Ok(n) => format!("The cluster to render, one of: {}.", n.join(", ")),
        Err(d) => {
            eprintln!("warning: cannot list clusters: {d}");
            format!(
                "The cluster to render. meshform.yaml could not be read: {}",
                d.message
            )
        }
    };
    let mut cluster = json!({
        "name": "cluster",
        "title": "Target cluster",
        "tooltip": tooltip,
        "required": true,
        "itemType": "string",
        "collectionType": "string",
    });
    if let Ok(n) = &names {
        if n.len() == 1 {
            // Shown as the suggested value; generate still requires it to be set.
            cluster["string"] = json!(n[0]);
        }
    }
    json!([cluster])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parameters_json_wins_and_null_falls_back() {
        let p = params_from_env(&env(&[(
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"cluster","string":"eu"},{"name":"values","array":["a.json","b.json"]},{"name":"passthrough","string":"true"}]"#,
        ), ("PARAM_CLUSTER", "ignored")]))
        .unwrap();
        assert_eq!(p.cluster.as_deref(), Some("eu"));
        assert_eq!(p.values, ["a.json", "b.json"]);
        assert!(p.passthrough && !p.allow_empty);

        let p = params_from_env(&env(&[
            ("ARGOCD_APP_PARAMETERS", "null"),
            ("PARAM_CLUSTER", "us"),
            ("PARAM_VALUES_1", "b.json"),
            ("PARAM_VALUES_0", "a.json"),
            ("PARAM_ALLOW_EMPTY", "true"),
        ]))
        .unwrap();
        assert_eq!(p.cluster.as_deref(), Some("us"));
        assert_eq!(p.values, ["a.json", "b.json"]);
        assert!(p.allow_empty);
    }

    #[test]
    fn env_cluster_fills_in_and_must_agree() {
        let p = params_from_env(&env(&[
            ("ARGOCD_APP_PARAMETERS", "null"),
            ("ARGOCD_ENV_CLUSTER", "eu"),
        ]))
        .unwrap();
        assert_eq!(p.cluster.as_deref(), Some("eu"));
        let e = params_from_env(&env(&[
            ("PARAM_CLUSTER", "us"),
            ("ARGOCD_ENV_CLUSTER", "eu"),
        ]))
        .unwrap_err();
        assert!(e.message.contains("disagree"), "{}", e.message);
        // Empty values are unset (Argo CD 3.0 passes empty env entries).
        let p = params_from_env(&env(&[("ARGOCD_ENV_CLUSTER", "")])).unwrap();
        assert_eq!(p.cluster, None);
    }

    #[test]
    fn unknown_and_mistyped_parameters_are_errors() {
        for raw in [
            r#"[{"name":"clustr","string":"eu"}]"#,
            r#"[{"name":"cluster","array":["eu"]}]"#,
            r#"[{"name":"values","array":[1]}]"#,
            r#"[{"name":"passthrough","string":"maybe"}]"#,
            r#"{"name":"cluster"}"#,
            "not json",
        ] {
            assert!(
                params_from_env(&env(&[("ARGOCD_APP_PARAMETERS", raw)])).is_err(),
                "{raw}"
            );
        }
        assert!(params_from_env(&env(&[("PARAM_ALOW_EMPTY", "true")])).is_err());
    }

    #[test]
    fn escaping_matches_argo_cd() {
        assert_eq!(escape_param_name("allow-empty"), "ALLOW_EMPTY");
        assert_eq!(escape_param_name("image.tag"), "IMAGE_TAG");
    }

    #[test]
    fn roots_strip_the_source_path_and_find_meshform_yaml() {
        let t = tempfile::tempdir().unwrap();
        let top = std::fs::canonicalize(t.path()).unwrap();
        let app = top.join("mesh/clusters/eu");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(top.join("mesh/meshform.yaml"), "").unwrap();
        let r = find_roots(&app, Some("./mesh/clusters/eu/")).unwrap();
        assert_eq!(r.top, top);
        assert_eq!(r.root, top.join("mesh"));
        // No source path: the top is the working directory, nothing above it is searched.
        let r = find_roots(&app, None).unwrap();
        assert_eq!((r.top.clone(), r.root.clone()), (app.clone(), app.clone()));
        assert!(find_roots(&app, Some("../x")).is_err());
        // manifest-generate-paths: the tarball root is `mesh/`, the app path `clusters/eu`
        // is relative to it, and the source path still names `mesh/clusters/eu`.
        let tarball = top.join("mesh");
        let r = find_roots(&app, Some("mesh/clusters/eu")).unwrap();
        assert_eq!(r.top, top);
        let other = tarball.join("work/clusters/eu");
        std::fs::create_dir_all(&other).unwrap();
        let r = find_roots(&other, Some("mesh/clusters/eu")).unwrap();
        assert_eq!(r.top, tarball.join("work"));
    }

    #[test]
    fn plugin_yaml_announces_what_generate_reads() {
        let text = include_str!("../../plugin/plugin.yaml");
        let parsed = crate::yaml::parse_stream(text, &Default::default()).unwrap();
        let doc = &parsed.documents[0].value;
        assert_eq!(doc["kind"], "ConfigManagementPlugin");
        assert_eq!(doc["metadata"]["name"], "meshform");
        let mut names: Vec<String> = doc["spec"]["parameters"]["static"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        names.push("cluster".into()); // announced dynamically
        names.sort();
        let mut want: Vec<String> = PARAMETERS.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(names, want);
    }
}
