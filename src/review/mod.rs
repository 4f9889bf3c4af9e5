//! `strata review`: one self-contained HTML page for a change.
//!
//! In: the two sides of a change ([`Sides`], opened by [`crate::repo::open`]) and
//! the selectors. The diff engine compares them ([`crate::diff::revisions`]: targets
//! with identical inputs counted, not rendered; `diff.ignore` applied); the rollout
//! stage plans the change over the waves ([`crate::rollout::plan`]); `check` runs on
//! both renders ([`crate::check::repository::check_compiled`]; where an environment
//! was rendered in part, without its cross-object rules). Out: a [`Review`]:
//! the page ([`page`]) and its totals.
//!
//! The page shows a summary by wave (risks, blast radius), the versions matrix
//! before → after, a waves × environments grid, every changed object with its
//! structural changes and its unified diff (the text report's, Secrets masked the
//! same way) drawn unified or side by side with word-level highlighting
//! ([`rows`]), the check findings on changed objects (before / after per rule),
//! filters and keyboard navigation. Its data is one JSON document in the page,
//! drawn lazily by an inline script (a header per object at once, a body when seen).
//!
//! Invariants: the page makes no request (inline CSS and script only, and a
//! `Content-Security-Policy` that allows nothing else); the same inputs give the
//! same bytes (no time, no absolute path, sorted everything); the totals on its
//! root element equal the json reports: changed environments and objects (`diff`),
//! risks (`rollout plan`), findings on changed objects (`check`; with `--strict`
//! also where an environment has targets with identical inputs).

pub mod data;
pub mod page;
pub mod rows;

use std::collections::BTreeSet;

use crate::check::repository::check_compiled;
use crate::diag::{Diagnostic, Error};
use crate::diff::CompareOptions;
use crate::diff::RevisionDiff;
use crate::diff::revisions::compare_sides;
use crate::pipeline::Options;
use crate::repo::open::{Sides, on_side};
use crate::repo::waves;
use crate::rollout;

/// A finished review.
#[derive(Debug)]
pub struct Review {
    /// The page, complete.
    pub html: String,
    pub totals: data::Totals,
    /// Something changes: exit 1, as `strata diff`.
    pub differs: bool,
    /// The after side's warnings.
    pub warnings: Vec<Diagnostic>,
}

/// Reviews the change between the two sides, for the targets `selectors` pick.
pub fn review_sides(sides: &Sides, selectors: &[String], opts: &Options) -> Result<Review, Error> {
    let waves = waves::resolve(&sides.after.repo)?;
    let diff = compare_sides(sides, selectors, opts, &CompareOptions::default())?;
    let plan = rollout::plan(&waves, &diff);
    let partial = partial_environments(&diff);
    let (before, after) = rayon::join(
        || check_compiled(&sides.before.repo, &diff.before, &partial).map_err(|e| on_side(e, &sides.before.name)),
        || check_compiled(&sides.after.repo, &diff.after, &partial),
    );
    let data = data::build(sides, &diff, &plan, &before?, &after?);
    let html = page::render(&data);
    Ok(Review { html, totals: data.totals, differs: diff.report.differs(), warnings: diff.warnings })
}

/// The environments that change but were rendered in part (targets with identical
/// inputs are not rendered): cross-object check rules are left out there.
pub fn partial_environments(diff: &RevisionDiff) -> BTreeSet<String> {
    diff.report.touched_environments().filter(|e| e.identical > 0).map(|e| e.environment.clone()).collect()
}
