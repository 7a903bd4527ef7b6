//! Where the bytes come from: a directory, or a git revision read from the object database.
//!
//! Both give the same list of files for the same tree: `*.yaml`, `*.yml` and their `.j2`
//! templates, skipping `.git`, hidden directories and what `.gitignore` ignores, sorted by path.
//! Neither reads outside the repo root: symlinks that leave it are refused.

mod dir;
mod git;
pub mod template;
pub mod values;

pub use dir::{read_dir, read_dir_file};
pub use git::{merge_base, read_rev, read_rev_file, resolve_rev, GitRepo};

use crate::config::{self, Limits};
use std::collections::HashSet;
use std::io::Read;
use std::path::PathBuf;

/// One file of the repo, as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the repo root, with `/` separators.
    pub path: String,
    /// Contents (empty when `blob` is one of the ids the reader was told it knows).
    pub data: Vec<u8>,
    /// The git blob id, for a file read from a revision.
    pub blob: Option<git2::Oid>,
}

/// Where to read a repo from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The working tree at this directory.
    Dir(PathBuf),
    /// A git revision; `path` is the directory inside the repo's work tree (or the repo).
    Rev {
        /// A directory inside a git repository.
        path: PathBuf,
        /// Any revision git understands: commit, branch, tag, `HEAD~1`.
        rev: String,
    },
}

/// Problems reading a repo.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// An I/O error on a file of the repo.
    #[error("{path}: {source}")]
    Io {
        /// Repo-relative path.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The repo root cannot be opened.
    #[error("cannot read the repo at {}: {source}", root.display())]
    Root {
        /// The root as given.
        root: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The repo root is not a directory.
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// The directory walk failed (an unreadable directory, a bad `.gitignore`).
    #[error("{0}")]
    Walk(#[from] ignore::Error),
    /// A path refused for safety (symlink out of the repo, special file, too large).
    #[error("{path}: {message}")]
    Refused {
        /// Repo-relative path.
        path: String,
        /// Why.
        message: String,
    },
    /// A git problem (not a repository, unknown revision).
    #[error("{0}")]
    Git(String),
    /// More manifest files than `limits.files`.
    #[error("more than {0} manifest files (limits.files in meshform.yaml)")]
    TooManyFiles(usize),
    /// Manifests larger in total than `limits.totalSize`.
    #[error("manifests total more than {0} bytes (limits.totalSize in meshform.yaml)")]
    TooManyBytes(u64),
}

impl SourceError {
    /// True for a limit on the whole repo (the read stops at the first).
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            SourceError::TooManyFiles(_) | SourceError::TooManyBytes(_)
        )
    }

    /// An I/O error on the file at `path`, as a closure for `map_err`.
    pub(crate) fn io(path: &str) -> impl FnOnce(std::io::Error) -> SourceError + '_ {
        move |source| SourceError::Io {
            path: path.to_string(),
            source,
        }
    }
}

/// The file `render --out-dir` writes at the top of its output. A directory holding it is
/// meshform's own output, never input: the walkers skip it (below the root), so rendering into
/// `rendered/` inside the repo and rendering again reads the same sources.
pub const OUT_DIR_MARKER: &str = ".meshform-out";

/// True for file names meshform reads.
pub fn is_manifest_name(name: &str) -> bool {
    let n = name.strip_suffix(".j2").unwrap_or(name);
    n.ends_with(".yaml") || n.ends_with(".yml")
}

/// Reads every manifest file of `origin`. Errors are collected so one run reports them all.
/// A revision's blobs whose id is in `known` are not read: their `data` is left empty for the
/// caller to take from wherever it knows them (another revision of the same repo).
pub fn read(
    origin: &Origin,
    limits: &Limits,
    known: &HashSet<git2::Oid>,
) -> Result<Vec<SourceFile>, Vec<SourceError>> {
    let mut files = match origin {
        Origin::Dir(p) => read_dir(p, limits)?,
        Origin::Rev { path, rev } => read_rev(path, rev, limits, known).map_err(|e| vec![e])?,
    };
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Reads one file of `origin`, `rel` being relative to the repo root, under the rules `read`
/// applies: from a working tree, a regular file inside the root (a link only when its target
/// stays inside); from a revision, a regular blob of its tree. At most `limits.fileSize`
/// bytes. `None` when there is no such file.
pub fn read_file(
    origin: &Origin,
    rel: &str,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, SourceError> {
    match origin {
        Origin::Dir(root) => read_dir_file(root, rel, limits),
        Origin::Rev { path, rev } => read_rev_file(path, rev, rel, limits.file_size),
    }
}

/// Reads meshform.yaml at the root of `origin`, if present: a regular file (never a link), at
/// most the default `limits.fileSize`, since the limits it sets apply only once it is read.
pub fn read_config(origin: &Origin) -> Result<Option<Vec<u8>>, SourceError> {
    let max = Limits::default().file_size;
    let name = config::FILE_NAME;
    match origin {
        Origin::Dir(p) => {
            let f = p.join(name);
            match std::fs::symlink_metadata(&f) {
                Ok(m) if m.is_file() && m.len() > max => Err(SourceError::Refused {
                    path: name.into(),
                    message: format!(
                        "file is {} bytes, over the limit of {max} (limits.fileSize)",
                        m.len()
                    ),
                }),
                Ok(m) if m.is_file() => {
                    let mut data = Vec::new();
                    std::fs::File::open(&f)
                        .and_then(|file| file.take(max + 1).read_to_end(&mut data))
                        .map_err(SourceError::io(name))?;
                    if data.len() as u64 > max {
                        return Err(SourceError::Refused {
                            path: name.into(),
                            message: "file grew past limits.fileSize while being read".into(),
                        });
                    }
                    Ok(Some(data))
                }
                Ok(_) => Err(SourceError::Refused {
                    path: name.into(),
                    message: "meshform.yaml must be a regular file, not a link".into(),
                }),
                Err(_) => Ok(None),
            }
        }
        Origin::Rev { path, rev } => read_rev_file(path, rev, name, max),
    }
}

/// Shared checks on a file's size and on the running totals.
pub(crate) struct Budget<'a> {
    limits: &'a Limits,
    files: usize,
    bytes: u64,
}

impl<'a> Budget<'a> {
    pub(crate) fn new(limits: &'a Limits) -> Self {
        Budget {
            limits,
            files: 0,
            bytes: 0,
        }
    }

    pub(crate) fn admit(&mut self, path: &str, size: u64) -> Result<(), SourceError> {
        if size > self.limits.file_size {
            return Err(SourceError::Refused {
                path: path.to_string(),
                message: format!(
                    "file is {size} bytes, over the limit of {} (limits.fileSize in meshform.yaml)",
                    self.limits.file_size
                ),
            });
        }
        self.files += 1;
        self.bytes += size;
        if self.files > self.limits.files {
            return Err(SourceError::TooManyFiles(self.limits.files));
        }
        if self.bytes > self.limits.total_size {
            return Err(SourceError::TooManyBytes(self.limits.total_size));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_names() {
        assert!(is_manifest_name("a.yaml"));
        assert!(is_manifest_name("a.yml"));
        assert!(is_manifest_name("a.yaml.j2"));
        assert!(!is_manifest_name("a.json"));
        assert!(!is_manifest_name("a.j2"));
    }
}
