//! The plan as JSON. Its structure is documented in docs/guide/rollout.md ("Rollout
//! planning"); keep the two in step.
//!
//! ```json
//! {
//!   "from": {"label": "HEAD~1", "commit": "<40 hex>", "dirty": false},
//!   "to": {"label": "work tree", "commit": "<40 hex>", "dirty": false},
//!   "changes": true, "environments": 4, "objects": 5, "risks": 1,
//!   "waves": [{
//!     "name": "canary", "pause": true, "maxUpdate": "25%",
//!     "environments": ["eastus"], "touched": ["eastus"], "changes": true,
//!     "targets": {"changed": [{"address": "frontend/eastus", "versions": "v1 → v2"}], "unchanged": 3},
//!     "objects": {"added": 0, "changed": 2, "removed": 0},
//!     "kinds": {"Deployment": {"added": 0, "changed": 1, "removed": 0}},
//!     "versions": [{"component": "frontend", "environment": "eastus", "from": "v1", "to": "v2"}],
//!     "images": [{"target": "…", "object": "…", "container": "web", "from": "…", "to": "…"}],
//!     "risks": [{"kind": "apply-failure", "target": "…", "object": "…", "field": "spec.selector", "message": "…", "remedy": "…"}],
//!     "cumulative": {"environments": {"touched": 2, "total": 4}, "objects": {"touched": 5, "total": 5}}
//!   }]
//! }
//! ```

use serde_json::{Value, json};

use super::{Plan, WavePlan};
use crate::diff::{Counts, Side};
use crate::repo::config::{MaxUpdate, Pause};

/// Pretty-printed JSON with a final newline.
pub fn render(plan: &Plan) -> String {
    let v = json!({
        "from": side(&plan.before),
        "to": side(&plan.after),
        "changes": plan.changes(),
        "environments": plan.environments,
        "objects": plan.objects,
        "risks": plan.risks(),
        "waves": plan.waves.iter().map(wave).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&v).expect("JSON values serialize") + "\n"
}

fn side(s: &Side) -> Value {
    json!({"label": s.label, "commit": s.commit, "dirty": s.dirty})
}

fn counts(c: &Counts) -> Value {
    json!({"added": c.added, "changed": c.changed, "removed": c.removed})
}

fn wave(w: &WavePlan) -> Value {
    let pause = match &w.pause {
        None => Value::Null,
        Some(Pause::Manual(b)) => json!(b),
        Some(Pause::Duration(d)) => json!(d),
    };
    let max_update = match &w.max_update {
        None => Value::Null,
        Some(MaxUpdate::Count(n)) => json!(n),
        Some(MaxUpdate::Percent(p)) => json!(p),
    };
    let opt = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
    json!({
        "name": w.name,
        "pause": pause,
        "maxUpdate": max_update,
        "environments": w.environments,
        "touched": w.touched,
        "changes": w.changes(),
        "targets": {
            "changed": w.changed_targets.iter().map(|(a, v)| json!({"address": a, "versions": v})).collect::<Vec<_>>(),
            "unchanged": w.unchanged_targets,
        },
        "objects": counts(&w.counts),
        "kinds": w.kinds.iter().map(|(k, c)| (k.clone(), counts(c))).collect::<serde_json::Map<_, _>>(),
        "versions": w.versions.iter().map(|v| json!({
            "component": v.component, "environment": v.environment, "from": opt(&v.from), "to": opt(&v.to),
        })).collect::<Vec<_>>(),
        "images": w.images.iter().map(|i| json!({
            "target": i.target, "object": i.object, "container": i.container, "from": opt(&i.from), "to": opt(&i.to),
        })).collect::<Vec<_>>(),
        "risks": w.risks,
        "cumulative": {
            "environments": {"touched": w.cumulative.environments_touched, "total": w.cumulative.environments_total},
            "objects": {"touched": w.cumulative.objects_touched, "total": w.cumulative.objects_total},
        },
    })
}
