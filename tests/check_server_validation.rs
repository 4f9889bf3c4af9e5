//! `strata check --rules schema,server-validation` against the real API server's
//! create-time verdicts: `tests/fixtures/create/` holds objects that break a rule of the
//! server's validation code and valid twins, and `verdicts.json` what kube-apiserver
//! v1.36.2 answered to a strict server-side dry-run apply of each (`record.py` there).
//! Check must refuse exactly the objects the server refused, naming the server's fields.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use strata::facade::check::{self, CheckConfig, CheckEnvironment, CheckOptions, Severity};
use strata::facade::manifest::{Resource, TemplateOrigin};

/// One spelling of a field path: a key in brackets (`data[a b]`, `data["a b"]`) becomes
/// `.a b`, indexes stay; a Secret's `stringData` key is reported by the server under `data`.
fn normalize(field: &str) -> String {
    let mut out = String::new();
    let mut rest = field;
    while let Some(open) = rest.find('[') {
        let close = rest[open..].find(']').map_or(rest.len(), |c| open + c);
        out.push_str(&rest[..open]);
        let inner = rest[open + 1..close].trim_matches('"');
        if inner.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{inner}]"));
        } else {
            out.push_str(&format!(".{inner}"));
        }
        rest = rest.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out.replace("stringData", "data")
}

/// The fields of check's errors for one object.
fn check_errors(name: &str, body: Value) -> BTreeSet<String> {
    let origin = TemplateOrigin { template: Arc::from(format!("{name}.yaml").as_str()), doc: 0 };
    let mut body = body;
    // The recorder creates namespaced objects in a namespace; so does a target.
    if body["metadata"].get("namespace").is_none() {
        body["metadata"]["namespace"] = Value::String("create".into());
    }
    let r = Resource::new(body, origin).unwrap();
    let env =
        CheckEnvironment { name: "create".into(), objects: vec![("create/case".to_string(), &r)], previous: None };
    let opts = CheckOptions {
        only_rules: Some(vec!["schema".into(), "server-validation".into()]),
        kube_version: check::KubeVersion::parse("1.36"),
        ..CheckOptions::default()
    };
    let report = check::run(&[env], &CheckConfig::default(), &opts);
    report.findings.iter().filter(|f| f.severity == Severity::Error).map(|f| normalize(&f.field.to_string())).collect()
}

#[test]
fn check_refuses_exactly_what_the_server_refuses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/create");
    let verdicts: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("verdicts.json")).unwrap()).unwrap();
    let verdicts = verdicts.as_object().unwrap();
    assert!(verdicts.len() >= 50, "{} objects", verdicts.len());
    let mut disagree = Vec::new();
    for (name, v) in verdicts {
        let text = std::fs::read_to_string(dir.join(format!("{name}.yaml"))).unwrap();
        let body = strata::facade::yaml::parse_documents(&text).unwrap().remove(0);
        let ours = check_errors(name, body);
        let server: BTreeSet<String> =
            v["causes"].as_array().into_iter().flatten().map(|c| normalize(c["field"].as_str().unwrap())).collect();
        if ours != server {
            disagree.push(format!("{name}: server {server:?}, check {ours:?}"));
        }
    }
    assert!(disagree.is_empty(), "check and the server disagree:\n{}", disagree.join("\n"));
    let refused = verdicts.values().filter(|v| v["verdict"] == "refused").count();
    assert!(refused >= 25 && refused < verdicts.len(), "{refused} refused");
}
