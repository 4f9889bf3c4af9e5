//! Signing commits as git does: the program git config names signs the commit
//! object as it would be without its `gpgsig` header, and the armored
//! signature becomes that header, so `git verify-commit` checks it.
//!
//! `gpg.format`: `ssh` → `gpg.ssh.program` (default `ssh-keygen`) `-Y sign -n git
//! -f KEY` with `user.signingKey` a key file (`~/` expanded) or a literal
//! `key::ssh-…` / `ssh-…` public key whose private half is in the agent;
//! `openpgp` (the default) → `gpg.openpgp.program` / `gpg.program` (default
//! `gpg`) `--status-fd=2 -bsau KEY`, KEY being `user.signingKey` or the
//! committer's `Name <email>`. `x509` is not supported.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::diag::{Diagnostic, Error};

/// How commits are signed, read from git config before anything is written.
#[derive(Debug, Clone)]
pub enum Signer {
    Ssh { program: String, key: SshKey },
    OpenPgp { program: String, key: String },
}

#[derive(Debug, Clone)]
pub enum SshKey {
    File(PathBuf),
    /// A public key given literally: the agent holds its private half.
    Literal(String),
}

impl Signer {
    /// The signer `repo`'s git config describes; `committer` is openpgp's default key.
    pub fn from_config(repo: &gix::Repository, committer: &gix::actor::Signature) -> Result<Signer, Error> {
        let config = repo.config_snapshot();
        let get = |key: &str| config.string(key).map(|v| v.to_string());
        let format = get("gpg.format").unwrap_or_else(|| "openpgp".into());
        let key = get("user.signingKey");
        match format.as_str() {
            "ssh" => {
                let program = get("gpg.ssh.program").unwrap_or_else(|| "ssh-keygen".into());
                let key = key.ok_or_else(|| {
                    Diagnostic::error("`--sign` with `gpg.format ssh` needs `user.signingKey`")
                        .hint("name the key as for `git commit -S`: `git config user.signingKey ~/.ssh/id_ed25519`")
                })?;
                let key = match key.strip_prefix("key::") {
                    Some(literal) => SshKey::Literal(literal.to_string()),
                    None if key.starts_with("ssh-") => SshKey::Literal(key),
                    None => SshKey::File(expand_home(&key)),
                };
                Ok(Signer::Ssh { program, key })
            }
            "openpgp" => {
                let program = get("gpg.openpgp.program").or_else(|| get("gpg.program")).unwrap_or_else(|| "gpg".into());
                let key = key.unwrap_or_else(|| format!("{} <{}>", committer.name, committer.email));
                Ok(Signer::OpenPgp { program, key })
            }
            other => Err(Diagnostic::error(format!("`gpg.format {other}` is not supported by `--sign`"))
                .hint("use `gpg.format ssh` or `openpgp` (git's default)")
                .into()),
        }
    }

    /// The armored signature of `payload`.
    pub fn sign(&self, payload: &[u8]) -> Result<String, Error> {
        match self {
            Signer::Ssh { program, key } => sign_ssh(program, key, payload),
            Signer::OpenPgp { program, key } => sign_openpgp(program, key, payload),
        }
    }
}

fn sign_ssh(program: &str, key: &SshKey, payload: &[u8]) -> Result<String, Error> {
    let dir = tempfile::tempdir().map_err(|e| Diagnostic::error(format!("cannot make a temporary directory: {e}")))?;
    let buffer = dir.path().join("commit");
    std::fs::write(&buffer, payload).map_err(|e| Diagnostic::error(format!("cannot write the commit to sign: {e}")))?;
    let mut cmd = Command::new(program);
    cmd.args(["-Y", "sign", "-n", "git", "-f"]);
    match key {
        SshKey::File(path) => {
            cmd.arg(path);
        }
        SshKey::Literal(text) => {
            let file = dir.path().join("key.pub");
            std::fs::write(&file, format!("{text}\n"))
                .map_err(|e| Diagnostic::error(format!("cannot write the signing key: {e}")))?;
            cmd.arg(file).arg("-U");
        }
    }
    let out = run(cmd.arg(&buffer), None, program)?;
    let _ = out;
    let sig = std::fs::read_to_string(dir.path().join("commit.sig"))
        .map_err(|e| Diagnostic::error(format!("`{program}` wrote no signature: {e}")))?;
    Ok(sig)
}

fn sign_openpgp(program: &str, key: &str, payload: &[u8]) -> Result<String, Error> {
    let mut cmd = Command::new(program);
    cmd.args(["--status-fd=2", "-bsau", key]);
    let out = run(&mut cmd, Some(payload), program)?;
    let status = String::from_utf8_lossy(&out.stderr);
    if !status.contains("\n[GNUPG:] SIG_CREATED ") && !status.starts_with("[GNUPG:] SIG_CREATED ") {
        return Err(Diagnostic::error(format!("`{program}` made no signature")).note(status.trim().to_string()).into());
    }
    String::from_utf8(out.stdout)
        .map_err(|_| Diagnostic::error(format!("`{program}` wrote a signature that is not text")).into())
}

/// Runs a signing program, `input` on its stdin; an error carries its stderr.
fn run(cmd: &mut Command, input: Option<&[u8]>, program: &str) -> Result<std::process::Output, Error> {
    let mut child = cmd
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Diagnostic::error(format!("cannot run the signing program `{program}`: {e}"))
                .hint("install it, or name it in git config (`gpg.ssh.program`, `gpg.program`)")
        })?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        let _ = stdin.write_all(input);
    }
    let out = child.wait_with_output().map_err(|e| Diagnostic::error(format!("`{program}` failed: {e}")))?;
    if !out.status.success() {
        return Err(Diagnostic::error(format!("`{program}` could not sign the commit ({})", out.status))
            .note(String::from_utf8_lossy(&out.stderr).trim().to_string())
            .hint("check `user.signingKey` (and that the key's agent or passphrase is available)")
            .into());
    }
    Ok(out)
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}
