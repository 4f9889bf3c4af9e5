//! Rules across the objects of one environment: Services that select no pod template
//! (`dangling-service`), references that do not resolve (`dangling-reference`), namespaces
//! that do not exist (`missing-namespace`), and Secrets with literal data
//! (`secret-literal-data`).

use std::collections::HashSet;

use serde_json::Value;

use super::config::CheckConfig;
use super::practices::{containers, pod_spec, template_labels};
use super::server::selects;
use super::{FieldPath, Found};
use crate::manifest::{self, Resource};

/// The rules that judge an object by the other objects of its environment: their
/// findings are sound only over a whole environment's render (`strata review` leaves
/// them out where it rendered part of one).
pub const CROSS_OBJECT_RULES: &[&str] = &["dangling-service", "dangling-reference", "missing-namespace"];

/// Namespaces every cluster has.
const BUILTIN_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];
/// Objects every namespace has.
const IMPLICIT: &[(&str, &str)] = &[("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")];
/// ClusterRoles every cluster has (RoleBindings to them resolve).
const BUILTIN_CLUSTER_ROLES: &[&str] = &["cluster-admin", "admin", "edit", "view"];

/// What an environment renders, for lookups.
pub struct Index<'a> {
    objects: HashSet<(&'a str, Option<&'a str>, &'a str)>,
    /// Secrets another object produces (ExternalSecret, SealedSecret).
    produced_secrets: HashSet<(Option<&'a str>, String)>,
    workloads: Vec<&'a Resource>,
    services: Vec<&'a Resource>,
    crds: Vec<Resource>,
}

impl<'a> Index<'a> {
    pub fn new(resources: &[&'a Resource]) -> Index<'a> {
        let objects = resources.iter().map(|r| (r.id.kind.as_str(), r.id.namespace.as_deref(), r.id.name.as_str()));
        let mut produced_secrets = HashSet::new();
        for r in resources {
            let target = match r.id.kind.as_str() {
                "ExternalSecret" => r.body.pointer("/spec/target/name").and_then(Value::as_str),
                "SealedSecret" => r.body.pointer("/spec/template/metadata/name").and_then(Value::as_str),
                _ => continue,
            };
            produced_secrets.insert((r.id.namespace.as_deref(), target.unwrap_or(&r.id.name).to_string()));
        }
        let workloads = resources.iter().copied().filter(|r| pod_spec(r).is_some()).collect();
        let services = resources.iter().copied().filter(|r| r.id.group.is_empty() && r.id.kind == "Service").collect();
        let crds = resources.iter().filter(|r| r.id.kind == "CustomResourceDefinition").map(|r| (*r).clone()).collect();
        Index { objects: objects.collect(), produced_secrets, workloads, services, crds }
    }

    fn exists(&self, config: &CheckConfig, kind: &str, ns: Option<&str>, name: &str) -> bool {
        self.objects.contains(&(kind, ns, name))
            || (ns.is_some() && IMPLICIT.contains(&(kind, name)))
            || (kind == "Secret" && self.produced_secrets.contains(&(ns, name.to_string())))
            || (kind == "ClusterRole" && (BUILTIN_CLUSTER_ROLES.contains(&name) || name.starts_with("system:")))
            || (kind == "Namespace" && BUILTIN_NAMESPACES.contains(&name))
            || config.is_external(kind, ns, name)
    }
}

/// Every finding of one object against its environment.
pub fn check(r: &Resource, index: &Index, config: &CheckConfig) -> Vec<Found> {
    let mut out = Vec::new();
    let ns = r.id.namespace.as_deref();
    let mut need = |kind: &str, name: &str, field: FieldPath| {
        if !name.is_empty() && !index.exists(config, kind, ns, name) {
            let where_ = ns.map(|n| format!(" in namespace `{n}`")).unwrap_or_default();
            let msg = format!("{kind} `{name}` is not rendered{where_} nor declared in `check.external`");
            out.push(Found::error("dangling-reference", field, msg));
        }
    };
    if let Some((path, spec)) = pod_spec(r) {
        pod_references(&path, spec, &mut need);
    }
    match r.id.kind.as_str() {
        "Ingress" => ingress(r, index, config, &mut out),
        "HorizontalPodAutoscaler" => {
            let target = r.body.pointer("/spec/scaleTargetRef");
            let kind = target.and_then(|t| t.get("kind")).and_then(Value::as_str).unwrap_or("");
            let name = target.and_then(|t| t.get("name")).and_then(Value::as_str).unwrap_or("");
            need(kind, name, FieldPath::root().join(&["spec", "scaleTargetRef", "name"]));
        }
        "RoleBinding" | "ClusterRoleBinding" => bindings(r, index, config, &mut out),
        "Service" => dangling_service(r, index, &mut out),
        "Secret" => literal_secret(r, &mut out),
        _ => {}
    }
    missing_namespace(r, index, config, &mut out);
    out
}

type Need<'n> = dyn FnMut(&str, &str, FieldPath) + 'n;

fn pod_references(path: &FieldPath, spec: &serde_json::Map<String, Value>, need: &mut Need<'_>) {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let optional = |v: &Value| v.get("optional") == Some(&Value::Bool(true));
    if let Some(sa) = spec.get("serviceAccountName").and_then(Value::as_str) {
        need("ServiceAccount", sa, path.join(&["serviceAccountName"]));
    }
    for (i, v) in spec.get("volumes").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let at = path.join(&["volumes"]).index(i);
        if let Some(cm) = v.get("configMap").filter(|c| !optional(c)) {
            need("ConfigMap", &s(cm, "name"), at.join(&["configMap", "name"]));
        }
        if let Some(sec) = v.get("secret").filter(|c| !optional(c)) {
            need("Secret", &s(sec, "secretName"), at.join(&["secret", "secretName"]));
        }
        if let Some(pvc) = v.get("persistentVolumeClaim") {
            need("PersistentVolumeClaim", &s(pvc, "claimName"), at.join(&["persistentVolumeClaim", "claimName"]));
        }
        let sources = v.pointer("/projected/sources").and_then(Value::as_array).into_iter().flatten();
        for (j, src) in sources.enumerate() {
            let at = at.join(&["projected", "sources"]).index(j);
            for (key, kind) in [("configMap", "ConfigMap"), ("secret", "Secret")] {
                if let Some(x) = src.get(key).filter(|c| !optional(c)) {
                    need(kind, &s(x, "name"), at.join(&[key, "name"]));
                }
            }
        }
    }
    for (i, p) in spec.get("imagePullSecrets").and_then(Value::as_array).into_iter().flatten().enumerate() {
        need("Secret", &s(p, "name"), path.join(&["imagePullSecrets"]).index(i).join(&["name"]));
    }
    for c in containers(path, spec) {
        for (i, e) in c.body.get("envFrom").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let at = c.path.join(&["envFrom"]).index(i);
            for (key, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
                if let Some(x) = e.get(key).filter(|x| !optional(x)) {
                    need(kind, &s(x, "name"), at.join(&[key, "name"]));
                }
            }
        }
        for (i, e) in c.body.get("env").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let at = c.path.join(&["env"]).index(i).join(&["valueFrom"]);
            for (key, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")] {
                if let Some(x) = e.get("valueFrom").and_then(|v| v.get(key)).filter(|x| !optional(x)) {
                    need(kind, &s(x, "name"), at.join(&[key, "name"]));
                }
            }
        }
    }
}

fn ingress(r: &Resource, index: &Index, config: &CheckConfig, out: &mut Vec<Found>) {
    let ns = r.id.namespace.as_deref();
    let mut backends: Vec<(FieldPath, &Value)> = Vec::new();
    if let Some(b) = r.body.pointer("/spec/defaultBackend") {
        backends.push((FieldPath::root().join(&["spec", "defaultBackend"]), b));
    }
    for (i, rule) in r.body.pointer("/spec/rules").and_then(Value::as_array).into_iter().flatten().enumerate() {
        for (j, p) in rule.pointer("/http/paths").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let at = FieldPath::root().join(&["spec", "rules"]).index(i).join(&["http", "paths"]).index(j);
            if let Some(b) = p.get("backend") {
                backends.push((at.join(&["backend"]), b));
            }
        }
    }
    for (at, b) in backends {
        let Some(svc) = b.get("service") else { continue };
        let name = svc.get("name").and_then(Value::as_str).unwrap_or("");
        let at = at.join(&["service"]);
        match index.services.iter().find(|s| s.id.namespace.as_deref() == ns && s.id.name == name) {
            None if !index.exists(config, "Service", ns, name) => {
                let msg = format!("Service `{name}` is not rendered nor declared in `check.external`");
                out.push(Found::error("dangling-reference", at.join(&["name"]), msg));
            }
            Some(service) => ingress_port(svc, service, &at, out),
            None => {}
        }
    }
}

fn ingress_port(svc: &Value, service: &Resource, at: &FieldPath, out: &mut Vec<Found>) {
    let ports = service.body.pointer("/spec/ports").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let port = svc.get("port");
    let ok = match (port.and_then(|p| p.get("number")), port.and_then(|p| p.get("name"))) {
        (Some(n), _) => ports.iter().any(|p| p.get("port") == Some(n)),
        (_, Some(n)) => ports.iter().any(|p| p.get("name") == Some(n)),
        _ => true,
    };
    if !ok {
        let msg = format!("Service `{}` has no such port", service.id.name);
        out.push(Found::error("dangling-reference", at.join(&["port"]), msg));
    }
}

fn bindings(r: &Resource, index: &Index, config: &CheckConfig, out: &mut Vec<Found>) {
    let subjects = r.body.get("subjects").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for (i, s) in subjects.iter().enumerate() {
        if s.get("kind").and_then(Value::as_str) != Some("ServiceAccount") {
            continue;
        }
        let name = s.get("name").and_then(Value::as_str).unwrap_or("");
        let ns = s.get("namespace").and_then(Value::as_str).or(r.id.namespace.as_deref());
        if !index.exists(config, "ServiceAccount", ns, name) {
            let at = FieldPath::root().join(&["subjects"]).index(i).join(&["name"]);
            let msg = format!("ServiceAccount `{name}` is not rendered in namespace `{}`", ns.unwrap_or(""));
            out.push(Found::error("dangling-reference", at, msg));
        }
    }
    let kind = r.body.pointer("/roleRef/kind").and_then(Value::as_str).unwrap_or("");
    let name = r.body.pointer("/roleRef/name").and_then(Value::as_str).unwrap_or("");
    let ns = if kind == "Role" { r.id.namespace.as_deref() } else { None };
    if matches!(kind, "Role" | "ClusterRole") && !index.exists(config, kind, ns, name) {
        let msg = format!("{kind} `{name}` is not rendered nor declared in `check.external`");
        out.push(Found::error("dangling-reference", FieldPath::root().join(&["roleRef", "name"]), msg));
    }
}

fn dangling_service(r: &Resource, index: &Index, out: &mut Vec<Found>) {
    let Some(sel) = r.body.pointer("/spec/selector").and_then(Value::as_object).filter(|s| !s.is_empty()) else {
        return;
    };
    let ns = r.id.namespace.as_deref();
    let as_selector = serde_json::json!({ "matchLabels": sel });
    let matched = index
        .workloads
        .iter()
        .filter(|w| w.id.namespace.as_deref() == ns)
        .any(|w| template_labels(w).is_some_and(|l| selects(&as_selector, l)));
    if !matched {
        let shown = serde_json::to_string(sel).unwrap_or_default();
        let msg = format!("selector {shown} matches no pod template in namespace `{}`", ns.unwrap_or(""));
        out.push(Found::error("dangling-service", FieldPath::root().join(&["spec", "selector"]), msg));
    }
}

fn literal_secret(r: &Resource, out: &mut Vec<Found>) {
    for key in ["data", "stringData"] {
        if r.body.get(key).and_then(Value::as_object).is_some_and(|m| !m.is_empty()) {
            let msg = format!("Secret `{}` has literal `{key}` in the repository", r.id.name);
            out.push(Found::error("secret-literal-data", FieldPath::root().join(&[key]), msg));
        }
    }
}

fn missing_namespace(r: &Resource, index: &Index, config: &CheckConfig, out: &mut Vec<Found>) {
    let Some(ns) = r.id.namespace.as_deref() else { return };
    if manifest::is_cluster_scoped(&r.id.group, &r.id.kind, &index.crds) {
        return;
    }
    if !index.exists(config, "Namespace", None, ns) {
        let msg = format!("namespace `{ns}` is neither rendered nor declared in `check.external`");
        out.push(Found::error("missing-namespace", FieldPath::root().join(&["metadata", "namespace"]), msg));
    }
}
