//! The benchmark's generator (`bench/gen.py`) keeps its promises: the same seed
//! gives the same bytes, strata renders what it writes without a warning, and
//! its kustomize overlays build the same objects as strata's targets (checked
//! with `kubectl kustomize`), so the benchmark compares equal work.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn python() -> Option<&'static str> {
    ["python3", "python"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok_and(|o| o.status.success()))
}

fn generate(out: &Path, extra: &[&str]) -> Output {
    let py = python().expect("python3 is needed to run bench/gen.py");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/gen.py");
    Command::new(py)
        .arg(script)
        .args(["--size", "small", "--seed", "7", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("runs bench/gen.py")
}

/// Every file and link below `root`: relative path → contents or `-> target`.
fn tree(root: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let ft = e.file_type().unwrap();
            if ft.is_symlink() {
                out.insert(rel, format!("-> {}", std::fs::read_link(&p).unwrap().display()));
            } else if ft.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn identity(o: &Value) -> String {
    format!("{}/{}/{}/{}", o["apiVersion"], o["kind"], o["metadata"]["namespace"], o["metadata"]["name"])
}

fn skip_without(tool: &str, probe: &mut Command) -> bool {
    if probe.output().is_ok_and(|o| o.status.success()) {
        return false;
    }
    assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "{tool} is required when CI=true");
    eprintln!("skipped: {tool} is not installed (set CI=true to make this a failure)");
    true
}

#[test]
fn same_seed_same_bytes() {
    if skip_without("python3", Command::new(python().unwrap_or("python3")).arg("--version")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for d in [&a, &b] {
        let out = generate(d, &[]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(ta.len() > 1000, "a small repository has thousands of files, found {}", ta.len());
    assert_eq!(ta, tb);
}

#[test]
fn strata_and_kustomize_build_the_same_objects() {
    if skip_without("python3", Command::new(python().unwrap_or("python3")).arg("--version"))
        || skip_without("kubectl", Command::new("kubectl").args(["version", "--client"]))
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = generate(tmp.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for env in ["dev", "prod/eastus"] {
        let render = Command::new(env!("CARGO_BIN_EXE_strata"))
            .arg("render")
            .arg("--repo")
            .arg(tmp.path().join("strata"))
            .args(["--strict", "--format", "json"])
            .arg(format!("@{env}"))
            .output()
            .unwrap();
        assert_eq!(render.status.code(), Some(0), "{}", text(&render.stderr));
        assert_eq!(text(&render.stderr), "", "no warnings");
        let ours: Vec<Value> = serde_json::from_slice(&render.stdout).unwrap();
        let built =
            Command::new("kubectl").arg("kustomize").arg(tmp.path().join("kustomize/envs").join(env)).output().unwrap();
        assert!(built.status.success(), "{}", text(&built.stderr));
        let theirs = strata::yaml::parse_documents(&text(&built.stdout)).unwrap();
        let by_id = |v: Vec<Value>| {
            v.into_iter().filter(|o| !o.is_null()).map(|o| (identity(&o), o)).collect::<BTreeMap<_, _>>()
        };
        let (ours, theirs) = (by_id(ours), by_id(theirs));
        assert_eq!(ours.len(), 20 * 5, "{env}: 20 components × 5 objects");
        assert_eq!(ours.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>(), "{env}");
        for (id, o) in &ours {
            assert_eq!(o, &theirs[id], "{env}: {id}");
        }
    }
}
