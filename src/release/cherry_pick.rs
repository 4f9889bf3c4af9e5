//! `strata release cherry-pick`: commits picked onto a release branch through
//! git objects only.
//!
//! In: the configuration root (inside a git work tree), the commits to pick
//! (ids, revisions or `A..B` ranges, oldest first), the revision to branch from
//! and [`PickOptions`]. Out: [`PickOutcome`]: the new commits, the branch's old
//! and new tip, and the rendered diff between them.
//!
//! Each commit is a 3-way tree merge (base: the commit's parent, or its
//! `--mainline` parent; ours: the branch tip; theirs: the commit), written as a
//! commit whose author is the original one, whose committer comes from git
//! config (or `--committer`), and whose message ends with `(cherry picked from
//! commit <id>)` as `git cherry-pick -x` writes it.
//!
//! Invariants: the work tree, the index and `HEAD` are never touched; the
//! branch (and tag) move only after every pick merged cleanly and both tips
//! rendered, in one reference transaction; a conflict or a render error moves
//! no reference (merged objects may stay in the object database, unreferenced,
//! as after any failed git merge). `--dry-run` writes the objects the diff needs
//! and moves nothing.

use std::fmt::Write as _;
use std::path::Path;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::refs::transaction::{PreviousValue, RefEdit};

use super::{conflict_hunks, hunk_lines};
use crate::diag::{Diagnostic, Error};
use crate::diff::revisions::RevisionDiff;
use crate::diff::{CompareOptions, RevisionSide, compare_revisions};
use crate::pipeline::Options;
use crate::repo::{self, open};
use crate::source::{GitRepo, Revision};

/// The knobs of a pick; `onto` is the revision a new branch starts at.
#[derive(Debug, Clone, Default)]
pub struct PickOptions {
    pub onto: String,
    /// The branch to pick onto (default: [`default_branch`] of `onto`).
    pub branch: Option<String>,
    /// A tag to create on the new tip.
    pub tag: Option<String>,
    /// The tag's message: makes it an annotated tag.
    pub message: Option<String>,
    /// `Name <email>` instead of git config's committer.
    pub committer: Option<String>,
    /// For merge commits: the parent (1-based) the change is taken against.
    pub mainline: Option<usize>,
    pub dry_run: bool,
}

/// One picked commit.
#[derive(Debug, Clone)]
pub struct Picked {
    pub original: ObjectId,
    pub commit: ObjectId,
    /// The first line of its message.
    pub summary: String,
}

/// What a pick did (or, with `--dry-run`, would do).
#[derive(Debug)]
pub struct PickOutcome {
    /// The branch's short name (`release/v1`).
    pub branch: String,
    /// Whether the branch did not exist and starts at `onto`.
    pub created: bool,
    pub old_tip: ObjectId,
    pub new_tip: ObjectId,
    pub picks: Vec<Picked>,
    /// The tag created (or to be created with `--dry-run`).
    pub tag: Option<String>,
    pub diff: RevisionDiff,
}

impl PickOutcome {
    /// What the pick did, for stderr: each pick, the branch's move, the tag.
    pub fn summary(&self, opts: &PickOptions) -> String {
        let mut out = String::new();
        let verb = if opts.dry_run { "would pick" } else { "picked" };
        for p in &self.picks {
            let _ = writeln!(out, "{verb} {} as {} ({})", short(&p.original), short(&p.commit), p.summary);
        }
        let start = if self.created { format!("new at `{}`", opts.onto) } else { "existing".to_string() };
        let _ = writeln!(
            out,
            "branch `{}` ({start}): {} -> {}{}",
            self.branch,
            short(&self.old_tip),
            short(&self.new_tip),
            if opts.dry_run { " (dry run: nothing moved)" } else { "" }
        );
        if let Some(tag) = &self.tag {
            let kind = if opts.message.is_some() { "annotated tag" } else { "tag" };
            let _ = writeln!(out, "{kind} `{tag}`{}", if opts.dry_run { " (dry run: not created)" } else { "" });
        }
        out
    }
}

fn short(id: &ObjectId) -> String {
    id.to_hex_with_len(12).to_string()
}

/// The branch a release line lives on, derived from the revision it starts at:
/// `v1.0`, `v1.0.3`, `refs/tags/v1.0` → `release/v1`; `2.3` → `release/2`.
/// `None` when `onto` does not start with a version number.
pub fn default_branch(onto: &str) -> Option<String> {
    let short = onto.strip_prefix("refs/tags/").or_else(|| onto.strip_prefix("refs/heads/")).unwrap_or(onto);
    let short = short.rsplit('/').next().unwrap_or(short);
    let (v, rest) = match short.strip_prefix('v').or_else(|| short.strip_prefix('V')) {
        Some(rest) => (&short[..1], rest),
        None => ("", short),
    };
    let major: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let after = &rest[major.len()..];
    (!major.is_empty() && (after.is_empty() || after.starts_with('.') || after.starts_with('-')))
        .then(|| format!("release/{v}{major}"))
}

/// Picks `commits` onto the branch, renders both tips and, unless `--dry-run`,
/// moves the branch and creates the tag.
pub fn cherry_pick(
    root: &Path,
    commits: &[String],
    opts: &PickOptions,
    compile: &Options,
    compare: &CompareOptions,
) -> Result<PickOutcome, Error> {
    let branch = match &opts.branch {
        Some(b) => b.strip_prefix("refs/heads/").unwrap_or(b).to_string(),
        None => default_branch(&opts.onto).ok_or_else(|| {
            Diagnostic::error(format!("cannot derive a release branch name from `{}`", opts.onto))
                .note("the default is `release/vN` for a revision named like `vN.M` (`v1.0` → `release/v1`)")
                .hint("name the branch: `--branch release/NAME`")
        })?,
    };
    let git = GitRepo::discover(root)?;
    let named = Named::resolve(&git, commits, &opts.onto);
    let plan = git.with_repository(|repo| plan(repo, named, &branch, opts))?;

    let before = Revision { spec: plan.before_label.clone(), commit: plan.old_tip, reference: None };
    let after_label = opts.tag.clone().unwrap_or_else(|| format!("{branch} (picked)"));
    let after = Revision { spec: after_label.clone(), commit: plan.new_tip, reference: None };
    let (before_name, after_name) = (format!("`{}`", plan.before_label), format!("the picked `{branch}`"));
    let b = open::open_revision(&git, &before, &before_name, &[])?;
    let a = open::open_revision(&git, &after, &after_name, &[])?;
    let (bt, at) = repo::select_both(&b, &a, &[])?;
    let diff = compare_revisions(
        RevisionSide { repo: &b, targets: &bt, name: &before_name, label: &plan.before_label },
        RevisionSide { repo: &a, targets: &at, name: &after_name, label: &after_label },
        compile,
        compare,
    )?;

    if !opts.dry_run {
        git.with_repository(|repo| move_refs(repo, &branch, &plan, opts))?;
    }
    Ok(PickOutcome {
        branch,
        created: plan.created,
        old_tip: plan.old_tip,
        new_tip: plan.new_tip,
        picks: plan.picks,
        tag: opts.tag.clone(),
        diff,
    })
}

/// The picks, done in the object database; no reference moved yet.
struct Plan {
    created: bool,
    old_tip: ObjectId,
    new_tip: ObjectId,
    /// How the diff names the old tip: the branch, or `onto` for a new branch.
    before_label: String,
    picks: Vec<Picked>,
    committer: gix::actor::Signature,
}

/// The revisions the command line names, resolved ([`open::resolve`]) before
/// the repository is locked for the pick. Each error waits until the pick
/// needs the revision, so that errors come in the order the pick meets them.
struct Named {
    /// `--onto`, needed only when the branch is new.
    onto: Result<ObjectId, Error>,
    /// The COMMIT arguments, in order.
    picks: Vec<Result<Pick, Error>>,
}

/// One COMMIT argument: a commit, or `A..B`.
enum Pick {
    One(String, ObjectId),
    Range { spec: String, hidden: ObjectId, tip: ObjectId },
}

impl Named {
    fn resolve(git: &GitRepo, commits: &[String], onto: &str) -> Named {
        let id = |spec: &str, given: &str| open::resolve(git, spec, given).map(|r| r.commit);
        let pick = |spec: &String| -> Result<Pick, Error> {
            let Some((from, to)) = spec.split_once("..") else { return Ok(Pick::One(spec.clone(), id(spec, spec)?)) };
            let to = if to.is_empty() { "HEAD" } else { to };
            Ok(Pick::Range { spec: spec.clone(), hidden: id(from, spec)?, tip: id(to, spec)? })
        };
        Named { onto: id(onto, &format!("--onto {onto}")), picks: commits.iter().map(pick).collect() }
    }
}

fn plan(repo: &gix::Repository, named: Named, branch: &str, opts: &PickOptions) -> Result<Plan, Error> {
    let full = full_name(&format!("refs/heads/{branch}"), "branch")?;
    refuse_checked_out(repo, &full, branch)?;
    if let Some(tag) = &opts.tag {
        let tag_ref = full_name(&format!("refs/tags/{tag}"), "tag")?;
        if repo.try_find_reference(&tag_ref).ok().flatten().is_some() {
            return Err(Diagnostic::error(format!("the tag `{tag}` already exists"))
                .hint("choose another `--tag`, or delete the old one first (`git tag -d`)")
                .into());
        }
    }
    let existing = repo.try_find_reference(&full).map_err(|e| git_error("read the branch", branch, e))?;
    let (created, old_tip, before_label) = match existing {
        Some(mut r) => {
            let id = r.peel_to_id().map_err(|e| git_error("read the branch", branch, e))?.detach();
            (false, id, branch.to_string())
        }
        None => (true, named.onto?, opts.onto.clone()),
    };
    let committer = committer(repo, opts.committer.as_deref())?;
    let mut ids = Vec::new();
    for p in named.picks {
        ids.extend(commits_of(repo, p?)?);
    }
    if ids.is_empty() {
        return Err(Diagnostic::error("nothing to pick: the ranges given hold no commits").into());
    }
    let mut tip = old_tip;
    let mut picks = Vec::new();
    for (spec, id) in ids {
        let picked = pick_one(repo, tip, &spec, id, branch, opts.mainline, &committer)?;
        tip = picked.commit;
        picks.push(picked);
    }
    Ok(Plan { created, old_tip, new_tip: tip, before_label, picks, committer })
}

/// Moves the branch and creates the tag in one reference transaction.
fn move_refs(repo: &gix::Repository, branch: &str, plan: &Plan, opts: &PickOptions) -> Result<(), Error> {
    let full = full_name(&format!("refs/heads/{branch}"), "branch")?;
    let expected = if plan.created {
        PreviousValue::MustNotExist
    } else {
        PreviousValue::MustExistAndMatch(gix::refs::Target::Object(plan.old_tip))
    };
    let n = plan.picks.len();
    let mut edits =
        vec![RefEdit::update(full, plan.new_tip, expected, format!("strata release cherry-pick: {n} commit(s)"))];
    if let Some(tag) = &opts.tag {
        let target = match &opts.message {
            Some(message) => {
                let object = gix::objs::Tag {
                    target: plan.new_tip,
                    target_kind: gix::objs::Kind::Commit,
                    name: tag.as_str().into(),
                    tagger: Some(plan.committer.clone()),
                    message: with_final_newline(message).into(),
                    signature: None,
                };
                repo.write_object(&object).map_err(|e| git_error("write the tag", tag, e))?.detach()
            }
            None => plan.new_tip,
        };
        let name = full_name(&format!("refs/tags/{tag}"), "tag")?;
        edits.push(RefEdit::update(name, target, PreviousValue::MustNotExist, ""));
    }
    let mut time = gix::date::parse::TimeBuf::default();
    repo.edit_references_as(edits, Some(plan.committer.to_ref(&mut time)))
        .map_err(|e| git_error("move the branch", branch, e))?;
    Ok(())
}

/// One commit merged onto `tip` and written as a commit object.
fn pick_one(
    repo: &gix::Repository,
    tip: ObjectId,
    spec: &str,
    id: ObjectId,
    branch: &str,
    mainline: Option<usize>,
    committer: &gix::actor::Signature,
) -> Result<Picked, Error> {
    let commit = repo.find_commit(id).map_err(|e| git_error("read commit", spec, e))?;
    let parents: Vec<ObjectId> = commit.parent_ids().map(|p| p.detach()).collect();
    let base_tree = match (parents.len(), mainline) {
        (0, None) => ObjectId::empty_tree(repo.object_hash()),
        (0 | 1, Some(_)) => {
            return Err(Diagnostic::error(format!("`--mainline` was given but `{spec}` is not a merge commit"))
                .hint("drop `--mainline`, or pick the merge commit only")
                .into());
        }
        (1, None) => tree_of(repo, parents[0], spec)?,
        (n, None) => {
            return Err(Diagnostic::error(format!("`{spec}` is a merge commit with {n} parents"))
                .hint("pass `--mainline 1` to pick what it merged into its first parent (the branch merged into)")
                .into());
        }
        (n, Some(m)) if m == 0 || m > n => {
            return Err(
                Diagnostic::error(format!("`--mainline {m}`: `{spec}` has {n} parents, numbered from 1")).into()
            );
        }
        (_, Some(m)) => tree_of(repo, parents[m - 1], spec)?,
    };
    let ours_tree = tree_of(repo, tip, branch)?;
    let theirs_tree = commit.tree_id().map_err(|e| git_error("read the tree of", spec, e))?.detach();
    let summary = commit.message_raw_sloppy().lines().next().unwrap_or_default().to_str_lossy().into_owned();
    if theirs_tree == base_tree {
        return Err(Diagnostic::error(format!("`{spec}` ({summary}) changes nothing: its tree equals its parent's"))
            .hint("leave it out of the commits to pick")
            .into());
    }
    let merged = merge(repo, base_tree, ours_tree, theirs_tree, spec, branch)?;
    if merged == ours_tree {
        return Err(Diagnostic::error(format!("the pick of `{spec}` ({summary}) onto `{branch}` is empty"))
            .note(format!("`{branch}` already has its change"))
            .hint("leave it out of the commits to pick")
            .into());
    }
    let message = picked_message(&commit.message_raw_sloppy().to_str_lossy(), id);
    let author = commit.author().map_err(|e| git_error("read the author of", spec, e))?;
    let mut time = gix::date::parse::TimeBuf::default();
    let new = repo
        .new_commit_as(committer.to_ref(&mut time), author, message, merged, [tip])
        .map_err(|e| git_error("write the picked commit of", spec, e))?;
    Ok(Picked { original: id, commit: new.id, summary })
}

/// The merged tree, or every conflicting file as an error.
fn merge(
    repo: &gix::Repository,
    base: ObjectId,
    ours: ObjectId,
    theirs: ObjectId,
    spec: &str,
    branch: &str,
) -> Result<ObjectId, Error> {
    let options = repo.tree_merge_options().map_err(|e| git_error("read the merge options for", spec, e))?;
    let labels = gix::merge::blob::builtin_driver::text::Labels {
        ancestor: Some("parent".into()),
        current: Some(branch.into()),
        other: Some(spec.into()),
    };
    let mut outcome = repo.merge_trees(base, ours, theirs, labels, options).map_err(|e| git_error("merge", spec, e))?;
    let how = gix::merge::tree::TreatAsUnresolved::git();
    if outcome.has_unresolved_conflicts(how) {
        let mut diagnostics = Vec::new();
        for c in outcome.conflicts.iter().filter(|c| c.is_unresolved(how)) {
            let (ours_change, _) = c.changes_in_resolution();
            let path = ours_change.location().to_str_lossy().into_owned();
            let mut d = Diagnostic::error(format!("`{spec}` conflicts with `{branch}` in `{path}`")).at(path.clone());
            match c.content_merge() {
                Some(m) => {
                    let text = repo.find_blob(m.merged_blob_id).map(|b| b.data.clone()).unwrap_or_default();
                    for h in conflict_hunks(&text) {
                        d = d.note(format!("conflicting hunk at {} of `{path}` on `{branch}`", hunk_lines(&h)));
                    }
                }
                None => {
                    if let Err(failure) = &c.resolution {
                        d = d.note(format!(
                            "not a line conflict: {failure:?} (one side deleted, renamed or retyped it)"
                        ));
                    }
                }
            }
            diagnostics.push(d);
        }
        let mut e = Error::many(diagnostics);
        if let Some(last) = e.diagnostics.last_mut() {
            last.hints.push(format!(
                "no reference was moved; resolve by hand (`git switch {branch}` and `git cherry-pick -x {spec}`), \
                 or port the change without it"
            ));
        }
        return Err(e);
    }
    Ok(outcome.tree.write().map_err(|e| git_error("write the merged tree of", spec, e))?.detach())
}

/// `message` with `(cherry picked from commit <id>)` after it, as `git cherry-pick -x`
/// writes it: after a blank line, or right below a closing block of trailers.
pub fn picked_message(message: &str, id: ObjectId) -> String {
    let body = message.trim_end();
    let last = body.rsplit("\n\n").next().unwrap_or("");
    let trailers = body.contains("\n\n")
        && !last.is_empty()
        && last.lines().all(|l| {
            l.split_once(": ").is_some_and(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '-'))
        });
    let sep = if trailers { "\n" } else { "\n\n" };
    format!("{body}{sep}(cherry picked from commit {id})\n")
}

/// The commits a COMMIT argument names, oldest first: one commit, or `A..B`
/// (those reachable from `B` but not `A`).
fn commits_of(repo: &gix::Repository, pick: Pick) -> Result<Vec<(String, ObjectId)>, Error> {
    let (spec, hidden, tip) = match pick {
        Pick::One(spec, id) => return Ok(vec![(spec, id)]),
        Pick::Range { spec, hidden, tip } => (spec, hidden, tip),
    };
    let walk = repo.rev_walk([tip]).with_hidden([hidden]).all().map_err(|e| git_error("walk the range", &spec, e))?;
    let mut out = Vec::new();
    for info in walk {
        let info = info.map_err(|e| git_error("walk the range", &spec, e))?;
        out.push((info.id.to_hex_with_len(12).to_string(), info.id));
    }
    out.reverse();
    Ok(out)
}

fn tree_of(repo: &gix::Repository, commit: ObjectId, what: &str) -> Result<ObjectId, Error> {
    let c = repo.find_commit(commit).map_err(|e| git_error("read commit", what, e))?;
    Ok(c.tree_id().map_err(|e| git_error("read the tree of", what, e))?.detach())
}

/// The committer: `Name <email>` given, else git config's (`user.name`, `user.email`,
/// `GIT_COMMITTER_*`), at the current time.
pub fn committer(repo: &gix::Repository, given: Option<&str>) -> Result<gix::actor::Signature, Error> {
    let time = gix::date::Time::now_local_or_utc();
    if let Some(given) = given {
        let (name, rest) = given.split_once('<').unwrap_or((given, ""));
        let email = rest.strip_suffix('>').filter(|e| !e.is_empty() && !e.contains(['<', '>']));
        return match (name.trim(), email) {
            (name, Some(email)) if !name.is_empty() => {
                Ok(gix::actor::Signature { name: name.into(), email: email.trim().into(), time })
            }
            _ => Err(Diagnostic::error(format!("`--committer {given}` is not `Name <email>`"))
                .hint("write it as git does: `--committer \"Release Bot <release@example.com>\"`")
                .into()),
        };
    }
    match repo.committer() {
        Some(Ok(sig)) => {
            let mut sig = sig.to_owned().map_err(|e| git_error("read", "the committer from git config", e))?;
            sig.time = time;
            Ok(sig)
        }
        _ => Err(Diagnostic::error("no committer identity: git config has no `user.name` / `user.email`")
            .hint("set them (`git config user.name ...; git config user.email ...`) or pass `--committer \"Name <email>\"`")
            .into()),
    }
}

/// Refuses a branch checked out in the work tree or any linked work tree: moving it
/// would leave that work tree's index and files behind its `HEAD` (also `strata hydrate`'s).
pub fn refuse_checked_out(repo: &gix::Repository, full: &gix::refs::FullName, branch: &str) -> Result<(), Error> {
    let mut heads = vec![(repo.head_name().ok().flatten(), repo.workdir().map(Path::to_path_buf))];
    if let Ok(all) = repo.worktrees_including_main() {
        for r in all.flatten() {
            heads.push((r.head_name().ok().flatten(), r.workdir().map(Path::to_path_buf)));
        }
    }
    for (head, dir) in heads {
        if head.as_ref() == Some(full) {
            let dir = dir.map(|d| d.display().to_string()).unwrap_or_else(|| "the repository".into());
            return Err(Diagnostic::error(format!("`{branch}` is checked out in `{dir}`"))
                .note(
                    "strata writes git objects and leaves every work tree alone; moving a checked-out branch would not",
                )
                .hint("switch that work tree to another branch, or write to another `--branch`")
                .into());
        }
    }
    Ok(())
}

pub fn full_name(name: &str, what: &str) -> Result<gix::refs::FullName, Error> {
    gix::refs::FullName::try_from(name).map_err(|e| {
        Diagnostic::error(format!(
            "`{}` is not a valid {what} name: {e}",
            name.rsplit_once("refs/").map(|(_, n)| n).unwrap_or(name)
        ))
        .into()
    })
}

fn with_final_newline(text: &str) -> String {
    if text.ends_with('\n') { text.to_string() } else { format!("{text}\n") }
}

pub fn git_error(action: &str, what: &str, e: impl std::fmt::Display) -> Error {
    Diagnostic::error(format!("cannot {action} `{what}`: {e}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_derive_from_versions() {
        for (onto, branch) in [
            ("v1.0", Some("release/v1")),
            ("v1.0.3", Some("release/v1")),
            ("refs/tags/v12.4", Some("release/v12")),
            ("2.3", Some("release/2")),
            ("v3", Some("release/v3")),
            ("v2-rc1", Some("release/v2")),
            ("main", None),
            ("HEAD~2", None),
            ("vx.1", None),
        ] {
            assert_eq!(default_branch(onto).as_deref(), branch, "{onto}");
        }
    }

    #[test]
    fn messages_end_like_git_cherry_pick_x() {
        let id = ObjectId::null(gix::hash::Kind::Sha1);
        let z = "0".repeat(40);
        assert_eq!(picked_message("fix\n", id), format!("fix\n\n(cherry picked from commit {z})\n"));
        assert_eq!(
            picked_message("fix\n\nSigned-off-by: a <a@b>\n", id),
            format!("fix\n\nSigned-off-by: a <a@b>\n(cherry picked from commit {z})\n")
        );
        assert_eq!(
            picked_message("fix\n\nbody text\n", id),
            format!("fix\n\nbody text\n\n(cherry picked from commit {z})\n")
        );
    }
}
