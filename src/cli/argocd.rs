//! `meshform argocd generate | parameters`: the commands plugin/plugin.yaml runs.

use super::common::{print_diagnostics, print_stdout, print_stream};
use super::Exit;
use crate::plugin::argocd::{self, Env};

/// Argo CD plugin commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the rendered YAML stream of the target cluster (the CMP `generate` command).
    ///
    /// Reads ARGOCD_APP_SOURCE_PATH, ARGOCD_APP_PARAMETERS / PARAM_* (cluster, values,
    /// passthrough, allow-empty) and ARGOCD_ENV_CLUSTER. Prints nothing on stdout unless the
    /// render is clean and non-empty.
    Generate,
    /// Print the JSON parameter announcements (the CMP dynamic parameters command).
    Parameters,
}

fn process_env() -> Env {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Runs an Argo CD command.
pub fn run(cmd: Command) -> Exit {
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot read the working directory: {e}");
            return Exit::Error;
        }
    };
    let env = process_env();
    match cmd {
        Command::Generate => match argocd::generate(&cwd, &env) {
            Ok(g) => {
                eprint!("{}", g.stderr);
                print_stream(&g.stdout);
                Exit::Clean
            }
            Err(f) => {
                print_diagnostics(&f.diagnostics, &f.files, 200);
                eprintln!("error: {}", f.summary);
                if f.findings {
                    Exit::Findings
                } else {
                    Exit::Error
                }
            }
        },
        Command::Parameters => {
            let v = argocd::parameters(&cwd, &env);
            print_stdout(&format!("{v}\n"));
            Exit::Clean
        }
    }
}
