//! The benchmark's generator (`bench/gen.py`) keeps its promises: the same seed
//! gives the same bytes, strata renders what it writes without a warning, and
//! its kustomize overlays build the same objects as strata's targets (checked
//! with `kubectl kustomize`), so the benchmark compares equal work.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::Strata;

fn generate(out: &Path, extra: &[&str]) -> Output {
    let script = support::project_root().join("bench/gen.py");
    Command::new("python3")
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

#[test]
fn same_seed_same_bytes() {
    if !support::require_tool("python3") {
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
    if !support::require_tool("python3") || !support::require_tool("kubectl") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = generate(tmp.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for env in ["dev", "prod/eastus"] {
        let render = Strata::in_dir(tmp.path()).run([
            "render",
            "--repo",
            "strata",
            "--strict",
            "--format",
            "json",
            &format!("@{env}"),
        ]);
        assert_eq!(render.status.code(), Some(0), "{}", text(&render.stderr));
        assert_eq!(text(&render.stderr), "", "no warnings");
        let ours: Vec<Value> = serde_json::from_slice(&render.stdout).unwrap();
        let built =
            Command::new("kubectl").arg("kustomize").arg(tmp.path().join("kustomize/envs").join(env)).output().unwrap();
        assert!(built.status.success(), "{}", text(&built.stderr));
        let theirs = strata::facade::yaml::parse_documents(&text(&built.stdout)).unwrap();
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
