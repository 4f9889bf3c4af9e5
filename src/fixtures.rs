//! Where unit tests find their fixtures: `tests/fixtures/` of this repository, so a
//! clone anywhere runs them (`#[cfg(test)]` only; the integration tests have the same
//! helper in `tests/support/mod.rs`), and a `git` that builds histories for them. Parts of
//! `tests/fixtures/apiserver/` are copies of `../shared/fixtures/apiserver/`, kept identical
//! by `tests/fixture_sync.rs`.

use std::path::{Path, PathBuf};

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

/// Runs git in `dir` with a pinned identity and no user or system configuration;
/// returns its trimmed stdout, panics with its stderr when it fails.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("git prints UTF-8").trim().to_string()
}

/// Makes `root/path` a symbolic link to `target` (parents created, an old entry replaced).
pub(crate) fn link(root: &Path, path: &str, target: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().expect("a path below root")).expect("creates the parent");
    let _ = std::fs::remove_file(&p);
    std::os::unix::fs::symlink(target, p).expect("creates the link");
}

/// The names in `dir`, sorted.
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("a directory")
        .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
