//! `meshform check`.

use super::Exit;

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `check`.
pub fn run(_args: Args) -> Exit {
    eprintln!("meshform check: not implemented yet");
    Exit::Error
}
