//! `strata render` over targets with a kustomization.yaml, through the real binary.
//!
//! - `tests/fixtures/patch-ok/`: `repo/` and `expected/stdout`, the rendered output
//!   of a target whose kustomization patches, labels and scales it.
//! - `tests/fixtures/bad/patch-*/`: one repository per class of bad kustomization
//!   (they are also part of the bad-input corpus run by `tests/bad_input.rs`, which
//!   checks exit 2, empty stdout and the `expect` lines); here their whole stderr is
//!   compared with `stderr`, so the file, line, caret and hints stay as reviewed.
//!
//! `STRATA_BLESS=1` rewrites the expected files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn render(case: &Path) -> Output {
    let args: Vec<String> = std::fs::read_to_string(case.join("args"))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("render")
        .arg("--repo")
        .arg(case.join("repo"))
        .args(&args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .output()
        .expect("strata runs")
}

fn check(file: &Path, got: &str, failures: &mut Vec<String>) {
    if std::env::var_os("STRATA_BLESS").is_some() {
        std::fs::write(file, got).unwrap();
        return;
    }
    let want =
        std::fs::read_to_string(file).unwrap_or_else(|_| panic!("{} missing; run with STRATA_BLESS=1", file.display()));
    if want != got {
        failures.push(format!("{} differs\n--- expected\n{want}--- got\n{got}", file.display()));
    }
}

#[test]
fn render_applies_the_target_kustomization() {
    let case = root().join("patch-ok");
    let out = render(&case);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // What the kustomization asks for, stated outright (not only through the snapshot).
    for want in ["replicas: 3", "- name: log-shipper", "image: fluent/fluent-bit:3.0", "env: prod", "namespace: shop"] {
        assert!(stdout.contains(want), "output lacks `{want}`:\n{stdout}");
    }
    let mut failures = Vec::new();
    check(&case.join("expected/stdout"), &stdout, &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bad_kustomizations_report_exactly() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("patch-"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "the bad kustomization corpus has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let out = render(case);
        if out.status.code() != Some(2) || !out.stdout.is_empty() {
            failures.push(format!(
                "{}: exit {:?}, stdout {:?}",
                case.display(),
                out.status.code(),
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        check(&case.join("stderr"), &String::from_utf8_lossy(&out.stderr), &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
