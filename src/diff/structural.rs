//! Structural diffs: two bodies of one object compared field by field.
//!
//! In: the before and after body of an object (already masked and stripped of
//! `diff.ignore` fields by the caller) and its `apiVersion` / `kind`. Out: a list
//! of [`FieldChange`]s, each a path (`spec.template.spec.containers[name=web].image`),
//! what was there before and after, and a [`ChangeKind`].
//!
//! Lists are matched the way the API server merges them: by the merge keys of the
//! built-in types ([`crate::patch::schema`], the one table generated from the
//! OpenAPI definitions: containers and env by `name`, ports by `containerPort` /
//! `protocol`, volumes by `name`, …). A list whose entries all carry distinct keys
//! is compared entry by entry: an entry on one side only is one added or removed
//! change at its keyed path, and entries that moved are one `order changed` change
//! at the list. Sets of scalars with a merge strategy (finalizers) are compared as
//! sets. Lists of custom resources are keyed by `name` when every entry has a
//! distinct one (what most CRDs do); every other list is positional (`args`,
//! `command`).
//!
//! Invariants: pure and deterministic (keys visited in sorted order); comparing a
//! body with itself gives no change; the changes of two bodies that differ are
//! never empty.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::patch::schema::{Node, Schema};

/// What happened at one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
    /// A keyed list (or a set) whose entries are the same but in another order.
    OrderChanged,
}

impl ChangeKind {
    /// `added`, `removed`, `changed`, `order changed`: the word every format uses.
    pub fn word(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
            ChangeKind::OrderChanged => "order changed",
        }
    }

    /// The one-character marker of summary lines.
    pub fn marker(self) -> char {
        match self {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            ChangeKind::Changed => '~',
            ChangeKind::OrderChanged => '↕',
        }
    }
}

/// One change of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// Dotted path with list keys: `spec.template.spec.containers[name=web].image`;
    /// keys that are not plain words are quoted (`metadata.annotations["a.io/b"]`).
    pub path: String,
    pub kind: ChangeKind,
    /// The value before (absent for `added`); for `order changed`, the entries' keys in order.
    pub before: Option<Value>,
    /// The value after (absent for `removed`); for `order changed`, the entries' keys in order.
    pub after: Option<Value>,
}

/// Compares two bodies of an object of `api_version` / `kind` field by field.
pub fn compare(api_version: &str, kind: &str, before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let node = Schema::builtin().root(api_version, kind);
    walk(node, String::new(), before, after, &mut out);
    out
}

/// Compares two bodies of one resource (either may be absent: nothing to list then,
/// the whole object is added or removed).
pub fn compare_bodies(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldChange> {
    match (before, after) {
        (Some(b), Some(a)) => {
            let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string).unwrap_or_default();
            compare(&s(a, "apiVersion"), &s(a, "kind"), b, a)
        }
        _ => Vec::new(),
    }
}

fn walk(node: Node<'_>, path: String, before: &Value, after: &Value, out: &mut Vec<FieldChange>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => walk_object(node, &path, b, a, out),
        (Value::Array(b), Value::Array(a)) => walk_list(node, &path, b, a, out),
        _ => out.push(change(path, ChangeKind::Changed, Some(before), Some(after))),
    }
}

fn walk_object(node: Node<'_>, path: &str, b: &Map<String, Value>, a: &Map<String, Value>, out: &mut Vec<FieldChange>) {
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    for k in keys {
        let p = field_path(path, k);
        match (b.get(k), a.get(k)) {
            (Some(bv), Some(av)) => walk(node.field(k), p, bv, av, out),
            (Some(bv), None) => out.push(change(p, ChangeKind::Removed, Some(bv), None)),
            (None, Some(av)) => out.push(change(p, ChangeKind::Added, None, Some(av))),
            (None, None) => {}
        }
    }
}

fn walk_list(node: Node<'_>, path: &str, b: &[Value], a: &[Value], out: &mut Vec<FieldChange>) {
    let list = node.list();
    let (item, keys): (Node<'_>, Vec<String>) = match list {
        Some(l) if l.merge && !l.keys.is_empty() => (l.item(), l.keys.to_vec()),
        Some(l) if l.merge => {
            if scalar_set(path, b, a, out) {
                return;
            }
            (l.item(), Vec::new())
        }
        Some(l) => (l.item(), Vec::new()),
        // Custom resources and untyped fields: entries named by `name` are matched by it.
        None if matches!(node, Node::Unknown) => (Node::Unknown, vec!["name".to_string()]),
        None => (Node::Unknown, Vec::new()),
    };
    if !keys.is_empty()
        && let (Some(bk), Some(ak)) = (keyed(b, &keys), keyed(a, &keys))
    {
        return walk_keyed(item, path, &bk, &ak, out);
    }
    for i in 0..b.len().max(a.len()) {
        let p = format!("{path}[{i}]");
        match (b.get(i), a.get(i)) {
            (Some(bv), Some(av)) => walk(item, p, bv, av, out),
            (Some(bv), None) => out.push(change(p, ChangeKind::Removed, Some(bv), None)),
            (None, Some(av)) => out.push(change(p, ChangeKind::Added, None, Some(av))),
            (None, None) => {}
        }
    }
}

/// A list's entries by key label (`name=web`), in list order; `None` when an entry is
/// not a mapping, has none of the keys, or two entries share a label.
fn keyed<'v>(list: &'v [Value], keys: &[String]) -> Option<Vec<(String, &'v Value)>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for v in list {
        let m = v.as_object()?;
        let parts: Vec<String> =
            keys.iter().filter_map(|k| m.get(k).map(|kv| format!("{k}={}", scalar_text(kv)))).collect();
        if parts.is_empty() {
            return None;
        }
        let label = parts.join(",");
        if !seen.insert(label.clone()) {
            return None;
        }
        out.push((label, v));
    }
    Some(out)
}

fn walk_keyed(item: Node<'_>, path: &str, b: &[(String, &Value)], a: &[(String, &Value)], out: &mut Vec<FieldChange>) {
    let bm: BTreeMap<&str, &Value> = b.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let am: BTreeMap<&str, &Value> = a.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    // The entries on both sides, in each side's order: a different order is one change.
    let common_b: Vec<&str> = b.iter().map(|(k, _)| k.as_str()).filter(|k| am.contains_key(k)).collect();
    let common_a: Vec<&str> = a.iter().map(|(k, _)| k.as_str()).filter(|k| bm.contains_key(k)).collect();
    if common_b != common_a {
        out.push(FieldChange {
            path: path.to_string(),
            kind: ChangeKind::OrderChanged,
            before: Some(Value::from(common_b.clone())),
            after: Some(Value::from(common_a)),
        });
    }
    let labels: BTreeSet<&str> = bm.keys().chain(am.keys()).copied().collect();
    for label in labels {
        let p = format!("{path}[{label}]");
        match (bm.get(label), am.get(label)) {
            (Some(bv), Some(av)) => walk(item, p, bv, av, out),
            (Some(bv), None) => out.push(change(p, ChangeKind::Removed, Some(bv), None)),
            (None, Some(av)) => out.push(change(p, ChangeKind::Added, None, Some(av))),
            (None, None) => {}
        }
    }
}

/// A merged list of scalars (finalizers) compared as a set: values added, removed,
/// and the order of the common ones. `false` (nothing written) when an entry is not
/// a scalar or a value repeats.
fn scalar_set(path: &str, b: &[Value], a: &[Value], out: &mut Vec<FieldChange>) -> bool {
    let texts = |l: &[Value]| -> Option<Vec<String>> {
        let t: Vec<String> =
            l.iter().map(|v| (!v.is_object() && !v.is_array()).then(|| scalar_text(v))).collect::<Option<_>>()?;
        (t.iter().collect::<BTreeSet<_>>().len() == t.len()).then_some(t)
    };
    let (Some(bt), Some(at)) = (texts(b), texts(a)) else { return false };
    let (bs, as_): (BTreeSet<&String>, BTreeSet<&String>) = (bt.iter().collect(), at.iter().collect());
    let common_b: Vec<&String> = bt.iter().filter(|v| as_.contains(v)).collect();
    let common_a: Vec<&String> = at.iter().filter(|v| bs.contains(v)).collect();
    if common_b != common_a {
        let list = |l: Vec<&String>| Some(Value::from(l.into_iter().cloned().collect::<Vec<_>>()));
        out.push(FieldChange {
            path: path.to_string(),
            kind: ChangeKind::OrderChanged,
            before: list(common_b),
            after: list(common_a),
        });
    }
    for (i, v) in b.iter().enumerate() {
        if !as_.contains(&bt[i]) {
            out.push(change(format!("{path}[{}]", bt[i]), ChangeKind::Removed, Some(v), None));
        }
    }
    for (i, v) in a.iter().enumerate() {
        if !bs.contains(&at[i]) {
            out.push(change(format!("{path}[{}]", at[i]), ChangeKind::Added, None, Some(v)));
        }
    }
    true
}

fn change(path: String, kind: ChangeKind, before: Option<&Value>, after: Option<&Value>) -> FieldChange {
    FieldChange { path, kind, before: before.cloned(), after: after.cloned() }
}

/// A key or set value as text: strings bare, other scalars as JSON.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `parent.key`, or `parent["key"]` when the key is not a plain word.
pub fn field_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (parent.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{}]", Value::from(key)),
    }
}

/// How much of one line of summary a list of changes may take.
const SUMMARY_PATHS: usize = 6;

/// `~ spec.replicas, ↕ spec.template.spec.containers[name=web].env, + …ports[containerPort=80]`:
/// the changed paths of one object on one line (the first few, then how many more).
pub fn summary(changes: &[FieldChange]) -> String {
    let mut parts: Vec<String> =
        changes.iter().take(SUMMARY_PATHS).map(|c| format!("{} {}", c.kind.marker(), c.path)).collect();
    if changes.len() > SUMMARY_PATHS {
        parts.push(format!("and {} more", changes.len() - SUMMARY_PATHS));
    }
    parts.join(", ")
}

#[cfg(test)]
#[path = "structural_tests.rs"]
mod tests;
