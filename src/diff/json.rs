//! The machine-readable report. Its structure is documented in docs/reference/diff.md
//! ("Diffs between revisions"); keep the two in step.
//!
//! ```json
//! {
//!   "from": {"label": "v1.0", "commit": "<40 hex>", "dirty": false},
//!   "to": {"label": "work tree", "commit": "<40 hex>", "dirty": true},
//!   "differs": true,
//!   "counts": {"added": 1, "removed": 0, "changed": 2, "unchanged": 40},
//!   "environments": [{
//!     "environment": "eastus", "differs": true, "counts": {...},
//!     "targets": [{
//!       "address": "frontend/eastus", "component": "frontend", "environment": "eastus",
//!       "from_version": "v1", "to_version": "v2", "status": "changed", "counts": {...},
//!       "resources": [{
//!         "status": "changed", "id": "apps/Deployment/shop/web",
//!         "group": "apps", "kind": "Deployment", "namespace": "shop", "name": "web",
//!         "source": "frontend/v2/deployment.yaml",
//!         "changes": [{"path": "spec.template.spec.containers[name=web].image", "kind": "changed",
//!                      "before": "web:1.4", "after": "web:1.5"}],
//!         "diff": "--- a/...\n+++ b/...\n@@ ..."
//!       }]
//!     }]
//!   }],
//!   "groups": [{"component": "frontend", "object": "apps/Deployment/shop/web", "path": "...",
//!               "kind": "changed", "before": "web:1.4", "after": "web:1.5",
//!               "environments": ["eastus", "westus"], "of": 4}]
//! }
//! ```
//!
//! Status words and count keys follow the report's [`Vocabulary`]; `changes`
//! (kinds `added`, `removed`, `changed`, `order changed`; `before` / `after` left
//! out where the field does not exist) and `diff` are left out with `--stat`;
//! `hidden_fields` counts the fields `diff.ignore` hid; unchanged resources are counted, not listed.

use serde_json::{Map, Value, json};

use super::{Counts, FieldChange, Report, Side, Status, Vocabulary};

/// Knobs of the JSON report.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonOptions {
    /// Counts and names only, no diffs (`--stat`).
    pub stat: bool,
}

/// Renders the report as pretty-printed JSON with a final newline.
pub fn render(report: &Report, opts: JsonOptions) -> String {
    let v = to_value(report, opts);
    let mut s = serde_json::to_string_pretty(&v).expect("JSON values serialize");
    s.push('\n');
    s
}

pub fn to_value(report: &Report, opts: JsonOptions) -> Value {
    let words = report.words;
    let envs: Vec<Value> = report
        .environments
        .iter()
        .map(|e| {
            let targets: Vec<Value> = e
                .targets
                .iter()
                .map(|t| {
                    let status =
                        t.presence().unwrap_or(if t.counts.differs() { Status::Changed } else { Status::Unchanged });
                    let resources: Vec<Value> = t
                        .changes
                        .iter()
                        .map(|c| {
                            let mut r = Map::new();
                            r.insert("status".into(), json!(words.word(c.status)));
                            r.insert("id".into(), json!(c.id.to_string()));
                            r.insert("group".into(), json!(c.id.group));
                            r.insert("kind".into(), json!(c.id.kind));
                            r.insert("namespace".into(), json!(c.id.namespace));
                            r.insert("name".into(), json!(c.id.name));
                            r.insert("source".into(), json!(c.source));
                            if let Some(note) = &c.note {
                                r.insert("note".into(), json!(note));
                            }
                            if !opts.stat {
                                r.insert("changes".into(), field_changes(&c.fields));
                                r.insert("diff".into(), json!(c.diff));
                            }
                            Value::Object(r)
                        })
                        .collect();
                    json!({
                        "address": t.address,
                        "component": t.component,
                        "environment": t.environment,
                        "from_version": t.before_version,
                        "to_version": t.after_version,
                        "status": words.word(status),
                        "counts": counts(&t.counts, words),
                        "hidden_fields": t.hidden,
                        "resources": resources,
                    })
                })
                .collect();
            json!({
                "environment": e.environment,
                "differs": e.counts.differs(),
                "counts": counts(&e.counts, words),
                "identical_targets": e.identical,
                "targets": targets,
            })
        })
        .collect();
    json!({
        "from": side(&report.before),
        "to": side(&report.after),
        "differs": report.differs(),
        "counts": counts(&report.counts(), words),
        "identical_targets": report.identical(),
        "hidden_fields": report.hidden(),
        "environments": envs,
        "groups": groups(report),
    })
}

/// A resource's structural changes: `[{"path", "kind", "before", "after"}]`
/// (`before` / `after` left out where the field does not exist).
fn field_changes(fields: &[FieldChange]) -> Value {
    Value::Array(fields.iter().map(field_change).collect())
}

fn field_change(f: &FieldChange) -> Value {
    let mut m = Map::new();
    m.insert("path".into(), json!(f.path));
    m.insert("kind".into(), json!(f.kind.word()));
    if let Some(b) = &f.before {
        m.insert("before".into(), b.clone());
    }
    if let Some(a) = &f.after {
        m.insert("after".into(), a.clone());
    }
    Value::Object(m)
}

/// The same structural change in several environments ([`super::groups`]).
fn groups(report: &Report) -> Value {
    let groups = super::groups::groups(report);
    Value::Array(
        groups
            .iter()
            .map(|g| {
                let mut v = field_change(&g.change);
                let m = v.as_object_mut().expect("field_change makes an object");
                m.insert("component".into(), json!(g.component));
                m.insert("object".into(), json!(g.object));
                m.insert("environments".into(), json!(g.environments));
                m.insert("of".into(), json!(g.of));
                v
            })
            .collect(),
    )
}

fn side(s: &Side) -> Value {
    json!({"label": s.label, "commit": s.commit, "dirty": s.dirty})
}

/// Counts keyed by the vocabulary's words; conflicts only where they can happen.
fn counts(c: &Counts, words: Vocabulary) -> Value {
    let mut m = Map::new();
    for s in [Status::Added, Status::Removed, Status::Changed, Status::Conflict, Status::Unchanged] {
        if s == Status::Conflict && words == Vocabulary::Revisions {
            continue;
        }
        m.insert(words.word(s).into(), json!(c.get(s)));
    }
    Value::Object(m)
}
