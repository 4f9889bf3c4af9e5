//! Registry credentials as users have them: `--username` / `--password-stdin`,
//! else the Docker configuration (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`): `credHelpers` (per registry), `auths` (`auth`
//! = base64 `user:password`, or `username` / `password`), `credsStore` (every
//! registry). A helper is run as `docker-credential-NAME get`, the registry on
//! its standard input, as Docker runs it.
//!
//! Out: a [`Credential`]; its `Debug` never shows the secret, and no error
//! message holds it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use serde::Deserialize;

use crate::diag::Diagnostic;

/// How to authenticate to one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Anonymous,
    /// User name and password (or token): HTTP basic, or exchanged for a bearer token.
    Basic {
        username: String,
        password: String,
        from: String,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Anonymous => write!(f, "Anonymous"),
            Credential::Basic { username, from, .. } => write!(f, "Basic({username}, ***, from {from})"),
        }
    }
}

impl Credential {
    /// Where it came from, for messages: `--username`, `~/.docker/config.json`.
    pub fn origin(&self) -> String {
        match self {
            Credential::Anonymous => "no credentials".to_string(),
            Credential::Basic { username, from, .. } => format!("user `{username}` from {from}"),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

/// The Docker configuration file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// The credential for `registry` from the command line, else the Docker configuration.
pub fn resolve(registry: &str, command_line: Option<(String, String)>) -> Result<Credential, Diagnostic> {
    if let Some((username, password)) = command_line {
        return Ok(Credential::Basic { username, password, from: "--username".to_string() });
    }
    match docker_config_path() {
        Some(path) if path.is_file() => from_docker_config(&path, registry),
        _ => Ok(Credential::Anonymous),
    }
}

/// The credential the Docker configuration at `path` holds for `registry`.
pub fn from_docker_config(path: &Path, registry: &str) -> Result<Credential, Diagnostic> {
    let shown = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| Diagnostic::error(format!("cannot read `{shown}`: {e}")))?;
    let config: DockerConfig = serde_json::from_slice(&text).map_err(|e| {
        Diagnostic::error(format!("`{shown}` is not a Docker configuration: {e}"))
            .at_pos(shown.clone(), e.line(), e.column())
            .hint("fix the JSON, or pass `--username` and `--password-stdin`")
    })?;
    if let Some(helper) = lookup(&config.cred_helpers, registry) {
        return helper_get(helper, registry);
    }
    if let Some(entry) = lookup(&config.auths, registry) {
        return entry_credential(entry, registry, &shown);
    }
    match &config.creds_store {
        Some(store) => match helper_get(store, registry)? {
            // A store that knows nothing of this registry: anonymous, as Docker does.
            Credential::Basic { username, .. } if username.is_empty() => Ok(Credential::Anonymous),
            c => Ok(c),
        },
        None => Ok(Credential::Anonymous),
    }
}

/// The entry for `registry`, keyed as Docker writes them: `HOST`, `https://HOST`, `https://HOST/v1/`.
fn lookup<'c, T>(map: &'c BTreeMap<String, T>, registry: &str) -> Option<&'c T> {
    map.iter().find_map(|(key, v)| {
        let host = key.trim_start_matches("https://").trim_start_matches("http://");
        let host = host.split('/').next().unwrap_or(host);
        (host == registry).then_some(v)
    })
}

fn entry_credential(entry: &AuthEntry, registry: &str, shown: &str) -> Result<Credential, Diagnostic> {
    let from = format!("`{shown}`");
    if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
        return Ok(Credential::Basic { username: u.clone(), password: p.clone(), from });
    }
    let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) else { return Ok(Credential::Anonymous) };
    let bad = || {
        Diagnostic::error(format!("the `auth` of `{registry}` in `{shown}` is not base64 of `user:password`"))
            .hint(format!("log in again (`docker login {registry}`), or pass `--username` and `--password-stdin`"))
    };
    let decoded = base64::engine::general_purpose::STANDARD.decode(auth.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (u, p) = decoded.split_once(':').ok_or_else(bad)?;
    Ok(Credential::Basic { username: u.to_string(), password: p.to_string(), from })
}

/// `docker-credential-NAME get` with `registry` on its standard input.
fn helper_get(name: &str, registry: &str) -> Result<Credential, Diagnostic> {
    let program = format!("docker-credential-{name}");
    let failed = |why: String| {
        Diagnostic::error(format!("the credential helper `{program}` gave no credentials for `{registry}`: {why}"))
            .hint(format!("check `echo {registry} | {program} get`, or pass `--username` and `--password-stdin`"))
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("cannot run it: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(registry.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| failed(e.to_string()))?;
    if !out.status.success() {
        // Helpers say "credentials not found in native keychain" on stdout; never a secret.
        let said = String::from_utf8_lossy(if out.stdout.is_empty() { &out.stderr } else { &out.stdout });
        if said.to_lowercase().contains("not found") {
            return Ok(Credential::Anonymous);
        }
        return Err(failed(format!("exit {}: {}", out.status.code().unwrap_or(-1), said.trim())));
    }
    let answer: HelperAnswer = serde_json::from_slice(&out.stdout)
        .map_err(|_| failed("its answer is not JSON with `Username` and `Secret`".into()))?;
    Ok(Credential::Basic { username: answer.username, password: answer.secret, from: format!("`{program}`") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn auths_are_found_under_every_key_form() {
        let auth = base64::engine::general_purpose::STANDARD.encode("ci:s3cret");
        for key in ["127.0.0.1:5000", "https://127.0.0.1:5000", "https://127.0.0.1:5000/v1/"] {
            let (_d, path) = config(&format!(r#"{{"auths": {{"{key}": {{"auth": "{auth}"}}}}}}"#));
            match from_docker_config(&path, "127.0.0.1:5000").unwrap() {
                Credential::Basic { username, password, .. } => assert_eq!((&*username, &*password), ("ci", "s3cret")),
                c => panic!("{key}: {c:?}"),
            }
        }
        let (_d, path) = config(&format!(r#"{{"auths": {{"ghcr.io": {{"auth": "{auth}"}}}}}}"#));
        assert_eq!(from_docker_config(&path, "127.0.0.1:5000").unwrap(), Credential::Anonymous);
    }

    #[test]
    fn debug_and_messages_never_show_the_secret() {
        let c = Credential::Basic { username: "ci".into(), password: "s3cret".into(), from: "x".into() };
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(!c.origin().contains("s3cret"));
        let (_d, path) = config(r#"{"auths": {"r.io": {"auth": "bm90LWEtcGFpcg=="}}}"#);
        let e = from_docker_config(&path, "r.io").unwrap_err();
        assert!(e.message.contains("`auth` of `r.io`"), "{}", e.message);
    }

    #[test]
    fn a_missing_helper_is_named() {
        let (_d, path) = config(r#"{"credHelpers": {"r.io": "strata-test-absent"}}"#);
        let e = from_docker_config(&path, "r.io").unwrap_err();
        assert!(e.message.contains("docker-credential-strata-test-absent"), "{}", e.message);
    }
}
