//! `meshform policy test DIR`.

use super::Exit;
use std::path::PathBuf;

/// Policy commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run policy test files (kyverno-test style) in DIR.
    Test {
        /// Directory holding test files.
        dir: PathBuf,
    },
}

/// Runs a policy command.
pub fn run(_cmd: Command) -> Exit {
    eprintln!("meshform policy test: not implemented yet");
    Exit::Error
}
