//! Throughput of all built-in policies over a generated repo. Ignored by default: run with
//! `cargo test --release --test policy_perf -- --ignored --nocapture`; figures go in
//! docs/performance.md. Timings are printed, never asserted.

mod support;
use support::memory_repo;

use meshform::config::Limits;
use meshform::repo::{LoadOptions, Repo};
use std::time::Instant;

// The same allocator as the binary (src/main.rs), so figures match the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A repo of `n` objects: a quarter each of RouteTables, ExternalServices,
/// ExternalEndpoints and Services, in 10 namespaces with one workspace each.
fn repo(n: usize) -> Repo {
    let mut text = String::new();
    let q = n / 4;
    for i in 0..q {
        let ns = format!("ns{}", i % 10);
        text.push_str(&format!(
            "---
apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {{name: rt-{i}, namespace: {ns}}}
spec:
  hosts: [h{i}.example.com]
  http:
  - matchers: [{{uri: {{prefix: /api}}}}]
    forwardTo:
      destinations:
      - {{ref: {{name: svc-{i}}}, port: {{number: 80}}, weight: 50}}
      - {{ref: {{name: es-{i}}}, kind: EXTERNAL_SERVICE, port: {{number: 443}}, weight: 50}}
  - matchers: [{{uri: {{prefix: /web}}}}]
    forwardTo:
      destinations: [{{ref: {{name: svc-{i}}}}}]
  - matchers: [{{uri: {{exact: /health}}}}]
    directResponse: {{status: 200}}
---
apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {{name: es-{i}, namespace: {ns}}}
spec:
  hosts: [\"*.e{i}.example.com\"]
  selector: {{app: e{i}}}
  ports: [{{number: 443, protocol: HTTPS}}]
---
apiVersion: networking.gloo.solo.io/v2
kind: ExternalEndpoint
metadata: {{name: ee-{i}, namespace: {ns}, labels: {{app: e{i}}}}}
spec:
  address: 10.{}.{}.{}
  ports: [{{name: https, number: 443}}]
---
apiVersion: v1
kind: Service
metadata: {{name: svc-{i}, namespace: {ns}}}
spec:
  ports: [{{port: 80}}]
",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        ));
    }
    for w in 0..10 {
        text.push_str(&format!(
            "---\napiVersion: admin.gloo.solo.io/v2\nkind: Workspace\nmetadata: {{name: w{w}, namespace: gloo-mesh}}\nspec:\n  workloadClusters: [{{name: cluster1, namespaces: [{{name: ns{w}}}]}}]\n"
        ));
    }
    let limits = Limits {
        yaml_documents: 1_000_000,
        ..Limits::default()
    };
    memory_repo([("all.yaml", text)], limits)
}

fn time(n: usize) -> f64 {
    let repo = repo(n);
    let (model, _, _) = meshform::gloo::Model::build(&repo, meshform::incremental::Incr::OFF);
    // Warm up once (lazy statics), then take the best of three.
    let _ = meshform::policy::check(&repo, &model, &[], false, meshform::incremental::Incr::OFF)
        .map(|(r, _)| r)
        .expect("runs");
    (0..3)
        .map(|_| {
            let t = Instant::now();
            let r = meshform::policy::check(
                &repo,
                &model,
                &[],
                false,
                meshform::incremental::Incr::OFF,
            )
            .map(|(r, _)| r)
            .expect("runs");
            assert!(
                r.findings
                    .iter()
                    .all(|d| d.severity != meshform::diag::Severity::Error),
                "{:?}",
                r.findings.first()
            );
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

#[test]
#[ignore]
fn all_builtins_over_10k_objects() {
    let small = time(2_500);
    let big = time(10_000);
    println!(
        "policy::check, all built-ins: 2,500 objects {:.3} s; 10,000 objects {:.3} s; ratio {:.2} (linear = 4)",
        small,
        big,
        big / small
    );
}

/// User + system CPU seconds of this process so far (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, r)| r)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The policy stage alone over the repo in `MESHFORM_PERF_REPO` (e.g. the output of
/// `cargo run --release --example genrepo -- --objects 10000 --out DIR`): wall and CPU time
/// per run, and the number of findings.
#[test]
#[ignore]
fn policies_over_a_repo_dir() {
    let dir = std::env::var("MESHFORM_PERF_REPO")
        .expect("MESHFORM_PERF_REPO names the repo directory to measure");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let origin = meshform::source::Origin::Dir(dir.into());
    let repo = Repo::load(&origin, &LoadOptions::default()).expect("repo loads");
    let (model, _, _) = meshform::gloo::Model::build(&repo, meshform::incremental::Incr::OFF);
    let runs: usize = std::env::var("MESHFORM_PERF_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    for _ in 0..runs {
        let (t, c) = (Instant::now(), cpu_seconds());
        let r =
            meshform::policy::check(&repo, &model, &[], false, meshform::incremental::Incr::OFF)
                .map(|(r, _)| r)
                .expect("runs");
        println!(
            "policy::check over {} objects: {:.3} s wall, {:.2} s CPU, {} findings, {} suppressed",
            repo.objects.len(),
            t.elapsed().as_secs_f64(),
            cpu_seconds() - c,
            r.findings.len(),
            r.suppressed.len()
        );
    }
}
