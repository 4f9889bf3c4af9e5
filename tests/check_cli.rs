//! `strata check` end to end: example-repo is clean, the findings case points at template
//! lines in every format, the SARIF output has the shape SARIF 2.1.0 requires, and bad
//! configuration exits 2 naming its line.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::{Strata, project_root, strata};

fn findings_case() -> std::path::PathBuf {
    project_root().join("tests/cases/check-findings/repo")
}

fn check(args: &[&str]) -> std::process::Output {
    let repo = findings_case();
    let mut all = vec!["--repo", repo.to_str().unwrap(), "check"];
    all.extend_from_slice(args);
    strata(&all)
}

#[test]
fn example_repo_passes() {
    let out = strata(&["--repo", "example-repo", "check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("0 errors"), "{stdout}");
}

#[test]
fn each_problem_is_one_finding_at_its_template_line() {
    let out = check(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: BTreeSet<(String, String, u64, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("rule"), s("template"), f["line"].as_u64().unwrap_or(0), s("field"))
        })
        .collect();
    let want: BTreeSet<(String, String, u64, String)> = [
        ("schema", "shop/v1/web.yaml", 6, "spec.replica"),
        ("dangling-reference", "shop/v1/web.yaml", 23, "spec.template.spec.containers[0].envFrom[0].configMapRef.name"),
        ("probes", "shop/v1/worker.yaml", 19, "spec.template.spec.containers[0]"),
        ("dangling-service", "shop/v1/admin.yaml", 7, "spec.selector"),
        ("deprecated-api", "shop/v1/pdb.yaml", 1, "apiVersion"),
    ]
    .into_iter()
    .map(|(r, t, l, f)| (r.to_string(), t.to_string(), l, f.to_string()))
    .collect();
    assert_eq!(got, want);
    // The typoed field's value is one `{{ Values.replicas }}`: the values file that set it.
    let schema = v["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "schema").unwrap();
    assert_eq!(schema["value"], "shop/v1/values.yaml:1:1");
}

#[test]
fn strict_and_rule_selection() {
    // Only the warning (probes): exit 0, unless --strict.
    assert_eq!(check(&["--rules", "probes"]).status.code(), Some(0));
    assert_eq!(check(&["--rules", "probes", "--strict"]).status.code(), Some(1));
    let out = check(&["--rules", "probe"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown rule `probe` in `--rules`") && stderr.contains("did you mean `probes`?"),
        "{stderr}"
    );
}

#[test]
fn github_annotations_carry_file_and_line() {
    let out = check(&["--format", "github", "--rules", "schema,deprecated-api"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "::error file=shop/v1/pdb.yaml,line=1,col=1,title=strata check deprecated-api (shop/east)::`policy/v1beta1` PodDisruptionBudget was removed in Kubernetes 1.25 (cluster: 1.33) at `apiVersion` in policy/PodDisruptionBudget/shop/web\n::error file=shop/v1/web.yaml,line=6,col=3,title=strata check schema (shop/east)::unknown field `replica` (did you mean `replicas`?) at `spec.replica` in apps/Deployment/shop/web\n"
    );
}

/// The parts of SARIF 2.1.0 (sarif-schema-2.1.0.json) that code scanning reads, checked by
/// hand: the schema's required properties and enums on every object the output has.
#[test]
fn sarif_has_the_2_1_0_shape() {
    let out = check(&["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "strata");
    let rules = driver["rules"].as_array().unwrap();
    let ids: BTreeSet<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), rules.len(), "rule ids are unique");
    for r in rules {
        assert!(r["shortDescription"]["text"].is_string() && r["help"]["text"].is_string());
        let level = r["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["none", "note", "warning", "error"].contains(&level));
    }
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(["none", "note", "warning", "error"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let phys = &r["locations"][0]["physicalLocation"];
        let uri = phys["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.starts_with('/') && !uri.contains('\\'), "relative URI: {uri}");
        assert!(phys["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(phys["region"]["startColumn"].as_u64().unwrap() >= 1);
        assert!(r["partialFingerprints"].is_object());
    }
}

#[test]
fn unknown_rule_in_strata_yaml_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    support::copy_tree(&findings_case(), dir.path());
    let config = "kubeVersion: \"1.33.0\"\ncheck:\n  rules:\n    probes: off\n    imagetag: error\n";
    std::fs::write(dir.path().join("strata.yaml"), config).unwrap();
    let out = Strata::in_dir(dir.path()).run(["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown rule `imagetag` in `check.rules`"), "{stderr}");
    assert!(stderr.contains("--> strata.yaml:5:5"), "{stderr}");
    assert!(stderr.contains("did you mean `image-tag`?"), "{stderr}");
}

/// The check-rule-cel repository with a schedule that may not change (a transition rule)
/// and an admission policy on updates, in git: `keep` and `schedule` as given.
fn backup_history(dir: &std::path::Path, versions: &[(u32, &str)]) {
    support::copy_tree(&project_root().join("tests/cases/check-rule-cel/repo"), dir);
    let crd = dir.join("shop/v1/backup.yaml");
    let text = std::fs::read_to_string(&crd).unwrap();
    let text = text.replace(
        "                keep: {type: integer}\n",
        "                keep: {type: integer}\n                schedule:\n                  type: string\n                  x-kubernetes-validations:\n                    - rule: \"self == oldSelf\"\n                      message: \"schedule is immutable\"\n",
    );
    let policy = "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: keep-grows\nspec:\n  failurePolicy: Fail\n  matchConstraints:\n    resourceRules:\n      - {apiGroups: [shop.example.com], apiVersions: [v1], operations: [UPDATE], resources: [backups]}\n  validations:\n    - expression: object.spec.keep >= oldObject.spec.keep\n      message: keep may not go down\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: keep-grows\nspec:\n  policyName: keep-grows\n  validationActions: [Deny]\n";
    support::git(dir, &["init", "-q", "-b", "main"]);
    for (keep, schedule) in versions {
        let (head, _) = text.split_once("  minKeep: 7").unwrap();
        let body = format!("{head}  minKeep: 7\n  keep: {keep}\n  schedule: {schedule}\n{policy}");
        std::fs::write(&crd, body).unwrap();
        support::git(dir, &["add", "-A"]);
        support::git(dir, &["commit", "-q", "-m", &format!("keep {keep}, {schedule}")]);
    }
}

#[test]
fn from_checks_updates_transition_rules_and_update_policies() {
    let dir = tempfile::tempdir().unwrap();
    backup_history(dir.path(), &[(9, "daily"), (8, "hourly")]);
    let repo = dir.path().to_str().unwrap();
    // As a create: valid, the transition rule named as not checked.
    let created = strata(&["--repo", repo, "check", "--rules", "cel,admission-policy"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&created.stdout), String::from_utf8_lossy(&created.stderr));
    assert_eq!(created.status.code(), Some(0), "{stdout}{stderr}");
    assert!(format!("{stdout}{stderr}").contains("reads `oldSelf`"), "{stdout}{stderr}");
    // As an update of HEAD~1: both refusals, at their template lines.
    let updated = strata(&["--repo", repo, "check", "--rules", "cel,admission-policy", "--from", "HEAD~1"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&updated.stdout), String::from_utf8_lossy(&updated.stderr));
    assert_eq!(updated.status.code(), Some(1), "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("error") || l.contains("-->")).collect();
    assert_eq!(
        lines,
        [
            "error[admission-policy]: ValidatingAdmissionPolicy 'keep-grows' with binding 'keep-grows' denied request: keep may not go down at `spec.keep`",
            "  --> shop/v1/backup.yaml:38:3",
            "error[cel]: Invalid value: \"hourly\": schedule is immutable at `spec.schedule`",
            "  --> shop/v1/backup.yaml:39:3",
        ],
        "{stdout}"
    );
    assert!(!stdout.contains("oldSelf"), "with --from the rule ran: {stdout}");
    // Unchanged since HEAD: every object is an update of itself and passes.
    let same = strata(&["--repo", repo, "check", "--rules", "cel,admission-policy", "--from", "HEAD"]);
    assert_eq!(same.status.code(), Some(0), "{}", String::from_utf8_lossy(&same.stdout));
    // A revision that does not exist is bad input.
    let bad = strata(&["--repo", repo, "check", "--from", "no-such-rev"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no-such-rev"));
}
