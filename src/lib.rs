//! strata: a compiler for GitOps configuration repositories.
//!
//! The pipeline is `Source → Repo → Values → Rendered → Resources → Patched →
//! Ordered → {Bundle | Diff | Check | Rollout}`; each stage is a module here.
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
pub mod manifest;
pub mod namespace;
pub mod order;
pub mod patch;
pub mod pipeline;
pub mod render;
pub mod repo;
pub mod source;
pub mod tracking;
pub mod values;
pub mod yaml;

pub use diag::{Diagnostic, Error};
