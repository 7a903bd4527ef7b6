//! Loading a whole repo: config, files, templates per cluster, objects with positions.

use crate::config::{self, Config, Limits};
use crate::diag::{self, Diagnostic};
use crate::manifest::{self, Location, Object, SourceText};
use crate::source::{self, template, Origin, SourceError, SourceFile};
use crate::yaml::{self, Pos};
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Directory of the repo's own policies (loaded by `policy`, not rendered).
pub const POLICY_DIR: &str = "policies/";

/// How to load a repo.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Cluster name when meshform.yaml names none (`--cluster`, else `cluster1`).
    pub fallback_cluster: Option<String>,
    /// Extra template values (`--values FILE`), merged over `clusters[].values`.
    pub values: serde_json::Map<String, serde_json::Value>,
    /// Limits to use instead of meshform.yaml's (tests, fuzzing).
    pub limits: Option<Limits>,
}

/// A loaded repo.
#[derive(Debug, Clone, Default)]
pub struct Repo {
    /// meshform.yaml, or the default.
    pub config: Config,
    /// The texts of every parsed file (templates after rendering, one entry per cluster).
    pub files: Vec<SourceText>,
    /// Every object, in file order.
    pub objects: Vec<Object>,
    /// Policy files found under `policies/`.
    pub policy_files: Vec<SourceText>,
    /// Non-fatal findings (YAML 1.1 scalars, skipped files).
    pub warnings: Vec<Diagnostic>,
    /// The effective limits.
    pub limits: Limits,
    /// The cluster names, in config order.
    pub clusters: Vec<String>,
    /// Document starts per file index, filled by `locate` on first use.
    doc_starts: DocStarts,
}

/// Per file index, where each YAML document starts (`yaml::document_starts`).
type DocStarts = Arc<Mutex<HashMap<usize, Arc<Vec<(usize, u32)>>>>>;

/// Loading failed; every problem found is listed.
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) loading the repo", .0.len())]
pub struct LoadError(pub Vec<Diagnostic>);

fn source_diag(e: SourceError) -> Diagnostic {
    let code = match &e {
        SourceError::Refused { .. } => "file-refused",
        SourceError::Git(_) => "git",
        SourceError::Limit(_) => "limit",
        SourceError::Io { .. } => "io",
    };
    let mut d = Diagnostic::error(code, e.to_string());
    if let Some(p) = e.path() {
        if !p.is_empty() {
            d.message = match &e {
                SourceError::Io { message, .. } | SourceError::Refused { message, .. } => {
                    message.clone()
                }
                _ => d.message,
            };
            d = d.at(Location::new(p.into(), Pos { line: 1, column: 1 }));
        }
    }
    d
}

/// Reads meshform.yaml from the origin, if present. Its own size limit is the default
/// `limits.fileSize`: the limits it sets apply only once it is read.
fn read_config(origin: &Origin) -> Result<Option<(String, Vec<u8>)>, SourceError> {
    let max = Limits::default().file_size;
    match origin {
        Origin::Dir(p) => {
            let f = p.join(config::FILE_NAME);
            match std::fs::symlink_metadata(&f) {
                Ok(m) if m.is_file() && m.len() > max => Err(SourceError::Refused {
                    path: config::FILE_NAME.into(),
                    message: format!(
                        "file is {} bytes, over the limit of {max} (limits.fileSize)",
                        m.len()
                    ),
                }),
                Ok(m) if m.is_file() => {
                    let io = |e: std::io::Error| SourceError::Io {
                        path: config::FILE_NAME.into(),
                        message: e.to_string(),
                    };
                    let mut data = Vec::new();
                    std::fs::File::open(&f)
                        .and_then(|file| file.take(max + 1).read_to_end(&mut data))
                        .map_err(io)?;
                    if data.len() as u64 > max {
                        return Err(SourceError::Refused {
                            path: config::FILE_NAME.into(),
                            message: "file grew past limits.fileSize while being read".into(),
                        });
                    }
                    Ok(Some((config::FILE_NAME.to_string(), data)))
                }
                Ok(_) => Err(SourceError::Refused {
                    path: config::FILE_NAME.into(),
                    message: "meshform.yaml must be a regular file, not a link".into(),
                }),
                Err(_) => Ok(None),
            }
        }
        Origin::Rev { path, rev } => Ok(source::read_rev_file(path, rev, config::FILE_NAME, max)?
            .map(|d| (config::FILE_NAME.to_string(), d))),
    }
}

/// Decodes a file as UTF-8 text, refusing binary content with a position.
fn decode(path: &Arc<str>, data: Vec<u8>) -> Result<String, Diagnostic> {
    if let Some(i) = data.iter().position(|b| *b == 0) {
        let line = data[..i].iter().filter(|b| **b == b'\n').count() as u32 + 1;
        return Err(
            Diagnostic::error("binary-file", "file contains a NUL byte; is it binary?")
                .at(Location::new(path.clone(), Pos { line, column: 1 })),
        );
    }
    String::from_utf8(data).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() as u32 + 1;
        let col = at
            - bytes[..at]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        Diagnostic::error("invalid-utf8", format!("invalid UTF-8 at byte {at}")).at(Location::new(
            path.clone(),
            Pos {
                line,
                column: col as u32,
            },
        ))
    })
}

impl Repo {
    /// Loads a repo from a directory or a git revision.
    pub fn load(origin: &Origin, opts: &LoadOptions) -> Result<Repo, LoadError> {
        let fallback = opts
            .fallback_cluster
            .clone()
            .unwrap_or_else(|| "cluster1".into());
        let config = match read_config(origin).map_err(|e| LoadError(vec![source_diag(e)]))? {
            Some((path, data)) => {
                let p: Arc<str> = path.into();
                let text = decode(&p, data).map_err(|d| LoadError(vec![d]))?;
                Config::parse(&text).map_err(|e| LoadError(vec![*e.0]))?
            }
            None => Config::default(),
        };
        let limits = opts.limits.unwrap_or(config.limits);
        let files = source::read(origin, &limits)
            .map_err(|es| LoadError(es.into_iter().map(source_diag).collect()))?;
        Self::from_files(config, files, &fallback, opts, limits)
    }

    /// Loads a repo from files already read (used by `krm` and tests).
    pub fn from_files(
        config: Config,
        files: Vec<SourceFile>,
        fallback: &str,
        opts: &LoadOptions,
        limits: Limits,
    ) -> Result<Repo, LoadError> {
        let matcher = config
            .path_matcher(fallback)
            .map_err(|e| LoadError(vec![*e.0]))?;
        let clusters = config.cluster_names(matcher.default_cluster());
        let mut errors = Vec::new();
        let mut texts: Vec<(SourceText, String)> = Vec::new(); // (text, cluster)
        let mut policy_files = Vec::new();
        for f in files {
            if f.path == config::FILE_NAME
                || f.path.rsplit('/').next() == Some("kustomization.yaml")
            {
                continue;
            }
            let path: Arc<str> = f.path.as_str().into();
            let text = match decode(&path, f.data) {
                Ok(t) => t,
                Err(d) => {
                    errors.push(d);
                    continue;
                }
            };
            if f.path.starts_with(POLICY_DIR) {
                policy_files.push(SourceText {
                    path,
                    text: text.into(),
                });
                continue;
            }
            if f.path.ends_with(".j2") {
                for cluster in &clusters {
                    let ctx = template::Context::for_cluster(&config, cluster, &opts.values);
                    match template::render(&path, &text, &ctx, &limits) {
                        Ok(out) => texts.push((
                            SourceText {
                                path: path.clone(),
                                text: out.into(),
                            },
                            cluster.clone(),
                        )),
                        Err(d) => errors.push(*d),
                    }
                }
                continue;
            }
            let cluster = matcher.cluster_of(&f.path).to_string();
            texts.push((
                SourceText {
                    path,
                    text: text.into(),
                },
                cluster,
            ));
        }
        let yl = limits.yaml();
        let parsed: Vec<(Vec<Object>, Vec<Diagnostic>)> = texts
            .par_iter()
            .enumerate()
            .map(|(i, (st, cluster))| manifest::parse_file(&st.path, &st.text, i, cluster, &yl))
            .collect();
        let mut objects = Vec::new();
        let mut warnings = Vec::new();
        for (objs, diags) in parsed {
            objects.extend(objs);
            for d in diags {
                if d.severity == diag::Severity::Error {
                    errors.push(d);
                } else {
                    warnings.push(d);
                }
            }
        }
        if objects.len() > limits.objects {
            errors.push(Diagnostic::error(
                "limit",
                format!(
                    "{} objects, over the limit of {} (limits.objects in meshform.yaml)",
                    objects.len(),
                    limits.objects
                ),
            ));
        }
        // The same identity twice in one cluster is an error naming both places.
        let mut seen: HashMap<(&str, &str, &str, &str, &str), &Object> = HashMap::new();
        for o in &objects {
            let key = (
                o.cluster.as_str(),
                o.id.group(),
                o.id.kind.as_str(),
                o.id.namespace.as_str(),
                o.id.name.as_str(),
            );
            if let Some(first) = seen.get(&key) {
                errors.push(
                    Diagnostic::error(
                        "duplicate-object",
                        format!("{} is defined twice in cluster {}", o.id, o.cluster),
                    )
                    .at(o.location.clone())
                    .on(o.id.clone())
                    .related(first.location.clone(), "first defined"),
                );
            } else {
                seen.insert(key, o);
            }
        }
        if !errors.is_empty() {
            diag::normalize(&mut errors);
            return Err(LoadError(errors));
        }
        Ok(Repo {
            config,
            files: texts.into_iter().map(|(t, _)| t).collect(),
            objects,
            policy_files,
            warnings,
            limits,
            clusters,
            doc_starts: Arc::default(),
        })
    }

    /// Where a field of an object is written (falls back to the object's start). Parses only
    /// the object's document, so locating every object of a big file stays linear.
    pub fn locate(&self, obj: &Object, field: &str) -> Location {
        let Some(src) = self.files.get(obj.file_index) else {
            return obj.location.clone();
        };
        let limits = self.limits.yaml();
        let starts = {
            let mut cache = self
                .doc_starts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            cache
                .entry(obj.file_index)
                .or_insert_with(|| Arc::new(yaml::document_starts(&src.text, &limits)))
                .clone()
        };
        let pointer = format!("{}{}", obj.pointer, manifest::field_to_pointer(field));
        match yaml::locate_in(&src.text, &starts, obj.doc_index, &pointer, &limits) {
            Some(pos) => Location::new(src.path.clone(), pos),
            None => obj.location.clone(),
        }
    }
}

/// Helper for callers: the origin for a path and an optional revision.
pub fn origin(path: PathBuf, rev: Option<String>) -> Origin {
    match rev {
        Some(rev) => Origin::Rev { path, rev },
        None => Origin::Dir(path),
    }
}
