//! `strata port`: a change made in one version directory carried to others.
//!
//! In: the configuration root (a git work tree), a component, the version the
//! change was made in (`A`), the versions to port it to (`B`...), and where the
//! change is: a commit (against its first parent), a range `R1..R2`, or the
//! uncommitted work (the work tree against `HEAD`). Out: [`PortOutcome`]: what
//! happened to each file, and the rendered diff of every target using a `B`.
//!
//! Per file of `COMPONENT/A/` the change touched, a 3-way merge with base the A
//! file before, theirs the A file after, ours the B file in the work tree:
//! - modified: merged line by line (gix's text merge); B missing the file is a
//!   conflict;
//! - added: added when B lacks it, nothing when B has the same content, a
//!   merge with an empty base otherwise;
//! - deleted: deleted when B's copy equals the base, nothing when B lacks it, a
//!   conflict when B changed it.
//!
//! Invariants: nothing is written when any file conflicts (unless conflict
//! markers are asked for) or when a ported target fails to render; the ported
//! versions are rendered from memory ([`OverlaySource`]) before anything is
//! written; all files of all versions are written together ([`atomic::write_files`]).
//! Symbolic links below the version directories are not ported (reported).
//! Confinement: every side is read through [`Fs`] (a path or link leaving the
//! root is refused), the `B` directories must be real directories (not reached
//! through a link), and every write goes through [`atomic::confined`]. The
//! names in [`PortOptions`] are checked by the caller
//! ([`crate::repo::arguments::check_name`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use gix::merge::blob::builtin_driver::{self, text};

use super::{conflict_hunks, hunk_lines};
use crate::atomic;
use crate::diag::{Diagnostic, Error};
use crate::diff::revisions::RevisionDiff;
use crate::diff::{CompareOptions, RevisionSide, compare_revisions};
use crate::pipeline::Options;
use crate::repo::open::{self, on_side};
use crate::repo::{Repo, Target};
use crate::source::{self, EntryKind, Fs, GitRepo, OverlaySource, Source, SourceInfo, WorkTreeSource};

/// Where the change to port is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// What a commit changed against its first parent.
    Commit(String),
    /// What changed from `R1` to `R2`.
    Range(String, String),
    /// The work tree against `HEAD`.
    Uncommitted,
}

impl Change {
    /// `--change REV` or `--change R1..R2`.
    pub fn parse(spec: &str) -> Change {
        match spec.split_once("..") {
            Some((from, to)) => Change::Range(from.to_string(), if to.is_empty() { "HEAD" } else { to }.to_string()),
            None => Change::Commit(spec.to_string()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PortOptions {
    pub component: String,
    pub from_version: String,
    pub to_versions: Vec<String>,
    pub change: Change,
    pub dry_run: bool,
    /// Write conflicting files with conflict markers instead of refusing.
    pub conflict_markers: bool,
}

/// What happened to one file of a target version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Merged,
    Added,
    Deleted,
    /// The version already has the change.
    Unchanged,
    /// Written with conflict markers (`--conflict-markers`).
    Conflicted,
}

#[derive(Debug)]
pub struct PortOutcome {
    /// Repository-relative path (`frontend/v2/deployment.yaml`) → what happened.
    pub files: Vec<(String, Action)>,
    /// Problems that did not stop the port (links not ported).
    pub warnings: Vec<Diagnostic>,
    /// `None` when conflict markers were written: they do not render.
    pub diff: Option<RevisionDiff>,
}

impl PortOutcome {
    /// What happened to each file, for stderr.
    pub fn summary(&self, dry_run: bool) -> String {
        let mut out = String::new();
        for (path, action) in &self.files {
            let what = match action {
                Action::Merged => "merged",
                Action::Added => "added",
                Action::Deleted => "deleted",
                Action::Unchanged => "unchanged (already has the change)",
                Action::Conflicted => "written with conflict markers",
            };
            let _ = writeln!(out, "{path}: {what}");
        }
        if dry_run {
            out.push_str("dry run: nothing written\n");
        }
        out
    }
}

/// One file's three sides, by path relative to the version directory.
struct Sides {
    base: BTreeMap<String, Arc<[u8]>>,
    theirs: BTreeMap<String, Arc<[u8]>>,
}

/// Ports the change, renders the targets using each `B`, then writes.
pub fn port(
    root: &Path,
    opts: &PortOptions,
    compile: &Options,
    compare: &CompareOptions,
) -> Result<PortOutcome, Error> {
    let worktree: Arc<dyn Source> = Arc::new(WorkTreeSource::new(root.to_path_buf(), SourceInfo::default()));
    let fs = Fs::new(worktree.clone());
    let from_dir = source::join(&opts.component, &opts.from_version);
    let mut warnings = Vec::new();
    let sides = change_sides(root, &fs, &from_dir, &opts.change, &mut warnings)?;
    if sides.base == sides.theirs {
        return Err(Diagnostic::error(format!("{} changed nothing under `{from_dir}/`", describe(&opts.change)))
            .hint("name the commit that changed the version directory (`git log --oneline -- DIR`)")
            .into());
    }
    let mut changes: BTreeMap<String, Option<Arc<[u8]>>> = BTreeMap::new();
    let mut files = Vec::new();
    let mut conflicts = Vec::new();
    for to in &opts.to_versions {
        let to_dir = source::join(&opts.component, to);
        if to_dir == from_dir {
            return Err(Diagnostic::error(format!("`--to-version {to}` is the version the change comes from")).into());
        }
        let resolved = fs.resolve(&to_dir)?;
        if resolved != to_dir {
            return Err(Diagnostic::error(format!("`{to_dir}` is reached through a link (to `{resolved}`)"))
                .at(to_dir.clone())
                .note("`strata port` writes only into real version directories, not through links")
                .hint(format!("port to `{resolved}` instead"))
                .into());
        }
        if fs.entry_kind(&to_dir)? != Some(EntryKind::Dir) {
            return Err(Diagnostic::error(format!("no version directory `{to_dir}/` in the work tree"))
                .hint(format!("the versions of `{}` are its directories other than targets", opts.component))
                .into());
        }
        let ours = read_tree(&fs, &to_dir, &mut warnings)?;
        for (rel, action, content, hunks) in port_version(&sides, &ours, &from_dir, &to_dir) {
            let path = source::join(&to_dir, &rel);
            if !hunks.is_empty() {
                conflicts.push(conflict_diagnostic(&path, &hunks, &from_dir));
            }
            if let Some(content) = content {
                changes.insert(path.clone(), content);
            }
            files.push((path, action));
        }
    }
    if !conflicts.is_empty() && !opts.conflict_markers {
        let mut e = Error::many(conflicts);
        if let Some(last) = e.diagnostics.last_mut() {
            last.hints.push("nothing was written; resolve the differences by hand, or pass `--conflict-markers` to write the merged files with markers".into());
        }
        return Err(e);
    }
    let diff =
        if conflicts.is_empty() { Some(render(root, &worktree, &changes, opts, compile, compare)?) } else { None };
    if !opts.dry_run {
        let writes = changes
            .iter()
            .map(|(p, c)| Ok((atomic::confined(root, p)?, c.as_ref().map(|b| b.to_vec()))))
            .collect::<Result<Vec<_>, Error>>()?;
        atomic::write_files(&writes)?;
    }
    warnings.extend(conflicts.into_iter().map(|mut d| {
        d.severity = crate::diag::Severity::Warning;
        d.message = format!("{} (written with conflict markers)", d.message);
        d
    }));
    Ok(PortOutcome { files, warnings, diff })
}

/// The version directory `A` before and after the change.
fn change_sides(
    root: &Path,
    worktree: &Fs,
    from_dir: &str,
    change: &Change,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Sides, Error> {
    let git = GitRepo::discover(root)?;
    let given = given(change);
    let rev_source = |spec: &str| -> Result<Fs, Error> {
        let rev = open::resolve(&git, spec, &given)?;
        Ok(Fs::new(Arc::new(git.source(&rev)?)))
    };
    let (before, after): (Fs, Fs) = match change {
        Change::Commit(rev) => {
            let after = rev_source(rev)?;
            let parent = git.resolve(&format!("{rev}^")).map_err(|d| {
                d.note(format!("`--change {rev}` compares a commit with its first parent"))
                    .hint("a root commit has none: give a range `--change R1..R2`")
            })?;
            (Fs::new(Arc::new(git.source(&parent)?)), after)
        }
        Change::Range(from, to) => (rev_source(from)?, rev_source(to)?),
        Change::Uncommitted => (rev_source("HEAD")?, worktree.clone()),
    };
    let base = read_tree(&before, from_dir, warnings)?;
    let theirs = read_tree(&after, from_dir, warnings)?;
    if base.is_empty() && theirs.is_empty() {
        return Err(Diagnostic::error(format!("`{from_dir}/` does not exist on either side of {}", describe(change)))
            .hint("`--from-version` names the version directory the change was made in")
            .into());
    }
    Ok(Sides { base, theirs })
}

/// The files below `dir` (relative to it) and their bytes; empty when `dir` is
/// missing. `dir` is resolved through `fs` (a link leaving the root is an
/// error); links below it are reported, not followed.
fn read_tree(fs: &Fs, dir: &str, warnings: &mut Vec<Diagnostic>) -> Result<BTreeMap<String, Arc<[u8]>>, Error> {
    let mut out = BTreeMap::new();
    let dir = fs.resolve(dir)?;
    let dir = dir.as_str();
    if fs.entry_kind(dir)? != Some(EntryKind::Dir) {
        return Ok(out);
    }
    let source = fs.source().as_ref();
    let mut pending = vec![String::new()];
    let cannot = |p: &str, e: std::io::Error| Diagnostic::error(format!("cannot read `{}`: {e}", source::join(dir, p)));
    while let Some(rel) = pending.pop() {
        for entry in source.read_dir(&source::join(dir, &rel)).map_err(|e| cannot(&rel, e))? {
            let child = source::join(&rel, &entry.name);
            match entry.kind {
                EntryKind::Dir => pending.push(child),
                EntryKind::File => {
                    let bytes = source.read_file(&source::join(dir, &child)).map_err(|e| cannot(&child, e))?;
                    out.insert(child, bytes);
                }
                EntryKind::Link => {
                    let w = Diagnostic::warning(format!("the link `{}` is not ported", source::join(dir, &child)));
                    if !warnings.contains(&w) {
                        warnings.push(w);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// One file's result: its path relative to the version, what happened, the new
/// content (`Some(None)` deletes, `None` leaves it), and conflicting hunks.
type FileResult = (String, Action, Option<Option<Arc<[u8]>>>, Vec<super::Hunk>);

/// The change applied to one version's files (`ours`).
fn port_version(sides: &Sides, ours: &BTreeMap<String, Arc<[u8]>>, from_dir: &str, to_dir: &str) -> Vec<FileResult> {
    let paths: BTreeSet<&String> = sides.base.keys().chain(sides.theirs.keys()).collect();
    let mut out = Vec::new();
    for rel in paths {
        let (base, theirs, mine) = (sides.base.get(rel), sides.theirs.get(rel), ours.get(rel));
        if base == theirs {
            continue;
        }
        let result = match (base, theirs, mine) {
            // Deleted in A.
            (Some(_), None, None) => (Action::Unchanged, None, Vec::new()),
            (Some(b), None, Some(m)) if b == m => (Action::Deleted, Some(None), Vec::new()),
            (Some(b), None, Some(m)) => {
                let (merged, hunks) = merge3(b, m, b"", from_dir, to_dir);
                (Action::Conflicted, Some(Some(merged)), force_conflict(hunks, m))
            }
            // Modified in A, missing in B.
            (Some(b), Some(t), None) => {
                let (merged, hunks) = merge3(b, b"", t, from_dir, to_dir);
                (Action::Conflicted, Some(Some(merged)), force_conflict(hunks, b""))
            }
            (None, Some(t), None) => (Action::Added, Some(Some(t.clone())), Vec::new()),
            (_, Some(t), Some(m)) if t == m => (Action::Unchanged, None, Vec::new()),
            (b, Some(t), Some(m)) => {
                let (merged, hunks) = merge3(b.map(|b| &b[..]).unwrap_or(b""), m, t, from_dir, to_dir);
                match (hunks.is_empty(), merged[..] == m[..]) {
                    (true, true) => (Action::Unchanged, None, hunks),
                    (true, false) => (Action::Merged, Some(Some(merged)), hunks),
                    (false, _) => (Action::Conflicted, Some(Some(merged)), hunks),
                }
            }
            (None, None, _) => continue,
        };
        out.push((rel.clone(), result.0, result.1, result.2));
    }
    out
}

/// A modify/delete conflict has no text hunk of its own: it covers the whole file.
fn force_conflict(hunks: Vec<super::Hunk>, ours: &[u8]) -> Vec<super::Hunk> {
    if hunks.is_empty() {
        let lines = ours.split(|b| *b == b'\n').count().saturating_sub(usize::from(ours.ends_with(b"\n")));
        vec![super::Hunk { start: 1, end: lines }]
    } else {
        hunks
    }
}

/// gix's line-by-line 3-way merge: the merged bytes (with markers where it
/// conflicts) and the conflicting hunks in lines of `ours`.
pub fn merge3(base: &[u8], ours: &[u8], theirs: &[u8], from_dir: &str, to_dir: &str) -> (Arc<[u8]>, Vec<super::Hunk>) {
    let mut input = gix::diff::blob::InternedInput::default();
    let mut out = Vec::new();
    let before = format!("{from_dir} (before)");
    let labels = text::Labels {
        ancestor: Some(before.as_str().into()),
        current: Some(to_dir.into()),
        other: Some(from_dir.into()),
    };
    let resolution = builtin_driver::text(&mut out, &mut input, labels, ours, base, theirs, text::Options::default());
    let hunks = if resolution == gix::merge::blob::Resolution::Conflict { conflict_hunks(&out) } else { Vec::new() };
    (Arc::from(out), hunks)
}

fn conflict_diagnostic(path: &str, hunks: &[super::Hunk], from_dir: &str) -> Diagnostic {
    let first = hunks[0];
    let mut d = Diagnostic::error(format!("the change to `{from_dir}/` conflicts with `{path}`")).at_pos(
        path,
        first.start.max(1),
        1,
    );
    for h in hunks {
        d = d.note(format!("conflicting hunk at {} of `{path}`", hunk_lines(h)));
    }
    d
}

/// Renders every target using one of the `B` versions, before and after (in memory).
fn render(
    root: &Path,
    worktree: &Arc<dyn Source>,
    changes: &BTreeMap<String, Option<Arc<[u8]>>>,
    opts: &PortOptions,
    compile: &Options,
    compare: &CompareOptions,
) -> Result<RevisionDiff, Error> {
    let before = open::open_worktree(root, &[]).map_err(|e| on_side(e, open::WORK_TREE))?;
    let overlay = OverlaySource::new(worktree.clone(), changes.clone());
    let after = Repo::load(source::Fs::new(Arc::new(overlay))).map_err(|e| on_side(e, "the ported work tree"))?;
    let dirs: BTreeSet<String> = opts.to_versions.iter().map(|v| source::join(&opts.component, v)).collect();
    let uses = |repo: &Repo| -> Vec<String> {
        repo.targets().filter(|t| dirs.contains(&t.version_dir)).map(Target::address).collect()
    };
    let (bt, at): (Vec<&Target>, Vec<&Target>) = {
        let wanted: BTreeSet<String> = uses(&before).into_iter().chain(uses(&after)).collect();
        (
            before.targets().filter(|t| wanted.contains(&t.address())).collect(),
            after.targets().filter(|t| wanted.contains(&t.address())).collect(),
        )
    };
    let versions = opts.to_versions.join(", ");
    compare_revisions(
        RevisionSide { repo: &before, targets: &bt, name: "the work tree", label: "work tree" },
        RevisionSide {
            repo: &after,
            targets: &at,
            name: "the ported work tree",
            label: &format!("ported to {versions}"),
        },
        compile,
        compare,
    )
}

/// How the command line gave `change`, for error notes: `--change v1..v2`.
fn given(change: &Change) -> String {
    match change {
        Change::Commit(rev) => format!("--change {rev}"),
        Change::Range(a, b) => format!("--change {a}..{b}"),
        Change::Uncommitted => "--uncommitted".to_string(),
    }
}

fn describe(change: &Change) -> String {
    match change {
        Change::Commit(rev) => format!("`--change {rev}`"),
        Change::Range(a, b) => format!("`--change {a}..{b}`"),
        Change::Uncommitted => "the uncommitted work".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(entries: &[(&str, &str)]) -> BTreeMap<String, Arc<[u8]>> {
        entries.iter().map(|(k, v)| (k.to_string(), Arc::from(v.as_bytes()))).collect()
    }

    fn run(
        base: &[(&str, &str)],
        theirs: &[(&str, &str)],
        ours: &[(&str, &str)],
    ) -> Vec<(String, Action, Option<String>, usize)> {
        let sides = Sides { base: tree(base), theirs: tree(theirs) };
        port_version(&sides, &tree(ours), "c/v3", "c/v2")
            .into_iter()
            .map(|(p, a, c, h)| {
                let c = c
                    .map(|c| c.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_else(|| "<deleted>".into()));
                (p, a, c, h.len())
            })
            .collect()
    }

    #[test]
    fn each_kind_of_change() {
        let base = [("a.yaml", "x: 1\nk: 0\ny: 2\nz: 3\n"), ("gone.yaml", "g\n"), ("same.yaml", "s\n")];
        let theirs = [("a.yaml", "x: 1\nk: 0\ny: 20\nz: 3\n"), ("new.yaml", "n\n"), ("same.yaml", "s\n")];
        // B differs elsewhere in a.yaml (adjacent lines would conflict, as in git), still has gone.yaml unchanged, lacks new.yaml.
        let ours = [("a.yaml", "x: 100\nk: 0\ny: 2\nz: 3\n"), ("gone.yaml", "g\n")];
        assert_eq!(
            run(&base, &theirs, &ours),
            [
                ("a.yaml".into(), Action::Merged, Some("x: 100\nk: 0\ny: 20\nz: 3\n".into()), 0),
                ("gone.yaml".into(), Action::Deleted, Some("<deleted>".into()), 0),
                ("new.yaml".into(), Action::Added, Some("n\n".into()), 0),
            ]
        );
        // Already ported: nothing to do.
        assert!(run(&base, &theirs, &theirs).iter().all(|(_, a, c, _)| *a == Action::Unchanged && c.is_none()));
    }

    #[test]
    fn conflicts_name_our_lines() {
        let r = run(&[("a.yaml", "x: 1\ny: 2\n")], &[("a.yaml", "x: 1\ny: 3\n")], &[("a.yaml", "x: 1\ny: 4\n")]);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].1.clone(), r[0].3), (Action::Conflicted, 1));
        assert!(r[0].2.as_deref().unwrap().contains("<<<<<<< c/v2"), "{:?}", r[0].2);
        // Deleted in A, changed in B; changed in A, missing in B.
        let r = run(&[("d", "1\n")], &[], &[("d", "2\n")]);
        assert_eq!((r[0].1.clone(), r[0].3), (Action::Conflicted, 1));
        let r = run(&[("m", "1\n")], &[("m", "2\n")], &[]);
        assert_eq!((r[0].1.clone(), r[0].3), (Action::Conflicted, 1));
    }
}
