//! The generated reference pages of `docs/reference/`: written from the code's own
//! tables and schemas, so that they cannot drift from what strata does.
//!
//! In: the configuration types' JSON Schemas, the rule tables of `check` and
//! `rollout`, a directory (`strata schema --docs docs/reference`). Out: the pages
//! written atomically, only those whose bytes changed; or, when checking, the pages
//! that are missing or differ. A unit test holds the committed pages current;
//! `STRATA_REGENERATE=1 cargo test --lib reference` rewrites them.

use std::path::{Path, PathBuf};

use crate::atomic;
use crate::diag::Error;

pub mod config;
pub mod rules;

/// Every generated page: its file name in `docs/reference/`, and its text.
pub fn pages() -> Vec<(&'static str, String)> {
    vec![("config.md", config::page()), ("rules.md", rules::page())]
}

/// The pages in `dir` that are missing or differ from [`pages`].
pub fn stale(dir: &Path) -> Vec<PathBuf> {
    atomic::stale_files(dir, &pages())
}

/// Writes the pages that are stale into `dir` (created if needed), calling `wrote`
/// after each page written.
pub fn write(dir: &Path, wrote: impl FnMut(&Path)) -> Result<(), Error> {
    atomic::write_stale_files(dir, &pages(), wrote)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed pages and `schemas/` are what the code writes now; with
    /// `STRATA_REGENERATE=1` (or `STRATA_BLESS=1`) they are rewritten instead.
    #[test]
    fn committed_pages_are_current() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (docs, schemas) = (root.join("docs/reference"), root.join("schemas"));
        if ["STRATA_REGENERATE", "STRATA_BLESS"].iter().any(|v| std::env::var(v).as_deref() == Ok("1")) {
            write(&docs, |_| {}).unwrap();
            crate::repo::schemas::write(&schemas, |_| {}).unwrap();
        }
        let stale: Vec<PathBuf> = stale(&docs).into_iter().chain(crate::repo::schemas::stale(&schemas)).collect();
        assert!(
            stale.is_empty(),
            "stale: {stale:?}; run `STRATA_REGENERATE=1 cargo test --lib reference` (or `strata schema --out schemas --docs docs/reference`)"
        );
    }

    #[test]
    fn writes_what_is_stale_then_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("docs/reference");
        assert_eq!(stale(&dir).len(), 2);
        let mut written = Vec::new();
        write(&dir, |p| written.push(p.to_path_buf())).unwrap();
        assert_eq!(written, [dir.join("config.md"), dir.join("rules.md")]);
        assert!(stale(&dir).is_empty());
        std::fs::write(dir.join("rules.md"), "edited\n").unwrap();
        assert_eq!(stale(&dir), [dir.join("rules.md")]);
    }
}
