//! Small repos for policy tests: a fixture's first two documents of `routetable.yaml` (its
//! tables) with the policies replaced, policy manifests, and the rendered HTTP routes by name.
#![allow(dead_code)]

use super::{copy_tree, root, TempRepo};
use std::collections::BTreeMap;

/// `fixtures/features/<fixture>` with its `routetable.yaml` cut to the first two documents
/// and `policies` written as `policy.yaml`.
pub fn tables_with(fixture: &str, policies: &str) -> TempRepo {
    let d = TempRepo::new();
    copy_tree(&root().join("fixtures/features").join(fixture), d.path());
    let tables = std::fs::read_to_string(d.path().join("routetable.yaml")).expect("fixture");
    let tables = tables
        .split("\n---\n")
        .take(2)
        .collect::<Vec<_>>()
        .join("\n---\n");
    d.write("routetable.yaml", tables);
    d.write("policy.yaml", policies);
    d
}

/// A policy of `kind` (`group` like `resilience`) named `name` in namespace `app`; `extra`
/// continues `metadata`, `spec` is the indented body of `spec`.
pub fn policy(group: &str, kind: &str, name: &str, extra: &str, spec: &str) -> String {
    format!(
        "apiVersion: {group}.policy.gloo.solo.io/v2
kind: {kind}
metadata:
  name: {name}
  namespace: app{extra}
spec:
{spec}"
    )
}

/// The HTTP routes of the rendered VirtualServices, by name.
pub fn routes(out: &str) -> BTreeMap<String, serde_json::Value> {
    let mut m = BTreeMap::new();
    for doc in out.split("\n---\n") {
        let y: serde_json::Value = serde_saphyr::from_str(doc).expect("rendered YAML");
        for r in y["spec"]["http"].as_array().into_iter().flatten() {
            m.insert(
                r["name"].as_str().unwrap_or_default().to_string(),
                r.clone(),
            );
        }
    }
    m
}

/// The one object `meshform diff --format json` reports between the last commit of `repo`
/// and its working tree (exit 0); the test fails if there is not exactly one.
pub fn only_changed_object(repo: &TempRepo) -> serde_json::Value {
    let v = super::meshform()
        .current_dir(repo.path())
        .args(["diff", "--format", "json"])
        .run()
        .exit(0)
        .json();
    let objs = v["objects"].as_array().expect("objects");
    assert_eq!(objs.len(), 1, "{v:#}");
    objs[0].clone()
}

/// The files an object of a diff report names among its sources.
pub fn source_files(o: &serde_json::Value) -> Vec<&str> {
    o["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["file"].as_str())
        .collect()
}

/// `fixtures/features/<fixture>` committed in a git repo, then its `routetable.yaml` edited
/// (`from` replaced by `to`) in the working tree.
pub fn fixture_edited(fixture: &str, from: &str, to: &str) -> TempRepo {
    let t = TempRepo::new();
    copy_tree(&root().join("fixtures/features").join(fixture), t.path());
    t.git(&["init", "-q", "-b", "main"]);
    t.commit("base");
    let tables = std::fs::read_to_string(t.path().join("routetable.yaml")).expect("fixture");
    assert!(tables.contains(from), "{fixture}: no `{from}`");
    t.write("routetable.yaml", tables.replace(from, to));
    t
}

/// The names of the sources of kind `kind` a diff report's object names.
pub fn source_names<'a>(o: &'a serde_json::Value, kind: &str) -> Vec<&'a str> {
    o["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["kind"] == kind)
        .filter_map(|s| s["name"].as_str())
        .collect()
}
