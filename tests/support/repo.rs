//! A repo in a temporary directory, and git with a fixed identity.

use super::files::{copy_tree, write_file};
use meshform::config::{Config, Limits};
use meshform::repo::{LoadOptions, Repo};
use meshform::source::SourceFile;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Runs `git` in `dir` with a fixed identity, dates and default branch, isolated from the
/// machine's git configuration; panics with git's stderr when it fails. Returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = isolated_git(dir, args)
        .output()
        .unwrap_or_else(|e| panic!("git runs: {e}"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// As [`git`], for a question that may fail (`rev-parse` outside a repository): its trimmed
/// stdout, or None when git exits non-zero.
pub fn git_out(dir: &Path, args: &[&str]) -> Option<String> {
    let out = isolated_git(dir, args)
        .stderr(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("git runs: {e}"));
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn isolated_git(dir: &Path, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new("git");
    c.args([
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "-c",
        "init.defaultBranch=main",
        "-c",
        "protocol.file.allow=always",
    ])
    .args(args)
    .current_dir(dir)
    .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
    .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
    .env("GIT_CONFIG_NOSYSTEM", "1")
    .env("GIT_CONFIG_GLOBAL", "/dev/null");
    c
}

/// A temporary directory, removed when dropped, to build a repo in: files are written by
/// path relative to it, and git runs in it with the fixed identity of [`git`].
///
/// The directory is mode 0755, so meshform can read it when a test runs it as another user.
pub struct TempRepo {
    dir: tempfile::TempDir,
}

impl TempRepo {
    /// An empty directory.
    pub fn new() -> TempRepo {
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod the temp dir");
        TempRepo { dir }
    }

    /// A directory holding `files` (path relative to it, content).
    pub fn with<K, V>(files: impl IntoIterator<Item = (K, V)>) -> TempRepo
    where
        K: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let r = TempRepo::new();
        for (rel, data) in files {
            r.write(rel.as_ref(), data);
        }
        r
    }

    /// A copy of the tree at `src`.
    pub fn copy_of(src: &Path) -> TempRepo {
        let r = TempRepo::new();
        copy_tree(src, r.path());
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `rel` under the directory.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    /// Writes `data` to `rel`, creating the directories above it; returns the file's path.
    pub fn write(&self, rel: &str, data: impl AsRef<[u8]>) -> PathBuf {
        write_file(self.path(), rel, data)
    }

    /// Removes the file `rel`.
    pub fn remove(&self, rel: &str) {
        let p = self.join(rel);
        std::fs::remove_file(&p).unwrap_or_else(|e| panic!("rm {}: {e}", p.display()));
    }

    /// Creates the directory `rel` and those above it; returns its path.
    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let p = self.join(rel);
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        p
    }

    /// Makes `rel` a symlink to `target` (taken as it is: relative targets resolve from the
    /// link's directory); returns the link's path.
    pub fn symlink(&self, target: impl AsRef<Path>, rel: &str) -> PathBuf {
        let p = self.join(rel);
        std::os::unix::fs::symlink(target.as_ref(), &p)
            .unwrap_or_else(|e| panic!("symlink {}: {e}", p.display()));
        p
    }

    /// Runs git in the directory (see [`git`]); returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        git(self.path(), args)
    }

    /// `git init -q`: the branch is `main`.
    pub fn git_init(&self) -> &TempRepo {
        self.git(&["init", "-q"]);
        self
    }

    /// Stages everything (`git add -A`) and commits it with `msg`.
    pub fn commit(&self, msg: &str) -> &TempRepo {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-qm", msg]);
        self
    }
}

/// A repo of `files` (path, content) loaded in memory, as `Repo::load` loads a directory that
/// has no meshform.yaml (the default config, every object in `cluster1`), with `limits`.
/// Panics when it does not load.
pub fn memory_repo<P, D>(files: impl IntoIterator<Item = (P, D)>, limits: Limits) -> Repo
where
    P: Into<String>,
    D: Into<Vec<u8>>,
{
    let files = files
        .into_iter()
        .map(|(path, data)| SourceFile {
            path: path.into(),
            data: data.into(),
            blob: None,
        })
        .collect();
    Repo::from_files(
        Config::default(),
        files,
        "cluster1",
        &LoadOptions::default(),
        limits,
    )
    .unwrap_or_else(|e| panic!("the in-memory repo loads: {e:?}"))
}
