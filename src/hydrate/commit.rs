//! What a hydrated commit says: its message with the `Argocd-reference-commit-*`
//! trailers, `hydrator.metadata` and `README.md` (the fields and wording of Argo
//! CD's source hydrator), and the commit object itself, signed when asked.
//!
//! In: the source ("dry") commit ([`DryCommit`]) and the hydrating identity.
//! Out: bytes and object ids. Invariants: everything is a function of the dry
//! commit, the identity and the tree: the commit's dates are the dry commit's
//! committer date, so hydrating the same commit onto the same parent twice
//! writes the same commit (an SSH signature is deterministic too).

use std::fmt::Write as _;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::objs::WriteTo;

use super::sign::Signer;
use crate::diag::Error;
use crate::release::cherry_pick::git_error;

pub const METADATA: &str = "hydrator.metadata";
pub const README: &str = "README.md";

/// The source commit a hydration renders.
#[derive(Debug, Clone)]
pub struct DryCommit {
    pub sha: ObjectId,
    /// How the revision was named (`HEAD`, `main`, `v1.2`).
    pub given: String,
    pub subject: String,
    /// The message after the subject line, without the blank line.
    pub body: String,
    /// `Name <email>`.
    pub author: String,
    /// The author date, ISO 8601 (`git show -s --format=%aI`).
    pub date: String,
    /// The committer date: the hydrated commit's date.
    pub time: gix::date::Time,
    /// The source repository's URL (credentials removed), when known.
    pub repo_url: Option<String>,
    /// The configuration root inside the git tree (`--repo`), `""` at the top.
    pub prefix: String,
}

impl DryCommit {
    /// Reads `sha` from `repo`.
    pub fn read(repo: &gix::Repository, sha: ObjectId, given: &str) -> Result<DryCommit, Error> {
        let c = repo.find_commit(sha).map_err(|e| git_error("read commit", given, e))?;
        let message = c.message_raw_sloppy().to_str_lossy().into_owned();
        let (subject, body) = match message.split_once('\n') {
            Some((s, b)) => (s.trim_end().to_string(), b.trim_start_matches('\n').to_string()),
            None => (message.trim_end().to_string(), String::new()),
        };
        let author = c.author().map_err(|e| git_error("read the author of", given, e))?;
        let author_time = author.time().map_err(|e| git_error("read the author date of", given, e))?;
        let committer = c.committer().map_err(|e| git_error("read the committer of", given, e))?;
        let time = committer.time().map_err(|e| git_error("read the commit date of", given, e))?;
        Ok(DryCommit {
            sha,
            given: given.to_string(),
            subject,
            body,
            author: format!("{} <{}>", author.name.trim().to_str_lossy(), author.email.trim().to_str_lossy()),
            date: author_time.format_or_unix(gix::date::time::format::ISO8601_STRICT),
            time,
            repo_url: None,
            prefix: String::new(),
        })
    }

    pub fn short(&self) -> String {
        self.sha.to_hex_with_len(12).to_string()
    }

    /// The command that writes a hydrated path's bundle files again.
    pub fn command(&self, path: &str, environments: &[String]) -> String {
        let mut cmd = String::from("strata bundle");
        if !self.prefix.is_empty() {
            let _ = write!(cmd, " --repo {}", self.prefix);
        }
        let out = if path.is_empty() { "bundle" } else { path };
        let _ = write!(cmd, " --ref {} --out {out}", self.sha);
        for e in environments {
            let _ = write!(cmd, " @{e}");
        }
        cmd
    }

    /// The hydrated commit's message: the dry commit's subject, what was
    /// hydrated, and the trailers Argo CD and GitOps Promoter read.
    pub fn message(&self, environments: &[String]) -> String {
        let mut m = format!("{}: {}\n\n", self.short(), self.subject);
        let plural = if environments.len() == 1 { "" } else { "s" };
        let _ = writeln!(
            m,
            "Hydrated by `strata hydrate` from `{}` ({}): environment{plural} `{}`.\n",
            self.given,
            self.sha,
            environments.join("`, `")
        );
        let _ = writeln!(m, "Argocd-reference-commit-sha: {}", self.sha);
        let _ = writeln!(m, "Argocd-reference-commit-author: {}", self.author);
        let _ = writeln!(m, "Argocd-reference-commit-date: {}", self.date);
        let _ = writeln!(m, "Argocd-reference-commit-subject: {}", self.subject);
        if let Some(url) = &self.repo_url {
            let _ = writeln!(m, "Argocd-reference-commit-repourl: {url}");
        }
        m
    }

    /// `hydrator.metadata`: Argo CD's fields, in its order, indented as it writes them.
    pub fn metadata(&self, command: &str) -> Vec<u8> {
        let mut v = serde_json::Map::new();
        if let Some(url) = &self.repo_url {
            v.insert("repoURL".into(), url.clone().into());
        }
        v.insert("drySha".into(), self.sha.to_string().into());
        v.insert("commands".into(), vec![command.to_string()].into());
        v.insert("author".into(), self.author.clone().into());
        v.insert("date".into(), self.date.clone().into());
        v.insert("subject".into(), self.subject.clone().into());
        if !self.body.trim().is_empty() {
            v.insert("body".into(), self.body.clone().into());
        }
        let mut text = serde_json::to_string_pretty(&v).unwrap_or_default();
        text.push('\n');
        text.into_bytes()
    }

    /// `README.md` of a hydrated path: how to make its files again (Argo CD's text).
    pub fn readme(&self, command: &str, environments: &[String]) -> Vec<u8> {
        let mut r = String::from("# Manifest Hydration\n\n");
        r.push_str("To hydrate the manifests in this repository, run the following commands:\n\n```shell\n");
        if let Some(url) = &self.repo_url {
            let _ = writeln!(r, "git clone {url}\n# cd into the cloned directory");
        }
        let _ = writeln!(r, "git checkout {}\n{command}\n```\n", self.sha);
        let _ = writeln!(
            r,
            "Written by `strata hydrate` from `{}` ({}: {}): the bundle of `{}`, as `strata bundle` writes it. \
             The next run replaces everything under this path; edit the source repository instead.",
            self.given,
            self.short(),
            self.subject,
            environments.join("`, `")
        );
        r.into_bytes()
    }
}

/// Writes the commit of `tree` on `parent` as `identity` at the dry commit's
/// date, signed by `signer` when given.
pub fn write(
    repo: &gix::Repository,
    tree: ObjectId,
    parent: Option<ObjectId>,
    identity: &gix::actor::Signature,
    time: gix::date::Time,
    message: &str,
    signer: Option<&Signer>,
) -> Result<ObjectId, Error> {
    let mut who = identity.clone();
    who.time = time;
    let mut commit = gix::objs::Commit {
        tree,
        parents: parent.into_iter().collect(),
        author: who.clone(),
        committer: who,
        encoding: None,
        message: message.into(),
        extra_headers: Vec::new(),
    };
    if let Some(signer) = signer {
        let mut payload = Vec::new();
        commit.write_to(&mut payload).map_err(|e| git_error("serialize", "the commit", e))?;
        let signature = signer.sign(&payload)?;
        commit.extra_headers.push(("gpgsig".into(), signature.into()));
    }
    Ok(repo.write_object(&commit).map_err(|e| git_error("write", "the commit", e))?.detach())
}

/// `url` without a user name or password (`https://user:token@host/x` → `https://host/x`).
pub fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if rest.contains('/') { format!("{scheme}://{host}/{path}") } else { format!("{scheme}://{host}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dry() -> DryCommit {
        DryCommit {
            sha: ObjectId::from_hex(b"0123456789abcdef0123456789abcdef01234567").unwrap(),
            given: "main".into(),
            subject: "frontend: two replicas".into(),
            body: "More traffic.\n".into(),
            author: "Ada <ada@example.com>".into(),
            date: "2026-01-02T03:04:05+01:00".into(),
            time: gix::date::Time { seconds: 0, offset: 0 },
            repo_url: Some("https://git.example.com/shop/config.git".into()),
            prefix: "config".into(),
        }
    }

    #[test]
    fn message_names_the_source_and_carries_argo_trailers() {
        let m = dry().message(&["eastus".into()]);
        assert!(m.starts_with("0123456789ab: frontend: two replicas\n\n"), "{m}");
        for line in [
            "Argocd-reference-commit-sha: 0123456789abcdef0123456789abcdef01234567",
            "Argocd-reference-commit-author: Ada <ada@example.com>",
            "Argocd-reference-commit-date: 2026-01-02T03:04:05+01:00",
            "Argocd-reference-commit-subject: frontend: two replicas",
            "Argocd-reference-commit-repourl: https://git.example.com/shop/config.git",
        ] {
            assert!(m.lines().any(|l| l == line), "{line} missing from\n{m}");
        }
        // The trailers are the last paragraph, as git interpret-trailers wants them.
        assert!(m.trim_end().rsplit("\n\n").next().unwrap().lines().all(|l| l.starts_with("Argocd-reference-commit-")));
    }

    #[test]
    fn metadata_has_argo_fields_in_order() {
        let d = dry();
        let cmd = d.command("deploy/eastus", &["eastus".into()]);
        assert_eq!(
            cmd,
            "strata bundle --repo config --ref 0123456789abcdef0123456789abcdef01234567 --out deploy/eastus @eastus"
        );
        let text = String::from_utf8(d.metadata(&cmd)).unwrap();
        let keys: Vec<&str> =
            text.lines().filter_map(|l| l.strip_prefix("  \"")).map(|l| l.split('"').next().unwrap()).collect();
        assert_eq!(keys, ["repoURL", "drySha", "commands", "author", "date", "subject", "body"]);
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn urls_lose_their_credentials() {
        for (url, want) in [
            ("https://user:token@git.example.com/x.git", "https://git.example.com/x.git"),
            ("git://127.0.0.1:9418/repo", "git://127.0.0.1:9418/repo"),
            ("ssh://git@host", "ssh://host"),
            ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ] {
            assert_eq!(without_credentials(url), want);
        }
    }
}
