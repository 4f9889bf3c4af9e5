//! A scripted Kubernetes API server for tests: an HTTP/1.1 server on
//! 127.0.0.1 that answers with the real responses recorded in
//! `tests/fixtures/apiserver/` (see its README).
//!
//! It plays one [`Scenario`]: which cluster ([`Cluster`]: the shop of `live/`,
//! the client-side-applied objects of `migration/`), which recordings to use for
//! dry-runs, whether the tracked `shop-legacy` ConfigMap exists, whether `ops`
//! owns the Service's `targetPort`, whether the CRD and the namespace exist,
//! whether aggregated discovery is offered, and which requests fail with which
//! status. It logs every request and fails the test (on [`ApiServer::finish`]
//! and on drop) when a request other than `GET` lacks `dryRun=All` — the
//! read-only guarantee checked from the other side of the wire.
//!
//! Every answer is one the real server gave (`record.py` in the fixtures
//! re-records them); the server only picks which. A dry-run nobody recorded is
//! answered with a 500 naming it, so a test never passes on an invented answer.
//! What a real server does beyond these recordings is tested against one:
//! `tests/support/kapi.rs`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// Which recorded cluster the server plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cluster {
    /// `live/`: the shop of `tests/fixtures/live/repo`, applied by strata.
    Shop,
    /// `migration/`: a NetworkPolicy and a StatefulSet in namespace `mig`, applied
    /// with client-side `kubectl apply`.
    Migration,
}

/// What the scripted cluster looks like.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The recorded cluster.
    pub cluster: Cluster,
    /// Dry-runs answer from `dryrun-changed/` first (then `dryrun-unchanged/`).
    pub changed: bool,
    /// The tracked ConfigMap `shop-legacy` exists (would be pruned).
    pub legacy: bool,
    /// `ops` took ownership of the Service's `targetPort`: the live Service is
    /// `service-shop-after-ops-edit.json`, applying it conflicts (409), and the
    /// forced dry-run answers `dryrun-forced/`.
    pub ops_owns_target_port: bool,
    /// The CRD `configwatchers.k8spatterns.io` is installed (so ConfigWatchers are served).
    pub crd_installed: bool,
    /// `/api` and `/apis` answer aggregated discovery when asked for it.
    pub aggregated_discovery: bool,
    /// The namespace `shop` exists (else it and everything in it are absent, and
    /// dry-runs answer from `first-deploy/`: into it `namespaces "shop" not found`).
    pub namespace_exists: bool,
    /// Requests need `Authorization: Bearer <token>`; others get 401.
    pub token: Option<String>,
    /// Requests whose `METHOD path` starts with the first string get this status.
    pub fail: Option<(String, u16)>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            cluster: Cluster::Shop,
            changed: false,
            legacy: false,
            ops_owns_target_port: false,
            crd_installed: true,
            aggregated_discovery: true,
            namespace_exists: true,
            token: None,
            fail: None,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Logged {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or_default()
    }
}

pub struct ApiServer {
    pub url: String,
    pub port: u16,
    log: Arc<Mutex<Vec<Logged>>>,
    violations: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/apiserver")
}

fn read_json(rel: &str) -> Value {
    let p = fixtures().join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A `.http` recording: the body, then a last line `HTTP <status>`.
fn read_http(rel: &str) -> Option<(u16, Value)> {
    let text = std::fs::read_to_string(fixtures().join(rel)).ok()?;
    let (body, status) = text.trim_end().rsplit_once("\nHTTP ")?;
    Some((status.trim().parse().ok()?, serde_json::from_str(body).ok()?))
}

/// Kinds of the fixtures: (apiVersion, kind) → (plural, namespaced).
const KINDS: &[(&str, &str, &str, bool)] = &[
    ("v1", "Namespace", "namespaces", false),
    ("v1", "ConfigMap", "configmaps", true),
    ("v1", "Secret", "secrets", true),
    ("v1", "Service", "services", true),
    ("apps/v1", "Deployment", "deployments", true),
    ("apps/v1", "StatefulSet", "statefulsets", true),
    ("batch/v1", "CronJob", "cronjobs", true),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", false),
    ("k8spatterns.io/v1", "ConfigWatcher", "configwatchers", true),
    ("networking.k8s.io/v1", "Ingress", "ingresses", true),
    ("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true),
    ("v1", "ServiceAccount", "serviceaccounts", true),
    ("rbac.authorization.k8s.io/v1", "Role", "roles", true),
];

fn collection(api_version: &str, plural: &str, ns: Option<&str>) -> String {
    let root = if api_version.contains('/') { format!("/apis/{api_version}") } else { format!("/api/{api_version}") };
    match ns {
        Some(ns) => format!("{root}/namespaces/{ns}/{plural}"),
        None => format!("{root}/{plural}"),
    }
}

/// The object path of a body, from [`KINDS`].
pub fn object_path(obj: &Value) -> String {
    let av = obj["apiVersion"].as_str().unwrap();
    let kind = obj["kind"].as_str().unwrap();
    let (_, _, plural, namespaced) =
        KINDS.iter().find(|k| k.0 == av && k.1 == kind).unwrap_or_else(|| panic!("no plural for {kind}"));
    let ns = if *namespaced { obj["metadata"]["namespace"].as_str() } else { None };
    format!("{}/{}", collection(av, plural, ns), obj["metadata"]["name"].as_str().unwrap())
}

/// The scripted cluster's state, computed once per server.
struct State {
    scenario: Scenario,
    /// Object path → live object.
    live: BTreeMap<String, Value>,
}

impl State {
    fn new(scenario: Scenario) -> State {
        let mut live = match scenario.cluster {
            Cluster::Shop => Self::shop(&scenario),
            Cluster::Migration => Self::migration(),
        };
        if !scenario.crd_installed {
            live.retain(|p, _| !p.contains("configwatchers"));
        }
        if !scenario.namespace_exists {
            live.retain(|p, _| !p.contains("/namespaces/shop"));
        }
        State { scenario, live }
    }

    /// The two client-side-applied objects of `migration/`.
    fn migration() -> BTreeMap<String, Value> {
        ["networkpolicy", "statefulset"]
            .iter()
            .map(|k| {
                let (_, obj) = read_http(&format!("migration/get-{k}-client-side-applied.http")).unwrap();
                (object_path(&obj), obj)
            })
            .collect()
    }

    fn shop(scenario: &Scenario) -> BTreeMap<String, Value> {
        let mut live = BTreeMap::new();
        let mut names: Vec<_> = std::fs::read_dir(fixtures().join("live"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        for n in names {
            if n == "service-shop-after-ops-edit.json" || n == "configmap-shop-legacy.json" {
                continue;
            }
            let obj = read_json(&format!("live/{n}"));
            live.insert(object_path(&obj), obj);
        }
        if scenario.ops_owns_target_port {
            let svc = read_json("live/service-shop-after-ops-edit.json");
            live.insert(object_path(&svc), svc);
        }
        if scenario.legacy {
            let legacy = read_json("live/configmap-shop-legacy.json");
            live.insert(object_path(&legacy), legacy);
        }
        live
    }

    fn respond(&self, req: &Logged) -> (u16, Value) {
        let s = &self.scenario;
        if let Some(token) = &s.token {
            let ok = req.headers.get("authorization").is_some_and(|h| h == &format!("Bearer {token}"));
            if !ok {
                return status(401, "Unauthorized", "Unauthorized", json!(null));
            }
        }
        if let Some((prefix, code)) = &s.fail
            && format!("{} {}", req.method, req.target).starts_with(prefix.as_str())
        {
            let msg = match code {
                403 => "configmaps is forbidden: User \"dev\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"shop\"".to_string(),
                _ => format!("scripted failure of {prefix}"),
            };
            return status(*code, if *code == 403 { "Forbidden" } else { "InternalError" }, &msg, json!(null));
        }
        let path = req.path();
        let aggregated =
            s.aggregated_discovery && req.headers.get("accept").is_some_and(|a| a.contains("as=APIGroupDiscoveryList"));
        match (req.method.as_str(), path) {
            ("GET", "/version") => return (200, read_json("discovery/version.json")),
            ("GET", "/api") => {
                return (
                    200,
                    read_json(if aggregated { "discovery/aggregated-api.json" } else { "discovery/api.json" }),
                );
            }
            ("GET", "/apis") => {
                if aggregated {
                    let mut d = read_json("discovery/aggregated-apis.json");
                    if !s.crd_installed {
                        d["items"].as_array_mut().unwrap().retain(|g| g["metadata"]["name"] != "k8spatterns.io");
                    }
                    return (200, d);
                }
                // The recorded per-group documents cover these groups: the
                // server offers those (a real one offers every group it lists).
                let recorded = |gv: &Value| {
                    let gv = gv.as_str().unwrap_or_default().replace('/', "_");
                    fixtures().join(format!("discovery/apis-{gv}.json")).exists()
                };
                let mut d = read_json("discovery/apis.json");
                let groups = d["groups"].as_array_mut().unwrap();
                groups.retain(|g| {
                    recorded(&g["preferredVersion"]["groupVersion"])
                        && (s.crd_installed || g["name"] != "k8spatterns.io")
                });
                for g in groups {
                    g["versions"].as_array_mut().unwrap().retain(|v| recorded(&v["groupVersion"]));
                }
                return (200, d);
            }
            ("GET", "/api/v1") => return (200, read_json("discovery/api-v1.json")),
            _ => {}
        }
        if req.method == "GET" && path.starts_with("/apis/") && path.matches('/').count() == 3 {
            let gv = &path["/apis/".len()..];
            let file = format!("discovery/apis-{}.json", gv.replace('/', "_"));
            if (s.crd_installed || !gv.starts_with("k8spatterns.io")) && fixtures().join(&file).exists() {
                return (200, read_json(&file));
            }
            return status(404, "NotFound", "the server could not find the requested resource", json!(null));
        }

        // A collection with a label selector: a list.
        if req.method == "GET" && req.query().contains("labelSelector=") {
            return (200, self.list(path, req.query()));
        }
        match req.method.as_str() {
            "GET" => match self.live.get(path) {
                Some(obj) => (200, obj.clone()),
                None => not_found(path),
            },
            "PATCH" => self.dry_run_apply(path, req.query(), &req.body),
            _ => status(405, "MethodNotAllowed", "the scripted server only reads and dry-runs", json!(null)),
        }
    }

    fn list(&self, path: &str, query: &str) -> Value {
        let selector =
            query.split('&').find_map(|p| p.strip_prefix("labelSelector=")).map(percent_decode).unwrap_or_default();
        let matches = |obj: &Value| label_selector_matches(&selector, &obj["metadata"]["labels"]);
        // Object paths under this collection: `<path>/<name>` (namespaced lists) or
        // `…/namespaces/<ns>/<plural>/<name>` (lists over all namespaces).
        let (root, plural) = path.rsplit_once('/').unwrap();
        let items: Vec<Value> = self
            .live
            .iter()
            .filter(|(p, _)| {
                let (coll, _) = p.rsplit_once('/').unwrap();
                coll == path
                    || (coll.starts_with(&format!("{root}/namespaces/")) && coll.ends_with(&format!("/{plural}")))
            })
            .map(|(_, o)| o)
            .filter(|o| matches(o))
            .map(|o| {
                // Items of a real list carry neither apiVersion nor kind.
                let mut o = o.clone();
                let m = o.as_object_mut().unwrap();
                m.remove("apiVersion");
                m.remove("kind");
                o
            })
            .collect();
        let kind = KINDS.iter().find(|k| k.2 == plural).map(|k| k.1).unwrap_or("Unknown");
        json!({"kind": format!("{kind}List"), "apiVersion": "v1", "metadata": {"resourceVersion": "700"}, "items": items})
    }

    /// A dry-run's recorded answer.
    fn dry_run_apply(&self, path: &str, query: &str, body: &[u8]) -> (u16, Value) {
        let sent: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return status(400, "BadRequest", &format!("not JSON: {e}"), json!(null)),
        };
        if object_path(&sent) != path {
            return status(400, "BadRequest", "the body does not name the object of the path", json!(null));
        }
        let kind = sent["kind"].as_str().unwrap().to_lowercase();
        let name = sent["metadata"]["name"].as_str().unwrap();
        let s = &self.scenario;
        let forced = path_query_has(query, "force=true");
        let files: Vec<String> = if s.cluster == Cluster::Migration && self.live.contains_key(path) {
            vec![match (kind.as_str(), forced, sent["spec"]["replicas"].as_i64()) {
                (_, false, _) => format!("migration/ssa-dryrun-{kind}-conflict.http"),
                ("statefulset", true, Some(2)) => "migration/ssa-dryrun-statefulset-force-replicas-2.http".into(),
                (_, true, _) => format!("migration/ssa-dryrun-{kind}-force-identical.http"),
            }]
        } else if !s.namespace_exists && path.contains("/namespaces/shop/") {
            vec!["first-deploy/namespace-missing.http".into()]
        } else if !self.live.contains_key(path) && !s.changed {
            // Created by the apply: the CRD or the namespace of a first deploy.
            vec![format!("first-deploy/{kind}-{name}.http")]
        } else if s.ops_owns_target_port && kind == "service" {
            vec![if forced { "dryrun-forced/service-shop.http".into() } else { "errors/ssa-conflict.http".into() }]
        } else if s.changed {
            vec![format!("dryrun-changed/{kind}-{name}.http"), format!("dryrun-unchanged/{kind}-{name}.http")]
        } else {
            vec![format!("dryrun-unchanged/{kind}-{name}.http")]
        };
        match files.iter().find_map(|f| read_http(f)) {
            Some(answer) => answer,
            None => status(500, "InternalError", &format!("no recording of this dry-run: {files:?}"), json!(null)),
        }
    }
}

fn status(code: u16, reason: &str, message: &str, details: Value) -> (u16, Value) {
    let mut s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code});
    if !details.is_null() {
        s["details"] = details;
    }
    (code, s)
}

/// The recorded 404, about the object asked for.
fn not_found(path: &str) -> (u16, Value) {
    let (code, mut body) = read_http("errors/get-not-found.http").unwrap();
    let mut parts = path.rsplit('/');
    let name = parts.next().unwrap_or_default();
    let plural = parts.next().unwrap_or_default();
    body["message"] = json!(format!("{plural} \"{name}\" not found"));
    body["details"] = json!({"name": name, "kind": plural});
    (code, body)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn path_query_has(query: &str, pair: &str) -> bool {
    query.split('&').any(|p| p == pair)
}

/// A selector of comma-separated requirements, each `k=v` or `k in (a,b)`: the forms strata sends.
fn label_selector_matches(selector: &str, labels: &Value) -> bool {
    let mut requirements = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                requirements.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    requirements.push(&selector[start..]);
    requirements.iter().all(|r| requirement_matches(r, labels))
}

fn requirement_matches(selector: &str, labels: &Value) -> bool {
    if let Some((k, v)) = selector.split_once('=') {
        return labels.get(k.trim()).and_then(Value::as_str) == Some(v.trim());
    }
    if let Some((k, rest)) = selector.split_once(" in ") {
        let set = rest.trim().trim_start_matches('(').trim_end_matches(')');
        let have = labels.get(k.trim()).and_then(Value::as_str);
        return set.split(',').any(|v| Some(v.trim()) == have);
    }
    panic!("the scripted server does not understand the selector `{selector}`");
}

impl ApiServer {
    pub fn start(scenario: Scenario) -> ApiServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State::new(scenario));
        let log = Arc::new(Mutex::new(Vec::new()));
        let violations = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, v, st) = (log.clone(), violations.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (state, l, v) = (state.clone(), l.clone(), v.clone());
                std::thread::spawn(move || serve(conn, &state, &l, &v));
            }
        });
        ApiServer { url: format!("http://127.0.0.1:{port}"), port, log, violations, stop }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }

    /// Fails when a request would have changed the cluster.
    pub fn finish(&self) {
        let v = self.violations.lock().unwrap();
        assert!(v.is_empty(), "requests that could change a cluster were sent: {v:?}");
    }

    /// A kubeconfig file for this server in `dir`, with one context `scripted`.
    pub fn kubeconfig(&self, dir: &Path, token: &str) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: scripted\n  cluster:\n    server: {}\ncontexts:\n- name: scripted\n  context:\n    cluster: scripted\n    user: tester\n    namespace: default\ncurrent-context: scripted\nusers:\n- name: tester\n  user:\n    token: {token}\n",
            self.url
        );
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if !std::thread::panicking() {
            self.finish();
        }
    }
}

/// Serves one connection: HTTP/1.1 with keep-alive, Content-Length bodies.
fn serve(conn: TcpStream, state: &State, log: &Mutex<Vec<Logged>>, violations: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut writer = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else { return };
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_lowercase(), v.trim().to_string());
            }
        }
        assert!(!headers.contains_key("transfer-encoding"), "the scripted server reads Content-Length bodies only");
        let len: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let req = Logged { method: method.to_string(), target: target.to_string(), headers, body };
        if req.method != "GET" && !req.query().split('&').any(|p| p == "dryRun=All") {
            violations.lock().unwrap().push(format!("{} {}", req.method, req.target));
        }
        let (code, body) = state.respond(&req);
        log.lock().unwrap().push(req);
        let text = serde_json::to_vec(&body).unwrap();
        let head = format!(
            "HTTP/1.1 {code} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            reason(code),
            text.len()
        );
        if writer.write_all(head.as_bytes()).and_then(|_| writer.write_all(&text)).and_then(|_| writer.flush()).is_err()
        {
            return;
        }
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        _ => "Error",
    }
}
