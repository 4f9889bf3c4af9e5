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
    let pins = pins([&b, &a]);
    of_target("web/eastus", Some(&b), Some(&a), &changes, &pins)
        .into_iter()
        .map(|r| (r.kind, r.object, r.field))
        .collect()
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
            r(RiskKind::ApplyFailure, "PersistentVolumeClaim/shop/data", "spec"),
            r(RiskKind::ApplyFailure, "Service/shop/db", "spec.clusterIPs[0]"),
            r(RiskKind::ApplyFailure, "apps/StatefulSet/shop/db", "spec"),
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
            r(
                RiskKind::ApplyFailure,
                "apiextensions.k8s.io/CustomResourceDefinition/widgets.example.com",
                "spec.scope"
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

#[test]
fn transition_rules_of_the_forms_read() {
    use transition::{Op, Pin};
    let schema = json!({"spec": {"group": "example.com", "names": {"kind": "Widget"}, "versions": [{"name": "v1",
    "schema": {"openAPIV3Schema": {"properties": {"spec": {"properties": {
        "region": {"x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "region is immutable"}]},
        "size": {"x-kubernetes-validations": [{"rule": "oldSelf <= self"}]},
        "zone": {"x-kubernetes-validations": [{"rule": "self.size() > 2"}]},
    },
    "x-kubernetes-validations": [{"rule": "self.owner == oldSelf.owner", "fieldPath": ".owner", "message": "fixed"}]
    }}}}}]}});
    let mut pins = Pins::new();
    transition::collect(&schema, &mut pins);
    let got = &pins[&("example.com".to_string(), "Widget".to_string())];
    let pin = |p: &str, f: &str, op, m: &str| Pin { pointer: p.into(), field: f.into(), op, message: m.into() };
    assert_eq!(
        got,
        &[
            pin("/spec/owner", "owner", Op::Eq, "fixed"),
            pin("/spec/region", "spec.region", Op::Eq, "region is immutable"),
            pin("/spec/size", "spec.size", Op::Ge, "failed rule: oldSelf <= self"),
        ]
    );
    let cr = |region: &str, size: i64| json!({"spec": {"region": region, "size": size, "owner": "a"}});
    let broken = |b: Value, a: Value| -> Vec<String> {
        transition::broken(got, &b, &a).into_iter().map(|p| p.field.clone()).collect()
    };
    assert_eq!(broken(cr("eu", 2), cr("eu", 3)), Vec::<String>::new());
    assert_eq!(broken(cr("eu", 2), cr("us", 1)), ["spec.region", "spec.size"]);
    // Absent on one side: a transition rule is not evaluated.
    assert_eq!(broken(json!({"spec": {}}), cr("us", 1)), Vec::<String>::new());
}

#[test]
fn immutable_objects_and_defaults() {
    let cm = |data: &str, immutable: Option<bool>| {
        let mut v = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop"},
            "data": {"k": data}});
        if let Some(i) = immutable {
            v["immutable"] = json!(i);
        }
        v
    };
    let object = "ConfigMap/shop/c";
    assert_eq!(risks(&[cm("a", None)], &[cm("b", Some(true))]), []);
    assert_eq!(risks(&[cm("a", Some(true))], &[cm("b", Some(true))]), [r(RiskKind::ApplyFailure, object, "data")]);
    assert_eq!(risks(&[cm("a", Some(true))], &[cm("a", None)]), [r(RiskKind::ApplyFailure, object, "immutable")]);
    let sc = |reclaim: Option<&str>| {
        let mut v = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "s"},
            "provisioner": "p"});
        if let Some(p) = reclaim {
            v["reclaimPolicy"] = json!(p);
        }
        v
    };
    // The server's default written out is no change.
    assert_eq!(risks(&[sc(None)], &[sc(Some("Delete"))]), []);
    let object = "storage.k8s.io/StorageClass/s";
    assert_eq!(risks(&[sc(None)], &[sc(Some("Retain"))]), [r(RiskKind::ApplyFailure, object, "reclaimPolicy")]);
}

#[test]
fn recreate_over_a_defaulted_rolling_update_is_flagged_with_a_patch() {
    let mut recreate = deployment("web", 2, "a:1");
    recreate["spec"]["strategy"] = json!({"type": "Recreate"});
    let (b, a) = (side(&[deployment("web", 2, "a:1")]), side(&[recreate.clone()]));
    let changes: Vec<_> =
        compare_resource(&a.resources[0].id, Some(&b.resources[0]), Some(&a.resources[0]), &CompareOptions::default())
            .into_iter()
            .collect();
    let got = of_target("web/eastus", Some(&b), Some(&a), &changes, &Pins::new());
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].kind, got[0].field.as_str()), (RiskKind::ServerDefault, "spec.strategy.rollingUpdate"));
    assert!(got[0].remedy.contains("kubectl patch deployment.apps/web -n shop --type=merge"), "{}", got[0].remedy);
    // Owned before (written in the manifest), the apply removes it: no risk.
    let mut owned = deployment("web", 2, "a:1");
    owned["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}});
    assert_eq!(risks(&[owned], &[recreate]), []);
}

#[test]
fn docs_list_every_rule() {
    let page = include_str!("../../../docs/guide/rollout.md");
    let start = page.find("The API server's update rules").expect("docs/guide/rollout.md's rule table");
    let table: Vec<&str> = page[start..].lines().take_while(|l| !l.starts_with("Defaults the server")).collect();
    for rule in immutable::RULES {
        let row = table.iter().find(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            cells.len() > 2 && cells[0].contains(rule.kind) && cells[1].contains(&format!("`{}`", rule.field))
        });
        assert!(row.is_some(), "docs/guide/rollout.md's risk table lacks {} `{}`", rule.kind, rule.field);
    }
}
