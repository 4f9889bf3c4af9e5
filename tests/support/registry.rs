//! A real OCI registry for the publish tests: Debian's `docker-registry`
//! (distribution 2.8) serving plain HTTP on 127.0.0.1, its storage in a temporary
//! directory, started by the test ([`Registry::start`]) and killed when dropped.
//!
//! Without `docker-registry` on `PATH` the test prints a visible `SKIPPED:` line
//! and returns (under `CI=true` it fails), as [`super::require_tool`] does.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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
        let auth = match htpasswd {
            Some(p) => format!("auth:\n  htpasswd:\n    realm: strata-test\n    path: {}\n", p.display()),
            None => String::new(),
        };
        Registry::start_with(&auth)
    }

    /// A registry whose configuration has `auth` (an `auth:` section, or nothing).
    pub fn start_with(auth: &str) -> Option<Registry> {
        if !super::require_tool("docker-registry") {
            return None;
        }
        let storage = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let host = format!("127.0.0.1:{port}");
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

/// A TCP proxy in front of a registry that lets `puts_allowed` `PUT /v2/…` requests
/// through and then breaks: the connection carrying the next one is closed before
/// it reaches the registry, and every later connection is closed on arrival (a
/// registry gone, or a network cut, in the middle of a push). `host` is its
/// `127.0.0.1:PORT`. Its threads end with the test process.
pub struct CuttingProxy {
    pub host: String,
    cut: Arc<AtomicBool>,
}

impl CuttingProxy {
    pub fn start(upstream: &str, puts_allowed: usize) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let puts = Arc::new(AtomicUsize::new(0));
        let (upstream, flag) = (upstream.to_string(), cut.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if flag.load(Ordering::SeqCst) {
                    continue; // dropped: closed on arrival
                }
                let Ok(server) = TcpStream::connect(&upstream) else { continue };
                let (mut from_server, mut to_client) = (server.try_clone().unwrap(), client.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_server, &mut to_client);
                    let _ = to_client.shutdown(Shutdown::Both);
                });
                let (flag, puts) = (flag.clone(), puts.clone());
                std::thread::spawn(move || forward_requests(client, server, &flag, &puts, puts_allowed));
            }
        });
        CuttingProxy { host, cut }
    }

    /// Whether the cut happened.
    pub fn was_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }
}

/// Client → registry bytes, counting `PUT /v2/` request lines (also across reads).
fn forward_requests(
    mut client: TcpStream,
    mut server: TcpStream,
    cut: &AtomicBool,
    puts: &AtomicUsize,
    allowed: usize,
) {
    const PUT: &[u8] = b"PUT /v2/";
    let mut buf = vec![0u8; 64 * 1024];
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if cut.load(Ordering::SeqCst) {
            break;
        }
        let mut seen = tail.clone();
        seen.extend_from_slice(&buf[..n]);
        let new = seen.windows(PUT.len()).filter(|w| *w == PUT).count();
        if new > 0 && puts.fetch_add(new, Ordering::SeqCst) + new > allowed {
            cut.store(true, Ordering::SeqCst);
            break;
        }
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
        tail = seen[seen.len().saturating_sub(PUT.len() - 1)..].to_vec();
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}

/// The tags of `docker://HOST/REPOSITORY` (none when the registry answers 404: distribution
/// does so for a repository without tags, even when it holds blobs and manifests).
pub fn skopeo_tags(reference: &str) -> Vec<String> {
    let out = Command::new("skopeo")
        .args(["list-tags", "--tls-verify=false", &format!("docker://{reference}")])
        .output()
        .expect("skopeo runs");
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("unknown") || err.contains("404"), "skopeo list-tags {reference}: {err}");
        return Vec::new();
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("skopeo prints JSON");
    v["Tags"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_string)).collect()
}

/// A token server for bearer authentication (`WWW-Authenticate: Bearer realm=…`): answers
/// every request with a token, and keeps each request's `Authorization` header and
/// query, for the test to check what the client sent. `realm` is its URL.
pub struct TokenServer {
    pub realm: String,
    pub asked: Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl TokenServer {
    pub fn start(token: &'static str) -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let realm = format!("http://{}/token", listener.local_addr().unwrap());
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = asked.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let query = head.split_whitespace().nth(1).unwrap_or("").to_string();
                let authorization = head
                    .lines()
                    .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("authorization")))
                    .map(|(_, v)| v.trim().to_string())
                    .unwrap_or_default();
                log.lock().unwrap().push((authorization, query));
                let body = format!(r#"{{"token":"{token}","access_token":"{token}","expires_in":300}}"#);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        TokenServer { realm, asked }
    }
}
