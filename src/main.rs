//! The `meshform` binary: parse arguments, run the pipeline, map the outcome to an exit code.
//! Data flow: cli::run → pipeline::run (source → manifest → gloo → policy ∥ render, where each
//! rendered object is validated and written as it is made) → report / YAML stream → stdout;
//! logs and diagnostics go to stderr only.

// Rendering allocates many small maps; mimalloc measured faster than the system allocator here
// (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    meshform::allocator::keep_freed_pages();
    meshform::cli::main()
}
