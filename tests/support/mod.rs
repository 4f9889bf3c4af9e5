//! Helpers shared by integration tests.
//!
//! - [`Strata`] (and its shorthand [`strata`]) is the one way a test runs the `strata`
//!   binary: a cleared environment with only `PATH`, a `HOME` inside a temporary
//!   directory, `NO_COLOR=1` and `LANG=C`, in a current directory the caller chooses.
//! - [`require_tool`] is the one way a test depends on an external program
//!   (`kubectl`, `python3`): under `CI=true` a missing tool fails the test, otherwise
//!   the test prints a visible `SKIPPED:` line and returns.
//! - [`fixture`] is the one way a test finds a fixture: `tests/fixtures/<rel>` of this
//!   repository (unit tests in `src/` use `crate::fixtures`, the same lookup), so a clone
//!   anywhere runs every test that needs no external tool.
//! - [`copy_tree`] copies a fixture repository, links included.
//! - [`webdriver::Browser`]: a headless Chromium over WebDriver (the review page's tests).

#![allow(dead_code)]

pub mod apiserver;
pub mod kapi;
pub mod registry;
pub mod webdriver;

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The project root, where `example-repo/` and `tests/` are.
pub fn project_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/REL` of this repository; fails the test naming the path when it is
/// missing (fixtures are committed, never skipped).
pub fn fixture(rel: &str) -> PathBuf {
    let path = project_root().join("tests/fixtures").join(rel);
    assert!(path.exists(), "fixture {} is missing (it is committed with the repository)", path.display());
    path
}

/// Copies a directory tree, keeping symbolic links as links (targets link to versions).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let ft = e.file_type().unwrap();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if ft.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// One run of the real `strata` binary, with a pinned environment: the variables of
/// the test process are cleared, then only `PATH` (the test's own), `HOME`, `NO_COLOR=1`,
/// `LANG=C` and those added with [`Strata::env`] are set.
pub struct Strata {
    dir: PathBuf,
    home: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
}

impl Strata {
    /// A run whose current directory is `dir` (relative paths in the arguments start there).
    pub fn in_dir(dir: impl AsRef<Path>) -> Strata {
        Strata { dir: dir.as_ref().to_path_buf(), home: None, env: Vec::new() }
    }

    /// `HOME` for the run: a temporary directory the test owns (for a kubeconfig under
    /// `~/.kube`, say). Without it every run gets a fresh empty one.
    pub fn home(mut self, home: &Path) -> Strata {
        self.home = Some(home.to_path_buf());
        self
    }

    /// One more environment variable on top of the pinned ones.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Strata {
        self.env.push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    /// Runs `strata ARGS` and waits for it.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let fresh_home = match &self.home {
            Some(_) => None,
            None => Some(tempfile::tempdir().expect("a temporary HOME")),
        };
        let home = self.home.as_deref().or(fresh_home.as_ref().map(|t| t.path())).unwrap();
        Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("NO_COLOR", "1")
            .env("LANG", "C")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("strata runs")
    }
}

/// `strata ARGS` from the project root (so `--repo example-repo` works), as [`Strata`] runs it.
pub fn strata(args: &[&str]) -> Output {
    Strata::in_dir(project_root()).run(args)
}

/// Whether `tool` is on `PATH`. When it is not: under `CI=true` this panics (CI must
/// run every test); otherwise it writes `SKIPPED: <test> (<tool> not on PATH)` to the
/// real stderr (past the test harness's capture, so the skip is seen) and returns
/// false, and the test returns early:
///
/// ```ignore
/// if !support::require_tool("kubectl") {
///     return;
/// }
/// ```
pub fn require_tool(tool: &str) -> bool {
    if on_path(tool) {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{tool} is required when CI=true, and it is not on PATH");
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test} ({tool} not on PATH; with CI=true this fails)");
    false
}

fn on_path(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else { return false };
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .any(|p| std::fs::metadata(&p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Runs git in `dir` with no user or system configuration and a pinned identity
/// (author and committer `t <t@example.com>`); returns stdout, fails the test on error.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_with_author(dir, ("t", "t@example.com"), args)
}

/// [`git`] with another author (`(name, email)`), for tests that check a commit's author.
pub fn git_with_author(dir: &Path, (name, email): (&str, &str), args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", name)
        .env("GIT_AUTHOR_EMAIL", email)
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The environment of `setup.sh`, `after.sh` and a git case's run: no user or system git
/// configuration, `main` as the first branch, fixed names and dates, so that the commits a
/// setup script makes have the same ids on every machine.
pub const GIT_ENV: &[(&str, &str)] = &[
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_CONFIG_GLOBAL", "/dev/null"),
    ("GIT_CONFIG_COUNT", "1"),
    ("GIT_CONFIG_KEY_0", "init.defaultBranch"),
    ("GIT_CONFIG_VALUE_0", "main"),
    ("GIT_AUTHOR_NAME", "Ada Author"),
    ("GIT_AUTHOR_EMAIL", "ada@example.com"),
    ("GIT_AUTHOR_DATE", "2026-01-01T12:00:00Z"),
    ("GIT_COMMITTER_NAME", "Cy Committer"),
    ("GIT_COMMITTER_EMAIL", "cy@example.com"),
    ("GIT_COMMITTER_DATE", "2026-01-01T12:00:00Z"),
];

/// Every file under `dir`, by path relative to it (`/`-separated), with its bytes.
pub fn files_under(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}
