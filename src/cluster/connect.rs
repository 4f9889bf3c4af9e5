//! Connecting: kubeconfig → a read-only kube client, and the three reads strata
//! makes (discovery, `GET`, label-selected lists) plus the dry-run apply.
//!
//! In: `--kubeconfig` (else `KUBECONFIG`, else `~/.kube/config`, else the
//! in-cluster service account) and `--context` (else the current context).
//! Tokens, client certificates and exec plugins work as kube-rs supports them.
//! Out: a [`Cluster`] whose every request passes [`ReadOnlyLayer`].
//!
//! Invariant: every failure names the context and the request that failed,
//! and says what to do (unreachable server, TLS failure, expired credentials,
//! forbidden).

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::Status;
use serde_json::Value;

use super::discovery::{ApiKind, Catalog};
use super::request::{self, ReadOnlyLayer, ReadOnlyViolation};
use crate::diag::{Diagnostic, Error, ErrorKind};

/// Where to find the cluster.
#[derive(Debug, Clone, Default)]
pub struct KubeOptions {
    /// `--kubeconfig FILE`; `KUBECONFIG` and `~/.kube/config` otherwise.
    pub kubeconfig: Option<PathBuf>,
    /// `--context NAME`; the kubeconfig's current context otherwise.
    pub context: Option<String>,
}

/// A connection to one cluster, read-only.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    /// The kubeconfig context (or `in-cluster`), named in every error.
    pub context: String,
    /// The API server URL.
    pub server: String,
    /// The context's namespace, for namespaced objects a render leaves without one
    /// (what `kubectl apply` would do).
    pub default_namespace: String,
}

/// The outcome of a server-side apply dry-run.
#[derive(Debug, Clone, PartialEq)]
pub enum DryRun {
    /// The object as it would be after the apply.
    Applied(Value),
    /// Fields the render sets are owned by other field managers (409).
    Conflict(Conflict),
    /// The object's namespace does not exist (404 on a namespace).
    NamespaceMissing(String),
}

/// A server-side apply conflict: who owns which fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    /// The field managers that own the conflicting fields (`ops`).
    pub managers: Vec<String>,
    /// The conflicting fields, as the server names them.
    pub fields: Vec<String>,
    /// The server's message.
    pub message: String,
    /// What a forced apply (`--force-conflicts`) would do, from a forced dry-run:
    /// `None` until asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forced: Option<Forced>,
}

/// The outcome of the forced dry-run after a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Forced {
    /// The values are the cluster's already: only field ownership would move.
    Identical,
    /// The forced apply would change the object (the entry's diff says how).
    Changes,
}

/// Reads the owning managers and fields out of a 409 Status: its
/// `details.causes` (`conflict with "ops"`, field `.spec…`), or its message when
/// an older server sends no causes.
pub fn parse_conflict(status: &Status) -> Conflict {
    let mut managers = Vec::new();
    let mut fields = Vec::new();
    let causes = status.details.as_ref().map(|d| d.causes.as_slice()).unwrap_or_default();
    for c in causes {
        managers.extend(quoted_managers(&c.message));
        if !c.field.is_empty() && !fields.contains(&c.field) {
            fields.push(c.field.clone());
        }
    }
    if managers.is_empty() {
        managers.extend(quoted_managers(&status.message));
    }
    if fields.is_empty() {
        // `…: conflict with "ops": .spec.a` or a `- .spec.a` list, one per line.
        for line in status.message.lines() {
            let tail = line.rsplit_once(": ").map(|(_, f)| f).or_else(|| line.trim().strip_prefix("- "));
            if let Some(f) = tail.filter(|f| f.starts_with('.')) {
                fields.push(f.trim().to_string());
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    managers.retain(|m| seen.insert(m.clone()));
    Conflict { managers, fields, message: status.message.clone(), forced: None }
}

/// The quoted names after `conflict with` / `conflicts with`.
fn quoted_managers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["conflict with \"", "conflicts with \""] {
        let mut rest = text;
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
    }
    out
}

impl Cluster {
    /// Reads the kubeconfig and builds a client for the chosen context.
    pub async fn connect(opts: &KubeOptions) -> Result<Cluster, Error> {
        let (kubeconfig, origin) = match &opts.kubeconfig {
            Some(path) => (Some(read_kubeconfig(path)?), path.display().to_string()),
            None => match Kubeconfig::from_env() {
                Ok(Some(k)) => (Some(k), "$KUBECONFIG".to_string()),
                Ok(None) => match default_path().filter(|p| p.exists()) {
                    Some(p) => (Some(read_kubeconfig(&p)?), p.display().to_string()),
                    None => (None, String::new()),
                },
                Err(e) => {
                    return Err(Diagnostic::error(format!("cannot read the kubeconfig files of `KUBECONFIG`: {e}"))
                        .hint("fix or unset `KUBECONFIG`, or pass `--kubeconfig FILE`")
                        .into());
                }
            },
        };
        let Some(kubeconfig) = kubeconfig else {
            if opts.context.is_none() && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
                let config = kube::Config::incluster().map_err(|e| {
                    Diagnostic::error(format!("cannot use the in-cluster service account: {e}"))
                        .hint("pass `--kubeconfig FILE` to use a kubeconfig instead")
                })?;
                return Cluster::from_config(config, "in-cluster".to_string());
            }
            return Err(Diagnostic::error("no kubeconfig found")
                .hint("pass `--kubeconfig FILE`, set `KUBECONFIG`, or create `~/.kube/config` (for example with your cloud's `get-credentials` command)")
                .into());
        };
        let context = match opts.context.clone().or_else(|| kubeconfig.current_context.clone()) {
            Some(c) => c,
            None => {
                return Err(Diagnostic::error(format!("kubeconfig `{origin}` sets no current context"))
                    .hint(format!("pass `--context NAME`; contexts: {}", context_names(&kubeconfig)))
                    .into());
            }
        };
        if !kubeconfig.contexts.iter().any(|c| c.name == context) {
            return Err(Diagnostic::error(format!("context `{context}` is not in kubeconfig `{origin}`"))
                .hint(format!("contexts there: {}", context_names(&kubeconfig)))
                .into());
        }
        let options = KubeConfigOptions { context: Some(context.clone()), ..KubeConfigOptions::default() };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await.map_err(|e| {
            Diagnostic::error(format!("cannot use context `{context}` of kubeconfig `{origin}`: {e}"))
                .hint("check the context's cluster (`server`, certificate authority) and user entries")
        })?;
        Cluster::from_config(config, context)
    }

    /// Builds a client from a kube config, behind the read-only guard.
    pub fn from_config(mut config: kube::Config, context: String) -> Result<Cluster, Error> {
        // A hung server should end in an error naming it, not in a hang.
        config.connect_timeout = Some(Duration::from_secs(15));
        config.read_timeout = Some(Duration::from_secs(60));
        let server = config.cluster_url.to_string().trim_end_matches('/').to_string();
        let default_namespace = config.default_namespace.clone();
        let builder = kube::client::ClientBuilder::try_from(config).map_err(|e| {
            Diagnostic::error(format!("cannot set up a client for context `{context}` ({server}): {}", chain(&e)))
                .hint("check the certificate data of the context's cluster and user in the kubeconfig")
        })?;
        let client = builder.with_layer(&ReadOnlyLayer).build();
        Ok(Cluster { client, context, server, default_namespace })
    }

    /// Discovers the kinds the cluster serves: aggregated discovery (2 requests),
    /// or per-group discovery on servers that do not offer it — of `groups`, or of
    /// every group when `groups` is `None`.
    pub async fn discover(&self, groups: Option<&[&str]>) -> Result<Catalog, Error> {
        match kube::Discovery::new(self.client.clone()).run_aggregated().await {
            // A server without aggregated discovery answers with plain
            // APIVersions / APIGroupList documents, which read as empty
            // discovery lists (every server serves the core group) or do not
            // parse at all: fall back to per-group discovery.
            Ok(d) if d.has_group("") => Ok(Catalog::from_discovery(&d)),
            Ok(_) => self.discover_per_group(groups).await,
            Err(e) if is_unsupported_aggregated(&e) => self.discover_per_group(groups).await,
            Err(e) => Err(self.request_error("GET /apis (aggregated API discovery)", e)),
        }
    }

    async fn discover_per_group(&self, groups: Option<&[&str]>) -> Result<Catalog, Error> {
        let d = kube::Discovery::new(self.client.clone());
        let d = match groups {
            Some(groups) => d.filter(groups),
            None => d,
        };
        let d = d.run().await.map_err(|e| self.request_error("GET /apis (API discovery)", e))?;
        Ok(Catalog::from_discovery(&d))
    }

    /// `GET` one object; `None` when it does not exist.
    pub async fn get(&self, kind: &ApiKind, namespace: Option<&str>, name: &str) -> Result<Option<Value>, Error> {
        let req = request::get(kind, namespace, name).map_err(|e| Diagnostic::error(e.to_string()))?;
        let what = request::describe(&req);
        match self.client.request::<Value>(req).await {
            Ok(v) => Ok(Some(v)),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
            Err(e) => Err(self.request_error(&what, e)),
        }
    }

    /// The objects of `kind` whose labels match `selector`, in `namespace` or everywhere.
    pub async fn list(&self, kind: &ApiKind, namespace: Option<&str>, selector: &str) -> Result<Vec<Value>, Error> {
        let req = request::list(kind, namespace, selector).map_err(|e| Diagnostic::error(e.to_string()))?;
        let what = request::describe(&req);
        let list: Value = self.client.request(req).await.map_err(|e| self.request_error(&what, e))?;
        let items = list.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        // List items come without apiVersion and kind; give them back, first.
        Ok(items
            .into_iter()
            .map(|item| match item {
                Value::Object(fields) => {
                    let mut m = serde_json::Map::new();
                    m.insert("apiVersion".into(), Value::String(kind.api_version()));
                    m.insert("kind".into(), Value::String(kind.kind.clone()));
                    m.extend(fields);
                    Value::Object(m)
                }
                other => other,
            })
            .collect())
    }

    /// Server-side apply of `body` as a dry-run, forced (taking over fields other
    /// managers own) when `force`.
    pub async fn dry_run_apply(
        &self,
        kind: &ApiKind,
        namespace: Option<&str>,
        name: &str,
        body: &Value,
        force: bool,
    ) -> Result<DryRun, Error> {
        let req =
            request::dry_run_apply(kind, namespace, name, body, force).map_err(|e| Diagnostic::error(e.to_string()))?;
        let what = request::describe(&req);
        match self.client.request::<Value>(req).await {
            Ok(v) => Ok(DryRun::Applied(v)),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(DryRun::Conflict(parse_conflict(&s))),
            Err(kube::Error::Api(s)) if s.code == 404 && s.details.as_ref().is_some_and(|d| d.kind == "namespaces") => {
                Ok(DryRun::NamespaceMissing(s.details.map(|d| d.name).unwrap_or_default()))
            }
            Err(e) => Err(self.request_error(&what, e)),
        }
    }

    /// Turns a failed request into a diagnostic naming the context and the request.
    pub fn request_error(&self, request: &str, e: kube::Error) -> Error {
        let ctx = &self.context;
        let server = &self.server;
        let d = match &e {
            kube::Error::Api(s) if s.code == 401 => Diagnostic::error(format!(
                "the API server of context `{ctx}` did not accept the credentials (401 Unauthorized)"
            ))
            .hint("the token or client certificate has probably expired: log in again (or refresh the kubeconfig), then retry"),
            kube::Error::Api(s) if s.code == 403 => {
                Diagnostic::error(format!("the API server of context `{ctx}` forbids the request (403 Forbidden): {}", s.message))
                    .hint("`strata diff --live` needs `get` on the rendered kinds, `patch` (dry-run only) on the rendered objects and, with tracking on, `list` on every kind")
            }
            kube::Error::Api(s) => {
                let reason = if s.reason.is_empty() { String::new() } else { format!(" {}", s.reason) };
                Diagnostic::error(format!("the API server of context `{ctx}` answered {}{reason}: {}", s.code, s.message))
            }
            e if find_source::<ReadOnlyViolation>(e).is_some() => {
                let d = Diagnostic::error(format!("{} (context `{ctx}`)", find_source::<ReadOnlyViolation>(e).map(|v| v.to_string()).unwrap_or_default()))
                    .note(format!("request: {request}"))
                    .note(format!("server: {server}"));
                return Error { kind: ErrorKind::Bug, diagnostics: vec![d] };
            }
            e => {
                let cause = chain(e);
                let lower = cause.to_lowercase();
                if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") || lower.contains("corrupt message") {
                    Diagnostic::error(format!("TLS failure talking to the API server of context `{ctx}`"))
                        .note(format!("cause: {cause}"))
                        .hint("check the context's `certificate-authority` / `certificate-authority-data` and that `server` is the cluster's https address")
                } else if lower.contains("auth") || lower.contains("exec") {
                    Diagnostic::error(format!("cannot get credentials for context `{ctx}`"))
                        .note(format!("cause: {cause}"))
                        .hint("run the login command of your cluster provider, then retry")
                } else {
                    Diagnostic::error(format!("cannot reach the API server of context `{ctx}`"))
                        .note(format!("cause: {cause}"))
                        .hint("check that the cluster is running and reachable (VPN, proxy), and that `--context` names the right cluster")
                }
            }
        };
        d.note(format!("request: {request}")).note(format!("server: {server}")).into()
    }
}

fn is_unsupported_aggregated(e: &kube::Error) -> bool {
    match e {
        kube::Error::SerdeError(_) => true,
        kube::Error::Api(s) => s.code == 404 || s.code == 406,
        _ => false,
    }
}

fn read_kubeconfig(path: &std::path::Path) -> Result<Kubeconfig, Error> {
    Kubeconfig::read_from(path).map_err(|e| {
        Diagnostic::error(format!("cannot read kubeconfig `{}`: {}", path.display(), chain(&e)))
            .at(path.display().to_string())
            .hint("pass a valid kubeconfig with `--kubeconfig FILE`")
            .into()
    })
}

fn default_path() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".kube").join("config"))
}

fn context_names(k: &Kubeconfig) -> String {
    if k.contexts.is_empty() {
        return "none".to_string();
    }
    k.contexts.iter().map(|c| format!("`{}`", c.name)).collect::<Vec<_>>().join(", ")
}

/// An error and its sources, `: `-separated.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

fn find_source<'a, T: std::error::Error + 'static>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a T> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = cur {
        if let Some(t) = s.downcast_ref::<T>() {
            return Some(t);
        }
        cur = s.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(path: &str) -> Status {
        let p = format!("{}/tests/fixtures/apiserver/{path}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&p).unwrap();
        let body = text.rsplit_once("\nHTTP ").map(|(b, _)| b).unwrap();
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn the_client_stack_refuses_writes_before_the_network() {
        // Nothing listens there: a request that got past the guard would fail
        // with a connection error instead.
        let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let cluster = Cluster::from_config(config, "test".into()).unwrap();
            for req in [
                http::Request::delete("/api/v1/namespaces/shop").body(Vec::new()).unwrap(),
                http::Request::patch("/api/v1/namespaces/shop/configmaps/c?fieldManager=strata")
                    .body(Vec::new())
                    .unwrap(),
                http::Request::post("/api/v1/namespaces").body(Vec::new()).unwrap(),
            ] {
                let what = request::describe(&req);
                let e = cluster.client.request_text(req).await.unwrap_err();
                let mapped = cluster.request_error(&what, e);
                assert_eq!(mapped.kind, ErrorKind::Bug, "{mapped}");
                assert!(mapped.diagnostics[0].message.starts_with(&format!("refused to send `{what}`")), "{mapped}");
            }
        });
    }

    #[test]
    fn conflicts_name_the_owning_manager() {
        let c = parse_conflict(&status("errors/ssa-conflict.http"));
        assert_eq!(c.managers, vec!["ops"]);
        assert_eq!(c.fields, vec![".spec.ports[port=80,protocol=\"TCP\"].targetPort"]);
        assert!(c.message.starts_with("Apply failed with 1 conflict"));
    }

    #[test]
    fn conflicts_without_causes_are_read_from_the_message() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas",
                &["kubectl-edit"],
                &[".spec.replicas"],
            ),
            (
                "Apply failed with 2 conflicts: conflicts with \"hpa\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"a\"].resources",
                &["hpa"],
                &[".spec.replicas", ".spec.template.spec.containers[name=\"a\"].resources"],
            ),
            ("something else", &[], &[]),
        ];
        for (msg, managers, fields) in cases {
            let s = Status { code: 409, message: msg.to_string(), ..Status::default() };
            let c = parse_conflict(&s);
            assert_eq!(c.managers, *managers, "{msg}");
            assert_eq!(c.fields, *fields, "{msg}");
        }
    }
}
