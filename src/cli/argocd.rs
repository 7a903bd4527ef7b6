//! `meshform argocd generate | parameters`.

use super::Exit;

/// Argo CD plugin commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the rendered YAML stream of the target cluster (the CMP `generate` command).
    Generate,
    /// Print the JSON parameter announcements.
    Parameters,
}

/// Runs an Argo CD command.
pub fn run(_cmd: Command) -> Exit {
    eprintln!("meshform argocd: not implemented yet");
    Exit::Error
}
