//! strata: a compiler for GitOps configuration repositories.
//!
//! The pipeline is `Source → Repo → Values → Rendered → Resources → Namespaced →
//! Patched → Tracked → Compiled → Ordered → {Bundle | Diff}`; each stage is a module
//! here, and a module imports only the stages before it (`tests/architecture.rs`).
//! See ARCHITECTURE.md for the map.

#![forbid(unsafe_code)]

pub mod atomic;
pub mod bundle;
pub mod check;
pub mod cli;
pub mod cluster;
pub mod compiled;
pub mod diag;
pub mod diff;
#[cfg(test)]
mod fixtures;
/// The fuzz targets' properties: built for the fuzz crate (`fuzz/`, feature
/// `fuzzing`) and for the unit tests that replay the corpora, never into the binary.
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod init;
pub mod manifest;
pub mod namespace;
pub mod order;
pub mod patch;
pub mod pipeline;
pub mod promote;
pub mod release;
pub mod render;
pub mod repo;
pub mod rollout;
pub mod source;
pub mod tracking;
pub mod values;
pub mod yaml;

pub use diag::{Diagnostic, Error};
