//! `meshform krm`: a KRM function (kpt function, kustomize exec plugin; docs/flux.md#kpt).

use super::common::{print_diagnostics, print_stdout};
use super::Exit;
use std::io::Read;

/// Arguments of `krm`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `krm`: a ResourceList on stdin, a ResourceList with the rendered items on stdout. On
/// an error, stdout holds a ResourceList with the findings as `results` and no items (the KRM
/// functions specification), stderr the same findings, and the exit is non-zero.
pub fn run(_args: Args) -> Exit {
    let limit = crate::config::Limits::default().total_size;
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().take(limit + 1).read_to_end(&mut input) {
        eprintln!("error: cannot read stdin: {e}");
        return Exit::Error;
    }
    if input.len() as u64 > limit {
        eprintln!("error: the ResourceList on stdin is over {limit} bytes");
        return Exit::Error;
    }
    match crate::plugin::krm::run(&input) {
        Ok(out) => {
            print_stdout(&out);
            Exit::Clean
        }
        Err(f) => {
            print_stdout(&crate::plugin::krm::failure_list(&f));
            print_diagnostics(&f.diagnostics, &f.files, 200);
            eprintln!("error: {}", f.summary);
            if f.findings {
                Exit::Findings
            } else {
                Exit::Error
            }
        }
    }
}
