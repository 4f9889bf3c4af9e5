//! Where each merged value comes from: the data behind `strata values --show-origin`.
//!
//! In: a target's [`Values`] (the merged tree and its layers, lowest precedence
//! first). Out: for every leaf of the merged tree (a scalar, a list or an empty
//! map; lists are replaced whole, so they are leaves) the layer that set it and,
//! highest first, the layers it overrode ([`Leaf`]); and every key a layer deleted
//! with an explicit `null` that no higher layer set again ([`Deleted`]).
//!
//! A place is `file:line` for a layer read from a file (the line of the key, found
//! with [`crate::yaml::locate`]; for `strata.yaml` inside `values:` or
//! `environments.<env>.values:`), or the command-line flag itself
//! (`--set a.b=c`). Like `git config --show-origin`, the output names files, not
//! layers; the layer's kind is in [`Place::kind`].

use serde_json::Value;

use super::{Layer, LayerKind, Values, leaf_paths};

/// One layer's setting of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub kind: LayerKind,
    /// `file:line`, `file` when the line was not found, or `--set a=b`.
    pub at: String,
    /// The layer set the path to `null` (deleting what was below it).
    pub null: bool,
}

/// A leaf of the merged values and its chain of origins.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    pub path: Vec<String>,
    pub value: Value,
    /// The layer whose value is in the merged tree.
    pub set_by: Place,
    /// The lower layers that also set this path, highest (most recently overridden) first.
    pub overrides: Vec<Place>,
}

/// A key deleted by an explicit `null` in a layer above the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Deleted {
    pub path: Vec<String>,
    pub by: Place,
    /// The lower layers whose value the `null` removed, highest first.
    pub overrides: Vec<Place>,
}

/// The origins of every merged value of one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Origins {
    /// In the order of the merged tree.
    pub leaves: Vec<Leaf>,
    /// In layer order, then file order.
    pub deleted: Vec<Deleted>,
}

/// How a layer's data meets a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hit {
    /// The path is in the layer's data.
    Exact,
    /// A scalar, list or `null` sits at an ancestor of the path, replacing it.
    Ancestor,
}

fn hit<'a>(data: &'a Value, path: &[String]) -> Option<(Hit, &'a Value)> {
    let mut cur = data;
    for (i, seg) in path.iter().enumerate() {
        match cur {
            Value::Object(m) => cur = m.get(seg)?,
            other if i > 0 => return Some((Hit::Ancestor, other)),
            _ => return None,
        }
    }
    Some((Hit::Exact, cur))
}

/// The value at `path` of a merged tree (map keys only).
pub fn lookup<'a>(merged: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(merged, |cur, seg| cur.as_object()?.get(seg))
}

fn place(layer: &Layer, path: &[String], null: bool) -> Place {
    let at = match layer.position(path) {
        Some((line, _)) => format!("{}:{line}", layer.origin),
        None => layer.origin.to_string(),
    };
    Place { kind: layer.kind, at, null }
}

/// The chain of layers that set `path`, lowest first: every layer whose data holds
/// the path or replaces an ancestor of it with a scalar or list. The first layer
/// (the version's defaults) keeps its `null`s as values; a `null` above it deletes.
fn chain(values: &Values, path: &[String]) -> Vec<Place> {
    let mut out = Vec::new();
    for (i, layer) in values.layers.iter().enumerate() {
        let Some((how, v)) = hit(&layer.data, path) else { continue };
        let null = v.is_null() && i > 0;
        let at = if how == Hit::Exact { path } else { &path[..ancestor_len(&layer.data, path)] };
        out.push(place(layer, at, null));
    }
    out
}

/// The length of the longest prefix of `path` that exists in `data`.
fn ancestor_len(data: &Value, path: &[String]) -> usize {
    (1..=path.len()).rev().find(|&n| lookup(data, &path[..n]).is_some()).unwrap_or(0)
}

/// The origins of `values` (see the module documentation).
pub fn origins(values: &Values) -> Origins {
    let leaves = leaf_paths(&values.merged)
        .into_iter()
        .filter(|p| !p.is_empty())
        .filter_map(|path| {
            let mut places = chain(values, &path);
            let set_by = places.pop()?;
            places.reverse();
            let value = lookup(&values.merged, &path).cloned().unwrap_or(Value::Null);
            Some(Leaf { path, value, set_by, overrides: places })
        })
        .collect();
    Origins { leaves, deleted: deleted(values) }
}

/// Paths set to `null` above the defaults and absent from the merged tree; the
/// highest deleting layer of each is reported.
fn deleted(values: &Values) -> Vec<Deleted> {
    let mut out: Vec<Deleted> = Vec::new();
    for layer in values.layers.iter().skip(1) {
        for path in leaf_paths(&layer.data) {
            let is_null = lookup(&layer.data, &path).is_some_and(Value::is_null);
            if path.is_empty() || !is_null || lookup(&values.merged, &path).is_some() {
                continue;
            }
            let mut places = chain(values, &path);
            let Some(by) = places.pop() else { continue };
            places.reverse();
            let d = Deleted { path, by, overrides: places };
            match out.iter_mut().find(|o| o.path == d.path) {
                Some(o) => *o = d,
                None => out.push(d),
            }
        }
    }
    out
}

/// The origins under `prefix` only (a `strata values TARGET KEY.PATH` query):
/// leaves at or below it and deletions at, below or above it.
pub fn under(origins: Origins, prefix: &[String]) -> Origins {
    Origins {
        leaves: origins.leaves.into_iter().filter(|l| l.path.starts_with(prefix)).collect(),
        deleted: origins
            .deleted
            .into_iter()
            .filter(|d| d.path.starts_with(prefix) || prefix.starts_with(&d.path))
            .collect(),
    }
}

impl Place {
    /// `file:line`, with ` (null)` for a deletion.
    pub fn describe(&self) -> String {
        if self.null { format!("{} (null)", self.at) } else { self.at.clone() }
    }
}

/// `file:line` and, when it overrode anything, ` (overrides a, b)`.
pub fn describe_chain(first: &Place, overrides: &[Place]) -> String {
    if overrides.is_empty() {
        return first.at.clone();
    }
    let list: Vec<String> = overrides.iter().map(Place::describe).collect();
    format!("{} (overrides {})", first.at, list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse_values_file;
    use serde_json::json;
    use std::sync::Arc;

    fn layer(kind: LayerKind, origin: &str, text: &str) -> Layer {
        let data = parse_values_file(text, origin).unwrap();
        Layer { kind, origin: Arc::from(origin), text: Some(Arc::from(text)), prefix: vec![], data: Arc::new(data) }
    }

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(String::from).collect()
    }

    #[test]
    fn chains_name_the_setter_and_what_it_overrode() {
        let v = Values::merge(vec![
            layer(LayerKind::Defaults, "v1/values.yaml", "image:\n  tag: a\n  repo: r\nkeep: null\nlimits: {cpu: 1}\n"),
            layer(LayerKind::Parameters, "t/parameters.yaml", "image:\n  tag: b\nlimits: null\n"),
            layer(LayerKind::ValuesFile, "more.yaml", "\n\nimage:\n  tag: c\n"),
        ]);
        let o = origins(&v);
        let got: Vec<(String, String)> =
            o.leaves.iter().map(|l| (l.path.join("."), describe_chain(&l.set_by, &l.overrides))).collect();
        assert_eq!(
            got,
            [
                ("image.tag".to_string(), "more.yaml:4 (overrides t/parameters.yaml:2, v1/values.yaml:2)".to_string()),
                ("image.repo".to_string(), "v1/values.yaml:3".to_string()),
                ("keep".to_string(), "v1/values.yaml:4".to_string()),
            ]
        );
        assert_eq!(o.leaves[0].value, json!("c"));
        assert_eq!(o.deleted.len(), 1);
        assert_eq!(o.deleted[0].path, p("limits"));
        assert_eq!(o.deleted[0].by.describe(), "t/parameters.yaml:3 (null)");
        assert_eq!(o.deleted[0].overrides[0].at, "v1/values.yaml:5");
    }

    #[test]
    fn a_scalar_over_a_map_and_a_deletion_set_again() {
        let v = Values::merge(vec![
            layer(LayerKind::Defaults, "v1/values.yaml", "a:\n  b: 1\nx: {y: 1}\n"),
            layer(LayerKind::Parameters, "t/parameters.yaml", "a: flat\nx: null\n"),
            layer(LayerKind::ValuesFile, "more.yaml", "x:\n  y: 2\n"),
        ]);
        let o = origins(&v);
        assert_eq!(o.leaves[0].path, p("a"));
        assert_eq!(
            describe_chain(&o.leaves[0].set_by, &o.leaves[0].overrides),
            "t/parameters.yaml:1 (overrides v1/values.yaml:1)"
        );
        assert_eq!(
            describe_chain(&o.leaves[1].set_by, &o.leaves[1].overrides),
            "more.yaml:2 (overrides t/parameters.yaml:2 (null), v1/values.yaml:3)"
        );
        assert!(o.deleted.is_empty());
        assert_eq!(under(o, &p("x")).leaves.len(), 1);
    }
}
