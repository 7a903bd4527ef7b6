//! Command-line front end: argument parsing, logging to stderr, exit codes.
//!
//! Exit codes follow ripgrep and kubectl diff: 0 clean, 1 findings (policy errors, or a diff
//! with `--exit-code`), 2 usage or input errors. Nothing is written to stdout on error, but
//! for `check` in a CI format (`json`, `sarif`, `github`), whose report then holds the errors.

mod argocd;
mod check;
mod common;
mod completions;
mod diff;
mod krm;
mod policy_test;
mod render;
mod trace;

pub use common::SourceArgs;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success, nothing to report.
    Clean = 0,
    /// 1: policy errors, or differences with `--exit-code`.
    Findings = 1,
    /// 2: bad usage or bad input.
    Error = 2,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Render, check and diff Gloo Platform routing config as Istio resources.
#[derive(Debug, Parser)]
#[command(name = "meshform", version, about, propagate_version = true)]
pub struct Cli {
    /// More logging on stderr: -v meshform's phases, -vv its debug lines. RUST_LOG (which can
    /// name other crates) replaces both.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render the Istio resources Gloo would produce, as a YAML stream or an out-dir.
    Render(render::Args),
    /// Run policies and Istio validation; report findings.
    Check(check::Args),
    /// Diff the rendered output of two revisions.
    Diff(diff::Args),
    /// Argo CD config-management plugin commands.
    #[command(subcommand)]
    Argocd(argocd::Command),
    /// KRM function: read a ResourceList on stdin, write one with the rendered items.
    Krm(krm::Args),
    /// Which route a request takes: the Gateway server, VirtualService route, Gloo RouteTable
    /// routes and destinations, offline from the repo.
    Trace(trace::Args),
    /// Policy tools.
    #[command(subcommand)]
    Policy(policy_test::Command),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff), or write every page into a directory.
    Man(completions::ManArgs),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    // Invoked as `meshform-krm` (a symlink): the KRM function, since kustomize's exec
    // functions take a path and no arguments.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        == Some("meshform-krm".as_ref())
    {
        args.insert(1, "krm".into());
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let code = if e.use_stderr() {
                Exit::Error
            } else {
                Exit::Clean
            };
            let _ = e.print();
            return code.into();
        }
    };
    init_logging(cli.verbose);
    let exit = match cli.command {
        Command::Render(a) => render::run(a),
        Command::Check(a) => check::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Argocd(c) => argocd::run(c),
        Command::Krm(a) => krm::run(a),
        Command::Trace(a) => trace::run(a),
        Command::Policy(c) => policy_test::run(c),
        Command::Completions(a) => completions::run_completions(a),
        Command::Man(a) => completions::run_man(a),
    };
    exit.into()
}

/// Logs go to stderr only: stdout carries manifests for Argo CD. `-v` shows meshform's phases
/// (info), `-vv` its debug lines; other crates log only through `RUST_LOG`, which, when set,
/// replaces these levels (docs/ci.md#logging).
fn init_logging(verbose: u8) {
    use std::io::IsTerminal;
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| tracing_subscriber::EnvFilter::try_new(v).ok());
    let filter =
        from_env.unwrap_or_else(|| tracing_subscriber::EnvFilter::new(format!("meshform={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .try_init();
}
