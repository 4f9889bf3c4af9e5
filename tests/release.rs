//! `strata release cherry-pick` and `strata port` end to end, on git repositories
//! built here with the git CLI: a copy of `example-repo/` committed into a
//! `config/` subdirectory, tagged `v1.0`, with fixes on `main` after it.
//! Every clean pick is compared with `git cherry-pick -x` on a scratch clone
//! (the same tree id), and the work tree, index and HEAD must not change.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::Strata;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/example-repo");
const VALUES: &str = "frontend/v2/values.yaml";

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn config(&self) -> PathBuf {
        self.root().join("config")
    }

    /// Runs git in `dir` with a pinned identity and no user or system configuration.
    fn git_in(dir: &Path, args: &[&str]) -> String {
        support::git_with_author(dir, ("Ada Author", "ada@example.com"), args).trim().to_string()
    }

    fn git(&self, args: &[&str]) -> String {
        Self::git_in(self.root(), args)
    }

    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn write(&self, path: &str, content: &str) {
        let p = self.config().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.config().join(path)).unwrap()
    }

    /// `path` with `from` replaced by `to` (which must occur).
    fn edit(&self, path: &str, from: &str, to: &str) {
        let text = self.read(path);
        assert!(text.contains(from), "{path} has no `{from}`");
        self.write(path, &text.replacen(from, to, 1));
    }

    fn strata(&self, args: &[&str]) -> Output {
        Strata::in_dir(self.root()).home(self.root()).env("GIT_CONFIG_NOSYSTEM", "1").run(args)
    }

    /// Status, HEAD, index entries and the index file's mtime: none may change.
    fn state(&self) -> (String, String, String, std::time::SystemTime) {
        let mtime = std::fs::metadata(self.root().join(".git/index")).unwrap().modified().unwrap();
        (
            self.git(&["--no-optional-locks", "status", "--porcelain=v1", "--untracked-files=all"]),
            self.git(&["rev-parse", "HEAD"]),
            self.git(&["ls-files", "--stage"]),
            mtime,
        )
    }

    /// The tree `git cherry-pick -x COMMITS` makes on a branch at `onto`, in a scratch clone.
    fn git_cherry_pick_tree(&self, onto: &str, commits: &[&str]) -> String {
        let scratch = tempfile::tempdir().unwrap();
        let clone = scratch.path().join("c");
        Self::git_in(scratch.path(), &["clone", "-q", self.root().to_str().unwrap(), "c"]);
        Self::git_in(&clone, &["checkout", "-q", "-b", "scratch", onto]);
        for c in commits {
            Self::git_in(&clone, &["cherry-pick", "-x", c]);
        }
        Self::git_in(&clone, &["rev-parse", "HEAD^{tree}"])
    }
}

/// example-repo tagged `v1.0`; then on `main`: a bumped image tag (not picked),
/// the fix (a memory limit) and another fix (replicas), each in its own commit.
/// Returns the project and the ids of (bump, fix, fix2).
fn project() -> (Project, [String; 3]) {
    let p = Project { dir: tempfile::tempdir().unwrap() };
    p.git(&["init", "-q", "-b", "main"]);
    p.git(&["config", "user.name", "Rel Engineer"]);
    p.git(&["config", "user.email", "rel@example.com"]);
    support::copy_tree(Path::new(EXAMPLE), &p.config());
    p.commit("config v1.0");
    p.git(&["tag", "v1.0"]);
    p.edit(VALUES, "tag: \"1.5.2\"", "tag: \"1.6.0\"");
    let bump = p.commit("frontend 1.6.0");
    p.edit(VALUES, "memory: 128Mi", "memory: 192Mi");
    let fix = p.commit("fix: frontend memory limit");
    p.edit(VALUES, "className: nginx", "className: nginx-internal");
    let fix2 = p.commit("fix: frontend ingress class");
    (p, [bump, fix, fix2])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn file_at(p: &Project, rev: &str, path: &str) -> String {
    p.git(&["show", &format!("{rev}:config/{path}")])
}

#[test]
fn a_clean_pick_makes_the_branch_and_tag_and_matches_git() {
    if !support::require_tool("git") {
        return;
    }
    let (p, [_, fix, _]) = project();
    let before = p.state();
    let out = p.strata(&["release", "cherry-pick", &fix, "--onto", "v1.0", "--tag", "v1.1", "--repo", "config"]);
    assert_eq!(out.status.code(), Some(1), "a rendered difference: {}", stderr(&out));
    assert_eq!(p.state(), before, "work tree, index and HEAD untouched");
    // The diff: frontend/westus (on v2) gets the new limit; nothing else changes.
    let text = stdout(&out);
    assert!(text.contains("westus") && text.contains("192Mi"), "{text}");
    assert!(!text.contains("1.6.0"), "the image bump was not picked: {text}");
    assert!(stderr(&out).contains("branch `release/v1` (new at `v1.0`)"), "{}", stderr(&out));
    // The branch: one commit on v1.0, the original author, the committer from git config, `-x`'s line.
    assert_eq!(p.git(&["rev-parse", "release/v1~1"]), p.git(&["rev-parse", "v1.0"]));
    let log = p.git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", "release/v1"]);
    assert_eq!(
        log,
        format!(
            "Ada Author <ada@example.com>|Rel Engineer <rel@example.com>|fix: frontend memory limit\n\n(cherry picked from commit {fix})"
        )
    );
    assert_eq!(p.git(&["rev-parse", "v1.1"]), p.git(&["rev-parse", "release/v1"]), "a lightweight tag");
    let values = file_at(&p, "v1.1", VALUES);
    assert!(values.contains("192Mi") && values.contains("1.5.2"), "{values}");
    assert_eq!(p.git(&["rev-parse", "release/v1^{tree}"]), p.git_cherry_pick_tree("v1.0", &[&fix]));
}

#[test]
fn several_commits_an_annotated_tag_and_an_existing_branch() {
    if !support::require_tool("git") {
        return;
    }
    let (p, [bump, fix, fix2]) = project();
    let before = p.state();
    // Onto an existing branch: the picks go on its tip, `--onto` is not used.
    p.git(&["branch", "release/v1", "v1.0"]);
    let args = ["release", "cherry-pick", &fix, &fix2, "--onto", "v1.0", "--tag", "v1.1", "--message", "v1.1: fixes"];
    let out = p.strata(&[&args[..], &["--repo", "config", "--format", "json"]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["environments"].as_array().is_some_and(|e| !e.is_empty()), "{report}");
    assert_eq!(p.state(), before);
    assert_eq!(p.git(&["rev-list", "--count", "v1.0..release/v1"]), "2");
    assert_eq!(p.git(&["cat-file", "-t", "v1.1"]), "tag");
    assert_eq!(p.git(&["tag", "-l", "--format=%(contents)", "v1.1"]), "v1.1: fixes");
    assert_eq!(p.git(&["rev-parse", "release/v1^{tree}"]), p.git_cherry_pick_tree("v1.0", &[&fix, &fix2]));
    // A range, onto the new tag: `bump` alone is left, on a branch derived from `v1.1`.
    let out = p.strata(&[
        "release",
        "cherry-pick",
        &format!("{}..{bump}", "v1.0"),
        "--onto",
        "v1.1",
        "--branch",
        "release/next",
        "--repo",
        "config",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(p.git(&["rev-parse", "release/next^{tree}"]), p.git_cherry_pick_tree("v1.1", &[&bump]));
    // The same picks again: empty, refused, nothing moved.
    let tip = p.git(&["rev-parse", "release/v1"]);
    let out = p.strata(&["release", "cherry-pick", &fix, "--onto", "v1.0", "--repo", "config"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is empty"), "{}", stderr(&out));
    assert_eq!(p.git(&["rev-parse", "release/v1"]), tip);
}

#[test]
fn a_conflict_names_the_file_and_moves_nothing() {
    if !support::require_tool("git") {
        return;
    }
    let (p, _) = project();
    p.edit(VALUES, "memory: 192Mi", "memory: 256Mi");
    let conflicting = p.commit("fix: more memory");
    let before = p.state();
    let refs = p.git(&["for-each-ref"]);
    let out =
        p.strata(&["release", "cherry-pick", &conflicting, "--onto", "v1.0", "--tag", "v1.1", "--repo", "config"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("conflicts with `release/v1` in `config/frontend/v2/values.yaml`"), "{err}");
    assert!(err.contains("conflicting hunk at line 11"), "{err}");
    assert!(stdout(&out).is_empty());
    assert_eq!(p.git(&["for-each-ref"]), refs, "no reference moved");
    assert_eq!(p.state(), before);
}

#[test]
fn refusals_name_the_problem() {
    if !support::require_tool("git") {
        return;
    }
    let (p, [_, fix, _]) = project();
    let merge_base = p.git(&["rev-parse", "HEAD"]);
    p.git(&["checkout", "-q", "-b", "side", "v1.0"]);
    p.write("README-side", "x");
    p.commit("side");
    p.git(&["checkout", "-q", "main"]);
    p.git(&["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    let cases: [(&[&str], &str); 6] = [
        (&["nope", "--onto", "v1.0"], "unknown revision `nope`"),
        (&[&fix, "--onto", "v9"], "unknown revision `v9`"),
        (&["HEAD", "--onto", "v1.0"], "is a merge commit with 2 parents"),
        (&[&fix, "--onto", "v1.0", "--mainline", "1"], "is not a merge commit"),
        (&[&fix, "--onto", "main"], "cannot derive a release branch name from `main`"),
        (&[&fix, "--onto", "v1.0", "--branch", "main"], "`main` is checked out"),
    ];
    for (args, message) in cases {
        let out = p.strata(&[&["release", "cherry-pick"], args, &["--repo", "config"]].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(p.git(&["rev-parse", "HEAD^1"]), merge_base);
    // `--mainline 1` picks what the merge brought in.
    let out = p.strata(&["release", "cherry-pick", "HEAD", "--mainline", "1", "--onto", "v1.0", "--repo", "config"]);
    assert_eq!(out.status.code(), Some(0), "no rendered difference: {}", stderr(&out));
    assert_eq!(p.git(&["show", "release/v1:config/README-side"]), "x");
}

#[test]
fn dry_run_moves_nothing() {
    if !support::require_tool("git") {
        return;
    }
    let (p, [_, fix, _]) = project();
    let refs = p.git(&["for-each-ref"]);
    let out =
        p.strata(&["release", "cherry-pick", &fix, "--onto", "v1.0", "--tag", "v1.1", "--dry-run", "--repo", "config"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("192Mi"));
    assert_eq!(p.git(&["for-each-ref"]), refs);
}

// ---- strata port ----

/// A fix in `frontend/v3`: a changed CPU request, an added file, a deleted file
/// (`pdb.yaml`, identical in v2 and v3).
fn v3_fix(p: &Project) {
    p.edit("frontend/v3/values.yaml", "cpu: 100m", "cpu: 200m");
    p.write("frontend/v3/files/robots.txt", "User-agent: *\n");
    std::fs::remove_file(p.config().join("frontend/v3/pdb.yaml")).unwrap();
}

fn port(p: &Project, extra: &[&str]) -> Output {
    let args = ["port", "frontend", "--from-version", "v3", "--repo", "config"];
    p.strata(&[&args[..], extra].concat())
}

#[test]
fn port_a_commit_to_v2() {
    if !support::require_tool("git") {
        return;
    }
    let (p, _) = project();
    assert_eq!(p.read("frontend/v2/pdb.yaml"), p.read("frontend/v3/pdb.yaml"));
    v3_fix(&p);
    p.commit("fix in v3");
    let dry = port(&p, &["--to-version", "v2", "--change", "HEAD", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(1), "{}", stderr(&dry));
    assert_eq!(p.git(&["status", "--porcelain"]), "", "a dry run writes nothing");
    let out = port(&p, &["--to-version", "v2", "--change", "HEAD"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&dry));
    let values = p.read(VALUES);
    let own = values.contains("tag: \"1.6.0\"") && values.contains("memory: 192Mi");
    assert!(values.contains("cpu: 200m") && own, "merged, v2's own lines kept: {values}");
    assert_eq!(p.read("frontend/v2/files/robots.txt"), "User-agent: *\n");
    assert!(!p.config().join("frontend/v2/pdb.yaml").exists());
    // The diff: westus runs v2; its PodDisruptionBudget goes, its limit changes.
    let text = stdout(&out);
    assert!(text.contains("westus") && text.contains("200m") && text.contains("PodDisruptionBudget"), "{text}");
    assert!(!text.contains("eastus"), "eastus runs v1: {text}");
    // Porting again: already there, nothing changes, no rendered difference.
    let again = port(&p, &["--to-version", "v2", "--change", "HEAD"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stderr(&again).contains("unchanged (already has the change)"), "{}", stderr(&again));
}

#[test]
fn port_to_a_copy_of_the_old_version_gives_the_new_version() {
    if !support::require_tool("git") {
        return;
    }
    let (p, _) = project();
    support::copy_tree(&p.config().join("frontend/v3"), &p.config().join("frontend/v4"));
    p.commit("v4 = v3");
    v3_fix(&p);
    p.edit("frontend/v3/deployment.yaml", "periodSeconds: 5", "periodSeconds: 7");
    p.commit("fix in v3");
    let out = port(&p, &["--to-version", "v4", "--change", "HEAD~1..HEAD"]);
    assert_eq!(out.status.code(), Some(0), "no target uses v4: {}", stderr(&out));
    let diff = Command::new("diff")
        .arg("-r")
        .arg(p.config().join("frontend/v3"))
        .arg(p.config().join("frontend/v4"))
        .output()
        .unwrap();
    assert!(diff.status.success(), "{}", String::from_utf8_lossy(&diff.stdout));
}

#[test]
fn port_uncommitted_work_and_conflicts() {
    if !support::require_tool("git") {
        return;
    }
    let (p, _) = project();
    // v2 has its own CPU request; the v3 change to the same line conflicts.
    p.edit(VALUES, "cpu: 100m", "cpu: 150m");
    p.commit("v2 limit");
    v3_fix(&p);
    let before = p.read(VALUES);
    let out = port(&p, &["--to-version", "v2", "--uncommitted"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("frontend/v2/values.yaml:8"), "{err}");
    assert!(err.contains("conflicting hunk at line 8"), "{err}");
    assert_eq!(p.read(VALUES), before, "nothing written");
    assert!(p.config().join("frontend/v2/pdb.yaml").exists(), "nothing deleted");
    let out = port(&p, &["--to-version", "v2", "--uncommitted", "--conflict-markers"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(p.read(VALUES).contains("<<<<<<< frontend/v2"), "{}", p.read(VALUES));
    assert!(p.config().join("frontend/v2/files/robots.txt").exists());
    // Without a conflict, --uncommitted ports the work tree's change.
    p.git(&["checkout", "-q", "--", "config/frontend/v2"]);
    std::fs::remove_file(p.config().join("frontend/v2/files/robots.txt")).unwrap();
    p.edit(VALUES, "cpu: 150m", "cpu: 100m");
    p.git(&["commit", "-q", "-m", "v2 request back", "--", "config/frontend/v2"]);
    let out = port(&p, &["--to-version", "v2", "--uncommitted"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(p.read(VALUES).contains("cpu: 200m"));
    assert!(p.config().join("frontend/v2/files/robots.txt").exists());
}
