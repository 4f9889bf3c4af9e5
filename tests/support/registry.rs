//! A real OCI registry for the publish tests: Debian's `docker-registry`
//! (distribution 2.8) serving plain HTTP on 127.0.0.1, its storage in a temporary
//! directory, started by the test ([`Registry::start`]) and killed when dropped.
//!
//! Without `docker-registry` on `PATH` the test prints a visible `SKIPPED:` line
//! and returns (under `CI=true` it fails), as [`super::require_tool`] does.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    _storage: tempfile::TempDir,
}

impl Registry {
    /// A registry without authentication, or with basic authentication from an
    /// htpasswd file (`htpasswd`: `USER:BCRYPT` lines).
    pub fn start(htpasswd: Option<&Path>) -> Option<Registry> {
        if !super::require_tool("docker-registry") {
            return None;
        }
        let storage = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let host = format!("127.0.0.1:{port}");
        let auth = match htpasswd {
            Some(p) => format!("auth:\n  htpasswd:\n    realm: strata-test\n    path: {}\n", p.display()),
            None => String::new(),
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n{auth}",
            storage.path().join("data").display()
        );
        let config_path = storage.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let registry = Registry { child, host, _storage: storage };
        let started = Instant::now();
        while TcpStream::connect(&registry.host).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "docker-registry did not listen on {}", registry.host);
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(registry)
    }

    /// `oci://127.0.0.1:PORT/REPOSITORY`.
    pub fn oci(&self, repository: &str) -> String {
        format!("oci://{}/{repository}", self.host)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The raw manifest at `docker://HOST/REPO:TAG`, as `skopeo inspect --raw` prints it.
pub fn skopeo_raw(reference: &str) -> serde_json::Value {
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", &format!("docker://{reference}")])
        .output()
        .expect("skopeo runs");
    assert!(out.status.success(), "skopeo inspect {reference}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("skopeo prints JSON")
}
