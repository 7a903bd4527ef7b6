//! Reading the working tree.

use super::{is_manifest_name, Budget, SourceError, SourceFile};
use crate::config::Limits;
use std::fs;
use std::io::Read;
use std::path::Path;

/// Reads every manifest under `root`, honouring `.gitignore` (also outside a git repo), skipping
/// hidden entries. A symlink is followed only when its target stays inside `root`.
pub fn read_dir(root: &Path, limits: &Limits) -> Result<Vec<SourceFile>, Vec<SourceError>> {
    let canon_root = fs::canonicalize(root).map_err(|e| {
        vec![SourceError::Io {
            path: root.display().to_string(),
            message: e.to_string(),
        }]
    })?;
    if !canon_root.is_dir() {
        return Err(vec![SourceError::Io {
            path: root.display().to_string(),
            message: "not a directory".into(),
        }]);
    }
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
        .build();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut budget = Budget::new(limits);
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push(SourceError::Io {
                    path: String::new(),
                    message: e.to_string(),
                });
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
                    errors.push(e);
                }
            }
            continue;
        }
        match read_one(&canon_root, entry.path(), &rel, ft, &mut budget) {
            Ok(Some(f)) => files.push(f),
            Ok(None) => {}
            Err(SourceError::Limit(m)) => return Err(vec![SourceError::Limit(m)]),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
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

fn read_one(
    root: &Path,
    path: &Path,
    rel: &str,
    ft: fs::FileType,
    budget: &mut Budget<'_>,
) -> Result<Option<SourceFile>, SourceError> {
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
    let meta = fs::metadata(&target).map_err(|e| SourceError::Io {
        path: rel.to_string(),
        message: e.to_string(),
    })?;
    if meta.is_dir() {
        return Ok(None);
    }
    if !meta.is_file() {
        return Err(refused(
            "not a regular file (FIFO, socket or device); refused, not read",
        ));
    }
    budget.admit(rel, meta.len())?;
    let mut data = Vec::with_capacity(meta.len() as usize);
    let f = fs::File::open(&target).map_err(|e| SourceError::Io {
        path: rel.to_string(),
        message: e.to_string(),
    })?;
    // Read at most one byte more than the limit, in case the file grew after stat.
    f.take(budget.limits.file_size + 1)
        .read_to_end(&mut data)
        .map_err(|e| SourceError::Io {
            path: rel.to_string(),
            message: e.to_string(),
        })?;
    if data.len() as u64 > budget.limits.file_size {
        return Err(refused("file grew past limits.fileSize while being read"));
    }
    Ok(Some(SourceFile {
        path: rel.to_string(),
        data,
    }))
}
