//! `strata versions`, `strata promote` and `strata version new` through the real
//! binary, on temporary repositories holding symlinks and link files.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::{Strata, copy_tree, project_root, require_tool};

const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Release.Name }}\ndata:\n  version: VERSION\n  color: \"{{ Values.color }}\"\n";

/// `web` (staging on v2 by symlink, eastus on v1 by symlink, westus on v1 by a
/// link file; v3 does not render) and `api` (eastus on v1, staging on v1 by a
/// link file), with waves `first: [staging]`, `second: [eastus, westus]`.
fn sample() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "strata.yaml",
        "rollout:\n  - name: first\n    environments: [staging]\n  - name: second\n    environments: [eastus, westus]\n",
    );
    for v in ["v1", "v2"] {
        write(&format!("web/{v}/cm.yaml"), &CONFIGMAP.replace("VERSION", v));
        write(&format!("web/{v}/values.yaml"), "color: blue\n");
    }
    write("web/v3/cm.yaml", "kind: ConfigMap\nmetadata:\n  name: {{ Values.missing.deeper }}\n");
    write("web/v3/values.yaml", "color: blue\n");
    write("api/v1/cm.yaml", &CONFIGMAP.replace("VERSION", "v1"));
    write("api/v1/values.yaml", "color: red\n");
    write("api/v2/cm.yaml", &CONFIGMAP.replace("VERSION", "v2"));
    write("api/v2/values.yaml", "color: red\n");
    write("web/westus/templates", "../v1\n");
    write("api/staging/templates", "../v1\n");
    std::fs::create_dir_all(root.join("web/staging")).unwrap();
    std::fs::create_dir_all(root.join("web/eastus")).unwrap();
    std::fs::create_dir_all(root.join("api/eastus")).unwrap();
    std::os::unix::fs::symlink("../v2", root.join("web/staging/templates")).unwrap();
    std::os::unix::fs::symlink("../v1", root.join("web/eastus/templates")).unwrap();
    std::os::unix::fs::symlink("../v1", root.join("api/eastus/templates")).unwrap();
    dir
}

fn run(root: &Path, args: &[&str]) -> Output {
    let mut full = vec!["--repo", root.to_str().unwrap()];
    full.extend(args);
    Strata::in_dir(root).run(full)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every `templates` entry under `root`: (path, "-> target" or the file's text).
fn links(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let (path, ft) = (e.path(), e.file_type().unwrap());
        let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp-"), "a temporary entry was left behind: {rel}");
        if name == "templates" && ft.is_symlink() {
            out.push((rel, format!("-> {}", std::fs::read_link(&path).unwrap().display())));
        } else if name == "templates" {
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        } else if ft.is_dir() {
            walk(root, &path, out);
        }
    }
}

#[test]
fn promote_round_trip_restores_every_link_byte_for_byte() {
    let repo = sample();
    let original = links(repo.path());
    let o = run(repo.path(), &["promote", "web", "--to", "v2"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("web/staging: already on v2"), "{}", stderr(&o));
    assert!(stdout(&o).contains("-  version: v1\n+  version: v2"), "{}", stdout(&o));
    let moved = links(repo.path());
    let get = |l: &[(String, String)], p: &str| l.iter().find(|(k, _)| k == p).unwrap().1.clone();
    assert_eq!(get(&moved, "web/eastus/templates"), "-> ../v2", "a symlink stays a symlink");
    assert_eq!(get(&moved, "web/westus/templates"), "../v2\n", "a link file stays a link file");
    let o = run(repo.path(), &["promote", "web/eastus", "web/westus", "--to", "v1"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(links(repo.path()), original);
}

#[test]
fn a_failing_render_changes_nothing() {
    let repo = sample();
    let original = links(repo.path());
    let o = run(repo.path(), &["promote", "web", "--to", "v3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("while rendering the promotion"), "{}", stderr(&o));
    assert!(stderr(&o).contains("web/v3/cm.yaml"), "{}", stderr(&o));
    assert_eq!(links(repo.path()), original);
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let repo = sample();
    let original = links(repo.path());
    let o = run(repo.path(), &["promote", "web/eastus", "--to", "v2", "--dry-run", "--stat"]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!("promote_dry_run_stat", stdout(&o));
    assert!(stderr(&o).contains("web/eastus: v1 → v2 (would repoint web/eastus/templates -> ../v2)"), "{}", stderr(&o));
    assert!(stderr(&o).contains("dry run: nothing written"));
    assert_eq!(links(repo.path()), original);
    let o = run(repo.path(), &["promote", "web/eastus", "--to", "v2", "--dry-run", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v.is_object(), "{v}");
}

#[test]
fn like_takes_the_version_of_another_environment() {
    let repo = sample();
    let o = run(repo.path(), &["promote", "@eastus", "--like", "staging"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("api/eastus: already on v1"), "{}", stderr(&o));
    let l = links(repo.path());
    assert!(l.contains(&("web/eastus/templates".into(), "-> ../v2".into())), "{l:?}");
    let o = run(repo.path(), &["promote", "web", "--like", "nowhere"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("has no target in environment `nowhere`"), "{}", stderr(&o));
}

#[test]
fn wave_limits_the_selection() {
    let repo = sample();
    let o = run(repo.path(), &["promote", "web", "--wave", "first", "--to", "v1"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let l = links(repo.path());
    assert!(l.contains(&("web/staging/templates".into(), "-> ../v1".into())), "{l:?}");
    assert!(l.contains(&("web/eastus/templates".into(), "-> ../v1".into())), "{l:?}");
    let o = run(repo.path(), &["promote", "--wave", "second", "--to", "v2"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let l = links(repo.path());
    assert!(l.contains(&("web/westus/templates".into(), "../v2\n".into())), "{l:?}");
    assert!(l.contains(&("api/eastus/templates".into(), "-> ../v2".into())), "{l:?}");
    assert!(l.contains(&("api/staging/templates".into(), "../v1\n".into())), "{l:?}");
    let o = run(repo.path(), &["promote", "web", "--wave", "third", "--to", "v1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no rollout wave named `third`"), "{}", stderr(&o));
}

#[test]
fn bad_input_is_named() {
    let repo = sample();
    let original = links(repo.path());
    for (args, message) in [
        (&["promote", "web", "--to", "v9"][..], "component `web` has no version `v9`"),
        (&["promote", "nope", "--to", "v1"][..], "selector `nope` matches no target"),
        (&["promote", "--to", "v1"][..], "needs the targets to promote"),
        (&["promote", "web", "--to", "eastus"][..], "component `web` has no version `eastus`"),
        (&["version", "new", "web", "v2", "--from", "v1"][..], "`web/v2` already exists"),
        (&["version", "new", "web", "../x", "--from", "v1"][..], "invalid `NEW` value `../x`: it contains `..`"),
        (&["version", "new", "web", "v5", "--from", "v8"][..], "component `web` has no version `v8` to copy"),
        (&["version", "new", "shop", "v5", "--from", "v1"][..], "unknown component `shop`"),
    ] {
        let o = run(repo.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
    assert_eq!(links(repo.path()), original);
}

#[test]
fn version_new_copies_and_nothing_renders_differently() {
    let repo = sample();
    std::os::unix::fs::symlink("cm.yaml", repo.path().join("web/v2/alias.txt")).unwrap();
    let before = run(repo.path(), &["render"]);
    assert_eq!(before.status.code(), Some(0), "{}", stderr(&before));
    let o = run(repo.path(), &["version", "new", "web", "v4", "--from", "v2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("created web/v4 from web/v2 (2 files, 1 links)"), "{}", stderr(&o));
    assert_eq!(std::fs::read_link(repo.path().join("web/v4/alias.txt")).unwrap(), Path::new("cm.yaml"));
    let after = run(repo.path(), &["render"]);
    assert_eq!(stdout(&before), stdout(&after));
    // Moving a target to the copy changes no rendered object: exit 0.
    let o = run(repo.path(), &["promote", "web/staging", "--to", "v4"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = run(repo.path(), &["versions", "web"]);
    assert!(stdout(&o).contains("v1 v2 v3 v4"), "{}", stdout(&o));
}

#[test]
fn versions_in_three_formats() {
    let repo = sample();
    for (format, name) in [("text", "versions_text"), ("markdown", "versions_markdown"), ("json", "versions_json")] {
        let o = run(repo.path(), &["versions", "--format", format]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        insta::assert_snapshot!(name, stdout(&o));
    }
}

#[test]
fn versions_of_the_example_repository() {
    let o = support::strata(&["versions", "--repo", "example-repo"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).lines().all(|l| l.chars().count() <= 100));
    insta::assert_snapshot!("versions_example_repo", stdout(&o));
}

fn git(dir: &Path, args: &[&str]) {
    support::git(dir, args);
}

#[test]
fn versions_moved_between_two_tags() {
    if !require_tool("git") {
        return;
    }
    let repo = sample();
    let root = repo.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "one"]);
    git(root, &["tag", "r1"]);
    let o = run(root, &["promote", "web/eastus", "api", "--to", "v2"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    git(root, &["commit", "-q", "-am", "two"]);
    git(root, &["tag", "r2"]);
    let o = run(root, &["versions", "--from", "r1", "--to", "r2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("versions_moved_text", stdout(&o));
    let o = run(root, &["versions", "--from", "r1", "--to", "r2", "--format", "json"]);
    insta::assert_snapshot!("versions_moved_json", stdout(&o));
    let o = run(root, &["versions", "--ref", "r1", "web"]);
    assert!(stdout(&o).contains("v1*"), "{}", stdout(&o));
}

#[test]
fn promote_on_a_copy_of_the_example_repository() {
    let dir = tempfile::tempdir().unwrap();
    let root: PathBuf = dir.path().join("repo");
    copy_tree(&project_root().join("example-repo"), &root);
    let dry = run(&root, &["promote", "frontend/eastus", "--to", "v2", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(1), "{}", stderr(&dry));
    assert_eq!(std::fs::read_link(root.join("frontend/eastus/templates")).unwrap(), Path::new("../v1"));
    let real = run(&root, &["promote", "frontend/eastus", "--to", "v2"]);
    assert_eq!(real.status.code(), Some(1));
    assert_eq!(stdout(&dry), stdout(&real), "the dry run announced what was done");
    assert_eq!(std::fs::read_link(root.join("frontend/eastus/templates")).unwrap(), Path::new("../v2"));
    let render = run(&root, &["render", "frontend/eastus"]);
    assert!(stdout(&render).contains("# Source: frontend/v2/ingress.yaml"), "{}", stdout(&render));
    let again = run(&root, &["promote", "frontend/eastus", "--to", "v2"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(stderr(&again).contains("frontend/eastus: already on v2"));
}
