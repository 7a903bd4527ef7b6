//! Output: a YAML stream, a JSON array, or an out-dir of files with kustomizations.

use crate::istio::object::Rendered;
use crate::source::OUT_DIR_MARKER;
use crate::yaml::EmitError;
use rayon::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// As [`sort_keys`](crate::json::sort_keys), and every map and list rebuilt at its exact size.
/// Maps grown one key at a time (`json!`, `insert`) keep room for about three times their
/// entries; a rendered object lives until it is emitted, so the room is paid for the whole run
/// (docs/performance.md).
pub fn sort_compact(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
            if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
            }
            let mut exact = serde_json::Map::with_capacity(entries.len());
            for (k, mut val) in entries {
                sort_compact(&mut val);
                exact.insert(k, val);
            }
            *m = exact;
        }
        Value::Array(a) => {
            a.iter_mut().for_each(sort_compact);
            a.shrink_to_fit();
        }
        _ => {}
    }
}

thread_local! {
    /// One growing YAML buffer per thread; each document is copied out at its exact size.
    static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// One object as a YAML document ending in a newline, at its exact size.
pub fn document(value: &Value) -> Result<Box<str>, EmitError> {
    BUFFER.with_borrow_mut(|buf| {
        buf.clear();
        crate::yaml::write_to(buf, value)?;
        if !buf.ends_with('\n') {
            buf.push('\n');
        }
        Ok(Box::from(buf.as_str()))
    })
}

/// A YAML stream held as its documents (each from [`document`]), so that it can be printed
/// without first being joined into one more copy.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stream(pub(crate) Vec<Box<str>>);

impl Stream {
    /// How many documents.
    pub fn documents(&self) -> usize {
        self.0.len()
    }

    /// Length in bytes of the joined stream.
    pub fn len(&self) -> usize {
        self.0.iter().map(|d| d.len()).sum::<usize>() + 4 * self.0.len().saturating_sub(1)
    }

    /// True when there is no document.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Writes the documents, `---` between them.
    pub fn write_to(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                w.write_all(b"---\n")?;
            }
            w.write_all(d.as_bytes())?;
        }
        Ok(())
    }

    /// The joined stream.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.len());
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            out.push_str(d);
        }
        out
    }
}

/// Why a render's YAML stream could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// An object's document could not be written.
    #[error("{id} in cluster {cluster}: {source}")]
    Emit {
        /// The object.
        id: crate::manifest::ObjectId,
        /// Its cluster.
        cluster: String,
        /// What failed.
        source: EmitError,
    },
    /// An object was kept in another form than its document.
    #[error("{id} in cluster {cluster} was not written")]
    NotWritten {
        /// The object.
        id: crate::manifest::ObjectId,
        /// Its cluster.
        cluster: String,
    },
}

/// The objects as one YAML stream, `---` between documents: each written in parallel, then
/// joined in order, so the bytes do not depend on the thread count.
pub fn yaml_stream(objects: &[Rendered]) -> Result<String, EmitError> {
    let docs = objects
        .par_iter()
        .map(|o| document(&o.value))
        .collect::<Result<Vec<_>, EmitError>>()?;
    Ok(Stream(docs).to_text())
}

/// The objects as a pretty JSON array.
pub fn json_array<V: serde::Serialize>(objects: &[Rendered<V>]) -> String {
    let v: Vec<&V> = objects.iter().map(|o| &o.value).collect();
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

/// A path component safe to use under the out-dir: never `..`, `/` or empty.
pub fn safe_component(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.chars().all(|c| c == '.') {
        out = format!("_{out}");
    }
    // File names are at most 255 bytes: keep a prefix and a digest of the whole, so long
    // names stay distinct and readable.
    if out.len() > MAX_COMPONENT {
        use md5::{Digest, Md5};
        let digest = Md5::digest(s.as_bytes());
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        out.truncate(MAX_COMPONENT - hex.len() - 1);
        out = format!("{out}-{hex}");
    }
    out
}

/// Longest component `safe_component` returns; a kind, a name and `.yaml` fit in 255 bytes.
const MAX_COMPONENT: usize = 120;

const OUT_DIR_MARKER_TEXT: &str =
    "Written by `meshform render --out-dir`; the whole directory is replaced on each run.\n";

/// Why an out-dir was not written. Nothing was changed then.
#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    /// A file system operation failed on a path.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The directory exists as something else.
    #[error("--out-dir {} exists and is not a directory; nothing written", .0.display())]
    NotADirectory(PathBuf),
    /// The directory holds files meshform did not write.
    #[error(
        "--out-dir {} is not empty and was not written by meshform (no {marker} file); \
         it would be replaced as a whole, so nothing was written: remove it or choose another \
         directory",
        .0.display(),
        marker = OUT_DIR_MARKER
    )]
    NotOwned(PathBuf),
    /// Two objects map to one file (`cluster/namespace/kind-name.yaml`, compared without case).
    #[error(
        "two objects map to the same file {0}; names differ only in characters \
         that are not allowed in file names"
    )]
    SameFile(String),
    /// An object could not be written as YAML.
    #[error(transparent)]
    Emit(#[from] EmitError),
}

impl OutDirError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutDirError + '_ {
        move |source| OutDirError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `--out-dir` replaces the whole directory, so it must be one meshform owns: absent, empty, or
/// holding the marker of an earlier run. Anything else (a file, a source tree, a home directory
/// given by mistake) is refused untouched.
fn owned_out_dir(dir: &Path) -> Result<(), OutDirError> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(OutDirError::io(dir)(e)),
    };
    if !meta.is_dir() {
        return Err(OutDirError::NotADirectory(dir.to_path_buf()));
    }
    if dir.join(OUT_DIR_MARKER).is_file() {
        return Ok(());
    }
    let mut entries = std::fs::read_dir(dir).map_err(OutDirError::io(dir))?;
    if entries.next().is_none() {
        return Ok(());
    }
    Err(OutDirError::NotOwned(dir.to_path_buf()))
}

/// Writes `DIR/<cluster>/<namespace>/<kind>-<name>.yaml` plus one `kustomization.yaml` per
/// cluster. Everything is written to a temporary sibling directory first and then renamed
/// into place, so on any error the previous content of DIR is left as it was. `DIR` must be
/// absent, empty or an earlier output (`OUT_DIR_MARKER`).
pub fn write_out_dir<V: serde::Serialize + crate::canon::AsTree + Sync>(
    dir: &Path,
    objects: &[Rendered<V>],
) -> Result<usize, OutDirError> {
    use std::collections::BTreeMap;
    use std::fs;
    owned_out_dir(dir)?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(OutDirError::io(&parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".meshform-out-")
        .tempdir_in(&parent)
        .map_err(OutDirError::io(&parent))?;
    // Paths are planned first, so that each directory is made once and a clash is found
    // before anything is written; then the objects are written side by side (creating a file
    // costs about half a millisecond on this project's disk, docs/performance.md).
    let mut per_cluster: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut dirs: std::collections::BTreeSet<PathBuf> = Default::default();
    let mut planned = Vec::with_capacity(objects.len());
    for o in objects {
        let id = o.id();
        let cluster = safe_component(&o.cluster);
        let ns = if id.namespace.is_empty() {
            "_cluster".to_string()
        } else {
            safe_component(&id.namespace)
        };
        let file = format!(
            "{}-{}.yaml",
            safe_component(&id.kind),
            safe_component(&id.name)
        );
        let rel = format!("{ns}/{file}");
        // Compared without case: on a case-insensitive file system these would be one file.
        if !taken.insert(format!("{cluster}/{rel}").to_lowercase()) {
            return Err(OutDirError::SameFile(format!("{cluster}/{rel}")));
        }
        let d = tmp.path().join(&cluster).join(&ns);
        planned.push((o, d.join(&file)));
        dirs.insert(d);
        per_cluster.entry(cluster).or_default().push(rel);
    }
    for d in &dirs {
        fs::create_dir_all(d).map_err(OutDirError::io(d))?;
    }
    let written: Vec<Result<(), OutDirError>> = planned
        .par_iter()
        .map(|(o, path)| {
            let text = crate::yaml::to_string(&o.value)?;
            fs::write(path, text).map_err(OutDirError::io(path))
        })
        .collect();
    // The first failure in output order, whatever the thread count.
    written
        .into_iter()
        .collect::<Result<Vec<()>, OutDirError>>()?;
    for (cluster, mut files) in per_cluster {
        files.sort();
        let k = serde_json::json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": files,
        });
        let path = tmp.path().join(&cluster).join("kustomization.yaml");
        fs::write(&path, crate::yaml::to_string(&k)?).map_err(OutDirError::io(&path))?;
    }
    fs::write(tmp.path().join(OUT_DIR_MARKER), OUT_DIR_MARKER_TEXT)
        .map_err(OutDirError::io(tmp.path()))?;
    let staged = tmp.keep();
    let old = parent.join(format!(
        ".meshform-old-{}",
        staged.file_name().and_then(|s| s.to_str()).unwrap_or("x")
    ));
    let had_old = dir.exists();
    if had_old {
        fs::rename(dir, &old).map_err(|e| {
            let _ = fs::remove_dir_all(&staged);
            OutDirError::io(dir)(e)
        })?;
    }
    if let Err(e) = fs::rename(&staged, dir) {
        if had_old {
            let _ = fs::rename(&old, dir);
        }
        let _ = fs::remove_dir_all(&staged);
        return Err(OutDirError::io(dir)(e));
    }
    if had_old {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(objects.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::sort_keys;
    use serde_json::json;

    #[test]
    fn sort_keys_sorts_nested_keys() {
        let mut sorted = json!({"a": 1, "b": {"c": 2, "d": 3}});
        sort_keys(&mut sorted);
        assert_eq!(sorted.to_string(), r#"{"a":1,"b":{"c":2,"d":3}}"#);
    }

    #[test]
    fn sort_compact_sorts_like_sort_keys() {
        let v = json!({"spec": {"b": 1, "a": [{"y": 1, "x": 2}, []], "c": {}}, "kind": "K",
                       "metadata": {"name": "n", "labels": {"z": "1", "a": "2"}}});
        let (mut a, mut b) = (v.clone(), v);
        sort_keys(&mut a);
        sort_compact(&mut b);
        assert_eq!(a.to_string(), b.to_string());
        assert_eq!(
            b.to_string(),
            r#"{"kind":"K","metadata":{"labels":{"a":"2","z":"1"},"name":"n"},"spec":{"a":[{"x":2,"y":1},[]],"b":1,"c":{}}}"#
        );
    }

    #[test]
    fn yaml_stream_is_the_documents_joined() {
        let objects: Vec<Rendered> = (0..100)
            .map(|i| Rendered {
                cluster: "c".into(),
                value: json!({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": format!("cm-{i}")}, "data": {"k": "."}}),
                sources: Vec::new(),
                origins: Default::default(),
            })
            .collect();
        let one_by_one: Vec<String> = objects
            .iter()
            .map(|o| crate::yaml::to_string(&o.value).unwrap())
            .collect();
        let mut expected = one_by_one.join("---\n");
        if !expected.ends_with('\n') {
            expected.push('\n');
        }
        assert_eq!(yaml_stream(&objects).unwrap(), expected);
        assert_eq!(yaml_stream(&[]).unwrap(), "");
    }

    #[test]
    fn components_never_escape_and_stay_short() {
        for bad in ["..", ".", "", "../../etc", "a/b", "/abs", "a\\b", "x\0y"] {
            let c = safe_component(bad);
            assert!(
                !c.contains('/') && !c.contains('\\') && !c.contains('\0'),
                "{bad} -> {c}"
            );
            assert!(c != "." && c != ".." && !c.is_empty(), "{bad} -> {c}");
        }
        let long = "a".repeat(253);
        let c = safe_component(&long);
        assert_eq!(c.len(), MAX_COMPONENT);
        assert_ne!(c, safe_component(&format!("{}b", "a".repeat(252))));
    }
}
