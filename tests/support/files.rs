//! Trees of files: writing, reading and copying them, and the bundled fixtures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A tree of text files: `/`-separated path relative to its root, and content.
pub type Files = BTreeMap<String, String>;

/// The crate's root (`CARGO_MANIFEST_DIR`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes `data` to `root/rel`, creating the directories above it; returns the file's path.
pub fn write_file(root: &Path, rel: &str, data: impl AsRef<[u8]>) -> PathBuf {
    let p = root.join(rel);
    let parent = p.parent().expect("a file path has a parent");
    std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
    std::fs::write(&p, data).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    p
}

/// Makes `dir` hold exactly `files`: whatever it held before is removed first.
pub fn write_tree<K, V>(dir: &Path, files: impl IntoIterator<Item = (K, V)>)
where
    K: AsRef<str>,
    V: AsRef<[u8]>,
{
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap_or_else(|e| panic!("rm {}: {e}", dir.display()));
    }
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    for (rel, data) in files {
        write_file(dir, rel.as_ref(), data);
    }
}

/// The text files under `root` (files that are not UTF-8 are left out).
pub fn read_tree(root: &Path) -> Files {
    let mut out = Files::new();
    for p in walk(root) {
        if let Ok(text) = std::fs::read_to_string(&p) {
            let rel = p
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel, text);
        }
    }
    out
}

/// Copies the tree at `from` into `to` (created if missing).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
    for e in std::fs::read_dir(from).unwrap_or_else(|e| panic!("ls {}: {e}", from.display())) {
        let e = e.expect("a directory entry");
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name()))
                .unwrap_or_else(|e| panic!("copy {}: {e}", p.display()));
        }
    }
}

/// Every file under `dir` (directories followed, their symlinks included), sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("ls {}: {e}", dir.display())) {
        let p = e.expect("a directory entry").path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Every fixture repo, named by its path under `fixtures/`: `fixtures/<name>/` for the
/// scenario repos, and each directory under `fixtures/features/` and `fixtures/reference/`.
/// Sorted by name.
pub fn fixture_dirs() -> Vec<(String, PathBuf)> {
    let base = root().join("fixtures");
    let subdirs = |dir: &Path| {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("ls {}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.is_dir())
            .collect();
        v.sort();
        v
    };
    let name = |p: &Path| p.file_name().expect("named").to_string_lossy().into_owned();
    let mut out = Vec::new();
    for dir in subdirs(&base) {
        let top = name(&dir);
        if top == "features" || top == "reference" {
            for s in subdirs(&dir) {
                out.push((format!("{top}/{}", name(&s)), s));
            }
        } else {
            out.push((top, dir));
        }
    }
    assert!(out.len() >= 10, "fixtures not found: {out:?}");
    out
}
