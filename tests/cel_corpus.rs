//! CEL as the API server evaluates it: strata's verdicts on the corpus of
//! `tests/fixtures/cel/` against those recorded from kube-apiserver v1.36.2.
//!
//! `corpus.json` holds the `Probe` CRD (one spec field per rule entry of `rules.yaml`) and
//! every case: an object created (server-side dry-run) or updated (the old object created
//! for real, the new one sent as a dry-run update), with the server's verdict and causes.
//! The test needs no server: for every case strata's verdict must equal the server's, and
//! for every denial its causes (field and message) must equal the server's.
//! With `STRATA_REGENERATE=1` (and `../shared/kapi`), `record.py` records the corpus again.
//!
//! `admission/` holds ValidatingAdmissionPolicies and bindings (`setup.yaml`) and objects
//! created under them (`objects.yaml`), with the server's verdict, denial message and
//! warnings per object (`recorded.json`); `strata check --rules admission-policy` must give
//! the same verdicts, messages and warnings. `updates.yaml` holds update pairs under the
//! policies of `updates-setup.yaml`, with the server's verdict on a dry-run apply of each
//! `after` over its `before` (`updates.json`); `check --from`'s admission (operation
//! `UPDATE`, `oldObject`) must agree.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use strata::facade::check::cel::{Evaluator, evaluate_crd};
use strata::facade::check::{self, CheckConfig, CheckEnvironment, CheckOptions, Severity};
use strata::facade::manifest::{Resource, TemplateOrigin};

fn object(spec: Value) -> Value {
    json!({"apiVersion": "cel.strata.dev/v1", "kind": "Probe",
        "metadata": {"name": "case", "namespace": "cel-corpus"}, "spec": spec})
}

fn regenerate(script: &str) {
    if std::env::var("STRATA_REGENERATE").as_deref() != Ok("1") {
        return;
    }
    let Some(kapi) = support::kapi::server() else { return };
    if !support::require_tool("python3") {
        return;
    }
    let out =
        std::process::Command::new("python3").arg(support::fixture(script)).arg(&kapi.kubeconfig).output().unwrap();
    assert!(out.status.success(), "record.py failed: {}", String::from_utf8_lossy(&out.stderr));
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn verdicts_and_messages_equal_the_servers() {
    regenerate("cel/record.py");
    let text = std::fs::read_to_string(support::fixture("cel/corpus.json")).unwrap();
    let corpus: Value = serde_json::from_str(&text).unwrap();
    let crds = [corpus["crd"].clone()];
    let ev = Evaluator::new();
    let cases = corpus["cases"].as_array().unwrap();
    assert!(cases.len() >= 200, "the corpus has {} cases; at least 200 are promised", cases.len());
    let mut wrong = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let new = object(json!({ id: case["object"] }));
        let old = case.get("old").map(|o| object(json!({ id: o })));
        let outcome = evaluate_crd(&ev, &crds, &new, old.as_ref()).expect("the Probe CRD serves the case");
        let mut ours: Vec<String> =
            outcome.failures.iter().map(|f| format!("{}: {}", f.server_field, f.message)).collect();
        let mut theirs: Vec<String> = case["causes"]
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|c| format!("{}: {}", c["field"].as_str().unwrap(), c["message"].as_str().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        ours.sort();
        theirs.sort();
        let allowed = case["allowed"].as_bool().unwrap();
        if allowed != ours.is_empty() || (!allowed && ours != theirs) {
            wrong.push(format!(
                "{id} {} {}:\n  server: {}\n  strata: {}",
                case["op"].as_str().unwrap(),
                case["object"],
                if allowed { "allowed".to_string() } else { theirs.join(" | ") },
                if ours.is_empty() { "allowed".to_string() } else { ours.join(" | ") },
            ));
        }
    }
    assert!(wrong.is_empty(), "{} of {} cases differ from the server:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}

fn load(path: &Path) -> Vec<Resource> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name: Arc<str> = path.file_name().unwrap().to_string_lossy().into();
    let docs = text.split("\n---").map(|d| serde_yaml::from_str::<Value>(d).unwrap());
    let bodies = docs.filter(Value::is_object).enumerate();
    bodies.map(|(doc, v)| Resource::new(v, TemplateOrigin { template: name.clone(), doc }).unwrap()).collect()
}

/// `Kind/namespace/name`, as `record.py` names an object.
fn key(kind: &str, namespace: Option<&str>, name: &str) -> String {
    format!("{kind}/{}/{name}", namespace.unwrap_or(""))
}

#[test]
fn admission_verdicts_messages_and_warnings_equal_the_servers() {
    regenerate("cel/admission/record.py");
    let dir = support::fixture("cel/admission");
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("recorded.json")).unwrap()).unwrap();
    let (setup, objects) = (load(&dir.join("setup.yaml")), load(&dir.join("objects.yaml")));
    let env = CheckEnvironment {
        name: "admission".into(),
        objects: setup.iter().chain(&objects).map(|r| ("admission/corpus".to_string(), r)).collect(),
        previous: None,
    };
    let run = |rules: &[&str]| {
        let only_rules = Some(rules.iter().map(|r| r.to_string()).collect());
        check::run(
            std::slice::from_ref(&env),
            &CheckConfig::default(),
            &CheckOptions { only_rules, ..Default::default() },
        )
    };
    let report = run(&["admission-policy"]);
    let validation = run(&["schema", "server-validation"]);
    let mut ours: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for f in &report.findings {
        let entry = ours.entry(key(&f.object.kind, f.object.namespace.as_deref(), &f.object.name)).or_default();
        match f.severity {
            Severity::Error => entry.0.push(f.message.clone()),
            _ => entry.1.push(f.message.clone()),
        }
    }
    let cases = recorded["cases"].as_array().unwrap();
    let (mut denied, mut wrong) = (0, Vec::new());
    for case in cases {
        let id = case["object"].as_str().unwrap();
        let (errors, warnings) = ours.remove(id).unwrap_or_default();
        let theirs: Vec<&str> = case["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
        let message = case["message"].as_str().unwrap_or("");
        let agrees = match case["allowed"].as_bool().unwrap() {
            true => errors.is_empty() && warnings == theirs,
            false if message.starts_with("ValidatingAdmissionPolicy ") => errors == [message] && warnings == theirs,
            // Refused by the server's own validation, before the policies run.
            false => validation.findings.iter().any(|f| {
                f.severity == Severity::Error
                    && key(&f.object.kind, f.object.namespace.as_deref(), &f.object.name) == id
            }),
        };
        denied += usize::from(!case["allowed"].as_bool().unwrap());
        if !agrees {
            wrong.push(format!("{id}:\n  server: {message} {theirs:?}\n  strata: {errors:?} {warnings:?}"));
        }
    }
    eprintln!("{} of {} objects ({denied} denied) agree with the server", cases.len() - wrong.len(), cases.len());
    assert!(wrong.is_empty(), "{} objects differ from the server:\n{}", wrong.len(), wrong.join("\n"));
    let mut ids: Vec<String> = objects.iter().map(|o| key(&o.id.kind, o.id.namespace.as_deref(), &o.id.name)).collect();
    let mut recorded: Vec<&str> = cases.iter().map(|c| c["object"].as_str().unwrap()).collect();
    ids.sort();
    recorded.sort();
    assert_eq!(ids, recorded, "recorded.json names each object of objects.yaml once");
}

#[test]
fn admission_of_updates_equals_the_servers() {
    // Recorded by the same record.py as the creates (see the test above).
    let dir = support::fixture("cel/admission");
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("updates.json")).unwrap()).unwrap();
    let setup: Vec<Resource> =
        load(&dir.join("setup.yaml")).into_iter().chain(load(&dir.join("updates-setup.yaml"))).collect();
    let text = std::fs::read_to_string(dir.join("updates.yaml")).unwrap();
    let pairs: Vec<Value> =
        text.split("\n---").map(|d| serde_yaml::from_str::<Value>(d).unwrap()).filter(Value::is_object).collect();
    let origin = |doc| TemplateOrigin { template: Arc::from("updates.yaml"), doc };
    let before: Vec<Resource> =
        pairs.iter().enumerate().map(|(i, p)| Resource::new(p["before"].clone(), origin(i)).unwrap()).collect();
    let after: Vec<Resource> =
        pairs.iter().enumerate().map(|(i, p)| Resource::new(p["after"].clone(), origin(i)).unwrap()).collect();
    let env = CheckEnvironment {
        name: "updates".into(),
        objects: setup.iter().chain(&after).map(|r| ("admission/updates".to_string(), r)).collect(),
        previous: Some(setup.iter().chain(&before).map(|r| (&r.id, r)).collect()),
    };
    let opts = CheckOptions { only_rules: Some(vec!["admission-policy".to_string()]), ..Default::default() };
    let report = check::run(std::slice::from_ref(&env), &CheckConfig::default(), &opts);
    let cases = recorded["cases"].as_array().unwrap();
    assert_eq!(cases.len(), pairs.len(), "updates.json has a verdict per pair");
    let mut wrong = Vec::new();
    for (case, pair) in cases.iter().zip(&pairs) {
        let id = case["object"].as_str().unwrap();
        let ours: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| key(&f.object.kind, f.object.namespace.as_deref(), &f.object.name) == id)
            .map(|f| f.message.as_str())
            .collect();
        let theirs: Vec<&str> = case["message"].as_str().into_iter().collect();
        if ours != theirs {
            wrong.push(format!("{id} ({}):\n  server: {theirs:?}\n  strata: {ours:?}", pair["case"]));
        }
    }
    let denied = cases.iter().filter(|c| c["allowed"] == false).count();
    eprintln!("{} of {} updates ({denied} denied) agree with the server", cases.len() - wrong.len(), cases.len());
    assert!(wrong.is_empty(), "{} updates differ from the server:\n{}", wrong.len(), wrong.join("\n"));
    assert!(denied >= 5 && denied < cases.len(), "the corpus refuses some updates and allows others");
}
