//! `strata hydrate` end to end, through the real binary, on a git copy of
//! `example-repo/`: branches whose trees are `strata bundle`'s files byte for
//! byte, no commit when nothing changed, stale files removed, an atomic push
//! to a loopback `git daemon` (a pre-receive hook logs every update, and can
//! refuse one branch), `kill -9` at random moments, signed commits checked by
//! `git verify-commit`.

mod support;

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::Strata;

const ENVIRONMENTS: [&str; 4] = ["eastus", "prod/westus", "staging", "westus"];
/// Written by hydrate beside the bundle's files.
const BOOKKEEPING: [&str; 2] = ["README.md", "hydrator.metadata"];

/// A git copy of `example-repo/` (one commit on `main`), with an identity in its config.
struct Source {
    dir: tempfile::TempDir,
}

impl Source {
    fn new() -> Source {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("src");
        support::copy_tree(&support::project_root().join("example-repo"), &root);
        let s = Source { dir };
        s.git(&["init", "-q", "-b", "main"]);
        s.git(&["config", "user.name", "Hydra Bot"]);
        s.git(&["config", "user.email", "hydra@example.com"]);
        s.commit("first: the example repository");
        s
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("src")
    }

    fn git(&self, args: &[&str]) -> String {
        support::git(&self.root(), args).trim().to_string()
    }

    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn strata(&self, args: &[&str]) -> Output {
        Strata::in_dir(self.root()).run(args)
    }

    fn hydrate(&self, args: &[&str]) -> Output {
        let mut all = vec!["hydrate"];
        all.extend_from_slice(args);
        let out = self.strata(&all);
        assert!(out.status.success(), "strata hydrate {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// `strata bundle --ref REV @ENV` into a fresh directory: its files.
    fn bundle(&self, rev: &str, env: &str) -> BTreeMap<String, Vec<u8>> {
        let out_dir = self.dir.path().join(format!("bundle-{}", env.replace('/', "-")));
        let _ = std::fs::remove_dir_all(&out_dir);
        let out = self.strata(&["bundle", "--ref", rev, "--out", out_dir.to_str().unwrap(), &format!("@{env}")]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        support::files_under(&out_dir)
    }
}

/// Every file of `rev`'s tree in the repository at `repo`, by path.
fn tree(repo: &Path, rev: &str) -> BTreeMap<String, Vec<u8>> {
    let list = support::git(repo, &["ls-tree", "-r", "-z", "--format=%(objectname) %(path)", rev]);
    list.split('\0')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (id, path) = l.split_once(' ').unwrap();
            let bytes = Command::new("git").arg("-C").arg(repo).args(["cat-file", "blob", id]).output().unwrap().stdout;
            (path.to_string(), bytes)
        })
        .collect()
}

/// `tree` without hydrate's bookkeeping files.
fn bundle_part(mut files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    for b in BOOKKEEPING {
        assert!(files.remove(b).is_some(), "{b} missing");
    }
    files
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A bare repository served read-write by `git daemon` on loopback, with a
/// pre-receive hook that logs every update and refuses those to the branches
/// listed in `refuse` (one per line).
struct Daemon {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

impl Daemon {
    fn start() -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let bare = dir.path().join("remote.git");
        support::git(dir.path(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
        let hook = bare.join("hooks/pre-receive");
        let script = format!(
            "#!/bin/sh\nstatus=0\nwhile read old new ref; do\n  echo \"$old $new $ref\" >> {log}\n  \
             if grep -qx \"$ref\" {refuse} 2>/dev/null; then echo \"refusing $ref\" >&2; status=1; fi\ndone\nexit $status\n",
            log = dir.path().join("updates.log").display(),
            refuse = dir.path().join("refuse").display(),
        );
        std::fs::write(&hook, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        // git daemon cannot listen on port 0: take a free port from the system, then give it to the daemon.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("git")
            .args(["daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", dir.path().display()))
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "git daemon did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Daemon { dir, child, port }
    }

    fn url(&self) -> String {
        format!("git://127.0.0.1:{}/remote.git", self.port)
    }

    fn bare(&self) -> PathBuf {
        self.dir.path().join("remote.git")
    }

    /// `refs/heads/...` → commit, as the remote has them.
    fn heads(&self) -> BTreeMap<String, String> {
        let list = support::git(&self.bare(), &["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/"]);
        list.lines().filter_map(|l| l.split_once(' ')).map(|(r, id)| (r.to_string(), id.to_string())).collect()
    }

    /// The updates of `refs/heads/env/*` the hook saw.
    fn log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("updates.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" refs/heads/env/"))
            .map(str::to_string)
            .collect()
    }

    fn refuse(&self, refs: &[&str]) {
        std::fs::write(self.dir.path().join("refuse"), refs.join("\n") + "\n").unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The documents of a hydrated branch's YAML files (index.json aside), as a sorted list.
fn documents(files: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut docs: Vec<String> = files
        .iter()
        .filter(|(p, _)| p.ends_with(".yaml"))
        .flat_map(|(_, b)| {
            String::from_utf8_lossy(b).split("---\n").filter(|d| !d.is_empty()).map(str::to_string).collect::<Vec<_>>()
        })
        .collect();
    docs.sort();
    docs
}

#[test]
fn hydrate_push_to_a_loopback_daemon_end_to_end() {
    if !support::require_tool("git") {
        return;
    }
    let daemon = Daemon::start();
    let src = Source::new();
    src.git(&["remote", "add", "origin", &daemon.url()]);
    src.git(&["push", "-q", "origin", "main"]);
    let head = src.git(&["rev-parse", "HEAD"]);

    // First run: four branches, pushed in one atomic push.
    let out = src.hydrate(&["--push", "origin"]);
    assert!(stderr(&out).contains("pushed to `origin`"), "{}", stderr(&out));
    let heads = daemon.heads();
    for env in ENVIRONMENTS {
        let branch = format!("env/{env}");
        let files = tree(&src.root(), &branch);
        assert_eq!(bundle_part(files.clone()), src.bundle(&head, env), "{branch} differs from `strata bundle`");
        let local = src.git(&["rev-parse", &branch]);
        assert_eq!(heads.get(&format!("refs/heads/{branch}")), Some(&local), "{branch} on the remote");
        // Traceable: trailers, metadata, the source commit named.
        let message = src.git(&["log", "-1", "--format=%B", &branch]);
        assert!(message.contains(&format!("Argocd-reference-commit-sha: {head}")), "{message}");
        assert!(message.starts_with(&format!("{}: first: the example repository", &head[..12])), "{message}");
        let meta: serde_json::Value = serde_json::from_slice(&files["hydrator.metadata"]).unwrap();
        assert_eq!(meta["drySha"], head.as_str());
        assert_eq!(meta["repoURL"], daemon.url().as_str());
    }
    let pushed = daemon.log();
    assert_eq!(pushed.len(), 4, "one pre-receive run with four updates: {pushed:?}");

    // Second run: nothing changes, nothing is committed or pushed.
    let tips: Vec<String> = ENVIRONMENTS.iter().map(|e| src.git(&["rev-parse", &format!("env/{e}")])).collect();
    let out = src.hydrate(&["--push", "origin"]);
    assert_eq!(stderr(&out).matches(": unchanged (hydrated from this commit already)").count(), 4, "{}", stderr(&out));
    let again: Vec<String> = ENVIRONMENTS.iter().map(|e| src.git(&["rev-parse", &format!("env/{e}")])).collect();
    assert_eq!(tips, again);
    assert_eq!(daemon.log().len(), 4, "no second push");

    // Removing frontend/eastus removes exactly its objects from env/eastus, and touches no other branch.
    let before = tree(&src.root(), "env/eastus");
    src.git(&["rm", "-rq", "frontend/eastus"]);
    let second = src.commit("drop frontend from eastus");
    let out = src.hydrate(&["--push", "origin"]);
    assert_eq!(stderr(&out).matches(": unchanged").count(), 3, "{}", stderr(&out));
    let after = tree(&src.root(), "env/eastus");
    assert_eq!(bundle_part(after.clone()), src.bundle(&second, "eastus"));
    let gone: Vec<String> =
        documents(&before).into_iter().filter(|d| !d.contains("# Target: frontend/eastus\n")).collect();
    assert!(gone.len() < documents(&before).len(), "frontend/eastus had objects in env/eastus");
    assert_eq!(documents(&after), gone, "exactly frontend/eastus's documents are gone");
    assert_eq!(src.git(&["rev-parse", "env/eastus~1"]), tips[0], "the parent is the old tip");
    assert_eq!(daemon.heads()["refs/heads/env/eastus"], src.git(&["rev-parse", "env/eastus"]));
    // The note on every tip names the new source commit, changed or not (no lagging bookkeeping).
    for env in ENVIRONMENTS {
        let note = src.git(&["notes", "--ref=hydrator.metadata", "show", &format!("env/{env}")]);
        let note: serde_json::Value = serde_json::from_str(&note).unwrap();
        assert_eq!(note["drySha"], second.as_str(), "{env}");
    }

    // A push refused for one branch moves none on the remote.
    daemon.refuse(&["refs/heads/env/westus"]);
    let remote_before = daemon.heads();
    touch_every_environment(&src);
    src.commit("change every environment");
    let out = src.strata(&["hydrate", "--push", "origin"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no branch moved on `origin`"), "{}", stderr(&out));
    assert_eq!(daemon.heads(), remote_before, "an atomic push moves all or nothing");
    assert_eq!(daemon.log().len(), 5 + 4, "the refused push reached the hook: {:?}", daemon.log());
}

/// A change every environment renders: the repository label `tracking` puts on every object.
fn touch_every_environment(src: &Source) {
    let strata_yaml = src.root().join("strata.yaml");
    let text = std::fs::read_to_string(&strata_yaml).unwrap();
    assert!(text.contains("  repository: example-repo\n"));
    std::fs::write(&strata_yaml, text.replace("  repository: example-repo\n", "  repository: example-shop\n")).unwrap();
}

/// The tree id of each environment's branch (`None` when it does not exist).
fn branch_trees(src: &Source) -> Vec<Option<String>> {
    ENVIRONMENTS
        .iter()
        .map(|e| {
            let out = Command::new("git")
                .arg("-C")
                .arg(src.root())
                .args(["rev-parse", "--verify", "-q", &format!("refs/heads/env/{e}^{{tree}}")])
                .output()
                .unwrap();
            out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
        .collect()
}

#[test]
fn killed_runs_leave_old_or_new_trees_and_the_next_run_finishes() {
    let src = Source::new();
    let first = src.git(&["rev-parse", "HEAD"]);
    let started = Instant::now();
    src.hydrate(&["--ref", &first]);
    let run_time = started.elapsed();
    let old = branch_trees(&src);
    touch_every_environment(&src);
    let second = src.commit("change every environment");

    // kill -9 at spread-out moments of a run (a fixed pseudo-random sequence); the runs
    // alternate between the two revisions, so that each one has branches to move.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut seen = Vec::new();
    let home = tempfile::tempdir().unwrap();
    for i in 0..20 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = run_time.mul_f64((seed >> 33) as f64 / (1u64 << 31) as f64 * 1.2);
        let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(["hydrate", "--ref", if i % 2 == 0 { &second } else { &first }])
            .current_dir(src.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        seen.push(branch_trees(&src));
    }
    let seen_new = seen.iter().filter(|s| **s != old).count();
    eprintln!("after the kills: {seen_new} of 20 states with some branch moved");
    src.hydrate(&["--ref", &second]);
    let new = branch_trees(&src);
    for (i, env) in ENVIRONMENTS.iter().enumerate() {
        assert_ne!(old[i], new[i], "{env} changed");
        assert_eq!(bundle_part(tree(&src.root(), &format!("env/{env}"))), src.bundle(&second, env), "{env}");
        for s in &seen {
            assert!(s[i] == old[i] || s[i] == new[i], "{env}: after a kill the branch is at its old or new tree");
        }
    }
    let fsck = Command::new("git").arg("-C").arg(src.root()).args(["fsck", "--no-dangling"]).output().unwrap();
    assert!(fsck.status.success(), "git fsck: {}{}", stderr(&fsck), String::from_utf8_lossy(&fsck.stdout));
    let out = src.hydrate(&["--ref", &second]);
    assert_eq!(stderr(&out).matches(": unchanged").count(), 4, "{}", stderr(&out));
}

#[test]
fn ssh_signed_commits_pass_git_verify_commit_and_are_reproducible() {
    if !support::require_tool("ssh-keygen") {
        return;
    }
    let src = Source::new();
    let keys = src.dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let key = keys.join("id_ed25519");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "hydra", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    let public = std::fs::read_to_string(keys.join("id_ed25519.pub")).unwrap();
    let allowed = keys.join("allowed_signers");
    std::fs::write(&allowed, format!("hydra@example.com namespaces=\"git\" {public}")).unwrap();
    src.git(&["config", "gpg.format", "ssh"]);
    src.git(&["config", "user.signingKey", key.to_str().unwrap()]);
    src.git(&["config", "gpg.ssh.allowedSignersFile", allowed.to_str().unwrap()]);

    src.hydrate(&["--sign"]);
    let tips: Vec<String> = ENVIRONMENTS.iter().map(|e| src.git(&["rev-parse", &format!("env/{e}")])).collect();
    for env in ENVIRONMENTS {
        let out = Command::new("git")
            .arg("-C")
            .arg(src.root())
            .args(["verify-commit", "-v", &format!("env/{env}")])
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "git verify-commit env/{env}: {}", stderr(&out));
        assert!(stderr(&out).contains("Good \"git\" signature for hydra@example.com"), "{}", stderr(&out));
    }
    // The same commit hydrated again onto the same (no) parent: the same signed commits.
    for env in ENVIRONMENTS {
        src.git(&["branch", "-D", &format!("env/{env}")]);
    }
    src.hydrate(&["--sign"]);
    let again: Vec<String> = ENVIRONMENTS.iter().map(|e| src.git(&["rev-parse", &format!("env/{e}")])).collect();
    assert_eq!(tips, again);
}

#[test]
fn into_another_repository_at_a_path_keeps_the_rest_of_the_branch() {
    let src = Source::new();
    let head = src.git(&["rev-parse", "HEAD"]);
    let deploy = src.dir.path().join("deploy");
    std::fs::create_dir_all(deploy.join("keep")).unwrap();
    std::fs::create_dir_all(deploy.join("clusters/eastus")).unwrap();
    std::fs::write(deploy.join("keep/me.txt"), "not strata's\n").unwrap();
    std::fs::write(deploy.join("clusters/eastus/stale.yaml"), "kind: Stale\n").unwrap();
    support::git(&deploy, &["init", "-q", "-b", "deploy"]);
    support::git(&deploy, &["add", "-A"]);
    support::git(&deploy, &["commit", "-q", "-m", "by hand"]);
    let into = deploy.to_str().unwrap();
    let who = "Deploy Bot <deploy@example.com>";
    let args =
        ["hydrate", "--into", into, "--branch", "deploy", "--path", "clusters/{environment}", "--committer", who];

    // Checked out in the deploy repository's work tree: refused, nothing moves.
    let out = src.strata(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`deploy` is checked out in"), "{}", stderr(&out));
    support::git(&deploy, &["switch", "-q", "-c", "elsewhere"]);

    let out = src.strata(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("kept 1 file outside the hydrated paths"), "{}", stderr(&out));
    let files = tree(&deploy, "deploy");
    assert_eq!(files["keep/me.txt"], b"not strata's\n");
    assert!(!files.contains_key("clusters/eastus/stale.yaml"), "stale files under a hydrated path are removed");
    for env in ENVIRONMENTS {
        let prefix = format!("clusters/{env}/");
        let mine: BTreeMap<String, Vec<u8>> =
            files.iter().filter_map(|(p, b)| Some((p.strip_prefix(&prefix)?.to_string(), b.clone()))).collect();
        assert_eq!(bundle_part(mine), src.bundle(&head, env), "{env}");
    }
    assert_eq!(support::git(&deploy, &["rev-list", "--count", "deploy"]).trim(), "2", "one commit for four paths");
    assert_eq!(
        support::git(&deploy, &["log", "-1", "--format=%an <%ae>|%cn <%ce>", "deploy"]).trim(),
        format!("{who}|{who}")
    );
    assert!(src.git(&["branch", "--list", "env/*"]).is_empty(), "the source repository is not written");
}

#[test]
fn dirty_trees_plaintext_secrets_and_locked_branches_are_refused() {
    let src = Source::new();
    std::fs::write(src.root().join("notes.txt"), "uncommitted\n").unwrap();
    let out = src.strata(&["hydrate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("uncommitted changes"), "{}", stderr(&out));
    src.hydrate(&["--allow-dirty", "@staging"]);
    std::fs::remove_file(src.root().join("notes.txt")).unwrap();

    // staging renders throwaway credentials; undeclared, they are refused with their template.
    let yaml = src.root().join("strata.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(&yaml, text.replace("    - Secret/shop/api-credentials\n", "")).unwrap();
    src.commit("api credentials no longer external");
    let before = src.git(&["rev-parse", "env/staging"]);
    let out = src.strata(&["hydrate", "@staging"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("Secret `shop/api-credentials` of `api/staging` has plaintext"), "{err}");
    assert!(err.contains("api/v"), "names the template: {err}");
    assert_eq!(src.git(&["rev-parse", "env/staging"]), before);
    src.hydrate(&["--allow-secrets", "@staging"]);

    // A branch locked by another writer: the transaction fails and no branch moves.
    touch_every_environment(&src);
    src.commit("change every environment");
    let tips: Vec<String> = ["env/staging"].iter().map(|b| src.git(&["rev-parse", b])).collect();
    let lock = src.root().join(".git/refs/heads/env/westus.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "").unwrap();
    let out = src.strata(&["hydrate", "--allow-secrets"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no branch was moved"), "{}", stderr(&out));
    assert_eq!(src.git(&["rev-parse", "env/staging"]), tips[0]);
    assert!(src.git(&["branch", "--list", "env/eastus"]).is_empty());
}

#[test]
fn next_branches_carry_a_pull_request_body_with_strata_diffs_markdown() {
    let src = Source::new();
    let first = src.git(&["rev-parse", "HEAD"]);
    src.hydrate(&[]);
    let eastus = src.git(&["rev-parse", "env/eastus"]);
    touch_every_environment(&src);
    let second = src.commit("relabel every object");

    let out = src.hydrate(&["--next", "@eastus"]);
    let body = String::from_utf8(out.stdout).unwrap();
    assert!(body.starts_with("<!-- strata hydrate --next: env/eastus-next -> env/eastus -->\n"), "{body}");
    assert!(body.len() <= 60_000);
    assert!(body.contains("**Checks** (`strata check`): 0 errors"), "{body}");
    assert!(body.contains("### Rollout plan"), "{body}");
    let diff = src.strata(&["diff", "--from", &first[..12], "--to", &second[..12], "@eastus", "--format", "markdown"]);
    let diff = String::from_utf8(diff.stdout).unwrap();
    assert!(diff.contains("strata.dev/repository: example-shop"), "{diff}");
    assert!(body.ends_with(&diff), "the body ends with `strata diff`'s markdown:\n{body}");
    // env/eastus-next starts at env/eastus; env/eastus does not move.
    assert_eq!(src.git(&["rev-parse", "env/eastus-next~1"]), eastus);
    assert_eq!(src.git(&["rev-parse", "env/eastus"]), eastus);
    assert_eq!(bundle_part(tree(&src.root(), "env/eastus-next")), src.bundle(&second, "eastus"));
    // Run again: no commit, the same body (the promotion is still open).
    let again = src.hydrate(&["--next", "@eastus"]);
    assert!(stderr(&again).contains("`env/eastus-next` (eastus): unchanged"), "{}", stderr(&again));
    assert_eq!(String::from_utf8(again.stdout).unwrap(), body);
    // Promoted (env/eastus fast-forwarded to env/eastus-next): nothing left to promote.
    src.git(&["branch", "-f", "env/eastus", "env/eastus-next"]);
    let done = src.hydrate(&["--next", "@eastus"]);
    assert!(done.stdout.is_empty(), "{}", String::from_utf8_lossy(&done.stdout));
}

#[test]
fn openpgp_signed_commits_pass_git_verify_commit() {
    if !support::require_tool("gpg") {
        return;
    }
    let src = Source::new();
    let gnupg = tempfile::Builder::new().prefix("g").tempdir_in("/tmp").unwrap();
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg").env("GNUPGHOME", gnupg.path()).args(args).output().unwrap();
        assert!(out.status.success(), "gpg {args:?}: {}", stderr(&out));
    };
    gpg(&[
        "--batch",
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        "--quick-gen-key",
        "Hydra Bot <hydra@example.com>",
        "ed25519",
        "sign",
        "never",
    ]);
    src.git(&["config", "user.signingKey", "hydra@example.com"]);
    let out = Strata::in_dir(src.root()).env("GNUPGHOME", gnupg.path()).run(["hydrate", "--sign", "@eastus"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let verify = Command::new("git")
        .arg("-C")
        .arg(src.root())
        .args(["verify-commit", "env/eastus"])
        .env("GNUPGHOME", gnupg.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(verify.status.success(), "git verify-commit: {}", stderr(&verify));
    assert!(stderr(&verify).contains("Good signature from \"Hydra Bot <hydra@example.com>\""), "{}", stderr(&verify));
}

#[test]
fn rollout_export_points_at_the_hydrated_branches() {
    let src = Source::new();
    src.hydrate(&["--path", "deploy"]);
    let url = "https://git.example.com/shop/config.git";
    for format in ["applicationset", "flux"] {
        let args =
            ["rollout", "export", "--format", format, "--source", "hydrated", "--path", "deploy", "--repo-url", url];
        let out = src.strata(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        for env in ENVIRONMENTS {
            let (branch, path) = (format!("env/{env}"), format!("deploy/{env}"));
            assert!(text.contains(&format!("branch: {branch}\n")) || text.contains(&format!("revision: {branch}\n")));
            assert!(text.contains(&format!("path: {path}\n")) || text.contains(&format!("path: ./{path}\n")), "{text}");
            // The path holds the environment's objects, and only YAML.
            let listed = src.git(&["ls-tree", "--name-only", &format!("{branch}:{path}")]);
            assert!(!listed.is_empty() && listed.lines().all(|f| f.ends_with(".yaml")), "{branch}:{path}: {listed}");
        }
    }
}

#[test]
fn the_render_cache_gives_the_same_branches() {
    let src = Source::new();
    let cache = src.dir.path().join("cache");
    let cache = cache.to_str().unwrap();
    let mut trees = Vec::new();
    for (name, with_cache) in [("plain", false), ("cold", true), ("warm", true)] {
        let deploy = src.dir.path().join(name);
        std::fs::create_dir_all(&deploy).unwrap();
        support::git(&deploy, &["init", "-q", "-b", "main"]);
        let mut args = vec!["--into", deploy.to_str().unwrap(), "--committer", "Deploy Bot <deploy@example.com>"];
        if with_cache {
            args.extend(["--cache", cache]);
        }
        src.hydrate(&args);
        trees.push(ENVIRONMENTS.map(|e| tree(&deploy, &format!("env/{e}"))));
        if with_cache {
            assert!(!support::files_under(Path::new(cache)).is_empty(), "{name}: the cache keeps entries");
        }
    }
    assert_eq!(trees[1], trees[0], "cold");
    assert_eq!(trees[2], trees[0], "warm");
}
