//! The component dependency graph from `component.yaml` `dependsOn`.
//!
//! In: each component's direct dependencies. Out: a [`ComponentGraph`] that
//! answers "does `a` depend on `b`, directly or not" and gives each component its
//! depth inside one environment. Invariant: the graph has no cycle (a cycle is an
//! error naming its members in order); unknown names were rejected when the
//! repository was loaded.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Error};
use crate::repo::{COMPONENT_CONFIG, Repo};
use crate::source;
use crate::yaml;

#[derive(Debug, Clone, Default)]
pub struct ComponentGraph {
    /// Direct dependencies, as written.
    direct: BTreeMap<String, Vec<String>>,
    /// Every component each one depends on, directly or through others.
    closure: BTreeMap<String, BTreeSet<String>>,
}

impl ComponentGraph {
    /// The graph of a loaded repository; a cycle is an error pointing at the
    /// `dependsOn` entry that closes it.
    pub fn from_repo(repo: &Repo) -> Result<ComponentGraph, Error> {
        let deps = repo.depends_on().map(|(name, deps)| (name.to_string(), deps.to_vec()));
        ComponentGraph::new(deps).map_err(|cycle| {
            let path = source::join(&cycle[0], COMPONENT_CONFIG);
            let d = cycle_diagnostic(&cycle).at(path.clone());
            // Point at the `dependsOn` entry naming the next member.
            let text = repo.fs.read_optional(&path).ok().flatten();
            let depends_on = repo.depends_on().find(|(name, _)| *name == cycle[0]).map(|(_, deps)| deps);
            let pos = text
                .as_deref()
                .zip(depends_on)
                .and_then(|(t, deps)| dependency_position(t, deps, &cycle[1]).map(|(l, c)| (t, l, c)));
            match pos {
                Some((t, l, c)) => d.with_source_line(t, l, c, cycle[1].chars().count(), "part of the cycle").into(),
                None => d.into(),
            }
        })
    }

    /// A graph over `(component, direct dependencies)`. On a cycle, returns its
    /// members in dependency order, the first repeated at the end (`a, b, a`).
    pub fn new(deps: impl IntoIterator<Item = (String, Vec<String>)>) -> Result<ComponentGraph, Vec<String>> {
        let direct: BTreeMap<String, Vec<String>> = deps.into_iter().collect();
        if let Some(cycle) = find_cycle(&direct) {
            return Err(cycle);
        }
        let mut closure = BTreeMap::new();
        for name in direct.keys() {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<&str> = direct[name].iter().map(String::as_str).collect();
            while let Some(n) = stack.pop() {
                if seen.insert(n.to_string()) {
                    stack.extend(direct.get(n).into_iter().flatten().map(String::as_str));
                }
            }
            closure.insert(name.clone(), seen);
        }
        Ok(ComponentGraph { direct, closure })
    }

    /// Whether `a` depends on `b`, directly or through other components.
    pub fn depends_on(&self, a: &str, b: &str) -> bool {
        self.closure.get(a).is_some_and(|s| s.contains(b))
    }

    /// Everything `component` depends on, directly or not.
    pub fn all_dependencies(&self, component: &str) -> impl Iterator<Item = &str> {
        self.closure.get(component).into_iter().flatten().map(String::as_str)
    }

    /// The direct dependencies of `component`, as written in its `component.yaml`.
    pub fn direct_dependencies(&self, component: &str) -> &[String] {
        self.direct.get(component).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Depth of each of `present` (the components of one environment): 0 for a
    /// component none of whose dependencies is present, else one more than the
    /// deepest present dependency. Dependencies that are absent from the
    /// environment do not count, but their own dependencies do (`a → b → c` with
    /// `b` absent still puts `a` after `c`).
    pub fn depths(&self, present: &BTreeSet<&str>) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in present {
            self.depth_of(c, present, &mut out);
        }
        out
    }

    fn depth_of(&self, c: &str, present: &BTreeSet<&str>, memo: &mut BTreeMap<String, usize>) -> usize {
        if let Some(d) = memo.get(c) {
            return *d;
        }
        let mut depth = 0;
        for dep in self.all_dependencies(c) {
            if present.contains(dep) {
                depth = depth.max(self.depth_of(dep, present, memo) + 1);
            }
        }
        memo.insert(c.to_string(), depth);
        depth
    }
}

/// The first cycle found walking components in name order, if any.
fn find_cycle(direct: &BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(
        n: &'a str,
        direct: &'a BTreeMap<String, Vec<String>>,
        marks: &mut BTreeMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match marks.get(n) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|p| *p == n).unwrap_or(0);
                let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
                cycle.push(n.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(n, Mark::Open);
        path.push(n);
        for d in direct.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, direct, marks, path) {
                return Some(c);
            }
        }
        path.pop();
        marks.insert(n, Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for n in direct.keys() {
        if let Some(c) = visit(n, direct, &mut marks, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

fn cycle_diagnostic(cycle: &[String]) -> Diagnostic {
    let chain: Vec<String> = cycle.iter().map(|c| format!("`{c}`")).collect();
    let mut d = Diagnostic::error(format!("component dependency cycle: {}", chain.join(" → ")));
    for pair in cycle.windows(2) {
        d = d.note(format!("{} says `dependsOn: [{}]`", source::join(&pair[0], COMPONENT_CONFIG), pair[1]));
    }
    d.hint("components may not depend on each other in a circle; remove one `dependsOn` entry of the cycle")
}

/// The 1-based line and column where `dep` is listed under `dependsOn` in the
/// text of a component.yaml whose list reads `depends_on`.
fn dependency_position(text: &str, depends_on: &[String], dep: &str) -> Option<(usize, usize)> {
    let index = depends_on.iter().position(|d| d == dep)?;
    yaml::locate(text, &["dependsOn".to_string(), index.to_string()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> Result<ComponentGraph, Vec<String>> {
        ComponentGraph::new(edges.iter().map(|(c, d)| (c.to_string(), d.iter().map(|s| s.to_string()).collect())))
    }

    #[test]
    fn closure_and_depths() {
        let g = graph(&[
            ("api", &["db", "cache"]),
            ("db", &["storage"]),
            ("cache", &[]),
            ("storage", &[]),
            ("web", &["api"]),
        ])
        .unwrap();
        assert!(g.depends_on("web", "storage"));
        assert!(!g.depends_on("db", "api"));
        let all: BTreeSet<&str> = ["api", "db", "cache", "storage", "web"].into();
        let d = g.depths(&all);
        assert_eq!((d["storage"], d["cache"], d["db"], d["api"], d["web"]), (0, 0, 1, 2, 3));
        // `db` absent: `api` still follows `storage`, one level down.
        let some: BTreeSet<&str> = ["api", "storage", "web"].into();
        let d = g.depths(&some);
        assert_eq!((d["storage"], d["api"], d["web"]), (0, 1, 2));
    }

    #[test]
    fn cycles_are_named_in_order() {
        let e = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &[])]).unwrap_err();
        assert_eq!(e, ["a", "b", "c", "a"]);
        let d = cycle_diagnostic(&e);
        assert_eq!(d.message, "component dependency cycle: `a` → `b` → `c` → `a`");
        assert_eq!(d.notes[2], "c/component.yaml says `dependsOn: [a]`");
    }

    #[test]
    fn finds_the_dependency_line() {
        // (component.yaml, its `dependsOn`, the dependency to find, where)
        type Case<'a> = (&'a str, &'a [&'a str], &'a str, Option<(usize, usize)>);
        let cases: &[Case<'_>] = &[
            ("namespace: x\ndependsOn:\n  - db\n  - api\n", &["db", "api"], "api", Some((4, 5))),
            ("dependsOn: [database, db]\n", &["database", "db"], "db", Some((1, 23))),
            ("dependsOn:\n  - dbx\nowners: [db]\n", &["dbx"], "db", None),
        ];
        for (text, deps, dep, want) in cases {
            let deps: Vec<String> = deps.iter().map(|d| d.to_string()).collect();
            assert_eq!(dependency_position(text, &deps, dep), *want, "{text:?}");
        }
    }
}
