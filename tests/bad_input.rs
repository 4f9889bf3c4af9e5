//! One fixture repository per class of bad input (`tests/fixtures/bad/<case>/`):
//! `repo/` is the configuration repository, `args` the extra command-line
//! arguments (one per line), `expect` lines that stderr must contain.
//! Every case must exit 2, print nothing on stdout, and never panic.

use std::path::Path;
use std::process::Command;

#[test]
fn every_bad_input_is_a_clear_error_with_exit_2() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut cases: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(cases.len() >= 15, "expected the whole corpus, found {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let args: Vec<String> = std::fs::read_to_string(case.join("args"))
            .map(|s| s.lines().map(str::to_string).filter(|l| !l.is_empty()).collect())
            .unwrap_or_default();
        let out = Command::new(env!("CARGO_BIN_EXE_strata"))
            .arg("render")
            .arg("--repo")
            .arg(case.join("repo"))
            .args(&args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expect = std::fs::read_to_string(case.join("expect")).unwrap();
        let mut problems = Vec::new();
        if out.status.code() != Some(2) {
            problems.push(format!("exit code {:?}, expected 2", out.status.code()));
        }
        if !out.stdout.is_empty() {
            problems.push(format!("stdout not empty: {}", String::from_utf8_lossy(&out.stdout)));
        }
        if stderr.contains("panicked") {
            problems.push("panicked".to_string());
        }
        for line in expect.lines().filter(|l| !l.is_empty()) {
            if !stderr.contains(line) {
                problems.push(format!("stderr lacks `{line}`"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("== {name}: {}\n{stderr}", problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
