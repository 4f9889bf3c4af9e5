//! Manifests: Kubernetes objects as strata carries them between stages.
//!
//! In: rendered YAML text. Out: [`Resource`]s, each with its identity ([`ResId`]:
//! group, kind, namespace, name), its body as a JSON value, and its source (the
//! template and document index that produced it). YAML text itself is read and
//! written by [`crate::yaml`].

pub mod metadata;
pub mod names;
pub mod workloads;

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::diag::Diagnostic;

/// The identity of an object in a cluster: what `kubectl apply` matches on.
/// The API version is not part of it (`apps/v1` and `apps/v1beta1` Deployments are one object).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ResId {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ResId {
    /// Reads the identity of an object body.
    pub fn of(body: &Value) -> Result<ResId, String> {
        let obj = body.as_object().ok_or("a Kubernetes object must be a mapping")?;
        let api_version =
            obj.get("apiVersion").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or("missing `apiVersion`")?;
        let kind = obj.get("kind").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or("missing `kind`")?;
        let meta = obj.get("metadata").and_then(Value::as_object).ok_or("missing `metadata`")?;
        let name =
            meta.get("name").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or("missing `metadata.name`")?;
        let namespace = meta.get("namespace").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        Ok(ResId {
            group: group_of(api_version).to_string(),
            kind: kind.to_string(),
            namespace,
            name: name.to_string(),
        })
    }

    /// `apps/Deployment/shop/web`-style key, handy in messages.
    pub fn key(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.group.is_empty() {
            write!(f, "{}/", self.group)?;
        }
        write!(f, "{}/", self.kind)?;
        if let Some(ns) = &self.namespace {
            write!(f, "{ns}/")?;
        }
        f.write_str(&self.name)
    }
}

/// The group part of an apiVersion (`apps/v1` → `apps`, `v1` → ``).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
}

/// Where a resource came from: the template file and which document of its output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TemplateOrigin {
    /// Repository-relative path of the template file.
    pub template: Arc<str>,
    /// 0-based index of the document inside the template's output.
    pub doc: usize,
}

/// One rendered Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub id: ResId,
    pub body: Value,
    pub source: TemplateOrigin,
}

impl Resource {
    pub fn new(body: Value, source: TemplateOrigin) -> Result<Resource, Diagnostic> {
        let id = ResId::of(&body).map_err(|m| {
            Diagnostic::error(format!("document {} is not a Kubernetes object: {m}", source.doc + 1))
                .at(source.template.to_string())
                .hint("every document a template yields needs `apiVersion`, `kind` and `metadata.name`")
        })?;
        Ok(Resource { id, body, source })
    }

    /// Recomputes the identity after the body changed (a patch renamed it).
    pub fn refresh_id(&mut self) -> Result<(), Diagnostic> {
        self.id = ResId::of(&self.body).map_err(|m| {
            Diagnostic::error(format!("object from `{}` is no longer a Kubernetes object: {m}", self.source.template))
                .at(self.source.template.to_string())
        })?;
        Ok(())
    }

    pub fn api_version(&self) -> &str {
        self.body.get("apiVersion").and_then(Value::as_str).unwrap_or("")
    }

    pub fn metadata(&self) -> Option<&Map<String, Value>> {
        self.body.get("metadata").and_then(Value::as_object)
    }

    /// An annotation's value, if set.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata()?.get("annotations")?.get(key)?.as_str()
    }

    pub fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        let obj = self.body.as_object_mut().expect("resource bodies are mappings");
        obj.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        obj.get_mut("metadata").and_then(Value::as_object_mut).expect("metadata is a mapping")
    }
}

/// The objects of one YAML document. A list document (`kind: List`, or any
/// `…List` kind with `items`) is its items, as `kubectl` and kustomize read it
/// (lists inside lists too); an empty list is no object.
pub fn expand_lists(doc: Value) -> Vec<Value> {
    let is_list = doc.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"))
        && doc.as_object().is_some_and(|m| m.contains_key("items"));
    if !is_list {
        return vec![doc];
    }
    match doc.get("items") {
        Some(Value::Array(items)) => items.iter().cloned().flat_map(expand_lists).collect(),
        _ => Vec::new(),
    }
}

/// Kinds of the core API groups that are not namespaced. Anything else is taken to be
/// namespaced unless a CustomResourceDefinition in the same render says `scope: Cluster`.
pub const CLUSTER_SCOPED_KINDS: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("networking.k8s.io", "IngressClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
];

/// Whether objects of this group and kind live outside namespaces, given the
/// CustomResourceDefinitions of the same render.
pub fn is_cluster_scoped(group: &str, kind: &str, crds: &[Resource]) -> bool {
    if CLUSTER_SCOPED_KINDS.iter().any(|(g, k)| *g == group && *k == kind) {
        return true;
    }
    crds.iter().any(|crd| {
        let spec = crd.body.get("spec");
        let g = spec.and_then(|s| s.get("group")).and_then(Value::as_str);
        let k = spec.and_then(|s| s.get("names")).and_then(|n| n.get("kind")).and_then(Value::as_str);
        let scope = spec.and_then(|s| s.get("scope")).and_then(Value::as_str);
        g == Some(group) && k == Some(kind) && scope == Some("Cluster")
    })
}

/// Finds objects with the same identity; returns one error per duplicate.
pub fn check_duplicates<'a>(resources: impl IntoIterator<Item = &'a Resource>, context: &str) -> Vec<Diagnostic> {
    let mut seen: std::collections::HashMap<&ResId, &Resource> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for r in resources {
        if let Some(first) = seen.get(&r.id) {
            out.push(
                Diagnostic::error(format!("duplicate resource `{}` in {context}", r.id))
                    .at(r.source.template.to_string())
                    .note(format!(
                        "first defined by {} (document {}), again by {} (document {})",
                        first.source.template,
                        first.source.doc + 1,
                        r.source.template,
                        r.source.doc + 1
                    ))
                    .hint("give one of them another name or namespace, or remove one"),
            );
        } else {
            seen.insert(&r.id, r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_are_their_items() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}});
        let list = |items: Value| json!({"apiVersion": "v1", "kind": "List", "items": items});
        assert_eq!(expand_lists(list(json!([cm, list(json!([cm]))]))), vec![cm.clone(), cm.clone()]);
        assert_eq!(expand_lists(list(json!([]))), Vec::<Value>::new());
        assert_eq!(expand_lists(list(Value::Null)), Vec::<Value>::new());
        assert_eq!(expand_lists(json!({"kind": "ServiceAccountList", "items": [cm]})), vec![cm.clone()]);
        // A kind that only ends in `List`, without `items`, is an object.
        let own = json!({"apiVersion": "x.io/v1", "kind": "AllowList", "metadata": {"name": "a"}});
        assert_eq!(expand_lists(own.clone()), vec![own]);
    }

    #[test]
    fn identity_ignores_version() {
        let a = ResId::of(
            &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}}),
        )
        .unwrap();
        let b = ResId::of(&json!({"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}})).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "apps/Deployment/shop/web");
        let c = ResId::of(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})).unwrap();
        assert_eq!(c.to_string(), "Namespace/shop");
    }

    #[test]
    fn identity_errors_say_what_is_missing() {
        assert_eq!(ResId::of(&json!({"kind": "X"})).unwrap_err(), "missing `apiVersion`");
        assert_eq!(
            ResId::of(&json!({"apiVersion": "v1", "kind": "X", "metadata": {}})).unwrap_err(),
            "missing `metadata.name`"
        );
        assert_eq!(ResId::of(&json!([1])).unwrap_err(), "a Kubernetes object must be a mapping");
    }

    #[test]
    fn duplicates_are_found() {
        let src = TemplateOrigin { template: Arc::from("a/v1/x.yaml"), doc: 0 };
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        let r1 = Resource::new(body.clone(), src.clone()).unwrap();
        let r2 = Resource::new(body, TemplateOrigin { doc: 1, ..src }).unwrap();
        let d = check_duplicates([&r1, &r2], "a/east");
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("duplicate resource `ConfigMap/c`"));
    }
}
