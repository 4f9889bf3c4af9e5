//! Table tests of the validator against built-in kinds and a small CRD-style schema.

use serde_json::{Value, json};

use super::*;

fn builtin(body: Value) -> Vec<String> {
    let defs = Definitions::builtin();
    let api = body["apiVersion"].as_str().unwrap();
    let (g, v) = api.rsplit_once('/').unwrap_or(("", api));
    let s = defs.kind(g, v, body["kind"].as_str().unwrap()).unwrap();
    Validator::new(defs)
        .validate(&body, s, &FieldPath::root())
        .into_iter()
        .map(|v| format!("{}: {}", v.path, v.message))
        .collect()
}

fn deployment(container: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}}}})
}

#[test]
fn valid_deployment_passes() {
    let c = json!({"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
        "resources": {"requests": {"cpu": "100m", "memory": 128974848}, "limits": {"memory": "256Mi"}},
        "args": null, "livenessProbe": {"httpGet": {"port": "http", "path": "/"}}});
    assert_eq!(builtin(deployment(c)), Vec::<String>::new());
}

#[test]
fn strict_violations() {
    let cases: &[(Value, &str)] = &[
        (
            json!({"name": "web", "image": "x", "imagePullPolicy": "Sometimes"}),
            "spec.template.spec.containers[0].imagePullPolicy: unsupported value `Sometimes`: supported values: `Always`, `IfNotPresent`, `Never`",
        ),
        (
            json!({"name": "web", "image": "x", "imagePullPolicie": "Always"}),
            "spec.template.spec.containers[0].imagePullPolicie: unknown field `imagePullPolicie` (did you mean `imagePullPolicy`?)",
        ),
        (
            json!({"name": "web", "image": "x", "args": "sleep"}),
            "spec.template.spec.containers[0].args: expected array, got string",
        ),
        (
            json!({"name": "web", "image": "x", "ports": [{"containerPort": "80"}]}),
            "spec.template.spec.containers[0].ports[0].containerPort: expected integer, got string",
        ),
        (
            json!({"name": "web", "image": "x", "ports": [{"containerPort": 80.5}]}),
            "spec.template.spec.containers[0].ports[0].containerPort: expected integer, got `80.5`",
        ),
        (json!({"image": "x"}), "spec.template.spec.containers[0].name: missing required field `name`"),
        (
            json!({"name": "web", "image": "x", "resources": {"limits": {"memory": "1GB"}}}),
            "spec.template.spec.containers[0].resources.limits.memory: `1GB` is not a quantity: quantities must match `^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$`",
        ),
        (
            json!({"name": "web", "image": "x", "livenessProbe": {"httpGet": {"port": true}}}),
            "spec.template.spec.containers[0].livenessProbe.httpGet.port: expected integer or string, got boolean",
        ),
        (
            json!({"name": "web", "image": "x", "env": [{"name": "A"}, {"name": "A", "value": "1"}]}),
            "spec.template.spec.containers[0].env[1]: duplicate entries for key [name=\"A\"]",
        ),
        (
            json!({"name": "web", "image": "x", "ports": [{"containerPort": 3000000000u64}]}),
            "spec.template.spec.containers[0].ports[0].containerPort: `3000000000` does not fit in a 32-bit integer",
        ),
    ];
    for (container, want) in cases {
        assert_eq!(builtin(deployment(container.clone())), vec![want.to_string()], "{container}");
    }
}

#[test]
fn nulls_count_as_absent_and_integral_floats_as_integers() {
    let c = json!({"name": "web", "image": "x", "command": null, "ports": [{"containerPort": 80.0}]});
    assert_eq!(builtin(deployment(c)), Vec::<String>::new());
}

#[test]
fn secret_data_is_base64() {
    let s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "not base64!", "ok": "YQ=="}});
    assert_eq!(builtin(s).len(), 1);
}

fn crd_schema() -> Schema {
    serde_json::from_value(json!({"type": "object", "properties": {
        "spec": {"type": "object", "required": ["schedule"], "properties": {
            "schedule": {"type": "string", "pattern": "^[0-9*/ ,-]+$"},
            "raw": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "size": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": true},
            "nothing": {"type": "object"},
            "tmpl": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
            "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
            "mode": {"type": "string", "enum": ["a", "b"], "nullable": true}
        }}}}))
    .unwrap()
}

fn crd(spec: Value) -> Vec<String> {
    let body = json!({"spec": spec});
    let defs = Definitions::builtin();
    Validator::new(defs)
        .validate(&body, &crd_schema(), &FieldPath::root())
        .into_iter()
        .map(|v| format!("{}: {}", v.path, v.message))
        .collect()
}

#[test]
fn crd_extensions() {
    assert_eq!(
        crd(json!({"schedule": "0 2 * * *", "raw": {"x": {"y": 1}}, "size": "10Gi", "mode": null})),
        Vec::<String>::new()
    );
    assert_eq!(
        crd(json!({"schedule": "0 2 * * *", "size": 3, "tmpl": {"apiVersion": "v1", "kind": "Pod", "spec": {}}})),
        Vec::<String>::new()
    );
    assert_eq!(crd(json!({"schedule": "nightly"})), vec!["spec.schedule: `nightly` should match `^[0-9*/ ,-]+$`"]);
    assert_eq!(
        crd(json!({"schedule": "1", "size": false})),
        vec!["spec.size: expected integer or string, got boolean"]
    );
    assert_eq!(crd(json!({"schedule": "1", "nothing": {"a": 1}})), vec!["spec.nothing.a: unknown field `a`"]);
    assert_eq!(
        crd(json!({"schedule": "1", "tmpl": {"kind": "Pod"}})),
        vec!["spec.tmpl.apiVersion: missing required field `apiVersion`"]
    );
    assert_eq!(
        crd(json!({"schedule": "1", "tags": ["a", "a"]})),
        vec!["spec.tags[1]: duplicate entries for value `a`"]
    );
    assert_eq!(crd(json!({})), vec!["spec.schedule: missing required field `schedule`"]);
}
