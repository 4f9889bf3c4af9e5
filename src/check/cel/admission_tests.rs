use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::manifest::TemplateOrigin;

fn res(body: Value) -> Resource {
    Resource::new(body, TemplateOrigin { template: Arc::from("t.yaml"), doc: 0 }).unwrap()
}

fn policy(extra: Value) -> Value {
    let mut p = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "min-replicas"},
        "spec": {"failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}]},
            "variables": [{"name": "r", "expression": "object.spec.replicas"}],
            "validations": [
                {"expression": "variables.r >= 2", "message": "at least 2 replicas"},
                {"expression": "object.metadata.name.startsWith('w')"},
                {"expression": "object.spec.replicas < 5", "messageExpression": "'too many: ' + string(object.spec.replicas)"},
                {"expression": "object.spec.missing == 1"}]}});
    if let (Some(spec), Some(extra)) = (p["spec"].as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    p
}

fn binding(actions: Value, extra: Value) -> Value {
    let mut b = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "min-replicas-binding"},
        "spec": {"policyName": "min-replicas", "validationActions": actions}});
    if let (Some(spec), Some(extra)) = (b["spec"].as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    b
}

fn deployment(name: &str, ns: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns, "labels": {"tier": "web"}},
        "spec": {"replicas": replicas}})
}

fn decide(policy: Value, binding: Value, objects: &[Value], target: usize) -> (Vec<String>, Vec<String>) {
    decide_update(policy, binding, objects, target, None)
}

/// [`decide`], as an update of `old` when given.
fn decide_update(
    policy: Value,
    binding: Value,
    objects: &[Value],
    target: usize,
    old: Option<Value>,
) -> (Vec<String>, Vec<String>) {
    let old = old.map(res);
    let resources: Vec<Resource> = objects.iter().cloned().map(res).collect();
    let refs: Vec<&Resource> = resources.iter().collect();
    let bound = bindings([&policy, &binding]);
    let ev = Evaluator::new();
    let plural = |_: &str, k: &str| format!("{}s", k.to_lowercase());
    let memo = Memo::default();
    let admission = Admission::new(&ev, &bound, &refs, &plural, &memo);
    let mut notes = Vec::new();
    let d = admission.decide(&resources[target], old.as_ref(), &mut notes);
    (d.iter().map(|d| format!("{:?}: {}", d.action, d.message)).collect(), notes)
}

const PREFIX: &str = "ValidatingAdmissionPolicy 'min-replicas' with binding 'min-replicas-binding' denied request: ";

#[test]
fn the_first_failed_validation_denies_as_on_the_server() {
    // Recorded from kube-apiserver v1.36.2 with this policy and binding.
    let cases = [
        ("api", 7, "failed expression: object.metadata.name.startsWith('w')"),
        ("web", 7, "too many: 7"),
        ("web", 3, "expression 'object.spec.missing == 1' resulted in error: no such key: missing"),
        ("web", 1, "at least 2 replicas"),
    ];
    for (name, replicas, message) in cases {
        let (d, _) =
            decide(policy(json!({})), binding(json!(["Deny"]), json!({})), &[deployment(name, "vt", replicas)], 0);
        assert_eq!(d, [format!("Deny: {PREFIX}{message}")], "{name} {replicas}");
    }
}

#[test]
fn warn_reports_every_failure_and_ignore_lets_errors_through() {
    let ignore = policy(json!({"failurePolicy": "Ignore"}));
    let (d, _) = decide(ignore, binding(json!(["Warn", "Audit"]), json!({})), &[deployment("api", "vt", 7)], 0);
    assert_eq!(d.len(), 2, "{d:?}");
    let warned =
        "Warn: Validation failed for ValidatingAdmissionPolicy 'min-replicas' with binding 'min-replicas-binding': ";
    assert!(d.iter().all(|l| l.starts_with(warned)), "{d:?}");
}

#[test]
fn selectors_params_and_authorizer() {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod", "labels": {"env": "prod"}}});
    let selected =
        binding(json!(["Deny"]), json!({"matchResources": {"namespaceSelector": {"matchLabels": {"env": "prod"}}}}));
    let objects = [ns, deployment("api", "prod", 1), deployment("api", "dev", 1)];
    assert_eq!(decide(policy(json!({})), selected.clone(), &objects, 1).0.len(), 1);
    assert!(decide(policy(json!({})), selected, &objects, 2).0.is_empty(), "dev is not selected");
    let excluded = policy(
        json!({"matchConstraints": {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"]}],
        "excludeResourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["deployments"]}]}}),
    );
    assert!(decide(excluded, binding(json!(["Deny"]), json!({})), &objects, 1).0.is_empty());

    let params = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "limits", "namespace": "prod"}, "data": {"min": "3"}});
    let with_params = policy(json!({"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
        "validations": [{"expression": "object.spec.replicas >= int(params.data.min)", "messageExpression": "'fewer than ' + params.data.min"}]}));
    let by_name = binding(json!(["Deny"]), json!({"paramRef": {"name": "limits", "parameterNotFoundAction": "Deny"}}));
    let objects = [params, deployment("api", "prod", 2), deployment("api", "dev", 5)];
    assert_eq!(decide(with_params.clone(), by_name.clone(), &objects, 1).0, [format!("Deny: {PREFIX}fewer than 3")]);
    let missing = decide(with_params, by_name, &objects, 2).0;
    assert!(
        missing[0].ends_with("no params found for policy binding with `Deny` parameterNotFoundAction"),
        "{missing:?}"
    );

    let authz = policy(
        json!({"validations": [{"expression": "authorizer.group('apps').resource('deployments').check('delete').allowed()"}]}),
    );
    let (d, notes) = decide(authz, binding(json!(["Deny"]), json!({})), &[deployment("api", "vt", 2)], 0);
    assert_eq!(d.len(), 1, "failurePolicy Fail: refused");
    assert!(notes[0].contains("cannot be answered offline"), "{notes:?}");
}

#[test]
fn object_paths_for_locating() {
    assert_eq!(object_path("object.spec.replicas >= 2"), ["spec", "replicas"]);
    assert_eq!(object_path("has(object.spec.template)"), ["spec", "template"]);
    assert!(object_path("oldObject.spec == 1").is_empty());
    assert_eq!(object_path("object.spec.containers.all(c, has(c.image))"), ["spec", "containers"]);
    assert_eq!(object_path("object.metadata.name.matches('^a')"), ["metadata", "name"]);
}

#[test]
fn updates_match_update_rules_and_see_the_old_object() {
    let shrink = json!({"failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
            "operations": ["UPDATE"], "resources": ["deployments"]}]},
        "variables": [],
        "validations": [{"expression": "object.spec.replicas >= oldObject.spec.replicas",
            "messageExpression": "request.operation + ': replicas ' + string(oldObject.spec.replicas) + ' -> ' + string(object.spec.replicas)"}]});
    let deny = || binding(json!(["Deny"]), json!({}));
    let now = [deployment("web", "vt", 3)];
    assert!(decide(policy(shrink.clone()), deny(), &now, 0).0.is_empty(), "a create matches no UPDATE rule");
    let shrunk = decide_update(policy(shrink.clone()), deny(), &now, 0, Some(deployment("web", "vt", 5))).0;
    assert_eq!(shrunk, [format!("Deny: {PREFIX}UPDATE: replicas 5 -> 3")]);
    assert!(decide_update(policy(shrink), deny(), &now, 0, Some(deployment("web", "vt", 2))).0.is_empty());
    // A CREATE-only policy lets updates through.
    let create_only = json!({"matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
        "operations": ["CREATE"], "resources": ["deployments"]}]}});
    let bad = [deployment("web", "vt", 1)];
    assert_eq!(decide(policy(create_only.clone()), deny(), &bad, 0).0.len(), 1);
    assert!(decide_update(policy(create_only), deny(), &bad, 0, Some(deployment("web", "vt", 1))).0.is_empty());
}

#[test]
fn on_an_update_the_object_selector_matches_the_old_or_the_new_object() {
    let selected =
        binding(json!(["Deny"]), json!({"matchResources": {"objectSelector": {"matchLabels": {"tier": "db"}}}}));
    let mut unlabelled = deployment("web", "vt", 1);
    unlabelled["metadata"]["labels"] = json!({});
    let mut was_db = deployment("web", "vt", 1);
    was_db["metadata"]["labels"] = json!({"tier": "db"});
    assert!(decide(policy(json!({})), selected.clone(), &[unlabelled.clone()], 0).0.is_empty());
    assert_eq!(decide_update(policy(json!({})), selected, &[unlabelled], 0, Some(was_db)).0.len(), 1);
}

/// Expressions evaluated on what their paths reach ([`projection`]) and answered from the
/// [`Memo`] give what they give on the whole object, for every object in turn: each path
/// kind (fields, literal indexes, `has`, comprehensions nested, `in`, `size()`, computed
/// values that carry elements on) and the ways a path stops.
#[test]
fn outcomes_from_projections_and_the_memo_equal_whole_evaluations() {
    let expressions = [
        "object.spec.replicas >= 2",
        "has(object.spec.replicas) && has(object.metadata.labels)",
        "object.spec.cs.all(c, c.image.startsWith('r/') && c.ports.all(p, p.port > 0))",
        "object.spec.cs.exists(c, has(c.probe)) || size(object.spec.cs) == 0",
        "has(object.spec.cs[0].probe) ? object.spec.cs[0].probe.path : 'none'",
        "object.spec.cs.filter(c, c.name == 'a')[0].image",
        "object.spec.cs.map(c, c.name).join(',')",
        "object.spec.cs.all(c, true)",
        "'tier' in object.metadata.labels && object.metadata.labels.all(k, k.size() < 10)",
        "object.metadata.labels.exists(k, object.metadata.labels[k] == 'db')",
        "object.spec.cs.size() + size(object.metadata.labels)",
        "object.spec.replicas.x == 1",
        "object.spec.cs.image",
        "object.spec.cs[5].image",
        "object.metadata",
    ];
    let objects = [
        json!({"metadata": {"name": "a", "labels": {"tier": "web"}},
            "spec": {"replicas": 3, "cs": [{"name": "a", "image": "r/a", "ports": [{"port": 80}], "probe": {"path": "/h"}}]}}),
        json!({"metadata": {"name": "b", "labels": {"tier": "web", "env": "x"}},
            "spec": {"replicas": 3, "cs": [{"name": "a", "image": "r/a", "ports": [{"port": 80}], "probe": {"path": "/h"}, "env": 1}]}}),
        json!({"metadata": {"name": "c", "labels": {"tier": "db"}},
            "spec": {"replicas": 1, "cs": [{"name": "b", "image": "q/b", "ports": [{"port": 0}]}, {"name": "a", "image": "r/c"}]}}),
        json!({"metadata": {"name": "d"}, "spec": {"replicas": "1", "cs": []}}),
        json!({"metadata": {"name": "e", "labels": {}}, "spec": {"cs": {"image": "r/x"}}}),
        json!({"metadata": {"name": "f", "labels": {"tier": "web"}},
            "spec": {"replicas": 3, "cs": [{"name": "a", "image": "r/a", "ports": [{"port": 80}], "probe": {"path": "/h"}}]}}),
        json!({"metadata": {"name": "g", "labels": null}, "spec": {"replicas": 3.0, "cs": [{"name": "a", "image": "r/a", "ports": []}]}}),
    ];
    let ev = Evaluator::new();
    let memo = Memo::default();
    let shown = |r: Result<Cel, String>| r.map(Outcome::from);
    for expr in expressions {
        let program = ev.compile(expr).unwrap();
        let paths = program.paths.clone().expect("reads documents only");
        for object in &objects {
            let whole = shown(ev.eval(&program, &[("object", &crate::check::cel::value::untyped(object))]));
            let reads: Vec<&[Segment]> = paths.iter().map(|(_, p)| p.as_slice()).collect();
            let mut only = ev.root().new_inner_scope();
            only.add_variable_as_val("object", projection(object, &reads));
            let projected = ev.run(&program, &only).map(Outcome::from);
            assert_eq!(projected, whole, "`{expr}` on {object}: paths {paths:?}");
            let key = memo_key(&memo, &paths, &|d| (d == 0).then_some(object));
            match memo.get(expr, key) {
                Some(known) => assert_eq!(known, whole, "`{expr}` remembered for {object}"),
                None => memo.put(expr, key, whole),
            }
        }
    }
    // Objects that differ only where an expression does not read share its entry.
    let entries = memo.outcomes.lock().unwrap();
    assert_eq!(entries.1["object.spec.cs.all(c, true)"].len(), 4, "lists of one, two and no elements; a map");
    assert!(entries.1["object.spec.replicas >= 2"].len() < objects.len());
}
