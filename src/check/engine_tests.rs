//! The engine over small in-memory environments.

use std::sync::Arc;

use serde_json::{Value, json};

use super::*;
use crate::manifest::{Resource, TemplateOrigin};

fn res(body: Value, template: &str) -> Resource {
    Resource::new(body, TemplateOrigin { template: Arc::from(template), doc: 0 }).unwrap()
}

fn deployment(name: &str, labels: Value, container: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop"},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}})
}

fn good_container() -> Value {
    json!({"name": "app", "image": "registry.example.com/app:1.2.3",
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {"runAsNonRoot": true, "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}}})
}

fn check(objects: &[Resource], config: &CheckConfig) -> Report {
    let env = CheckEnvironment {
        name: "eastus".into(),
        objects: objects.iter().map(|r| ("shop/eastus".into(), r)).collect(),
        previous: None,
    };
    let opts = CheckOptions { kube_version: KubeVersion::parse("1.33"), ..CheckOptions::default() };
    run(&[env], config, &opts)
}

fn lines(report: &Report) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| format!("{} {} {} {}: {}", f.severity.as_str(), f.rule, f.template, f.field, f.message))
        .collect()
}

fn namespace() -> Resource {
    res(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}), "ns.yaml")
}

#[test]
fn a_clean_environment_has_no_findings() {
    let web = res(deployment("web", json!({"app": "web"}), good_container()), "web.yaml");
    let svc = res(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}),
        "svc.yaml",
    );
    let report = check(&[namespace(), web, svc], &CheckConfig::default());
    assert_eq!(lines(&report), Vec::<String>::new());
    assert_eq!(report.exit_code(true), 0);
}

#[test]
fn the_issue_repository_has_one_finding_each() {
    let mut typo = good_container();
    typo["imagePullPolicie"] = json!("Always");
    let mut no_probe = good_container();
    no_probe.as_object_mut().unwrap().remove("livenessProbe");
    no_probe["envFrom"] = json!([{"configMapRef": {"name": "settings"}}]);
    let objects = [
        namespace(),
        res(deployment("web", json!({"app": "web"}), typo), "api/v1/web.yaml"),
        res(deployment("worker", json!({"app": "worker"}), no_probe), "api/v1/worker.yaml"),
        res(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "shop"},
                "spec": {"selector": {"app": "apii"}, "ports": [{"port": 80}]}}),
            "api/v1/service.yaml",
        ),
        res(
            json!({"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
            "api/v1/pdb.yaml",
        ),
    ];
    let report = check(&objects, &CheckConfig::default());
    assert_eq!(
        lines(&report),
        [
            "error deprecated-api api/v1/pdb.yaml apiVersion: `policy/v1beta1` PodDisruptionBudget was removed in Kubernetes 1.25 (cluster: 1.33)",
            "error dangling-service api/v1/service.yaml spec.selector: selector {\"app\":\"apii\"} matches no pod template in namespace `shop`",
            "error schema api/v1/web.yaml spec.template.spec.containers[0].imagePullPolicie: unknown field `imagePullPolicie` (did you mean `imagePullPolicy`?)",
            "error dangling-reference api/v1/worker.yaml spec.template.spec.containers[0].envFrom[0].configMapRef.name: ConfigMap `settings` is not rendered in namespace `shop` nor declared in `check.external`",
            "warning probes api/v1/worker.yaml spec.template.spec.containers[0]: container `app` has no `livenessProbe`",
        ]
    );
    assert_eq!(report.exit_code(false), 1);
}

#[test]
fn levels_exemptions_and_external() {
    let mut c = good_container();
    c["image"] = json!("nginx");
    c["env"] = json!([{"name": "DB_PASSWORD", "value": "hunter2"}]);
    let mut body = deployment("web", json!({"app": "web"}), c);
    body["metadata"]["annotations"] = json!({"strata.dev/ignore-check": "secret-env-value", "ignore-check.kube-linter.io/latest-tag": "pinned elsewhere"});
    body["spec"]["template"]["spec"]["serviceAccountName"] = json!("runner");
    let objects = [res(body, "web.yaml")];
    let strict: CheckConfig =
        serde_json::from_value(json!({"rules": {"missing-namespace": "error", "dangling-reference": "warning"}}))
            .unwrap();
    assert_eq!(
        lines(&check(&objects, &strict)),
        [
            "warning dangling-reference web.yaml spec.template.spec.serviceAccountName: ServiceAccount `runner` is not rendered in namespace `shop` nor declared in `check.external`",
            "error missing-namespace web.yaml metadata.namespace: namespace `shop` is neither rendered nor declared in `check.external`",
        ]
    );
    let external: CheckConfig =
        serde_json::from_value(json!({"external": ["ServiceAccount/shop/runner", "Namespace/shop"]})).unwrap();
    assert_eq!(lines(&check(&objects, &external)), Vec::<String>::new());
}

#[test]
fn custom_resources_use_rendered_crds() {
    let crd = res(
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "backups.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Backup", "plural": "backups"},
                "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object",
                    "properties": {"spec": {"type": "object", "properties": {"retain": {"type": "integer", "maximum": 30}}}}}}}]}}),
        "crd.yaml",
    );
    let cr = |v: &str, retain: i64| {
        res(
            json!({"apiVersion": format!("example.com/{v}"), "kind": "Backup", "metadata": {"name": "b", "namespace": "shop"}, "spec": {"retain": retain}}),
            "cr.yaml",
        )
    };
    let unknown = res(
        json!({"apiVersion": "other.io/v1", "kind": "Thing", "metadata": {"name": "t", "namespace": "shop"}}),
        "t.yaml",
    );
    let report = check(&[namespace(), crd, cr("v1", 31), cr("v2", 1), unknown], &CheckConfig::default());
    assert_eq!(
        lines(&report),
        [
            "error schema cr.yaml apiVersion: `example.com/v2` Backup is not served by its CustomResourceDefinition",
            "error schema cr.yaml spec.retain: `31` should be less than or equal to 30",
            "warning schema t.yaml apiVersion: no schema for `other.io/v1` Thing",
        ]
    );
}
