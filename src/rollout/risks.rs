//! Risks of applying a change: what the API server will refuse, what is deleted,
//! what loses capacity or protection.
//!
//! In: one target's resources on both sides and the diff's changes for it. Out:
//! [`Risk`]s, each naming the object and the field. Pure functions of the two
//! bodies; the tables of immutable fields are data below.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::compiled::CompiledTarget;
use crate::diff::{ResourceChange, Status};
use crate::manifest::{ResId, Resource, workloads};

pub mod defaults;
pub mod immutable;
pub mod remedy;
pub mod transition;

pub use transition::Pins;

/// What kind of risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskKind {
    /// An object no longer rendered: it is deleted (pruned) when the wave applies.
    Deletion,
    /// A Namespace deleted: everything in it goes too.
    NamespaceDeletion,
    /// A CustomResourceDefinition losing a version or a field, or changing scope.
    Crd,
    /// A change the API server refuses to apply in place ([`immutable::RULES`], CRD transition rules).
    ApplyFailure,
    /// A value the server defaulted that the new manifest collides with: refused too.
    ServerDefault,
    /// `metadata.name` or `metadata.namespace` changed: applied as delete + create.
    Rename,
    /// A workload scaled to 0 replicas.
    ScaleToZero,
    /// A workload no PodDisruptionBudget covers any more.
    PdbLost,
}

impl RiskKind {
    pub fn word(self) -> &'static str {
        match self {
            RiskKind::Deletion => "deletion",
            RiskKind::NamespaceDeletion => "namespace deletion",
            RiskKind::Crd => "CRD change",
            RiskKind::ApplyFailure => "apply failure",
            RiskKind::ServerDefault => "server default",
            RiskKind::Rename => "delete + create",
            RiskKind::ScaleToZero => "scale to zero",
            RiskKind::PdbLost => "PDB lost",
        }
    }
}

/// One risk: which object, which field, what happens.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Risk {
    pub kind: RiskKind,
    /// `component/environment`.
    pub target: String,
    /// The object (`apps/Deployment/shop/frontend`).
    pub object: String,
    /// The field (`spec.selector`); `metadata.name` for whole-object risks.
    pub field: String,
    pub message: String,
    /// What to do about it.
    pub remedy: String,
}

/// Workloads that hold pods and take a replica count.
const SCALABLE: &[(&str, &str)] = &[("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "ReplicaSet")];

/// The risks of one target's changes, sorted. `pins` holds the transition rules of
/// the repository's CRDs ([`transition::collect`]).
pub fn of_target(
    address: &str,
    before: Option<&CompiledTarget>,
    after: Option<&CompiledTarget>,
    changes: &[ResourceChange],
    pins: &Pins,
) -> Vec<Risk> {
    let (b, a) = (by_id(before), by_id(after));
    let mut out = Vec::new();
    let renamed = renames(changes, &b, &a, address, &mut out);
    for c in changes {
        let (rb, ra) = (b.get(&c.id).copied(), a.get(&c.id).copied());
        let mut risk = |kind: RiskKind, field: &str, message: String, remedy: String| {
            out.push(Risk {
                kind,
                target: address.to_string(),
                object: c.id.to_string(),
                field: field.into(),
                message,
                remedy,
            })
        };
        match (c.status, rb, ra) {
            (Status::Removed, Some(_), _) if !renamed.contains(&c.id) => removed(&c.id, &mut risk),
            (Status::Changed, Some(rb), Some(ra)) => changed(&c.id, &rb.body, &ra.body, pins, &mut risk),
            _ => {}
        }
    }
    pdb_lost(address, &b, &a, &mut out);
    out.sort();
    out.dedup();
    out
}

/// The transition rules of every CRD in these targets.
pub fn pins<'t>(targets: impl IntoIterator<Item = &'t CompiledTarget>) -> Pins {
    let mut pins = Pins::new();
    for t in targets {
        for r in &t.resources {
            if r.id.group == "apiextensions.k8s.io" && r.id.kind == "CustomResourceDefinition" {
                transition::collect(&r.body, &mut pins);
            }
        }
    }
    pins
}

/// The risks of updating the objects `before` to `after` (whole bodies, matched by
/// identity): what `rollout plan` reports for a target holding them.
pub fn of_objects(before: &[Value], after: &[Value]) -> Result<Vec<Risk>, String> {
    let side = |bodies: &[Value]| -> Result<CompiledTarget, String> {
        let origin = crate::manifest::TemplateOrigin { template: std::sync::Arc::from("objects.yaml"), doc: 0 };
        let resources = bodies.iter().map(|b| Resource::new(b.clone(), origin.clone()).map_err(|e| e.to_string()));
        let target = crate::repo::Target {
            component: "objects".into(),
            environment: String::new(),
            dir: String::new(),
            version_dir: String::new(),
            version: String::new(),
        };
        Ok(CompiledTarget { target, resources: resources.collect::<Result<_, _>>()? })
    };
    let (b, a) = (side(before)?, side(after)?);
    let ids: BTreeSet<&ResId> = b.resources.iter().chain(&a.resources).map(|r| &r.id).collect();
    let options = crate::diff::CompareOptions::default();
    let changes: Vec<ResourceChange> = ids
        .into_iter()
        .filter_map(|id| {
            let (rb, ra) = (b.resources.iter().find(|r| &r.id == id), a.resources.iter().find(|r| &r.id == id));
            crate::diff::compare_resource(id, rb, ra, &options)
        })
        .collect();
    let pins = pins([&b, &a]);
    Ok(of_target("objects", Some(&b), Some(&a), &changes, &pins))
}

fn by_id(t: Option<&CompiledTarget>) -> BTreeMap<&ResId, &Resource> {
    t.map(|t| t.resources.iter().map(|r| (&r.id, r)).collect()).unwrap_or_default()
}

/// A removed and an added object of one kind from one template: a rename,
/// which `apply` carries out as delete + create. Returns the removed ids.
fn renames<'c>(
    changes: &'c [ResourceChange],
    b: &BTreeMap<&ResId, &Resource>,
    a: &BTreeMap<&ResId, &Resource>,
    address: &str,
    out: &mut Vec<Risk>,
) -> BTreeSet<&'c ResId> {
    let template = |id: &ResId, side: &BTreeMap<&ResId, &Resource>| side.get(id).map(|r| r.source.template.to_string());
    let mut added: Vec<&ResId> = changes.iter().filter(|c| c.status == Status::Added).map(|c| &c.id).collect();
    let mut renamed = BTreeSet::new();
    for c in changes.iter().filter(|c| c.status == Status::Removed) {
        let from = template(&c.id, b);
        let Some(pos) = added
            .iter()
            .position(|n| n.group == c.id.group && n.kind == c.id.kind && from.is_some() && template(n, a) == from)
        else {
            continue;
        };
        let new = added.remove(pos);
        let field = if new.namespace != c.id.namespace { "metadata.namespace" } else { "metadata.name" };
        out.push(Risk {
            kind: RiskKind::Rename,
            target: address.to_string(),
            object: c.id.to_string(),
            field: field.to_string(),
            message: format!("`{field}` changes: becomes `{new}`; applied as a deletion and a creation, not an update"),
            remedy: remedy::RENAME.to_string(),
        });
        renamed.insert(&c.id);
    }
    renamed
}

type RiskFn<'a> = dyn FnMut(RiskKind, &str, String, String) + 'a;

fn removed(id: &ResId, risk: &mut RiskFn) {
    match (id.group.as_str(), id.kind.as_str()) {
        ("", "Namespace") => risk(
            RiskKind::NamespaceDeletion,
            "metadata.name",
            format!("namespace `{}` is deleted, and every object in it", id.name),
            remedy::NAMESPACE_DELETION.to_string(),
        ),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => risk(
            RiskKind::Crd,
            "metadata.name",
            format!("CRD `{}` is deleted, and every custom resource of it", id.name),
            remedy::deletion(id),
        ),
        _ => risk(
            RiskKind::Deletion,
            "metadata.name",
            format!("{} `{}` is deleted", id.kind, id.name),
            remedy::deletion(id),
        ),
    }
}

fn changed(id: &ResId, b: &Value, a: &Value, pins: &Pins, risk: &mut RiskFn) {
    let key = (id.group.as_str(), id.kind.as_str());
    for r in immutable::refusals(key.0, key.1, b, a) {
        let mut message = format!("the API server refuses the update: {}", r.rule.wording);
        if !r.changed.is_empty() {
            let list: Vec<String> = r.changed.iter().map(|k| format!("`spec.{k}`")).collect();
            message.push_str(&format!(" (changed: {})", list.join(", ")));
        }
        risk(RiskKind::ApplyFailure, r.field, message, remedy::refused(id));
    }
    for t in defaults::traps(key.0, key.1, b, a) {
        let message = format!(
            "the server defaulted `{}` and the apply keeps it (no manager owns it); the server refuses: {}",
            t.field, t.wording
        );
        risk(RiskKind::ServerDefault, t.field, message, remedy::defaulted(id, t.field, t.fix));
    }
    if let Some(pins) = pins.get(&(id.group.clone(), id.kind.clone())) {
        for p in transition::broken(pins, b, a) {
            let message = format!("a transition rule of its CRD refuses the update: {}", p.message);
            risk(RiskKind::ApplyFailure, &p.field, message, remedy::pinned(id));
        }
    }
    if key == ("apiextensions.k8s.io", "CustomResourceDefinition") {
        crd_changes(b, a, risk);
    }
    if SCALABLE.contains(&key) && replicas(b) > 0 && replicas(a) == 0 {
        let message = format!("`spec.replicas` drops from {} to 0", replicas(b));
        risk(RiskKind::ScaleToZero, "spec.replicas", message, remedy::SCALE_TO_ZERO.to_string());
    }
}

/// `spec.replicas`, 1 when unset (the API server's default).
fn replicas(body: &Value) -> i64 {
    body.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)
}

/// A CRD's removed versions and, per version on both sides, removed schema fields.
fn crd_changes(b: &Value, a: &Value, risk: &mut RiskFn) {
    let (vb, va) = (crd_versions(b), crd_versions(a));
    for (name, schema) in &vb {
        let field = format!("spec.versions[{name}]");
        match va.get(name) {
            None => {
                let message = format!("version `{name}` is removed; objects stored in it are unreadable");
                risk(RiskKind::Crd, &field, message, remedy::CRD_VERSION.to_string())
            }
            Some(after) => {
                let mut removed = Vec::new();
                removed_fields(schema, after, "", &mut removed);
                for path in removed {
                    risk(
                        RiskKind::Crd,
                        &format!("{field}.{path}"),
                        format!("field `{path}` of version `{name}` is removed"),
                        remedy::CRD_FIELD.to_string(),
                    );
                }
            }
        }
    }
}

fn crd_versions(crd: &Value) -> BTreeMap<String, Value> {
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array).cloned().unwrap_or_default();
    versions
        .into_iter()
        .filter_map(|v| {
            let name = v.get("name")?.as_str()?.to_string();
            Some((name, v.pointer("/schema/openAPIV3Schema").cloned().unwrap_or(Value::Null)))
        })
        .collect()
}

/// Paths (`spec.replicas`, `spec.items[].port`) of properties in `before` that `after` lacks.
fn removed_fields(before: &Value, after: &Value, prefix: &str, out: &mut Vec<String>) {
    let props = |v: &Value| v.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let (pb, pa) = (props(before), props(after));
    for (key, sb) in &pb {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match pa.get(key) {
            None => out.push(path),
            Some(sa) => {
                removed_fields(sb, sa, &path, out);
                if let (Some(ib), Some(ia)) = (sb.get("items"), sa.get("items")) {
                    removed_fields(ib, ia, &format!("{path}[]"), out);
                }
            }
        }
    }
}

/// Workloads whose pods a PodDisruptionBudget of the target covered before and none covers after.
fn pdb_lost(address: &str, b: &BTreeMap<&ResId, &Resource>, a: &BTreeMap<&ResId, &Resource>, out: &mut Vec<Risk>) {
    let pdbs = |side: &BTreeMap<&ResId, &Resource>| -> Vec<Value> {
        side.values()
            .filter(|r| r.id.group == "policy" && r.id.kind == "PodDisruptionBudget")
            .filter_map(|r| r.body.pointer("/spec/selector").cloned())
            .collect()
    };
    let (pb, pa) = (pdbs(b), pdbs(a));
    for (id, r) in a {
        let key = (id.group.as_str(), id.kind.as_str());
        if !SCALABLE.contains(&key) && key != ("apps", "DaemonSet") {
            continue;
        }
        let Some(at) = workloads::find(&id.group, &id.kind).map(|w| format!("/{}", w.template_labels().join("/")))
        else {
            continue;
        };
        let Some(labels) = r.body.pointer(&at).and_then(Value::as_object) else { continue };
        let Some(before) = b.get(id).and_then(|r| r.body.pointer(&at)?.as_object()) else { continue };
        let covered = |sels: &[Value], labels| sels.iter().any(|s| selects(s, labels));
        if covered(&pb, before) && !covered(&pa, labels) {
            out.push(Risk {
                kind: RiskKind::PdbLost,
                target: address.to_string(),
                object: id.to_string(),
                field: at[1..].replace('/', "."),
                message: "no PodDisruptionBudget selects its pods any more; voluntary disruptions are unbounded"
                    .to_string(),
                remedy: remedy::PDB_LOST.to_string(),
            });
        }
    }
}

/// Whether a label selector (`matchLabels`, `matchExpressions`) selects `labels`.
fn selects(selector: &Value, labels: &serde_json::Map<String, Value>) -> bool {
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    let exprs = selector.get("matchExpressions").and_then(Value::as_array);
    if match_labels.is_none_or(|m| m.is_empty()) && exprs.is_none_or(|e| e.is_empty()) {
        // An empty selector selects every pod in the namespace.
        return true;
    }
    let labels_ok = match_labels.is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let exprs_ok = exprs.is_none_or(|es| {
        es.iter().all(|e| {
            let key = e.get("key").and_then(Value::as_str).unwrap_or("");
            let values: Vec<&Value> =
                e.get("values").and_then(Value::as_array).map(|v| v.iter().collect()).unwrap_or_default();
            let have = labels.get(key);
            match e.get("operator").and_then(Value::as_str).unwrap_or("") {
                "In" => have.is_some_and(|h| values.contains(&h)),
                "NotIn" => have.is_none_or(|h| !values.contains(&h)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                _ => false,
            }
        })
    });
    labels_ok && exprs_ok
}

#[cfg(test)]
mod tests;
