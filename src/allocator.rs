//! The allocator setting the binary and the benchmarks share, so that stage figures add up to
//! the CLI's.

/// `mi_option_purge_delay` in mimalloc's `include/mimalloc.h` (the `mi_option_e` enum; the Rust
/// bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc never to hand freed pages back to the OS mid-run. A run is short and its
/// memory is returned at exit; pages handed back are zeroed again by the kernel when they are
/// reused (measured: system time of a 10,000-object render 2.4 s -> 1.0 s;
/// docs/performance.md). Harmless when mimalloc is not the global allocator.
pub fn keep_freed_pages() {
    // SAFETY: mi_option_set only stores an integer option; it may be called at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}
