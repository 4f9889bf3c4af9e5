use serde_json::{Value, json};

use super::*;
use crate::compiled::CompiledTarget;
use crate::diff::{CompareOptions, compare_resource};
use crate::manifest::{ResId, Resource, TemplateOrigin};
use crate::repo::Target;

fn target() -> Target {
    Target {
        component: "web".into(),
        environment: "eastus".into(),
        dir: "web/eastus".into(),
        version_dir: "web/v1".into(),
        version: "v1".into(),
    }
}

fn side(bodies: &[Value]) -> CompiledTarget {
    let resources = bodies
        .iter()
        .map(|b| {
            let kind = b["kind"].as_str().unwrap().to_lowercase();
            let source =
                TemplateOrigin { template: std::sync::Arc::from(format!("web/v1/{kind}.yaml").as_str()), doc: 0 };
            Resource::new(b.clone(), source).unwrap()
        })
        .collect();
    CompiledTarget { target: target(), resources }
}

/// The risks of going from `before` to `after`, as (kind, object, field).
fn risks(before: &[Value], after: &[Value]) -> Vec<(RiskKind, String, String)> {
    let (b, a) = (side(before), side(after));
    let ids: std::collections::BTreeSet<ResId> =
        b.resources.iter().chain(a.resources.iter()).map(|r| r.id.clone()).collect();
    let changes: Vec<_> = ids
        .iter()
        .filter_map(|id| {
            let rb = b.resources.iter().find(|r| &r.id == id);
            let ra = a.resources.iter().find(|r| &r.id == id);
            compare_resource(id, rb, ra, &CompareOptions::default())
        })
        .collect();
    of_target("web/eastus", Some(&b), Some(&a), &changes).into_iter().map(|r| (r.kind, r.object, r.field)).collect()
}

fn deployment(selector: &str, replicas: i64, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": selector}},
            "template": {"metadata": {"labels": {"app": selector}},
                "spec": {"containers": [{"name": "web", "image": image}]}}}})
}

fn pdb() -> Value {
    json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}})
}

fn crd(versions: Value, scope: &str) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"}, "spec": {"group": "example.com", "scope": scope, "versions": versions}})
}

fn version(name: &str, fields: &[&str]) -> Value {
    let props: serde_json::Map<String, Value> =
        fields.iter().map(|f| (f.to_string(), json!({"type": "string"}))).collect();
    json!({"name": name, "served": true, "storage": name == "v1",
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": props}}}}})
}

fn r(kind: RiskKind, object: &str, field: &str) -> (RiskKind, String, String) {
    (kind, object.to_string(), field.to_string())
}

#[test]
fn image_only_change_has_no_risk() {
    assert_eq!(risks(&[deployment("web", 2, "a:1"), pdb()], &[deployment("web", 2, "a:2"), pdb()]), []);
}

#[test]
fn selector_change_is_an_apply_failure_and_loses_the_pdb() {
    assert_eq!(
        risks(&[deployment("web", 2, "a:1"), pdb()], &[deployment("web2", 2, "a:1"), pdb()]),
        [
            r(RiskKind::ApplyFailure, "apps/Deployment/shop/web", "spec.selector"),
            r(RiskKind::PdbLost, "apps/Deployment/shop/web", "spec.template.metadata.labels"),
        ]
    );
}

#[test]
fn scale_to_zero_and_deleted_pdb() {
    assert_eq!(
        risks(&[deployment("web", 3, "a:1"), pdb()], &[deployment("web", 0, "a:1")]),
        [
            r(RiskKind::Deletion, "policy/PodDisruptionBudget/shop/web", "metadata.name"),
            r(RiskKind::ScaleToZero, "apps/Deployment/shop/web", "spec.replicas"),
            r(RiskKind::PdbLost, "apps/Deployment/shop/web", "spec.template.metadata.labels"),
        ]
    );
}

#[test]
fn statefulset_job_service_pvc_immutable_fields() {
    let sts = |svc: &str, replicas: i64| {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"serviceName": svc, "replicas": replicas, "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}}}}})
    };
    let job = |image: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "shop"},
            "spec": {"template": {"spec": {"containers": [{"name": "m", "image": image}]}}}})
    };
    let svc = |ip: &str, port: i64| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"clusterIP": ip, "ports": [{"port": port}]}})
    };
    let pvc = |size: &str, class: &str| {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "shop"},
            "spec": {"storageClassName": class, "resources": {"requests": {"storage": size}}}})
    };
    assert_eq!(
        risks(
            &[sts("db", 1), job("m:1"), svc("None", 80), pvc("1Gi", "fast")],
            &[sts("db-headless", 2), job("m:2"), svc("10.0.0.1", 81), pvc("2Gi", "slow")]
        ),
        [
            r(RiskKind::ApplyFailure, "PersistentVolumeClaim/shop/data", "spec.storageClassName"),
            r(RiskKind::ApplyFailure, "Service/shop/db", "spec.clusterIP"),
            r(RiskKind::ApplyFailure, "apps/StatefulSet/shop/db", "spec.serviceName"),
            r(RiskKind::ApplyFailure, "batch/Job/shop/migrate", "spec.template"),
        ]
    );
    // Only requests and updatable fields change: nothing.
    assert_eq!(risks(&[sts("db", 1), pvc("1Gi", "fast")], &[sts("db", 2), pvc("2Gi", "fast")]), []);
}

#[test]
fn crd_removed_version_field_and_scope() {
    let before = crd(json!([version("v1", &["size", "color"]), version("v1beta1", &["size"])]), "Namespaced");
    let after = crd(json!([version("v1", &["size"])]), "Cluster");
    assert_eq!(
        risks(&[before], &[after]),
        [
            r(RiskKind::Crd, "apiextensions.k8s.io/CustomResourceDefinition/widgets.example.com", "spec.scope"),
            r(
                RiskKind::Crd,
                "apiextensions.k8s.io/CustomResourceDefinition/widgets.example.com",
                "spec.versions[v1].spec.color"
            ),
            r(
                RiskKind::Crd,
                "apiextensions.k8s.io/CustomResourceDefinition/widgets.example.com",
                "spec.versions[v1beta1]"
            ),
        ]
    );
}

#[test]
fn namespace_deletion_and_rename() {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
    let cm =
        |name: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "shop"}});
    assert_eq!(
        risks(&[ns, cm("config")], &[cm("config-v2")]),
        [
            r(RiskKind::NamespaceDeletion, "Namespace/shop", "metadata.name"),
            r(RiskKind::Rename, "ConfigMap/shop/config", "metadata.name"),
        ]
    );
}
