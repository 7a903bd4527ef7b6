//! Reading a git revision straight from the object database (git2, no checkout).
//!
//! The result equals what a checkout of the revision would give `read_dir`: the same
//! `.gitignore` rules (read from the revision's own tree), hidden entries skipped, symlinks
//! resolved inside the tree and refused when they leave the repo root.

use super::{is_manifest_name, Budget, SourceError, SourceFile};
use crate::config::Limits;
use git2::{ObjectType, Oid, Repository, Tree};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// A git repository and the directory inside it that is the meshform repo root.
pub struct GitRepo {
    /// The opened repository.
    pub repo: Repository,
    /// The meshform root relative to the work tree (`""` for the top), with `/` separators.
    pub prefix: String,
}

impl GitRepo {
    /// Opens the repository containing `path`.
    pub fn open(path: &Path) -> Result<GitRepo, SourceError> {
        // libgit2 hashes every object it reads again to check it against its id (SHA-1 with
        // collision detection: 2-3 % of a 10k diff's CPU, perf). git does not on ordinary reads
        // either; a blob is read by its id and used as it is (`GIT_OPT_ENABLE_STRICT_HASH_
        // VERIFICATION`, libgit2's common.h). A process-wide option, set before any read.
        git2::opts::strict_hash_verification(false);
        let abs = std::fs::canonicalize(path).map_err(|source| SourceError::Root {
            root: path.to_path_buf(),
            source,
        })?;
        let repo = Repository::discover(&abs).map_err(|_| {
            SourceError::Git(format!(
                "{} is not in a git repository; --rev, --base and --head need one \
                 (run `git init` and commit, or render the directory without --rev)",
                path.display()
            ))
        })?;
        let prefix = match repo.workdir() {
            Some(wd) => {
                let wd = std::fs::canonicalize(wd).unwrap_or_else(|_| wd.to_path_buf());
                abs.strip_prefix(&wd)
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default()
            }
            None => String::new(),
        };
        Ok(GitRepo { repo, prefix })
    }

    /// Resolves a revision to a commit id.
    pub fn resolve(&self, rev: &str) -> Result<Oid, SourceError> {
        if let Some(branch) = rev.strip_prefix("merge-base:") {
            let head = self.resolve("HEAD")?;
            let other = self.resolve(branch)?;
            return self.repo.merge_base(head, other).map_err(|e| {
                SourceError::Git(format!(
                    "no merge base of HEAD and {branch}: {}",
                    e.message()
                ))
            });
        }
        let obj = self.repo.revparse_single(rev).map_err(|e| {
            // An unborn HEAD, whatever branch it names: `is_empty` only knows `master` or the
            // configured init.defaultBranch, so `git init -b main` would be missed.
            let unborn =
                matches!(self.repo.head(), Err(h) if h.code() == git2::ErrorCode::UnbornBranch);
            if unborn {
                SourceError::Git("the repository has no commits yet; commit first".into())
            } else {
                SourceError::Git(format!("unknown revision `{rev}`: {}", e.message()))
            }
        })?;
        let commit = obj
            .peel_to_commit()
            .map_err(|e| SourceError::Git(format!("`{rev}` is not a commit: {}", e.message())))?;
        Ok(commit.id())
    }
}

/// Resolves `rev` in the repository containing `path`.
pub fn resolve_rev(path: &Path, rev: &str) -> Result<Oid, SourceError> {
    GitRepo::open(path)?.resolve(rev)
}

/// The merge base of two revisions.
pub fn merge_base(path: &Path, a: &str, b: &str) -> Result<Oid, SourceError> {
    let g = GitRepo::open(path)?;
    let (a, b) = (g.resolve(a)?, g.resolve(b)?);
    g.repo
        .merge_base(a, b)
        .map_err(|e| SourceError::Git(format!("no merge base: {}", e.message())))
}

/// Reads the manifests of revision `rev` under the directory `path` (inside a work tree). A
/// blob whose id is in `known` is not read (its `data` stays empty): a blob id names its
/// content, so the caller already has it.
pub fn read_rev(
    path: &Path,
    rev: &str,
    limits: &Limits,
    known: &HashSet<Oid>,
) -> Result<Vec<SourceFile>, SourceError> {
    let g = GitRepo::open(path)?;
    let oid = g.resolve(rev)?;
    let commit = g
        .repo
        .find_commit(oid)
        .map_err(|e| SourceError::Git(e.message().into()))?;
    let top = commit
        .tree()
        .map_err(|e| SourceError::Git(e.message().into()))?;
    // Collect every blob of the whole tree (paths from the top), so symlinks can be resolved.
    let mut blobs: BTreeMap<String, (Oid, i32)> = BTreeMap::new();
    let mut ignores: Vec<(String, Gitignore)> = Vec::new();
    walk(&g.repo, &top, "", &mut blobs, &mut ignores)?;
    let root = g.prefix.trim_end_matches('/').to_string();
    let under_root = |p: &str| root.is_empty() || p == root || p.starts_with(&format!("{root}/"));
    // meshform's own output (an out-dir committed inside the repo) is not input, as for a
    // working tree.
    let marker = format!("/{}", super::OUT_DIR_MARKER);
    let own_output: Vec<String> = blobs
        .keys()
        .filter_map(|k| k.strip_suffix(&marker))
        .filter(|d| *d != root)
        .map(|d| format!("{d}/"))
        .collect();
    let mut budget = Budget::new(limits);
    let mut admitted: Vec<(String, Oid)> = Vec::new();
    for (full, (id, mode)) in &blobs {
        if !under_root(full) || own_output.iter().any(|d| full.starts_with(d)) {
            continue;
        }
        let rel = if root.is_empty() {
            full.clone()
        } else {
            full[root.len() + 1..].to_string()
        };
        let name = rel.rsplit('/').next().unwrap_or(&rel);
        if is_hidden(&rel) || is_ignored(&ignores, full, &root) {
            continue;
        }
        if !is_manifest_name(name) {
            // As for a working tree: a link to a directory is refused, never followed.
            if *mode == 0o120000 {
                let target = String::from_utf8_lossy(&read_blob(&g.repo, *id)?).to_string();
                if let Some(resolved) = resolve_link(full, &target) {
                    let dir = format!("{resolved}/");
                    if blobs
                        .range(dir.clone()..)
                        .next()
                        .is_some_and(|(k, _)| k.starts_with(&dir))
                    {
                        return Err(SourceError::Refused {
                            path: rel.clone(),
                            message: if under_root(&resolved) {
                                "symlink to a directory; links to directories are not followed \
                                 (link the files, or move the directory)"
                                    .into()
                            } else {
                                "symlink points outside the repo root; refused, not read".into()
                            },
                        });
                    }
                }
            }
            continue;
        }
        let (blob_id, rel_label) = if *mode == 0o120000 {
            // A symlink: its blob holds the target path. Resolve it inside the tree only.
            let target = read_blob(&g.repo, *id)?;
            let target = String::from_utf8_lossy(&target).to_string();
            let resolved = resolve_link(full, &target).ok_or_else(|| SourceError::Refused {
                path: rel.clone(),
                message: "symlink points outside the repo root; refused, not read".into(),
            })?;
            if !under_root(&resolved) {
                return Err(SourceError::Refused {
                    path: rel.clone(),
                    message: "symlink points outside the repo root; refused, not read".into(),
                });
            }
            match blobs.get(&resolved) {
                Some((t, m)) if *m != 0o120000 => (*t, rel.clone()),
                _ => {
                    return Err(SourceError::Refused {
                        path: rel.clone(),
                        message: "symlink does not resolve to a file in this revision".into(),
                    })
                }
            }
        } else {
            (*id, rel.clone())
        };
        budget.admit(&rel_label, blob_size(&g.repo, blob_id)?)?;
        admitted.push((rel_label, blob_id));
    }
    // Inflating the blobs is most of the work: done side by side, each rayon job with its own
    // handle on the repository (a `git2::Repository` is `Send` but not `Sync`). The checks
    // above ran in tree order first; the first failed read, in tree order, is the error.
    let git_dir = g.repo.path().to_path_buf();
    admitted
        .into_par_iter()
        .map_init(
            || Repository::open(&git_dir),
            |repo, (path, id)| {
                if known.contains(&id) {
                    return Ok(SourceFile {
                        path,
                        data: Vec::new(),
                        blob: Some(id),
                    });
                }
                let repo = repo
                    .as_ref()
                    .map_err(|e| SourceError::Git(e.message().into()))?;
                Ok(SourceFile {
                    path,
                    data: read_blob(repo, id)?,
                    blob: Some(id),
                })
            },
        )
        .collect()
}

/// Reads one file of revision `rev`, `rel` being relative to the meshform root. `None` when
/// the revision has no such file. A link is refused, as is a blob over `max` bytes (its size
/// is read from the object header, before its content).
pub fn read_rev_file(
    path: &Path,
    rev: &str,
    rel: &str,
    max: u64,
) -> Result<Option<Vec<u8>>, SourceError> {
    let g = GitRepo::open(path)?;
    let oid = g.resolve(rev)?;
    let tree = g
        .repo
        .find_commit(oid)
        .and_then(|c| c.tree())
        .map_err(|e| SourceError::Git(e.message().into()))?;
    let root = g.prefix.trim_end_matches('/');
    let full = if root.is_empty() {
        rel.to_string()
    } else {
        format!("{root}/{rel}")
    };
    let Ok(entry) = tree.get_path(Path::new(&full)) else {
        return Ok(None);
    };
    if entry.kind() != Some(ObjectType::Blob) {
        return Ok(None);
    }
    let refused = |message: String| SourceError::Refused {
        path: rel.to_string(),
        message,
    };
    if entry.filemode() == 0o120000 {
        return Err(refused(format!("{rel} must be a regular file, not a link")));
    }
    let size = blob_size(&g.repo, entry.id())?;
    if size > max {
        return Err(refused(format!(
            "file is {size} bytes, over the limit of {max} (limits.fileSize)"
        )));
    }
    read_blob(&g.repo, entry.id()).map(Some)
}

/// A blob's size from its header, without inflating its content.
fn blob_size(repo: &Repository, id: Oid) -> Result<u64, SourceError> {
    let odb = repo
        .odb()
        .map_err(|e| SourceError::Git(e.message().into()))?;
    odb.read_header(id)
        .map(|(size, _)| size as u64)
        .map_err(|e| SourceError::Git(e.message().into()))
}

fn read_blob(repo: &Repository, id: Oid) -> Result<Vec<u8>, SourceError> {
    repo.find_blob(id)
        .map(|b| b.content().to_vec())
        .map_err(|e| SourceError::Git(e.message().into()))
}

fn walk(
    repo: &Repository,
    tree: &Tree<'_>,
    prefix: &str,
    blobs: &mut BTreeMap<String, (Oid, i32)>,
    ignores: &mut Vec<(String, Gitignore)>,
) -> Result<(), SourceError> {
    for entry in tree.iter() {
        let Ok(name) = entry.name() else { continue };
        let path = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        match entry.kind() {
            Some(ObjectType::Tree) => {
                if name == ".git" {
                    continue;
                }
                let sub = repo
                    .find_tree(entry.id())
                    .map_err(|e| SourceError::Git(e.message().into()))?;
                walk(repo, &sub, &path, blobs, ignores)?;
            }
            Some(ObjectType::Blob) => {
                if name == ".gitignore" {
                    let data = read_blob(repo, entry.id())?;
                    let mut b = GitignoreBuilder::new(PathBuf::from("/").join(prefix));
                    for line in String::from_utf8_lossy(&data).lines() {
                        let _ = b.add_line(None, line);
                    }
                    if let Ok(gi) = b.build() {
                        ignores.push((prefix.to_string(), gi));
                    }
                }
                blobs.insert(path, (entry.id(), entry.filemode()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Hidden if any component below the root starts with a dot (as the directory walker does).
fn is_hidden(rel: &str) -> bool {
    rel.split('/').any(|c| c.starts_with('.'))
}

/// Applies `.gitignore` files of the tree, deepest first, as git does. Only `.gitignore` files
/// at or below the meshform root count, as for the directory walker.
fn is_ignored(ignores: &[(String, Gitignore)], full: &str, root: &str) -> bool {
    let abs = PathBuf::from("/").join(full);
    let mut verdict = None;
    let mut best_depth = 0usize;
    for (dir, gi) in ignores {
        let applies = if dir.is_empty() {
            true
        } else {
            full.starts_with(&format!("{dir}/"))
        };
        let at_or_below_root =
            root.is_empty() || dir == root || dir.starts_with(&format!("{root}/"));
        if !applies || !at_or_below_root {
            continue;
        }
        // Check the file and each parent directory (a directory pattern ignores its contents).
        let mut m = gi.matched_path_or_any_parents(&abs, false);
        if m.is_none() {
            m = ignore::Match::None;
        }
        let depth = dir.matches('/').count() + usize::from(!dir.is_empty());
        match m {
            ignore::Match::Ignore(_) if verdict.is_none() || depth >= best_depth => {
                verdict = Some(true);
                best_depth = depth;
            }
            ignore::Match::Whitelist(_) if verdict.is_none() || depth >= best_depth => {
                verdict = Some(false);
                best_depth = depth;
            }
            _ => {}
        }
    }
    verdict.unwrap_or(false)
}

/// Resolves a symlink target relative to the link's directory; `None` if it leaves the tree or
/// is absolute.
fn resolve_link(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_inside_the_tree_only() {
        assert_eq!(
            resolve_link("a/b.yaml", "c.yaml").as_deref(),
            Some("a/c.yaml")
        );
        assert_eq!(
            resolve_link("a/b.yaml", "../c.yaml").as_deref(),
            Some("c.yaml")
        );
        assert_eq!(resolve_link("a/b.yaml", "../../c.yaml"), None);
        assert_eq!(resolve_link("a/b.yaml", "/etc/passwd"), None);
    }

    #[test]
    fn hidden_paths() {
        assert!(is_hidden(".github/x.yaml"));
        assert!(is_hidden("a/.b/x.yaml"));
        assert!(!is_hidden("a/b/x.yaml"));
    }
}
