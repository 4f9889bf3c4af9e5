//! `strata hydrate`: each environment's bundle committed to its branch.
//!
//! In: the configuration root (inside a git work tree), a revision (`--ref`,
//! default `HEAD`), selectors, and [`HydrateOptions`] (`--branch` and `--path`
//! templates, `--into`, `--push`, `--sign`, `--next`). Out: [`Hydrated`]: per
//! branch its old and new tip, or "unchanged".
//!
//! The stages: the revision is opened from git objects by its commit id (so
//! `index.json` and templates reading `Repo` see the same thing however the
//! revision was named) → the selected environments are placed on branches and
//! paths ([`place`]) → their bundles are rendered batch by batch and written as
//! blobs straight into the object database of the branches' repository
//! ([`files`]) → per branch, the tree of its tip with each hydrated path
//! replaced whole (stale files go; paths outside stay), a commit when a bundle
//! changed ([`commit`], [`sign`]) → one reference transaction moves every
//! branch, each expecting the tip it was built on → one atomic push ([`push`]).
//!
//! Invariants: the work tree, index and `HEAD` are never touched; every object
//! is written before any reference moves, so a kill leaves each branch at its
//! old or its new commit and the next run finishes the rest; a branch moved by
//! someone else meanwhile fails the transaction and nothing is overwritten; a
//! bundle that did not change makes no commit; the same revision hydrated onto
//! the same tip writes the same commit.

pub mod commit;
pub mod files;
pub mod lock;
pub mod next;
pub mod notes;
pub mod place;
pub mod push;
pub mod secrets;
pub mod sign;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::refs::transaction::{PreviousValue, RefEdit};

use crate::diag::{Diagnostic, Error};
use crate::release::cherry_pick::{committer, full_name, git_error, refuse_checked_out};
use crate::repo::open;
use crate::repo::{Repo, Target};
use crate::source::{self, GitRepo, Revision};
use commit::DryCommit;
use place::Place;
use sign::Signer;

/// The knobs of a hydration; the default templates are `env/{environment}` and the branch's root.
#[derive(Debug, Clone, Default)]
pub struct HydrateOptions {
    pub reference: Option<String>,
    pub branch: String,
    pub path: String,
    pub into: Option<PathBuf>,
    pub allow_dirty: bool,
    pub push: Option<String>,
    pub sign: bool,
    pub committer: Option<String>,
    pub repo_url: Option<String>,
    pub allow_secrets: bool,
    pub next: bool,
    /// `--cache DIR`: targets whose inputs are unchanged come from there ([`crate::cache`]).
    pub cache: Option<crate::cache::CacheOptions>,
}

/// What happened to one branch.
#[derive(Debug, Clone)]
pub struct Branch {
    pub name: String,
    pub places: Vec<Place>,
    /// The tip the new commit was built on (with `--push`, the remote's as last fetched).
    pub base: Option<ObjectId>,
    /// The local branch before the run.
    pub local: Option<ObjectId>,
    /// With `--push REMOTE`: the remote's branch as last fetched (`refs/remotes/REMOTE/BRANCH`).
    pub tracking: Option<ObjectId>,
    /// The new commit; `None`: unchanged.
    pub new: Option<ObjectId>,
    /// Files of the branch outside its hydrated paths, left alone.
    pub kept: usize,
    /// Not rendered: its tip's note says this commit was hydrated already.
    pub already: bool,
}

/// What a run did.
#[derive(Debug)]
pub struct Hydrated {
    pub dry: DryCommit,
    pub branches: Vec<Branch>,
    pub warnings: Vec<Diagnostic>,
    /// The remote pushed to, when something was pushed.
    pub pushed: Option<String>,
    /// With `--next`: per environment, the pull-request body.
    pub bodies: Vec<(String, String)>,
}

/// Hydrates the environments of `selectors` from the repository at `root`.
pub fn hydrate(root: &Path, selectors: &[String], opts: &HydrateOptions) -> Result<Hydrated, Error> {
    if opts.push.is_some() {
        push::check_git()?;
    }
    let git = GitRepo::discover(root)?;
    let given = opts.reference.as_deref().unwrap_or("HEAD");
    if opts.reference.is_none() && !opts.allow_dirty && source::worktree_info(root).dirty {
        return Err(Diagnostic::error("the work tree has uncommitted changes: `strata hydrate` renders `HEAD`")
            .note("hydration must be reproducible from a commit, and these changes are in none")
            .hint("commit them first, or pass `--allow-dirty` to hydrate `HEAD` without them")
            .into());
    }
    let side = format!("--ref {given}");
    let rev = open::resolve(&git, given, &side)?;
    let pinned = Revision { spec: rev.commit.to_string(), commit: rev.commit, reference: None };
    let source = open::open_revision(&git, &pinned, &side, &[])?;
    let environments = environments(&source, selectors)?;
    let targets: Vec<&Target> = source.targets().filter(|t| environments.contains(&t.environment)).collect();
    let places = place::places(&environments, &opts.branch, &opts.path, opts.next)?;

    let repo = match &opts.into {
        Some(dir) => open_into(dir)?,
        None => git.with_repository(|r| r.clone()),
    };
    let identity = committer(&repo, opts.committer.as_deref())?;
    let signer = if opts.sign { Some(Signer::from_config(&repo, &identity)?) } else { None };
    if let Some(remote) = &opts.push {
        check_remote(&repo, remote)?;
    }
    let mut dry = git.with_repository(|r| DryCommit::read(r, rev.commit, given))?;
    dry.prefix = git.prefix().to_string();
    dry.repo_url =
        opts.repo_url.clone().or_else(|| git.with_repository(origin_url)).map(|u| commit::without_credentials(&u));
    check_branches(&repo, &places)?;

    // Branches whose tip's note says this commit was hydrated already are not rendered again.
    let read_notes = notes::read(&repo)?;
    let done = already_hydrated(&repo, &read_notes, &places, rev.commit, opts.push.as_deref())?;
    let (todo, skipped): (Vec<Place>, Vec<Place>) = places.into_iter().partition(|p| !done.contains(&p.branch));
    let todo_envs: BTreeSet<&String> = todo.iter().flat_map(|p| p.environments.iter()).collect();
    let targets: Vec<&Target> = targets.into_iter().filter(|t| todo_envs.contains(&t.environment)).collect();
    let (bundles, warnings) =
        if todo.is_empty() { Default::default() } else { files::write(&source, &targets, &todo, repo.clone(), opts)? };
    let ctx = Context {
        repo: &repo,
        dry: &dry,
        identity: &identity,
        signer: signer.as_ref(),
        remote: opts.push.as_deref(),
        next: opts.next,
    };
    let mut branches = build_branches(&ctx, &todo, bundles)?;
    let noted = note_updates(&repo, &read_notes, &branches, rev.commit);
    let notes_commit = notes::write(&repo, &read_notes, &noted, &identity, dry.time)?;
    branches.extend(skipped_branches(&repo, skipped, opts.push.as_deref())?);
    branches.sort_by(|a, b| a.name.cmp(&b.name));
    move_refs(&repo, &identity, &branches, notes_commit.map(|c| (read_notes.tip, c)))?;
    let pushed = match &opts.push {
        Some(remote) => push_branches(&repo, remote, &branches)?,
        None => None,
    };
    let bodies = if opts.next { next::bodies(&repo, &git, &dry, &branches)? } else { Vec::new() };
    Ok(Hydrated { dry, branches, warnings, pushed, bodies })
}

/// The environments with a selected target, sorted: a branch holds an
/// environment's whole bundle, never some of its components.
fn environments(source: &Repo, selectors: &[String]) -> Result<Vec<String>, Error> {
    let selected = source.select(selectors)?;
    let envs: BTreeSet<String> = selected.iter().map(|t| t.environment.clone()).collect();
    if envs.is_empty() {
        return Err(Diagnostic::error("nothing to hydrate: the repository has no targets").into());
    }
    Ok(envs.into_iter().collect())
}

fn open_into(dir: &Path) -> Result<gix::Repository, Error> {
    gix::open(dir).map_err(|e| {
        Diagnostic::error(format!("`--into {}` is not a git repository: {e}", dir.display()))
            .hint(format!("create it first: `git init --bare {}`", dir.display()))
            .into()
    })
}

/// `remote.origin.url`, the default of `hydrator.metadata`'s `repoURL`.
fn origin_url(repo: &gix::Repository) -> Option<String> {
    repo.config_snapshot().string("remote.origin.url").map(|u| u.to_string())
}

fn check_remote(repo: &gix::Repository, remote: &str) -> Result<(), Error> {
    let known = repo.config_snapshot().string(format!("remote.{remote}.url").as_str()).is_some();
    if known || remote.contains(['/', ':']) {
        return Ok(());
    }
    Err(Diagnostic::error(format!("`--push {remote}`: the repository has no remote `{remote}`"))
        .hint(format!("add it (`git remote add {remote} URL`) or push to a URL"))
        .into())
}

/// Branch names git accepts, none checked out in a work tree.
fn check_branches(repo: &gix::Repository, places: &[Place]) -> Result<(), Error> {
    for p in places {
        let full = full_name(&format!("refs/heads/{}", p.branch), "branch")?;
        refuse_checked_out(repo, &full, &p.branch)?;
    }
    Ok(())
}

/// What building a branch's commit needs.
struct Context<'a> {
    repo: &'a gix::Repository,
    dry: &'a DryCommit,
    identity: &'a gix::actor::Signature,
    signer: Option<&'a Signer>,
    remote: Option<&'a str>,
    /// `BRANCH-next` starts at `BRANCH` when it does not exist yet.
    next: bool,
}

/// Per branch: the new tree and commit, or unchanged.
fn build_branches(ctx: &Context<'_>, places: &[Place], bundles: Vec<files::Files>) -> Result<Vec<Branch>, Error> {
    let mut out: Vec<Branch> = Vec::new();
    let mut pending: Vec<(Place, files::Files)> = places.iter().cloned().zip(bundles).collect();
    while !pending.is_empty() {
        let name = pending[0].0.branch.clone();
        let (mine, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|(p, _)| p.branch == name);
        pending = rest;
        out.push(build_branch(ctx, &name, mine)?);
    }
    Ok(out)
}

fn build_branch(ctx: &Context<'_>, name: &str, mine: Vec<(Place, files::Files)>) -> Result<Branch, Error> {
    let repo = ctx.repo;
    let local = tip(repo, &format!("refs/heads/{name}"))?;
    let tracking = match ctx.remote {
        Some(r) => tip(repo, &format!("refs/remotes/{r}/{name}"))?,
        None => None,
    };
    let mut base = tracking.or(local);
    if base.is_none() && ctx.next {
        let promoted = next::promoted_into(name);
        let fallback = match ctx.remote {
            Some(r) => tip(repo, &format!("refs/remotes/{r}/{promoted}"))?,
            None => None,
        };
        base = fallback.or(tip(repo, &format!("refs/heads/{promoted}"))?);
    }
    let base_tree = match base {
        Some(id) => tree_of(repo, id, name)?,
        None => ObjectId::empty_tree(repo.object_hash()),
    };
    let mut editor = repo.edit_tree(base_tree).map_err(|e| git_error("read the tree of", name, e))?;
    let mut changed_envs = Vec::new();
    let mut root_tree = None;
    for (place, mut files) in mine.iter().cloned() {
        let command = ctx.dry.command(&place.path, &place.environments);
        let blob = |bytes: Vec<u8>| repo.write_blob(bytes).map(|id| id.detach());
        let readme =
            blob(ctx.dry.readme(&command, &place.environments)).map_err(|e| git_error("write", commit::README, e))?;
        let meta = blob(ctx.dry.metadata(&command)).map_err(|e| git_error("write", commit::METADATA, e))?;
        files.insert(commit::README.to_string(), readme);
        files.insert(commit::METADATA.to_string(), meta);
        let old = files::tree_files(repo, base_tree, &place.path)?;
        if files::same_bundle(repo, &old, &files, &[commit::README, commit::METADATA])? {
            continue;
        }
        changed_envs.extend(place.environments.iter().cloned());
        let subtree = files::write_tree(repo, &files)?;
        if place.path.is_empty() {
            root_tree = Some(subtree);
        } else {
            editor
                .upsert(place.path.as_str(), gix::object::tree::EntryKind::Tree, subtree)
                .map_err(|e| git_error("place the bundle at", &place.path, e))?;
        }
    }
    let places: Vec<Place> = mine.into_iter().map(|(p, _)| p).collect();
    let kept = kept_files(repo, base_tree, &places)?;
    let new = if changed_envs.is_empty() {
        None
    } else {
        let tree = match root_tree {
            Some(t) => t,
            None => editor.write().map_err(|e| git_error("write the tree of", name, e))?.detach(),
        };
        let message = ctx.dry.message(&changed_envs);
        Some(commit::write(repo, tree, base, ctx.identity, ctx.dry.time, &message, ctx.signer)?)
    };
    Ok(Branch { name: name.to_string(), places, base, local, tracking, new, kept, already: false })
}

/// The branches (of `places`) whose tip (with `--push`: also the remote's, as
/// fetched) carries a note saying this commit was hydrated onto them already.
fn already_hydrated(
    repo: &gix::Repository,
    read: &notes::Notes,
    places: &[Place],
    dry: ObjectId,
    remote: Option<&str>,
) -> Result<BTreeSet<String>, Error> {
    let mut done = BTreeSet::new();
    let branches: BTreeSet<&str> = places.iter().map(|p| p.branch.as_str()).collect();
    for name in branches {
        let envs: Vec<String> =
            places.iter().filter(|p| p.branch == name).flat_map(|p| p.environments.iter().cloned()).collect();
        let Some(local) = tip(repo, &format!("refs/heads/{name}"))? else { continue };
        if let Some(r) = remote
            && tip(repo, &format!("refs/remotes/{r}/{name}"))? != Some(local)
        {
            continue;
        }
        if notes::get(repo, read, local).is_some_and(|n| n.covers(dry, &envs)) {
            done.insert(name.to_string());
        }
    }
    Ok(done)
}

/// The skipped places as unchanged branches.
fn skipped_branches(repo: &gix::Repository, skipped: Vec<Place>, remote: Option<&str>) -> Result<Vec<Branch>, Error> {
    let mut out: Vec<Branch> = Vec::new();
    for p in skipped {
        if let Some(b) = out.iter_mut().find(|b| b.name == p.branch) {
            b.places.push(p);
            continue;
        }
        let local = tip(repo, &format!("refs/heads/{}", p.branch))?;
        let tracking = if remote.is_some() { local } else { None };
        let name = p.branch.clone();
        out.push(Branch { name, places: vec![p], base: local, local, tracking, new: None, kept: 0, already: true });
    }
    Ok(out)
}

/// The notes to write: each rendered branch's tip (new or unchanged) hydrated from `dry`.
fn note_updates(
    repo: &gix::Repository,
    read: &notes::Notes,
    branches: &[Branch],
    dry: ObjectId,
) -> Vec<(ObjectId, notes::Note)> {
    let mut out = Vec::new();
    for b in branches {
        let Some(tip) = b.new.or(b.base) else { continue };
        let mut envs: BTreeSet<String> = b.places.iter().flat_map(|p| p.environments.iter().cloned()).collect();
        if let Some(old) = notes::get(repo, read, tip).filter(|n| n.is_from(dry)) {
            envs.extend(old.environments);
        }
        out.push((tip, notes::Note::new(dry, envs)));
    }
    out
}

/// How many files of `tree` lie outside every hydrated path.
fn kept_files(repo: &gix::Repository, tree: ObjectId, places: &[Place]) -> Result<usize, Error> {
    if places.iter().any(|p| p.path.is_empty()) {
        return Ok(0);
    }
    let all = files::tree_files(repo, tree, "")?;
    Ok(all.keys().filter(|f| !places.iter().any(|p| f.starts_with(&format!("{}/", p.path)))).count())
}

fn tip(repo: &gix::Repository, name: &str) -> Result<Option<ObjectId>, Error> {
    match repo.try_find_reference(name).map_err(|e| git_error("read", name, e))? {
        Some(mut r) => Ok(Some(r.peel_to_id().map_err(|e| git_error("read", name, e))?.detach())),
        None => Ok(None),
    }
}

fn tree_of(repo: &gix::Repository, commit: ObjectId, what: &str) -> Result<ObjectId, Error> {
    let c = repo.find_commit(commit).map_err(|e| git_error("read the tip of", what, e))?;
    Ok(c.tree_id().map_err(|e| git_error("read the tree of", what, e))?.detach())
}

/// Moves every changed branch in one reference transaction, each expecting
/// the value it had when this run read it.
fn move_refs(
    repo: &gix::Repository,
    identity: &gix::actor::Signature,
    branches: &[Branch],
    notes: Option<(Option<ObjectId>, ObjectId)>,
) -> Result<(), Error> {
    let mut edits = Vec::new();
    if let Some((old, new)) = notes {
        let expected = match old {
            Some(old) => PreviousValue::MustExistAndMatch(gix::refs::Target::Object(old)),
            None => PreviousValue::MustNotExist,
        };
        let full = full_name(notes::REF, "notes reference")?;
        edits.push(RefEdit::update(full, new, expected, "strata hydrate: notes"));
    }
    for b in branches {
        let Some(new) = b.new.filter(|n| Some(*n) != b.local) else { continue };
        let expected = match b.local {
            Some(old) => PreviousValue::MustExistAndMatch(gix::refs::Target::Object(old)),
            None => PreviousValue::MustNotExist,
        };
        let full = full_name(&format!("refs/heads/{}", b.name), "branch")?;
        edits.push(RefEdit::update(full, new, expected, "strata hydrate"));
    }
    if edits.is_empty() {
        return Ok(());
    }
    let run = lock::acquire(repo.common_dir())?;
    run.journal(&edits.iter().map(|e| e.name.as_bstr().to_string()).collect::<Vec<_>>())?;
    let mut time = gix::date::parse::TimeBuf::default();
    let moved = repo.edit_references_as(edits, Some(identity.to_ref(&mut time)));
    run.finished();
    moved.map_err(|e| {
        Error::from(
            Diagnostic::error(format!("cannot move the hydrated branches: {e}"))
                .note("another writer may have moved a branch since this run read it; no branch was moved")
                .hint("run `strata hydrate` again: it builds on the branches as they are now"),
        )
    })?;
    Ok(())
}

/// Pushes the branches whose new commit the remote does not have yet.
fn push_branches(repo: &gix::Repository, remote: &str, branches: &[Branch]) -> Result<Option<String>, Error> {
    let updates: Vec<push::Update> = branches
        .iter()
        .filter_map(|b| Some(push::Update { branch: b.name.clone(), new: b.new?, expected: b.tracking }))
        .filter(|u| Some(u.new) != u.expected)
        .collect();
    if updates.is_empty() {
        return Ok(None);
    }
    let dir = repo.workdir().unwrap_or(repo.git_dir());
    push::push(dir, remote, &updates)?;
    Ok(Some(remote.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::git;

    fn branch(name: &str, local: Option<ObjectId>, new: ObjectId) -> Branch {
        Branch {
            name: name.into(),
            places: Vec::new(),
            base: local,
            local,
            tracking: None,
            new: Some(new),
            kept: 0,
            already: false,
        }
    }

    /// A branch moved by another writer after this run read it: the transaction
    /// fails, naming it, and neither it nor the other branch moves.
    #[test]
    fn a_concurrent_move_overwrites_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        git(root, &["commit", "-q", "--allow-empty", "-m", "one"]);
        git(root, &["commit", "-q", "--allow-empty", "-m", "two"]);
        git(root, &["commit", "-q", "--allow-empty", "-m", "three"]);
        let id = |rev: &str| ObjectId::from_hex(git(root, &["rev-parse", rev]).trim().as_bytes()).unwrap();
        let (one, two, three) = (id("HEAD~2"), id("HEAD~1"), id("HEAD"));
        git(root, &["branch", "env/a", &one.to_string()]);
        git(root, &["branch", "env/b", &one.to_string()]);
        // Read at `one`; then someone moves env/b to `two`.
        let plan = [branch("env/a", Some(one), three), branch("env/b", Some(one), three)];
        git(root, &["branch", "-f", "env/b", &two.to_string()]);
        let repo = gix::open(root).unwrap();
        let who = gix::actor::Signature {
            name: "t".into(),
            email: "t@example.com".into(),
            time: gix::date::Time { seconds: 0, offset: 0 },
        };
        let e = move_refs(&repo, &who, &plan, None).unwrap_err();
        assert!(e.messages().contains("env/b"), "{}", e.messages());
        assert!(e.diagnostics[0].notes.iter().any(|n| n.contains("no branch was moved")));
        assert_eq!(id("env/a"), one);
        assert_eq!(id("env/b"), two);
        // Read again, it goes through.
        let plan = [branch("env/a", Some(one), three), branch("env/b", Some(two), three)];
        move_refs(&repo, &who, &plan, None).unwrap();
        assert_eq!((id("env/a"), id("env/b")), (three, three));
    }
}
