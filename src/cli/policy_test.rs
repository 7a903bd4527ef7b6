//! `meshform policy test DIR`.

use super::common::print_stdout;
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

/// Runs a policy command: exit 0 when every check passes, 1 when one fails, 2 when a test,
/// policy or resource cannot be loaded.
pub fn run(cmd: Command) -> Exit {
    match cmd {
        Command::Test { dir } => match crate::policy::test_runner::run_dir(&dir) {
            Ok(sum) => {
                print_stdout(&format!(
                    "{}{} passed, {} failed\n",
                    sum.log, sum.passed, sum.failed
                ));
                if sum.failed > 0 {
                    Exit::Findings
                } else {
                    Exit::Clean
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                Exit::Error
            }
        },
    }
}
