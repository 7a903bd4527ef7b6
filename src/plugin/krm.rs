//! The KRM function: a `ResourceList` on stdin, one with the rendered items on stdout
//! (kustomize `cmd/config/docs/api-conventions/functions-spec.md`; docs/flux.md).
//!
//! The items are the repo's objects. They are grouped into one file per
//! `internal.config.kubernetes.io/path` annotation (so meshform.yaml `clusters[].paths` globs
//! apply), kustomize's own annotations are removed, and the result goes through the same
//! pipeline as `meshform render`. Settings come from the `functionConfig`: either a
//! ConfigMap (`data.cluster`, `data.passthrough`, `data.allow-empty`) or any object with
//! `spec.cluster`, `spec.passthrough`, `spec.allowEmpty` and `spec.config` (the content of
//! meshform.yaml). Items are objects, not templates, so there are no template values.
//! Non-Gloo items are kept unless `passthrough` is false.
//! Warnings are returned as `results`; on any error nothing is written to stdout.

use super::Failure;
use crate::config::Config;
use crate::diag::codes::Run;
use crate::diag::{Diagnostic, Severity};
use crate::pipeline;
use crate::render::RenderOptions;
use crate::repo::{LoadError, LoadOptions, Repo};
use crate::source::SourceFile;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Settings read from the functionConfig.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// Cluster to render; optional when the config names at most one.
    pub cluster: Option<String>,
    /// Keep non-Gloo items (default true).
    pub passthrough: bool,
    /// Accept an empty result.
    pub allow_empty: bool,
    /// meshform.yaml content.
    pub config: Option<Value>,
}

fn bad(m: impl Into<String>) -> Failure {
    Failure::one(Diagnostic::error(Run::Krm, m))
}

/// The items could not be loaded or checked.
fn items_failure(e: LoadError) -> Failure {
    let diagnostics = e.into_diagnostics();
    Failure {
        summary: format!(
            "{} in the items; nothing rendered",
            crate::diag::count(diagnostics.len(), "problem", "problems")
        ),
        diagnostics,
        ..Failure::default()
    }
}

fn as_bool(name: &str, v: &Value) -> Result<Option<bool>, Failure> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" | "yes" | "1" => Ok(Some(true)),
            "false" | "no" | "0" => Ok(Some(false)),
            _ => Err(bad(format!(
                "functionConfig `{name}` must be true or false"
            ))),
        },
        _ => Err(bad(format!(
            "functionConfig `{name}` must be true or false"
        ))),
    }
}

/// Reads the settings from a functionConfig (`Value::Null` when there is none).
pub fn settings(fc: &Value) -> Result<Settings, Failure> {
    let mut s = Settings {
        passthrough: true,
        ..Settings::default()
    };
    if fc.is_null() {
        return Ok(s);
    }
    let (src, allow_key) = if fc["kind"] == "ConfigMap" {
        (&fc["data"], "allow-empty")
    } else {
        (&fc["spec"], "allowEmpty")
    };
    if let Value::Object(m) = src {
        for k in m.keys() {
            if !["cluster", "passthrough", allow_key, "config"].contains(&k.as_str()) {
                return Err(bad(format!("functionConfig: unknown setting `{k}`")));
            }
        }
    }
    s.cluster = src["cluster"]
        .as_str()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if let Some(b) = as_bool("passthrough", &src["passthrough"])? {
        s.passthrough = b;
    }
    s.allow_empty = as_bool(allow_key, &src[allow_key])?.unwrap_or(false);
    match &src["config"] {
        Value::Null => {}
        Value::Object(m) => {
            let mut c = Map::new();
            c.insert("apiVersion".into(), json!("meshform.dev/v1alpha1"));
            c.insert("kind".into(), json!("Config"));
            c.extend(m.clone());
            s.config = Some(Value::Object(c));
        }
        _ => {
            return Err(bad(
                "functionConfig `config` must be a mapping (meshform.yaml)",
            ))
        }
    }
    Ok(s)
}

/// Annotation prefixes kustomize and kpt add to items for their own bookkeeping.
const INTERNAL: &[&str] = &[
    "config.kubernetes.io/",
    "internal.config.kubernetes.io/",
    "config.k8s.io/",
    "kustomize.config.k8s.io/",
];

/// Removes bookkeeping annotations; returns the item's path and index annotations.
fn strip(item: &mut Value) -> (Option<String>, usize) {
    let mut path = None;
    let mut index = usize::MAX;
    if let Some(Value::Object(ann)) = item.pointer_mut("/metadata/annotations") {
        for key in [
            "internal.config.kubernetes.io/path",
            "config.kubernetes.io/path",
        ] {
            if path.is_none() {
                path = ann.get(key).and_then(Value::as_str).map(str::to_string);
            }
        }
        for key in [
            "internal.config.kubernetes.io/index",
            "config.kubernetes.io/index",
        ] {
            if index == usize::MAX {
                if let Some(i) = ann
                    .get(key)
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse().ok())
                {
                    index = i;
                }
            }
        }
        ann.retain(|k, _| !INTERNAL.iter().any(|p| k.starts_with(p)));
        let empty = ann.is_empty();
        if empty {
            if let Some(Value::Object(md)) = item.get_mut("metadata") {
                md.remove("annotations");
            }
        }
    }
    (path, index)
}

/// A repo-relative path from an annotation: no `..`, no leading `/`.
fn clean_path(p: &str) -> Option<String> {
    let parts: Vec<&str> = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.is_empty() || parts.contains(&"..") {
        return None;
    }
    Some(parts.join("/"))
}

fn result(d: &Diagnostic) -> Value {
    let mut r = json!({
        "message": format!("[{}] {}", d.code, d.message),
        "severity": match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        },
    });
    if let Some(o) = &d.object {
        r["resourceRef"] = json!({
            "apiVersion": o.api_version, "kind": o.kind, "name": o.name, "namespace": o.namespace,
        });
    }
    if let Some(f) = &d.field {
        r["field"] = json!({"path": f});
    }
    if let Some(l) = &d.location {
        r["file"] = json!({"path": &*l.file});
    }
    r
}

/// Runs the function on the bytes of a ResourceList.
pub fn run(input: &[u8]) -> Result<String, Failure> {
    let text = std::str::from_utf8(input).map_err(|_| bad("stdin is not UTF-8"))?;
    let defaults = crate::config::Limits::default();
    let parsed = crate::yaml::parse_stream(text, &defaults.yaml()).map_err(|e| {
        bad(format!(
            "stdin:{}:{}: {}",
            e.pos.line, e.pos.column, e.message
        ))
    })?;
    let Some(doc) = parsed.documents.into_iter().next() else {
        return Err(bad("stdin holds no ResourceList"));
    };
    let mut list = doc.value.to_json();
    if list["kind"] != "ResourceList" {
        return Err(bad(format!(
            "stdin holds a {}, not a ResourceList",
            list["kind"].as_str().unwrap_or("non-object")
        )));
    }
    let settings = settings(&list["functionConfig"])?;
    let config = match &settings.config {
        Some(c) => {
            let text = crate::yaml::to_string(c).map_err(|e| bad(e.to_string()))?;
            Config::parse(&text).map_err(|e| Failure::one(*e.0))?
        }
        None => Config::default(),
    };
    let items = match list.get_mut("items").map(Value::take) {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(bad("ResourceList `items` is not a list")),
    };
    let mut groups: BTreeMap<String, Vec<(usize, usize, Value)>> = BTreeMap::new();
    for (i, mut item) in items.into_iter().enumerate() {
        let (path, index) = strip(&mut item);
        let path = path
            .as_deref()
            .and_then(clean_path)
            .unwrap_or_else(|| "resourcelist.yaml".into());
        groups.entry(path).or_default().push((index, i, item));
    }
    let mut files = Vec::new();
    for (path, mut docs) in groups {
        docs.sort_by_key(|(index, i, _)| (*index, *i));
        let mut out = String::new();
        for (_, _, v) in &docs {
            out.push_str("---\n");
            out.push_str(&crate::yaml::to_string(v).map_err(|e| bad(e.to_string()))?);
        }
        files.push(SourceFile {
            path,
            data: out.into_bytes(),
            blob: None,
        });
    }
    let fallback = settings
        .cluster
        .clone()
        .unwrap_or_else(|| "cluster1".into());
    let load = LoadOptions {
        fallback_cluster: Some(fallback.clone()),
        clusters: settings.cluster.iter().cloned().collect(),
        ..LoadOptions::default()
    };
    let limits = config.limits;
    let repo = Repo::from_files(config, files, &fallback, &load, limits).map_err(items_failure)?;
    if let Some(d) = pipeline::no_manifests(&repo, "the ResourceList's items") {
        return Err(items_failure(LoadError::Invalid(vec![d])));
    }
    let cluster = match &settings.cluster {
        Some(c) if repo.clusters.contains(c) => c.clone(),
        Some(c) => {
            return Err(bad(format!(
                "cluster `{c}` is not in the config (clusters: {})",
                repo.clusters.join(", ")
            )))
        }
        None if repo.clusters.len() == 1 => repo.clusters[0].clone(),
        None => {
            return Err(bad(format!(
                "set `cluster` in the functionConfig; the config has several: {}",
                repo.clusters.join(", ")
            )))
        }
    };
    let opts = pipeline::Options {
        load,
        render: RenderOptions {
            clusters: vec![cluster.clone()],
            passthrough: settings.passthrough,
            // Held until the run is known to be clean, then written once: as compact nodes.
            keep: crate::render::Keep::Nodes,
            ..RenderOptions::default()
        },
        release_inputs: true,
        ..pipeline::Options::default()
    };
    let outcome = pipeline::run(repo, &opts).map_err(items_failure)?;
    let (outcome, shown) = super::shown_or_fail(outcome, &cluster)?;
    if outcome.nodes.is_empty() && !settings.allow_empty {
        return Err(bad(format!(
            "cluster `{cluster}` renders no objects; set allowEmpty (allow-empty in a ConfigMap) \
             if that is intended"
        )));
    }
    /// The function's output (KRM functions specification): the rendered objects as items, the
    /// findings as results.
    #[derive(serde::Serialize)]
    struct ResourceList<'a> {
        #[serde(rename = "apiVersion")]
        api_version: &'static str,
        kind: &'static str,
        items: Vec<&'a crate::node::Node>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        results: Vec<Value>,
    }
    let out = ResourceList {
        api_version: "config.kubernetes.io/v1",
        kind: "ResourceList",
        items: outcome.nodes.iter().map(|o| &*o.value).collect(),
        results: shown.iter().map(result).collect(),
    };
    crate::yaml::to_string(&out).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_bookkeeping_annotations() {
        let mut v = json!({"metadata": {"name": "a", "annotations": {
            "config.kubernetes.io/index": "1",
            "internal.config.kubernetes.io/path": "gloo/rt.yaml",
            "config.k8s.io/id": "1",
        }}});
        let (p, i) = strip(&mut v);
        assert_eq!((p.as_deref(), i), (Some("gloo/rt.yaml"), 1));
        assert_eq!(v, json!({"metadata": {"name": "a"}}));
        let mut v = json!({"metadata": {"annotations": {"keep": "x"}}});
        strip(&mut v);
        assert_eq!(v["metadata"]["annotations"]["keep"], "x");
    }

    #[test]
    fn paths_stay_inside() {
        assert_eq!(clean_path("./a//b.yaml").as_deref(), Some("a/b.yaml"));
        assert_eq!(clean_path("/a/b.yaml").as_deref(), Some("a/b.yaml"));
        assert_eq!(clean_path("../x.yaml"), None);
    }

    #[test]
    fn settings_from_either_form() {
        let s = settings(&json!({"kind": "ConfigMap", "data": {"cluster": "eu", "passthrough": "false", "allow-empty": "true"}})).unwrap();
        assert_eq!(s.cluster.as_deref(), Some("eu"));
        assert!(!s.passthrough && s.allow_empty);
        let s = settings(&json!({"kind": "Render", "spec": {"cluster": "us", "config": {"clusters": [{"name": "us"}]}}})).unwrap();
        assert!(s.passthrough);
        assert_eq!(s.config.unwrap()["kind"], "Config");
        assert!(settings(&json!({"kind": "ConfigMap", "data": {"clustr": "eu"}})).is_err());
    }
}
