//! Writes a generated Gloo repo for benchmarks and side-by-side comparisons.
//!
//! ```text
//! cargo run --release --example genrepo -- --objects 10000 --out /tmp/repo-10k
//! cargo run --release --example genrepo -- --objects 10000 --changes 100 --git --out /tmp/diff-10k
//! cargo run --release --example genrepo -- --objects 10000 --route-tests 1000 --out /tmp/repo-10k-rt
//! ```
//!
//! The same `--objects`/`--seed`/`--changes` always give the same bytes. With `--git` the
//! directory is a repository with two commits: the base (`HEAD~1`) and the changed head.
//! Counts go to stdout as one JSON line.

#[path = "../benches/support/gen.rs"]
mod gen;

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Generate a realistic Gloo Platform repo of N objects.
#[derive(Debug, Parser)]
struct Args {
    /// Number of Gloo objects.
    #[arg(long, default_value_t = 1000)]
    objects: usize,
    /// RNG seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of source objects to change from the base revision.
    #[arg(long, default_value_t = 0)]
    changes: usize,
    /// Route test cases to write under `tests/routes/` (docs/route-tests.md), over the
    /// gateway tables' routes.
    #[arg(long, default_value_t = 0)]
    route_tests: usize,
    /// Make a git repository with the base and the changed revision as two commits.
    #[arg(long)]
    git: bool,
    /// Output directory; must not exist, or be empty.
    #[arg(long)]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.out.exists()
        && std::fs::read_dir(&args.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        eprintln!("genrepo: {} exists and is not empty", args.out.display());
        return ExitCode::from(2);
    }
    let spec = gen::Spec {
        objects: args.objects,
        seed: args.seed,
        changes: args.changes,
        route_tests: args.route_tests,
    };
    let stats = if args.git {
        gen::write_git(&args.out, &spec)
    } else {
        let repo = gen::generate(&spec);
        gen::write(&args.out, &repo).map(|_| repo.stats)
    };
    match stats {
        Ok(s) => {
            let kinds: Vec<String> = s
                .kinds
                .iter()
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect();
            println!(
                "{{\"objects\":{},\"kinds\":{{{}}},\"services\":{},\"routes\":{},\"teams\":{},\
                 \"files\":{},\"bytes\":{},\"changed\":{}}}",
                s.gloo(),
                kinds.join(","),
                s.services,
                s.routes,
                s.teams,
                s.files,
                s.bytes,
                s.changed
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("genrepo: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gen::{generate, Spec};

    #[test]
    fn same_spec_same_bytes_and_exact_counts() {
        for n in [20, 1000, 1234] {
            let a = generate(&Spec::new(n));
            let b = generate(&Spec::new(n));
            assert_eq!(a.files, b.files);
            assert_eq!(a.stats.gloo(), n, "{:?}", a.stats.kinds);
        }
        let other = generate(&Spec {
            seed: 7,
            ..Spec::new(1000)
        });
        assert_ne!(other.files, generate(&Spec::new(1000)).files);
    }

    #[test]
    fn changes_touch_exactly_that_many_objects() {
        let base = generate(&Spec::new(1000));
        let head = generate(&Spec {
            changes: 25,
            ..Spec::new(1000)
        });
        assert_eq!(head.stats.changed, 25);
        assert_eq!(head.stats.gloo(), base.stats.gloo());
        let changed_docs: usize = base
            .files
            .iter()
            .map(|(p, text)| {
                let other = &head.files[p];
                let a: Vec<&str> = text.split("\n---\n").collect();
                let b: Vec<&str> = other.split("\n---\n").collect();
                assert_eq!(a.len(), b.len(), "{p}");
                a.iter().zip(&b).filter(|(x, y)| x != y).count()
            })
            .sum();
        assert_eq!(changed_docs, 25);
        let changed_policies: usize = base
            .files
            .iter()
            .filter(|(p, _)| p.contains("/policies-"))
            .map(|(p, text)| {
                let a: Vec<&str> = text.split("\n---\n").collect();
                let b: Vec<&str> = head.files[p].split("\n---\n").collect();
                a.iter().zip(&b).filter(|(x, y)| x != y).count()
            })
            .sum();
        assert!(
            (1..25).contains(&changed_policies),
            "{changed_policies} policies changed"
        );
    }

    #[test]
    fn about_one_policy_per_five_routes_of_every_rendered_kind() {
        let repo = generate(&Spec::new(1000));
        let kinds = &repo.stats.kinds;
        let policies: usize = kinds
            .iter()
            .filter(|(k, _)| k.ends_with("Policy"))
            .map(|(_, n)| n)
            .sum();
        let per_policy = repo.stats.routes as f64 / policies as f64;
        assert!(
            (4.5..6.0).contains(&per_policy),
            "{per_policy} routes per policy"
        );
        for k in [
            "FaultInjectionPolicy",
            "RetryTimeoutPolicy",
            "MirrorPolicy",
            "OutlierDetectionPolicy",
            "LoadBalancerPolicy",
            "ConnectionPolicy",
        ] {
            assert!(kinds.get(k).is_some_and(|&n| n > 0), "no {k}: {kinds:?}");
        }
    }

    #[test]
    fn generated_repo_renders_clean() {
        let dir = tempfile::tempdir().unwrap();
        let repo = generate(&Spec::new(400));
        super::gen::write(dir.path(), &repo).unwrap();
        let origin = meshform::source::Origin::Dir(dir.path().to_path_buf());
        let opts = meshform::pipeline::Options::default();
        let out = match meshform::pipeline::load(&origin, &opts)
            .and_then(|r| meshform::pipeline::run(r, &opts))
        {
            Ok(o) => o,
            Err(e) => panic!("load errors: {:?}", e.diagnostics()),
        };
        let errors: Vec<_> = out
            .findings
            .iter()
            .filter(|d| d.severity == meshform::diag::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        // No warning either: no two policies of one kind collide, none selects nothing.
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        let kinds: std::collections::BTreeSet<&str> = out
            .objects
            .iter()
            .filter_map(|o| o.value["kind"].as_str())
            .collect();
        for k in [
            "DestinationRule",
            "Gateway",
            "ServiceEntry",
            "VirtualService",
        ] {
            assert!(kinds.contains(k), "no {k} rendered: {kinds:?}");
        }
        // The policies reach the output: route policies in VirtualServices' http[] entries,
        // destination policies in DestinationRules' portLevelSettings.
        let of = |kind: &'static str| out.objects.iter().filter(move |o| o.value["kind"] == kind);
        let routes = || {
            of("VirtualService").flat_map(|o| {
                o.value["spec"]["http"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
        };
        for field in ["retries", "timeout", "fault", "mirror", "mirrorPercentage"] {
            assert!(
                routes().any(|r| !r[field].is_null()),
                "no VirtualService route has {field}"
            );
        }
        let ports = || {
            of("DestinationRule").flat_map(|o| {
                o.value["spec"]["trafficPolicy"]["portLevelSettings"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
        };
        for field in ["outlierDetection", "loadBalancer", "connectionPool"] {
            assert!(
                ports().any(|p| !p[field].is_null()),
                "no DestinationRule port has {field}"
            );
        }
    }
}
