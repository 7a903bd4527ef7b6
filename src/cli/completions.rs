//! `meshform completions SHELL` and `meshform man`: shell completion scripts (clap_complete)
//! and roff manual pages (clap_mangen), both made from the CLI's own definition, so they
//! always match the flags this binary takes. README.md#install says where to put them.

use super::Exit;
use clap::CommandFactory;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `meshform completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `meshform man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write meshform.1 and one page per subcommand (meshform-render.1, …) into DIR, created
    /// if absent (pages of the same name are replaced), instead of meshform.1 on stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell` on stdout.
pub fn run_completions(args: CompletionsArgs) -> Exit {
    let mut cmd = super::Cli::command();
    // The script is built in memory: clap_complete panics on a write error, and a closed
    // stdout is not worth one.
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "meshform", &mut buf);
    write_stdout(&buf)
}

/// Prints meshform's man page on stdout, or writes every page into `args.dir`.
pub fn run_man(args: ManArgs) -> Exit {
    // No page for `help`, which the pages would otherwise list; build() names each
    // subcommand's page `meshform-render` and so on.
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    match args.dir {
        Some(dir) => {
            let written = std::fs::create_dir_all(&dir).and_then(|()| write_pages(&cmd, &dir));
            match written {
                Ok(()) => Exit::Clean,
                Err(e) => {
                    eprintln!("error: cannot write man pages to {}: {e}", dir.display());
                    Exit::Error
                }
            }
        }
        None => {
            let mut buf = Vec::new();
            match page(cmd).render(&mut buf) {
                Ok(()) => write_stdout(&buf),
                Err(e) => {
                    eprintln!("error: cannot render the man page: {e}");
                    Exit::Error
                }
            }
        }
    }
}

/// The man page of `cmd`, its footer naming meshform and its version (not the subcommand's).
fn page(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd).source(format!("meshform {}", env!("CARGO_PKG_VERSION")))
}

/// Writes the page of `cmd` and of each of its visible subcommands, recursively, into `dir`.
fn write_pages(cmd: &clap::Command, dir: &std::path::Path) -> std::io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir)?;
    }
    page(cmd.clone()).generate_to(dir).map(|_| ())
}

/// Writes `bytes` to stdout; a closed pipe ends quietly, as with `head`.
fn write_stdout(bytes: &[u8]) -> Exit {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Exit::Clean,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Clean,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            Exit::Error
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_binary() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
            clap_complete::Shell::Elvish,
            clap_complete::Shell::PowerShell,
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(
                shell,
                &mut super::super::Cli::command(),
                "meshform",
                &mut buf,
            );
            let text = String::from_utf8(buf).expect("utf-8");
            assert!(text.contains("meshform"), "{shell}");
        }
    }
}
