//! CEL as the API server evaluates it: strata's verdicts on the corpus of
//! `tests/fixtures/cel/` against those recorded from kube-apiserver v1.36.2.
//!
//! `corpus.json` holds the `Probe` CRD (one spec field per rule entry of `rules.yaml`) and
//! every case: an object created (server-side dry-run) or updated (the old object created
//! for real, the new one sent as a dry-run update), with the server's verdict and causes.
//! The test needs no server: for every case strata's verdict must equal the server's, and
//! for every denial its causes (field and message) must equal the server's.
//! With `STRATA_REGENERATE=1` (and `../shared/kapi`), `record.py` records the corpus again.

mod support;

use serde_json::{Value, json};
use strata::facade::check::cel::{Evaluator, evaluate_crd};

fn object(spec: Value) -> Value {
    json!({"apiVersion": "cel.strata.dev/v1", "kind": "Probe",
        "metadata": {"name": "case", "namespace": "cel-corpus"}, "spec": spec})
}

fn regenerate() {
    if std::env::var("STRATA_REGENERATE").as_deref() != Ok("1") {
        return;
    }
    let Some(kapi) = support::kapi::server() else { return };
    if !support::require_tool("python3") {
        return;
    }
    let out = std::process::Command::new("python3")
        .arg(support::fixture("cel/record.py"))
        .arg(&kapi.kubeconfig)
        .output()
        .unwrap();
    assert!(out.status.success(), "record.py failed: {}", String::from_utf8_lossy(&out.stderr));
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn verdicts_and_messages_equal_the_servers() {
    regenerate();
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
