//! Loading a whole repo: config, files, templates per cluster, objects with positions.

use crate::config::{self, Config, Limits};
use crate::diag::codes::{Load, Policy};
use crate::diag::{self, Diagnostic};
use crate::incremental::load::{self, Loaded};
use crate::manifest::{self, Location, Object, SourceText};
use crate::source::{self, template, Origin, SourceError, SourceFile};
use crate::yaml::{self, Pos};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
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
    /// `--validate`, instead of meshform.yaml's `validate`.
    pub validate: Option<config::Validate>,
    /// Gloo kinds accepted untranslated (`--accept-kind`), added to meshform.yaml's
    /// `accept.kinds`.
    pub accept_kinds: Vec<String>,
    /// The clusters asked for (`--cluster`; empty for all): templates outside every
    /// cluster's `paths` render once for each of them.
    pub clusters: Vec<String>,
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
    /// Route test files, those matching meshform.yaml `routeTests.paths` (read by
    /// `route_test`, not rendered).
    pub route_test_files: Vec<SourceText>,
    /// Non-fatal findings (YAML 1.1 scalars, skipped files).
    pub warnings: Vec<Diagnostic>,
    /// The effective limits.
    pub limits: Limits,
    /// The cluster names, in config order.
    pub clusters: Vec<String>,
    /// Document starts per file index, filled by `locate` on first use.
    doc_starts: DocStarts,
    /// What the load kept for a later load of another revision and for the pairing of
    /// objects (`Repo::load_after`, `incremental::same_objects`).
    pub(crate) loaded: Loaded,
}

/// Per file index, where each YAML document starts (`yaml::document_starts`).
type DocStarts = Arc<Mutex<HashMap<usize, Arc<Vec<(usize, u32)>>>>>;

/// Why a run stopped before it had findings to report (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The input is broken (files, meshform.yaml, templates, objects, policies); every problem
    /// found is listed.
    #[error("{} loading the repo", crate::diag::count(.0.len(), "problem", "problems"))]
    Invalid(Vec<Diagnostic>),
    /// The policies' estimated cost is over `limits.policyCost`: a finding at each expression
    /// over it, or one for the whole run.
    #[error("{} with the policies' estimated cost", crate::diag::count(.0.len(), "problem", "problems"))]
    PolicyCost(Vec<Diagnostic>),
    /// Policy evaluation took longer than `limits.policyTimeMs` and was stopped.
    #[error("policy evaluation took longer than limits.policyTimeMs ({limit_ms} ms); stopped")]
    PolicyTimeout {
        /// The limit, in milliseconds.
        limit_ms: u64,
    },
}

impl LoadError {
    /// The problems, as the diagnostics a front end prints.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            LoadError::Invalid(d) | LoadError::PolicyCost(d) => d.clone(),
            LoadError::PolicyTimeout { .. } => vec![policy_budget(
                Location::new(config::FILE_NAME.into(), Pos { line: 1, column: 1 }),
                self.to_string(),
            )],
        }
    }

    /// As [`LoadError::diagnostics`], consuming the error.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        match self {
            LoadError::Invalid(d) | LoadError::PolicyCost(d) => d,
            e @ LoadError::PolicyTimeout { .. } => e.diagnostics(),
        }
    }
}

/// A policy budget overrun (`limits.policyCost`, `limits.policyTimeMs`) as a diagnostic at
/// `at`, with the ways out (docs/policies.md#cost-and-time-budgets).
pub fn policy_budget(at: Location, message: String) -> Diagnostic {
    Diagnostic::error(Policy::Budget, message)
        .at(at)
        .help("index once with a Global variable or a helper function (docs/policies.md#cost-and-time-budgets), or raise limits.policyCost / limits.policyTimeMs in meshform.yaml")
}

/// A source problem as a diagnostic: located at its file when it concerns one.
fn source_diag(e: SourceError) -> Diagnostic {
    let code = match &e {
        SourceError::Refused { .. } => Load::FileRefused,
        SourceError::Git(_) => Load::Git,
        SourceError::TooManyFiles(_) | SourceError::TooManyBytes(_) => Load::Limit,
        SourceError::Io { .. }
        | SourceError::Root { .. }
        | SourceError::NotADirectory(_)
        | SourceError::Walk(_) => Load::Io,
    };
    // A file's problem is at the file; its message leaves out the path.
    let (message, path) = match &e {
        SourceError::Io { path, source } => (source.to_string(), Some(path)),
        SourceError::Refused { path, message } => (message.clone(), Some(path)),
        _ => (e.to_string(), None),
    };
    let mut d = Diagnostic::error(code, message);
    if let Some(path) = path.filter(|p| !p.is_empty()) {
        d = d.at(Location::new(
            path.as_str().into(),
            Pos { line: 1, column: 1 },
        ));
    }
    d
}

/// Reads meshform.yaml and every file: (config, files, fallback cluster, limits).
fn read_all(
    origin: &Origin,
    opts: &LoadOptions,
    known: &HashSet<git2::Oid>,
) -> Result<(Config, Vec<SourceFile>, String, Limits), LoadError> {
    let fallback = opts
        .fallback_cluster
        .clone()
        .unwrap_or_else(|| "cluster1".into());
    let config =
        match source::read_config(origin).map_err(|e| LoadError::Invalid(vec![source_diag(e)]))? {
            Some(data) => {
                let p: Arc<str> = config::FILE_NAME.into();
                let text = decode(&p, data).map_err(|d| LoadError::Invalid(vec![d]))?;
                Config::parse(&text).map_err(|e| LoadError::Invalid(vec![*e.0]))?
            }
            None => Config::default(),
        };
    let limits = opts.limits.unwrap_or(config.limits);
    let mut config = config;
    if let Some(v) = opts.validate {
        config.validate = v;
    }
    let files = source::read(origin, &limits, known)
        .map_err(|es| LoadError::Invalid(es.into_iter().map(source_diag).collect()))?;
    Ok((config, files, fallback, limits))
}

/// Decodes a file as UTF-8 text, refusing binary content with a position.
fn decode(path: &Arc<str>, data: Vec<u8>) -> Result<String, Diagnostic> {
    if let Some(i) = data.iter().position(|b| *b == 0) {
        let line = data[..i].iter().filter(|b| **b == b'\n').count() as u32 + 1;
        return Err(
            Diagnostic::error(Load::BinaryFile, "file contains a NUL byte; is it binary?")
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
        Diagnostic::error(Load::InvalidUtf8, format!("invalid UTF-8 at byte {at}")).at(
            Location::new(
                path.clone(),
                Pos {
                    line,
                    column: col as u32,
                },
            ),
        )
    })
}

/// The clusters a template renders for: those whose `paths` hold it, or, when none does,
/// every cluster asked for (`asked`; every cluster when empty), in config order
/// (docs/config.md#templates).
fn template_clusters<'a>(
    matcher: &config::ClusterMatcher,
    path: &str,
    clusters: &'a [String],
    asked: &[String],
) -> Vec<&'a str> {
    let holding: Vec<&str> = matcher.holding(path).collect();
    clusters
        .iter()
        .map(String::as_str)
        .filter(|c| {
            if holding.is_empty() {
                asked.is_empty() || asked.iter().any(|a| a == c)
            } else {
                holding.contains(c)
            }
        })
        .collect()
}

impl Repo {
    /// A copy whose Gloo objects hold `null` instead of their parsed values; everything else
    /// (ids, locations, files, other objects) is shared. After typing, translation reads only
    /// the typed model and the non-Gloo objects (Services, Deployments, passthrough), so a run
    /// can hand this copy to the renderer and free the Gloo values as soon as the policies,
    /// which read them, are done.
    pub fn without_gloo_values(&self) -> Repo {
        let null = Arc::new(crate::node::Node::Null);
        let mut lean = self.clone();
        for o in &mut lean.objects {
            if o.id.is_gloo() {
                o.value = null.clone();
            }
        }
        lean
    }

    /// Loads a repo from a directory or a git revision.
    pub fn load(origin: &Origin, opts: &LoadOptions) -> Result<Repo, LoadError> {
        let (config, files, fallback, limits) = read_all(origin, opts, &HashSet::new())?;
        Self::build(
            config,
            files,
            &fallback,
            opts,
            limits,
            None,
            &HashMap::new(),
        )
    }

    /// As [`Repo::load`], reusing the objects of `previous` (another revision of the same repo,
    /// loaded with the same options) for every file whose text and cluster are unchanged, so
    /// a diff parses each unchanged file once.
    pub fn load_after(
        origin: &Origin,
        opts: &LoadOptions,
        previous: &Repo,
    ) -> Result<Repo, LoadError> {
        // A blob the previous revision read is not read again (its id names its content).
        let known = previous.loaded.blobs.keys().copied().collect();
        let (config, files, fallback, limits) = read_all(origin, opts, &known)?;
        // Limits change what a parse accepts: reuse only under the same ones. The blobs were
        // decoded without limits, so they are taken whatever the limits.
        let texts = &previous.loaded.blobs;
        let previous = (previous.limits == limits).then_some(previous);
        Self::build(config, files, &fallback, opts, limits, previous, texts)
    }

    /// Loads a repo from files already read (used by `krm` and tests).
    pub fn from_files(
        config: Config,
        files: Vec<SourceFile>,
        fallback: &str,
        opts: &LoadOptions,
        limits: Limits,
    ) -> Result<Repo, LoadError> {
        Self::build(config, files, fallback, opts, limits, None, &HashMap::new())
    }

    /// Decodes and parses `files`, taking from `previous` the objects of every file it has
    /// byte-identical in the same cluster, and the text of each file whose blob is in
    /// `known` (left unread by the reader).
    fn build(
        config: Config,
        files: Vec<SourceFile>,
        fallback: &str,
        opts: &LoadOptions,
        limits: Limits,
        previous: Option<&Repo>,
        known: &HashMap<git2::Oid, Arc<str>>,
    ) -> Result<Repo, LoadError> {
        let mut config = config;
        for k in &opts.accept_kinds {
            if !config.accept.kinds.contains(k) {
                config.accept.kinds.push(k.clone());
            }
        }
        let matcher = config
            .path_matcher(fallback)
            .map_err(|e| LoadError::Invalid(vec![*e.0]))?;
        let route_tests = config
            .route_tests
            .matcher()
            .map_err(|e| LoadError::Invalid(vec![*e.0]))?;
        let clusters = config.cluster_names(matcher.default_cluster());
        let mut errors = Vec::new();
        let mut texts: Vec<(SourceText, String)> = Vec::new(); // (text, cluster)
        let mut policy_files = Vec::new();
        let mut route_test_files = Vec::new();
        // Decoding checks every byte and copies the text into its shared `Arc<str>` (fresh
        // memory, which is slow to hand out on this project's machine: docs/performance.md):
        // done side by side, in file order.
        let decoded: Vec<(String, Option<git2::Oid>, Result<SourceText, Diagnostic>)> = files
            .into_par_iter()
            .filter(|f| {
                f.path != config::FILE_NAME
                    && f.path.rsplit('/').next() != Some("kustomization.yaml")
            })
            .map(|f| {
                let path: Arc<str> = f.path.as_str().into();
                let text = match f.blob.and_then(|b| known.get(&b)) {
                    Some(t) => Ok(SourceText {
                        path,
                        text: t.clone(),
                    }),
                    None => decode(&path, f.data).map(|t| SourceText {
                        path,
                        text: t.into(),
                    }),
                };
                (f.path, f.blob, text)
            })
            .collect();
        let mut blobs = HashMap::new();
        for (file_path, blob, text) in decoded {
            let source = match text {
                Ok(t) => t,
                Err(d) => {
                    errors.push(d);
                    continue;
                }
            };
            if let Some(b) = blob {
                blobs.insert(b, source.text.clone());
            }
            if file_path.starts_with(POLICY_DIR) {
                policy_files.push(source);
                continue;
            }
            if !file_path.ends_with(".j2") && route_tests.is_match(&file_path) {
                route_test_files.push(source);
                continue;
            }
            if file_path.ends_with(".j2") {
                // Each error once, naming every cluster it happened for.
                let mut failed: Vec<(Diagnostic, Vec<&str>)> = Vec::new();
                for cluster in template_clusters(&matcher, &file_path, &clusters, &opts.clusters) {
                    let ctx = template::Context::for_cluster(&config, cluster, &opts.values);
                    match template::render(&source.path, &source.text, &ctx, &limits) {
                        Ok(out) => texts.push((
                            SourceText {
                                path: source.path.clone(),
                                text: out.into(),
                            },
                            cluster.to_string(),
                        )),
                        Err(d) => match failed.iter_mut().find(|(f, _)| *f == *d) {
                            Some((_, cs)) => cs.push(cluster),
                            None => failed.push((*d, vec![cluster])),
                        },
                    }
                }
                errors.extend(failed.into_iter().map(|(mut d, cs)| {
                    let cs: Vec<String> = cs.iter().map(|c| format!("`{c}`")).collect();
                    let s = if cs.len() == 1 { "" } else { "s" };
                    d.message = format!("for cluster{s} {}: {}", cs.join(", "), d.message);
                    d
                }));
                continue;
            }
            let cluster = matcher.cluster_of(&file_path).to_string();
            texts.push((source, cluster));
        }
        let yl = limits.yaml();
        let parsed = load::parse_all(&texts, previous, &yl);
        // At their final size: growing 10,000 objects of 256 bytes by doubling copies them
        // and touches twice the memory.
        let mut objects = Vec::with_capacity(parsed.iter().map(|(o, _, _)| o.len()).sum());
        let mut warnings = Vec::with_capacity(parsed.iter().map(|(_, d, _)| d.len()).sum());
        let mut spans = Vec::with_capacity(parsed.len());
        let mut reused = Vec::with_capacity(parsed.len());
        for (i, (objs, diags, from)) in parsed.into_iter().enumerate() {
            // A reused file's text is the previous revision's (equal, checked above): one copy
            // is kept, and `incremental::render` can tell the two revisions' files apart by pointer.
            if let Some((p, j)) = previous.zip(from) {
                texts[i].0.text = p.files[j].text.clone();
            }
            reused.push(from);
            let (o0, w0) = (objects.len(), warnings.len());
            objects.extend(objs);
            for d in diags {
                if d.severity == diag::Severity::Error {
                    errors.push(d);
                } else {
                    warnings.push(d);
                }
            }
            spans.push((o0..objects.len(), w0..warnings.len()));
        }
        if objects.len() > limits.objects {
            errors.push(Diagnostic::error(
                Load::Limit,
                format!(
                    "{} objects, over the limit of {} (limits.objects in meshform.yaml)",
                    objects.len(),
                    limits.objects
                ),
            ));
        }
        // A route test among the manifests would be passed through as a Kubernetes object.
        for o in &objects {
            if o.id.kind == crate::route_test::KIND && o.id.group() == crate::route_test::GROUP {
                errors.push(crate::route_test::misplaced(o, &config.route_tests.paths));
            }
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
                        Load::DuplicateObject,
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
            return Err(LoadError::Invalid(errors));
        }
        Ok(Repo {
            config,
            files: texts.into_iter().map(|(t, _)| t).collect(),
            objects,
            policy_files,
            route_test_files,
            warnings,
            limits,
            clusters,
            doc_starts: Arc::default(),
            loaded: Loaded {
                parsed: spans,
                reused,
                blobs,
            },
        })
    }

    /// Where a field of an object is written (falls back to the object's start). Parses only
    /// the object's document, so locating every object of a big file stays linear.
    pub fn locate(&self, obj: &Object, field: &str) -> Location {
        self.locate_pointer(obj, &manifest::field_to_pointer(field), false)
            .unwrap_or_else(|| obj.location.clone())
    }

    /// As [`Repo::locate`], at the field's key (`field:`) rather than its value, which a block
    /// mapping or list starts on the next line.
    pub fn locate_key(&self, obj: &Object, field: &str) -> Location {
        self.locate_pointer(obj, &manifest::field_to_pointer(field), true)
            .unwrap_or_else(|| obj.location.clone())
    }

    /// The location of `field` of `obj`, or of its nearest enclosing field that is written
    /// (an ExternalService port without `name` for `spec.ports[0].name`), with that field as
    /// a JSON pointer relative to the object (empty: the object's own location).
    pub fn locate_nearest(&self, obj: &Object, field: &str) -> (Location, String) {
        let mut pointer = manifest::field_to_pointer(field);
        while !pointer.is_empty() {
            if let Some(at) = self.locate_pointer(obj, &pointer, false) {
                return (at, pointer);
            }
            let cut = pointer.rfind('/').unwrap_or(0);
            pointer.truncate(cut);
        }
        (obj.location.clone(), pointer)
    }

    /// The location of a JSON pointer relative to `obj` (its key's with `key`), if it is
    /// written.
    fn locate_pointer(&self, obj: &Object, relative: &str, key: bool) -> Option<Location> {
        let src = self.files.get(obj.file_index)?;
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
        let pointer = format!("{}{relative}", obj.pointer);
        let found = if key {
            yaml::locate_key_in(&src.text, &starts, obj.doc_index, &pointer, &limits)
        } else {
            yaml::locate_in(&src.text, &starts, obj.doc_index, &pointer, &limits)
        };
        found.map(|pos| Location::new(src.path.clone(), pos))
    }
}

/// Repos for unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::{LoadOptions, Repo};
    use crate::config::{Config, Limits};
    use crate::source::SourceFile;

    /// A repo of `files` (path, text) with the default config and limits, cluster `cluster1`.
    pub(crate) fn repo_of(files: &[(&str, &str)]) -> Repo {
        let files = files
            .iter()
            .map(|(p, t)| SourceFile {
                path: p.to_string(),
                data: t.as_bytes().to_vec(),
                blob: None,
            })
            .collect();
        Repo::from_files(
            Config::default(),
            files,
            "cluster1",
            &LoadOptions::default(),
            Limits::default(),
        )
        .expect("loads")
    }
}

/// Helper for callers: the origin for a path and an optional revision.
pub fn origin(path: PathBuf, rev: Option<String>) -> Origin {
    match rev {
        Some(rev) => Origin::Rev { path, rev },
        None => Origin::Dir(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_timeout_prints_as_a_budget_finding_at_the_config() {
        let d = LoadError::PolicyTimeout { limit_ms: 5 }.into_diagnostics();
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].to_string(),
            "meshform.yaml:1:1: error[policy-budget]: policy evaluation took longer than \
             limits.policyTimeMs (5 ms); stopped"
        );
        assert!(d[0]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("policyTimeMs")));
    }

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile {
            path: path.into(),
            data: text.as_bytes().to_vec(),
            blob: None,
        }
    }

    fn build(files: Vec<SourceFile>, previous: Option<&Repo>) -> Repo {
        let limits = Limits::default();
        Repo::build(
            Config::default(),
            files,
            "cluster1",
            &LoadOptions::default(),
            limits,
            previous,
            &HashMap::new(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    const B: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  x: on\n";

    #[test]
    fn a_lean_copy_drops_only_the_gloo_values() {
        let es = "apiVersion: networking.gloo.solo.io/v2\nkind: ExternalService\nmetadata:\n  name: e\n  namespace: n\nspec:\n  hosts: [a.com]\n";
        let full = build(vec![file("b.yaml", B), file("e.yaml", es)], None);
        let lean = full.without_gloo_values();
        let ids = |r: &Repo| r.objects.iter().map(|o| o.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&full), ids(&lean));
        assert_eq!(
            lean.objects[0].value, full.objects[0].value,
            "ConfigMap kept"
        );
        assert!(
            lean.objects[1].value.is_null(),
            "ExternalService value dropped"
        );
        assert_eq!(
            full.objects[1].value["spec"]["hosts"][0], "a.com",
            "original untouched"
        );
        assert_eq!(lean.objects[1].location, full.objects[1].location);
    }

    #[test]
    fn a_later_load_reuses_unchanged_files_at_their_new_index() {
        let base = build(
            vec![
                file("b.yaml", B),
                file("c.yaml", B.replace("name: b", "name: c").as_str()),
            ],
            None,
        );
        let head = build(
            vec![
                file("a.yaml", &B.replace("name: b", "name: a")),
                file("b.yaml", B),
                file("c.yaml", &B.replace("name: b", "name: c2")),
            ],
            Some(&base),
        );
        let names: Vec<&str> = head.objects.iter().map(|o| o.id.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c2"]);
        let files: Vec<usize> = head.objects.iter().map(|o| o.file_index).collect();
        assert_eq!(files, [0, 1, 2]);
        // The reused object is located in its own file, and keeps its YAML 1.1 warning.
        let b = &head.objects[1];
        let at = head.locate(b, "data.x");
        assert_eq!((&*at.file, at.line), ("b.yaml", 6));
        let warned: Vec<&str> = head
            .warnings
            .iter()
            .filter_map(|w| w.location.as_ref().map(|l| &*l.file))
            .collect();
        assert_eq!(warned, ["a.yaml", "b.yaml", "c.yaml"]);
        assert_eq!(head.loaded.parsed.len(), 3);
        // The unchanged object is shared with the base, not copied; the changed one is new.
        assert!(Arc::ptr_eq(&b.value, &base.objects[0].value));
        assert!(!Arc::ptr_eq(&head.objects[2].value, &base.objects[1].value));
        // Which base file each head file was taken from: only b.yaml, base's first.
        let from: Vec<Option<usize>> = (0..3)
            .map(|i| crate::incremental::reused_from(&head, i))
            .collect();
        assert_eq!(from, [None, Some(0), None]);
        assert_eq!(crate::incremental::reused_from(&base, 0), None);
        // The same objects: b (its file taken whole); not a (new) nor c2 (renamed).
        assert_eq!(
            crate::incremental::same_objects(&head, &base),
            [None, Some(0), None]
        );
        // c with its value, on another line of a changed file: the same object; its
        // namesake with another value is not; and a repo not loaded after this base has none.
        let moved = build(
            vec![
                file("b.yaml", &format!("# moved\n{}", B)),
                file("c.yaml", &B.replace("name: b", "name: c")),
            ],
            Some(&head),
        );
        assert_eq!(
            crate::incremental::same_objects(&moved, &head),
            [Some(1), None]
        );
        // Against a revision it was not loaded after, only values pair objects.
        assert_eq!(
            crate::incremental::same_objects(&moved, &base),
            [Some(0), Some(1)]
        );
        let kept = build(vec![file("b.yaml", B)], Some(&head));
        assert_eq!(crate::incremental::same_objects(&kept, &head), [Some(1)]);
        assert_eq!(crate::incremental::same_objects(&kept, &base), [None]);
    }

    /// Commits `files` (path, text) as the whole tree of a new commit on HEAD.
    fn commit(repo: &git2::Repository, files: &[(&str, &str)]) {
        let mut index = repo.index().unwrap();
        index.clear().unwrap();
        for (path, text) in files {
            let blob = repo.blob(text.as_bytes()).unwrap();
            let entry = git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: 0o100644,
                uid: 0,
                gid: 0,
                file_size: text.len() as u32,
                id: blob,
                flags: path.len() as u16,
                flags_extended: 0,
                path: path.as_bytes().to_vec(),
            };
            index.add(&entry).unwrap();
        }
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
            .unwrap();
    }

    #[test]
    fn a_later_revision_takes_known_blobs_without_reading_them() {
        let dir = tempfile::tempdir().unwrap();
        let git = git2::Repository::init(dir.path()).unwrap();
        let c = B.replace("name: b", "name: c");
        let e = B.replace("name: b", "name: e");
        let policy = "# not read as a manifest\n";
        commit(
            &git,
            &[
                ("b.yaml", B),
                ("c.yaml", &c),
                ("e.yaml", &e),
                ("policies/p.yaml", policy),
            ],
        );
        // The head moves b.yaml to d/b.yaml (a known blob at a new path: its text is known,
        // its objects are parsed again), changes c.yaml and keeps e.yaml.
        let c2 = B.replace("name: b", "name: c2");
        commit(
            &git,
            &[
                ("c.yaml", &c2),
                ("d/b.yaml", B),
                ("e.yaml", &e),
                ("policies/p.yaml", policy),
            ],
        );
        let rev = |r: &str| Origin::Rev {
            path: dir.path().to_path_buf(),
            rev: r.into(),
        };
        let opts = LoadOptions::default();
        let base = Repo::load(&rev("HEAD~1"), &opts).unwrap_or_else(|e| panic!("{e:?}"));
        // The reader leaves a known blob's bytes unread.
        let known: HashSet<git2::Oid> = base.loaded.blobs.keys().copied().collect();
        assert_eq!(known.len(), 4, "three manifests and the policy");
        let files = source::read(&rev("HEAD"), &Limits::default(), &known).unwrap();
        let read: Vec<(&str, bool)> = files
            .iter()
            .map(|f| (f.path.as_str(), f.data.is_empty()))
            .collect();
        assert_eq!(
            read,
            [
                ("c.yaml", false),
                ("d/b.yaml", true),
                ("e.yaml", true),
                ("policies/p.yaml", true)
            ]
        );
        assert!(files.iter().all(|f| f.blob.is_some()));
        let head = Repo::load_after(&rev("HEAD"), &opts, &base).unwrap_or_else(|e| panic!("{e:?}"));
        let names: Vec<(&str, &str)> = head
            .objects
            .iter()
            .map(|o| (&*head.files[o.file_index].path, o.id.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [("c.yaml", "c2"), ("d/b.yaml", "b"), ("e.yaml", "e")]
        );
        // The moved and the kept file share the base's texts; only e.yaml's objects are reused.
        assert!(Arc::ptr_eq(&head.files[1].text, &base.files[0].text));
        assert!(Arc::ptr_eq(&head.files[2].text, &base.files[2].text));
        let from: Vec<Option<usize>> = (0..3)
            .map(|i| crate::incremental::reused_from(&head, i))
            .collect();
        assert_eq!(from, [None, None, Some(2)]);
        assert!(Arc::ptr_eq(
            &head.policy_files[0].text,
            &base.policy_files[0].text
        ));
        // The same objects, warnings and positions as a load that reads every blob.
        let fresh = Repo::load(&rev("HEAD"), &opts).unwrap_or_else(|e| panic!("{e:?}"));
        let values = |r: &Repo| {
            r.objects
                .iter()
                .map(|o| o.value.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(values(&head), values(&fresh));
        assert_eq!(head.warnings, fresh.warnings);
        let at = head.locate(&head.objects[1], "data.x");
        assert_eq!((&*at.file, at.line), ("d/b.yaml", 6));
    }
}
