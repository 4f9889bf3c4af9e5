//! Where unit tests find their fixtures: `tests/fixtures/` of this repository, so a
//! clone anywhere runs them (`#[cfg(test)]` only; the integration tests have the same
//! helper in `tests/support/mod.rs`). `tests/fixtures/apiserver/` is a copy of
//! `../shared/fixtures/apiserver/`, kept identical by `tests/fixture_sync.rs`.

use std::path::PathBuf;

/// `tests/fixtures/REL` of this repository; panics naming the path when it is missing
/// (a fixture is part of the repository, never skipped).
pub(crate) fn fixture(rel: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel);
    assert!(path.exists(), "fixture {} is missing (it is committed with the repository)", path.display());
    path
}

/// `tests/fixtures/apiserver/REL`: responses and documents of kube-apiserver v1.36.2.
pub(crate) fn apiserver(rel: &str) -> PathBuf {
    fixture(&format!("apiserver/{rel}"))
}
