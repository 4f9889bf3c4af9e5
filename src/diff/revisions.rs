//! Comparing two revisions: the same pipeline run on both sides.
//!
//! In: the two [`Repo`]s (a git revision, or the work tree; opened by
//! [`crate::repo::open`], which names them) with their selected targets, the compile [`Options`] and [`CompareOptions`]. Out: a [`Report`]
//! labelled with both sides, and the after side's warnings.
//!
//! Targets whose every input is identical on both sides render the same
//! ([`inputs::identical_targets`]): they are counted, not rendered, so that the
//! work of a diff follows the change. `--strict` renders everything, to check
//! it all. Both sides compile in parallel; an error names the side it came from.

use std::collections::BTreeSet;

use super::{CompareOptions, Report, Side, compare, ignore, inputs};
use crate::compiled::Compiled;
use crate::diag::{Diagnostic, Error};
use crate::pipeline::{self, Options};
use crate::repo::open::{Opened, Sides, on_side};
use crate::repo::{self, Repo, Target};

/// One side of a comparison between revisions.
#[derive(Debug, Clone, Copy)]
pub struct RevisionSide<'r> {
    pub repo: &'r Repo,
    /// Its selected targets.
    pub targets: &'r [&'r Target],
    /// How messages name it: `--from v1.4.0`, `the work tree`.
    pub name: &'r str,
    /// The report's label: `v1.4.0`, `work tree`.
    pub label: &'r str,
}

impl<'r> RevisionSide<'r> {
    /// An opened repository ([`crate::repo::open`]) with its selected targets.
    pub fn of(opened: &'r Opened, targets: &'r [&'r Target]) -> Self {
        RevisionSide { repo: &opened.repo, targets, name: &opened.name, label: &opened.label }
    }
}

/// What [`compare_revisions`] found.
#[derive(Debug)]
pub struct RevisionDiff {
    pub report: Report,
    /// The after side's warnings: the after side is what the user is working
    /// on; the before side's warnings are history.
    pub warnings: Vec<Diagnostic>,
    /// Both renders (targets with identical inputs left out), for callers that
    /// look at bodies and not only at the report (`rollout plan`'s risks).
    pub before: Compiled,
    pub after: Compiled,
}

/// `strata diff --from/--to/--base`: the targets `selectors` pick on either
/// side of `sides` ([`repo::select_both`]), compared ([`compare_revisions`]).
pub fn compare_sides(
    sides: &Sides,
    selectors: &[String],
    opts: &Options,
    compare_opts: &CompareOptions,
) -> Result<RevisionDiff, Error> {
    let (bt, at) = repo::select_both(&sides.before.repo, &sides.after.repo, selectors)?;
    compare_revisions(RevisionSide::of(&sides.before, &bt), RevisionSide::of(&sides.after, &at), opts, compare_opts)
}

/// Compiles both sides (skipping targets with identical inputs) and compares them.
pub fn compare_revisions(
    before: RevisionSide<'_>,
    after: RevisionSide<'_>,
    opts: &Options,
    compare_opts: &CompareOptions,
) -> Result<RevisionDiff, Error> {
    let identical = if opts.strict {
        Default::default()
    } else {
        inputs::identical_targets(before.repo, before.targets, after.repo, after.targets)
    };
    let skipped: Vec<&Target> = after.targets.iter().filter(|t| identical.contains(&t.address())).copied().collect();
    let (bt, at) = (differing(before.targets, &identical), differing(after.targets, &identical));
    let compare_opts = with_ignore_rules(after, compare_opts)?;
    let (b, a) = rayon::join(|| pipeline::compile(before.repo, &bt, opts), || pipeline::compile(after.repo, &at, opts));
    let b = b.map_err(|e| on_side(e, before.name))?;
    let mut a = a.map_err(|e| on_side(e, after.name))?;

    let mut report = compare(&b, &a, &compare_opts);
    report.add_identical(skipped);
    report.before = Side { label: before.label.to_string(), ..Side::from_info(&b.info) };
    report.after = Side { label: after.label.to_string(), ..Side::from_info(&a.info) };
    let warnings = std::mem::take(&mut a.warnings);
    Ok(RevisionDiff { report, warnings, before: b, after: a })
}

/// `compare_opts` with the after side's `strata.yaml` `diff.ignore` (the side
/// under review says what it hides), checked first: a bad pointer is an error at its line.
fn with_ignore_rules(after: RevisionSide<'_>, compare_opts: &CompareOptions) -> Result<CompareOptions, Error> {
    let rules = after.repo.config.diff.as_ref().map(|d| d.ignore.clone()).unwrap_or_default();
    ignore::check(&rules, after.repo.config_text.as_deref()).map_err(|e| {
        let note = format!("`strata.yaml` of {}", after.name);
        Error::many(e.into_iter().map(|d| d.note(note.clone())).collect())
    })?;
    Ok(CompareOptions { ignore: rules, ..compare_opts.clone() })
}

/// The targets not in `identical`.
fn differing<'t>(targets: &[&'t Target], identical: &BTreeSet<String>) -> Vec<&'t Target> {
    targets.iter().filter(|t| !identical.contains(&t.address())).copied().collect()
}
