//! The object as a validating admission policy sees it: the API server fills in its
//! defaults before admission runs (`replicas: 1` on a Deployment that writes none), so a
//! policy reading `object.spec.replicas` gets a value where the template shows nothing.
//!
//! In: a rendered object body. Out: the body with the defaults kube-apiserver v1.36.2 set on
//! a create (recorded with `kubectl create --dry-run=server`) for the fields policies read
//! most: the apps/v1 workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet) and their
//! pod templates, Pods, Services. Fields the server allocates (a Service's `clusterIP`)
//! and mutating admission plugins are not reproduced.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

/// `body` with the server's defaults added where it writes none; `body` itself (not a copy)
/// when its kind has no defaults here or it has no `spec`.
pub fn applied(body: &Value) -> Cow<'_, Value> {
    let api = body.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or("");
    let defaulted = matches!(
        (api, kind),
        ("apps/v1", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("v1", "Pod" | "Service")
    );
    if !defaulted || !body.get("spec").is_some_and(Value::is_object) {
        return Cow::Borrowed(body);
    }
    let mut out = body.clone();
    let Some(spec) = out.get_mut("spec").and_then(Value::as_object_mut) else { return Cow::Owned(out) };
    match (api, kind) {
        ("apps/v1", "Deployment") => {
            fill(
                spec,
                &[("replicas", json!(1)), ("revisionHistoryLimit", json!(10)), ("progressDeadlineSeconds", json!(600))],
            );
            let strategy = entry(spec, "strategy");
            fill(strategy, &[("type", json!("RollingUpdate"))]);
            if strategy["type"] == "RollingUpdate" {
                fill(entry(strategy, "rollingUpdate"), &[("maxUnavailable", json!("25%")), ("maxSurge", json!("25%"))]);
            }
        }
        ("apps/v1", "StatefulSet") => {
            fill(spec, &[("replicas", json!(1)), ("revisionHistoryLimit", json!(10))]);
            fill(spec, &[("podManagementPolicy", json!("OrderedReady"))]);
            let retention = entry(spec, "persistentVolumeClaimRetentionPolicy");
            fill(retention, &[("whenDeleted", json!("Retain")), ("whenScaled", json!("Retain"))]);
            let strategy = entry(spec, "updateStrategy");
            fill(strategy, &[("type", json!("RollingUpdate"))]);
            if strategy["type"] == "RollingUpdate" {
                fill(entry(strategy, "rollingUpdate"), &[("partition", json!(0))]);
            }
        }
        ("apps/v1", "DaemonSet") => {
            fill(spec, &[("revisionHistoryLimit", json!(10))]);
            let strategy = entry(spec, "updateStrategy");
            fill(strategy, &[("type", json!("RollingUpdate"))]);
            if strategy["type"] == "RollingUpdate" {
                fill(entry(strategy, "rollingUpdate"), &[("maxUnavailable", json!(1)), ("maxSurge", json!(0))]);
            }
        }
        ("apps/v1", "ReplicaSet") => fill(spec, &[("replicas", json!(1))]),
        ("v1", "Pod") => pod_spec(spec),
        ("v1", "Service") => service(spec),
        _ => return Cow::Owned(out),
    }
    if let Some(template) = spec.get_mut("template").and_then(|t| t.get_mut("spec")).and_then(Value::as_object_mut) {
        pod_spec(template);
    }
    Cow::Owned(out)
}

fn pod_spec(spec: &mut Map<String, Value>) {
    fill(
        spec,
        &[
            ("dnsPolicy", json!("ClusterFirst")),
            ("restartPolicy", json!("Always")),
            ("schedulerName", json!("default-scheduler")),
            ("securityContext", json!({})),
            ("terminationGracePeriodSeconds", json!(30)),
        ],
    );
    for list in ["initContainers", "containers"] {
        for c in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
            let Some(c) = c.as_object_mut() else { continue };
            let pull = pull_policy(c.get("image").and_then(Value::as_str).unwrap_or(""));
            fill(
                c,
                &[
                    ("imagePullPolicy", json!(pull)),
                    ("resources", json!({})),
                    ("terminationMessagePath", json!("/dev/termination-log")),
                    ("terminationMessagePolicy", json!("File")),
                ],
            );
            for p in c.get_mut("ports").and_then(Value::as_array_mut).into_iter().flatten() {
                p.as_object_mut().into_iter().for_each(|p| fill(p, &[("protocol", json!("TCP"))]));
            }
        }
    }
}

/// `Always` for an image without a tag or tagged `latest` (and no digest), else `IfNotPresent`.
fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn service(spec: &mut Map<String, Value>) {
    fill(spec, &[("type", json!("ClusterIP")), ("sessionAffinity", json!("None"))]);
    if spec["type"] != "ExternalName" {
        fill(spec, &[("internalTrafficPolicy", json!("Cluster"))]);
    }
    for p in spec.get_mut("ports").and_then(Value::as_array_mut).into_iter().flatten() {
        let Some(p) = p.as_object_mut() else { continue };
        let port = p.get("port").cloned().unwrap_or(Value::Null);
        fill(p, &[("protocol", json!("TCP")), ("targetPort", port)]);
    }
}

/// Sets each field the map does not have.
fn fill(map: &mut Map<String, Value>, fields: &[(&str, Value)]) {
    for (k, v) in fields {
        if !map.contains_key(*k) {
            map.insert((*k).to_string(), v.clone());
        }
    }
}

/// The object at `key`, created empty when absent (a non-object is replaced by nothing: left as is).
fn entry<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let v = map.entry(key.to_string()).or_insert_with(|| json!({}));
    if !v.is_object() {
        *v = json!({});
    }
    v.as_object_mut().expect("an object")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_defaults_as_the_server_returned_them() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "c", "image": "nginx:1", "ports": [{"containerPort": 80}]}]}}}});
        // What kube-apiserver v1.36.2 answered to a server-side dry-run create of `d`.
        let server = json!({"progressDeadlineSeconds": 600, "replicas": 1, "revisionHistoryLimit": 10, "selector": {},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
            "template": {"spec": {"containers": [{"image": "nginx:1", "imagePullPolicy": "IfNotPresent", "name": "c",
                "ports": [{"containerPort": 80, "protocol": "TCP"}], "resources": {},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
                "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                "securityContext": {}, "terminationGracePeriodSeconds": 30}}});
        assert_eq!(applied(&d)["spec"], server);
        let written = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 3, "strategy": {"type": "Recreate"}}});
        assert_eq!(applied(&written)["spec"]["replicas"], 3);
        assert_eq!(applied(&written)["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn services_and_pull_policies() {
        let s = json!({"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}});
        let spec = &applied(&s)["spec"];
        assert_eq!(spec["ports"], json!([{"port": 80, "protocol": "TCP", "targetPort": 80}]));
        assert_eq!((spec["type"].as_str(), spec["sessionAffinity"].as_str()), (Some("ClusterIP"), Some("None")));
        let pulls: Vec<&str> =
            ["nginx", "nginx:latest", "reg:5000/nginx", "nginx:1", "nginx@sha256:ab"].map(pull_policy).into();
        assert_eq!(pulls, ["Always", "Always", "Always", "IfNotPresent", "IfNotPresent"]);
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}});
        assert!(matches!(applied(&cm), Cow::Borrowed(b) if *b == cm), "kinds without defaults are not copied");
    }
}
