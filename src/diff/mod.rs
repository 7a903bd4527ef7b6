//! Diffs of rendered output between two revisions.
//!
//! Objects are matched by (cluster, API group, kind, namespace, name), so a change of API
//! version (`v1beta1` → `v1`) is a change of the same object, as `kubectl diff` sees it.
//! Values are compared as data: key order and YAML formatting never make a difference, and
//! entries of Istio's keyed lists (routes, subsets, servers, ports) are matched by key
//! (`keyed`), so an entry that only moved is no change.
//! Secrets are masked before anything is printed (`mask`). The formats live in `text`,
//! `json` and `report::markdown`; the routing pictures in `routing`; the route-level summary
//! in `routes`; the requests whose outcome changed come from `route_test::changes`.

pub mod json;
pub mod keyed;
pub mod mask;
pub mod paths;
pub mod routes;
pub mod routing;
pub mod text;

use crate::diag::{Diagnostic, Severity};
use crate::istio::object::{Kept, SourceRef};
use crate::manifest::ObjectId;
use crate::node::Node;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// What happened to an object between base and head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only in head.
    Added,
    /// In both, with a different value.
    Changed,
    /// Only in base.
    Removed,
}

impl Change {
    /// `added`, `changed` or `removed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Changed => "changed",
            Change::Removed => "removed",
        }
    }
}

/// The identity objects are matched by across revisions: cluster, API group (empty for
/// core), kind, namespace (empty for cluster-scoped objects) and name, borrowed from the
/// object, so matching allocates nothing.
pub type Key<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

/// The key of a rendered object ([`Rendered::id_str`](crate::istio::object::Rendered::id_str), the
/// apiVersion reduced to its group).
pub fn key_of(r: &Kept) -> Key<'_> {
    let [api_version, kind, namespace, name] = r.id_str();
    (
        &r.cluster,
        crate::manifest::group_of(api_version),
        kind,
        namespace,
        name,
    )
}

/// One added, changed or removed object. Values are already masked.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectDiff {
    /// Cluster.
    pub cluster: String,
    /// The object's identity (head's apiVersion when it exists in head).
    pub id: ObjectId,
    /// What happened.
    pub change: Change,
    /// The base value (masked), if any.
    pub before: Option<Value>,
    /// The head value (masked), if any.
    pub after: Option<Value>,
    /// Changed field paths (`spec.http[orders].route[0].weight`, keyed entries by key);
    /// empty for added and removed.
    pub paths: Vec<String>,
    /// Unified diff of the YAML of both sides, hunks only (no `---`/`+++` header): headed by
    /// line numbers, or by field and entry for an object with keyed lists (`keyed::unified`).
    pub unified: String,
    /// Lines added in `unified`.
    pub lines_added: usize,
    /// Lines removed in `unified`.
    pub lines_removed: usize,
    /// The Gloo (or passthrough) source objects that produced it: head's, or base's when
    /// removed.
    pub sources: Vec<SourceRef>,
}

impl ObjectDiff {
    /// A path naming the object in diff headers: `cluster/apiVersion/Kind/namespace/name`.
    pub fn file_label(&self) -> String {
        let mut s = format!("{}/{}/{}/", self.cluster, self.id.api_version, self.id.kind);
        if !self.id.namespace.is_empty() {
            s.push_str(&self.id.namespace);
            s.push('/');
        }
        s.push_str(&self.id.name);
        s
    }
}

/// Options of a comparison.
#[derive(Debug, Clone, Copy)]
pub struct DiffOptions {
    /// Lines of context around each change.
    pub context: usize,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions { context: 3 }
    }
}

/// One side of the comparison, as shown to the user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Side {
    /// What the user asked for: `HEAD`, `merge-base:main`, `working tree`.
    pub label: String,
    /// The resolved commit id, if a revision.
    pub commit: Option<String>,
}

impl Side {
    /// `label (abc1234)` or just the label.
    pub fn describe(&self) -> String {
        match &self.commit {
            Some(c) => format!("{} ({})", self.label, &c[..c.len().min(7)]),
            None => self.label.clone(),
        }
    }
}

/// Counts per cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Objects only in head.
    pub added: usize,
    /// Objects in both, different.
    pub changed: usize,
    /// Objects only in base.
    pub removed: usize,
    /// Objects in both, equal.
    pub unchanged: usize,
}

impl Counts {
    /// True if anything was added, changed or removed.
    pub fn any(&self) -> bool {
        self.added + self.changed + self.removed > 0
    }
}

/// Everything a diff found, ready for any format.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The base side.
    pub base: Side,
    /// The head side.
    pub head: Side,
    /// Why the base could not be rendered (head is then shown as all added).
    pub base_error: Option<Vec<Diagnostic>>,
    /// Added, changed and removed objects, sorted by key.
    pub objects: Vec<ObjectDiff>,
    /// Counts per cluster (every cluster with objects on either side).
    pub clusters: BTreeMap<String, Counts>,
    /// Policy findings in head that are not in base.
    pub findings_added: Vec<Diagnostic>,
    /// Policy findings in base that are gone in head.
    pub findings_fixed: Vec<Diagnostic>,
    /// Hosts whose routing changed, with the before and after pictures.
    pub routing: Vec<routing::HostChange>,
    /// Gloo routes added, removed or changed ([`routes::changes`]).
    pub routes: Vec<routes::RouteChange>,
    /// Requests of the repo's route tests whose outcome changed
    /// ([`crate::route_test::changes::changes`]).
    pub outcomes: Vec<crate::route_test::changes::OutcomeChange>,
}

impl Report {
    /// True if any object was added, changed or removed.
    pub fn has_changes(&self) -> bool {
        !self.objects.is_empty()
    }

    /// Totals over all clusters.
    pub fn totals(&self) -> Counts {
        self.clusters
            .values()
            .fold(Counts::default(), |a, c| Counts {
                added: a.added + c.added,
                changed: a.changed + c.changed,
                removed: a.removed + c.removed,
                unchanged: a.unchanged + c.unchanged,
            })
    }
}

/// Builds the report from the rendered objects and findings of both sides. `base` is `None`
/// when the base failed to render (`base_error` says why); head is then all added.
pub fn build(
    base_side: Side,
    head_side: Side,
    base: Option<(&[Kept], &[Diagnostic])>,
    base_error: Option<Vec<Diagnostic>>,
    head: (&[Kept], &[Diagnostic]),
    opts: &DiffOptions,
) -> Report {
    let start = std::time::Instant::now();
    let (base_objects, base_findings) = base.unwrap_or((&[], &[]));
    let (objects, clusters) = compare(base_objects, head.0, opts);
    tracing::debug!("diff: objects compared in {:?}", start.elapsed());
    let routing = routing::changes(base_objects, head.0, &objects);
    tracing::debug!("diff: routing pictures at {:?}", start.elapsed());
    let (findings_added, findings_fixed) = if base.is_some() {
        findings_delta(base_findings, head.1)
    } else {
        (Vec::new(), Vec::new())
    };
    tracing::debug!("diff: findings compared at {:?}", start.elapsed());
    Report {
        base: base_side,
        head: head_side,
        base_error,
        objects,
        clusters,
        findings_added,
        findings_fixed,
        routing,
        routes: Vec::new(),
        outcomes: Vec::new(),
    }
}

/// Matches the objects of both sides and diffs the ones that differ, in parallel. Returns the
/// differences sorted by key and the counts per cluster.
pub fn compare(
    base: &[Kept],
    head: &[Kept],
    opts: &DiffOptions,
) -> (Vec<ObjectDiff>, BTreeMap<String, Counts>) {
    let t = std::time::Instant::now();
    let base_keys: Vec<Key> = base.par_iter().map(key_of).collect();
    let head_keys: Vec<Key> = head.par_iter().map(key_of).collect();
    type Seeded = crate::hashing::FastState;
    let index: HashMap<&Key, usize, Seeded> =
        base_keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let head_set: HashSet<&Key, Seeded> = head_keys.iter().collect();
    tracing::debug!("compare: keys at {:?}", t.elapsed());

    // (key, diff or None when equal)
    let mut results: Vec<(&Key, Option<ObjectDiff>)> = head
        .par_iter()
        .zip(head_keys.par_iter())
        .map(|(h, k)| {
            let d = match index.get(k) {
                // A head object taken from the base's render is the same allocation.
                Some(&i) if Arc::ptr_eq(&base[i].value, &h.value) => None,
                Some(&i) if same(&base[i].value, &h.value) => None,
                Some(&i) => object_diff(Some(&base[i]), Some(h), opts),
                None => object_diff(None, Some(h), opts),
            };
            (k, d)
        })
        .collect();
    let removed: Vec<(&Key, Option<ObjectDiff>)> = base
        .par_iter()
        .zip(base_keys.par_iter())
        .filter(|(_, k)| !head_set.contains(k))
        .map(|(b, k)| (k, object_diff(Some(b), None, opts)))
        .collect();
    results.extend(removed);
    tracing::debug!("compare: matched and diffed at {:?}", t.elapsed());
    results.par_sort_by(|a, b| a.0.cmp(b.0));

    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut diffs = Vec::new();
    for (k, d) in results {
        if !counts.contains_key(k.0) {
            counts.insert(k.0.to_string(), Counts::default());
        }
        let Some(c) = counts.get_mut(k.0) else {
            continue;
        };
        match d {
            None => c.unchanged += 1,
            Some(d) => {
                match d.change {
                    Change::Added => c.added += 1,
                    Change::Changed => c.changed += 1,
                    Change::Removed => c.removed += 1,
                }
                diffs.push(d);
            }
        }
    }
    (diffs, counts)
}

/// `a == b`, fast when maps hold their keys in the same order (rendered objects do: keys are
/// sorted): pairs are compared in step, and only maps whose key order differs fall back to
/// lookups by key.
pub fn same(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Object(x), Node::Object(y)) => {
            x.len() == y.len()
                && (x
                    .iter()
                    .zip(y.iter())
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && same(v1, v2))
                    || x == y)
        }
        (Node::Array(x), Node::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v1, v2)| same(v1, v2))
        }
        _ => a == b,
    }
}

/// YAML of a value for diffing; JSON if YAML emission fails (it should not).
fn to_yaml(v: &Value) -> String {
    let mut s = crate::yaml::to_string(v)
        .unwrap_or_else(|_| serde_json::to_string_pretty(v).unwrap_or_default());
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// The diff of an object that differs, or `None` when the only differences are moves of
/// entries in keyed lists whose order means nothing.
fn object_diff(base: Option<&Kept>, head: Option<&Kept>, opts: &DiffOptions) -> Option<ObjectDiff> {
    // Only objects that differ come here: their values become JSON for masking and output.
    let (base_json, head_json) = (
        base.map(|r| r.value.to_json()),
        head.map(|r| r.value.to_json()),
    );
    let (before, after) = mask::mask_pair(base_json.as_ref(), head_json.as_ref());
    let any = head.or(base).map(|r| (r.cluster.clone(), r.id()));
    let (cluster, id) = any.unwrap_or_else(|| {
        (
            String::new(),
            ObjectId {
                api_version: String::new(),
                kind: String::new(),
                namespace: String::new(),
                name: String::new(),
            },
        )
    });
    let change = match (base, head) {
        (Some(_), Some(_)) => Change::Changed,
        (None, _) => Change::Added,
        (Some(_), None) => Change::Removed,
    };
    let paths = match (&before, &after) {
        (Some(b), Some(a)) => paths::changed_paths(b, a),
        _ => Vec::new(),
    };
    let keyed = match (&before, &after) {
        (Some(b), Some(a)) => keyed::unified(b, a, opts.context),
        _ => None,
    };
    let (unified, lines_added, lines_removed) = match keyed {
        Some(k) if k.text.is_empty() && paths.is_empty() => return None,
        Some(k) => (k.text, k.added, k.removed),
        None => line_diff(before.as_ref(), after.as_ref(), opts),
    };
    let sources = head.or(base).map(|r| r.sources.clone()).unwrap_or_default();
    Some(ObjectDiff {
        cluster,
        id,
        change,
        before,
        after,
        paths,
        unified,
        lines_added,
        lines_removed,
        sources,
    })
}

/// The git-style unified diff of the YAML of both sides (hunks headed by line numbers), with
/// its `+` and `-` line counts.
fn line_diff(
    before: Option<&Value>,
    after: Option<&Value>,
    opts: &DiffOptions,
) -> (String, usize, usize) {
    let old = before.map(to_yaml).unwrap_or_default();
    let new = after.map(to_yaml).unwrap_or_default();
    let td = similar::TextDiff::from_lines(&old, &new);
    let mut lines_added = 0;
    let mut lines_removed = 0;
    for op in td.ops() {
        for c in td.iter_changes(op) {
            match c.tag() {
                similar::ChangeTag::Insert => lines_added += 1,
                similar::ChangeTag::Delete => lines_removed += 1,
                similar::ChangeTag::Equal => {}
            }
        }
    }
    let unified = td
        .unified_diff()
        .context_radius(opts.context)
        .missing_newline_hint(false)
        .to_string();
    (unified, lines_added, lines_removed)
}

/// The identity of a finding across revisions: code, object and message (locations move).
type FindingKey<'a> = (&'a str, Option<&'a ObjectId>, &'a str);

fn finding_key(d: &Diagnostic) -> FindingKey<'_> {
    (&d.code, d.object.as_ref(), &d.message)
}

/// Errors and warnings in head and not in base (added), and in base and not in head (fixed),
/// compared by (code, object, message). Infos are left out.
pub fn findings_delta(
    base: &[Diagnostic],
    head: &[Diagnostic],
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let shown = |d: &&Diagnostic| d.severity != Severity::Info;
    let base_keys: BTreeSet<FindingKey<'_>> = base.iter().filter(shown).map(finding_key).collect();
    let head_keys: BTreeSet<FindingKey<'_>> = head.iter().filter(shown).map(finding_key).collect();
    let mut added: Vec<Diagnostic> = head
        .iter()
        .filter(shown)
        .filter(|d| !base_keys.contains(&finding_key(d)))
        .cloned()
        .collect();
    let mut fixed: Vec<Diagnostic> = base
        .iter()
        .filter(shown)
        .filter(|d| !head_keys.contains(&finding_key(d)))
        .cloned()
        .collect();
    crate::diag::normalize(&mut added);
    crate::diag::normalize(&mut fixed);
    (added, fixed)
}

/// How a changed outcome's case fares: `, now fails`, `, now passes`, or nothing when it
/// passes or fails on both sides alike.
pub fn outcome_verdict(c: &crate::route_test::changes::OutcomeChange) -> &'static str {
    match (c.before.passes, c.after.passes) {
        (true, false) => ", now fails",
        (false, true) => ", now passes",
        (_, false) => ", fails",
        _ => "",
    }
}

/// `file:line` of each source, with the source object when it differs from the rendered one.
pub fn source_labels(d: &ObjectDiff) -> Vec<String> {
    let mut out: Vec<String> = d
        .sources
        .iter()
        .map(|s| {
            if s.id == d.id {
                format!("{}:{}", s.location.file, s.location.line)
            } else {
                format!("{}:{} ({})", s.location.file, s.location.line, s.id)
            }
        })
        .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::istio::object::Rendered;

    #[test]
    fn same_is_equality_whatever_the_key_order() {
        let a = serde_json::json!({"a": 1, "b": {"c": [1, {"d": "x", "e": 2}]}});
        let mut b = serde_json::Map::new();
        b.insert(
            "b".into(),
            serde_json::json!({"c": [1, {"e": 2, "d": "x"}]}),
        );
        b.insert("a".into(), serde_json::json!(1));
        let b = Node::from(&Value::Object(b));
        let a = Node::from(&a);
        assert!(same(&a, &b) && a == b);
        let c = Node::from(&serde_json::json!({"a": 1, "b": {"c": [1, {"d": "y", "e": 2}]}}));
        assert!(!same(&a, &c));
        let d = Node::from(&serde_json::json!({"a": 1, "b": {"c": [1]}}));
        assert!(!same(&a, &d));
    }
    use serde_json::json;

    fn r(cluster: &str, v: Value) -> Kept {
        Rendered {
            cluster: cluster.into(),
            value: Arc::new(Node::from(&v)),
            sources: Vec::new(),
            origins: Default::default(),
        }
    }

    fn cm(name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "default"}, "data": data})
    }

    #[test]
    fn matches_by_cluster_group_kind_namespace_name() {
        let base = vec![
            r("a", cm("x", json!({"k": "1"}))),
            r("a", cm("gone", json!({}))),
            r("b", cm("x", json!({"k": "1"}))),
        ];
        let head = vec![
            r("a", cm("x", json!({"k": "2"}))),
            r("a", cm("new", json!({}))),
            r("b", cm("x", json!({"k": "1"}))),
        ];
        let (d, counts) = compare(&base, &head, &DiffOptions::default());
        let got: Vec<(&str, &str, Change)> = d
            .iter()
            .map(|d| (d.cluster.as_str(), d.id.name.as_str(), d.change))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", "gone", Change::Removed),
                ("a", "new", Change::Added),
                ("a", "x", Change::Changed)
            ]
        );
        assert_eq!(counts["b"].unchanged, 1);
        assert_eq!(counts["a"].changed, 1);
        assert_eq!(d[2].paths, vec!["data.k"]);
        assert!(d[2].unified.contains("-  k: '1'") || d[2].unified.contains("-  k: \"1\""));
        assert_eq!((d[2].lines_added, d[2].lines_removed), (1, 1));
    }

    #[test]
    fn api_version_change_is_a_change_not_a_rename() {
        let mut v = json!({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
                           "metadata": {"name": "a", "namespace": "n"}});
        let base = vec![r("c", v.clone())];
        v["apiVersion"] = json!("networking.istio.io/v1");
        let head = vec![r("c", v)];
        let (d, _) = compare(&base, &head, &DiffOptions::default());
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].change, Change::Changed);
        assert_eq!(d[0].paths, vec!["apiVersion"]);
    }

    #[test]
    fn findings_compare_by_code_object_message() {
        use crate::diag::Code;
        use crate::manifest::Location;
        use crate::yaml::Pos;
        let at = |line| Location::new("a.yaml".into(), Pos { line, column: 1 });
        let a = Diagnostic::error(Code::policy("p1"), "bad").at(at(1));
        let moved = Diagnostic::error(Code::policy("p1"), "bad").at(at(9));
        let b = Diagnostic::warning(Code::policy("p2"), "meh");
        let info = Diagnostic::new(Severity::Info, Code::policy("p3"), "fyi");
        let (added, fixed) = findings_delta(&[a, b.clone()], &[moved, info]);
        assert!(added.is_empty());
        assert_eq!(fixed, vec![b]);
    }
}
