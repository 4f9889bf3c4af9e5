//! CLI cases, good and bad alike: one directory per case under `tests/cases/<name>/`
//! (format in `tests/cases/README.md`), run through the real binary and compared with
//! one insta snapshot per case, `tests/cases/<name>/expected.snap`, holding the exit
//! code, stdout and stderr.
//!
//! Re-bless: `INSTA_UPDATE=always cargo test --test cases` (or `cargo insta review`),
//! then review the `expected.snap` diffs before committing.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::Strata;

/// What one case printed, its temporary and project paths and its commit ids redacted.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// What `after.sh` printed, for a case that has one.
    after: Option<String>,
}

/// Runs `sh -eu CASE/NAME` in `dir` with [`support::GIT_ENV`], `CASE` set to the case directory;
/// returns what it printed (stdout, then stderr), or an error naming the case.
fn script(case: &Path, name: &str, dir: &Path, home: &Path) -> Result<String, String> {
    let out = Command::new("sh")
        .arg("-eu")
        .arg(case.join(name))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("LANG", "C")
        .env("CASE", case)
        .envs(support::GIT_ENV.iter().copied())
        .output()
        .map_err(|e| format!("{}: {e}", case.join(name).display()))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{} failed ({}):\n{text}", case.join(name).display(), out.status))
    }
}

/// Every commit id in the git repository at or above `dir` (unreferenced ones too: a
/// `--dry-run` writes commits no reference names), for [`Redact`].
fn commit_ids(dir: &Path) -> Vec<String> {
    let out = Command::new("git")
        .args(["cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectname)"])
        .current_dir(dir)
        .envs(support::GIT_ENV.iter().copied())
        .output();
    let Ok(out) = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()) else { return Vec::new() };
    out.lines().filter_map(|l| l.strip_prefix("commit ")).map(String::from).collect()
}

/// Replaces paths of the run with `[case]`, `[work]`, `[home]`, `[root]`, and each commit id
/// (whole, or a prefix of 7 characters or more) with `[commit N]`, numbered in order of
/// first appearance: the same commit is the same number in stdout, stderr and `after.sh`.
struct Redact<'a> {
    paths: Vec<(&'a Path, &'static str)>,
    commits: Vec<String>,
    seen: Vec<String>,
}

impl Redact<'_> {
    fn apply(&mut self, bytes: &[u8]) -> String {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let text = self.paths.iter().fold(text, |t, (p, with)| t.replace(&*p.to_string_lossy(), with));
        if self.commits.is_empty() {
            return text;
        }
        let hex = regex::Regex::new(r"\b[0-9a-f]{7,40}\b").unwrap();
        hex.replace_all(&text, |m: &regex::Captures| {
            let id = &m[0];
            let Some(full) = self.commits.iter().find(|c| c.starts_with(id)) else { return id.to_string() };
            let n = match self.seen.iter().position(|s| s == full) {
                Some(i) => i + 1,
                None => {
                    self.seen.push(full.clone());
                    self.seen.len()
                }
            };
            format!("[commit {n}]")
        })
        .into_owned()
    }
}

/// The case whose `repo/` and `setup.sh` build this case's git history: the case itself,
/// or the case its `history` file names (cases that run other commands on one history).
fn history_of(case: &Path) -> PathBuf {
    let Ok(name) = std::fs::read_to_string(case.join("history")) else { return case.to_path_buf() };
    let from = case.parent().expect("cases are in tests/cases").join(name.trim());
    assert!(
        from.join("setup.sh").is_file(),
        "{}: `history` names `{}`, which has no setup.sh",
        case.display(),
        name.trim()
    );
    from
}

/// `strata --repo repo ARGS` in the case directory, `ARGS` read from `args`. A case with a
/// `setup.sh` (its own, or that of the case its `history` file names) runs in a temporary
/// work directory instead: that `repo/` is copied there, the script builds what the case
/// needs (a git history), and `after.sh`, when present, runs after strata to show what it
/// changed.
fn run_case(case: &Path) -> (Vec<String>, Run) {
    let args: Vec<String> = std::fs::read_to_string(case.join("args"))
        .expect("a case has an args file")
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let home = tempfile::tempdir().unwrap();
    let from = history_of(case);
    let work = from.join("setup.sh").is_file().then(|| {
        let work = tempfile::tempdir().unwrap();
        if from.join("repo").is_dir() {
            support::copy_tree(&from.join("repo"), &work.path().join("repo"));
        }
        script(&from, "setup.sh", work.path(), home.path()).unwrap_or_else(|e| panic!("{e}"));
        work
    });
    let dir = work.as_ref().map_or(case, |w| w.path());
    let mut argv = Vec::new();
    if dir.join("repo").is_dir() {
        argv.extend(["--repo".to_string(), "repo".to_string()]);
    }
    argv.extend(args);
    let mut strata = Strata::in_dir(dir).home(home.path());
    if work.is_some() {
        strata = support::GIT_ENV.iter().fold(strata, |s, (k, v)| s.env(k, v));
    }
    let out: Output = strata.run(&argv);
    let after = match &work {
        Some(w) if case.join("after.sh").is_file() => {
            Some(script(case, "after.sh", w.path(), home.path()).unwrap_or_else(|e| panic!("{e}")))
        }
        _ => None,
    };
    let git_dir = if dir.join("repo").is_dir() { dir.join("repo") } else { dir.to_path_buf() };
    let mut redact = Redact {
        paths: vec![(case, "[case]"), (dir, "[work]"), (home.path(), "[home]"), (support::project_root(), "[root]")],
        commits: if work.is_some() { commit_ids(&git_dir) } else { Vec::new() },
        seen: Vec::new(),
    };
    let run = Run {
        code: out.status.code(),
        stdout: redact.apply(&out.stdout),
        stderr: redact.apply(&out.stderr),
        after: after.map(|a| redact.apply(a.as_bytes())),
    };
    (argv, run)
}

/// The snapshot text: exit code, then stdout and stderr with their sizes, so a
/// missing final newline shows; then what `after.sh` printed, for a case that has one.
fn snapshot(run: &Run) -> String {
    let code = run.code.map_or("killed by a signal".to_string(), |c| c.to_string());
    let mut text = format!(
        "exit code: {code}\n--- stdout ({} bytes)\n{}--- stderr ({} bytes)\n{}",
        run.stdout.len(),
        run.stdout,
        run.stderr.len(),
        run.stderr
    );
    if let Some(after) = &run.after {
        text.push_str(&format!("--- after.sh ({} bytes)\n{after}", after.len()));
    }
    text
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
        let setup = if case.join("setup.sh").is_file() { " (after setup.sh)" } else { "" };
        settings.set_description(format!("strata {}{setup}", argv.join(" ")));
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

/// One case per `strata check` rule, `check-rule-<rule>`, whose snapshot shows a finding of
/// that rule (the rule list is the table of docs/reference/checks.md, which a unit test keeps equal to the
/// rules in `src/check/rules.rs`), and `check-rule-none`, the repository they each change
/// in one place, which has no finding at all.
#[test]
fn every_check_rule_has_a_case_with_its_finding() {
    let page = std::fs::read_to_string(support::project_root().join("docs/reference/checks.md")).unwrap();
    let rules: Vec<&str> = page
        .lines()
        .filter_map(|l| {
            l.strip_prefix("| `")?
                .split_once("` | ")
                .filter(|(_, rest)| rest.starts_with("error |") || rest.starts_with("warning |"))
        })
        .map(|(name, _)| name)
        .collect();
    assert!(rules.len() >= 18, "the rule table of docs/reference/checks.md, read as {rules:?}");
    let root = support::project_root().join("tests/cases");
    for rule in rules {
        let snap = root.join(format!("check-rule-{rule}/expected.snap"));
        let text = std::fs::read_to_string(&snap).unwrap_or_else(|e| panic!("{}: {e}", snap.display()));
        assert!(
            text.contains(&format!("error[{rule}]")) || text.contains(&format!("warning[{rule}]")),
            "{} shows no `{rule}` finding",
            snap.display()
        );
    }
    let (_, clean) = run_case(&root.join("check-rule-none"));
    assert_eq!(clean.code, Some(0), "{}", clean.stdout);
    assert!(clean.stdout.contains("0 errors, 0 warnings"), "{}", clean.stdout);
}
