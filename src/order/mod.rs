//! Ordering: the apply order of each environment's objects, and why.
//!
//! In: the compiled targets of one environment and the [`ComponentGraph`]. Out: a
//! [`Plan`], every object [`Placed`] in apply order with its [`Phase`] and the
//! [`Reason`] for its place. Deletion order is the reverse ([`Plan::deletion_order`]).
//!
//! The rules, strongest first:
//! 1. **Waves**: `strata.dev/wave` (or Argo CD's `argocd.argoproj.io/sync-wave`), lower
//!    first, default 0.
//! 2. **Phase inside a wave**: CustomResourceDefinitions, then Namespaces, then everything
//!    else. Each is a phase of its own so that a deploy script can wait between them (a
//!    CRD must be Established before its kind can be applied; `kubectl apply` of one file
//!    resolves every kind up front). A CRD or Namespace never runs anything, so applying
//!    it before the components that depend on its component's workloads is harmless.
//! 3. **Component dependencies** (`component.yaml` `dependsOn`, transitively): every object
//!    of a component applies after every object, in the same phase, of the components it
//!    depends on; components without dependencies in the environment first (depth 0).
//! 4. **Object dependencies** (`config.kubernetes.io/depends-on`): the named object applies
//!    first. Naming an object of a later phase, or one outside the environment, is an error.
//! 5. **Kind order** ([`kinds`]): Helm's install order, other built-in kinds, custom resources.
//! 6. **Ties**: kind, group, namespace, name.
//!
//! Rules 3 and 4 are hard constraints; 5 and 6 decide wherever they leave a choice (the
//! smallest available object by (depth, kind, group, namespace, name) goes next), so the
//! order does not depend on the order objects came in. A cycle of hard constraints is an
//! error naming its members. Across waves, a custom resource must not apply before its
//! CRD, nor a namespaced object before its Namespace.

pub mod annotations;
pub mod components;
mod edges;
pub mod kinds;
mod phase;
mod reason;
mod sort;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rayon::prelude::*;

use crate::compiled::Batch;
use crate::diag::{Diagnostic, Error};
use crate::manifest::{ResId, Resource};
use crate::repo::Target;

pub use annotations::{Wave, WaveSource};
pub use components::ComponentGraph;
pub use phase::{Phase, PhaseKind};
pub use reason::Reason;
use sort::Key;

/// One object in its place.
#[derive(Debug, Clone)]
pub struct Placed<'a> {
    pub target: &'a Target,
    pub resource: &'a Resource,
    pub phase: Phase,
    pub wave: Wave,
    pub reason: Reason,
}

/// One environment's objects in apply order.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    pub environment: String,
    pub objects: Vec<Placed<'a>>,
}

impl<'a> Plan<'a> {
    /// The phases in apply order, each with its objects (never empty).
    pub fn phases(&self) -> Vec<(Phase, &[Placed<'a>])> {
        let mut out: Vec<(Phase, &[Placed<'a>])> = Vec::new();
        let mut start = 0;
        for i in 1..=self.objects.len() {
            if i == self.objects.len() || self.objects[i].phase != self.objects[start].phase {
                out.push((self.objects[start].phase, &self.objects[start..i]));
                start = i;
            }
        }
        out
    }

    /// The order in which to delete the objects: the reverse of apply order.
    pub fn deletion_order(&self) -> impl Iterator<Item = &Placed<'a>> {
        self.objects.iter().rev()
    }
}

/// Orders every environment of `compiled` (sorted by environment); reports the
/// problems of all environments together.
pub fn plan<'a>(graph: &ComponentGraph, compiled: &'a Batch) -> Result<Vec<Plan<'a>>, Error> {
    // Environments are independent: ordered in parallel, reported in order.
    let environments: Vec<_> = compiled.environments().into_iter().collect();
    let results: Vec<Result<Plan<'a>, Error>> = environments
        .par_iter()
        .map(|(env, targets)| {
            let items: Vec<(&'a Target, &'a Resource)> =
                targets.iter().flat_map(|t| t.resources.iter().map(move |r| (&t.target, r))).collect();
            plan_environment(env, &items, graph)
        })
        .collect();
    let mut plans = Vec::new();
    let mut diags = Vec::new();
    for r in results {
        match r {
            Ok(p) => plans.push(p),
            Err(e) => diags.extend(e.diagnostics),
        }
    }
    if diags.is_empty() { Ok(plans) } else { Err(Error::many(diags)) }
}

/// Orders one environment's objects (`(target, resource)` pairs, in any order).
pub fn plan_environment<'a>(
    environment: &str,
    items: &[(&'a Target, &'a Resource)],
    graph: &ComponentGraph,
) -> Result<Plan<'a>, Error> {
    let mut diags = Vec::new();
    let (waves, references) = read_annotations(items, &mut diags);
    let present: BTreeSet<&str> = items.iter().map(|(t, _)| t.component.as_str()).collect();
    let depths = graph.depths(&present);
    let keys = sort_keys(items, &waves, &depths);
    let by_id: HashMap<&ResId, usize> = items.iter().enumerate().map(|(i, (_, r))| (&r.id, i)).collect();

    edges::check_implicit_dependencies(environment, items, &waves, &by_id, &mut diags);
    // Object edges: within a phase they constrain the order; across phases they
    // must agree with it.
    let annotation_preds =
        edges::annotation_predecessors(environment, items, &references, &keys, &waves, &by_id, &mut diags);
    if !diags.is_empty() {
        return Err(sorted(diags));
    }

    // Each phase on its own: a topological sort whose ready set is a min-heap on the key.
    let mut phases: BTreeMap<Phase, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        phases.entry(k.phase).or_default().push(i);
    }
    let mut objects = Vec::with_capacity(items.len());
    for members in phases.values() {
        match sort::sort_phase(members, items, &keys, &annotation_preds, graph, &depths) {
            Ok(order) => {
                for (i, reason) in order {
                    let (target, resource) = items[i];
                    objects.push(Placed { target, resource, phase: keys[i].phase, wave: waves[i], reason });
                }
            }
            Err(cycle) => diags.push(sort::cycle_error(environment, &cycle, items)),
        }
    }
    if !diags.is_empty() {
        return Err(sorted(diags));
    }
    Ok(Plan { environment: environment.to_string(), objects })
}

/// Each object's wave and `depends-on` references; a malformed annotation is a
/// problem in `diags` and reads as wave 0 or no references.
fn read_annotations(items: &[(&Target, &Resource)], diags: &mut Vec<Diagnostic>) -> (Vec<Wave>, Vec<Vec<ResId>>) {
    let mut waves = Vec::with_capacity(items.len());
    let mut references = Vec::with_capacity(items.len());
    for (_, r) in items {
        waves.push(annotations::wave(r).unwrap_or_else(|d| {
            diags.push(d);
            Wave { value: 0, source: WaveSource::Default }
        }));
        references.push(annotations::depends_on(r).unwrap_or_else(|d| {
            diags.push(d);
            Vec::new()
        }));
    }
    (waves, references)
}

/// Each object's sort key, from its wave, phase, component depth, kind and name.
fn sort_keys<'a>(
    items: &[(&'a Target, &'a Resource)],
    waves: &[Wave],
    depths: &BTreeMap<String, usize>,
) -> Vec<Key<'a>> {
    let resources: Vec<&Resource> = items.iter().map(|(_, r)| *r).collect();
    let crd_groups = kinds::crd_groups(&resources);
    items
        .iter()
        .zip(waves)
        .map(|((t, r), w)| Key {
            phase: Phase { wave: w.value, kind: PhaseKind::of(r) },
            depth: depths.get(t.component.as_str()).copied().unwrap_or(0),
            rank: kinds::rank(&r.id.group, &r.id.kind, &crd_groups),
            kind: &r.id.kind,
            group: &r.id.group,
            namespace: r.id.namespace.as_deref(),
            name: &r.id.name,
        })
        .collect()
}

/// Problems in a fixed order, whatever the input order.
fn sorted(mut diags: Vec<Diagnostic>) -> Error {
    diags.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    Error::many(diags)
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
