//! The whole run: load → type → check ∥ (render → validate → write). Every front end (CLI, Argo CD
//! plugin, KRM function, diff) goes through here, so they all give the same output.

use crate::diag::codes::{Load, Run};
use crate::diag::{self, Diagnostic, Severity};
use crate::gloo::Model;
use crate::incremental::{self, Incr, Memos};
use crate::policy;
use crate::render::{self, RenderOptions};
use crate::repo::{LoadError, LoadOptions, Repo};
use crate::source::Origin;
use std::path::PathBuf;
use std::time::Instant;

/// Options for a whole run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// How to load.
    pub load: LoadOptions,
    /// How to render.
    pub render: RenderOptions,
    /// Extra policy directories (`--policy-dir`).
    pub policy_dirs: Vec<PathBuf>,
    /// Skip policies entirely (internal; benchmarks of single stages).
    pub skip_policies: bool,
    /// Ignore exemption annotations (`--no-exemptions`).
    pub no_exemptions: bool,
    /// Free the Gloo objects' parsed values once typing and the policies are done
    /// (`Repo::without_gloo_values`): the outcome's repo then keeps their ids, locations and
    /// files, not their values. The values are most of a run's input memory.
    pub release_inputs: bool,
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// The loaded repo.
    pub repo: Repo,
    /// The rendered objects, sorted (with `render.keep` = `Keep::Values`, the default).
    pub objects: Vec<crate::istio::object::Rendered>,
    /// The rendered objects as compact nodes, sorted (with `render.keep` = `Keep::Nodes`).
    pub nodes: Vec<crate::istio::object::Kept>,
    /// The rendered objects as one YAML stream (with `Keep::Stream`), or why it could not be
    /// written.
    pub stream: Result<render::Stream, render::StreamError>,
    /// How many objects were rendered, whatever was kept.
    pub rendered: usize,
    /// Typing, translation, policy and validation findings, sorted.
    pub findings: Vec<Diagnostic>,
    /// Findings suppressed by exemption annotations.
    pub suppressed: Vec<Diagnostic>,
    /// How many policies ran.
    pub policies: usize,
    /// How many translation units were taken from an earlier revision's render instead of
    /// translated ([`diff`]'s head; 0 otherwise).
    pub reused: usize,
    /// How many policy results were taken from an earlier revision's check instead of
    /// evaluated ([`diff`]'s head; 0 otherwise).
    pub reused_checks: usize,
}

impl Outcome {
    /// The findings a front end shows on stderr: every one but Info.
    pub fn shown(&self) -> Vec<Diagnostic> {
        self.findings
            .iter()
            .filter(|d| d.severity != Severity::Info)
            .cloned()
            .collect()
    }

    /// True when a finding is an error (a Deny policy, a broken reference, invalid output).
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.findings)
    }

    /// Count of findings of one severity.
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|d| d.severity == s).count()
    }
}

/// Loads a repo from a directory or a git revision, and refuses a `--cluster` it does not
/// have ([`unknown_cluster`]). `Err` means the input itself is broken (exit 2).
pub fn load(origin: &Origin, opts: &Options) -> Result<Repo, LoadError> {
    let start = Instant::now();
    let repo = Repo::load(origin, &opts.load)?;
    tracing::debug!(
        "load: {} files, {} objects in {:?}; {}",
        repo.files.len(),
        repo.objects.len(),
        start.elapsed(),
        rss()
    );
    if let Some(d) = no_manifests(&repo, &describe(origin)) {
        return Err(LoadError::Invalid(vec![d]));
    }
    if let Some(d) = unknown_cluster(&repo, &opts.render.clusters) {
        return Err(LoadError::Invalid(vec![d]));
    }
    Ok(repo)
}

/// An origin as messages name it: the directory, or the directory at a revision.
pub fn describe(origin: &Origin) -> String {
    match origin {
        Origin::Dir(p) => p.display().to_string(),
        Origin::Rev { path, rev } => format!("{} at {rev}", path.display()),
    }
}

/// An input error when `repo` (read from `place`) holds no object at all: a wrong path or an
/// empty directory would otherwise render nothing, which Argo CD or Flux with pruning reads as
/// "delete everything".
pub fn no_manifests(repo: &Repo, place: &str) -> Option<Diagnostic> {
    if !repo.objects.is_empty() {
        return None;
    }
    Some(
        Diagnostic::error(
            Load::NoManifests,
            format!("no manifests found in {place}: no YAML file holds a Kubernetes object"),
        )
        .help(
            "check the path (the repo root, where meshform.yaml lives); meshform reads \
             *.yaml, *.yml and *.yaml.j2 files below it, skipping hidden and git-ignored ones",
        ),
    )
}

/// A usage error when `--cluster` names a cluster the repo does not have: rendering it would
/// give an empty stream, which Argo CD reads as "delete everything". (`diff` does not ask: a
/// pull request may add or remove a cluster.)
pub fn unknown_cluster(repo: &Repo, asked: &[String]) -> Option<Diagnostic> {
    let c = asked.iter().find(|c| !repo.clusters.contains(c))?;
    let message = if repo.config.clusters.is_empty() {
        format!(
            "cluster `{c}` is not this repo's: without a meshform.yaml `clusters` list the repo \
             is one cluster, `{}` (the first --cluster names it)",
            repo.clusters.join(", ")
        )
    } else {
        format!(
            "cluster `{c}` is not in meshform.yaml (clusters: {})",
            repo.clusters.join(", ")
        )
    };
    Some(
        Diagnostic::error(Run::UnknownCluster, message)
            .help("name one of those clusters, or add the cluster to meshform.yaml `clusters`"),
    )
}

/// Types, checks, renders and validates a loaded repo. `Err` means the input itself is
/// broken (exit 2); policy and translation errors are findings in the `Ok` outcome (exit 1).
pub fn run(repo: Repo, opts: &Options) -> Result<Outcome, LoadError> {
    run_stages(repo, opts, false, None).map(|(o, _)| o)
}

/// Runs two revisions of one repo, the base and then the head (loaded with
/// [`Repo::load_after`] from this base; any other head is rendered in full). Each stage of
/// the head takes what the base's recorded for the objects that did not change
/// ([`crate::incremental`]). The outcomes are those of [`run`] on each.
pub fn diff(
    base: Result<Repo, LoadError>,
    head: Result<Repo, LoadError>,
    opts: &Options,
) -> (Result<Outcome, LoadError>, Result<Outcome, LoadError>) {
    // The plan compares the base's changed objects with the head's, so the base keeps its
    // values (the head shares those of every unchanged file anyway).
    let base_opts = Options {
        release_inputs: false,
        ..opts.clone()
    };
    let base = base.and_then(|r| run_stages(r, &base_opts, true, None));
    let (base, memos) = match base {
        Ok((o, memos)) => (Ok(o), memos),
        Err(e) => (Err(e), Memos::default()),
    };
    let prior = base.as_ref().ok().map(|b| (&b.repo, memos));
    let head = head.and_then(|r| run_stages(r, opts, false, prior).map(|(o, _)| o));
    (base, head)
}

/// The stages of one run; with `record`, also what each stage recorded, and with `prior` (an
/// earlier revision's repo and memos), each stage's reuse of them.
fn run_stages(
    repo: Repo,
    opts: &Options,
    record: bool,
    prior: Option<(&Repo, Memos)>,
) -> Result<(Outcome, Memos), LoadError> {
    let start = Instant::now();
    let (earlier, memos) = match prior {
        Some((base, m)) => (Some(base), m),
        None => (None, Memos::default()),
    };
    // Which of this revision's objects the earlier one has unchanged: one pairing for the
    // typing, the render's plan and the policies.
    let same = earlier.map(|base| incremental::same_objects(&repo, base));
    let pair = earlier.zip(same.as_deref());
    let (model, mut typing, specs) =
        Model::build(&repo, Incr::new(record, pair, memos.typing.as_ref()));
    tracing::debug!("typing: {:?}; {}", start.elapsed(), rss());
    if diag::has_errors(&typing) {
        typing.retain(|d| d.severity == Severity::Error);
        diag::normalize(&mut typing);
        return Err(LoadError::Invalid(typing));
    }
    let mut findings = typing;
    findings.extend(repo.warnings.iter().cloned());
    let mut suppressed = Vec::new();
    let mut policies = 0;
    let mut reused_checks = 0;
    let Memos {
        render: render_memo,
        policy: policy_memo,
        ..
    } = memos;
    // Policies and translation are independent: run them side by side, then validate.
    let check = |repo: &Repo| {
        (!opts.skip_policies).then(|| {
            let inc = Incr::new(record, pair, policy_memo.as_ref());
            policy::check(repo, &model, &opts.policy_dirs, opts.no_exemptions, inc)
        })
    };
    // The render's reuse plan is made on the render's side, while the policies build their
    // index on the other core.
    let render = |repo: &Repo| {
        let start = Instant::now();
        let inc = Incr::new(record, pair, render_memo);
        let out = render::render(repo, &model, &opts.render, inc);
        tracing::debug!(
            "render and validation: {} objects in {:?}; {}",
            out.0.count,
            start.elapsed(),
            rss()
        );
        out
    };
    // The plan reads the Gloo values, so a revision rendered after an earlier one keeps them
    // (it shares most of them with that revision anyway).
    let (repo, (report, (out, memo))) = if opts.release_inputs && earlier.is_none() {
        // The renderer gets the lean copy; the policies own the full repo and drop it when
        // they end, which frees the Gloo values while translation still runs.
        let lean = repo.without_gloo_values();
        let full = repo;
        let both = rayon::join(
            move || {
                let report = check(&full);
                drop(full);
                tracing::debug!("policies done, inputs released; {}", rss());
                report
            },
            || render(&lean),
        );
        (lean, both)
    } else {
        let both = rayon::join(|| check(&repo), || render(&repo));
        (repo, both)
    };
    let mut memos = Memos {
        typing: specs,
        render: memo,
        policy: None,
    };
    if let Some(report) = report {
        let (report, policy_memo) = report?;
        memos.policy = policy_memo;
        policies = report.policies;
        reused_checks = report.taken;
        findings.extend(report.findings);
        suppressed = report.suppressed;
    }
    let reused = out.reused;
    // A problem the translator shares with a built-in policy comes as the policy's finding from
    // both (`gloo::shared`): `normalize` keeps one.
    findings.extend(out.diagnostics);
    findings.extend(out.validation);
    if !opts.render.clusters.is_empty() {
        quiet_other_clusters(&repo, &opts.render.clusters, &mut findings);
        quiet_other_clusters(&repo, &opts.render.clusters, &mut suppressed);
    }
    diag::normalize(&mut findings);
    let outcome = Outcome {
        repo,
        objects: out.objects,
        nodes: out.nodes,
        stream: out.stream,
        rendered: out.count,
        findings,
        suppressed,
        policies,
        reused,
        reused_checks,
    };
    // Nothing reads the model any more: it is freed on a pool thread, while what comes next
    // (the head of a diff, the comparison, the output) goes on.
    rayon::spawn(move || drop(model));
    Ok((outcome, memos))
}

/// Drops the findings located in files whose objects all belong to clusters not `asked` for:
/// under `--cluster`, other clusters' problems are theirs to report. Findings elsewhere (no
/// location, meshform.yaml, a file with an object of an asked cluster) stay.
fn quiet_other_clusters(repo: &Repo, asked: &[String], findings: &mut Vec<Diagnostic>) {
    use std::collections::HashSet;
    let mut mine: HashSet<&str> = HashSet::new();
    let mut others: HashSet<&str> = HashSet::new();
    for o in &repo.objects {
        let Some(f) = repo.files.get(o.file_index) else {
            continue;
        };
        if asked.contains(&o.cluster) {
            mine.insert(&f.path);
        } else {
            others.insert(&f.path);
        }
    }
    findings.retain(|d| match &d.location {
        Some(l) => mine.contains(&*l.file) || !others.contains(&*l.file),
        None => true,
    });
}

/// Resident memory of this process, for debug logs (Linux; empty elsewhere).
pub fn rss() -> String {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok());
    match pages {
        Some(p) => format!("rss {} MiB", p * 4096 / (1 << 20)),
        None => String::new(),
    }
}
