//! `meshform krm`.

use super::Exit;

/// Arguments of `krm`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `krm`.
pub fn run(_args: Args) -> Exit {
    eprintln!("meshform krm: not implemented yet");
    Exit::Error
}
