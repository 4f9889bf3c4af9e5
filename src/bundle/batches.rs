//! Bundles and renders made batch by batch, in bounded memory.
//!
//! In: a [`Repo`], its selected targets and compile [`Options`]. Out: each batch
//! of whole environments compiled ([`pipeline::compile_each`]), ordered, and
//! handed over ([`plan_each`]) before the next batch's objects exist; for a
//! bundle ([`produce`]), each batch's files go to a [`Sink`] and `index.json`
//! comes last. Memory holds one or two batches' objects plus what all batches
//! share (compiled versions, parameter files), not the whole repository's objects.
//!
//! The bytes are those of [`super::build`] over the whole repository:
//! environments are ordered and laid out alone, and come in sorted order. The
//! errors too: render errors first, then the component graph's, then ordering's
//! (of every environment), then the layout's; warnings found before a later
//! stage failed come first in its error, as a caller would have printed them.

use std::collections::BTreeMap;

use super::{Assembler, Sink};
use crate::compiled::Batch;
use crate::diag::{Diagnostic, Error};
use crate::order::{self, ComponentGraph, Plan};
use crate::pipeline::{self, Options, Reuse, Streamed};
use crate::repo::{Repo, Target};

/// Compiles and orders `targets` batch by batch; `each` gets every batch's
/// [`Batch`] and its plans (environments sorted) until something fails.
/// Ordering goes on after a failure, so that every environment's ordering
/// errors are reported together. Returns the warnings (unread parameters) and
/// the source's description.
pub fn plan_each<F>(repo: &Repo, targets: &[&Target], opts: &Options, each: F) -> Result<Streamed, Error>
where
    F: for<'c> FnMut(&'c Batch, Vec<Plan<'c>>) -> Result<(), Error> + Send,
{
    plan_each_reusing(repo, targets, opts, None, each)
}

/// [`plan_each`] with what the caller already has ([`Reuse`]).
fn plan_each_reusing<F>(
    repo: &Repo,
    targets: &[&Target],
    opts: &Options,
    reuse: Option<&Reuse>,
    mut each: F,
) -> Result<Streamed, Error>
where
    F: for<'c> FnMut(&'c Batch, Vec<Plan<'c>>) -> Result<(), Error> + Send,
{
    let graph = ComponentGraph::from_repo(repo);
    let mut ordering: Vec<Diagnostic> = Vec::new();
    let mut failed: Option<Error> = None;
    let streamed = pipeline::compile_each_reusing(repo, targets, opts, reuse, |batch| {
        let Ok(graph) = &graph else { return };
        match order::plan(graph, &batch) {
            Err(e) => ordering.extend(e.diagnostics),
            Ok(plans) if ordering.is_empty() && failed.is_none() => failed = each(&batch, plans).err(),
            Ok(_) => {}
        }
    })?;
    let warnings = &streamed.warnings;
    if let Err(e) = graph {
        return Err(with_warnings(warnings, e));
    }
    if !ordering.is_empty() {
        return Err(with_warnings(warnings, Error::many(ordering)));
    }
    match failed {
        Some(e) => Err(with_warnings(warnings, e)),
        None => Ok(streamed),
    }
}

/// `warnings` ahead of the diagnostics of `e`.
pub fn with_warnings(warnings: &[Diagnostic], mut e: Error) -> Error {
    let mut all = warnings.to_vec();
    all.append(&mut e.diagnostics);
    e.diagnostics = all;
    e
}

/// Knobs of [`produce`].
#[derive(Debug, Clone, Copy, Default)]
pub struct BundleOptions {
    /// One directory per target instead of per environment ([`super::per_target`]).
    pub per_target: bool,
    /// Keep [`super::explain`]'s text.
    pub explain: bool,
}

/// What [`produce`] made.
#[derive(Debug, Clone, Default)]
pub struct Produced {
    pub warnings: Vec<Diagnostic>,
    /// Environments, or targets with [`BundleOptions::per_target`].
    pub directories: usize,
    pub objects: usize,
    /// `index.json` included.
    pub files: usize,
    /// [`super::explain`] of every plan, when asked for.
    pub explain: String,
}

impl Produced {
    /// What was written to `dir`, for stderr:
    /// `wrote `dist`: 3 environments, 40 objects, 10 files`.
    pub fn summary(&self, dir: &std::path::Path, bundle: BundleOptions) -> String {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        format!(
            "wrote `{}`: {} {}{}, {} object{}, {} file{}\n",
            dir.display(),
            self.directories,
            if bundle.per_target { "target" } else { "environment" },
            plural(self.directories),
            self.objects,
            plural(self.objects),
            self.files,
            plural(self.files),
        )
    }
}

/// Compiles `targets` and writes their bundle to `sink`, batch by batch.
pub fn produce(
    repo: &Repo,
    targets: &[&Target],
    opts: &Options,
    bundle: BundleOptions,
    sink: &mut (dyn Sink + Send),
) -> Result<Produced, Error> {
    let mut assembler = Assembler::default();
    let mut explained: BTreeMap<String, String> = BTreeMap::new();
    let (mut directories, mut objects) = (0, 0);
    // With the cache, environments it holds whole are written as stored (not with
    // `--per-target` or `--explain`, which need every environment's plans).
    let cached = if bundle.per_target || bundle.explain {
        None
    } else {
        super::reuse::open(repo, targets, opts, |part, n| {
            (directories, objects) = (directories + 1, objects + n);
            assembler.add(part, sink)
        })?
    };
    let reuse = cached.as_ref().map(|c| &c.reuse);
    let streamed = plan_each_reusing(repo, targets, opts, reuse, |compiled, mut plans| {
        if let Some(cached) = &cached {
            plans.retain(|p| !cached.is_hit(&p.environment));
        }
        let plans = if bundle.per_target { super::per_target(&plans) } else { plans };
        if bundle.explain {
            for p in &plans {
                explained.insert(p.environment.clone(), super::explain(std::slice::from_ref(p)));
            }
        }
        directories += plans.len();
        objects += plans.iter().map(|p| p.objects.len()).sum::<usize>();
        let part = super::part(compiled, &plans);
        let Some(cached) = &cached else { return assembler.add(part, sink) };
        let counts: BTreeMap<&str, usize> = plans.iter().map(|p| (p.environment.as_str(), p.objects.len())).collect();
        for p in part.split() {
            if let Some(n) = p.environments.first().and_then(|(env, _)| counts.get(env.as_str())) {
                cached.store(&p, *n);
            }
            assembler.add(p, sink)?;
        }
        Ok(())
    })?;
    let files = assembler.files() + 1;
    assembler.finish(&streamed.info, sink).map_err(|e| with_warnings(&streamed.warnings, e))?;
    Ok(Produced {
        warnings: streamed.warnings,
        directories,
        objects,
        files,
        explain: explained.into_values().collect(),
    })
}
