//! `meshform diff`.

use super::Exit;

/// Arguments of `diff`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `diff`.
pub fn run(_args: Args) -> Exit {
    eprintln!("meshform diff: not implemented yet");
    Exit::Error
}
