//! `--push REMOTE`: every moved branch in one `git push --atomic`, each with
//! the value the remote is expected to hold (`--force-with-lease=REF:OLD`, or
//! `REF:` for a branch the remote must not have). gix cannot push, so git's
//! own transport does it: `git` must be on `PATH`, which [`check_git`] makes
//! sure of before anything is written.
//!
//! All or none: the remote applies every update or refuses them all (a lease
//! that does not hold, a hook that rejects one branch), and the error carries
//! git's report of each ref.

use std::path::Path;
use std::process::Command;

use gix::ObjectId;

use crate::diag::{Diagnostic, Error};

/// One branch to push.
#[derive(Debug, Clone)]
pub struct Update {
    pub branch: String,
    pub new: ObjectId,
    /// What the remote is expected to hold; `None`: no such branch.
    pub expected: Option<ObjectId>,
}

/// Fails unless `git` runs.
pub fn check_git() -> Result<(), Error> {
    match Command::new("git").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(Diagnostic::error("`--push` needs `git` on `PATH`: gix, which strata uses, cannot push yet")
            .hint("install git, or hydrate without `--push` and push the `env/*` branches yourself")
            .into()),
    }
}

/// The arguments of the push (after `git -C DIR`).
pub fn arguments(remote: &str, updates: &[Update]) -> Vec<String> {
    let mut args = vec!["push".to_string(), "--atomic".into(), "--porcelain".into(), remote.to_string()];
    for u in updates {
        let expected = u.expected.map(|id| id.to_string()).unwrap_or_default();
        args.push(format!("--force-with-lease=refs/heads/{}:{expected}", u.branch));
    }
    for u in updates {
        args.push(format!("{}:refs/heads/{}", u.new, u.branch));
    }
    args
}

/// Pushes `updates` to `remote` from the repository at `dir`, atomically.
pub fn push(dir: &Path, remote: &str, updates: &[Update]) -> Result<(), Error> {
    if updates.is_empty() {
        return Ok(());
    }
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(arguments(remote, updates))
        .output()
        .map_err(|e| Diagnostic::error(format!("cannot run `git push`: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let report = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut d = Diagnostic::error(format!(
        "`git push --atomic {remote}` was refused: no branch moved on `{remote}` ({})",
        out.status
    ));
    for line in report.lines().chain(stderr.lines()).filter(|l| !l.trim().is_empty()) {
        d = d.note(line.trim_end().to_string());
    }
    Err(d
        .hint(format!(
            "the local branches hold the new commits; when the remote moved, `git fetch {remote}` and hydrate again"
        ))
        .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ref_has_its_lease() {
        let a = ObjectId::from_hex(b"1111111111111111111111111111111111111111").unwrap();
        let b = ObjectId::from_hex(b"2222222222222222222222222222222222222222").unwrap();
        let args = arguments(
            "origin",
            &[
                Update { branch: "env/a".into(), new: b, expected: Some(a) },
                Update { branch: "env/b".into(), new: a, expected: None },
            ],
        );
        assert_eq!(
            args,
            [
                "push",
                "--atomic",
                "--porcelain",
                "origin",
                "--force-with-lease=refs/heads/env/a:1111111111111111111111111111111111111111",
                "--force-with-lease=refs/heads/env/b:",
                "2222222222222222222222222222222222222222:refs/heads/env/a",
                "1111111111111111111111111111111111111111:refs/heads/env/b",
            ]
        );
    }
}
