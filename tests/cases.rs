//! CLI cases, good and bad alike: one directory per case under `tests/cases/<name>/`
//! (format in `tests/cases/README.md`), run through the real binary and compared with
//! one insta snapshot per case, `tests/cases/<name>/expected.snap`, holding the exit
//! code, stdout and stderr.
//!
//! Re-bless: `INSTA_UPDATE=always cargo test --test cases` (or `cargo insta review`),
//! then review the `expected.snap` diffs before committing.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::Strata;

/// What one case printed, its temporary and project paths redacted.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `strata --repo repo ARGS` in the case directory, `ARGS` read from `args`.
fn run_case(case: &Path) -> (Vec<String>, Run) {
    let args: Vec<String> = std::fs::read_to_string(case.join("args"))
        .expect("a case has an args file")
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let mut argv = Vec::new();
    if case.join("repo").is_dir() {
        argv.extend(["--repo".to_string(), "repo".to_string()]);
    }
    argv.extend(args);
    let home = tempfile::tempdir().unwrap();
    let out: Output = Strata::in_dir(case).home(home.path()).run(&argv);
    let redact = |b: &[u8]| {
        let text = String::from_utf8_lossy(b);
        [(case, "[case]"), (home.path(), "[home]"), (support::project_root(), "[root]")]
            .iter()
            .fold(text.into_owned(), |t, (p, with)| t.replace(&*p.to_string_lossy(), with))
    };
    let run = Run { code: out.status.code(), stdout: redact(&out.stdout), stderr: redact(&out.stderr) };
    (argv, run)
}

/// The snapshot text: exit code, then stdout and stderr with their sizes, so a
/// missing final newline shows.
fn snapshot(run: &Run) -> String {
    let code = run.code.map_or("killed by a signal".to_string(), |c| c.to_string());
    format!(
        "exit code: {code}\n--- stdout ({} bytes)\n{}--- stderr ({} bytes)\n{}",
        run.stdout.len(),
        run.stdout,
        run.stderr.len(),
        run.stderr
    )
}

/// Every case directory, in name order. (Not `insta::glob!`: it walks the case
/// repositories following links, and some cases hold dangling or cyclic links.)
fn cases() -> Vec<PathBuf> {
    let root = support::project_root().join("tests/cases");
    let mut cases: Vec<PathBuf> =
        std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    cases
}

#[test]
fn cli_cases() {
    let mut broken = Vec::new();
    let mut differ = Vec::new();
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let (argv, run) = run_case(&case);
        // Outside the snapshot, so a re-bless cannot accept them: no case panics, and
        // an `error-*` case is a clear error (exit 2, nothing on stdout).
        if run.code == Some(101) || run.stderr.contains("panicked") {
            broken.push(format!("{name}: panicked\n{}", run.stderr));
        }
        if name.starts_with("error-") && (run.code != Some(2) || !run.stdout.is_empty()) {
            broken.push(format!("{name}: exit {:?} with stdout {:?}, expected exit 2 and none", run.code, run.stdout));
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(&case);
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(case.join("args"));
        settings.set_omit_expression(true);
        settings.set_description(format!("strata {}", argv.join(" ")));
        // insta panics on the first difference; every case is checked before failing.
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!("expected", snapshot(&run)))
        }));
        if checked.is_err() {
            differ.push(name);
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n\n"));
    assert!(
        differ.is_empty(),
        "{} cases differ from their expected.snap: {}\n(INSTA_UPDATE=always cargo test --test cases rewrites them)",
        differ.len(),
        differ.join(", ")
    );
}

#[test]
fn the_corpus_is_complete() {
    let mut names = Vec::new();
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        assert!(case.join("args").is_file(), "{name} has no args file");
        assert!(case.join("expected.snap").is_file(), "{name} has no expected.snap (see tests/cases.rs)");
        names.push(name);
    }
    let errors = names.iter().filter(|n| n.starts_with("error-")).count();
    assert!(errors >= 37, "expected the whole bad-input corpus, found {errors} error-* cases");
}

/// What the patch-ok case's kustomization asks for, stated outright (not only through
/// its snapshot): it patches, labels and scales the target.
#[test]
fn render_applies_the_target_kustomization() {
    let (_, run) = run_case(&support::project_root().join("tests/cases/render-patch-ok"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    for want in ["replicas: 3", "- name: log-shipper", "image: fluent/fluent-bit:3.0", "env: prod", "namespace: shop"] {
        assert!(run.stdout.contains(want), "output lacks `{want}`:\n{}", run.stdout);
    }
}
