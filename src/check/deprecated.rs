//! apiVersions removed or deprecated, by Kubernetes version.
//!
//! Source: the Kubernetes deprecated API migration guide,
//! <https://kubernetes.io/docs/reference/using-api/deprecation-guide/> (removals in
//! v1.16, v1.22, v1.25, v1.26, v1.27, v1.29, v1.32), and the v1.33 release notes for the
//! deprecation of `v1` Endpoints. A row applies to one kind at one apiVersion.

use super::config::KubeVersion;

/// One deprecated apiVersion of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deprecation {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// The minor version (of 1.x) that deprecated it.
    pub deprecated_in: u32,
    /// The minor version that stopped serving it, if any has.
    pub removed_in: Option<u32>,
    /// What to use instead (an apiVersion, or a sentence when there is none).
    pub replacement: &'static str,
}

const fn row(
    api_version: &'static str,
    kind: &'static str,
    deprecated_in: u32,
    removed_in: u32,
    replacement: &'static str,
) -> Deprecation {
    Deprecation { api_version, kind, deprecated_in, removed_in: Some(removed_in), replacement }
}

#[rustfmt::skip]
pub const TABLE: &[Deprecation] = &[
    // v1.16
    row("extensions/v1beta1", "DaemonSet", 9, 16, "apps/v1"),
    row("apps/v1beta2", "DaemonSet", 9, 16, "apps/v1"),
    row("extensions/v1beta1", "Deployment", 9, 16, "apps/v1"),
    row("apps/v1beta1", "Deployment", 9, 16, "apps/v1"),
    row("apps/v1beta2", "Deployment", 9, 16, "apps/v1"),
    row("extensions/v1beta1", "ReplicaSet", 9, 16, "apps/v1"),
    row("apps/v1beta1", "ReplicaSet", 9, 16, "apps/v1"),
    row("apps/v1beta2", "ReplicaSet", 9, 16, "apps/v1"),
    row("apps/v1beta1", "StatefulSet", 9, 16, "apps/v1"),
    row("apps/v1beta2", "StatefulSet", 9, 16, "apps/v1"),
    row("extensions/v1beta1", "NetworkPolicy", 9, 16, "networking.k8s.io/v1"),
    row("extensions/v1beta1", "PodSecurityPolicy", 10, 16, "policy/v1beta1"),
    // v1.22
    row("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", 16, 22, "admissionregistration.k8s.io/v1"),
    row("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", 16, 22, "admissionregistration.k8s.io/v1"),
    row("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", 16, 22, "apiextensions.k8s.io/v1"),
    row("apiregistration.k8s.io/v1beta1", "APIService", 19, 22, "apiregistration.k8s.io/v1"),
    row("authentication.k8s.io/v1beta1", "TokenReview", 19, 22, "authentication.k8s.io/v1"),
    row("authorization.k8s.io/v1beta1", "SubjectAccessReview", 19, 22, "authorization.k8s.io/v1"),
    row("authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", 19, 22, "authorization.k8s.io/v1"),
    row("authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", 19, 22, "authorization.k8s.io/v1"),
    row("certificates.k8s.io/v1beta1", "CertificateSigningRequest", 19, 22, "certificates.k8s.io/v1"),
    row("coordination.k8s.io/v1beta1", "Lease", 19, 22, "coordination.k8s.io/v1"),
    row("extensions/v1beta1", "Ingress", 14, 22, "networking.k8s.io/v1"),
    row("networking.k8s.io/v1beta1", "Ingress", 19, 22, "networking.k8s.io/v1"),
    row("networking.k8s.io/v1beta1", "IngressClass", 19, 22, "networking.k8s.io/v1"),
    row("rbac.authorization.k8s.io/v1beta1", "ClusterRole", 17, 22, "rbac.authorization.k8s.io/v1"),
    row("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", 17, 22, "rbac.authorization.k8s.io/v1"),
    row("rbac.authorization.k8s.io/v1beta1", "Role", 17, 22, "rbac.authorization.k8s.io/v1"),
    row("rbac.authorization.k8s.io/v1beta1", "RoleBinding", 17, 22, "rbac.authorization.k8s.io/v1"),
    row("scheduling.k8s.io/v1beta1", "PriorityClass", 14, 22, "scheduling.k8s.io/v1"),
    row("storage.k8s.io/v1beta1", "CSIDriver", 19, 22, "storage.k8s.io/v1"),
    row("storage.k8s.io/v1beta1", "CSINode", 17, 22, "storage.k8s.io/v1"),
    row("storage.k8s.io/v1beta1", "StorageClass", 19, 22, "storage.k8s.io/v1"),
    row("storage.k8s.io/v1beta1", "VolumeAttachment", 19, 22, "storage.k8s.io/v1"),
    // v1.25
    row("batch/v1beta1", "CronJob", 21, 25, "batch/v1"),
    row("discovery.k8s.io/v1beta1", "EndpointSlice", 21, 25, "discovery.k8s.io/v1"),
    row("events.k8s.io/v1beta1", "Event", 19, 25, "events.k8s.io/v1"),
    row("autoscaling/v2beta1", "HorizontalPodAutoscaler", 22, 25, "autoscaling/v2"),
    row("policy/v1beta1", "PodDisruptionBudget", 21, 25, "policy/v1"),
    row("policy/v1beta1", "PodSecurityPolicy", 21, 25, "none: use Pod Security Admission or a policy engine"),
    row("node.k8s.io/v1beta1", "RuntimeClass", 20, 25, "node.k8s.io/v1"),
    // v1.26
    row("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", 23, 26, "flowcontrol.apiserver.k8s.io/v1"),
    row("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", 23, 26, "flowcontrol.apiserver.k8s.io/v1"),
    row("autoscaling/v2beta2", "HorizontalPodAutoscaler", 23, 26, "autoscaling/v2"),
    // v1.27
    row("storage.k8s.io/v1beta1", "CSIStorageCapacity", 24, 27, "storage.k8s.io/v1"),
    // v1.29
    row("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", 26, 29, "flowcontrol.apiserver.k8s.io/v1"),
    row("flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", 26, 29, "flowcontrol.apiserver.k8s.io/v1"),
    // v1.32
    row("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", 29, 32, "flowcontrol.apiserver.k8s.io/v1"),
    row("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", 29, 32, "flowcontrol.apiserver.k8s.io/v1"),
    // Deprecated, still served.
    Deprecation { api_version: "v1", kind: "Endpoints", deprecated_in: 33, removed_in: None, replacement: "discovery.k8s.io/v1 EndpointSlice" },
    Deprecation { api_version: "v1", kind: "ComponentStatus", deprecated_in: 19, removed_in: None, replacement: "none: query the components' health endpoints" },
];

/// What the table says about an apiVersion and kind at a Kubernetes version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Removed(&'static Deprecation),
    Deprecated(&'static Deprecation),
}

pub fn status(api_version: &str, kind: &str, at: KubeVersion) -> Option<Status> {
    let row = TABLE.iter().find(|r| r.api_version == api_version && r.kind == kind)?;
    if at.major > 1 || row.removed_in.is_some_and(|r| at.minor >= r) {
        return Some(Status::Removed(row));
    }
    (at.minor >= row.deprecated_in).then_some(Status::Deprecated(row))
}

/// Whether the table lists this apiVersion and kind at all (removed at some version).
pub fn is_listed_removed(api_version: &str, kind: &str) -> bool {
    TABLE.iter().any(|r| r.api_version == api_version && r.kind == kind && r.removed_in.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(minor: u32) -> KubeVersion {
        KubeVersion { major: 1, minor }
    }

    #[test]
    fn removed_deprecated_or_fine() {
        assert!(
            matches!(status("policy/v1beta1", "PodDisruptionBudget", v(33)), Some(Status::Removed(r)) if r.replacement == "policy/v1")
        );
        assert!(matches!(status("policy/v1beta1", "PodDisruptionBudget", v(22)), Some(Status::Deprecated(_))));
        assert_eq!(status("policy/v1beta1", "PodDisruptionBudget", v(20)), None);
        assert_eq!(status("apps/v1", "Deployment", v(33)), None);
        assert!(matches!(status("v1", "Endpoints", v(33)), Some(Status::Deprecated(_))));
    }

    #[test]
    fn removed_rows_are_not_served_by_the_builtin_schemas() {
        let defs = super::super::openapi::Definitions::builtin();
        for r in TABLE.iter().filter(|r| r.removed_in.is_some()) {
            let (g, ver) = r.api_version.rsplit_once('/').unwrap_or(("", r.api_version));
            assert!(defs.kind(g, ver, r.kind).is_none(), "{} {} is still served", r.api_version, r.kind);
        }
    }
}
