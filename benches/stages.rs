//! One benchmark per pipeline stage over generated repos (benches/support/gen.rs).
//!
//! `cargo bench --bench stages` measures 1,000, 10,000 and 100,000 Gloo objects
//! (`MESHFORM_BENCH_SIZES=1000,10000` to choose). Under `cargo test --all-targets` divan runs
//! each benchmark once, on 1,000 objects only, and asserts nothing about time.
//!
//! Each stage is timed on its own with the earlier stages done once outside the timing, so
//! the figures add up to roughly the whole run (`pipeline`).

#[path = "support/gen.rs"]
mod gen;

use divan::Bencher;
use meshform::gloo::Model;
use meshform::incremental::Incr;
use meshform::pipeline::{self, Options};
use meshform::render::{self, emit, RenderOptions};
use meshform::repo::{LoadOptions, Repo};
use meshform::source::Origin;
use meshform::{policy, trace, validate};
use std::path::PathBuf;

// The same allocator as the binary (src/main.rs), set up the same way, so stage figures add
// up to the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    meshform::allocator::keep_freed_pages();
    divan::main();
}

/// Sizes to measure: all three under `cargo bench`, 1,000 in test mode.
fn sizes() -> Vec<usize> {
    if let Ok(s) = std::env::var("MESHFORM_BENCH_SIZES") {
        return s.split(',').filter_map(|x| x.trim().parse().ok()).collect();
    }
    if std::env::args().any(|a| a == "--bench") {
        vec![1_000, 10_000, 100_000]
    } else {
        vec![1_000]
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("meshform-bench")
}

fn repo_dir(n: usize) -> PathBuf {
    gen::cached(&root(), &gen::Spec::new(n), false)
}

fn load(n: usize) -> Repo {
    match Repo::load(&Origin::Dir(repo_dir(n)), &LoadOptions::default()) {
        Ok(r) => r,
        Err(e) => panic!(
            "generated repo of {n} does not load: {:?}",
            e.diagnostics().first()
        ),
    }
}

fn model(repo: &Repo) -> Model {
    let (model, diags, _) = Model::build(repo, Incr::OFF);
    assert!(
        !meshform::diag::has_errors(&diags),
        "generated repo does not type: {:?}",
        diags.first()
    );
    model
}

/// Files → objects with positions (walk, read, YAML parse).
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn a_load(bencher: Bencher, n: usize) {
    let dir = Origin::Dir(repo_dir(n));
    bencher.bench(|| Repo::load(&dir, &LoadOptions::default()).map(|r| r.objects.len()));
}

/// Typed Gloo API and workspace visibility.
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn b_model(bencher: Bencher, n: usize) {
    let repo = load(n);
    bencher.bench(|| Model::build(&repo, Incr::OFF).1.len());
}

/// Every built-in policy over the repo.
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn c_policy(bencher: Bencher, n: usize) {
    let repo = load(n);
    let model = model(&repo);
    bencher.bench(|| {
        policy::check(&repo, &model, &[], false, Incr::OFF).map(|(r, _)| r.findings.len())
    });
}

/// Translation to Istio objects.
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn d_render(bencher: Bencher, n: usize) {
    let repo = load(n);
    let model = model(&repo);
    let opts = RenderOptions::default();
    bencher.bench(|| {
        render::render(&repo, &model, &opts, Incr::OFF)
            .0
            .objects
            .len()
    });
}

/// Istio schema and webhook validation of the rendered objects.
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn e_validate(bencher: Bencher, n: usize) {
    let repo = load(n);
    let model = model(&repo);
    let (out, _) = render::render(&repo, &model, &RenderOptions::default(), Incr::OFF);
    bencher.bench(|| validate::validate_all(&repo, &out.objects).len());
}

/// The YAML stream on stdout.
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn f_emit(bencher: Bencher, n: usize) {
    let repo = load(n);
    let model = model(&repo);
    let (out, _) = render::render(&repo, &model, &RenderOptions::default(), Incr::OFF);
    bencher.bench(|| emit::yaml_stream(&out.objects).map(|s| s.len()));
}

/// The whole `meshform render` run: load, type, check, render, validate, emit.
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn g_pipeline(bencher: Bencher, n: usize) {
    let dir = Origin::Dir(repo_dir(n));
    let opts = Options::default();
    bencher.bench(|| {
        pipeline::load(&dir, &opts)
            .and_then(|r| pipeline::run(r, &opts))
            .map_err(|e| e.diagnostics().len())
            .and_then(|o| emit::yaml_stream(&o.objects).map_err(|_| 0))
            .map(|s| s.len())
    });
}

/// One `meshform trace` on the rendered repo: a request at the ingress gateway for the host
/// of the first VirtualService bound to it, after the render (compare with `d_render`).
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn j_trace(bencher: Bencher, n: usize) {
    let repo = load(n);
    let model = model(&repo);
    let (out, _) = render::render(&repo, &model, &RenderOptions::default(), Incr::OFF);
    let host = out
        .objects
        .iter()
        .filter(|o| o.cluster == "cluster1" && o.value["kind"] == "VirtualService")
        .find(|o| o.value["spec"]["gateways"][0].as_str() != Some("mesh"))
        .and_then(|o| o.value["spec"]["hosts"][0].as_str())
        .expect("a gateway VirtualService")
        .to_string();
    let request = trace::Request::parse(&format!("http://{host}/"), None, &[]).expect("a URL");
    let caller =
        trace::Caller::gateway(&format!("istio-gateways/{}", gen::VG_NAME)).expect("NS/NAME");
    bencher.bench(|| {
        trace::trace(&out.objects, &repo, "cluster1", &request, &caller)
            .map(|t| t.outcome.status.found())
    });
}

/// 1,000 traces through one `Tracer` (what 1,000 route tests cost after the render): the
/// ingress gateway's hosts in turn, each for its last route's path (a match after every
/// other route is tried) and for a path no route takes, unlocated as route tests leave
/// them.
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn j_trace_1000(bencher: Bencher, n: usize) {
    let repo = load(n);
    let model = model(&repo);
    let (out, _) = render::render(&repo, &model, &RenderOptions::default(), Incr::OFF);
    let mut requests = Vec::new();
    for o in out.objects.iter().filter(|o| {
        o.cluster == "cluster1"
            && o.value["kind"] == "VirtualService"
            && o.value["spec"]["gateways"][0].as_str() != Some("mesh")
    }) {
        let Some(host) = o.value["spec"]["hosts"][0].as_str() else {
            continue;
        };
        let uri = o.value["spec"]["http"]
            .as_array()
            .and_then(|h| h.last())
            .map(|r| &r["match"][0]["uri"]);
        let path = uri
            .and_then(|u| u["prefix"].as_str().or(u["exact"].as_str()))
            .unwrap_or("/");
        for url in [
            format!("http://{host}{path}"),
            format!("http://{host}/none"),
        ] {
            requests.push(trace::Request::parse(&url, None, &[]).expect("a URL"));
        }
    }
    assert!(!requests.is_empty(), "no gateway VirtualService");
    let caller =
        trace::Caller::gateway(&format!("istio-gateways/{}", gen::VG_NAME)).expect("NS/NAME");
    bencher.bench(|| {
        let tracer = trace::Tracer::new(&out.objects, &repo, "cluster1");
        (0..1_000)
            .filter_map(|i| tracer.trace(&requests[i % requests.len()], &caller).ok())
            .filter(|t| t.outcome.status.found())
            .count()
    });
}

/// Two revisions (`HEAD~1`, `HEAD`) of a repo of `n` objects with 1% of them changed (100 of
/// 10,000).
fn diff_dir(n: usize) -> PathBuf {
    let spec = gen::Spec {
        changes: (n / 100).max(1),
        ..gen::Spec::new(n)
    };
    gen::cached(&root(), &spec, true)
}

/// Options as `meshform diff` runs each revision (`cli::common::SourceArgs::options`): the
/// rendered objects kept as nodes, the Gloo values released once the policies are done.
fn diff_options() -> Options {
    let mut o = Options::default();
    o.render.keep = render::Keep::Nodes;
    o.release_inputs = true;
    o
}

fn rendered_rev(dir: &std::path::Path, rev: &str) -> Vec<meshform::istio::object::Kept> {
    let origin = Origin::Rev {
        path: dir.to_path_buf(),
        rev: rev.into(),
    };
    let opts = diff_options();
    match pipeline::load(&origin, &opts).and_then(|r| pipeline::run(r, &opts)) {
        Ok(o) => o.nodes,
        Err(e) => panic!("{rev} does not load: {:?}", e.diagnostics().first()),
    }
}

/// Matching and unified diffs of the rendered objects of two revisions.
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn h_diff(bencher: Bencher, n: usize) {
    let dir = diff_dir(n);
    let base = rendered_rev(&dir, "HEAD~1");
    let head = rendered_rev(&dir, "HEAD");
    let opts = meshform::diff::DiffOptions::default();
    bencher.bench(|| meshform::diff::compare(&base, &head, &opts).0.len());
}

/// The whole `meshform diff --base HEAD~1 --head HEAD` as the CLI runs it (src/cli/diff.rs):
/// the base read from git, the head read reusing the files the two share, both checked and
/// rendered in turn (`pipeline::diff`: the head takes the base's translation of every
/// unit whose inputs did not change), then compared with the routing pictures (the report
/// before formatting), nothing freed inside the timing.
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn i_diff_full(bencher: Bencher, n: usize) {
    let dir = diff_dir(n);
    let opts = meshform::diff::DiffOptions::default();
    let origin = |rev: &str| Origin::Rev {
        path: dir.clone(),
        rev: rev.into(),
    };
    let side = |rev: &str| meshform::diff::Side {
        label: rev.into(),
        commit: None,
    };
    let run = diff_options();
    bencher.bench(|| {
        let load = |r: Result<Repo, _>| match r {
            Ok(r) => r,
            Err(e) => panic!("a revision does not load: {e:?}"),
        };
        let base = load(Repo::load(&origin("HEAD~1"), &run.load));
        let head = load(Repo::load_after(&origin("HEAD"), &run.load, &base));
        let outcome = |r: Result<pipeline::Outcome, _>| match r {
            Ok(o) => o,
            Err(e) => panic!("a revision does not render: {e:?}"),
        };
        let (base, head) = pipeline::diff(Ok(base), Ok(head), &run);
        let (base, head) = (outcome(base), outcome(head));
        let report = meshform::diff::build(
            side("HEAD~1"),
            side("HEAD"),
            Some((&base.nodes[..], &base.findings[..])),
            None,
            (&head.nodes[..], &head.findings[..]),
            &opts,
        );
        // Returned, so divan frees it after the timing: the CLI never frees it (it forgets
        // both revisions and the report and exits).
        (report, base, head)
    });
}

/// The floor under `a_load`: the mandated YAML parser (granit-parser, under serde-saphyr) run
/// over every file's text, already in memory, side by side as `Repo::load` runs it, building
/// nothing. No loader that uses this parser can take less.
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn z_floor_parse(bencher: Bencher, n: usize) {
    use rayon::prelude::*;
    let repo = load(n);
    let limits = meshform::yaml::YamlLimits::default();
    bencher.bench(|| {
        repo.files
            .par_iter()
            .map(|f| meshform::yaml::event_count(&f.text, &limits).unwrap_or(0))
            .sum::<usize>()
    });
}

/// The floor under `f_emit`: the mandated YAML writer (serde-saphyr) run over every rendered
/// object, side by side, with nothing joined or sorted. No `render` that writes YAML with it
/// can take less.
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn z_floor_write(bencher: Bencher, n: usize) {
    use rayon::prelude::*;
    let repo = load(n);
    let model = model(&repo);
    let (out, _) = render::render(&repo, &model, &RenderOptions::default(), Incr::OFF);
    bencher.bench(|| {
        out.objects
            .par_iter()
            .map(|o| meshform::yaml::to_string(&o.value).map_or(0, |s| s.len()))
            .sum::<usize>()
    });
}
