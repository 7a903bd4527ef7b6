//! The Rego peer of `meshform check`: meshform's built-in rules written in Rego
//! (`benches/rego/*.rego`) evaluated by regorus, an OPA-compatible engine in Rust, standing in
//! for conftest (when it cannot be installed; docs/performance.md).
//!
//! ```text
//! cargo run --release --example rego_check -- REPO [--rego-dir benches/rego] [--repeat N]
//! ```
//!
//! The repo is loaded with meshform's own loader, so the only difference from
//! `meshform check` is the policy engine. The whole repo is one input, as
//! `conftest --combine` gives it. Timings of each phase go to stderr, findings to stdout;
//! exit 1 when a `deny` fired.

use meshform::repo::{LoadOptions, Repo};
use meshform::source::Origin;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn usage() -> ExitCode {
    eprintln!("usage: rego_check REPO [--rego-dir DIR] [--repeat N]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut repo_dir = None;
    let mut rego_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/rego"));
    let mut repeat = 1usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rego-dir" => match args.next() {
                Some(d) => rego_dir = d.into(),
                None => return usage(),
            },
            "--repeat" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => repeat = n,
                None => return usage(),
            },
            _ if repo_dir.is_none() && !a.starts_with('-') => repo_dir = Some(PathBuf::from(a)),
            _ => return usage(),
        }
    }
    let Some(repo_dir) = repo_dir else {
        return usage();
    };

    let t0 = Instant::now();
    let repo = match Repo::load(&Origin::Dir(repo_dir), &LoadOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            for d in &e.diagnostics() {
                eprintln!("error: {}", d.message);
            }
            return ExitCode::from(2);
        }
    };
    let t_load = t0.elapsed();

    // Input: every object with its cluster and place.
    let t1 = Instant::now();
    let objects: Vec<serde_json::Value> = repo
        .objects
        .iter()
        .map(|o| {
            serde_json::json!({
                "cluster": o.cluster,
                "file": &*o.location.file,
                "line": o.location.line,
                "obj": o.value,
            })
        })
        .collect();
    let input = regorus::Value::from(serde_json::json!({ "objects": objects }));
    let t_input = t1.elapsed();

    let t2 = Instant::now();
    let mut engine = regorus::Engine::new();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&rego_dir) {
        Ok(d) => d
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "rego"))
            .collect(),
        Err(e) => {
            eprintln!("error: {}: {e}", rego_dir.display());
            return ExitCode::from(2);
        }
    };
    files.sort();
    for f in &files {
        match engine.add_policy_from_file(f) {
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: {}: {e}", f.display());
                return ExitCode::from(2);
            }
        }
    }
    let t_compile = t2.elapsed();

    let mut denies = 0usize;
    let mut warns = 0usize;
    let mut t_eval = std::time::Duration::ZERO;
    for round in 0..repeat {
        engine.set_input(input.clone());
        let t3 = Instant::now();
        let result = match engine.eval_rule("data.meshform.all.result".into()) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("error: data.meshform.all.result: {e}");
                return ExitCode::from(2);
            }
        };
        t_eval += t3.elapsed();
        if round == 0 {
            for (rule, count) in [("deny", &mut denies), ("warn", &mut warns)] {
                if let Ok(set) = result[rule].as_set() {
                    for m in set.iter() {
                        let text = m.as_string().map(|s| s.to_string()).unwrap_or_default();
                        println!("{rule}: {text}");
                        *count += 1;
                    }
                }
            }
        }
    }
    eprintln!(
        "rego_check: {} objects, {} Rego files; load {:.3}s, input {:.3}s, compile {:.3}s, \
         eval {:.3}s (mean of {repeat}); {denies} deny, {warns} warn",
        repo.objects.len(),
        files.len(),
        t_load.as_secs_f64(),
        t_input.as_secs_f64(),
        t_compile.as_secs_f64(),
        t_eval.as_secs_f64() / repeat as f64,
    );
    if denies > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
