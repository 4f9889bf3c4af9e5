//! Opening a repository: the work tree at a root directory, a git revision, or
//! the two sides of a range.
//!
//! In: the root directory (`--repo`), the revisions as the command line gave
//! them (`--ref REV`; `--from REV [--to REV] | --base REV`) and the selectors.
//! Out: a [`Repo`] whose [`Fs`] knows the revision it was read from
//! ([`SourceInfo`], exposed to templates as `Repo`), with the names messages
//! and reports give it ([`Opened`]). A revision is read from git objects
//! without a checkout. Only the components the selectors can match are
//! discovered when they name them ([`Repo::load_for`]).
//!
//! Every revision is opened here, one way: a name that resolves to nothing
//! carries the note `given as `--from v9``, an error reading the revision
//! names its side (`while rendering --from v9: …`, [`on_side`]); `--base REV`
//! means the merge base of REV and `HEAD` ([`open_range`]); `--to` defaults to
//! the work tree.
//!
//! The policy about cost: the git status behind `Repo.Dirty` looks at every
//! file of the work tree, so [`open_for_render`] skips it when no input of the
//! selected targets mentions `Repo`.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use super::{Repo, mentions};
use crate::diag::{Diagnostic, Error, Severity};
use crate::source::{self, Fs, GitRepo, Kinds, Revision, SourceInfo, WorkTreeSource};

/// How messages name the work tree when it is one side of a comparison.
pub const WORK_TREE: &str = "the work tree";
/// How reports label the work tree.
pub const WORK_TREE_LABEL: &str = "work tree";

/// A repository as a command opened it, and how to name it.
#[derive(Debug)]
pub struct Opened {
    pub repo: Repo,
    /// How messages name it: `--from v1.4.0`, `--ref v1.4.0`, `the work tree`.
    pub name: String,
    /// How reports label it: `v1.4.0`, `work tree`.
    pub label: String,
}

/// The repository at `root`: as it is in the work tree (`rev` is `None`), or
/// at the git revision that `flag` (`--ref`) gave as `rev`.
pub fn open_at(root: &Path, flag: &str, rev: Option<&str>, selectors: &[String]) -> Result<Opened, Error> {
    match rev {
        None => Ok(Opened {
            repo: open_worktree(root, selectors)?,
            name: WORK_TREE.to_string(),
            label: WORK_TREE_LABEL.to_string(),
        }),
        Some(rev) => {
            let git = GitRepo::discover(root)?;
            let name = format!("{flag} {rev}");
            let revision = resolve(&git, rev, &name)?;
            Ok(Opened { repo: open_revision(&git, &revision, &name, selectors)?, name, label: rev.to_string() })
        }
    }
}

/// [`open_at`] of `--ref REV`, the repository alone.
pub fn open(root: &Path, rev: Option<&str>, selectors: &[String]) -> Result<Repo, Error> {
    open_at(root, "--ref", rev, selectors).map(|o| o.repo)
}

/// A comparison's revisions as the command line gave them:
/// `--from REV [--to REV] | --base REV`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Range<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub base: Option<&'a str>,
}

/// The two sides of a comparison, opened.
#[derive(Debug)]
pub struct Sides {
    pub before: Opened,
    pub after: Opened,
}

/// Opens both sides of `range`. The before side is `--from REV`, or with
/// `--base REV` the merge base of REV and `HEAD` (what a pull request from
/// `HEAD` into REV would change); the after side is `--to REV`, by default the
/// work tree (uncommitted changes included). Without `--from` or `--base`,
/// the error names `command` and offers `alternatives` as further hints.
pub fn open_range(root: &Path, range: Range<'_>, command: &str, alternatives: &[&str]) -> Result<Sides, Error> {
    let git = GitRepo::discover(root)?;
    let from = match (range.from, range.base) {
        (Some(rev), _) => resolve(&git, rev, &format!("--from {rev}"))?,
        (None, Some(base)) => merge_base_with_head(&git, base)?,
        (None, None) => {
            let mut d = Diagnostic::error(format!("`{command}` needs a revision to compare from"))
                .hint("pass `--from REV` (a tag, branch or commit) or `--base REV` (the merge base of REV and HEAD)");
            for a in alternatives {
                d = d.hint(*a);
            }
            return Err(d.into());
        }
    };
    let to = range.to.map(|rev| resolve(&git, rev, &format!("--to {rev}"))).transpose()?;
    let from_name = format!("--from {}", from.spec);
    let before = Opened { repo: open_revision(&git, &from, &from_name, &[])?, name: from_name, label: from.spec };
    let after = match to {
        Some(rev) => {
            let name = format!("--to {}", rev.spec);
            Opened { repo: open_revision(&git, &rev, &name, &[])?, name, label: rev.spec }
        }
        None => Opened {
            repo: open_worktree(root, &[]).map_err(|e| on_side(e, WORK_TREE))?,
            name: WORK_TREE.to_string(),
            label: WORK_TREE_LABEL.to_string(),
        },
    };
    Ok(Sides { before, after })
}

/// `--base REV`: the merge base of REV and `HEAD`, named `merge-base(REV, HEAD)`.
fn merge_base_with_head(git: &GitRepo, base: &str) -> Result<Revision, Error> {
    let given = format!("--base {base}");
    let base_rev = resolve(git, base, &given)?;
    let head = resolve(git, "HEAD", &given)?;
    let mut merge_base = git.merge_base(&base_rev, &head)?;
    merge_base.spec = format!("merge-base({base}, HEAD)");
    Ok(merge_base)
}

/// Resolves `spec`; an unknown revision carries the note `given as `GIVEN``
/// (`--from v9`, `--change v1..v2`): how the command line named it.
pub fn resolve(git: &GitRepo, spec: &str, given: &str) -> Result<Revision, Error> {
    git.resolve(spec).map_err(|d| d.note(format!("given as `{given}`")).into())
}

/// The configuration repository at a resolved revision, discovering what
/// `selectors` need; an error names the side (`side`: `--ref v1.4.0`,
/// `the picked `release/v1``) as [`on_side`] does. Every revision a command
/// reads as a [`Repo`] is opened here.
pub fn open_revision(git: &GitRepo, rev: &Revision, side: &str, selectors: &[String]) -> Result<Repo, Error> {
    let source = git.source(rev).map_err(|d| on_side(d.into(), side))?;
    Repo::load_for(Fs::new(Arc::new(source)), selectors).map_err(|e| on_side(e, side))
}

/// Names the side whose opening or rendering failed in every error message:
/// `while rendering --from v1.4.0: …`.
pub fn on_side(mut e: Error, side: &str) -> Error {
    for d in &mut e.diagnostics {
        if d.severity == Severity::Error {
            d.message = format!("while rendering {side}: {}", d.message);
        }
    }
    e
}

/// [`open`] for `strata render`: when the selectors name components and no
/// file the selected targets read mentions `Repo`, the work tree's git status (`Repo.Dirty`, which
/// nothing would print) is not computed, so that rendering one target of a large
/// repository does not look at every file in it. Discovery, that look and the
/// render share one [`Kinds`]: each directory on the way is listed once, each
/// file read once.
pub fn open_for_render(root: &Path, rev: Option<&str>, selectors: &[String]) -> Result<Repo, Error> {
    if rev.is_some() || selectors.is_empty() {
        return open(root, rev, selectors);
    }
    check_root(root)?;
    let tree = |info| Arc::new(WorkTreeSource::new(root.to_path_buf(), info));
    let kinds = Arc::new(Kinds::new(tree(SourceInfo::default())));
    let repo = Repo::load_for(Fs::new(kinds.clone()), selectors)?;
    // What the selected targets read: their directories, versions and parameter
    // files (a selector matching nothing is reported by the caller).
    let targets = repo.select(selectors).unwrap_or_default();
    let dirs: BTreeSet<&str> = targets.iter().flat_map(|t| [t.dir.as_str(), t.version_dir.as_str()]).collect();
    let files: BTreeSet<String> = targets.iter().flat_map(|t| t.parameter_files()).collect();
    let dirs: Vec<&str> = dirs.into_iter().collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let info = if mentions::tree_mentions_repo(&repo.fs, &dirs, &files) {
        source::worktree_info(root)
    } else {
        source::head_info(root)
    };
    Ok(Repo { fs: repo.fs.with_source(Fs::new(Arc::new(kinds.rebased(tree(info))))), ..repo })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{git, link};

    /// `v1` and `main` are good; `bad` (on a side branch) points a target at a missing version.
    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(root.join("app/v1")).unwrap();
        std::fs::write(root.join("app/v1/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n").unwrap();
        link(root, "app/east/templates", "../v1");
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "one"]);
        git(root, &["tag", "v1"]);
        git(root, &["switch", "-q", "-c", "side"]);
        link(root, "app/east/templates", "../v9");
        git(root, &["commit", "-q", "-am", "bad"]);
        git(root, &["tag", "bad"]);
        git(root, &["switch", "-q", "main"]);
        std::fs::write(root.join("app/v1/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n").unwrap();
        git(root, &["commit", "-q", "-am", "two"]);
        dir
    }

    #[test]
    fn a_range_names_its_sides_and_takes_the_merge_base() {
        let dir = fixture();
        let root = dir.path();
        let range = Range { from: Some("v1"), ..Range::default() };
        let sides = open_range(root, range, "strata diff", &[]).unwrap();
        assert_eq!((sides.before.name.as_str(), sides.before.label.as_str()), ("--from v1", "v1"));
        assert_eq!((sides.after.name.as_str(), sides.after.label.as_str()), (WORK_TREE, WORK_TREE_LABEL));

        let range = Range { base: Some("side"), to: Some("main"), ..Range::default() };
        let sides = open_range(root, range, "strata diff", &[]).unwrap();
        assert_eq!(sides.before.label, "merge-base(side, HEAD)");
        assert_eq!(
            sides.before.repo.fs.info().commit,
            open_at(root, "--ref", Some("v1"), &[]).unwrap().repo.fs.info().commit
        );
        assert_eq!((sides.after.name.as_str(), sides.after.label.as_str()), ("--to main", "main"));
    }

    #[test]
    fn every_revision_error_says_how_it_was_given() {
        let dir = fixture();
        let root = dir.path();
        let e =
            open_range(root, Range { from: Some("v1"), to: Some("nope"), base: None }, "strata diff", &[]).unwrap_err();
        assert!(e.diagnostics[0].notes.contains(&"given as `--to nope`".to_string()), "{e:?}");
        let e = open_at(root, "--ref", Some("nope"), &[]).unwrap_err();
        assert_eq!(e.messages(), "unknown revision `nope`");
        assert!(e.diagnostics[0].notes.contains(&"given as `--ref nope`".to_string()), "{e:?}");
        let e = open_range(root, Range { base: Some("v9"), ..Range::default() }, "strata diff", &[]).unwrap_err();
        assert!(e.diagnostics[0].notes.contains(&"given as `--base v9`".to_string()), "{e:?}");

        let e = open_at(root, "--ref", Some("bad"), &[]).unwrap_err();
        assert!(e.messages().starts_with("while rendering --ref bad: "), "{}", e.messages());
        let e = open_range(root, Range { from: Some("bad"), ..Range::default() }, "strata diff", &[]).unwrap_err();
        assert!(e.messages().starts_with("while rendering --from bad: "), "{}", e.messages());

        let e = open_range(root, Range::default(), "strata rollout plan", &["or `--x`"]).unwrap_err();
        let d = &e.diagnostics[0];
        assert_eq!(d.message, "`strata rollout plan` needs a revision to compare from");
        assert_eq!(d.hints.last().map(String::as_str), Some("or `--x`"));
    }
}
