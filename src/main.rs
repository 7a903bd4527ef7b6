//! The `meshform` binary: parse arguments, run the pipeline, map the outcome to an exit code.
//! Data flow: cli::run → pipeline::run (source → manifest → gloo → policy → render → validate)
//! → report / render::emit → stdout; logs and diagnostics go to stderr only.

fn main() -> std::process::ExitCode {
    meshform::cli::main()
}
