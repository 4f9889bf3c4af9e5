//! Workloads: the built-in kinds that hold a pod template, and where.
//!
//! One table ([`WORKLOADS`]) that every stage reads: `check` finds the pod spec
//! it inspects, `patch` the pod specs whose references follow a rename,
//! `rollout` the containers whose images changed and the pod labels a
//! PodDisruptionBudget selects, and [`super::metadata`] the embedded object
//! metadata whose label values must be strings. A new command looks here
//! before it writes a match on kinds.
//!
//! A pod template is an object with `metadata` and `spec` (a PodSpec); a Pod is
//! its own template. Paths are key paths from the object's body; `*` stands for
//! every item of a list.

/// One kind that holds a pod template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// API group (`""` for the core group).
    pub group: &'static str,
    pub kind: &'static str,
    /// Key path of the pod template (`[]`: the object itself, a Pod).
    pub template: &'static [&'static str],
    /// Object metadata the kind embeds besides its pod template's (a CronJob's
    /// job template, a StatefulSet's volume claim templates).
    pub other_metadata: &'static [&'static [&'static str]],
    /// Its pods run until stopped (a Deployment's do, a Job's finish): such
    /// pods want probes.
    pub long_running: bool,
}

impl Workload {
    /// Key path of the pod spec (`spec/template/spec` for a Deployment).
    pub fn pod_spec(&self) -> Vec<&'static str> {
        self.template.iter().copied().chain(["spec"]).collect()
    }

    /// Key path of the pod template's labels (`spec/template/metadata/labels`).
    pub fn template_labels(&self) -> Vec<&'static str> {
        self.template.iter().copied().chain(["metadata", "labels"]).collect()
    }

    /// Every embedded object metadata in key order, so an outer object's comes
    /// before an inner one's (a CronJob's job template, then its pod template);
    /// none for a Pod, whose metadata is the object's own.
    pub fn embedded_metadata(&self) -> Vec<Vec<&'static str>> {
        let template = (!self.template.is_empty()).then(|| self.template.iter().copied().chain(["metadata"]).collect());
        let mut out: Vec<Vec<&'static str>> =
            template.into_iter().chain(self.other_metadata.iter().map(|p| p.to_vec())).collect();
        out.sort();
        out
    }
}

const TEMPLATE: &[&str] = &["spec", "template"];
const NONE: &[&[&str]] = &[];

/// Every built-in kind that holds a pod template. `extensions` served
/// Deployments, DaemonSets and ReplicaSets until Kubernetes 1.16; old manifests
/// still name it.
#[rustfmt::skip]
pub const WORKLOADS: &[Workload] = &[
    Workload { group: "", kind: "Pod", template: &[], other_metadata: NONE, long_running: false },
    Workload { group: "", kind: "PodTemplate", template: &["template"], other_metadata: NONE, long_running: false },
    Workload { group: "", kind: "ReplicationController", template: TEMPLATE, other_metadata: NONE, long_running: true },
    Workload { group: "apps", kind: "Deployment", template: TEMPLATE, other_metadata: NONE, long_running: true },
    Workload { group: "apps", kind: "ReplicaSet", template: TEMPLATE, other_metadata: NONE, long_running: true },
    Workload { group: "apps", kind: "DaemonSet", template: TEMPLATE, other_metadata: NONE, long_running: true },
    Workload {
        group: "apps", kind: "StatefulSet", template: TEMPLATE,
        other_metadata: &[&["spec", "volumeClaimTemplates", "*", "metadata"]], long_running: true,
    },
    Workload { group: "extensions", kind: "Deployment", template: TEMPLATE, other_metadata: NONE, long_running: true },
    Workload { group: "extensions", kind: "ReplicaSet", template: TEMPLATE, other_metadata: NONE, long_running: true },
    Workload { group: "extensions", kind: "DaemonSet", template: TEMPLATE, other_metadata: NONE, long_running: true },
    Workload { group: "batch", kind: "Job", template: TEMPLATE, other_metadata: NONE, long_running: false },
    Workload {
        group: "batch", kind: "CronJob", template: &["spec", "jobTemplate", "spec", "template"],
        other_metadata: &[&["spec", "jobTemplate", "metadata"]], long_running: false,
    },
];

/// The workload of `group` and `kind`; `None` for any other kind (a custom
/// resource named `Deployment` in another group is not one).
pub fn find(group: &str, kind: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.group == group && w.kind == kind)
}

/// The first workload named `kind` in any group, for tables that, like
/// kustomize's, name referrers by kind alone.
pub fn find_kind(kind: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.kind == kind)
}

/// The distinct pod spec paths of the table, for objects outside it that embed
/// a pod template the same way (a custom resource such as an Argo Rollout).
pub fn pod_spec_paths() -> Vec<Vec<&'static str>> {
    let mut out: Vec<Vec<&'static str>> = Vec::new();
    for w in WORKLOADS {
        let p = w.pod_spec();
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_each_shape() {
        let cases: &[(&str, &str, &str, &str, &[&str])] = &[
            ("", "Pod", "spec", "metadata.labels", &[]),
            ("", "PodTemplate", "template.spec", "template.metadata.labels", &["template.metadata"]),
            ("apps", "Deployment", "spec.template.spec", "spec.template.metadata.labels", &["spec.template.metadata"]),
            (
                "apps",
                "StatefulSet",
                "spec.template.spec",
                "spec.template.metadata.labels",
                &["spec.template.metadata", "spec.volumeClaimTemplates.*.metadata"],
            ),
            (
                "batch",
                "CronJob",
                "spec.jobTemplate.spec.template.spec",
                "spec.jobTemplate.spec.template.metadata.labels",
                &["spec.jobTemplate.metadata", "spec.jobTemplate.spec.template.metadata"],
            ),
        ];
        for (group, kind, spec, labels, metadata) in cases {
            let w = find(group, kind).unwrap_or_else(|| panic!("{group}/{kind}"));
            assert_eq!(w.pod_spec().join("."), *spec, "{kind}");
            assert_eq!(w.template_labels().join("."), *labels, "{kind}");
            let got: Vec<String> = w.embedded_metadata().iter().map(|p| p.join(".")).collect();
            assert_eq!(got, *metadata, "{kind}");
        }
    }

    #[test]
    fn group_and_kind_both_count() {
        assert!(find("example.com", "Deployment").is_none());
        assert!(find("apps", "Job").is_none());
        assert_eq!(find("extensions", "DaemonSet").map(|w| w.long_running), Some(true));
        assert_eq!(find_kind("CronJob").map(|w| w.group), Some("batch"));
        assert_eq!(find_kind("Service"), None);
    }

    #[test]
    fn one_row_per_group_and_kind() {
        for (i, a) in WORKLOADS.iter().enumerate() {
            assert!(!WORKLOADS[..i].iter().any(|b| a.group == b.group && a.kind == b.kind), "{}/{}", a.group, a.kind);
        }
    }

    #[test]
    fn distinct_pod_spec_paths() {
        let paths: Vec<String> = pod_spec_paths().iter().map(|p| p.join("/")).collect();
        assert_eq!(paths, ["spec", "template/spec", "spec/template/spec", "spec/jobTemplate/spec/template/spec"]);
    }
}
