//! `strata check --rules schema,deprecated-api` against a real API server's verdicts: the
//! `validation/` corpus of `tests/fixtures/apiserver` (kube-apiserver v1.36.2, server-side
//! dry-run with `fieldValidation=Strict`), and the objects of `desired/` that it accepted.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use strata::facade::check::{self, CheckConfig, CheckEnvironment, CheckOptions, Report};
use strata::facade::manifest::{Resource, TemplateOrigin};

fn load(path: &Path) -> Vec<Resource> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name: Arc<str> = path.file_name().unwrap().to_string_lossy().into();
    let mut out = Vec::new();
    for (doc, d) in text.split("\n---").enumerate() {
        let v: Value = serde_yaml::from_str(d).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if v.is_object() {
            out.push(Resource::new(v, TemplateOrigin { template: name.clone(), doc }).unwrap());
        }
    }
    out
}

fn run(objects: &[Resource], extra_crds: Vec<Value>, rules: &[&str]) -> Report {
    let env = CheckEnvironment {
        name: "validation".into(),
        objects: objects.iter().map(|r| ("validation/case".to_string(), r)).collect(),
        previous: None,
    };
    let opts = CheckOptions {
        only_rules: Some(rules.iter().map(|r| r.to_string()).collect()),
        kube_version: check::KubeVersion::parse("1.36"),
        extra_crds,
        ..CheckOptions::default()
    };
    check::run(&[env], &CheckConfig::default(), &opts)
}

#[test]
fn agrees_with_the_api_server() {
    let dir = support::fixture("apiserver/validation");
    let crd: Vec<Value> = load(&dir.join("crd.yaml")).into_iter().map(|r| r.body).collect();
    let mut cases: Vec<PathBuf> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    let (mut agree, mut failures) = (0, Vec::new());
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let verdict = std::fs::read_to_string(case.join("verdict.txt")).unwrap();
        let accepted = verdict.starts_with("accepted");
        let class = verdict.lines().find_map(|l| l.strip_prefix("class: ")).unwrap_or("").trim().to_string();
        let objects = load(&case.join("object.yaml"));
        let report = run(&objects, crd.clone(), &["schema", "deprecated-api"]);
        let errors: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.severity == check::Severity::Error)
            .map(|f| format!("{} {}: {}", f.rule, f.field, f.message))
            .collect();
        let ok = match (accepted, class.as_str()) {
            (true, _) => errors.is_empty(),
            (false, "schema") => errors.iter().any(|e| e.starts_with("schema ")),
            (false, "removed-api") => errors.iter().any(|e| e.starts_with("deprecated-api ")),
            // Refused by the server's own validation: the `server-validation` rule's business.
            (false, _) => !run(&objects, crd.clone(), &["server-validation"]).findings.is_empty(),
        };
        if ok {
            agree += 1;
        } else {
            failures.push(format!("{name} ({class}): {errors:?}"));
        }
    }
    eprintln!("{agree} of {} cases agree with the API server", cases.len());
    assert!(failures.is_empty(), "disagreements:\n{}", failures.join("\n"));
    assert_eq!(cases.len(), 48);
}

#[test]
fn desired_objects_pass_the_schema_check() {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(support::fixture("apiserver/desired")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let objects: Vec<Resource> = files.iter().flat_map(|f| load(f)).collect();
    assert!(objects.len() >= 11);
    let report = run(&objects, Vec::new(), &["schema", "deprecated-api", "server-validation"]);
    assert!(report.findings.is_empty(), "{}", check::report::text(&report));
}
