//! The safety promises of docs/reference/limits.md, checked on the real
//! binary: arguments cannot lead outside the repository, a killed `bundle`
//! leaves nothing the next run keeps, a shared schema outside a component is an
//! input of its targets, a panic is reported as a bug, and an output the system
//! refuses is not called bad input.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use support::Strata;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/example-repo");

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every entry below `dir` but `skip` (relative paths): kind, bytes or link
/// text, and modification time.
fn snapshot(dir: &Path, skip: &Path) -> BTreeMap<PathBuf, (String, Option<SystemTime>)> {
    fn walk(root: &Path, dir: &Path, skip: &Path, out: &mut BTreeMap<PathBuf, (String, Option<SystemTime>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if rel == skip {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("link {}", std::fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                walk(root, &path, skip, out);
                "dir".to_string()
            } else {
                format!("file {:?}", std::fs::read(&path).unwrap())
            };
            out.insert(rel, (what, meta.modified().ok()));
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, skip, &mut out);
    out
}

/// A git project in a sandbox: `project/config` is example-repo, with a
/// committed change under `frontend/v3`; `project/x` looks like a version
/// directory (what `--to-version ../../x` would name), and `elsewhere/` lies
/// beside the project.
fn port_sandbox() -> (tempfile::TempDir, PathBuf) {
    let sandbox = tempfile::tempdir().unwrap();
    let project = sandbox.path().join("project");
    std::fs::create_dir(&project).unwrap();
    support::git(&project, &["init", "-q", "-b", "main"]);
    support::copy_tree(Path::new(EXAMPLE), &project.join("config"));
    support::copy_tree(&project.join("config/frontend/v2"), &project.join("x"));
    support::copy_tree(&project.join("config/frontend/v2"), &sandbox.path().join("elsewhere"));
    support::git(&project, &["add", "-A"]);
    support::git(&project, &["commit", "-q", "-m", "config"]);
    let values = project.join("config/frontend/v3/values.yaml");
    let text = std::fs::read_to_string(&values).unwrap();
    std::fs::write(&values, text.replace("cpu: 100m", "cpu: 200m")).unwrap();
    std::fs::write(project.join("config/frontend/v3/robots.txt"), "User-agent: *\n").unwrap();
    support::git(&project, &["add", "-A"]);
    support::git(&project, &["commit", "-q", "-m", "fix in v3"]);
    (sandbox, project)
}

#[test]
fn port_arguments_cannot_reach_outside_the_repository() {
    if !support::require_tool("git") {
        return;
    }
    let (sandbox, project) = port_sandbox();
    // A version directory that is a link out of the repository.
    std::os::unix::fs::symlink("../../../elsewhere", project.join("config/frontend/v9")).unwrap();
    let config = project.join("config");
    let outside = |s: &tempfile::TempDir| snapshot(s.path(), Path::new("project/config"));
    let inside = || snapshot(&config, Path::new(""));
    let (before_out, before_in) = (outside(&sandbox), inside());
    let port = |args: &[&str]| {
        let base = ["port", "--repo", "config", "--change", "HEAD"];
        Strata::in_dir(&project).env("GIT_CONFIG_NOSYSTEM", "1").run([&base[..], args].concat())
    };
    for (args, names) in [
        (&["frontend", "--from-version", "v3", "--to-version", "../../x"][..], "`--to-version` value `../../x`"),
        (&["frontend", "--from-version", "v3", "--to-version", "v2", "--to-version", "/tmp"][..], "`/tmp`"),
        (&["frontend", "--from-version", "../frontend/v3", "--to-version", "v2"][..], "`--from-version`"),
        (&["../config/frontend", "--from-version", "v3", "--to-version", "v2"][..], "`COMPONENT` value"),
        (&["frontend", "--from-version", "v3", "--to-version", "v9"][..], "link `frontend/v9` points outside"),
    ] {
        let out = port(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(names), "{args:?}: {err}");
        assert!(err.contains("hint:") || err.contains("note:"), "says how to fix it: {err}");
        assert!(outside(&sandbox) == before_out, "{args:?} touched something outside the repository");
        assert!(inside() == before_in, "{args:?} wrote into the repository");
    }
    // The same command with a real version works (and writes inside only).
    std::fs::remove_file(config.join("frontend/v9")).unwrap();
    let out = port(&["frontend", "--from-version", "v3", "--to-version", "v2"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(config.join("frontend/v2/robots.txt").exists());
    assert!(outside(&sandbox) == before_out, "a port touched something outside the repository");
}

#[test]
fn arguments_of_other_commands_are_checked_the_same_way() {
    let sandbox = tempfile::tempdir().unwrap();
    let repo = sandbox.path().join("repo");
    support::copy_tree(Path::new(EXAMPLE), &repo);
    let before = snapshot(sandbox.path(), Path::new(""));
    for (args, names) in [
        (&["version", "new", "frontend", "../../v9", "--from", "v1"][..], "`NEW` value `../../v9`"),
        (&["version", "new", "..", "v9", "--from", "v1"][..], "`COMPONENT` value `..`"),
        (&["promote", "frontend/eastus", "--to", "../v2", "--dry-run"][..], "`--to` value `../v2`"),
        (&["promote", "frontend", "--like", "../../etc", "--dry-run"][..], "`--like` value `../../etc`"),
    ] {
        let out = Strata::in_dir(&repo).run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(names), "{args:?}: {}", stderr(&out));
    }
    assert!(snapshot(sandbox.path(), Path::new("")) == before, "something was written");
}

/// Entries beside `dir` that a staging run leaves: `.NAME.tmp-…`, `.NAME.old-…`, `.NAME.lck-…`.
fn leftovers(dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap().to_str().unwrap();
    let mut v: Vec<String> = std::fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(&format!(".{name}.")))
        .collect();
    v.sort();
    v
}

#[test]
fn killed_bundles_leave_nothing_after_the_next_complete_run() {
    if !support::require_tool("python3") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(support::project_root().join("bench/gen.py"))
        .args(["--size", "small", "--out"])
        .arg(work.path().join("gen"))
        .status()
        .unwrap();
    assert!(status.success());
    let repo = work.path().join("gen/strata");
    let out = work.path().join("out/dist");
    let bundle = |dir: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_strata"));
        c.arg("bundle").arg("--repo").arg(&repo).arg("--out").arg(dir);
        c.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default()).env("NO_COLOR", "1");
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    };
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let mut killed_while_staging = 0;
    for i in 0..20 {
        let earlier = leftovers(&out);
        let mut child = bundle(&out).spawn().unwrap();
        // Wait for this run's stage to appear (or the run to end), then a little more.
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(60) {
            if leftovers(&out).iter().any(|n| n.contains(".tmp-") && !earlier.contains(n)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis((i * 7) % 40));
        let _ = child.kill(); // SIGKILL
        let finished = child.wait().unwrap().success();
        if !finished && leftovers(&out).iter().any(|n| n.contains(".tmp-")) {
            killed_while_staging += 1;
        }
    }
    assert!(killed_while_staging > 0, "no run was killed while staging: the test proves nothing");
    let status = bundle(&out).status().unwrap();
    assert!(status.success());
    assert_eq!(leftovers(&out), Vec::<String>::new(), "stages of killed runs are left");
    let fresh = work.path().join("fresh/dist");
    assert!(bundle(&fresh).status().unwrap().success());
    assert!(snapshot_bytes(&out) == snapshot_bytes(&fresh), "the bundle differs from one made from scratch");
}

fn snapshot_bytes(dir: &Path) -> BTreeMap<PathBuf, String> {
    snapshot(dir, Path::new("")).into_iter().map(|(p, (what, _))| (p, what)).collect()
}

#[test]
fn a_shared_schema_outside_the_component_is_an_input_of_its_targets() {
    if !support::require_tool("git") {
        return;
    }
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    support::git(root, &["init", "-q", "-b", "main"]);
    support::copy_tree(Path::new(EXAMPLE), root);
    let schema = r#"{"properties": {"replicas": {"$ref": "../../schemas/replicas.json"}}}"#;
    std::fs::write(root.join("frontend/v1/values.schema.json"), schema).unwrap();
    std::fs::create_dir(root.join("schemas")).unwrap();
    std::fs::write(root.join("schemas/replicas.json"), r#"{"type": "integer", "maximum": 10}"#).unwrap();
    support::git(root, &["add", "-A"]);
    support::git(root, &["commit", "-q", "-m", "shared schema"]);
    let diff = || Strata::in_dir(root).env("GIT_CONFIG_NOSYSTEM", "1").run(["diff", "--from", "HEAD", "frontend"]);
    let same = diff();
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    // frontend/eastus sets `replicas: 3`: a maximum of 2 refuses it.
    std::fs::write(root.join("schemas/replicas.json"), r#"{"type": "integer", "maximum": 2}"#).unwrap();
    let changed = diff();
    assert_eq!(changed.status.code(), Some(2), "the target is rendered again: {}", stderr(&changed));
    let err = stderr(&changed);
    assert!(err.contains("replicas") && err.contains("frontend/eastus"), "{err}");
}

#[test]
fn a_panic_is_reported_as_a_bug_with_the_version() {
    let out = Strata::in_dir(support::project_root()).env("STRATA_TEST_PANIC", "1").run(["--version"]);
    assert_eq!(out.status.code(), Some(101), "{}", stderr(&out));
    let err = stderr(&out);
    let line = format!("this is a bug in strata {}, please report it", env!("CARGO_PKG_VERSION"));
    assert!(err.contains(&line), "{err}");
    assert!(err.contains("STRATA_TEST_PANIC is set"), "Rust's own message comes first: {err}");
}

#[test]
fn an_output_the_system_refuses_exits_3_not_2() {
    if !Path::new("/dev/full").exists() {
        eprintln!("SKIPPED: an_output_the_system_refuses_exits_3_not_2 (no /dev/full)");
        return;
    }
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_strata"));
    c.args(["render", "--repo", EXAMPLE]).env_clear().env("NO_COLOR", "1").stdout(full).stderr(Stdio::piped());
    let run = c.output().unwrap();
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    assert!(stderr(&run).contains("cannot write to stdout"), "{}", stderr(&run));
    // A bad argument stays exit 2.
    let bad = support::strata(&["render", "--repo", "/nonexistent/strata-repo"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}
