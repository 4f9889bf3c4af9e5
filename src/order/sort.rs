//! Sorting one phase: a topological sort over the hard constraints (rules 3 and 4)
//! whose ready set is a min-heap on the [`Key`] (rules 5 and 6), recording each
//! object's [`Reason`]; a cycle of constraints is returned with its members in order.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

use super::annotations;
use super::components::ComponentGraph;
use super::kinds::KindRank;
use super::phase::Phase;
use super::reason::{Reason, reason_for};
use crate::diag::Diagnostic;
use crate::manifest::Resource;
use crate::repo::{COMPONENT_CONFIG, Target};
use crate::source;

/// The sort key: rules 1, 2, 3 (as depth), 5 and 6.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Key<'a> {
    pub phase: Phase,
    pub depth: usize,
    pub rank: KindRank,
    pub kind: &'a str,
    pub group: &'a str,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
}

/// A hard constraint: the node waits for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    /// An object waits for an object it names in `depends-on`.
    Annotation,
    /// A component's barrier waits for each of its objects.
    Member,
    /// An object waits for the barrier of a component its component depends on.
    Component,
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Object(usize),
    Barrier(String),
}

/// A cycle of constraints: each node, and how it waits for the next.
pub(super) type Cycle = Vec<(Node, Wait)>;

/// Sorts one phase's objects (indexes into `items`), each with its [`Reason`]; on
/// a cycle, returns it.
pub(super) fn sort_phase(
    members: &[usize],
    items: &[(&Target, &Resource)],
    keys: &[Key<'_>],
    annotation_preds: &[Vec<usize>],
    graph: &ComponentGraph,
    depths: &BTreeMap<String, usize>,
) -> Result<Vec<(usize, Reason)>, Cycle> {
    let phase = PhaseGraph::new(members, items, keys, annotation_preds, graph);
    let released = phase.release_in_order(graph, depths);
    if released.order.len() == phase.objects() {
        return Ok(released.order);
    }
    Err(phase.cycle(&released.done_at))
}

/// One phase as a graph. Nodes: the phase's objects (local indexes `0..objects()`,
/// into `members`), then one barrier per component that another component of this
/// phase depends on.
struct PhaseGraph<'p> {
    members: &'p [usize],
    items: &'p [(&'p Target, &'p Resource)],
    keys: &'p [Key<'p>],
    /// The components with a barrier, by name; barrier `i` is node `objects() + i`.
    barriers: Vec<&'p str>,
    /// What each node waits for, in a fixed order.
    preds: Vec<Vec<(usize, Wait)>>,
}

/// The outcome of releasing a phase's nodes in order.
struct Released {
    /// The objects released, as indexes into `items`, with their reasons.
    order: Vec<(usize, Reason)>,
    /// When each node was released: the number of objects emitted by then.
    done_at: Vec<Option<usize>>,
}

impl<'p> PhaseGraph<'p> {
    fn new(
        members: &'p [usize],
        items: &'p [(&'p Target, &'p Resource)],
        keys: &'p [Key<'p>],
        annotation_preds: &[Vec<usize>],
        graph: &ComponentGraph,
    ) -> PhaseGraph<'p> {
        let n = members.len();
        let local: HashMap<usize, usize> = members.iter().enumerate().map(|(l, &g)| (g, l)).collect();
        let component_of = |l: usize| items[members[l]].0.component.as_str();
        let comps: BTreeSet<&str> = (0..n).map(component_of).collect();
        let barriers: Vec<&str> =
            comps.iter().copied().filter(|c| comps.iter().any(|o| graph.depends_on(o, c))).collect();
        let barrier_of: HashMap<&str, usize> = barriers.iter().enumerate().map(|(i, c)| (*c, n + i)).collect();

        let mut preds: Vec<Vec<(usize, Wait)>> = vec![Vec::new(); n + barriers.len()];
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
        let mut phase = PhaseGraph { members, items, keys, barriers, preds };
        phase.sort_constraints();
        phase
    }

    /// Constraints in a fixed order (objects by key, then barriers by name), so that
    /// reasons and cycles do not depend on the input order.
    fn sort_constraints(&mut self) {
        let n = self.objects();
        let mut preds = std::mem::take(&mut self.preds);
        for ps in &mut preds {
            ps.sort_by(|(x, _), (y, _)| match (*x < n, *y < n) {
                (true, true) => self.key(*x).cmp(self.key(*y)),
                (false, false) => self.barriers[*x - n].cmp(self.barriers[*y - n]),
                (a, b) => b.cmp(&a),
            });
            ps.dedup_by_key(|(x, _)| *x);
        }
        self.preds = preds;
    }

    fn objects(&self) -> usize {
        self.members.len()
    }

    fn key(&self, l: usize) -> &'p Key<'p> {
        &self.keys[self.members[l]]
    }

    fn component_of(&self, l: usize) -> &'p str {
        self.items[self.members[l]].0.component.as_str()
    }

    /// Releases every node whose constraints are met, a ready barrier first, else the
    /// ready object with the smallest key; stops when nothing is ready.
    fn release_in_order(&self, graph: &ComponentGraph, depths: &BTreeMap<String, usize>) -> Released {
        let n = self.objects();
        let total = self.preds.len();
        let mut succs: Vec<Vec<usize>> = vec![Vec::new(); total];
        let mut waiting: Vec<usize> = vec![0; total];
        for (node, ps) in self.preds.iter().enumerate() {
            waiting[node] = ps.len();
            for (p, _) in ps {
                succs[*p].push(node);
            }
        }

        let mut heap: BinaryHeap<Reverse<(&Key<'_>, usize)>> = BinaryHeap::new();
        let mut ready_barriers: Vec<usize> = Vec::new();
        for (node, _) in waiting.iter().enumerate().filter(|(_, w)| **w == 0) {
            if node < n { heap.push(Reverse((self.key(node), node))) } else { ready_barriers.push(node) }
        }
        let mut released = Released { order: Vec::with_capacity(n), done_at: vec![None; total] };
        let mut prev: Option<usize> = None;
        loop {
            let node = if let Some(b) = ready_barriers.pop() {
                b
            } else if let Some(Reverse((_, l))) = heap.pop() {
                let reason = self.reason(l, prev, &released.done_at, graph, depths);
                released.order.push((self.members[l], reason));
                prev = Some(l);
                l
            } else {
                break;
            };
            released.done_at[node] = Some(released.order.len());
            for &s in &succs[node] {
                waiting[s] -= 1;
                if waiting[s] == 0 {
                    if s < n { heap.push(Reverse((self.key(s), s))) } else { ready_barriers.push(s) }
                }
            }
        }
        released
    }

    /// Why object `l` follows `prev` (the object released before it, if any).
    fn reason(
        &self,
        l: usize,
        prev: Option<usize>,
        done_at: &[Option<usize>],
        graph: &ComponentGraph,
        depths: &BTreeMap<String, usize>,
    ) -> Reason {
        let n = self.objects();
        // The constraint released last: what this object waited for, if anything.
        let last = self.preds[l].iter().filter_map(|&(x, w)| done_at[x].map(|t| (t, x, w))).max_by_key(|(t, ..)| *t);
        let component = self.component_of(l);
        let waited = last.map(|(_, x, w)| match w {
            Wait::Annotation => Reason::DependsOn(self.items[self.members[x]].1.id.clone()),
            _ => Reason::Component { component: component.to_string(), on: vec![self.barriers[x - n].to_string()] },
        });
        let by_depth = || Reason::Component {
            component: component.to_string(),
            on: graph.all_dependencies(component).filter(|d| depths.contains_key(*d)).map(str::to_string).collect(),
        };
        match prev {
            None => Reason::PhaseStart,
            Some(p) => {
                let waited_for_prev = last.is_some_and(|(_, x, w)| w == Wait::Annotation && x == p);
                reason_for(self.key(p), self.key(l), waited_for_prev, waited, by_depth)
            }
        }
    }

    /// A cycle: walk back along unmet constraints from the smallest stuck object.
    fn cycle(&self, done_at: &[Option<usize>]) -> Cycle {
        let n = self.objects();
        let stuck = |x: usize| done_at[x].is_none();
        let start = (0..n).filter(|&l| stuck(l)).min_by_key(|&l| self.key(l)).expect("a stuck object");
        let mut path: Vec<(usize, Wait)> = Vec::new();
        let mut at = start;
        loop {
            if let Some(pos) = path.iter().position(|(x, _)| *x == at) {
                path.drain(..pos);
                break;
            }
            let &(next, wait) =
                self.preds[at].iter().find(|(p, _)| stuck(*p)).expect("a stuck node waits for a stuck node");
            path.push((at, wait));
            at = next;
        }
        path.into_iter()
            .map(|(x, w)| {
                let node =
                    if x < n { Node::Object(self.members[x]) } else { Node::Barrier(self.barriers[x - n].to_string()) };
                (node, w)
            })
            .collect()
    }
}

pub(super) fn cycle_error(environment: &str, cycle: &[(Node, Wait)], items: &[(&Target, &Resource)]) -> Diagnostic {
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
