//! Reading the working tree.

use super::{is_manifest_name, Budget, SourceError, SourceFile};
use crate::config::Limits;
use rayon::prelude::*;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Reads every manifest under `root`, honouring `.gitignore` (also outside a git repo), skipping
/// hidden entries. A symlink is followed only when its target stays inside `root`.
pub fn read_dir(root: &Path, limits: &Limits) -> Result<Vec<SourceFile>, Vec<SourceError>> {
    let canon_root = canonical_root(root).map_err(|e| vec![e])?;
    let walker = ignore::WalkBuilder::new(&canon_root)
        .hidden(true)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(false)
        .ignore(false)
        .parents(false)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        // meshform's own output (an out-dir inside the repo) is not input.
        .filter_entry(|e| {
            let own = e.depth() > 0
                && e.file_type().is_some_and(|t| t.is_dir())
                && std::fs::symlink_metadata(e.path().join(super::OUT_DIR_MARKER))
                    .is_ok_and(|m| m.is_file());
            if own {
                tracing::info!("skipping {}: meshform output", e.path().display());
            }
            !own
        })
        .build();
    // The walk, the checks and the budget run in walk order; the contents are read side by
    // side afterwards (`read_contents`), and results keep that order.
    let mut found: Vec<Result<Pending, SourceError>> = Vec::new();
    let mut budget = Budget::new(limits);
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                found.push(Err(SourceError::Walk(e)));
                continue;
            }
        };
        let Some(ft) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name().to_string_lossy();
        if ft.is_dir() {
            continue;
        }
        let rel = match entry.path().strip_prefix(&canon_root) {
            Ok(r) => r.to_string_lossy().replace('\\', "/"),
            Err(_) => continue,
        };
        if !is_manifest_name(&name) {
            if ft.is_symlink() {
                if let Err(e) = check_dir_link(&canon_root, entry.path(), &rel) {
                    found.push(Err(e));
                }
            }
            continue;
        }
        match check_one(&canon_root, entry.path(), rel, ft, &mut budget) {
            Ok(Some(p)) => found.push(Ok(p)),
            Ok(None) => {}
            Err(e) if e.is_limit() => return Err(vec![e]),
            Err(e) => found.push(Err(e)),
        }
    }
    let max = limits.file_size;
    let read: Vec<Result<SourceFile, SourceError>> = found
        .into_par_iter()
        .map(|p| p.and_then(|p| read_contents(p, max)))
        .collect();
    let mut files = Vec::with_capacity(read.len());
    let mut errors = Vec::new();
    for r in read {
        match r {
            Ok(f) => files.push(f),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

/// The canonical form of the repo root, which must be a directory.
fn canonical_root(root: &Path) -> Result<PathBuf, SourceError> {
    let canon_root = fs::canonicalize(root).map_err(|source| SourceError::Root {
        root: root.to_path_buf(),
        source,
    })?;
    if !canon_root.is_dir() {
        return Err(SourceError::NotADirectory(root.to_path_buf()));
    }
    Ok(canon_root)
}

/// Reads one file of the working tree at `root`, `rel` being relative to it, under the rules of
/// [`read_dir`]: a regular file inside the root, a link followed only when its target stays
/// inside, at most `limits.fileSize` bytes. `None` when there is no such file (or it is a
/// directory).
pub fn read_dir_file(
    root: &Path,
    rel: &str,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, SourceError> {
    let canon_root = canonical_root(root)?;
    let path = canon_root.join(rel);
    let Ok(meta) = fs::symlink_metadata(&path) else {
        return Ok(None);
    };
    // `rel` may name a parent directory or pass through a link to one: the resolved path must
    // stay inside (a link itself is resolved and checked by `check_one`).
    if !meta.file_type().is_symlink()
        && !fs::canonicalize(&path).is_ok_and(|c| c.starts_with(&canon_root))
    {
        return Err(SourceError::Refused {
            path: rel.to_string(),
            message: "path is outside the repo root; refused, not read".into(),
        });
    }
    let mut budget = Budget::new(limits);
    match check_one(
        &canon_root,
        &path,
        rel.to_string(),
        meta.file_type(),
        &mut budget,
    )? {
        Some(p) => read_contents(p, limits.file_size).map(|f| Some(f.data)),
        None => Ok(None),
    }
}

/// A manifest admitted by the budget, to be read.
struct Pending {
    /// Repo-relative path.
    rel: String,
    /// The file to open (a link's target, resolved inside the root).
    target: PathBuf,
    /// Its size when checked.
    len: u64,
}

/// A symlink to a directory is never followed. It is refused rather than skipped, so that no
/// manifests are silently left out of a render (Argo CD would prune their objects).
fn check_dir_link(root: &Path, path: &Path, rel: &str) -> Result<(), SourceError> {
    let Ok(target) = fs::canonicalize(path) else {
        return Ok(()); // dangling or a loop: there is nothing to read behind it
    };
    if !target.is_dir() {
        return Ok(());
    }
    Err(SourceError::Refused {
        path: rel.to_string(),
        message: if target.starts_with(root) {
            "symlink to a directory; links to directories are not followed (link the files, or \
             move the directory)"
                .into()
        } else {
            "symlink points outside the repo root; refused, not read".into()
        },
    })
}

/// Resolves a manifest's link, checks that it is a regular file and admits its size.
fn check_one(
    root: &Path,
    path: &Path,
    rel: String,
    ft: fs::FileType,
    budget: &mut Budget<'_>,
) -> Result<Option<Pending>, SourceError> {
    let refused = |message: &str| SourceError::Refused {
        path: rel.to_string(),
        message: message.to_string(),
    };
    let target = if ft.is_symlink() {
        // Resolve fully, then insist the target is inside the root: never read outside it.
        let t = fs::canonicalize(path).map_err(|e| {
            refused(&format!(
                "symlink cannot be resolved ({e}); a loop or a dangling link?"
            ))
        })?;
        if !t.starts_with(root) {
            return Err(refused(
                "symlink points outside the repo root; refused, not read",
            ));
        }
        t
    } else {
        path.to_path_buf()
    };
    let meta = fs::metadata(&target).map_err(SourceError::io(&rel))?;
    if meta.is_dir() {
        return Ok(None);
    }
    if !meta.is_file() {
        return Err(refused(
            "not a regular file (FIFO, socket or device); refused, not read",
        ));
    }
    budget.admit(&rel, meta.len())?;
    Ok(Some(Pending {
        rel,
        target,
        len: meta.len(),
    }))
}

/// Reads an admitted file, at most `max` bytes.
fn read_contents(p: Pending, max: u64) -> Result<SourceFile, SourceError> {
    let mut data = Vec::with_capacity(p.len.min(max) as usize);
    // Read at most one byte more than the limit, in case the file grew after stat.
    fs::File::open(&p.target)
        .and_then(|f| f.take(max + 1).read_to_end(&mut data))
        .map_err(SourceError::io(&p.rel))?;
    if data.len() as u64 > max {
        return Err(SourceError::Refused {
            path: p.rel,
            message: "file grew past limits.fileSize while being read".into(),
        });
    }
    Ok(SourceFile {
        path: p.rel,
        data,
        blob: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_is_read_under_the_walk_rules() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("repo");
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(root.join("a/x.yaml"), "x: 1\n").unwrap();
        fs::write(t.path().join("secret.yaml"), "s: 1\n").unwrap();
        std::os::unix::fs::symlink("a/x.yaml", root.join("in.yaml")).unwrap();
        std::os::unix::fs::symlink("../secret.yaml", root.join("out.yaml")).unwrap();
        let limits = Limits::default();
        let read = |rel: &str| read_dir_file(&root, rel, &limits);
        assert_eq!(read("a/x.yaml").unwrap().as_deref(), Some(&b"x: 1\n"[..]));
        assert_eq!(read("in.yaml").unwrap().as_deref(), Some(&b"x: 1\n"[..]));
        assert_eq!(read("missing.yaml").unwrap(), None);
        assert_eq!(read("a").unwrap(), None);
        for outside in ["out.yaml", "../secret.yaml"] {
            assert!(
                matches!(read(outside), Err(SourceError::Refused { .. })),
                "{outside}"
            );
        }
        let small = Limits {
            file_size: 2,
            ..Limits::default()
        };
        assert!(matches!(
            read_dir_file(&root, "a/x.yaml", &small),
            Err(SourceError::Refused { .. })
        ));
        let e = read_dir_file(&t.path().join("none"), "a/x.yaml", &limits).unwrap_err();
        assert!(
            matches!(&e, SourceError::Root { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
            "{e}"
        );
    }
}
