use serde_json::json;

use super::*;

/// The schema of the probe the API server answered (recorded by hand from kube-apiserver
/// v1.36.2; the corpus in `tests/fixtures/cel/` covers the rest).
fn schema() -> Schema {
    serde_json::from_value(json!({
        "type": "object",
        "x-kubernetes-validations": [{"rule": "self.metadata.name != 'bad'"}],
        "properties": {"spec": {
            "type": "object",
            "x-kubernetes-validations": [
                {"rule": "self.name.startsWith('a')", "messageExpression": "'name ' + self.name + ' must start with a'",
                 "reason": "FieldValueForbidden", "fieldPath": ".name"},
                {"rule": "self.missing == 1"},
                {"rule": "self.replicas >= oldSelf.replicas", "message": "no scale down"}
            ],
            "properties": {
                "name": {"type": "string"}, "replicas": {"type": "integer"}, "missing": {"type": "integer"},
                "b": {"type": "boolean", "x-kubernetes-validations": [{"rule": "!self"}]},
                "a": {"type": "array", "items": {"type": "string", "x-kubernetes-validations": [{"rule": "self == 'q'"}]},
                      "x-kubernetes-validations": [{"rule": "size(self) == 0"}]},
                "m": {"type": "object", "additionalProperties": {"type": "integer", "x-kubernetes-validations": [{"rule": "self == 0"}]},
                      "x-kubernetes-validations": [{"rule": "size(self) == 0", "fieldPath": "['x.y']"}]},
                "ios": {"x-kubernetes-int-or-string": true, "x-kubernetes-validations": [{"rule": "self == 'z'"}]}
            }
        }}
    }))
    .unwrap()
}

fn lines(o: &Outcome) -> Vec<String> {
    o.failures.iter().map(|f| format!("{}: {}", f.server_field, f.message)).collect()
}

#[test]
fn create_reports_as_the_server() {
    let obj = json!({"apiVersion": "cel.test/v1", "kind": "Gadget", "metadata": {"name": "bad"},
        "spec": {"name": "bob", "replicas": 2, "b": true, "a": ["x", "q"], "m": {"x.y": 1, "k": 0}, "ios": 3}});
    let o = evaluate(&Evaluator::new(), &schema(), &obj, None);
    assert_eq!(
        lines(&o),
        [
            "<nil>: Invalid value: failed rule: self.metadata.name != 'bad'",
            "spec.name: Forbidden: name bob must start with a",
            "spec: Invalid value: \"object\": no such key: missing evaluating rule: self.missing == 1",
            "spec.b: Invalid value: true: failed rule: !self",
            "spec.a: Invalid value: failed rule: size(self) == 0",
            "spec.a[0]: Invalid value: \"x\": failed rule: self == 'q'",
            "spec.m.[x.y]: Invalid value: failed rule: size(self) == 0",
            "spec.m[x.y]: Invalid value: 1: failed rule: self == 0",
            "spec.ios: Invalid value: 3: failed rule: self == 'z'",
        ]
    );
    assert_eq!(o.skipped, [("spec".to_string(), "self.replicas >= oldSelf.replicas".to_string())]);
    assert_eq!(o.failures[1].field.to_string(), "spec.name");
}

#[test]
fn updates_evaluate_transition_rules_and_ratchet() {
    let old = json!({"metadata": {"name": "ok"}, "spec": {"name": "abc", "replicas": 3, "missing": 1, "b": true}});
    let new = json!({"metadata": {"name": "ok"}, "spec": {"name": "abc", "replicas": 2, "missing": 1, "b": true}});
    let o = evaluate(&Evaluator::new(), &schema(), &new, Some(&old));
    // `spec.b` is unchanged: its failing rule is ratcheted.
    assert_eq!(lines(&o), ["spec: Invalid value: no scale down"]);
    assert!(o.skipped.is_empty());
}

#[test]
fn undeclared_identifiers_are_refused_as_the_server_refuses_the_rule() {
    let s: Schema = serde_json::from_value(json!({"type": "object", "properties": {"spec": {"type": "object",
        "x-kubernetes-validations": [{"rule": "spec.x == 1"}, {"rule": "[1].all(i, i > 0) && type(self) == map"}]}}}))
    .unwrap();
    let o = evaluate(&Evaluator::new(), &s, &json!({"spec": {}}), None);
    assert_eq!(lines(&o), ["spec: Invalid value: compilation failed: undeclared reference to 'spec'"]);
}
