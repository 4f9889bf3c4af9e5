//! The request layer: every HTTP request strata sends to a cluster, and the
//! guard that keeps them read-only.
//!
//! In: a resolved API kind ([`ApiKind`]), a namespace, a name, an object body.
//! Out: `http::Request`s — `GET` of one object, label-selected `GET` lists, and
//! server-side apply **dry-runs** (`PATCH …?dryRun=All&fieldManager=strata`).
//!
//! Invariant: strata never changes a cluster. [`check_read_only`] accepts a
//! `GET`, or any other method only with `dryRun=All` in its query; every
//! builder here satisfies it (tested below), and [`ReadOnlyLayer`] applies it
//! to every request the kube client sends — ours and kube-rs's own discovery
//! requests — before anything reaches the network.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use kube::core::params::{GetParams, ListParams, Patch, PatchParams};
use serde_json::Value;

use super::discovery::ApiKind;

/// The field manager strata's dry-run applies use; `strata bundle` output applied
/// with `kubectl apply --server-side --field-manager=strata` matches it.
pub const FIELD_MANAGER: &str = "strata";

/// A request that could not be built (a name the API path cannot hold).
#[derive(Debug, thiserror::Error)]
#[error("cannot build request: {0}")]
pub struct BuildError(String);

/// The collection path of a kind: `/api/v1/namespaces/shop/configmaps`,
/// `/apis/apps/v1/deployments` (all namespaces) or `/apis/apiextensions.k8s.io/v1/customresourcedefinitions`.
pub fn collection_path(kind: &ApiKind, namespace: Option<&str>) -> String {
    let root = if kind.group.is_empty() {
        format!("/api/{}", kind.version)
    } else {
        format!("/apis/{}/{}", kind.group, kind.version)
    };
    match namespace.filter(|_| kind.namespaced) {
        Some(ns) => format!("{root}/namespaces/{ns}/{}", kind.plural),
        None => format!("{root}/{}", kind.plural),
    }
}

fn checked_segment(what: &str, s: &str) -> Result<(), BuildError> {
    // Names and namespaces are DNS-style; anything that could change the path is refused.
    if s.is_empty() || s.contains(['/', '?', '#', '%']) || s == "." || s == ".." {
        return Err(BuildError(format!("{what} `{s}` cannot be part of an API path")));
    }
    Ok(())
}

/// `GET` one object.
pub fn get(kind: &ApiKind, namespace: Option<&str>, name: &str) -> Result<http::Request<Vec<u8>>, BuildError> {
    checked_segment("name", name)?;
    if let Some(ns) = namespace {
        checked_segment("namespace", ns)?;
    }
    kube::core::Request::new(collection_path(kind, namespace))
        .get(name, &GetParams::default())
        .map_err(|e| BuildError(e.to_string()))
}

/// `GET` the objects matching a label selector, in one namespace or in all.
pub fn list(
    kind: &ApiKind,
    namespace: Option<&str>,
    label_selector: &str,
) -> Result<http::Request<Vec<u8>>, BuildError> {
    if let Some(ns) = namespace {
        checked_segment("namespace", ns)?;
    }
    kube::core::Request::new(collection_path(kind, namespace))
        .list(&ListParams::default().labels(label_selector))
        .map_err(|e| BuildError(e.to_string()))
}

/// Server-side apply of `body` as field manager `strata`, as a dry-run:
/// `PATCH …/name?dryRun=All&fieldManager=strata` with `application/apply-patch+yaml`.
/// Not forced, a field owned by another manager comes back as a 409 conflict;
/// `force` (`&force=true`, still a dry-run) asks what taking the fields over would do.
pub fn dry_run_apply(
    kind: &ApiKind,
    namespace: Option<&str>,
    name: &str,
    body: &Value,
    force: bool,
) -> Result<http::Request<Vec<u8>>, BuildError> {
    checked_segment("name", name)?;
    if let Some(ns) = namespace {
        checked_segment("namespace", ns)?;
    }
    let params = PatchParams::apply(FIELD_MANAGER).dry_run();
    let params = if force { params.force() } else { params };
    kube::core::Request::new(collection_path(kind, namespace))
        .patch(name, &params, &Patch::Apply(body))
        .map_err(|e| BuildError(e.to_string()))
}

/// `METHOD path?query`, how requests are named in error messages.
pub fn describe<B>(req: &http::Request<B>) -> String {
    format!("{} {}", req.method(), req.uri())
}

/// The read-only rule: a `GET`, or any other method with `dryRun=All` in its query.
pub fn check_read_only(method: &http::Method, uri: &http::Uri) -> Result<(), ReadOnlyViolation> {
    if method == http::Method::GET {
        return Ok(());
    }
    let dry = uri.query().is_some_and(|q| q.split('&').any(|pair| pair == "dryRun=All"));
    if dry { Ok(()) } else { Err(ReadOnlyViolation(format!("{method} {uri}"))) }
}

/// A request that would have changed the cluster; never sent.
#[derive(Debug, thiserror::Error)]
#[error("refused to send `{0}`: strata only reads from clusters (a request other than GET needs `dryRun=All`)")]
pub struct ReadOnlyViolation(pub String);

/// A tower layer applying [`check_read_only`] to every request of a kube client.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOnlyLayer;

impl<S> tower::Layer<S> for ReadOnlyLayer {
    type Service = ReadOnly<S>;

    fn layer(&self, inner: S) -> ReadOnly<S> {
        ReadOnly { inner }
    }
}

/// The service [`ReadOnlyLayer`] wraps around a client stack.
#[derive(Debug, Clone)]
pub struct ReadOnly<S> {
    inner: S,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, B> tower::Service<http::Request<B>> for ReadOnly<S>
where
    S: tower::Service<http::Request<B>>,
    S::Response: Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if let Err(violation) = check_read_only(req.method(), req.uri()) {
            return Box::pin(std::future::ready(Err(Box::new(violation) as BoxError)));
        }
        let fut = self.inner.call(req);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> ApiKind {
        ApiKind {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced,
            verbs: vec!["get".into(), "list".into(), "patch".into()],
        }
    }

    #[test]
    fn paths_follow_group_version_and_scope() {
        let cm = kind("", "v1", "ConfigMap", "configmaps", true);
        let dep = kind("apps", "v1", "Deployment", "deployments", true);
        let ns = kind("", "v1", "Namespace", "namespaces", false);
        let cases = [
            (&cm, Some("shop"), "/api/v1/namespaces/shop/configmaps"),
            (&cm, None, "/api/v1/configmaps"),
            (&dep, Some("shop"), "/apis/apps/v1/namespaces/shop/deployments"),
            (&ns, Some("ignored"), "/api/v1/namespaces"),
        ];
        for (k, n, expect) in cases {
            assert_eq!(collection_path(k, n), expect);
        }
    }

    #[test]
    fn every_request_strata_builds_is_read_only() {
        let dep = kind("apps", "v1", "Deployment", "deployments", true);
        let body =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop", "namespace": "shop"}});
        let reqs = [
            get(&dep, Some("shop"), "shop").unwrap(),
            list(&dep, Some("shop"), "strata.dev/target=shop.eastus").unwrap(),
            list(&dep, None, "strata.dev/target in (a.b,c.d)").unwrap(),
            dry_run_apply(&dep, Some("shop"), "shop", &body, false).unwrap(),
            dry_run_apply(&dep, Some("shop"), "shop", &body, true).unwrap(),
        ];
        for r in &reqs {
            check_read_only(r.method(), r.uri()).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(reqs[0].method(), http::Method::GET);
        assert_eq!(reqs[0].uri(), "/apis/apps/v1/namespaces/shop/deployments/shop");
        assert_eq!(
            reqs[1].uri(),
            "/apis/apps/v1/namespaces/shop/deployments?&labelSelector=strata.dev%2Ftarget%3Dshop.eastus"
        );
    }

    #[test]
    fn dry_run_apply_is_a_server_side_apply_dry_run() {
        let cm = kind("", "v1", "ConfigMap", "configmaps", true);
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
        let r = dry_run_apply(&cm, Some("shop"), "c", &body, false).unwrap();
        assert_eq!(r.method(), http::Method::PATCH);
        assert_eq!(r.uri(), "/api/v1/namespaces/shop/configmaps/c?&dryRun=All&fieldManager=strata");
        assert_eq!(r.headers()["content-type"], "application/apply-patch+yaml");
        assert!(!r.uri().query().unwrap().contains("force"), "conflicts must surface, not be forced");
        let sent: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(sent, body);
        // Forced after a conflict: still a dry-run.
        let r = dry_run_apply(&cm, Some("shop"), "c", &body, true).unwrap();
        assert_eq!(r.uri(), "/api/v1/namespaces/shop/configmaps/c?&dryRun=All&force=true&fieldManager=strata");
        check_read_only(r.method(), r.uri()).unwrap();
    }

    #[test]
    fn the_guard_refuses_anything_that_could_write() {
        let cases: &[(&str, &str, bool)] = &[
            ("GET", "/api/v1/namespaces/shop/configmaps/c", true),
            ("PATCH", "/api/v1/namespaces/shop/configmaps/c?dryRun=All&fieldManager=strata", true),
            ("PATCH", "/api/v1/namespaces/shop/configmaps/c?fieldManager=strata&dryRun=All", true),
            ("POST", "/api/v1/namespaces/shop/configmaps?dryRun=All", true),
            ("PATCH", "/api/v1/namespaces/shop/configmaps/c?fieldManager=strata", false),
            ("PATCH", "/api/v1/namespaces/shop/configmaps/c?dryRun=None", false),
            ("PATCH", "/api/v1/namespaces/shop/configmaps/c?xdryRun=All", false),
            ("PATCH", "/api/v1/namespaces/shop/configmaps/c?dryRun=Allx", false),
            ("PUT", "/api/v1/namespaces/shop/configmaps/c", false),
            ("DELETE", "/api/v1/namespaces/shop/configmaps/c", false),
            ("POST", "/api/v1/namespaces", false),
            ("HEAD", "/api", false),
        ];
        for (m, u, ok) in cases {
            let method: http::Method = m.parse().unwrap();
            let uri: http::Uri = u.parse().unwrap();
            assert_eq!(check_read_only(&method, &uri).is_ok(), *ok, "{m} {u}");
        }
    }

    #[test]
    fn names_that_would_change_the_path_are_refused() {
        let cm = kind("", "v1", "ConfigMap", "configmaps", true);
        for bad in ["a/b", "..", "a?b", "a%2Fb", ""] {
            assert!(get(&cm, Some("shop"), bad).is_err(), "{bad}");
            assert!(dry_run_apply(&cm, Some("shop"), bad, &json!({}), false).is_err(), "{bad}");
            assert!(get(&cm, Some(bad), "c").is_err(), "{bad}");
            assert!(list(&cm, Some(bad), "a=b").is_err(), "{bad}");
        }
    }

    #[test]
    fn the_layer_stops_a_write_before_the_inner_service() {
        use tower::{Layer, Service};
        // An inner service that records whether it was called.
        #[derive(Clone)]
        struct Recorder(std::sync::Arc<std::sync::atomic::AtomicUsize>);
        impl tower::Service<http::Request<()>> for Recorder {
            type Response = ();
            type Error = BoxError;
            type Future = std::future::Ready<Result<(), BoxError>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, _: http::Request<()>) -> Self::Future {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                std::future::ready(Ok(()))
            }
        }
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut svc = ReadOnlyLayer.layer(Recorder(calls.clone()));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let write = http::Request::delete("/api/v1/namespaces/shop").body(()).unwrap();
        let err = rt.block_on(svc.call(write)).unwrap_err();
        assert!(err.to_string().contains("refused to send `DELETE /api/v1/namespaces/shop`"), "{err}");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
        let read = http::Request::get("/api").body(()).unwrap();
        rt.block_on(svc.call(read)).unwrap();
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
