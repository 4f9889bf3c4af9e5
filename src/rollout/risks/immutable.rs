//! The API server's update validation (Kubernetes 1.36) as data: which fields of
//! which built-in kinds an update may not change, when, and the server's words.
//!
//! Learnt from the `ValidateXxxUpdate` functions of `pkg/apis/*/validation` and
//! checked against a real kube-apiserver v1.36.2: `tests/fixtures/risks/` holds the
//! update pairs and the server's recorded verdicts, and `tests/rollout_risks.rs`
//! requires [`refusals`] to name exactly the refused ones, with the server's field.
//! The risk table of docs/guide/rollout.md lists the same rules; keep the two in step.
//!
//! Values are compared as the server would hold them: a field the manifest leaves
//! out counts as its server default ([`Rule::default`]), and a Service's allocated
//! `clusterIP` stays when the manifest leaves it out.

use serde_json::Value;

/// When a rule applies, beyond "the value differs".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Any change of the field.
    Always,
    /// Only when the object is already `immutable: true` (ConfigMap, Secret).
    ImmutableSet,
    /// Job `spec.completions`: except an Indexed Job keeping `completions == parallelism`.
    JobCompletions,
    /// Job `spec.template`, unless it was created suspended (then only scheduling directives may change).
    JobTemplate,
    /// Service `spec.clusterIP(s)` set by the manifest to another address than the one held.
    ClusterIp,
    /// `spec` apart from the listed keys (StatefulSet, PersistentVolumeClaim, Pod).
    SpecExcept(&'static [&'static str]),
}

/// One rule of the server's update validation.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub group: &'static str,
    pub kind: &'static str,
    /// The field as the server names it in its refusal.
    pub field: &'static str,
    /// Where the value is in the manifest (JSON pointer).
    pub pointer: &'static str,
    /// The value the server fills in when the manifest leaves the field out (JSON).
    pub default: Option<&'static str>,
    pub when: When,
    /// The server's words (`field is immutable`).
    pub wording: &'static str,
}

const IMMUTABLE: &str = "field is immutable";
const WHEN_SET: &str = "field is immutable when `immutable` is set";

const fn rule(group: &'static str, kind: &'static str, field: &'static str, pointer: &'static str) -> Rule {
    Rule { group, kind, field, pointer, default: None, when: When::Always, wording: IMMUTABLE }
}

const fn with(r: Rule, when: When, wording: &'static str) -> Rule {
    Rule { when, wording, ..r }
}

const fn defaulted(r: Rule, default: &'static str) -> Rule {
    Rule { default: Some(default), ..r }
}

/// StatefulSet `spec` fields an update may change.
const STATEFULSET_MUTABLE: &[&str] = &[
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

/// PersistentVolumeClaim `spec` fields an update may change, besides `resources.requests`
/// (a bound claim's size; the server refuses it for a claim not yet bound).
const PVC_MUTABLE: &[&str] = &["volumeAttributesClassName"];

/// Pod `spec` fields an update may change (images are compared apart).
const POD_MUTABLE: &[&str] = &["activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"];

/// Every rule, by group and kind.
pub const RULES: &[Rule] = &[
    with(rule("", "ConfigMap", "data", "/data"), When::ImmutableSet, WHEN_SET),
    with(rule("", "ConfigMap", "binaryData", "/binaryData"), When::ImmutableSet, WHEN_SET),
    defaulted(with(rule("", "ConfigMap", "immutable", "/immutable"), When::ImmutableSet, WHEN_SET), "false"),
    with(rule("", "Secret", "data", "/data"), When::ImmutableSet, WHEN_SET),
    with(rule("", "Secret", "data", "/stringData"), When::ImmutableSet, WHEN_SET),
    defaulted(with(rule("", "Secret", "immutable", "/immutable"), When::ImmutableSet, WHEN_SET), "false"),
    defaulted(rule("", "Secret", "type", "/type"), "\"Opaque\""),
    with(rule("", "Service", "spec.clusterIPs[0]", "/spec/clusterIP"), When::ClusterIp, "may not change once set"),
    with(
        rule("", "PersistentVolumeClaim", "spec", "/spec"),
        When::SpecExcept(PVC_MUTABLE),
        "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
    ),
    with(
        rule("", "PersistentVolume", "spec.persistentvolumesource", "/spec"),
        When::SpecExcept(&[
            "accessModes",
            "capacity",
            "claimRef",
            "mountOptions",
            "nodeAffinity",
            "persistentVolumeReclaimPolicy",
            "storageClassName",
            "volumeAttributesClassName",
            "volumeMode",
        ]),
        "spec.persistentvolumesource is immutable after creation",
    ),
    with(
        rule("", "Pod", "spec", "/spec"),
        When::SpecExcept(POD_MUTABLE),
        "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, \
         `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), \
         `spec.terminationGracePeriodSeconds`",
    ),
    rule("apps", "Deployment", "spec.selector", "/spec/selector"),
    rule("apps", "ReplicaSet", "spec.selector", "/spec/selector"),
    rule("apps", "DaemonSet", "spec.selector", "/spec/selector"),
    with(
        rule("apps", "StatefulSet", "spec", "/spec"),
        When::SpecExcept(STATEFULSET_MUTABLE),
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', \
         'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
    rule("batch", "Job", "spec.selector", "/spec/selector"),
    with(rule("batch", "Job", "spec.template", "/spec/template"), When::JobTemplate, IMMUTABLE),
    with(rule("batch", "Job", "spec.completions", "/spec/completions"), When::JobCompletions, IMMUTABLE),
    defaulted(rule("batch", "Job", "spec.completionMode", "/spec/completionMode"), "\"NonIndexed\""),
    rule("batch", "Job", "spec.podFailurePolicy", "/spec/podFailurePolicy"),
    rule("batch", "Job", "spec.successPolicy", "/spec/successPolicy"),
    rule("batch", "Job", "spec.backoffLimitPerIndex", "/spec/backoffLimitPerIndex"),
    rule("batch", "Job", "spec.managedBy", "/spec/managedBy"),
    with(
        rule("rbac.authorization.k8s.io", "RoleBinding", "roleRef", "/roleRef"),
        When::Always,
        "cannot change roleRef",
    ),
    with(
        rule("rbac.authorization.k8s.io", "ClusterRoleBinding", "roleRef", "/roleRef"),
        When::Always,
        "cannot change roleRef",
    ),
    with(
        rule("scheduling.k8s.io", "PriorityClass", "value", "/value"),
        When::Always,
        "may not be changed in an update.",
    ),
    defaulted(
        rule("scheduling.k8s.io", "PriorityClass", "preemptionPolicy", "/preemptionPolicy"),
        "\"PreemptLowerPriority\"",
    ),
    rule("storage.k8s.io", "StorageClass", "provisioner", "/provisioner"),
    rule("storage.k8s.io", "StorageClass", "parameters", "/parameters"),
    defaulted(rule("storage.k8s.io", "StorageClass", "reclaimPolicy", "/reclaimPolicy"), "\"Delete\""),
    defaulted(rule("storage.k8s.io", "StorageClass", "volumeBindingMode", "/volumeBindingMode"), "\"Immediate\""),
    defaulted(rule("storage.k8s.io", "CSIDriver", "spec.attachedRequired", "/spec/attachRequired"), "true"),
    defaulted(
        rule("storage.k8s.io", "CSIDriver", "spec.volumeLifecycleModes", "/spec/volumeLifecycleModes"),
        "[\"Persistent\"]",
    ),
    rule("storage.k8s.io", "VolumeAttachment", "spec", "/spec"),
    rule("networking.k8s.io", "IngressClass", "spec.controller", "/spec/controller"),
    rule("node.k8s.io", "RuntimeClass", "handler", "/handler"),
    rule("discovery.k8s.io", "EndpointSlice", "addressType", "/addressType"),
    rule("apiextensions.k8s.io", "CustomResourceDefinition", "spec.scope", "/spec/scope"),
    rule("certificates.k8s.io", "CertificateSigningRequest", "spec", "/spec"),
    rule("resource.k8s.io", "ResourceClaim", "spec", "/spec"),
    rule("resource.k8s.io", "ResourceClaimTemplate", "spec", "/spec"),
];

/// A refused update: the rule and, for `spec`-wide rules, the keys that changed.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub rule: &'static Rule,
    /// The field the server names: the rule's, but `spec.template.spec` for a Job created suspended.
    pub field: &'static str,
    pub changed: Vec<String>,
}

/// The rules an update of one object from `b` to `a` breaks, in table order.
pub fn refusals(group: &str, kind: &str, b: &Value, a: &Value) -> Vec<Refusal> {
    let mut out: Vec<Refusal> = Vec::new();
    for rule in RULES.iter().filter(|r| r.group == group && r.kind == kind) {
        if out.iter().any(|r| r.rule.field == rule.field) {
            continue;
        }
        if let Some(changed) = breaks(rule, b, a) {
            let field = if rule.when == When::JobTemplate && suspended_at_creation(b) {
                "spec.template.spec"
            } else {
                rule.field
            };
            out.push(Refusal { rule, field, changed });
        }
    }
    out
}

/// `Some(changed keys)` when the update breaks the rule.
fn breaks(rule: &Rule, b: &Value, a: &Value) -> Option<Vec<String>> {
    let value = |v: &Value| -> Option<Value> {
        v.pointer(rule.pointer).filter(|v| !v.is_null()).cloned().or_else(|| rule.default.map(json))
    };
    let (vb, va) = (value(b), value(a));
    let differs = vb != va;
    let yes = |d: bool| d.then(Vec::new);
    match rule.when {
        When::Always => yes(differs),
        When::ImmutableSet => yes(differs && b.get("immutable") == Some(&Value::Bool(true))),
        When::JobCompletions => yes(differs && !(elastic(b) && elastic(a))),
        When::JobTemplate if suspended_at_creation(b) => yes(job_template_fixed(b) != job_template_fixed(a)),
        When::JobTemplate => yes(differs),
        When::ClusterIp => {
            let ip = |v: &Value| -> Option<Value> {
                let s = v.pointer("/spec/clusterIP").or_else(|| v.pointer("/spec/clusterIPs/0"))?;
                s.as_str().filter(|s| !s.is_empty()).map(|s| Value::String(s.into()))
            };
            let external = a.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName");
            // Left out, the allocated address stays; set, it must be the one held.
            yes(!external && ip(a).is_some() && ip(a) != ip(b))
        }
        When::SpecExcept(keys) => {
            let changed = spec_changes(rule.kind, vb.as_ref(), va.as_ref(), keys);
            (!changed.is_empty()).then_some(changed)
        }
    }
}

fn json(literal: &str) -> Value {
    serde_json::from_str(literal).expect("the table's defaults are JSON")
}

fn int(v: &Value, p: &str) -> Option<i64> {
    v.pointer(p).and_then(Value::as_i64)
}

/// An Indexed Job whose `completions` equals its `parallelism` (an elastic Job).
fn elastic(job: &Value) -> bool {
    job.pointer("/spec/completionMode").and_then(Value::as_str) == Some("Indexed")
        && int(job, "/spec/completions").is_some()
        && int(job, "/spec/completions") == int(job, "/spec/parallelism")
}

fn suspended_at_creation(job: &Value) -> bool {
    job.pointer("/spec/suspend") == Some(&Value::Bool(true))
}

/// A suspended Job's template without what may change while it waits: its labels and
/// annotations and the pods' scheduling directives.
fn job_template_fixed(job: &Value) -> Option<Value> {
    let mut t = job.pointer("/spec/template")?.clone();
    if let Some(t) = t.as_object_mut() {
        t.remove("metadata");
    }
    if let Some(spec) = t.get_mut("spec").and_then(Value::as_object_mut) {
        for k in ["nodeSelector", "tolerations", "affinity", "schedulingGates"] {
            spec.remove(k);
        }
    }
    Some(t)
}

/// The keys of `spec` outside `mutable` whose values differ (for a Pod, image changes aside).
fn spec_changes(kind: &str, b: Option<&Value>, a: Option<&Value>, mutable: &[&str]) -> Vec<String> {
    let strip = |v: Option<&Value>| -> serde_json::Map<String, Value> {
        let mut m = v.and_then(Value::as_object).cloned().unwrap_or_default();
        if kind == "PersistentVolumeClaim"
            && let Some(res) = m.get_mut("resources").and_then(Value::as_object_mut)
        {
            res.remove("requests");
            if res.is_empty() {
                m.remove("resources");
            }
        }
        if kind == "Pod" {
            for list in ["containers", "initContainers"] {
                for c in m.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
                    c.as_object_mut().map(|c| c.remove("image"));
                }
            }
        }
        m
    };
    let (b, a) = (strip(b), strip(a));
    let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    keys.into_iter().filter(|k| !mutable.contains(&k.as_str()) && b.get(*k) != a.get(*k)).cloned().collect()
}
