//! A headless Chromium driven over WebDriver (Debian's `chromium` and `chromedriver`),
//! for the review page's browser tests. WebDriver is plain HTTP and JSON: a few
//! requests over a `TcpStream` (no client crate). The driver process is killed
//! when the [`Browser`] is dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One chromedriver with one headless Chromium session.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless session.
    /// `None` (after a visible skip) without `chromium` and `chromedriver`; under
    /// `CI=true` their absence fails the test.
    pub fn start() -> Option<Browser> {
        if !super::require_tool("chromium") || !super::require_tool("chromedriver") {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut b = Browser { driver, port, session: String::new() };
        let deadline = Instant::now() + Duration::from_secs(20);
        while b.request("GET", "/status", None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not answer on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"],
            },
        }}});
        let v = b.request("POST", "/session", Some(&caps)).expect("a session opens");
        b.session = v["value"]["sessionId"].as_str().expect("a session id").to_string();
        Some(b)
    }

    /// Opens `url` and waits for the page to load.
    pub fn open(&self, url: &str) {
        self.command("url", json!({"url": url}));
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub fn eval(&self, script: &str, args: Value) -> Value {
        self.command("execute/sync", json!({"script": script, "args": args}))
    }

    fn command(&self, what: &str, body: Value) -> Value {
        let path = format!("/session/{}/{what}", self.session);
        let v = self.request("POST", &path, Some(&body)).unwrap_or_else(|e| panic!("{what}: {e}"));
        if v["value"].get("error").is_some() {
            panic!("{what}: {}", v["value"]);
        }
        v["value"].clone()
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        s.write_all(head.as_bytes()).and_then(|_| s.write_all(body.as_bytes())).map_err(|e| e.to_string())?;
        // chromedriver keeps the connection open: read the header, then the body by its length.
        let mut raw = Vec::new();
        let mut buf = [0u8; 65536];
        let (head_len, length, chunked) = loop {
            let n = s.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("connection closed before the header".into());
            }
            raw.extend_from_slice(&buf[..n]);
            if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)));
                break (end + 4, length, head.contains("transfer-encoding: chunked"));
            }
        };
        let done = |raw: &[u8]| match length {
            Some(n) => raw.len() >= head_len + n,
            None => chunked && raw.ends_with(b"0\r\n\r\n"),
        };
        while !done(&raw) {
            let n = s.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
        }
        let body = String::from_utf8_lossy(&raw[head_len..]).to_string();
        let payload = if chunked { dechunk(&body) } else { body };
        serde_json::from_str(&payload).map_err(|e| format!("{e}: {payload}"))
    }
}

/// The body of a chunked HTTP response.
fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.request("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
