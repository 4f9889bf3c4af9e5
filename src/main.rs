#![forbid(unsafe_code)]

use clap::Parser;

// Millions of short-lived maps and strings per run: mimalloc is about 20% faster
// than the system allocator here (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    report_panics_as_bugs();
    // Lets tests/safety.rs see the panic report; debug builds only.
    #[cfg(debug_assertions)]
    if std::env::var_os("STRATA_TEST_PANIC").is_some() {
        panic!("STRATA_TEST_PANIC is set");
    }
    let cli = strata::Cli::parse();
    // Deep templates need more stack than the default on worker threads.
    let _ = rayon::ThreadPoolBuilder::new().stack_size(16 << 20).build_global();
    std::process::exit(strata::exit_code(strata::run(cli)));
}

/// A panic is a bug in strata, never the input's fault: after Rust's own
/// message (and backtrace, when `RUST_BACKTRACE` asks for one) say so, with the
/// version to quote, and exit 101, Rust's code for a panic, from whichever thread
/// panicked. The release profile aborts on panic (no unwinding tables: a smaller
/// binary), so the hook is where the process ends; debug builds end the same way.
fn report_panics_as_bugs() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        eprintln!(
            "error: this is a bug in strata {}, please report it with the command line and the message above",
            env!("CARGO_PKG_VERSION")
        );
        std::process::exit(101);
    }));
}
