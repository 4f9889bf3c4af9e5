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
pub mod kinds;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

use rayon::prelude::*;
use serde_json::Value;

use crate::compiled::Compiled;
use crate::diag::{Diagnostic, Error};
use crate::manifest::{ResId, Resource};
use crate::repo::{COMPONENT_CONFIG, Target};
use crate::source;

pub use annotations::{Wave, WaveSource};
pub use components::ComponentGraph;
pub use kinds::KindRank;

/// What a phase holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseKind {
    Crds,
    Namespaces,
    Resources,
}

impl PhaseKind {
    pub fn name(self) -> &'static str {
        match self {
            PhaseKind::Crds => "crds",
            PhaseKind::Namespaces => "namespaces",
            PhaseKind::Resources => "resources",
        }
    }
}

/// A group of objects applied together; a deploy script may wait between phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Phase {
    pub wave: i64,
    pub kind: PhaseKind,
}

impl Phase {
    /// `wave-0-crds`, `wave-minus-1-resources`: the descriptive part of a bundle file name.
    pub fn slug(&self) -> String {
        let wave = if self.wave < 0 { format!("minus-{}", self.wave.unsigned_abs()) } else { self.wave.to_string() };
        format!("wave-{wave}-{}", self.kind.name())
    }

    /// `wave 0: CustomResourceDefinitions`.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            PhaseKind::Crds => "CustomResourceDefinitions",
            PhaseKind::Namespaces => "Namespaces",
            PhaseKind::Resources => "resources",
        };
        format!("wave {}: {what}", self.wave)
    }
}

/// Why an object sits where it does, relative to the object before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The first object of its phase: its wave and phase place it.
    PhaseStart,
    /// It names the object before it in its phase (or the last one it waited for)
    /// in `config.kubernetes.io/depends-on`.
    DependsOn(ResId),
    /// Its component depends on these components of the environment.
    Component { component: String, on: Vec<String> },
    /// Kind order: `before` kinds apply before `kind`.
    Kind { before: String, kind: String, rank: KindRank, before_rank: KindRank },
    /// Same kind: by group, then namespace, then name; says which one differed.
    Name { by: &'static str },
}

/// One object in its place.
#[derive(Debug, Clone)]
pub struct Placed<'a> {
    pub target: &'a Target,
    pub resource: &'a Resource,
    pub phase: Phase,
    pub wave: Wave,
    pub reason: Reason,
}

impl Placed<'_> {
    /// The rule that put the object here, as a phrase.
    pub fn explain(&self) -> String {
        match &self.reason {
            Reason::PhaseStart => match self.phase.kind {
                PhaseKind::Crds => {
                    format!("CustomResourceDefinitions apply first in {}, so their kinds exist", self.wave.describe())
                }
                PhaseKind::Namespaces => {
                    format!("Namespaces apply before the objects in them, in {}", self.wave.describe())
                }
                PhaseKind::Resources => format!("first in {}", self.wave.describe()),
            },
            Reason::DependsOn(id) => format!("depends on `{id}` (`{}`)", annotations::DEPENDS_ON),
            Reason::Component { component, on } => {
                let on: Vec<String> = on.iter().map(|c| format!("`{c}`")).collect();
                format!("component `{component}` depends on {}", on.join(", "))
            }
            Reason::Kind { before, kind, rank, before_rank } => {
                let tier = match (before_rank, rank) {
                    (KindRank::Table(_), KindRank::Table(_)) => String::new(),
                    (a, b) if std::mem::discriminant(a) == std::mem::discriminant(b) => " (by name)".to_string(),
                    (_, b) => format!(" ({})", b.describe()),
                };
                format!("kind order: {before} before {kind}{tier}")
            }
            Reason::Name { by } => format!("same kind, by {by}"),
        }
    }
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
pub fn plan<'a>(graph: &ComponentGraph, compiled: &'a Compiled) -> Result<Vec<Plan<'a>>, Error> {
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

/// The sort key: rules 1, 2, 3 (as depth), 5 and 6.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key<'a> {
    phase: Phase,
    depth: usize,
    rank: KindRank,
    kind: &'a str,
    group: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
}

/// A hard constraint: the node waits for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// An object waits for an object it names in `depends-on`.
    Annotation,
    /// A component's barrier waits for each of its objects.
    Member,
    /// An object waits for the barrier of a component its component depends on.
    Component,
}

/// Orders one environment's objects (`(target, resource)` pairs, in any order).
pub fn plan_environment<'a>(
    environment: &str,
    items: &[(&'a Target, &'a Resource)],
    graph: &ComponentGraph,
) -> Result<Plan<'a>, Error> {
    let mut diags = Vec::new();
    let resources: Vec<&Resource> = items.iter().map(|(_, r)| *r).collect();
    let crd_groups = kinds::crd_groups(&resources);

    // Waves and annotations.
    let mut waves = Vec::with_capacity(items.len());
    let mut refs = Vec::with_capacity(items.len());
    for (_, r) in items {
        waves.push(annotations::wave(r).unwrap_or_else(|d| {
            diags.push(d);
            Wave { value: 0, source: WaveSource::Default }
        }));
        refs.push(annotations::depends_on(r).unwrap_or_else(|d| {
            diags.push(d);
            Vec::new()
        }));
    }

    let present: BTreeSet<&str> = items.iter().map(|(t, _)| t.component.as_str()).collect();
    let depths = graph.depths(&present);
    let keys: Vec<Key<'a>> = items
        .iter()
        .zip(&waves)
        .map(|((t, r), w)| {
            let kind = if kinds::is_crd(r) {
                PhaseKind::Crds
            } else if kinds::is_namespace(r) {
                PhaseKind::Namespaces
            } else {
                PhaseKind::Resources
            };
            Key {
                phase: Phase { wave: w.value, kind },
                depth: depths.get(t.component.as_str()).copied().unwrap_or(0),
                rank: kinds::rank(&r.id.group, &r.id.kind, &crd_groups),
                kind: &r.id.kind,
                group: &r.id.group,
                namespace: r.id.namespace.as_deref(),
                name: &r.id.name,
            }
        })
        .collect();
    let by_id: HashMap<&ResId, usize> = items.iter().enumerate().map(|(i, (_, r))| (&r.id, i)).collect();

    check_implicit_dependencies(environment, items, &waves, &by_id, &mut diags);

    // Object edges: within a phase they constrain the order; across phases they
    // must agree with it.
    let mut annotation_preds: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    for (a, ids) in refs.iter().enumerate() {
        let (_, ra) = items[a];
        for id in ids {
            let Some(&b) = by_id.get(id) else {
                diags.push(missing_dependency(environment, ra, id, items));
                continue;
            };
            if a == b {
                diags.push(
                    Diagnostic::error(format!("`{}` depends on itself in `{}`", ra.id, annotations::DEPENDS_ON))
                        .at(ra.source.template.to_string())
                        .hint("remove the object's own reference from the annotation"),
                );
            } else if keys[b].phase > keys[a].phase {
                diags.push(later_phase_dependency(ra, items[b].1, keys[a].phase, keys[b].phase, waves[a], waves[b]));
            } else if keys[b].phase == keys[a].phase && !annotation_preds[a].contains(&b) {
                annotation_preds[a].push(b);
            }
        }
    }
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
        match sort_phase(members, items, &keys, &annotation_preds, graph, &depths) {
            Ok(order) => {
                for (i, reason) in order {
                    let (target, resource) = items[i];
                    objects.push(Placed { target, resource, phase: keys[i].phase, wave: waves[i], reason });
                }
            }
            Err(cycle) => diags.push(cycle_error(environment, &cycle, items)),
        }
    }
    if !diags.is_empty() {
        return Err(sorted(diags));
    }
    Ok(Plan { environment: environment.to_string(), objects })
}

/// Problems in a fixed order, whatever the input order.
fn sorted(mut diags: Vec<Diagnostic>) -> Error {
    diags.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    Error::many(diags)
}

/// A cycle of constraints: each node, and how it waits for the next.
type Cycle = Vec<(Node, Wait)>;

/// Sorts one phase's objects (indexes into `items`), each with its [`Reason`]; on
/// a cycle, returns it.
fn sort_phase(
    members: &[usize],
    items: &[(&Target, &Resource)],
    keys: &[Key<'_>],
    annotation_preds: &[Vec<usize>],
    graph: &ComponentGraph,
    depths: &BTreeMap<String, usize>,
) -> Result<Vec<(usize, Reason)>, Cycle> {
    // Nodes: the phase's objects, then one barrier per component that another
    // component of this phase depends on.
    let n = members.len();
    let local: HashMap<usize, usize> = members.iter().enumerate().map(|(l, &g)| (g, l)).collect();
    let component_of = |l: usize| items[members[l]].0.component.as_str();
    let comps: BTreeSet<&str> = (0..n).map(component_of).collect();
    let barriers: Vec<&str> = comps.iter().copied().filter(|c| comps.iter().any(|o| graph.depends_on(o, c))).collect();
    let barrier_of: HashMap<&str, usize> = barriers.iter().enumerate().map(|(i, c)| (*c, n + i)).collect();
    let total = n + barriers.len();

    let mut preds: Vec<Vec<(usize, Wait)>> = vec![Vec::new(); total];
    for l in 0..n {
        for &g in &annotation_preds[members[l]] {
            preds[l].push((local[&g], Wait::Annotation));
        }
        for dep in graph.all_dependencies(component_of(l)) {
            if let Some(&b) = barrier_of.get(dep) {
                preds[l].push((b, Wait::Component));
            }
        }
        if let Some(&b) = barrier_of.get(component_of(l)) {
            preds[b].push((l, Wait::Member));
        }
    }
    // Constraints in a fixed order (objects by key, then barriers by name), so that
    // reasons and cycles do not depend on the input order.
    let key = |l: usize| &keys[members[l]];
    for ps in &mut preds {
        ps.sort_by(|(x, _), (y, _)| match (*x < n, *y < n) {
            (true, true) => key(*x).cmp(key(*y)),
            (false, false) => barriers[*x - n].cmp(barriers[*y - n]),
            (a, b) => b.cmp(&a),
        });
        ps.dedup_by_key(|(x, _)| *x);
    }
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut waiting: Vec<usize> = vec![0; total];
    for (node, ps) in preds.iter().enumerate() {
        waiting[node] = ps.len();
        for (p, _) in ps {
            succs[*p].push(node);
        }
    }

    let mut heap: BinaryHeap<Reverse<(&Key<'_>, usize)>> = BinaryHeap::new();
    let mut ready_barriers: Vec<usize> = Vec::new();
    for (node, _) in waiting.iter().enumerate().filter(|(_, w)| **w == 0) {
        if node < n { heap.push(Reverse((key(node), node))) } else { ready_barriers.push(node) }
    }
    // When each node was released: the number of objects emitted by then.
    let mut done_at: Vec<Option<usize>> = vec![None; total];
    let mut out: Vec<(usize, Reason)> = Vec::with_capacity(n);
    let mut prev: Option<usize> = None;
    loop {
        let node = if let Some(b) = ready_barriers.pop() {
            b
        } else if let Some(Reverse((_, l))) = heap.pop() {
            // The constraint released last: what this object waited for, if anything.
            let last = preds[l].iter().filter_map(|&(x, w)| done_at[x].map(|t| (t, x, w))).max_by_key(|(t, ..)| *t);
            let component = component_of(l);
            let waited = last.map(|(_, x, w)| match w {
                Wait::Annotation => Reason::DependsOn(items[members[x]].1.id.clone()),
                _ => Reason::Component { component: component.to_string(), on: vec![barriers[x - n].to_string()] },
            });
            let by_depth = || Reason::Component {
                component: component.to_string(),
                on: graph.all_dependencies(component).filter(|d| depths.contains_key(*d)).map(str::to_string).collect(),
            };
            let reason = match prev {
                None => Reason::PhaseStart,
                Some(p) => {
                    let waited_for_prev = last.is_some_and(|(_, x, w)| w == Wait::Annotation && x == p);
                    reason_for(key(p), key(l), waited_for_prev, waited, by_depth)
                }
            };
            out.push((members[l], reason));
            prev = Some(l);
            l
        } else {
            break;
        };
        done_at[node] = Some(out.len());
        for &s in &succs[node] {
            waiting[s] -= 1;
            if waiting[s] == 0 {
                if s < n { heap.push(Reverse((key(s), s))) } else { ready_barriers.push(s) }
            }
        }
    }
    if out.len() == n {
        return Ok(out);
    }

    // A cycle: walk back along unmet constraints from the smallest stuck object.
    let stuck = |x: usize| done_at[x].is_none();
    let start = (0..n).filter(|&l| stuck(l)).min_by_key(|&l| key(l)).expect("a stuck object");
    let mut path: Vec<(usize, Wait)> = Vec::new();
    let mut at = start;
    loop {
        if let Some(pos) = path.iter().position(|(x, _)| *x == at) {
            path.drain(..pos);
            break;
        }
        let &(next, wait) = preds[at].iter().find(|(p, _)| stuck(*p)).expect("a stuck node waits for a stuck node");
        path.push((at, wait));
        at = next;
    }
    Err(path
        .into_iter()
        .map(|(x, w)| (if x < n { Node::Object(members[x]) } else { Node::Barrier(barriers[x - n].to_string()) }, w))
        .collect())
}

#[derive(Debug, Clone)]
enum Node {
    Object(usize),
    Barrier(String),
}

/// Why the object with key `b` follows the one with key `a`. `waited` is the
/// constraint released last before it (if any), `waited_for_prev` whether that was
/// a `depends-on` reference to the previous object itself.
fn reason_for(
    a: &Key<'_>,
    b: &Key<'_>,
    waited_for_prev: bool,
    waited: Option<Reason>,
    by_depth: impl FnOnce() -> Reason,
) -> Reason {
    if waited_for_prev || a > b {
        // Out of key order only when held back: by construction the ready object
        // with the smallest key goes next.
        if let Some(r) = waited {
            return r;
        }
    }
    if a.depth != b.depth {
        // A deeper component always has a dependency in the environment.
        return by_depth();
    }
    if (a.rank, a.kind) != (b.rank, b.kind) {
        return Reason::Kind {
            before: a.kind.to_string(),
            kind: b.kind.to_string(),
            rank: b.rank,
            before_rank: a.rank,
        };
    }
    let by = if a.group != b.group {
        "group"
    } else if a.namespace != b.namespace {
        "namespace"
    } else {
        "name"
    };
    Reason::Name { by }
}

/// Across waves, a custom resource must not apply before its CRD, nor a namespaced
/// object before its Namespace (inside a wave, phases see to it).
fn check_implicit_dependencies(
    environment: &str,
    items: &[(&Target, &Resource)],
    waves: &[Wave],
    by_id: &HashMap<&ResId, usize>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut crd_of: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, (_, r)) in items.iter().enumerate() {
        if kinds::is_crd(r) {
            let spec = r.body.get("spec");
            let g = spec.and_then(|s| s.get("group")).and_then(Value::as_str);
            let k = spec.and_then(|s| s.pointer("/names/kind")).and_then(Value::as_str);
            if let (Some(g), Some(k)) = (g, k) {
                crd_of.entry((g, k)).or_default().push(i);
            }
        }
    }
    for (i, (_, r)) in items.iter().enumerate() {
        let crds = crd_of.get(&(r.id.group.as_str(), r.id.kind.as_str())).into_iter().flatten();
        let ns = r.id.namespace.as_ref().and_then(|ns| {
            by_id.get(&ResId { group: String::new(), kind: "Namespace".into(), namespace: None, name: ns.clone() })
        });
        for (&j, what) in crds.map(|j| (j, "its CustomResourceDefinition")).chain(ns.map(|j| (j, "its Namespace"))) {
            if waves[j].value > waves[i].value {
                let other = items[j].1;
                diags.push(
                    Diagnostic::error(format!(
                        "`{}` ({}) would apply before {what} `{}` ({}) in environment `{environment}`",
                        r.id,
                        waves[i].describe(),
                        other.id,
                        waves[j].describe()
                    ))
                    .at(r.source.template.to_string())
                    .note(format!("`{}` comes from {}", other.id, other.source.template))
                    .hint(format!(
                        "give `{}` wave {} or later, or move `{}` to an earlier wave",
                        r.id, waves[j].value, other.id
                    )),
                );
            }
        }
    }
}

fn missing_dependency(environment: &str, r: &Resource, id: &ResId, items: &[(&Target, &Resource)]) -> Diagnostic {
    let mut d = Diagnostic::error(format!(
        "`{}` depends on `{}`, which is not in environment `{environment}`",
        r.id,
        annotations::reference(id)
    ))
    .at(r.source.template.to_string())
    .note(format!("named in annotation `{}`", annotations::DEPENDS_ON));
    // The same object elsewhere: usually a missing or extra namespace.
    let near: Vec<String> = items
        .iter()
        .filter(|(_, o)| o.id.group == id.group && o.id.kind == id.kind && o.id.name == id.name)
        .map(|(_, o)| format!("`{}`", annotations::reference(&o.id)))
        .collect();
    if !near.is_empty() {
        d = d.hint(format!("did you mean {}?", near.join(" or ")));
    } else {
        d = d.hint(
            "an object may only depend on objects of the same environment; check the group, kind, namespace and name",
        );
    }
    d
}

fn later_phase_dependency(a: &Resource, b: &Resource, pa: Phase, pb: Phase, wa: Wave, wb: Wave) -> Diagnostic {
    let (why, hint) = if pb.wave > pa.wave {
        (
            format!("it is in {}, after {}", wb.describe(), wa.describe()),
            format!("move `{}` to wave {} or later, or `{}` to an earlier wave", a.id, pb.wave, b.id),
        )
    } else {
        (
            format!("{} apply after {}", pb.describe(), pa.describe()),
            "a CustomResourceDefinition or Namespace cannot wait for the objects of a later phase; remove the reference".to_string(),
        )
    };
    Diagnostic::error(format!("`{}` depends on `{}`, which applies later: {why}", a.id, b.id))
        .at(a.source.template.to_string())
        .note(format!("named in annotation `{}`", annotations::DEPENDS_ON))
        .hint(hint)
}

fn cycle_error(environment: &str, cycle: &[(Node, Wait)], items: &[(&Target, &Resource)]) -> Diagnostic {
    let objects: Vec<usize> =
        cycle.iter().filter_map(|(n, _)| if let Node::Object(i) = n { Some(*i) } else { None }).collect();
    let names: Vec<String> = objects.iter().map(|&i| format!("`{}`", items[i].1.id)).collect();
    let first = items[objects[0]].1;
    let mut d = Diagnostic::error(format!("dependency cycle in environment `{environment}`: {}", names.join(", ")))
        .at(first.source.template.to_string());
    for (k, (node, wait)) in cycle.iter().enumerate() {
        let Node::Object(i) = node else { continue };
        let (t, r) = items[*i];
        let next = &cycle[(k + 1) % cycle.len()].0;
        match wait {
            Wait::Annotation => {
                let Node::Object(j) = next else { continue };
                d = d.note(format!(
                    "`{}` depends on `{}` (`{}` in {})",
                    r.id,
                    items[*j].1.id,
                    annotations::DEPENDS_ON,
                    r.source.template
                ));
            }
            Wait::Component => {
                let Node::Barrier(c) = next else { continue };
                // The barrier waits for the object after it in the cycle.
                let member = match &cycle[(k + 2) % cycle.len()].0 {
                    Node::Object(j) => format!(", including `{}`", items[*j].1.id),
                    Node::Barrier(_) => String::new(),
                };
                d = d.note(format!(
                    "`{}` of component `{}` applies after every object of component `{c}`{member} (`dependsOn` in {})",
                    r.id,
                    t.component,
                    source::join(&t.component, COMPONENT_CONFIG)
                ));
            }
            Wait::Member => {}
        }
    }
    d.hint(format!(
        "remove one of these dependencies; a `{}` reference is usually the one to drop",
        annotations::DEPENDS_ON
    ))
}

#[cfg(test)]
mod tests;
