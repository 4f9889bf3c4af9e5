//! Kind order: which kinds of object apply before which, inside one phase.
//!
//! Three tiers, in this order:
//! 1. the kinds of Helm's install order ([`INSTALL_ORDER`]), in table order;
//! 2. other built-in kinds (API groups owned by Kubernetes), by kind name;
//! 3. custom resources (any other group, or a group that a CustomResourceDefinition
//!    of the same environment defines), by kind name, so that they follow the
//!    built-in objects (Services, Deployments, webhooks) that usually serve them.
//!
//! CustomResourceDefinitions and Namespaces are in the table too, but they never
//! meet other kinds inside a phase: they have phases of their own (see the parent module).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::manifest::Resource;

/// Helm's install order (`pkg/release/util/kind_sorter.go`, `InstallOrder`), kept as
/// data. Objects that others refer to come first: cluster policy and quotas, identities
/// and configuration, storage, access control, then the workloads that use all of them,
/// then what routes traffic to workloads, then the API extensions and webhooks that
/// would otherwise intercept the creation of everything before them.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass", // pods name it; must exist before any pod is scheduled
    "Namespace",     // holds everything namespaced
    "NetworkPolicy", // in force before the pods it restricts start
    "ResourceQuota", // quotas and limits apply at pod admission
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount", // pods refer to their identity, secrets and configuration
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass", // storage before the claims that bind to it
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole", // access control before the workloads that need it
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service", // before workloads, so their pods get the service's env vars
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler", // scales a workload that exists
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass", // routing after the services it routes to
    "Ingress",
    "APIService", // aggregated APIs and webhooks last: they intercept requests
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Where a kind sits in the kind order; smaller applies first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KindRank {
    /// Position in [`INSTALL_ORDER`].
    Table(usize),
    /// A built-in kind Helm's table does not list (`Lease`, `EndpointSlice`, ...).
    OtherBuiltIn,
    /// A custom resource.
    Custom,
}

impl KindRank {
    /// A short description for explanations.
    pub fn describe(self) -> &'static str {
        match self {
            KindRank::Table(_) => "Helm's install order",
            KindRank::OtherBuiltIn => "built-in kinds outside Helm's install order follow it, by name",
            KindRank::Custom => "custom resources follow built-in kinds, by name",
        }
    }
}

/// The API groups that CustomResourceDefinitions of an environment define.
pub fn crd_groups(resources: &[&Resource]) -> BTreeSet<String> {
    resources
        .iter()
        .filter(|r| is_crd(r))
        .filter_map(|r| r.body.pointer("/spec/group").and_then(Value::as_str).map(str::to_string))
        .collect()
}

pub fn is_crd(r: &Resource) -> bool {
    r.id.kind == "CustomResourceDefinition" && r.id.group == "apiextensions.k8s.io"
}

pub fn is_namespace(r: &Resource) -> bool {
    r.id.kind == "Namespace" && r.id.group.is_empty()
}

/// Whether `group` belongs to Kubernetes itself: the core group, the undotted
/// legacy groups (`apps`, `batch`, `extensions`, `policy`, `autoscaling`) and the
/// reserved `*.k8s.io` / `*.kubernetes.io` domains. A CustomResourceDefinition's
/// group must contain a dot, so an undotted group is never custom.
pub fn is_builtin_group(group: &str) -> bool {
    !group.contains('.') || group.ends_with(".k8s.io") || group.ends_with(".kubernetes.io")
}

/// The rank of `kind` in `group`, given the groups defined by CRDs of the same environment.
pub fn rank(group: &str, kind: &str, crd_groups: &BTreeSet<String>) -> KindRank {
    if crd_groups.contains(group) || !is_builtin_group(group) {
        return KindRank::Custom;
    }
    match INSTALL_ORDER.iter().position(|k| *k == kind) {
        Some(i) => KindRank::Table(i),
        None => KindRank::OtherBuiltIn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks() {
        let none = BTreeSet::new();
        let crds: BTreeSet<String> = ["gateway.networking.k8s.io".to_string()].into();
        let cases: &[(&str, &str, &BTreeSet<String>, KindRank)] = &[
            ("", "Namespace", &none, KindRank::Table(1)),
            ("", "ConfigMap", &none, KindRank::Table(10)),
            ("apps", "Deployment", &none, KindRank::Table(28)),
            ("extensions", "Ingress", &none, KindRank::Table(34)),
            ("coordination.k8s.io", "Lease", &none, KindRank::OtherBuiltIn),
            ("example.com", "Widget", &none, KindRank::Custom),
            // Knative's `Service` is not the core `Service`.
            ("serving.knative.dev", "Service", &none, KindRank::Custom),
            // A reserved group whose CRD ships in the environment is custom.
            ("gateway.networking.k8s.io", "Gateway", &crds, KindRank::Custom),
            ("gateway.networking.k8s.io", "Gateway", &none, KindRank::OtherBuiltIn),
        ];
        for (group, kind, crds, want) in cases {
            assert_eq!(rank(group, kind, crds), *want, "{group}/{kind}");
        }
    }

    #[test]
    fn table_keeps_helm_order() {
        let pos = |k: &str| INSTALL_ORDER.iter().position(|x| *x == k).unwrap();
        assert!(pos("ConfigMap") < pos("Deployment"));
        assert!(pos("ServiceAccount") < pos("Secret"));
        assert!(pos("Service") < pos("Deployment"));
        assert!(pos("Deployment") < pos("Ingress"));
        assert!(pos("Ingress") < pos("ValidatingWebhookConfiguration"));
        assert_eq!(INSTALL_ORDER.len(), 38);
    }
}
