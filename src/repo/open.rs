//! Opening a repository: the work tree at a root directory, or a git revision.
//!
//! In: the root directory (`--repo`), an optional revision and the selectors.
//! Out: a [`Repo`] whose [`Fs`] knows the revision it was read from
//! ([`SourceInfo`], exposed to templates as `Repo`). A revision is read from git
//! objects without a checkout. Only the components the selectors can match are
//! discovered when they name them ([`Repo::load_for`]).
//!
//! The policy here is about cost: the git status behind `Repo.Dirty` looks at
//! every file of the work tree, so [`open_for_render`] skips it when no input
//! of the selected targets mentions `Repo`.

use std::path::Path;
use std::sync::Arc;

use super::{Repo, mentions};
use crate::diag::{Diagnostic, Error};
use crate::source::{self, Fs, GitRepo, Revision, SourceInfo, WorkTreeSource};

/// The repository at `root`: as it is in the work tree (`rev` is `None`), or
/// at the git revision `rev` of the git repository holding `root`.
pub fn open(root: &Path, rev: Option<&str>, selectors: &[String]) -> Result<Repo, Error> {
    match rev {
        None => open_worktree(root, selectors),
        Some(rev) => {
            let git = GitRepo::discover(root)?;
            let rev = git.resolve(rev)?;
            Repo::load_for(Fs::new(Arc::new(git.source(&rev)?)), selectors)
        }
    }
}

/// [`open`] for `strata render`: when the selectors name components and no
/// file they use mentions `Repo`, the work tree's git status (`Repo.Dirty`, which
/// nothing would print) is not computed, so that rendering one target of a large
/// repository does not look at every file in it.
pub fn open_for_render(root: &Path, rev: Option<&str>, selectors: &[String]) -> Result<Repo, Error> {
    if rev.is_some() || selectors.is_empty() {
        return open(root, rev, selectors);
    }
    check_root(root)?;
    let repo = Repo::load_for(worktree_fs(root, SourceInfo::default()), selectors)?;
    // Each component's directory, and versions that lie outside their component.
    let mut dirs: Vec<&str> = repo.components.iter().map(|c| c.name.as_str()).collect();
    let outside: Vec<&str> = repo
        .targets()
        .map(|t| t.version_dir.as_str())
        .filter(|v| !dirs.iter().any(|c| v.starts_with(&format!("{c}/"))))
        .collect();
    dirs.extend(outside);
    let info = if mentions::tree_mentions_repo(&repo.fs, &dirs) {
        source::worktree_info(root)
    } else {
        source::head_info(root)
    };
    Ok(Repo { fs: repo.fs.with_source(worktree_fs(root, info)), ..repo })
}

/// The work tree at `root`, discovering only what `selectors` need ([`Repo::load_for`]).
pub fn open_worktree(root: &Path, selectors: &[String]) -> Result<Repo, Error> {
    check_root(root)?;
    // The git status behind `Repo.Dirty` and discovering the repository each
    // look at every file: one thread each.
    let (info, repo) = std::thread::scope(|s| {
        let info = s.spawn(|| source::worktree_info(root));
        let repo = Repo::load_for(worktree_fs(root, SourceInfo::default()), selectors);
        (info.join(), repo)
    });
    let info = info.unwrap_or_else(|_| SourceInfo { dirty: true, ..SourceInfo::default() });
    // The work-tree source keeps no state: the one that knows the commit replaces it.
    let repo = repo?;
    Ok(Repo { fs: repo.fs.with_source(worktree_fs(root, info)), ..repo })
}

/// The configuration repository at a resolved revision.
pub fn open_revision(git: &GitRepo, rev: &Revision) -> Result<Repo, Error> {
    Repo::load(Fs::new(Arc::new(git.source(rev)?)))
}

fn worktree_fs(root: &Path, info: SourceInfo) -> Fs {
    Fs::new(Arc::new(WorkTreeSource::new(root.to_path_buf(), info)))
}

fn check_root(root: &Path) -> Result<(), Error> {
    let meta = std::fs::metadata(root).map_err(|e| {
        Diagnostic::error(format!("cannot open repository `{}`: {e}", root.display()))
            .hint("pass the configuration repository's root with `--repo DIR`")
    })?;
    if !meta.is_dir() {
        return Err(Diagnostic::error(format!("`{}` is not a directory", root.display())).into());
    }
    Ok(())
}
