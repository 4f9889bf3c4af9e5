//! The same change in several environments: a change that touches 40
//! environments is read once, "in 38 of 40 environments".
//!
//! In: a [`Report`]. Out: [`Group`]s, each one structural change (same component,
//! object, path, kind, before and after) with the environments it happens in,
//! for changes found in at least two environments. Sorted by how many
//! environments they touch (most first), then by component, object and path.

use std::collections::BTreeMap;

use super::{FieldChange, Report};

/// One structural change found in several environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub component: String,
    /// The object, as `ResId` prints it (`apps/Deployment/shop/web`).
    pub object: String,
    pub change: FieldChange,
    /// Sorted.
    pub environments: Vec<String>,
    /// Every environment of the report: the "of 40".
    pub of: usize,
}

impl Group {
    /// `in 38 of 40 environments`.
    pub fn describe(&self) -> String {
        format!("in {} of {} environments", self.environments.len(), self.of)
    }
}

/// A change's identity across environments: component, object, path, and its kind with both values.
type ChangeKey = (String, String, String, String);

/// The changes found in at least two environments.
pub fn groups(report: &Report) -> Vec<Group> {
    let mut by_change: BTreeMap<ChangeKey, (FieldChange, Vec<String>)> = BTreeMap::new();
    for env in &report.environments {
        for t in &env.targets {
            for c in &t.changes {
                for f in &c.fields {
                    let value = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
                    let key = (
                        t.component.clone(),
                        c.id.to_string(),
                        f.path.clone(),
                        format!("{}\u{0}{}\u{0}{}", f.kind.word(), value(&f.before), value(&f.after)),
                    );
                    let entry = by_change.entry(key).or_insert_with(|| (f.clone(), Vec::new()));
                    if entry.1.last() != Some(&env.environment) {
                        entry.1.push(env.environment.clone());
                    }
                }
            }
        }
    }
    let of = report.environments.len();
    let mut out: Vec<Group> = by_change
        .into_iter()
        .filter(|(_, (_, envs))| envs.len() > 1)
        .map(|((component, object, _, _), (change, environments))| Group {
            component,
            object,
            change,
            environments,
            of,
        })
        .collect();
    // Stable: the map's order breaks ties.
    out.sort_by_key(|g| std::cmp::Reverse(g.environments.len()));
    out
}
