//! The registry: pushes and pulls through oci-client (the ORAS project's OCI
//! distribution client), with what it leaves to its callers added here:
//!
//! - plain HTTP only for a registry on this machine or with `--insecure`
//!   (oci-client takes the list of such registries; HTTPS everywhere else);
//! - retries with backoff (0.25 s doubling, 5 attempts) on 5xx answers, timeouts
//!   and broken connections ([`transient`]);
//! - errors as diagnostics naming the registry and the operation; a registry
//!   refusing the credentials says so, names where they came from and never
//!   shows the secret ([`Failure::Refused`]).
//!
//! In: an [`OciRef`] and a [`Credential`]. Out: blobs and manifests pushed or
//! pulled, as bytes.

use std::future::Future;
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};

use super::credentials::Credential;
use super::reference::OciRef;
use crate::diag::Diagnostic;

/// Attempts of one operation before a transient failure is reported.
const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// How an operation failed.
#[derive(Debug)]
pub enum Failure {
    /// The registry has no such manifest or blob (or repository).
    NotFound,
    /// The registry refused the credentials (401 / 403).
    Refused,
    /// Anything else, with the client's words.
    Other(String),
}

/// A connection to one registry, for one repository.
pub struct Registry {
    client: Client,
    auth: RegistryAuth,
    credential: Credential,
    runtime: tokio::runtime::Runtime,
    /// `ghcr.io`, as messages name it.
    pub host: String,
    pub plain_http: bool,
}

impl Registry {
    /// A client for `at`'s registry: plain HTTP when it is on this machine or
    /// `insecure`, HTTPS otherwise.
    pub fn new(at: &OciRef, credential: Credential, insecure: bool) -> Result<Registry, Diagnostic> {
        // oci-client's reqwest is built without a TLS provider: the one kube uses (ring).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let plain_http = insecure || at.is_loopback();
        let protocol =
            if plain_http { ClientProtocol::HttpsExcept(vec![at.registry.clone()]) } else { ClientProtocol::Https };
        let config = ClientConfig {
            protocol,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("strata/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        let auth = match &credential {
            Credential::Anonymous => RegistryAuth::Anonymous,
            Credential::Basic { username, password, .. } => RegistryAuth::Basic(username.clone(), password.clone()),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Diagnostic::error(format!("cannot start the network runtime: {e}")))?;
        Ok(Registry { client: Client::new(config), auth, credential, runtime, host: at.registry.clone(), plain_http })
    }

    fn reference(at: &OciRef) -> Reference {
        match (&at.digest, &at.tag) {
            (Some(d), _) => Reference::with_digest(at.registry.clone(), at.repository.clone(), d.clone()),
            (None, Some(t)) => Reference::with_tag(at.registry.clone(), at.repository.clone(), t.clone()),
            (None, None) => Reference::with_tag(at.registry.clone(), at.repository.clone(), "latest".into()),
        }
    }

    /// Authenticates for `op` on `at`'s repository (a bearer token, or basic
    /// credentials kept for every request).
    pub fn login(&self, at: &OciRef, push: bool) -> Result<(), Diagnostic> {
        let op = if push { RegistryOperation::Push } else { RegistryOperation::Pull };
        let r = Self::reference(at);
        self.run(at, "authenticate", || self.client.auth(&r, &self.auth, op)).map(|_| ())
    }

    /// Whether the repository holds blob `digest`.
    pub fn has_blob(&self, at: &OciRef, digest: &str) -> Result<bool, Diagnostic> {
        let r = Self::reference(at);
        match self.attempt(|| self.client.blob_exists(&r, digest)) {
            Ok(v) => Ok(v),
            Err(f) => Err(self.describe(at, &format!("look up blob {digest}"), f)),
        }
    }

    /// Uploads a blob.
    pub fn push_blob(&self, at: &OciRef, bytes: &[u8], digest: &str) -> Result<(), Diagnostic> {
        let r = Self::reference(at);
        self.run(at, &format!("upload blob {digest}"), || self.client.push_blob(&r, bytes.to_vec(), digest)).map(|_| ())
    }

    /// Puts a manifest at `at` (its tag or digest).
    pub fn push_manifest(&self, at: &OciRef, bytes: &[u8], media_type: &str) -> Result<(), Diagnostic> {
        let r = Self::reference(at);
        let content_type = http::HeaderValue::from_str(media_type).map_err(|e| Diagnostic::error(e.to_string()))?;
        let what = format!("put the manifest at `{}`", at.tag.as_deref().or(at.digest.as_deref()).unwrap_or(""));
        self.run(at, &what, || self.client.push_manifest_raw(&r, bytes.to_vec(), content_type.clone())).map(|_| ())
    }

    /// The manifest at `at` (its bytes and digest), or [`Failure::NotFound`].
    pub fn pull_manifest(&self, at: &OciRef, accept: &[&str]) -> Result<(Vec<u8>, String), (Failure, Diagnostic)> {
        let r = Self::reference(at);
        match self.attempt(|| self.client.pull_manifest_raw(&r, &self.auth, accept)) {
            Ok((bytes, digest)) => Ok((bytes.to_vec(), digest)),
            Err(f) => {
                let kind = match &f {
                    Failure::NotFound => Failure::NotFound,
                    Failure::Refused => Failure::Refused,
                    Failure::Other(m) => Failure::Other(m.clone()),
                };
                Err((kind, self.describe(at, "read the manifest", f)))
            }
        }
    }

    /// The blob `digest` of `at`'s repository, checked against its digest.
    pub fn pull_blob(&self, at: &OciRef, digest: &str) -> Result<Vec<u8>, Diagnostic> {
        let r = Self::reference(at);
        let got = self.attempt(|| async {
            let mut out: Vec<u8> = Vec::new();
            self.client.pull_blob(&r, digest, &mut out).await.map(|_| out)
        });
        let bytes = got.map_err(|f| self.describe(at, &format!("download blob {digest}"), f))?;
        if super::artifact::digest(&bytes) != digest {
            return Err(Diagnostic::error(format!("blob {digest} from `{}` does not match its digest", self.host))
                .hint("the registry or something between us changed the content: try again, or check the registry"));
        }
        Ok(bytes)
    }

    /// `f` with retries; the error as a diagnostic naming `what`.
    fn run<T, F, Fut>(&self, at: &OciRef, what: &str, f: F) -> Result<T, Diagnostic>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        self.attempt(f).map_err(|failure| self.describe(at, what, failure))
    }

    /// `f` until it succeeds, fails for good, or [`ATTEMPTS`] transient failures.
    fn attempt<T, F, Fut>(&self, f: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        self.runtime.block_on(with_retries(f, FIRST_BACKOFF))
    }

    fn describe(&self, at: &OciRef, what: &str, failure: Failure) -> Diagnostic {
        let place = format!("`{}/{}`", self.host, at.repository);
        match failure {
            Failure::Refused => Diagnostic::error(format!(
                "the registry `{}` refused the credentials ({}) to {what} in {place}",
                self.host,
                self.credential.origin()
            ))
            .hint(format!(
                "check the user and its rights on `{}`: `docker login {}`, or `--username` and `--password-stdin`",
                at.repository, self.host
            )),
            Failure::NotFound => Diagnostic::error(format!("cannot {what} in {place}: not found"))
                .hint("check the repository, tag or digest (`skopeo list-tags docker://HOST/REPOSITORY`)"),
            Failure::Other(m) => {
                let d = Diagnostic::error(format!("cannot {what} in {place}: {m}"));
                if self.plain_http {
                    d.note(format!("`{}` is spoken to over plain HTTP (on this machine, or `--insecure`)", self.host))
                } else {
                    d.hint("the registry is spoken to over HTTPS; a registry on another machine without TLS needs `--insecure`")
                }
            }
        }
    }
}

/// Runs `f`, again after a transient failure, waiting `backoff` doubling.
pub async fn with_retries<T, F, Fut>(mut f: F, backoff: Duration) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, OciDistributionError>>,
{
    let mut wait = backoff;
    let mut attempt = 1;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < ATTEMPTS && transient(&e) => {
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
            Err(e) => return Err(classify(e)),
        }
    }
}

/// A failure worth another attempt: a 5xx answer, a timeout, a broken or refused connection.
pub fn transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code >= 500,
        OciDistributionError::RequestError(r) => {
            r.status().is_some_and(|s| s.is_server_error())
                || r.is_timeout()
                || r.is_connect()
                || r.is_body()
                || (r.status().is_none() && r.is_request())
        }
        OciDistributionError::IoError(_) => true,
        _ => false,
    }
}

fn classify(e: OciDistributionError) -> Failure {
    let status = |code: u16| match code {
        401 | 403 => Some(Failure::Refused),
        404 => Some(Failure::NotFound),
        _ => None,
    };
    match &e {
        OciDistributionError::UnauthorizedError { .. } | OciDistributionError::AuthenticationFailure(_) => {
            return Failure::Refused;
        }
        OciDistributionError::ImageManifestNotFoundError(_) => return Failure::NotFound,
        OciDistributionError::ServerError { code, .. } => {
            if let Some(f) = status(*code) {
                return f;
            }
        }
        OciDistributionError::RequestError(r) => {
            if let Some(f) = r.status().and_then(|s| status(s.as_u16())) {
                return f;
            }
        }
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
            if codes.iter().any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied)) {
                return Failure::Refused;
            }
            if codes.iter().any(|c| {
                matches!(c, OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown | OciErrorCode::BlobUnknown)
            }) {
                return Failure::NotFound;
            }
        }
        _ => {}
    }
    Failure::Other(describe_error(&e))
}

/// The client's error with its causes (a connection refused says so only in its source).
fn describe_error(e: &OciDistributionError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn server_error(code: u16) -> OciDistributionError {
        OciDistributionError::ServerError { code, url: "http://r/v2/".into(), message: "x".into() }
    }

    #[test]
    fn transient_failures_are_retried_then_reported() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        // Two 503s, then success.
        let calls = Cell::new(0);
        let got = rt.block_on(with_retries(
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move { if n < 3 { Err(server_error(503)) } else { Ok(n) } }
            },
            Duration::from_millis(1),
        ));
        assert_eq!(got.unwrap(), 3);
        // Always 502: gives up after ATTEMPTS.
        calls.set(0);
        let got: Result<(), _> = rt.block_on(with_retries(
            || {
                calls.set(calls.get() + 1);
                async { Err(server_error(502)) }
            },
            Duration::from_millis(1),
        ));
        assert!(matches!(got, Err(Failure::Other(_))));
        assert_eq!(calls.get(), ATTEMPTS);
        // A refusal is not retried.
        calls.set(0);
        let got: Result<(), _> = rt.block_on(with_retries(
            || {
                calls.set(calls.get() + 1);
                async { Err(server_error(401)) }
            },
            Duration::from_millis(1),
        ));
        assert!(matches!(got, Err(Failure::Refused)));
        assert_eq!(calls.get(), 1);
    }
}
