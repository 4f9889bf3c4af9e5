//! `server-validation`, continued: what the API server's create-time validation (the
//! `ValidateXxx` functions of `pkg/apis/*/validation`, Kubernetes 1.36) requires in code
//! while the OpenAPI leaves it optional: containers and images, a Service's ports, a
//! PersistentVolume's source, a ValidatingAdmissionPolicy's validations, RBAC subjects,
//! webhook names, APIService priorities, ConfigMap and Secret keys (and those a Secret
//! `type` requires), claims' access modes and storage, RBAC rules, Ingress paths, and a
//! few cross-field rules. Fields and words are the server's; `tests/fixtures/create/` holds objects that
//! break each rule and valid twins, with the verdicts kube-apiserver v1.36.2 gave.

use serde_json::{Map, Value};

use super::practices::containers;
use super::{FieldPath, Found};
use crate::manifest::{Resource, names};

const RULE: &str = "server-validation";

fn err(field: FieldPath, msg: impl Into<String>) -> Found {
    Found::error(RULE, field, msg)
}

fn at(keys: &[&str]) -> FieldPath {
    FieldPath::root().join(keys)
}

fn items(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn has(v: Option<&Value>) -> bool {
    v.is_some_and(|v| !v.is_null())
}

/// Every finding of these rules for one object.
pub fn check(r: &Resource, out: &mut Vec<Found>) {
    let b = &r.body;
    match (r.id.group.as_str(), r.id.kind.as_str()) {
        ("", "Service") => service(b, out),
        ("", "PersistentVolume") => persistent_volume(b, out),
        ("", "PersistentVolumeClaim") => claim(b.get("spec"), &at(&["spec"]), out),
        ("", "ConfigMap") => config_keys(b, out),
        ("", "Secret") => {
            config_keys(b, out);
            secret_type(b, out)
        }
        ("apps", "Deployment") => deployment(b, out),
        ("apps", "StatefulSet") => {
            for (i, t) in items(b.pointer("/spec/volumeClaimTemplates")).iter().enumerate() {
                claim(t.get("spec"), &at(&["spec", "volumeClaimTemplates"]).index(i).join(&["spec"]), out);
            }
        }
        ("scheduling.k8s.io", "PriorityClass") => priority_class(r, out),
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => policy_rules(b, r.id.kind == "Role", out),
        ("policy", "PodDisruptionBudget") => pdb(b, out),
        ("networking.k8s.io", "Ingress") => {
            ingress(b, out);
            ingress_paths(b, out)
        }
        ("networking.k8s.io", "IngressClass") => ingress_class(b, out),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            subjects(b, r.id.kind == "ClusterRoleBinding", out)
        }
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration") => {
            webhooks(b, out)
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => admission_policy(b, out),
        ("apiregistration.k8s.io", "APIService") => api_service(b, out),
        _ => {}
    }
}

fn pdb(b: &Value, out: &mut Vec<Found>) {
    if has(b.pointer("/spec/minAvailable")) && has(b.pointer("/spec/maxUnavailable")) {
        out.push(err(at(&["spec"]), "minAvailable and maxUnavailable cannot be both set"));
    }
}

fn ingress(b: &Value, out: &mut Vec<Found>) {
    if !has(b.pointer("/spec/defaultBackend")) && items(b.pointer("/spec/rules")).is_empty() {
        out.push(err(at(&["spec"]), "either `defaultBackend` or `rules` must be specified"));
    }
}

fn admission_policy(b: &Value, out: &mut Vec<Found>) {
    if items(b.pointer("/spec/validations")).is_empty() && items(b.pointer("/spec/auditAnnotations")).is_empty() {
        let m = "validations or auditAnnotations must contain at least one item";
        out.push(err(at(&["spec", "validations"]), m));
        out.push(err(at(&["spec", "auditAnnotations"]), m));
    }
}

/// A pod spec's containers (at least one), their images, probes and resources.
pub fn pod(path: &FieldPath, spec: &Map<String, Value>, out: &mut Vec<Found>) {
    if items(spec.get("containers")).is_empty() {
        out.push(err(path.join(&["containers"]), "a pod needs at least one container"));
    }
    for c in containers(path, spec) {
        if c.body.get("image").and_then(Value::as_str).is_none_or(|i| i.trim().is_empty()) {
            out.push(err(c.path.join(&["image"]), "an image is required"));
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            let Some(p) = c.body.get(probe).and_then(Value::as_object) else { continue };
            if !["exec", "httpGet", "tcpSocket", "grpc"].iter().any(|h| has(p.get(*h))) {
                out.push(err(c.path.join(&[probe]), "must specify a handler type"));
            }
        }
        requests_within_limits(c.body, &c.path, out);
        for (i, e) in items(c.body.get("env")).iter().enumerate() {
            if e.get("value").and_then(Value::as_str).is_some_and(|v| !v.is_empty()) && has(e.get("valueFrom")) {
                let m = "may not be specified when `value` is not empty";
                out.push(err(c.path.join(&["env"]).index(i).join(&["valueFrom"]), m));
            }
        }
    }
}

/// A claim's spec (a PersistentVolumeClaim's, or a StatefulSet's claim template's):
/// an access mode and a storage request.
fn claim(spec: Option<&Value>, path: &FieldPath, out: &mut Vec<Found>) {
    let Some(spec) = spec else { return };
    if items(spec.get("accessModes")).is_empty() {
        out.push(err(path.join(&["accessModes"]), "at least 1 access mode is required"));
    }
    if !has(spec.pointer("/resources/requests/storage")) {
        out.push(err(path.join(&["resources", "storage"]), "a `resources.requests.storage` is required"));
    }
}

/// The keys a Secret of a built-in `type` must hold.
fn secret_type(b: &Value, out: &mut Vec<Found>) {
    let keys: Vec<&String> =
        ["data", "stringData"].iter().filter_map(|f| b.get(*f)?.as_object()).flat_map(|m| m.keys()).collect();
    let required: &[&str] = match b.get("type").and_then(Value::as_str).unwrap_or("Opaque") {
        "kubernetes.io/tls" => &["tls.crt", "tls.key"],
        "kubernetes.io/dockerconfigjson" => &[".dockerconfigjson"],
        "kubernetes.io/dockercfg" => &[".dockercfg"],
        "kubernetes.io/ssh-auth" => &["ssh-privatekey"],
        "kubernetes.io/basic-auth" if !keys.iter().any(|k| *k == "username" || *k == "password") => {
            &["username", "password"]
        }
        _ => &[],
    };
    for k in required.iter().filter(|k| !keys.iter().any(|have| have == *k)) {
        out.push(err(at(&["data", k]), format!("a Secret of this type needs the key `{k}`")));
    }
}

fn priority_class(r: &Resource, out: &mut Vec<Found>) {
    const MAX: i64 = 1_000_000_000;
    let value = r.body.get("value").and_then(Value::as_i64);
    if let Some(v) = value.filter(|v| *v > MAX && !r.id.name.starts_with("system-")) {
        out.push(err(at(&["value"]), format!("`{v}`: maximum allowed value of a user defined priority is {MAX}")));
    }
}

/// RBAC rules: resource rules need API groups and resources; non-resource URLs are for
/// ClusterRoles only, and never mixed with resources.
fn policy_rules(b: &Value, namespaced: bool, out: &mut Vec<Found>) {
    for (i, rule) in items(b.get("rules")).iter().enumerate() {
        let path = at(&["rules"]).index(i);
        let set = |k: &str| !items(rule.get(k)).is_empty();
        if set("nonResourceURLs") {
            if namespaced {
                let m = "namespaced rules cannot apply to non-resource URLs";
                out.push(err(path.join(&["nonResourceURLs"]), m));
            }
            if set("apiGroups") || set("resources") || set("resourceNames") {
                let m = "rules cannot apply to both regular resources and non-resource URLs";
                out.push(err(path.join(&["nonResourceURLs"]), m));
            }
            continue;
        }
        if !set("apiGroups") {
            out.push(err(path.join(&["apiGroups"]), "resource rules must supply at least one api group"));
        }
        if !set("resources") {
            out.push(err(path.join(&["resources"]), "resource rules must supply at least one resource"));
        }
    }
}

/// Ingress paths are absolute.
fn ingress_paths(b: &Value, out: &mut Vec<Found>) {
    for (i, rule) in items(b.pointer("/spec/rules")).iter().enumerate() {
        for (j, p) in items(rule.pointer("/http/paths")).iter().enumerate() {
            if let Some(path) = p.get("path").and_then(Value::as_str).filter(|s| !s.starts_with('/')) {
                let at = at(&["spec", "rules"]).index(i).join(&["http", "paths"]).index(j).join(&["path"]);
                out.push(err(at, format!("`{path}` must be an absolute path")));
            }
        }
    }
}

fn requests_within_limits(c: &Map<String, Value>, path: &FieldPath, out: &mut Vec<Found>) {
    let (Some(req), Some(lim)) = (
        c.get("resources").and_then(|r| r.get("requests")).and_then(Value::as_object),
        c.get("resources").and_then(|r| r.get("limits")).and_then(Value::as_object),
    ) else {
        return;
    };
    for (name, r) in req {
        let (Some(rq), Some(l)) = (quantity(r), lim.get(name).and_then(quantity)) else { continue };
        if rq > l {
            let limit = lim[name].as_str().map_or_else(|| lim[name].to_string(), str::to_string);
            out.push(err(
                path.join(&["resources", "requests"]),
                format!("must be less than or equal to {name} limit of {limit}"),
            ));
        }
    }
}

/// A resource quantity (`500m`, `2`, `1Gi`, `1e3`) as a number, `None` when unreadable.
fn quantity(v: &Value) -> Option<f64> {
    if let Some(n) = v.as_f64() {
        return Some(n);
    }
    let s = v.as_str()?.trim();
    let suffixes: [(&str, f64); 13] = [
        ("Ki", 1024f64),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("Pi", 1024f64.powi(5)),
        ("Ei", 1024f64.powi(6)),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ];
    for (suffix, factor) in suffixes {
        if let Some(num) = s.strip_suffix(suffix) {
            return num.parse::<f64>().ok().map(|n| n * factor);
        }
    }
    s.parse().ok()
}

fn service(b: &Value, out: &mut Vec<Found>) {
    let ty = b.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP");
    let headless = b.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None");
    if ty != "ExternalName" && !headless && items(b.pointer("/spec/ports")).is_empty() {
        out.push(err(at(&["spec", "ports"]), "a Service needs at least one port (unless headless or ExternalName)"));
    }
}

/// The volume sources of a PersistentVolume spec (`core.PersistentVolumeSource`).
const PV_SOURCES: &[&str] = &[
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "csi",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "glusterfs",
    "hostPath",
    "iscsi",
    "local",
    "nfs",
    "photonPersistentDisk",
    "portworxVolume",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
];

fn persistent_volume(b: &Value, out: &mut Vec<Found>) {
    let spec = b.get("spec");
    if items(spec.and_then(|s| s.get("accessModes"))).is_empty() {
        out.push(err(at(&["spec", "accessModes"]), "at least 1 access mode is required"));
    }
    if !has(spec.and_then(|s| s.pointer("/capacity/storage"))) {
        out.push(err(at(&["spec", "capacity"]), "a `capacity.storage` is required"));
    }
    if !PV_SOURCES.iter().any(|s| has(spec.and_then(|sp| sp.get(*s)))) {
        out.push(err(at(&["spec"]), "must specify a volume type"));
    }
}

/// ConfigMap and Secret keys: alphanumerics, `-`, `_` and `.`, not `.` or `..`, at most 253.
fn config_keys(b: &Value, out: &mut Vec<Found>) {
    for field in ["data", "binaryData", "stringData"] {
        for key in b.get(field).and_then(Value::as_object).into_iter().flatten().map(|(k, _)| k) {
            let ok = !key.is_empty()
                && key.len() <= 253
                && key != "."
                && key != ".."
                && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                let m = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
                out.push(err(at(&[field, key.as_str()]), m));
            }
        }
    }
}

fn deployment(b: &Value, out: &mut Vec<Found>) {
    let min_ready = b.pointer("/spec/minReadySeconds").and_then(Value::as_i64).unwrap_or(0);
    if let Some(deadline) = b.pointer("/spec/progressDeadlineSeconds").and_then(Value::as_i64)
        && deadline <= min_ready
    {
        out.push(err(at(&["spec", "progressDeadlineSeconds"]), "must be greater than minReadySeconds"));
    }
    deployment_strategy(b, out);
}

fn deployment_strategy(b: &Value, out: &mut Vec<Found>) {
    if b.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate")
        && has(b.pointer("/spec/strategy/rollingUpdate"))
    {
        let m = "may not be specified when strategy `type` is 'Recreate'";
        out.push(err(at(&["spec", "strategy", "rollingUpdate"]), m));
    }
}

/// `spec.controller`: a domain-prefixed path (`example.com/ingress`).
fn ingress_class(b: &Value, out: &mut Vec<Found>) {
    let Some(c) = b.pointer("/spec/controller").and_then(Value::as_str) else { return };
    let ok = c.split_once('/').is_some_and(|(domain, path)| names::dns_subdomain(domain).is_none() && !path.is_empty());
    if !ok {
        out.push(err(at(&["spec", "controller"]), "must be a domain-prefixed path (such as \"acme.io/foo\")"));
    }
}

fn subjects(b: &Value, cluster: bool, out: &mut Vec<Found>) {
    const RBAC: &str = "rbac.authorization.k8s.io";
    for (i, s) in items(b.get("subjects")).iter().enumerate() {
        let path = at(&["subjects"]).index(i);
        let name = s.get("name").and_then(Value::as_str).unwrap_or("");
        let group = s.get("apiGroup").and_then(Value::as_str).unwrap_or("");
        match s.get("kind").and_then(Value::as_str).unwrap_or("") {
            "ServiceAccount" => {
                if !group.is_empty() {
                    out.push(err(path.join(&["apiGroup"]), "a ServiceAccount subject takes no `apiGroup`"));
                }
                if let Some(m) = (!name.is_empty()).then(|| names::dns_subdomain(name)).flatten() {
                    out.push(err(path.join(&["name"]), m));
                }
                if cluster && s.get("namespace").and_then(Value::as_str).is_none_or(str::is_empty) {
                    out.push(err(path.join(&["namespace"]), "a ServiceAccount subject needs a `namespace`"));
                }
            }
            "User" | "Group" if group != RBAC => {
                out.push(err(path.join(&["apiGroup"]), format!("supported values: \"{RBAC}\"")));
            }
            "User" | "Group" => {}
            other => out.push(err(
                path.join(&["kind"]),
                format!("`{other}` is not supported: supported values: \"ServiceAccount\", \"User\", \"Group\""),
            )),
        }
        if name.is_empty() {
            out.push(err(path.join(&["name"]), "a subject needs a `name`"));
        }
    }
}

/// Webhook names: fully qualified, a DNS subdomain of at least three segments.
fn webhooks(b: &Value, out: &mut Vec<Found>) {
    for (i, w) in items(b.get("webhooks")).iter().enumerate() {
        let Some(name) = w.get("name").and_then(Value::as_str) else { continue };
        let path = at(&["webhooks"]).index(i).join(&["name"]);
        if let Some(m) = names::dns_subdomain(name) {
            out.push(err(path, m));
        } else if name.split('.').count() < 3 {
            out.push(err(path, "should be a domain with at least three segments separated by dots"));
        }
    }
}

fn api_service(b: &Value, out: &mut Vec<Found>) {
    for (field, max) in [("groupPriorityMinimum", 20000), ("versionPriority", 1000)] {
        if let Some(n) = b.pointer(&format!("/spec/{field}")).and_then(Value::as_i64).filter(|n| *n <= 0 || *n > max) {
            out.push(err(at(&["spec", field]), format!("`{n}` must be positive and less than {max}")));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn quantities_compare_across_suffixes() {
        let q = |v| super::quantity(&v);
        assert_eq!(q(json!("500m")), Some(0.5));
        assert_eq!(q(json!(2)), Some(2.0));
        assert_eq!(q(json!("1Gi")), Some(1024f64.powi(3)));
        assert!(q(json!("1G")) < q(json!("1Gi")));
        assert_eq!(q(json!("lots")), None);
    }
}
