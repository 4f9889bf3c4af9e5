//! `rollout plan`'s apply-failure risks against the real API server's verdicts.
//!
//! `tests/fixtures/risks/<pair>/` holds an update pair (`before.yaml`, `after.yaml`)
//! and `server.json`, the verdict kube-apiserver v1.36.2 gave on a server-side dry-run
//! apply of the after side over the before side (recorded by `record.py` there). The
//! risks that say the server refuses the update ([`refused`]) must name exactly the
//! objects and fields the server named, each with a remedy; no server is needed.
//! With `STRATA_REGENERATE=1` the verdicts are recorded again first, from the real
//! server of `../shared/kapi` (started once for this binary, see `support::kapi`).

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use strata::facade::rollout::{Risk, RiskKind, of_objects};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/risks")
}

fn docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    strata::facade::yaml::parse_documents(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `Kind/name` of a risk's object (`apps/Deployment/web` → `Deployment/web`).
fn short(object: &str) -> String {
    let parts: Vec<&str> = object.split('/').collect();
    parts[parts.len() - 2..].join("/")
}

/// The risks that say the server refuses the apply.
fn refused(r: &Risk) -> bool {
    matches!(r.kind, RiskKind::ApplyFailure | RiskKind::ServerDefault)
}

/// Records every pair's verdict again (`record.py` against the real server).
fn regenerate() {
    let Some(kapi) = support::kapi::server() else { return };
    let out = std::process::Command::new("python3")
        .arg(corpus().join("record.py"))
        .env("KUBECONFIG", &kapi.kubeconfig)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "record.py failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn plan_flags_exactly_what_the_server_refuses() {
    if std::env::var("STRATA_REGENERATE").as_deref() == Ok("1") {
        regenerate();
    }
    let mut pairs: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("after.yaml").is_file())
        .collect();
    pairs.sort();
    assert!(pairs.len() >= 40, "the corpus holds {} pairs", pairs.len());
    let (mut refused_n, mut mismatches) = (0, Vec::new());
    for pair in &pairs {
        let name = pair.file_name().unwrap().to_string_lossy().to_string();
        let verdict: Value = serde_json::from_str(&std::fs::read_to_string(pair.join("server.json")).unwrap()).unwrap();
        let server: BTreeSet<(String, String)> = verdict["causes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| (c["object"].as_str().unwrap().to_string(), c["field"].as_str().unwrap().to_string()))
            .collect();
        if verdict["verdict"] == "refused" {
            refused_n += 1;
            assert!(!server.is_empty(), "{name}: refused without a cause");
        }
        let risks = of_objects(&docs(&pair.join("before.yaml")), &docs(&pair.join("after.yaml")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ours: BTreeSet<(String, String)> =
            risks.iter().filter(|r| refused(r)).map(|r| (short(&r.object), r.field.clone())).collect();
        for r in risks.iter().filter(|r| refused(r)) {
            assert!(!r.remedy.is_empty(), "{name}: no remedy for {r:?}");
        }
        if ours != server {
            mismatches.push(format!("{name}: server {server:?}, plan {ours:?}"));
        }
    }
    assert!(mismatches.is_empty(), "plan and server disagree:\n{}", mismatches.join("\n"));
    assert!(refused_n >= 20 && refused_n < pairs.len(), "{refused_n} of {} refused", pairs.len());
}
