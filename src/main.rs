//! The `meshform` binary: parse arguments, run the pipeline, map the outcome to an exit code.
//! Data flow: cli::run → pipeline::run (source → manifest → gloo → policy ∥ render, where each
//! rendered object is validated and written as it is made) → report / YAML stream → stdout;
//! logs and diagnostics go to stderr only.

// Rendering allocates many small maps; mimalloc measured faster than the system allocator here
// (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `include/mimalloc.h` (the `mi_option_e` enum; the Rust
/// bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // A run is short and its memory is returned at exit: never hand freed pages back to the OS
    // mid-run, or the kernel zeroes them again when they are reused (measured: system time of a
    // 10,000-object render 2.4 s -> 1.0 s; docs/performance.md).
    // SAFETY: mi_option_set only stores an integer option; it may be called at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    meshform::cli::main()
}
