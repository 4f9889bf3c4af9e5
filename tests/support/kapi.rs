//! The real Kubernetes API server of `../shared/kapi` (kube-apiserver v1.36.2 and
//! etcd, no controllers: see its README), for the live-diff tests.
//!
//! [`server`] starts one per test binary, the first time a test asks (about 6-10 s),
//! with `--owner` the test process so it stops when the binary ends. Each test
//! takes its own namespace and repository id ([`Kapi::namespace`]), so tests run in
//! parallel on the one server without seeing each other's objects: the prune search
//! selects by environment and repository labels. The server's state lives under
//! `CARGO_TARGET_TMPDIR/kapi/<pid>` (directories of ended processes are removed by
//! the next start); the unpacked binaries are kept in `CARGO_TARGET_TMPDIR/kapi/bin`.
//!
//! Without `../shared/kapi` beside the clone (or without `kubectl`), [`server`]
//! prints a visible `SKIPPED: <test> (...)` line and returns `None` (the test
//! returns early), except under `CI=true`, where it fails the test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// A running server.
pub struct Kapi {
    /// The kubeconfig `up.sh` wrote (context `kapi`, user `admin`).
    pub kubeconfig: PathBuf,
    dir: PathBuf,
}

/// Where `up.sh` is: `../shared/kapi` beside the clone.
fn kapi_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/kapi")
}

static SERVER: OnceLock<Result<Kapi, String>> = OnceLock::new();

/// The test binary's server, started on first use; `None` (after a visible skip
/// line) when `../shared/kapi` is absent. A server that does not start fails the test.
pub fn server() -> Option<&'static Kapi> {
    // The tests apply with kubectl: without it they skip (or fail under CI=true) the same way.
    if !super::require_tool("kubectl") {
        return None;
    }
    if !kapi_dir().join("up.sh").is_file() {
        let why = "../shared/kapi (a real kube-apiserver) is not beside the clone";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{why}; it is required when CI=true");
        }
        let thread = std::thread::current();
        let test = thread.name().unwrap_or("a test");
        let _ = writeln!(std::io::stderr(), "SKIPPED: {test} ({why}; with CI=true this fails)");
        return None;
    }
    match SERVER.get_or_init(start) {
        Ok(k) => Some(k),
        Err(e) => panic!("the real API server did not start: {e}"),
    }
}

fn start() -> Result<Kapi, String> {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kapi");
    std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    remove_stale(&root);
    let dir = root.join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let cache = root.join("bin");
    let cached = ["etcd", "kube-apiserver"].iter().all(|b| cache.join(b).is_file());
    if cached {
        std::os::unix::fs::symlink(&cache, dir.join("bin")).map_err(|e| e.to_string())?;
    }
    let started = std::time::Instant::now();
    let out = Command::new(kapi_dir().join("up.sh"))
        .arg(&dir)
        .args(["--owner", &std::process::id().to_string()])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run up.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!("up.sh failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let _ = writeln!(std::io::stderr(), "kube-apiserver ready in {:.1} s", started.elapsed().as_secs_f64());
    if !cached {
        keep_binaries(&dir.join("bin"), &root);
    }
    let kubeconfig = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Ok(Kapi { kubeconfig, dir })
}

/// Hard links of the unpacked binaries in `root/bin`, for the next start.
fn keep_binaries(bin: &Path, root: &Path) {
    let staging = root.join(format!("bin.{}", std::process::id()));
    let _ = std::fs::create_dir_all(&staging);
    let linked = ["etcd", "kube-apiserver"].iter().all(|b| std::fs::hard_link(bin.join(b), staging.join(b)).is_ok());
    if !linked || std::fs::rename(&staging, root.join("bin")).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
}

/// State directories of test processes that ended. Their servers normally stopped
/// with them (`--owner`), but the owner is polled once a second and `down.sh` waits
/// for a graceful stop: a directory is removed only after `down.sh` has stopped
/// what it recorded, or it would lose the process ids it needs.
fn remove_stale(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let pid = name.strip_prefix("bin.").unwrap_or(&name);
        if pid.parse::<u32>().is_err() || Path::new("/proc").join(pid).exists() {
            continue;
        }
        if e.path().join("pids").exists() {
            let _ = Command::new(kapi_dir().join("down.sh")).arg(e.path()).stdin(Stdio::null()).output();
        }
        let _ = std::fs::remove_dir_all(e.path());
    }
}

impl Kapi {
    /// `kubectl ARGS` against this server, with `stdin`; its stdout. Fails the test when kubectl fails.
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.join("kubectl-cache"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or_default().as_bytes()).unwrap();
        drop(input);
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "kubectl {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Applies `yaml` as `kubectl apply --server-side --field-manager=MANAGER` does
    /// (`--force-conflicts` when `force`).
    pub fn apply_server_side(&self, yaml: &str, manager: &str, force: bool) {
        let manager = format!("--field-manager={manager}");
        let mut args = vec!["apply", "--server-side", manager.as_str(), "-f", "-"];
        if force {
            args.push("--force-conflicts");
        }
        self.kubectl(&args, Some(yaml));
    }

    /// Applies a bundle directory the way its README says: each file in name
    /// order with `kubectl apply --server-side --field-manager=strata`, waiting for
    /// the CustomResourceDefinitions a file creates to be established.
    pub fn apply_bundle(&self, dir: &Path) {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        // `inventory.yaml` comes after every `NN-…` file.
        files.sort_by_key(|p| (p.file_name().unwrap() == "inventory.yaml", p.clone()));
        for f in files {
            let yaml = std::fs::read_to_string(&f).unwrap();
            self.apply_server_side(&yaml, "strata", false);
            if yaml.contains("kind: CustomResourceDefinition") {
                self.kubectl(&["wait", "--for", "condition=established", "--timeout=30s", "crd", "--all"], None);
            }
        }
    }

    /// The namespace name `name` (a test's own), checked to be a DNS label.
    pub fn namespace(&self, name: &str) -> String {
        assert!(
            name.len() <= 63 && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "`{name}` is not a namespace name"
        );
        name.to_string()
    }
}
