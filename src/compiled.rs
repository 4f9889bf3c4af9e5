//! Compiled: what the stages up to tracking produce for the selected targets.
//!
//! In: each target with its patched, labelled [`Resource`]s. Out: a [`Batch`]
//! (targets with their objects, the revision they were read from and the
//! repository's [`Tracking`] settings, derived once per compilation), and
//! [`Compiled`]: every selected target as one batch plus the warnings found on
//! the way. A batch is what `order` and `bundle` work on (`strata bundle`
//! receives one batch of whole environments at a time); a [`Compiled`] is the
//! input of `diff`, `check` and `cluster`. They live in a stage module of their
//! own, not in the driver that builds them.
//!
//! Invariant: no environment holds two objects with the same identity
//! ([`check_duplicates`] is run before a batch is made).

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use crate::diag::{Diagnostic, Error};
use crate::manifest::{self, Resource};
use crate::repo::Target;
use crate::source::SourceInfo;
use crate::tracking::Tracking;

/// One target's output.
#[derive(Debug, Clone)]
pub struct CompiledTarget {
    pub target: Target,
    pub resources: Vec<Resource>,
}

/// Targets compiled together: whole environments, no duplicate identity in any.
#[derive(Debug, Clone)]
pub struct Batch {
    pub targets: Vec<CompiledTarget>,
    pub info: SourceInfo,
    /// `strata.yaml` `tracking:` when on: the labels the objects carry, the
    /// inventories bundles end with, the selector of `diff --live`'s prune search.
    pub tracking: Option<Tracking>,
}

impl Batch {
    /// The environments in the output, sorted, each with its targets' resources.
    pub fn environments(&self) -> BTreeMap<&str, Vec<&CompiledTarget>> {
        by_environment(&self.targets)
    }

    /// Every resource, target by target.
    pub fn resources(&self) -> impl Iterator<Item = (&CompiledTarget, &Resource)> {
        self.targets.iter().flat_map(|t| t.resources.iter().map(move |r| (t, r)))
    }
}

/// A whole compilation: every selected target (in the order they were
/// selected) as one [`Batch`], and the warnings, which are known only once
/// every target has rendered.
///
/// It dereferences to its batch, so that `compiled.targets` and
/// `order::plan(&graph, &compiled)` read as they say.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub batch: Batch,
    pub warnings: Vec<Diagnostic>,
}

impl Deref for Compiled {
    type Target = Batch;

    fn deref(&self) -> &Batch {
        &self.batch
    }
}

impl DerefMut for Compiled {
    fn deref_mut(&mut self) -> &mut Batch {
        &mut self.batch
    }
}

fn by_environment(targets: &[CompiledTarget]) -> BTreeMap<&str, Vec<&CompiledTarget>> {
    let mut out: BTreeMap<&str, Vec<&CompiledTarget>> = BTreeMap::new();
    for t in targets {
        out.entry(t.target.environment.as_str()).or_default().push(t);
    }
    out
}

/// Two objects with one identity in one environment, across its targets: one
/// error each, environments in sorted order.
pub fn check_duplicates(targets: &[CompiledTarget]) -> Result<(), Error> {
    let mut dup = Vec::new();
    for (env, ts) in by_environment(targets) {
        dup.extend(manifest::check_duplicates(
            ts.iter().flat_map(|t| t.resources.iter()),
            &format!("environment `{env}`"),
        ));
    }
    if dup.is_empty() { Ok(()) } else { Err(Error::many(dup)) }
}
