//! Names and namespaces: `namespace`, `namePrefix`, `nameSuffix`, and the
//! references between objects that must follow a rename.
//!
//! In: the resources being transformed, each with the identities it had before
//! (see [`Item`]). Out: the same resources renamed or moved, and, once every other
//! transformer has run, every reference to a renamed or moved object rewritten
//! ([`fix_references`]): a Deployment mounting ConfigMap `app` mounts `prod-app`
//! after `namePrefix: prod-`. Like kustomize, a reference is rewritten only when it
//! names, by its old name, exactly one renamed object of the right kind that the
//! referrer can see (same namespace, or cluster-scoped); where the reference is ambiguous
//! it is an error.

use serde_json::Value;

use super::fields::{Missing, Segment, parse_path, visit};
use super::{Ident, Item};
use crate::manifest;

/// Kinds `namePrefix` / `nameSuffix` never rename (group, kind; empty group = any).
const UNRENAMED: &[(&str, &str)] =
    &[("", "CustomResourceDefinition"), ("apiregistration.k8s.io", "APIService"), ("", "Namespace")];

/// Sets every namespaced object's namespace, as kustomize's `namespace:` does: a
/// `Namespace` object takes the new name, an APIService's and a CRD conversion
/// webhook's service follow, and (Cluster)RoleBinding subjects named `default` move.
pub fn set_namespace(items: &mut [Item], ns: &str, crds: &[crate::manifest::Resource]) -> Result<(), String> {
    for item in items.iter_mut() {
        item.remember();
        let id = item.ident();
        let core_v1 = item.res.api_version() == "v1";
        let body = &mut item.res.body;
        if id.kind == "Namespace" && core_v1 {
            set_string(body, &["metadata", "name"], ns);
        }
        if !manifest::is_cluster_scoped(&id.group, &id.kind, crds) {
            set_string(body, &["metadata", "namespace"], ns);
        }
        if id.group == "apiregistration.k8s.io" && id.kind == "APIService" {
            visit(body, &parse_path("spec/service/namespace"), Missing::Create, &mut |v| {
                *v = Value::String(ns.to_string());
                Ok(())
            })?;
        }
        if id.group == "apiextensions.k8s.io" && id.kind == "CustomResourceDefinition" {
            visit(
                body,
                &parse_path("spec/conversion/webhook/clientConfig/service/namespace"),
                Missing::Skip,
                &mut |v| {
                    *v = Value::String(ns.to_string());
                    Ok(())
                },
            )?;
        }
        if (id.kind == "RoleBinding" || id.kind == "ClusterRoleBinding")
            && let Some(Value::Array(subjects)) = body.get_mut("subjects")
        {
            for s in subjects.iter_mut() {
                if s.get("name").and_then(Value::as_str) == Some("default")
                    && let Some(m) = s.as_object_mut()
                {
                    m.insert("namespace".into(), Value::String(ns.to_string()));
                }
            }
        }
    }
    Ok(())
}

fn set_string(body: &mut Value, path: &[&str], value: &str) {
    let mut cur = body;
    for (i, p) in path.iter().enumerate() {
        let Value::Object(m) = cur else { return };
        if i + 1 == path.len() {
            m.insert(p.to_string(), Value::String(value.to_string()));
            return;
        }
        cur = m.entry(p.to_string()).or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
}

/// Adds `prefix` and `suffix` to every name kustomize would rename.
pub fn add_prefix_suffix(items: &mut [Item], prefix: &str, suffix: &str) {
    for item in items.iter_mut() {
        let org = item.original();
        if UNRENAMED.iter().any(|(g, k)| (g.is_empty() || *g == org.group) && *k == org.kind) {
            continue;
        }
        for (affix, is_prefix) in [(prefix, true), (suffix, false)] {
            if affix.is_empty() {
                continue;
            }
            item.remember();
            let name = item.ident().name;
            let new = if is_prefix { format!("{affix}{name}") } else { format!("{name}{affix}") };
            set_string(&mut item.res.body, &["metadata", "name"], &new);
        }
    }
}

/// One kind of reference: objects of `referrer` kind hold, at `path`, the name of an
/// object of `referral` kind. (group, kind) pairs; an empty group matches any group.
struct RefRule {
    referral: (&'static str, &'static str),
    referrer: (&'static str, &'static str),
    path: Vec<Segment>,
}

/// Kustomize's reference table, by referral kind: the workloads whose pod specs may
/// name it, the paths inside a pod spec, then references outside pod specs.
/// (Kustomize's own table leaves ReplicationControllers out for ConfigMaps and Secrets,
/// and ReplicaSets and PodTemplates out for the rest; so does this one.)
#[rustfmt::skip]
const POD_REFERENCES: &[(&str, &str, &[&str], &[&str])] = &[
    ("", "ConfigMap",
        &["Pod", "PodTemplate", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob"],
        &["volumes/configMap/name", "containers/env/valueFrom/configMapKeyRef/name",
          "initContainers/env/valueFrom/configMapKeyRef/name", "containers/envFrom/configMapRef/name",
          "initContainers/envFrom/configMapRef/name", "volumes/projected/sources/configMap/name"]),
    ("", "Secret",
        &["Pod", "PodTemplate", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob"],
        &["volumes/secret/secretName", "containers/env/valueFrom/secretKeyRef/name",
          "initContainers/env/valueFrom/secretKeyRef/name", "containers/envFrom/secretRef/name",
          "initContainers/envFrom/secretRef/name", "imagePullSecrets/name",
          "volumes/projected/sources/secret/name"]),
    ("", "ServiceAccount",
        &["Pod", "Deployment", "DaemonSet", "StatefulSet", "Job", "ReplicationController", "CronJob"],
        &["serviceAccountName"]),
    ("", "PersistentVolumeClaim",
        &["Pod", "Deployment", "DaemonSet", "StatefulSet", "Job", "ReplicationController", "CronJob"],
        &["volumes/persistentVolumeClaim/claimName"]),
    ("scheduling.k8s.io", "PriorityClass",
        &["Pod", "Deployment", "DaemonSet", "StatefulSet", "Job", "ReplicationController", "CronJob"],
        &["priorityClassName"]),
];

/// (referral group, referral kind, referrer group, referrer kind, path)
#[rustfmt::skip]
const OTHER_REFERENCES: &[(&str, &str, &str, &str, &str)] = &[
    ("", "ConfigMap", "", "Node", "spec/configSource/configMap"),
    ("", "ConfigMap", "", "Role", "rules/resourceNames"),
    ("", "ConfigMap", "", "ClusterRole", "rules/resourceNames"),
    ("", "ConfigMap", "", "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap"),
    ("", "Secret", "", "Ingress", "spec/tls/secretName"),
    ("", "Secret", "", "Ingress", "metadata/annotations/ingress.kubernetes.io\\/auth-secret"),
    ("", "Secret", "", "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret"),
    ("", "Secret", "", "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret"),
    ("", "Secret", "", "ServiceAccount", "imagePullSecrets/name"),
    ("", "Secret", "", "StorageClass", "parameters/secretName"),
    ("", "Secret", "", "StorageClass", "parameters/adminSecretName"),
    ("", "Secret", "", "StorageClass", "parameters/userSecretName"),
    ("", "Secret", "", "StorageClass", "parameters/secretRef"),
    ("", "Secret", "", "Role", "rules/resourceNames"),
    ("", "Secret", "", "ClusterRole", "rules/resourceNames"),
    ("", "Secret", "serving.knative.dev", "Service", "spec/template/spec/containers/env/valueFrom/secretKeyRef/name"),
    ("", "Secret", "", "PersistentVolume", "spec/azureFile/secretName"),
    ("", "Service", "apps", "StatefulSet", "spec/serviceName"),
    ("", "Service", "", "Ingress", "spec/rules/http/paths/backend/serviceName"),
    ("", "Service", "", "Ingress", "spec/backend/serviceName"),
    ("", "Service", "", "Ingress", "spec/rules/http/paths/backend/service/name"),
    ("", "Service", "", "Ingress", "spec/defaultBackend/service/name"),
    ("", "Service", "apiregistration.k8s.io", "APIService", "spec/service/name"),
    ("", "Service", "admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "webhooks/clientConfig/service"),
    ("", "Service", "admissionregistration.k8s.io", "MutatingWebhookConfiguration", "webhooks/clientConfig/service"),
    ("rbac.authorization.k8s.io", "Role", "rbac.authorization.k8s.io", "RoleBinding", "roleRef/name"),
    ("rbac.authorization.k8s.io", "ClusterRole", "rbac.authorization.k8s.io", "RoleBinding", "roleRef/name"),
    ("rbac.authorization.k8s.io", "ClusterRole", "rbac.authorization.k8s.io", "ClusterRoleBinding", "roleRef/name"),
    ("", "ServiceAccount", "rbac.authorization.k8s.io", "RoleBinding", "subjects"),
    ("", "ServiceAccount", "rbac.authorization.k8s.io", "ClusterRoleBinding", "subjects"),
    ("", "PersistentVolume", "", "PersistentVolumeClaim", "spec/volumeName"),
    ("", "PersistentVolume", "", "ClusterRole", "rules/resourceNames"),
    ("storage.k8s.io", "StorageClass", "", "PersistentVolume", "spec/storageClassName"),
    ("storage.k8s.io", "StorageClass", "", "PersistentVolumeClaim", "spec/storageClassName"),
    ("storage.k8s.io", "StorageClass", "", "StatefulSet", "spec/volumeClaimTemplates/spec/storageClassName"),
    ("", "Deployment", "", "HorizontalPodAutoscaler", "spec/scaleTargetRef/name"),
    ("", "ReplicationController", "", "HorizontalPodAutoscaler", "spec/scaleTargetRef/name"),
    ("", "ReplicaSet", "", "HorizontalPodAutoscaler", "spec/scaleTargetRef/name"),
    ("", "StatefulSet", "", "HorizontalPodAutoscaler", "spec/scaleTargetRef/name"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy", "admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", "spec/policyName"),
];

fn rules() -> &'static [RefRule] {
    static RULES: std::sync::OnceLock<Vec<RefRule>> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        let mut out = Vec::new();
        for (rg, rk, workloads, paths) in POD_REFERENCES {
            for w in *workloads {
                // Referrers by kind alone, as in kustomize's table.
                let at = manifest::workloads::find_kind(w).expect("a workload of the table").pod_spec().join("/");
                for p in *paths {
                    out.push(RefRule { referral: (rg, rk), referrer: ("", w), path: parse_path(&format!("{at}/{p}")) });
                }
            }
        }
        for (rg, rk, fg, fk, p) in OTHER_REFERENCES {
            out.push(RefRule { referral: (rg, rk), referrer: (fg, fk), path: parse_path(p) });
        }
        out
    })
}

fn kind_matches(want: (&str, &str), group: &str, kind: &str) -> bool {
    (want.0.is_empty() || want.0 == group) && want.1 == kind
}

/// A renamed or moved object that references may point at.
struct Referral {
    prev: Vec<Ident>,
    cur: Ident,
    cluster_scoped: bool,
}

/// Rewrites references to objects this kustomization renamed or moved.
pub fn fix_references(items: &mut [Item], crds: &[crate::manifest::Resource]) -> Result<(), String> {
    let referrals: Vec<Referral> = items
        .iter()
        .filter(|it| !it.prev.is_empty())
        .map(|it| {
            let cur = it.ident();
            Referral {
                prev: it.prev.clone(),
                cluster_scoped: manifest::is_cluster_scoped(&cur.group, &cur.kind, crds),
                cur,
            }
        })
        .collect();
    if referrals.is_empty() {
        return Ok(());
    }
    for item in items.iter_mut() {
        let org = item.original();
        let me = item.ident();
        let me_cluster = manifest::is_cluster_scoped(&me.group, &me.kind, crds);
        let me_ns = effective_ns(&me.namespace, me_cluster);
        for rule in rules().iter().filter(|r| kind_matches(r.referrer, &org.group, &org.kind)) {
            // A roleRef names a Role or a ClusterRole: only objects of the kind it says.
            let role_ref = (rule.path.len() == 2 && rule.path[0].name == "roleRef").then(|| {
                let r = item.res.body.get("roleRef");
                let s = |k: &str| r.and_then(|r| r.get(k)).and_then(Value::as_str).unwrap_or("").to_string();
                (s("apiGroup"), s("kind"))
            });
            // The renamed objects of the rule's kind this referrer can see: in its
            // namespace, cluster-scoped, or (as kustomize allows) any ServiceAccount.
            let candidates: Vec<&Referral> = referrals
                .iter()
                .filter(|r| r.prev.iter().any(|p| kind_matches(rule.referral, &p.group, &p.kind)))
                .filter(|r| match &role_ref {
                    Some((g, k)) => r.prev.iter().any(|p| p.group == *g && p.kind == *k),
                    None => true,
                })
                .filter(|r| {
                    me_cluster
                        || r.cluster_scoped
                        || r.cur.kind == "ServiceAccount"
                        || namespace_or_default(&r.cur.namespace) == me_ns
                })
                .collect();
            if candidates.is_empty() {
                continue;
            }
            visit(&mut item.res.body, &rule.path, Missing::Skip, &mut |node| match node {
                Value::String(_) => rewrite_scalar(node, &candidates),
                Value::Object(_) => rewrite_mapping(node, &candidates),
                _ => Ok(()),
            })
            .map_err(|e| format!("{e} (reference at `{}` in `{}`)", super::fields::display_path(&rule.path), me))?;
        }
    }
    Ok(())
}

/// `default` for an empty namespace, a marker for cluster-scoped objects.
pub fn effective_ns(ns: &str, cluster_scoped: bool) -> String {
    if cluster_scoped { "~cluster".to_string() } else { namespace_or_default(ns) }
}

/// The namespace of a namespaced object: `default` when it names none.
pub fn namespace_or_default(ns: &str) -> String {
    if ns.is_empty() { "default".to_string() } else { ns.to_string() }
}

fn pick<'a>(old: &str, candidates: &[&'a Referral]) -> Result<Option<&'a Referral>, String> {
    let found: Vec<&Referral> = candidates.iter().copied().filter(|r| r.prev.iter().any(|p| p.name == old)).collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(Some(found[0])),
        _ if found.iter().all(|r| r.cur.name == found[0].cur.name && r.cur.namespace == found[0].cur.namespace) => {
            Ok(Some(found[0]))
        }
        _ => Err(format!(
            "`{old}` could refer to several renamed objects: {}",
            found.iter().map(|r| format!("`{}`", r.cur)).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn rewrite_scalar(node: &mut Value, candidates: &[&Referral]) -> Result<(), String> {
    let Value::String(old) = node else { return Ok(()) };
    if let Some(r) = pick(old, candidates)? {
        *node = Value::String(r.cur.name.clone());
    }
    Ok(())
}

/// A `{name, namespace}` reference (RoleBinding subjects, webhook services).
fn rewrite_mapping(node: &mut Value, candidates: &[&Referral]) -> Result<(), String> {
    let Some(old) = node.get("name").and_then(Value::as_str).map(str::to_string) else { return Ok(()) };
    let in_ns: Vec<&Referral> = match node.get("namespace").and_then(Value::as_str) {
        None => candidates.to_vec(),
        Some(ns) => {
            let want = namespace_or_default(ns);
            let by_original: Vec<&Referral> = candidates
                .iter()
                .copied()
                .filter(|r| r.prev.first().is_some_and(|p| namespace_or_default(&p.namespace) == want))
                .collect();
            if by_original.is_empty() {
                candidates.iter().copied().filter(|r| namespace_or_default(&r.cur.namespace) == want).collect()
            } else {
                by_original
            }
        }
    };
    let Some(r) = pick(&old, &in_ns)? else { return Ok(()) };
    let Value::Object(m) = node else { return Ok(()) };
    if r.cur.name == old && r.cur.namespace.is_empty() {
        return Ok(());
    }
    m.insert("name".into(), Value::String(r.cur.name.clone()));
    if !r.cur.namespace.is_empty() {
        m.insert("namespace".into(), Value::String(r.cur.namespace.clone()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_spec_references_follow_the_workloads_table() {
        let paths = |kind: &str| -> Vec<String> {
            rules()
                .iter()
                .filter(|r| r.referrer.1 == kind && r.referral.1 == "ServiceAccount")
                .map(|r| super::super::fields::display_path(&r.path))
                .collect()
        };
        assert_eq!(paths("CronJob"), ["spec.jobTemplate.spec.template.spec.serviceAccountName"]);
        assert_eq!(paths("Pod"), ["spec.serviceAccountName"]);
        assert_eq!(paths("StatefulSet"), ["spec.template.spec.serviceAccountName"]);
    }
}
