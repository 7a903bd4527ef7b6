//! The KRM function: a `ResourceList` on stdin, one with the rendered items on stdout
//! (kustomize `cmd/config/docs/api-conventions/functions-spec.md`; docs/flux.md#kpt).
//!
//! The items are the package's objects. They are grouped into one file per
//! `internal.config.kubernetes.io/path` annotation (so meshform.yaml `clusters[].paths` globs
//! apply), kustomize's and kpt's own annotations are removed, and the result goes through the
//! same pipeline as `meshform render`. Items are objects, not templates, so there are no
//! template values.
//!
//! By default (`keepSources`) the input items are returned as they came and the rendered
//! objects are added under `<outDir>/<cluster>/<namespace>/<kind>-<name>.yaml`, the layout of
//! `render --out-dir`; items already under `<outDir>/` are an earlier run's output and are
//! replaced, so running twice gives the same package. With `keepSources: false` the rendered
//! objects replace the items (a kustomize transformer).
//!
//! The settings come from the `functionConfig`: a ConfigMap (`data.cluster`,
//! `data.passthrough`, `data.allow-empty`, `data.keep-sources`, `data.out-dir`), meshform.yaml
//! itself (`meshform.dev/v1alpha1` `Config`), or any object with the same settings under
//! `spec` in camelCase and `spec.config` (the content of meshform.yaml). Without a config
//! there, a `Config` item (the package's meshform.yaml with a `metadata.name`) is used.
//! kpt's Kptfile, `meshform.dev` objects and objects annotated
//! `config.kubernetes.io/local-config: "true"` are returned untouched and never rendered.
//! Findings are returned as `results`; on an error the list holds the results and no items,
//! and the exit is non-zero.

use super::Failure;
use crate::config::Config;
use crate::diag::codes::Run;
use crate::diag::{Diagnostic, Severity};
use crate::pipeline;
use crate::render::RenderOptions;
use crate::repo::{LoadError, LoadOptions, Repo};
use crate::source::SourceFile;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashSet};

/// Settings read from the functionConfig.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Cluster to render; every cluster when unset and sources are kept, else optional
    /// only when the config names at most one.
    pub cluster: Option<String>,
    /// Keep non-Gloo items when sources are not kept (default true).
    pub passthrough: bool,
    /// Accept an empty result.
    pub allow_empty: bool,
    /// Return the input items with the rendered objects added (default true); false returns
    /// the rendered objects alone.
    pub keep_sources: bool,
    /// Package directory the rendered objects are written under when sources are kept.
    pub out_dir: String,
    /// meshform.yaml content.
    pub config: Option<Value>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cluster: None,
            passthrough: true,
            allow_empty: false,
            keep_sources: true,
            out_dir: DEFAULT_OUT_DIR.into(),
            config: None,
        }
    }
}

/// Where the rendered objects go in the package by default.
pub const DEFAULT_OUT_DIR: &str = "rendered";

const API_VERSION: &str = "meshform.dev/v1alpha1";

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

/// meshform.yaml content as a full `Config` document.
fn config_document(m: &Map<String, Value>) -> Value {
    let mut c = Map::new();
    c.insert("apiVersion".into(), json!(API_VERSION));
    c.insert("kind".into(), json!("Config"));
    c.extend(m.clone());
    Value::Object(c)
}

/// True for meshform.yaml as a KRM object.
fn is_config(v: &Value) -> bool {
    v["apiVersion"] == API_VERSION && v["kind"] == "Config"
}

/// Reads the settings from a functionConfig (`Value::Null` when there is none).
pub fn settings(fc: &Value) -> Result<Settings, Failure> {
    let mut s = Settings::default();
    if fc.is_null() {
        return Ok(s);
    }
    if is_config(fc) {
        if let Value::Object(m) = fc {
            s.config = Some(Value::Object(m.clone()));
        }
        return Ok(s);
    }
    // ConfigMap data keys, in kpt's `key=value` style, or the camelCase `spec` keys.
    let cm = fc["kind"] == "ConfigMap";
    let key = |camel: &'static str, kebab: &'static str| if cm { kebab } else { camel };
    let (allow_key, keep_key, out_key) = (
        key("allowEmpty", "allow-empty"),
        key("keepSources", "keep-sources"),
        key("outDir", "out-dir"),
    );
    let src = if cm { &fc["data"] } else { &fc["spec"] };
    if let Value::Object(m) = src {
        let known = [
            "cluster",
            "passthrough",
            allow_key,
            keep_key,
            out_key,
            "config",
        ];
        for k in m.keys() {
            if !known.contains(&k.as_str()) {
                return Err(bad(format!(
                    "functionConfig: unknown setting `{k}` (known: {})",
                    known.join(", ")
                )));
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
    if let Some(b) = as_bool(keep_key, &src[keep_key])? {
        s.keep_sources = b;
    }
    match &src[out_key] {
        Value::Null => {}
        Value::String(d) => {
            s.out_dir = clean_path(d).ok_or_else(|| {
                bad(format!(
                    "functionConfig `{out_key}` must be a directory inside the package, not `{d}`"
                ))
            })?
        }
        _ => return Err(bad(format!("functionConfig `{out_key}` must be a path"))),
    }
    match &src["config"] {
        Value::Null => {}
        Value::Object(m) => s.config = Some(config_document(m)),
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

/// Items returned untouched and never rendered: kpt's Kptfile, meshform's own objects
/// (meshform.yaml, a functionConfig kept in the package) and local-config objects.
fn is_meta(item: &Value) -> bool {
    let api = item["apiVersion"].as_str().unwrap_or("");
    api.starts_with("kpt.dev/")
        || api.starts_with("meshform.dev/")
        || item
            .pointer("/metadata/annotations/config.kubernetes.io~1local-config")
            .and_then(Value::as_str)
            == Some("true")
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

/// A diagnostic as a KRM function result.
fn result(d: &Diagnostic) -> Value {
    let mut message = format!("[{}] {}", d.code, d.message);
    if let Some(h) = &d.help {
        message.push_str(&format!(" (help: {h})"));
    }
    let mut r = json!({
        "message": message,
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

/// The ResourceList written on a failure: no items, every diagnostic as a result.
pub fn failure_list(f: &Failure) -> String {
    let mut results: Vec<Value> = f.diagnostics.iter().map(result).collect();
    if results.is_empty() {
        results.push(json!({"message": f.summary, "severity": "error"}));
    }
    list_text(&[], &results).unwrap_or_default()
}

/// Sets both path annotations kpt reads (the current and the legacy one) to `path`.
fn set_path(item: &mut Value, path: &str) {
    let Some(Value::Object(md)) = item.get_mut("metadata") else {
        return;
    };
    let ann = md
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(a) = ann {
        a.insert("internal.config.kubernetes.io/path".into(), json!(path));
        a.insert("config.kubernetes.io/path".into(), json!(path));
    }
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
    let raw = item_texts(text);
    if list["kind"] != "ResourceList" {
        return Err(bad(format!(
            "stdin holds a {}, not a ResourceList",
            list["kind"].as_str().unwrap_or("non-object")
        )));
    }
    let settings = settings(&list["functionConfig"])?;
    let items = match list.get_mut("items").map(Value::take) {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(bad("ResourceList `items` is not a list")),
    };
    let owned = format!("{}/", settings.out_dir);
    // Items returned as they came, the package's meshform.yaml, and the render's input.
    let mut kept = Vec::new();
    let mut configs = Vec::new();
    let mut groups: BTreeMap<String, Vec<(usize, usize, Value)>> = BTreeMap::new();
    for (i, item) in items.into_iter().enumerate() {
        let mut bare = item.clone();
        let (path, index) = strip(&mut bare);
        let path = path.as_deref().and_then(clean_path);
        if settings.keep_sources && path.as_deref().is_some_and(|p| p.starts_with(&owned)) {
            // An earlier run's output: rendered again below.
            continue;
        }
        let source = |item: Value| match raw.as_ref().and_then(|r| r.get(i)) {
            Some(t) if same_item(t, &item) => Chunk::Text(t),
            _ => Chunk::Value(item),
        };
        if is_meta(&item) {
            if is_config(&item) {
                configs.push((path.clone(), bare));
            }
            kept.push(source(item));
            continue;
        }
        if settings.keep_sources {
            kept.push(source(item.clone()));
        }
        let path = path.unwrap_or_else(|| "resourcelist.yaml".into());
        groups.entry(path).or_default().push((index, i, bare));
    }
    let config = match (&settings.config, configs.as_slice()) {
        (Some(c), _) | (None, [(_, c)]) => {
            let text = crate::yaml::to_string(c).map_err(|e| bad(e.to_string()))?;
            Config::parse(&text).map_err(|e| Failure::one(*e.0))?
        }
        (None, []) => Config::default(),
        (None, several) => {
            let paths: Vec<&str> = several
                .iter()
                .map(|(p, _)| p.as_deref().unwrap_or("(no path)"))
                .collect();
            return Err(bad(format!(
                "several meshform.yaml Config items ({}); keep one, or give the config in the \
                 functionConfig",
                paths.join(", ")
            )));
        }
    };
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
    let clusters = match &settings.cluster {
        Some(c) if repo.clusters.contains(c) => vec![c.clone()],
        Some(c) => {
            return Err(bad(format!(
                "cluster `{c}` is not in the config (clusters: {})",
                repo.clusters.join(", ")
            )))
        }
        None if settings.keep_sources || repo.clusters.len() == 1 => repo.clusters.clone(),
        None => {
            return Err(bad(format!(
                "set `cluster` in the functionConfig; the config has several: {}",
                repo.clusters.join(", ")
            )))
        }
    };
    let names = clusters.join(", ");
    let opts = pipeline::Options {
        load,
        render: RenderOptions {
            clusters,
            // Kept sources already hold the non-Gloo items.
            passthrough: settings.passthrough && !settings.keep_sources,
            // Held until the run is known to be clean, then written once: as compact nodes.
            keep: crate::render::Keep::Nodes,
            ..RenderOptions::default()
        },
        release_inputs: true,
        ..pipeline::Options::default()
    };
    let outcome = pipeline::run(repo, &opts).map_err(items_failure)?;
    let (outcome, shown) = super::shown_or_fail(outcome, &names)?;
    if outcome.nodes.is_empty() && !settings.allow_empty {
        return Err(bad(format!(
            "cluster `{names}` renders no objects; set allowEmpty (allow-empty in a ConfigMap) \
             if that is intended"
        )));
    }
    let mut items = kept;
    let mut taken = HashSet::new();
    for o in &outcome.nodes {
        let mut v = o.value.to_json();
        if settings.keep_sources {
            let id = o.id();
            let ns = if id.namespace.is_empty() {
                "_cluster".to_string()
            } else {
                crate::render::emit::safe_component(&id.namespace)
            };
            let path = format!(
                "{}/{}/{ns}/{}-{}.yaml",
                settings.out_dir,
                crate::render::emit::safe_component(&o.cluster),
                crate::render::emit::safe_component(&id.kind),
                crate::render::emit::safe_component(&id.name)
            );
            if !taken.insert(path.clone()) {
                return Err(bad(format!(
                    "two objects map to the same file {path}; names differ only in characters \
                     that are not allowed in file names"
                )));
            }
            set_path(&mut v, &path);
        }
        items.push(Chunk::Value(v));
    }
    let results: Vec<Value> = shown.iter().map(result).collect();
    list_text(&items, &results).map_err(|e| bad(e.to_string()))
}

/// One output item: the input's own text (kept byte for byte) or a value to write.
enum Chunk<'a> {
    Text(&'a str),
    Value(Value),
}

/// The output ResourceList: the items, then the findings as `results`.
fn list_text(items: &[Chunk], results: &[Value]) -> Result<String, crate::yaml::EmitError> {
    let mut out = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n");
    if items.is_empty() {
        out.push_str("items: []\n");
    } else {
        out.push_str("items:\n");
    }
    for c in items {
        match c {
            Chunk::Text(t) => {
                out.push_str(t);
                if !t.ends_with('\n') {
                    out.push('\n');
                }
            }
            Chunk::Value(v) => out.push_str(&crate::yaml::to_string(&[v])?),
        }
    }
    if !results.is_empty() {
        out.push_str("results:\n");
        out.push_str(&crate::yaml::to_string(&results)?);
    }
    Ok(out)
}

/// The text of each item of a ResourceList written as kpt writes it (`items:` at column 0,
/// each item starting with `- ` at column 0), so that kept items go back with their comments
/// and flow style. None when the list is written another way.
fn item_texts(text: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut inside = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let here = offset;
        offset += line.len();
        if !inside {
            inside = line.trim_end() == "items:";
            if inside && !out.is_empty() {
                return None;
            }
            continue;
        }
        if line.starts_with("- ") || line.trim_end() == "-" {
            if let Some(s) = start {
                out.push(&text[s..here]);
            }
            start = Some(here);
        } else if line.starts_with(|c: char| !c.is_whitespace() && c != '#') {
            // The next top-level key ends the list.
            if let Some(s) = start.take() {
                out.push(&text[s..here]);
            }
            inside = false;
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    (!out.is_empty()).then_some(out)
}

/// True when `text` (one `- ` sequence entry) holds exactly `item`.
fn same_item(text: &str, item: &Value) -> bool {
    let Ok(parsed) = crate::yaml::parse_stream(text, &Default::default()) else {
        return false;
    };
    match parsed.documents.first().map(|d| d.value.to_json()) {
        Some(Value::Array(a)) => a.len() == 1 && a[0] == *item,
        _ => false,
    }
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
        let s = settings(&json!({"kind": "ConfigMap", "data": {"cluster": "eu", "passthrough": "false", "allow-empty": "true", "keep-sources": "false", "out-dir": "./out/"}})).unwrap();
        assert_eq!(s.cluster.as_deref(), Some("eu"));
        assert!(!s.passthrough && s.allow_empty && !s.keep_sources);
        assert_eq!(s.out_dir, "out");
        let s = settings(&json!({"kind": "Render", "spec": {"cluster": "us", "config": {"clusters": [{"name": "us"}]}}})).unwrap();
        assert!(s.passthrough && s.keep_sources);
        assert_eq!(s.out_dir, DEFAULT_OUT_DIR);
        assert_eq!(s.config.unwrap()["kind"], "Config");
        assert!(settings(&json!({"kind": "ConfigMap", "data": {"clustr": "eu"}})).is_err());
        assert!(settings(&json!({"kind": "Render", "spec": {"outDir": "../x"}})).is_err());
        // meshform.yaml itself.
        let fc = json!({"apiVersion": "meshform.dev/v1alpha1", "kind": "Config",
            "metadata": {"name": "meshform"}, "clusters": [{"name": "eu"}]});
        let s = settings(&fc).unwrap();
        assert_eq!(s.config, Some(fc));
        assert!(s.keep_sources && s.cluster.is_none());
    }

    #[test]
    fn meta_items_are_not_rendered() {
        assert!(is_meta(
            &json!({"apiVersion": "kpt.dev/v1", "kind": "Kptfile"})
        ));
        assert!(is_meta(
            &json!({"apiVersion": "meshform.dev/v1alpha1", "kind": "Config"})
        ));
        assert!(is_meta(
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "annotations": {"config.kubernetes.io/local-config": "true"}}})
        ));
        assert!(!is_meta(&json!({"apiVersion": "v1", "kind": "ConfigMap"})));
    }

    #[test]
    fn kept_items_keep_their_text() {
        let text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n\
                    - # a comment\n  kind: A\n  spec: {a: [1, 2]}\n- kind: B\n\
                    functionConfig:\n  kind: ConfigMap\n";
        let chunks = item_texts(text).unwrap();
        assert_eq!(
            chunks,
            [
                "- # a comment\n  kind: A\n  spec: {a: [1, 2]}\n",
                "- kind: B\n"
            ]
        );
        assert!(same_item(
            chunks[0],
            &json!({"kind": "A", "spec": {"a": [1, 2]}})
        ));
        assert!(!same_item(chunks[0], &json!({"kind": "B"})));
        // JSON, or a list indented another way, is written from the values.
        assert_eq!(item_texts(r#"{"kind": "ResourceList", "items": []}"#), None);
        let list = list_text(
            &[Chunk::Text(chunks[1]), Chunk::Value(json!({"kind": "C"}))],
            &[],
        )
        .unwrap();
        assert_eq!(
            list,
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: B\n- kind: C\n"
        );
    }
}
