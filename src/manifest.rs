//! Kubernetes objects read from YAML, each with its identity and its place in the repo.

use crate::diag::codes::Load;
use crate::diag::Diagnostic;
use crate::node::Node;
use crate::yaml::{self, Pos, YamlLimits};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// A place in a repo file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// Repo-relative path with `/` separators.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Location {
    /// A location in `file` at `pos`.
    pub fn new(file: Arc<str>, pos: Pos) -> Self {
        Location {
            file,
            line: pos.line,
            column: pos.column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// What identifies an object in a cluster: apiVersion, kind, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectId {
    /// `group/version`, or `v1` for core kinds.
    pub api_version: String,
    /// Kind, e.g. `RouteTable`.
    pub kind: String,
    /// Namespace; empty for cluster-scoped objects or when none was given.
    pub namespace: String,
    /// metadata.name.
    pub name: String,
}

/// The API group of an apiVersion: what comes before the last `/` (empty for core `v1`).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

impl ObjectId {
    /// The API group (empty for core).
    pub fn group(&self) -> &str {
        group_of(&self.api_version)
    }

    /// True for the API groups meshform translates (`*.gloo.solo.io`); their objects are
    /// typed and translated, never passed through.
    pub fn is_gloo(&self) -> bool {
        self.group().ends_with(".gloo.solo.io")
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The text of one repo file, kept so diagnostics can point into it.
#[derive(Debug, Clone)]
pub struct SourceText {
    /// Repo-relative path.
    pub path: Arc<str>,
    /// UTF-8 contents (after template rendering, for templates).
    pub text: Arc<str>,
}

/// One Kubernetes object from the repo.
#[derive(Debug, Clone)]
pub struct Object {
    /// apiVersion, kind, namespace, name.
    pub id: ObjectId,
    /// The whole object as written (anchors and merges resolved).
    pub value: std::sync::Arc<Node>,
    /// Where the object starts.
    pub location: Location,
    /// Index of the YAML document in its file.
    pub doc_index: usize,
    /// JSON pointer of the object inside the document (`/items/3` for List items, else empty).
    pub pointer: String,
    /// Cluster the object is applied in (from meshform.yaml `clusters[].paths`, or a template's
    /// cluster).
    pub cluster: String,
    /// Index into the repo's file table.
    pub file_index: usize,
    /// Length of the longest list in `value` (at least; see `yaml::Document::max_list`), the
    /// bound policy cost estimates use.
    pub max_list: usize,
}

impl Object {
    /// Its identity within the repo: cluster, apiVersion, kind, namespace and name (two
    /// revisions' objects of one key are the same object, changed or not).
    pub fn key(&self) -> (&str, &str, &str, &str, &str) {
        (
            &self.cluster,
            &self.id.api_version,
            &self.id.kind,
            &self.id.namespace,
            &self.id.name,
        )
    }

    /// metadata.labels as string pairs (non-string values are skipped).
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> {
        str_map(&self.value["metadata"]["labels"])
    }

    /// metadata.annotations as string pairs.
    pub fn annotations(&self) -> impl Iterator<Item = (&str, &str)> {
        str_map(&self.value["metadata"]["annotations"])
    }

    /// One label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.value["metadata"]["labels"][key].as_str()
    }
}

fn str_map(v: &Node) -> impl Iterator<Item = (&str, &str)> {
    v.as_object()
        .into_iter()
        .flat_map(|m| m.iter())
        .filter_map(|(k, v)| v.as_str().map(|s| (k, s)))
}

/// Turns a serde path (`spec.ports[1].number`) into a JSON pointer (`/spec/ports/1/number`).
pub fn field_to_pointer(field: &str) -> String {
    let mut out = String::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut String| {
        if !cur.is_empty() {
            out.push('/');
            out.push_str(&yaml::pointer_escape(cur));
            cur.clear();
        }
    };
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => flush(&mut cur, &mut out),
            '[' => {
                flush(&mut cur, &mut out);
                let mut idx = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    idx.push(d);
                }
                out.push('/');
                out.push_str(&yaml::pointer_escape(idx.trim_matches('"')));
            }
            _ => cur.push(c),
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// Finds where `field` (a serde path) of `obj` is written; falls back to the object start.
pub fn locate_field(
    files: &[SourceText],
    obj: &Object,
    field: &str,
    limits: &YamlLimits,
) -> Location {
    let Some(src) = files.get(obj.file_index) else {
        return obj.location.clone();
    };
    let pointer = format!("{}{}", obj.pointer, field_to_pointer(field));
    match yaml::locate(&src.text, obj.doc_index, &pointer, limits) {
        Some(pos) => Location::new(src.path.clone(), pos),
        None => obj.location.clone(),
    }
}

/// Parses one file into objects. `kind: List` is flattened; documents that are not objects are
/// errors naming their place.
pub fn parse_file(
    path: &Arc<str>,
    text: &str,
    file_index: usize,
    cluster: &str,
    limits: &YamlLimits,
) -> (Vec<Object>, Vec<Diagnostic>) {
    let mut objects = Vec::new();
    let mut diags = Vec::new();
    let parsed = match yaml::parse_stream(text, limits) {
        Ok(p) => p,
        Err(e) => {
            diags.push(
                Diagnostic::error(Load::YamlSyntax, e.message)
                    .at(Location::new(path.clone(), e.pos)),
            );
            return (objects, diags);
        }
    };
    for w in parsed.warnings {
        diags.push(
            Diagnostic::warning(Load::Yaml11Scalar, w.message)
                .at(Location::new(path.clone(), w.pos)),
        );
    }
    for doc in parsed.documents {
        let loc = Location::new(path.clone(), doc.pos);
        let is_list = names_a_list(&doc.value) && doc.value["items"].is_array();
        if is_list {
            let positions = yaml::positions(text, doc.index, limits);
            let Node::Object(map) = doc.value else {
                continue;
            };
            let Some((_, Node::Array(items))) = map
                .into_entries()
                .into_iter()
                .find(|(k, _)| &**k == "items")
            else {
                continue;
            };
            for (i, item) in items.into_vec().into_iter().enumerate() {
                let pointer = format!("/items/{i}");
                let pos = positions.get(&pointer).copied().unwrap_or(doc.pos);
                let loc = Location::new(path.clone(), pos);
                let max_list = max_list(&item);
                push_object(
                    &mut objects,
                    &mut diags,
                    item,
                    max_list,
                    loc,
                    doc.index,
                    pointer,
                    cluster,
                    file_index,
                );
            }
            continue;
        }
        let before = diags.len();
        push_object(
            &mut objects,
            &mut diags,
            doc.value,
            doc.max_list,
            loc,
            doc.index,
            String::new(),
            cluster,
            file_index,
        );
        // Point a metadata error at the field itself.
        for d in &mut diags[before..] {
            if let (true, Some(field)) = (d.code.starts_with("invalid-"), &d.field) {
                if let Some(pos) = yaml::locate(text, doc.index, &field_to_pointer(field), limits) {
                    d.location = Some(Location::new(path.clone(), pos));
                }
            }
        }
    }
    (objects, diags)
}

/// Whether a document's kind names a list (`List`, `ConfigMapList`, ...).
pub(crate) fn names_a_list(doc: &Node) -> bool {
    doc["kind"]
        .as_str()
        .is_some_and(|k| k == "List" || k.ends_with("List"))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn push_object(
    objects: &mut Vec<Object>,
    diags: &mut Vec<Diagnostic>,
    value: Node,
    max_list: usize,
    location: Location,
    doc_index: usize,
    pointer: String,
    cluster: &str,
    file_index: usize,
) {
    if !value.is_object() {
        diags.push(
            Diagnostic::error(Load::NotAnObject, "a YAML document here is not a mapping")
                .at(location)
                .help(
                    "every document must be a Kubernetes object with apiVersion, kind and metadata",
                ),
        );
        return;
    }
    let api_version = value["apiVersion"].as_str().unwrap_or_default().to_string();
    let kind = value["kind"].as_str().unwrap_or_default().to_string();
    let name = value["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let namespace = value["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let Some(d) = check_metadata(&value) {
        diags.push(d.at(location));
        return;
    }
    let mut missing = Vec::new();
    if api_version.is_empty() {
        missing.push("apiVersion");
    }
    if kind.is_empty() {
        missing.push("kind");
    }
    if name.is_empty() && value["metadata"]["generateName"].is_null() {
        missing.push("metadata.name");
    }
    if !missing.is_empty() {
        diags.push(
            Diagnostic::error(
                Load::MissingField,
                format!(
                    "object has no {} (or it is not a string)",
                    missing.join(", ")
                ),
            )
            .at(location)
            .field(missing[0]),
        );
        return;
    }
    objects.push(Object {
        id: ObjectId {
            api_version,
            kind,
            namespace,
            name,
        },
        value: value.into(),
        location,
        doc_index,
        pointer,
        cluster: cluster.to_string(),
        file_index,
        max_list,
    });
}

/// Length of the longest list anywhere in `v`.
pub fn max_list(v: &Node) -> usize {
    match v {
        Node::Array(a) => a.iter().map(max_list).max().unwrap_or(0).max(a.len()),
        Node::Object(m) => m.values().map(max_list).max().unwrap_or(0),
        _ => 0,
    }
}

/// Checks the parts of `metadata` that end up in output paths and identities: a mapping, a
/// string namespace that is a DNS-1123 label, and a name Kubernetes accepts in a URL path
/// segment (not `.` or `..`, no `/` or `%`, at most 253 characters; apimachinery's
/// `ValidatePathSegmentName` and `IsDNS1123Label`). The diagnostic has its field set.
fn check_metadata(value: &Node) -> Option<Diagnostic> {
    let meta = &value["metadata"];
    if !meta.is_null() && !meta.is_object() {
        return Some(
            Diagnostic::error(Load::InvalidMetadata, "metadata must be a mapping")
                .field("metadata"),
        );
    }
    let ns = &meta["namespace"];
    if !ns.is_null() {
        let Some(ns) = ns.as_str() else {
            return Some(
                Diagnostic::error(Load::InvalidName, "metadata.namespace must be a string")
                    .field("metadata.namespace"),
            );
        };
        if !is_dns1123_label(ns) {
            return Some(
                Diagnostic::error(
                    Load::InvalidName,
                    format!(
                        "namespace `{}` is not a valid Kubernetes namespace (lowercase letters, digits \
                         and `-`, starting and ending with a letter or digit, at most 63 characters)",
                        shorten(ns)
                    ),
                )
                .field("metadata.namespace"),
            );
        }
    }
    let name = meta["name"].as_str().unwrap_or_default();
    let bad = if name == "." || name == ".." {
        Some("may not be `.` or `..`")
    } else if name.contains('/') || name.contains('%') {
        Some("may not contain `/` or `%`")
    } else if name.len() > 253 {
        Some("is longer than 253 characters")
    } else if name.chars().any(char::is_control) {
        Some("may not contain control characters")
    } else {
        None
    };
    bad.map(|why| {
        Diagnostic::error(
            Load::InvalidName,
            format!("name `{}` {why}; Kubernetes would refuse it", shorten(name)),
        )
        .field("metadata.name")
    })
}

fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// At most 80 characters of user text in a message.
fn shorten(s: &str) -> String {
    let escaped = s.escape_debug().to_string();
    if escaped.chars().count() > 80 {
        format!("{}…", escaped.chars().take(80).collect::<String>())
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_become_pointers() {
        assert_eq!(
            field_to_pointer("spec.ports[1].number"),
            "/spec/ports/1/number"
        );
        assert_eq!(
            field_to_pointer("metadata.labels[\"a/b\"]"),
            "/metadata/labels/a~1b"
        );
        assert_eq!(field_to_pointer(""), "");
    }

    #[test]
    fn lists_are_flattened_with_item_positions() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a, namespace: ns}\n- apiVersion: v1\n  kind: Service\n  metadata: {name: b}\n";
        let path: Arc<str> = "f.yaml".into();
        let (objs, diags) = parse_file(&path, text, 0, "c1", &YamlLimits::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[1].id.name, "b");
        assert_eq!(objs[1].location.line, 7);
        assert_eq!(objs[1].pointer, "/items/1");
    }

    #[test]
    fn names_that_could_escape_a_path_are_errors_at_the_field() {
        let path: Arc<str> = "f.yaml".into();
        for (meta, line) in [
            ("metadata:\n  name: ../../etc/x\n", 4),
            ("metadata:\n  name: ..\n", 4),
            ("metadata:\n  name: a%2f\n", 4),
            ("metadata:\n  name: a\n  namespace: ../x\n", 5),
            ("metadata:\n  name: a\n  namespace: Prod\n", 5),
            ("metadata:\n  name: a\n  namespace: 5\n", 5),
            ("metadata:\n  name: a\n  namespace: [x]\n", 5),
            ("metadata: [x]\n", 3),
        ] {
            let text = format!("apiVersion: v1\nkind: ConfigMap\n{meta}");
            let (objs, diags) = parse_file(&path, &text, 0, "c", &YamlLimits::default());
            assert!(objs.is_empty(), "{meta}");
            assert_eq!(diags.len(), 1, "{meta}");
            assert!(
                diags[0].code.starts_with("invalid-"),
                "{meta}: {:?}",
                diags[0]
            );
            assert_eq!(diags[0].location.as_ref().unwrap().line, line, "{meta}");
        }
        let ok = "apiVersion: v1\nkind: ClusterRole\nmetadata:\n  name: system:controller:x.y\n";
        let (objs, diags) = parse_file(&path, ok, 0, "c", &YamlLimits::default());
        assert_eq!((objs.len(), diags.len()), (1, 0));
    }

    #[test]
    fn missing_name_is_an_error_with_position() {
        let path: Arc<str> = "f.yaml".into();
        let (objs, diags) = parse_file(
            &path,
            "---\napiVersion: v1\nkind: X\nmetadata: {}\n",
            0,
            "c",
            &YamlLimits::default(),
        );
        assert!(objs.is_empty());
        assert_eq!(diags[0].location.as_ref().unwrap().line, 2);
        assert!(diags[0].message.contains("metadata.name"));
    }
}
