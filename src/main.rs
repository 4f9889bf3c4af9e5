use clap::Parser;

fn main() {
    let cli = strata::cli::Cli::parse();
    // Deep templates need more stack than the default on worker threads.
    let _ = rayon::ThreadPoolBuilder::new().stack_size(16 << 20).build_global();
    std::process::exit(strata::cli::exit_code(strata::cli::run(cli)));
}
