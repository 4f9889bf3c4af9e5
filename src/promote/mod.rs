//! Releases by version directory: which target runs which version
//! (`strata versions`), moving targets between versions (`strata promote`) and
//! starting a version (`strata version new`).
//!
//! In: a [`Repo`] (work tree or git revision). Out: a [`Matrix`] or the
//! [`Move`]s between two revisions ([`versions`], printed by [`report`]); a
//! [`Promotion`] ([`plan`]): each target's old and new `templates` link and the
//! rendered diff of the move, compiled over an in-memory [`crate::source::OverlaySource`] before
//! anything is written, then written all or none ([`plan::apply`]); a copied
//! version directory ([`copy`]).
//!
//! Invariants: a link keeps its form (symlink or link file) and its style;
//! nothing is written when anything fails to render; versions are ordered by
//! [`versions::compare_versions`] (`v10` after `v9`).

pub mod copy;
pub mod links;
pub mod plan;
pub mod report;
pub mod versions;

use std::path::Path;

pub use copy::new_version;
pub use plan::{Destination, PromoteRequest, apply, plan};
pub use versions::{Matrix, Move};

use crate::diag::Error;
use crate::repo::{self, Repo, open};

/// The matrix of the targets `selectors` pick, in the work tree (`rev` is
/// `None`) or at a git revision.
pub fn matrix_at(root: &Path, rev: Option<&str>, selectors: &[String]) -> Result<Matrix, Error> {
    let repo = open::open(root, rev, &[])?;
    let targets = repo.select(selectors)?;
    versions::matrix(&repo, &targets)
}

/// The cells that moved between the two sides of `range` (`--from REV
/// [--to REV]`, [`open::open_range`]), for the targets `selectors` pick on either side.
pub fn moves_between(root: &Path, range: open::Range<'_>, selectors: &[String]) -> Result<Vec<Move>, Error> {
    let sides = open::open_range(root, range, "strata versions", &[])?;
    let (before, after): (&Repo, &Repo) = (&sides.before.repo, &sides.after.repo);
    let (bt, at) = repo::select_both(before, after, selectors)?;
    Ok(versions::moves(&versions::matrix(before, &bt)?, &versions::matrix(after, &at)?))
}
