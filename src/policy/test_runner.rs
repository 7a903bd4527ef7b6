//! `meshform policy test DIR`: test files in the style of `kyverno test`
//! (docs/policies.md, "Testing policies"): policies, resources, and the expected result per
//! resource (`pass`, `fail` or `skip`, with `messageContains` and an optional `line`).

use super::run;
use crate::config::{Config, Limits};
use crate::diag::Diagnostic;
use crate::incremental::Incr;
use crate::manifest::SourceText;
use crate::repo::{LoadOptions, Repo};
use crate::source::SourceFile;
use serde::Deserialize;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The kind of test documents.
pub const TEST_KIND: &str = "Test";

/// A test file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestDoc {
    /// `policy.meshform.dev/v1alpha1`.
    pub api_version: String,
    /// `Test`.
    pub kind: String,
    /// Name of the test.
    #[serde(default)]
    pub metadata: serde_json::Value,
    /// Policy files, relative to the test file.
    pub policies: Vec<String>,
    /// Resource files or directories, relative to the test file.
    pub resources: Vec<String>,
    /// Expected results.
    pub results: Vec<Expected>,
}

/// One expected result.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expected {
    /// Policy name.
    pub policy: String,
    /// Kind of the resources.
    pub kind: String,
    /// Names, or `namespace/name`.
    pub resources: Vec<String>,
    /// `pass`, `fail` or `skip`.
    pub result: Outcome,
    /// A substring of a finding's message (for `fail`).
    #[serde(default)]
    pub message_contains: Option<String>,
    /// The line of a finding in the resource file (for `fail`).
    #[serde(default)]
    pub line: Option<u32>,
}

/// A test result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The policy applied and found nothing.
    Pass,
    /// The policy reported a finding.
    Fail,
    /// The policy did not apply (or the finding was exempted).
    Skip,
}

/// What a test run found.
#[derive(Debug, Default)]
pub struct Summary {
    /// Checks that passed.
    pub passed: usize,
    /// Checks that failed.
    pub failed: usize,
    /// A line per check.
    pub log: String,
}

/// Why a test run stopped (exit 2): a test, policy or resource could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// A file or directory cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A test file is not valid YAML.
    #[error("{}:{}: {}", path.display(), .source.pos.line, .source.message)]
    Yaml {
        /// The test file.
        path: PathBuf,
        /// The parser's error.
        source: crate::yaml::YamlError,
    },
    /// A test document does not have the test format.
    #[error("{}:{line}: {message}", path.display())]
    Format {
        /// The test file.
        path: PathBuf,
        /// The document's line.
        line: u32,
        /// What is wrong, with the field's path.
        message: String,
    },
    /// A policy of the test does not load.
    #[error("{}: broken policy:\n{}", path.display(), diag_text(diagnostics))]
    Policy {
        /// The test file.
        path: PathBuf,
        /// The problems.
        diagnostics: Vec<Diagnostic>,
    },
    /// The test's resources do not load or type.
    #[error("{}: resources:\n{}", path.display(), diag_text(diagnostics))]
    Resources {
        /// The test file.
        path: PathBuf,
        /// The problems.
        diagnostics: Vec<Diagnostic>,
    },
    /// The policies could not run over the resources.
    #[error("{}: run:\n{}", path.display(), diag_text(diagnostics))]
    Run {
        /// The test file.
        path: PathBuf,
        /// The problems.
        diagnostics: Vec<Diagnostic>,
    },
    /// An expected result names a policy the test does not load.
    #[error("{}: policy {policy} is not among the test's policies", path.display())]
    UnknownPolicy {
        /// The test file.
        path: PathBuf,
        /// The policy name.
        policy: String,
    },
    /// The directory holds no test file.
    #[error("{}: no test files (kind: Test) found", .0.display())]
    NoTests(PathBuf),
}

fn io(p: &Path) -> impl FnOnce(std::io::Error) -> TestError + '_ {
    move |source| TestError::Io {
        path: p.to_path_buf(),
        source,
    }
}

fn read_text(p: &Path) -> Result<String, TestError> {
    std::fs::read_to_string(p).map_err(io(p))
}

fn collect(base: &Path, rel: &str, out: &mut Vec<SourceFile>) -> Result<(), TestError> {
    let p = base.join(rel);
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&p)
            .map_err(io(&p))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            let name = e
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let child = format!("{}/{name}", rel.trim_end_matches('/'));
            if e.is_dir() || name.ends_with(".yaml") || name.ends_with(".yml") {
                collect(base, &child, out)?;
            }
        }
        return Ok(());
    }
    out.push(SourceFile {
        path: rel.trim_start_matches("./").to_string(),
        data: read_text(&p)?.into_bytes(),
        blob: None,
    });
    Ok(())
}

fn test_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), TestError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            test_files(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            let text = read_text(&e)?;
            let is_test = crate::yaml::parse_stream(&text, &Default::default())
                .ok()
                .and_then(|p| p.documents.into_iter().next())
                .is_some_and(|d| d.value["kind"] == TEST_KIND);
            if is_test {
                out.push(e);
            }
        }
    }
    Ok(())
}

fn diag_text(ds: &[Diagnostic]) -> String {
    ds.iter().map(|d| format!("  {d}\n")).collect()
}

/// Runs one test file.
pub fn run_file(path: &Path, sum: &mut Summary) -> Result<(), TestError> {
    let text = read_text(path)?;
    let parsed = crate::yaml::parse_stream(&text, &Default::default()).map_err(|source| {
        TestError::Yaml {
            path: path.to_path_buf(),
            source,
        }
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    for d in parsed.documents {
        let t: TestDoc =
            serde_path_to_error::deserialize(&d.value).map_err(|e| TestError::Format {
                path: path.to_path_buf(),
                line: d.pos.line,
                message: e.to_string(),
            })?;
        let mut sources = Vec::new();
        for p in &t.policies {
            let full = base.join(p);
            sources.push(SourceText {
                path: p.as_str().into(),
                text: read_text(&full)?.into(),
            });
        }
        let policies = super::load(&sources).map_err(|e| TestError::Policy {
            path: path.to_path_buf(),
            diagnostics: e.into_diagnostics(),
        })?;
        let mut files = Vec::new();
        for r in &t.resources {
            collect(base, r, &mut files)?;
        }
        // Policy tests check policies: a field meshform would not render is only a warning.
        let config = Config {
            validate: crate::config::Validate::Warn,
            ..Config::default()
        };
        let repo = Repo::from_files(
            config,
            files,
            "cluster1",
            &LoadOptions::default(),
            Limits::default(),
        )
        .map_err(|e| TestError::Resources {
            path: path.to_path_buf(),
            diagnostics: e.into_diagnostics(),
        })?;
        let (model, typing, _) = crate::gloo::Model::build(&repo, Incr::OFF);
        if crate::diag::has_errors(&typing) {
            return Err(TestError::Resources {
                path: path.to_path_buf(),
                diagnostics: typing,
            });
        }
        let (report, applied, _) =
            run::run(&repo, &model, &policies, false, Incr::OFF).map_err(|e| TestError::Run {
                path: path.to_path_buf(),
                diagnostics: e.into_diagnostics(),
            })?;
        for exp in &t.results {
            let Some(pi) = policies.iter().position(|p| p.name() == exp.policy) else {
                return Err(TestError::UnknownPolicy {
                    path: path.to_path_buf(),
                    policy: exp.policy.clone(),
                });
            };
            for r in &exp.resources {
                let (ns, name) = r.split_once('/').unwrap_or(("", r.as_str()));
                let found: Vec<usize> = (0..repo.objects.len())
                    .filter(|&i| {
                        let o = &repo.objects[i].id;
                        o.kind == exp.kind && o.name == name && (ns.is_empty() || o.namespace == ns)
                    })
                    .collect();
                if found.is_empty() {
                    sum.failed += 1;
                    let _ = writeln!(
                        sum.log,
                        "FAIL {} {} {} {r}: resource not found",
                        path.display(),
                        exp.policy,
                        exp.kind
                    );
                    continue;
                }
                for oi in found {
                    let id = &repo.objects[oi].id;
                    let mine =
                        |d: &&Diagnostic| d.code == exp.policy && d.object.as_ref() == Some(id);
                    let hits: Vec<&Diagnostic> = report.findings.iter().filter(mine).collect();
                    let actual = if !hits.is_empty() {
                        Outcome::Fail
                    } else if report.suppressed.iter().any(|d| mine(&d))
                        || !applied.contains(&(pi, oi))
                    {
                        Outcome::Skip
                    } else {
                        Outcome::Pass
                    };
                    let mut problem = None;
                    if actual != exp.result {
                        problem = Some(format!("expected {:?}, got {:?}", exp.result, actual));
                    } else if let Some(m) = &exp.message_contains {
                        if !hits.iter().any(|d| d.message.contains(m.as_str())) {
                            problem = Some(format!(
                                "no finding message contains {m:?}: {:?}",
                                hits.iter().map(|d| &d.message).collect::<Vec<_>>()
                            ));
                        }
                    }
                    if problem.is_none() {
                        if let Some(line) = exp.line {
                            if !hits
                                .iter()
                                .any(|d| d.location.as_ref().is_some_and(|l| l.line == line))
                            {
                                problem = Some(format!(
                                    "no finding at line {line}: {:?}",
                                    hits.iter()
                                        .filter_map(|d| d.location.as_ref().map(|l| l.to_string()))
                                        .collect::<Vec<_>>()
                                ));
                            }
                        }
                    }
                    match problem {
                        None => {
                            sum.passed += 1;
                            let _ = writeln!(
                                sum.log,
                                "PASS {} {} {id} {:?}",
                                path.display(),
                                exp.policy,
                                actual
                            );
                        }
                        Some(p) => {
                            sum.failed += 1;
                            let _ = writeln!(
                                sum.log,
                                "FAIL {} {} {id}: {p}",
                                path.display(),
                                exp.policy
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Runs every test file (a YAML file whose first document has `kind: Test`) under `dir`.
pub fn run_dir(dir: &Path) -> Result<Summary, TestError> {
    let mut files = Vec::new();
    test_files(dir, &mut files)?;
    if files.is_empty() {
        return Err(TestError::NoTests(dir.to_path_buf()));
    }
    let mut sum = Summary::default();
    for f in files {
        run_file(&f, &mut sum)?;
    }
    Ok(sum)
}
