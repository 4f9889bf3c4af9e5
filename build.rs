//! Links the `strata` executable position-dependent (`-no-pie`) on Linux.
//!
//! A position-independent executable is relocated by the dynamic loader at every start:
//! strata's 91,000 relative relocations cost ~1.5 ms and ~450 page faults of the ~8 ms that
//! `strata render TARGET` takes (docs/performance.md, "One target"). Linked at a fixed
//! address, the loader has nothing to relocate. The cost is address-space randomisation of
//! the executable's own code and data (libraries, heap and stack stay randomised), as for
//! kubectl, Helm, Argo CD and Flux, whose Go toolchain links this way by default.
//! `STRATA_PIE=1 cargo build` keeps the default position-independent executable.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=STRATA_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let keep_pie = std::env::var("STRATA_PIE").is_ok_and(|v| v == "1");
    if linux && !keep_pie {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
