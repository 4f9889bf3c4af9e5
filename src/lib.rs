//! strata: a compiler for GitOps configuration repositories.
//!
//! The pipeline is `Source → Repo → Values → Rendered → Resources → Namespaced →
//! Patched → Tracked → Compiled → Ordered → {Bundle | Diff}`; each stage is a module
//! here, and a module imports only the stages before it (`tests/architecture.rs`).
//! See docs/architecture.md for the map.

#![forbid(unsafe_code)]

pub(crate) mod atomic;
pub(crate) mod bundle;
pub(crate) mod cache;
pub(crate) mod check;
pub(crate) mod cli;
pub(crate) mod cluster;
pub(crate) mod compiled;
pub(crate) mod diag;
pub(crate) mod diff;
pub mod facade;
#[cfg(test)]
mod fixtures;
/// The fuzz targets' properties: built for the fuzz crate (`fuzz/`, feature
/// `fuzzing`) and for the unit tests that replay the corpora, never into the binary.
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub(crate) mod hydrate;
pub(crate) mod init;
pub(crate) mod manifest;
pub(crate) mod namespace;
pub(crate) mod order;
pub(crate) mod patch;
pub(crate) mod pipeline;
pub(crate) mod promote;
pub(crate) mod publish;
pub(crate) mod reference;
pub(crate) mod release;
pub(crate) mod render;
pub(crate) mod repo;
pub(crate) mod review;
pub(crate) mod rollout;
pub(crate) mod source;
pub(crate) mod tracking;
pub(crate) mod values;
pub(crate) mod yaml;

pub use diag::{Diagnostic, Error};

/// The command line, for `main.rs`: parse, run, map the outcome to an exit code.
pub use cli::{Cli, exit_code, run};
