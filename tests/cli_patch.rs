//! CLI transcripts of `strata render` over targets with a kustomization.yaml.
//!
//! Each `tests/fixtures/patch-*/` holds `repo/` (a small configuration repository),
//! `args` (the command line after `--repo`, one argument per line) and `expected/`
//! (`code`, `stdout`, `stderr`). The real binary runs with a cleared environment;
//! `STRATA_BLESS=1` rewrites `expected/`. On top of the transcripts, [`CLASSES`]
//! states what each class of bad input must produce, so a wrong blessing fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("patch-") && p.join("args").exists())
        .collect();
    out.sort();
    out
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(case: &Path) -> Run {
    let args: Vec<String> =
        std::fs::read_to_string(case.join("args")).unwrap().lines().filter(|l| !l.is_empty()).map(String::from).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("--repo")
        .arg(case.join("repo"))
        .args(&args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .output()
        .expect("strata runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// (fixture, exit code, what stderr must say) — one class of bad input each.
const CLASSES: &[(&str, i32, &[&str])] = &[
    ("patch-ok", 0, &[]),
    (
        "patch-target-matches-nothing",
        2,
        &["error: the target of `patches[0]` matches no resource (kind=Deployment, name=wbe)", "--> web/prod/kustomization.yaml:2:3", "apps/Deployment/shop/web"],
    ),
    (
        "patch-failing-test-op",
        2,
        &["JSON patch operation 0 (`test` at `/spec/template/spec/containers/0/image`) failed on `apps/Deployment/shop/web`", "--> web/prod/guard.yaml:2:3"],
    ),
    (
        "patch-resource-does-not-exist",
        2,
        &["no resource matches the strategic merge patch for `apps/Deployment/api`", "--> web/prod/kustomization.yaml:3:5", "`apps/Deployment/shop/web`"],
    ),
    ("patch-unknown-field", 2, &["unknown field `targte` in a `patches` entry", "--> web/prod/kustomization.yaml:4:3", "did you mean `target`?"]),
    ("patch-unknown-top-level-field", 2, &["unknown field `commonLabel` in kustomization.yaml", "--> web/prod/kustomization.yaml:2:1", "did you mean `commonLabels`?"]),
    ("patch-unsupported-generator", 2, &["kustomize field `configMapGenerator` is not supported by strata", "--> web/prod/kustomization.yaml:1:1"]),
    ("patch-missing-patch-file", 2, &["`patches/replicas.yaml` does not exist (looked for `web/prod/patches/replicas.yaml`)", "--> web/prod/kustomization.yaml:2:3"]),
    ("patch-resources-outside-repo", 2, &["`../../../../outside.yaml` leaves the repository", "--> web/prod/kustomization.yaml:2:3"]),
    ("patch-image-tag-number", 2, &["`images[0].newTag` must be a string, found `1.26`", "--> web/prod/kustomization.yaml:3:3", "quote the value"]),
    (
        "patch-invalid-smp",
        2,
        &["strategic merge patch failed on `apps/Deployment/shop/web`", "the patch gives a mapping where the object has a list", "--> web/prod/kustomization.yaml:"],
    ),
];

#[test]
fn render_transcripts() {
    let bless = std::env::var_os("STRATA_BLESS").is_some();
    let cases = fixtures();
    assert!(cases.len() >= CLASSES.len(), "fixtures are missing");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let r = run(case);
        let exp = case.join("expected");
        if bless {
            std::fs::create_dir_all(&exp).unwrap();
            std::fs::write(exp.join("code"), format!("{}\n", r.code)).unwrap();
            std::fs::write(exp.join("stdout"), &r.stdout).unwrap();
            std::fs::write(exp.join("stderr"), &r.stderr).unwrap();
        }
        let read = |f: &str| std::fs::read_to_string(exp.join(f)).unwrap_or_else(|_| panic!("{name}: expected/{f} missing; run with STRATA_BLESS=1"));
        let code: i32 = read("code").trim().parse().unwrap();
        if code != r.code || read("stdout") != r.stdout || read("stderr") != r.stderr {
            failures.push(format!(
                "{name}: transcript differs\n--- expected (code {code})\n{}{}--- got (code {})\n{}{}",
                read("stdout"),
                read("stderr"),
                r.code,
                r.stdout,
                r.stderr
            ));
        }
        match CLASSES.iter().find(|(c, _, _)| *c == name) {
            None => failures.push(format!("{name}: no entry in CLASSES")),
            Some((_, want_code, says)) => {
                if r.code != *want_code {
                    failures.push(format!("{name}: exit {} instead of {want_code}\n{}", r.code, r.stderr));
                }
                for s in *says {
                    if !r.stderr.contains(s) {
                        failures.push(format!("{name}: stderr does not say `{s}`:\n{}", r.stderr));
                    }
                }
                if *want_code != 0 && !r.stdout.is_empty() {
                    failures.push(format!("{name}: partial output on stdout after an error"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
