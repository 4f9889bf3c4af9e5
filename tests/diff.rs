//! `strata diff` and `strata render --ref` end to end, on git repositories built
//! here with the git CLI: a copy of `example-repo/` committed into a `config/`
//! subdirectory of a project, with tags, branches and link changes between them.
//! The product reads them with gix; these tests also check that it never touches
//! the work tree, the index or HEAD.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;
use strata::facade::pipeline::{self, Options};
use strata::facade::repo::Repo;
use strata::facade::source::{Fs, GitRepo};
use support::Strata;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/example-repo");

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

    /// Runs git with a pinned identity and no user or system configuration.
    fn git(&self, args: &[&str]) -> String {
        support::git(self.root(), args)
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    fn write(&self, path: &str, content: &str) {
        let p = self.config().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.config().join(path)).unwrap()
    }

    fn link(&self, path: &str, target: &str) {
        let p = self.config().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&p);
        std::os::unix::fs::symlink(target, p).unwrap();
    }

    /// Runs strata in the project's top directory, `HOME` there too (see `support::Strata`).
    fn strata(&self, args: &[&str]) -> Output {
        Strata::in_dir(self.root()).home(self.root()).env("GIT_CONFIG_NOSYSTEM", "1").run(args)
    }

    /// What `git` says about the work tree, the index and HEAD: none of it may change.
    fn state(&self) -> (String, String, String, std::time::SystemTime) {
        let index = self.root().join(".git/index");
        let mtime = std::fs::metadata(index).unwrap().modified().unwrap();
        (
            // `--no-optional-locks`: git status itself must not refresh the index.
            self.git(&["--no-optional-locks", "status", "--porcelain=v1", "--untracked-files=all"]),
            self.git(&["rev-parse", "HEAD"]),
            self.git(&["ls-files", "--stage"]),
            mtime,
        )
    }
}

const SECRET_V1: &str = "staging-not-a-secret";
const SECRET_V2: &str = "rotated-staging-value";

/// The project: `v1` is example-repo as it is; `v2` (an annotated tag on `main`)
/// repoints `frontend/eastus` from v1 to v2, rotates the staging API secret, drops
/// `database/westus` and adds a `frontend/westeu` target.
fn project() -> Project {
    let p = Project { dir: tempfile::tempdir().unwrap() };
    p.git(&["init", "-q", "-b", "main"]);
    std::fs::write(p.root().join("README.md"), "the project; its configuration is in config/\n").unwrap();
    support::copy_tree(Path::new(EXAMPLE), &p.config());
    let params = p.read("api/staging/parameters.yaml");
    assert!(params.contains(SECRET_V1), "example-repo's staging API secret changed; update this test");
    p.commit("config v1");
    p.git(&["tag", "v1"]);

    assert_eq!(std::fs::read_link(p.config().join("frontend/eastus/templates")).unwrap(), Path::new("../v1"));
    p.link("frontend/eastus/templates", "../v2");
    p.write("api/staging/parameters.yaml", &params.replace(SECRET_V1, SECRET_V2));
    std::fs::remove_dir_all(p.config().join("database/westus")).unwrap();
    p.link("frontend/westeu/templates", "../v1");
    p.commit("config v2");
    p.git(&["tag", "-a", "-m", "release 2", "v2"]);
    p
}

/// Renders the configuration at a revision through the library, per (environment, address, id).
fn render_at(p: &Project, rev: &str) -> BTreeMap<(String, String, String), Value> {
    let git = GitRepo::discover(&p.config()).unwrap();
    let repo = Repo::load(Fs::new(Arc::new(git.source(&git.resolve(rev).unwrap()).unwrap()))).unwrap();
    let targets: Vec<_> = repo.targets().collect();
    let out = pipeline::compile(&repo, &targets, &Options::default()).unwrap();
    out.resources()
        .map(|(t, r)| ((t.target.environment.clone(), t.target.address(), r.id.to_string()), r.body.clone()))
        .collect()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// (environment, address, id) → status, from a JSON report.
fn statuses(report: &Value) -> BTreeMap<(String, String, String), String> {
    let mut out = BTreeMap::new();
    for env in report["environments"].as_array().unwrap() {
        for t in env["targets"].as_array().unwrap() {
            for r in t["resources"].as_array().unwrap() {
                out.insert(
                    (
                        env["environment"].as_str().unwrap().to_string(),
                        t["address"].as_str().unwrap().to_string(),
                        r["id"].as_str().unwrap().to_string(),
                    ),
                    r["status"].as_str().unwrap().to_string(),
                );
            }
        }
    }
    out
}

#[test]
fn two_tags_report_exactly_the_changed_resources() {
    let p = project();
    let out = p.strata(&["--repo", "config", "diff", "--from", "v1", "--to", "v2", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);

    // The oracle: both revisions rendered independently, compared by identity here.
    let (before, after) = (render_at(&p, "v1"), render_at(&p, "v2"));
    let mut expected = BTreeMap::new();
    for (k, b) in &before {
        match after.get(k) {
            None => expected.insert(k.clone(), "removed".to_string()),
            Some(a) if a != b => expected.insert(k.clone(), "changed".to_string()),
            Some(_) => None,
        };
    }
    for k in after.keys().filter(|k| !before.contains_key(*k)) {
        expected.insert(k.clone(), "added".to_string());
    }
    assert_eq!(statuses(&report), expected);

    // And what that means for this change, concretely.
    let key = |e: &str, a: &str, id: &str| (e.to_string(), a.to_string(), id.to_string());
    let got = statuses(&report);
    assert_eq!(got[&key("eastus", "frontend/eastus", "apps/Deployment/web/frontend")], "changed");
    assert_eq!(got[&key("staging", "api/staging", "Secret/shop/api-credentials")], "changed");
    assert!(got.iter().any(|((e, a, _), s)| e == "westus" && a == "database/westus" && s == "removed"));
    assert!(got.iter().any(|((e, a, _), s)| e == "westeu" && a == "frontend/westeu" && s == "added"));
    let unchanged_envs: Vec<&str> = report["environments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["differs"] == false)
        .map(|e| e["environment"].as_str().unwrap())
        .collect();
    assert_eq!(unchanged_envs, ["prod/westus"]);
    let target = |addr: &str| -> Value {
        report["environments"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["targets"].as_array().unwrap().clone())
            .find(|t| t["address"] == addr)
            .unwrap()
    };
    let east = target("frontend/eastus");
    assert_eq!((east["from_version"].as_str(), east["to_version"].as_str()), (Some("v1"), Some("v2")));
    assert_eq!(target("database/westus")["status"], "removed");
    assert_eq!(target("frontend/westeu")["status"], "added");
    assert_eq!(report["from"]["label"], "v1");
    assert_eq!(report["from"]["commit"].as_str().unwrap(), p.git(&["rev-parse", "v1^{commit}"]).trim());
    assert_eq!(report["to"]["commit"].as_str().unwrap(), p.git(&["rev-parse", "v2^{commit}"]).trim());
}

#[test]
fn secret_values_are_masked_in_every_format_unless_asked() {
    let p = project();
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    for format in ["text", "markdown", "json"] {
        let out =
            p.strata(&["--repo", "config", "diff", "api/staging", "--from", "v1", "--to", "v2", "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let text = stdout(&out) + &stderr(&out);
        for leak in [SECRET_V1, SECRET_V2, &b64(SECRET_V1), &b64(SECRET_V2)] {
            assert!(!text.contains(leak), "{format} shows `{leak}`:\n{text}");
        }
        let (before, after) = if format == "json" {
            (r"-  database-password: '*** (before)'\n", r"+  database-password: '*** (after)'\n")
        } else {
            ("-  database-password: '*** (before)'\n", "+  database-password: '*** (after)'\n")
        };
        assert!(text.contains(before) && text.contains(after), "{format}:\n{text}");
    }
    let shown = p.strata(&["--repo", "config", "diff", "api/staging", "--from", "v1", "--to", "v2", "--show-secrets"]);
    let text = stdout(&shown);
    assert!(text.contains(&format!("-  database-password: {}\n", b64(SECRET_V1))), "{text}");
    assert!(text.contains(&format!("+  database-password: {}\n", b64(SECRET_V2))), "{text}");
}

#[test]
fn exit_codes_follow_diff() {
    let p = project();
    let same = p.strata(&["--repo", "config", "diff", "--from", "v2", "--to", "main"]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert!(stdout(&same).contains("0 of 5 environments differ"), "{}", stdout(&same));
    let clean_worktree = p.strata(&["--repo", "config", "diff", "--from", "HEAD"]);
    assert_eq!(clean_worktree.status.code(), Some(0), "{}", stderr(&clean_worktree));
    let differ = p.strata(&["--repo", "config", "diff", "--from", "HEAD~1"]);
    assert_eq!(differ.status.code(), Some(1), "{}", stderr(&differ));

    let unknown = p.strata(&["--repo", "config", "diff", "--from", "v9"]);
    assert_eq!(unknown.status.code(), Some(2));
    let err = stderr(&unknown);
    assert!(err.contains("error: unknown revision `v9`") && err.contains("git fetch"), "{err}");
    assert!(err.contains("given as `--from v9`"), "{err}");
    assert!(unknown.stdout.is_empty());
    let unknown_to = p.strata(&["--repo", "config", "diff", "--from", "v1", "--to", "nope"]);
    assert_eq!(unknown_to.status.code(), Some(2));
    assert!(stderr(&unknown_to).contains("unknown revision `nope`"), "{}", stderr(&unknown_to));

    let none = p.strata(&["--repo", "config", "diff"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("needs a revision to compare from"), "{}", stderr(&none));
    let both = p.strata(&["--repo", "config", "diff", "--from", "v1", "--base", "main"]);
    assert_eq!(both.status.code(), Some(2), "clap rejects --from with --base");
}

#[test]
fn a_render_failure_names_the_side() {
    let p = project();
    p.write("api/v2/broken.yaml", "x: {{ Values.notSet }}\n");
    p.commit("broken");
    p.git(&["tag", "broken"]);
    p.git(&["rm", "-q", "config/api/v2/broken.yaml"]);
    p.commit("fixed");

    let from = p.strata(&["--repo", "config", "diff", "--from", "broken"]);
    assert_eq!(from.status.code(), Some(2));
    let err = stderr(&from);
    assert!(err.contains("error: while rendering --from broken: undefined value `Values.notSet`"), "{err}");
    assert!(err.contains("--> api/v2/broken.yaml:1:7"), "paths are relative to the configuration root: {err}");
    assert!(from.stdout.is_empty());

    let to = p.strata(&["--repo", "config", "diff", "--from", "v2", "--to", "broken"]);
    assert_eq!(to.status.code(), Some(2));
    assert!(stderr(&to).contains("while rendering --to broken: undefined value"), "{}", stderr(&to));

    p.write("api/v2/broken.yaml", "x: {{ Values.notSet }}\n");
    let worktree = p.strata(&["--repo", "config", "diff", "--from", "v2"]);
    assert_eq!(worktree.status.code(), Some(2));
    assert!(stderr(&worktree).contains("while rendering the work tree: undefined value"), "{}", stderr(&worktree));
}

#[test]
fn the_work_tree_index_and_head_are_untouched() {
    let p = project();
    // A messy work tree: a staged change, an unstaged change, an untracked file.
    p.write("frontend/eastus/parameters.yaml", "replicas: 5\n");
    p.git(&["add", "config/frontend/eastus/parameters.yaml"]);
    p.write("frontend/staging/parameters.yaml", &(p.read("frontend/staging/parameters.yaml") + "\n# unstaged\n"));
    p.write("api/v1/notes.txt", "untracked\n");
    let before = p.state();
    std::thread::sleep(std::time::Duration::from_millis(20));
    for args in [
        &["--repo", "config", "diff", "--from", "v1", "--to", "v2"][..],
        &["--repo", "config", "diff", "--from", "v1"],
        &["--repo", "config", "diff", "--base", "v1", "--format", "markdown"],
        &["--repo", "config", "render", "--ref", "v1"],
    ] {
        let out = p.strata(args);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}: {}", stderr(&out));
        assert_eq!(p.state(), before, "after {args:?}");
    }
    // The work tree side sees the uncommitted change and says so.
    let out = p.strata(&["--repo", "config", "diff", "frontend/eastus", "--from", "HEAD"]);
    let text = stdout(&out);
    assert!(text.contains("→ work tree (") && text.contains("uncommitted changes)"), "{text}");
    assert!(text.contains("-  replicas: 3\n+  replicas: 5\n"), "{text}");
}

#[test]
fn base_compares_from_the_merge_base_like_a_pull_request() {
    let p = project();
    // A feature branch from v1: main has moved on to v2 since.
    p.git(&["checkout", "-q", "-b", "feature", "v1"]);
    p.write("api/eastus/parameters.yaml", "replicas: 4\n");
    p.commit("scale api in eastus");
    let out = p.strata(&["--repo", "config", "diff", "--base", "main", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["from"]["label"], "merge-base(main, HEAD)");
    assert_eq!(report["from"]["commit"].as_str().unwrap(), p.git(&["rev-parse", "v1"]).trim());
    let got = statuses(&report);
    // Only the branch's own change, none of main's.
    assert_eq!(got.len(), 1, "{got:?}");
    let ((env, addr, id), status) = got.into_iter().next().unwrap();
    assert_eq!(
        (env.as_str(), addr.as_str(), id.as_str(), status.as_str()),
        ("eastus", "api/eastus", "apps/Deployment/shop/api", "changed")
    );
}

#[test]
fn stat_and_name_only_are_for_ci() {
    let p = project();
    let names = p.strata(&["--repo", "config", "diff", "--from", "v1", "--to", "v2", "--name-only"]);
    assert_eq!(names.status.code(), Some(1));
    assert_eq!(stdout(&names), "eastus\nstaging\nwesteu\nwestus\n");
    let stat = p.strata(&["--repo", "config", "diff", "--from", "v1", "--to", "v2", "--stat"]);
    assert_eq!(stat.status.code(), Some(1));
    let text = stdout(&stat);
    assert!(text.contains("  target frontend/eastus (v1 → v2): 2 added, 3 changed\n"), "{text}");
    assert!(text.contains("  target database/westus (removed, v1): "), "{text}");
    assert!(!text.contains("@@"), "no diffs with --stat: {text}");
    let none = p.strata(&["--repo", "config", "diff", "--from", "v2", "--to", "main", "--name-only"]);
    assert_eq!((none.status.code(), stdout(&none).as_str()), (Some(0), ""));
    // Selectors apply to both sides; one that matches on one side only is fine.
    let westeu = p.strata(&["--repo", "config", "diff", "@westeu", "--from", "v1", "--to", "v2", "--name-only"]);
    assert_eq!(stdout(&westeu), "westeu\n");
    let nothing = p.strata(&["--repo", "config", "diff", "@mars", "--from", "v1", "--to", "v2"]);
    assert_eq!(nothing.status.code(), Some(2));
    assert!(stderr(&nothing).contains("selector `@mars` matches no target on either side"));
}

#[test]
fn markdown_is_a_pull_request_comment() {
    let p = project();
    let out = p.strata(&["--repo", "config", "diff", "--from", "v1", "--to", "v2", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1));
    let md = stdout(&out);
    assert!(md.starts_with("### strata diff: `v1 ("), "{md}");
    assert!(md.contains("| Environment | Target | Version | Added | Removed | Changed | Unchanged |"), "{md}");
    assert!(md.contains("| eastus | frontend/eastus | v1 → v2 | 2 | 0 | 3 | 0 |"), "{md}");
    assert!(md.contains("<details><summary><code>frontend/eastus</code>: 2 added, 3 changed</summary>"), "{md}");
    assert!(md.contains("```diff\n"), "{md}");
    assert!(md.len() < 60_000);
}

#[test]
fn render_ref_reads_revisions_like_a_checkout_would() {
    let p = project();
    // The oracle: `git archive` of the revision, rendered as a plain directory.
    for rev in ["v1", "v2", "HEAD~1", "main"] {
        let extracted = tempfile::tempdir().unwrap();
        let archive = Command::new("git")
            .current_dir(p.root())
            .args(["archive", "--format=tar", rev, "config"])
            .output()
            .unwrap();
        assert!(archive.status.success());
        let mut tar = Command::new("tar")
            .args(["-x", "-C"])
            .arg(extracted.path())
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        tar.stdin.take().unwrap().write_all(&archive.stdout).unwrap();
        assert!(tar.wait().unwrap().success());

        let from_git = p.strata(&["--repo", "config", "render", "--ref", rev]);
        assert_eq!(from_git.status.code(), Some(0), "{rev}: {}", stderr(&from_git));
        let plain = p.strata(&["--repo", extracted.path().join("config").to_str().unwrap(), "render"]);
        assert_eq!(plain.status.code(), Some(0), "{rev}: {}", stderr(&plain));
        assert_eq!(stdout(&from_git), stdout(&plain), "{rev}");

        // `bundle --ref` writes the same files as bundling the extracted tree;
        // only index.json's source (commit, ref) differs.
        let out = tempfile::tempdir().unwrap();
        let (a, b) = (out.path().join("a"), out.path().join("b"));
        let bundled = p.strata(&["--repo", "config", "bundle", "--ref", rev, "--out", a.to_str().unwrap()]);
        assert_eq!(bundled.status.code(), Some(0), "{rev}: {}", stderr(&bundled));
        let plain_dir = extracted.path().join("config");
        let bundled_plain = p.strata(&["--repo", plain_dir.to_str().unwrap(), "bundle", "--out", b.to_str().unwrap()]);
        assert_eq!(bundled_plain.status.code(), Some(0), "{rev}: {}", stderr(&bundled_plain));
        let files = |d: &std::path::Path| -> Vec<(String, Vec<u8>)> {
            let mut v = Vec::new();
            let mut stack = vec![d.to_path_buf()];
            while let Some(dir) = stack.pop() {
                for e in std::fs::read_dir(&dir).unwrap() {
                    let e = e.unwrap().path();
                    if e.is_dir() {
                        stack.push(e);
                    } else if e.file_name().unwrap() != "index.json" {
                        v.push((e.strip_prefix(d).unwrap().display().to_string(), std::fs::read(&e).unwrap()));
                    }
                }
            }
            v.sort();
            v
        };
        let (fa, fb) = (files(&a), files(&b));
        assert!(!fa.is_empty());
        assert_eq!(fa, fb, "{rev}: bundle --ref differs from the bundle of the extracted tree");
        let index: serde_json::Value = serde_json::from_slice(&std::fs::read(a.join("index.json")).unwrap()).unwrap();
        assert_eq!(index["source"]["dirty"], false);
        assert_eq!(index["source"]["commit"].as_str().map(str::len), Some(40), "{index}");
    }
    // The link change between the tags, through `render --ref`.
    let v1 = stdout(&p.strata(&["--repo", "config", "render", "--ref", "v1", "frontend/eastus"]));
    let v2 = stdout(&p.strata(&["--repo", "config", "render", "--ref", "v2", "frontend/eastus"]));
    assert!(v1.contains("# Source: frontend/v1/deployment.yaml") && !v1.contains("frontend/v2/"), "{v1}");
    assert!(v2.contains("# Source: frontend/v2/deployment.yaml"), "{v2}");
    let branch = p.strata(&["--repo", "config", "render", "--ref", "nope"]);
    assert_eq!(branch.status.code(), Some(2));
    assert!(stderr(&branch).contains("unknown revision `nope`"));
}

#[test]
fn a_link_to_a_version_that_leaves_the_root_is_caught_at_a_revision_too() {
    let p = project();
    // Inside the git repository but outside the configuration root: still refused.
    std::fs::create_dir_all(p.root().join("elsewhere/v1")).unwrap();
    std::fs::write(p.root().join("elsewhere/v1/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
        .unwrap();
    p.link("frontend/eastus/templates", "../../../elsewhere/v1");
    p.commit("escape");
    let out = p.strata(&["--repo", "config", "render", "--ref", "HEAD"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("link `frontend/eastus/templates` points outside the repository"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn only_the_revisions_objects_are_read_not_the_work_tree() {
    let p = project();
    let at_v1 = render_at(&p, "v1");
    // Break the work tree badly: rendering a revision must not notice.
    std::fs::remove_dir_all(p.config().join("frontend")).unwrap();
    p.write("strata.yaml", "not: [valid\n");
    assert_eq!(render_at(&p, "v1"), at_v1);
    let envs: BTreeSet<&str> = at_v1.keys().map(|(e, _, _)| e.as_str()).collect();
    assert_eq!(envs.len(), 4, "{envs:?}");
}

/// The work follows the change: targets whose inputs are identical on both sides
/// are counted, not rendered. A template broken on both sides proves it: the
/// diff of an unrelated change succeeds, while `--strict` renders everything.
#[test]
fn identical_targets_are_counted_not_rendered() {
    let p = project();
    p.write("database/v1/broken.yaml", "x: {{ Values.notSet }}\n");
    p.commit("database broken");
    p.git(&["tag", "broken-before"]);
    p.link("frontend/eastus/templates", "../v1");
    p.commit("frontend/eastus back to v1");
    p.git(&["tag", "broken-after"]);

    let out =
        p.strata(&["--repo", "config", "diff", "--from", "broken-before", "--to", "broken-after", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let changed: BTreeSet<String> = statuses(&report).keys().map(|(_, address, _)| address.clone()).collect();
    assert_eq!(changed, BTreeSet::from(["frontend/eastus".to_string()]));
    let rendered: Vec<String> = report["environments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["targets"].as_array().unwrap().iter().map(|t| t["address"].as_str().unwrap().to_string()))
        .collect();
    assert!(rendered.iter().all(|a| a.starts_with("frontend/")), "only the changed component renders: {rendered:?}");
    let identical = report["identical_targets"].as_u64().unwrap();
    assert!(
        identical > 0 && report["environments"].as_array().unwrap().iter().all(|e| e["identical_targets"].is_u64())
    );

    let text = stdout(&p.strata(&["--repo", "config", "diff", "--from", "broken-before", "--to", "broken-after"]));
    assert!(text.contains(&format!("; {identical} targets with identical inputs\n")), "{text}");

    let strict = p.strata(&["--repo", "config", "diff", "--from", "broken-before", "--to", "broken-after", "--strict"]);
    assert_eq!(strict.status.code(), Some(2), "--strict renders every target: {}", stderr(&strict));
    assert!(stderr(&strict).contains("undefined value `Values.notSet`"), "{}", stderr(&strict));
}

/// `strata render` of one component skips the work tree's git status only when
/// nothing it renders can read `Repo`: a template that prints `Repo.Dirty` still
/// sees uncommitted changes.
#[test]
fn render_of_one_target_still_sees_a_dirty_work_tree() {
    let p = project();
    p.write("frontend/v2/repo.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: repo\ndata:\n  dirty: '{{ Repo.Dirty }}'\n  commit: '{{ Repo.Commit }}'\n");
    p.commit("a template that reads Repo");
    let head = p.git(&["rev-parse", "HEAD"]).trim().to_string();
    let value = |out: &Output| -> Value {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
        json(out).as_array().unwrap().iter().find(|o| o["metadata"]["name"] == "repo").unwrap()["data"].clone()
    };
    let clean = p.strata(&["--repo", "config", "render", "frontend/eastus", "--format", "json"]);
    assert_eq!(value(&clean), serde_json::json!({"dirty": "False", "commit": head}));
    p.write("api/v2/new.yaml", "# uncommitted, in another component\n");
    let dirty = p.strata(&["--repo", "config", "render", "frontend/eastus", "--format", "json"]);
    assert_eq!(value(&dirty), serde_json::json!({"dirty": "True", "commit": head}));
}
