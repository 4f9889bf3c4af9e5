//! What to do about each risk: one sentence, with the command where one helps.

use super::defaults::Fix;
use crate::manifest::ResId;

/// `kubectl` arguments naming the object: `deployment/web -n shop`.
fn target(id: &ResId) -> String {
    let kind = id.kind.to_lowercase();
    let kind = if id.group.is_empty() { kind } else { format!("{kind}.{}", id.group) };
    match &id.namespace {
        Some(ns) => format!("{kind}/{} -n {ns}", id.name),
        None => format!("{kind}/{}", id.name),
    }
}

/// An update the server refuses.
pub fn refused(id: &ResId) -> String {
    let t = target(id);
    match (id.group.as_str(), id.kind.as_str()) {
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet") => format!(
            "recreate it and keep its pods: `kubectl delete {t} --cascade=orphan`, then apply (the new object adopts them)"
        ),
        ("batch", "Job") => {
            format!(
                "recreate it: `kubectl delete {t}`, then apply (the Job runs again), or give the new Job a new name"
            )
        }
        ("", "ConfigMap" | "Secret") => "replace it under a new name and update the references (a kustomize \
             generator's hashed name does both), or `kubectl delete` it before the apply"
            .to_string(),
        ("", "PersistentVolumeClaim" | "PersistentVolume") => format!(
            "create a new {} under another name and move the data; `kubectl delete {t}` may delete the volume (reclaim policy)",
            id.kind
        ),
        ("", "Service") => {
            format!(
                "leave `spec.clusterIP` out (the allocated address stays), or recreate: `kubectl delete {t}`, then apply"
            )
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            "a new CRD (another group or plural) and a migration; deleting this one deletes every custom resource of it"
                .to_string()
        }
        _ => format!("recreate it: `kubectl delete {t}`, then apply"),
    }
}

/// A custom resource's change a transition rule of its CRD refuses.
pub fn pinned(id: &ResId) -> String {
    format!("keep the old value, or recreate: `kubectl delete {}`, then apply", target(id))
}

/// A value the server defaulted that the new manifest collides with.
pub fn defaulted(id: &ResId, field: &str, fix: Fix) -> String {
    match fix {
        Fix::Patch(patch) => format!(
            "clear `{field}` with the switch, once, before the apply: `kubectl patch {} --type=merge -p '{patch}'`",
            target(id)
        ),
        Fix::Set(value) => format!("set `{field}: {value}` in the manifest"),
    }
}

pub fn deletion(id: &ResId) -> String {
    format!("if still needed, keep {} `{}` in the repository", id.kind, id.name)
}

pub const NAMESPACE_DELETION: &str =
    "move what must survive to another namespace first, or keep the Namespace rendered";
pub const CRD_VERSION: &str =
    "keep the version served until no stored object uses it (`status.storedVersions`), then remove it";
pub const CRD_FIELD: &str = "keep the field in the schema until no object sets it (pruning drops its values)";
pub const RENAME: &str =
    "expect a gap between the deletion and the creation; keep the old name if the object holds state or is referenced";
pub const SCALE_TO_ZERO: &str = "if not intended, restore `spec.replicas`";
pub const PDB_LOST: &str = "update the PodDisruptionBudget's selector to the new pod labels";
