//! `--cache DIR` / `STRATA_CACHE`: the output of `bundle`, `render` and `check`
//! is byte-identical with and without the cache, cold, warm, and warm after a
//! change to one target, on example-repo and on a generated repository.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::Strata;

/// Every file below `root`: relative path → bytes.
fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// What a run shows: exit code, stdout, stderr.
fn shown(o: &Output) -> (Option<i32>, String, String) {
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// `bundle`, `render` and `check` of `repo`, with `cache` as `--cache` (or
/// `STRATA_CACHE` when `by_env`): each command's output and the bundle's files.
fn outputs(repo: &Path, cache: Option<&Path>, by_env: bool) -> Vec<String> {
    let work = tempfile::tempdir().unwrap();
    let mut run = Strata::in_dir(work.path());
    let mut flags: Vec<String> = Vec::new();
    match cache {
        Some(c) if by_env => run = run.env("STRATA_CACHE", c),
        Some(c) => flags.extend(["--cache".to_string(), c.display().to_string()]),
        None => {}
    }
    let repo = repo.display().to_string();
    let mut out = Vec::new();
    for command in [&["bundle", "--out", "out"][..], &["render"], &["check", "--format", "json"]] {
        let args: Vec<&str> = ["--repo", repo.as_str()].iter().copied().chain(command.iter().copied()).collect();
        let args = args.into_iter().map(str::to_string).chain(flags.iter().cloned());
        let o = run.run(args);
        // The bundle's summary names its directory: the same relative one every time.
        out.push(format!("{command:?}: {:?}", shown(&o)));
    }
    for (path, bytes) in files(&work.path().join("out")) {
        out.push(format!("{}: {}", path.display(), String::from_utf8_lossy(&bytes)));
    }
    out
}

fn same_with_and_without_cache(repo: &Path, change: (&str, &str)) {
    let cache = tempfile::tempdir().unwrap();
    let plain = outputs(repo, None, false);
    assert!(plain.len() > 3, "the bundle wrote files");
    assert_eq!(outputs(repo, Some(cache.path()), false), plain, "cold");
    assert!(!files(cache.path()).is_empty(), "the cache keeps entries");
    assert_eq!(outputs(repo, Some(cache.path()), true), plain, "warm, through STRATA_CACHE");
    // One target's parameters change: that target renders again, the others come from the cache.
    std::fs::write(repo.join(change.0), change.1).unwrap();
    let plain = outputs(repo, None, false);
    assert_eq!(outputs(repo, Some(cache.path()), false), plain, "warm after a change");
}

#[test]
fn example_repo_is_the_same_with_and_without_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    support::copy_tree(&support::project_root().join("example-repo"), &repo);
    let path = "frontend/staging/parameters.yaml";
    let text = std::fs::read_to_string(repo.join(path)).unwrap().replace("maxReplicas: 3", "maxReplicas: 4");
    same_with_and_without_cache(&repo, (path, &text));
}

#[test]
fn a_generated_repo_is_the_same_with_and_without_cache() {
    if !support::require_tool("python3") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new("python3")
        .arg(support::project_root().join("bench/gen.py"))
        .args(["--size", "small", "--seed", "3", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let repo = tmp.path().join("strata");
    let env = std::fs::read_dir(&repo).unwrap().flatten().map(|e| e.path()).find(|p| p.join("dev").is_dir()).unwrap();
    let change = env.join("dev/parameters.yaml");
    let text = std::fs::read_to_string(&change).unwrap_or_default() + "extra: 1\n";
    same_with_and_without_cache(&repo, (change.strip_prefix(&repo).unwrap().to_str().unwrap(), &text));
}

#[test]
fn a_bad_cache_size_is_a_usage_error() {
    let o = support::strata(&["--repo", "example-repo", "render", "--cache", "/nonexistent", "--cache-max-size", "2X"]);
    let (code, _, err) = shown(&o);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("invalid cache size `2X`"), "{err}");
}
