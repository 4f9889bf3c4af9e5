//! Compiled: what the stages up to tracking produce for the selected targets.
//!
//! In: each target with its patched, labelled [`Resource`]s. Out: [`Compiled`],
//! the targets in repository order, the warnings found on the way and the
//! revision they were read from. This is the input of every later stage
//! (`order`, `bundle`, `diff`, `cluster`), which is why it lives in a stage
//! module of its own and not in the driver that builds it.
//!
//! Invariant: no environment holds two objects with the same identity
//! ([`check_duplicates`] is run before a `Compiled` is made).

use std::collections::BTreeMap;

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

#[derive(Debug, Clone)]
pub struct Compiled {
    pub targets: Vec<CompiledTarget>,
    pub warnings: Vec<Diagnostic>,
    pub info: SourceInfo,
    /// `strata.yaml` `tracking:` when on (bundles end with its inventories).
    pub tracking: Option<Tracking>,
}

impl Compiled {
    /// The environments in the output, sorted, each with its targets' resources.
    pub fn environments(&self) -> BTreeMap<&str, Vec<&CompiledTarget>> {
        by_environment(&self.targets)
    }

    /// Every resource, target by target.
    pub fn resources(&self) -> impl Iterator<Item = (&CompiledTarget, &Resource)> {
        self.targets.iter().flat_map(|t| t.resources.iter().map(move |r| (t, r)))
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
