//! Differential tests: strata's kustomize-compatible transforms against `kubectl kustomize`.
//!
//! Each directory under `tests/kustomize/` is a case: `resources.yaml` (what a target
//! rendered), `kustomization.yaml` (without the rendered file under `resources:`), the
//! patch files it names, and `expected.yaml`: the committed output of `kubectl kustomize`
//! on a copy of the case with `resources.yaml` listed under `resources:`.
//!
//! A case whose directory holds a file `oracle` containing `apiserver` exercises the
//! API-server directives kustomize 5.5 leaves in its output as literal fields
//! (`$retainKeys`, `$deleteFromPrimitiveList`, `$setElementOrder`): there `expected.yaml`
//! is the output of `kubectl patch --local --type strategic`, applying each
//! `patches[].path` file in turn to the single object of `resources.yaml`.
//!
//! - `strata_builds_the_committed_kubectl_output` always runs (no kubectl needed): the
//!   case goes through strata's library API (the render stage's label and annotation
//!   strings, `render::strings`, then `patch::load` + `patch::apply`) and the objects
//!   must equal those of `expected.yaml` (parsed, keyed by identity; not bytes).
//! - `committed_kubectl_output_is_current` re-runs kubectl and checks `expected.yaml`
//!   still holds what it builds (same objects). It needs kubectl (`support::require_tool`:
//!   a visible skip without it, a failure under `CI=true`). `STRATA_REGENERATE=1`
//!   rewrites every `expected.yaml` from kubectl instead (then run the tests again).
//!
//! `STRATA_CASE=<name>` runs one case.

mod support;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::Value;
use strata::facade::manifest::{Resource, TemplateOrigin};
use strata::facade::patch::{self, ApplyOptions};
use strata::facade::render::strings;
use strata::facade::source::{Fs, SourceInfo, WorkTreeSource};
use strata::facade::yaml;
use support::Strata;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kustomize")
}

/// (group, kind, namespace, name) → object.
type Objects = BTreeMap<(String, String, String, String), Value>;

fn key_of(v: &Value) -> (String, String, String, String) {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
    let api = s("/apiVersion");
    let group = api.rsplit_once('/').map(|(g, _)| g.to_string()).unwrap_or_default();
    (group, s("/kind"), s("/metadata/namespace"), s("/metadata/name"))
}

fn objects(values: impl IntoIterator<Item = Value>) -> Objects {
    let mut out = Objects::new();
    for v in values {
        if v.is_null() {
            continue;
        }
        let k = key_of(&v);
        assert!(out.insert(k.clone(), v).is_none(), "duplicate object {k:?}");
    }
    out
}

fn run_strata(dir: &Path) -> Result<Objects, String> {
    let fs = Fs::new(Arc::new(WorkTreeSource::new(dir, SourceInfo::default())));
    let text = std::fs::read_to_string(dir.join("resources.yaml")).map_err(|e| e.to_string())?;
    let docs = yaml::parse_documents(&text).map_err(|e| e.to_string())?;
    let template: Arc<str> = Arc::from("resources.yaml");
    let mut resources = Vec::new();
    for (doc, body) in docs.into_iter().enumerate() {
        if body.is_null() {
            continue;
        }
        // As the render stage reads a template's output: a `kind: List` is its items.
        for item in strata::facade::manifest::expand_lists(body) {
            resources
                .push(Resource::new(item, TemplateOrigin { template: template.clone(), doc }).map_err(|d| d.render())?);
        }
    }
    // What the render stage does to every rendered object.
    strings::labels_and_annotations(&mut resources, &text, "resources.yaml", || Some(text.clone()))
        .map_err(|e| e.iter().map(|d| d.render()).collect::<String>())?;
    let k = patch::load(&fs, "").map_err(|e| e.to_string())?.ok_or("no kustomization.yaml")?;
    let out = patch::apply(resources, &k, &ApplyOptions::default()).map_err(|e| e.to_string())?;
    Ok(objects(out.into_iter().map(|r| r.body)))
}

/// The kustomization with `resources.yaml` first under `resources:`.
fn with_rendered_resources(text: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if !done && line.trim_end() == "resources:" {
            out.push_str("- resources.yaml\n");
            done = true;
        }
    }
    if !done {
        out.push_str("resources:\n- resources.yaml\n");
    }
    out
}

fn parse_stream(text: &str) -> Vec<Value> {
    yaml::parse_documents(text).unwrap_or_else(|e| panic!("kubectl output is not YAML: {e}\n{text}"))
}

fn run_kubectl_kustomize(case: &Path, tmp: &Path) -> Result<String, String> {
    support::copy_tree(case, tmp);
    let k = std::fs::read_to_string(case.join("kustomization.yaml")).unwrap();
    std::fs::write(tmp.join("kustomization.yaml"), with_rendered_resources(&k)).unwrap();
    let out = Command::new("kubectl").arg("kustomize").arg(tmp).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn run_kubectl_patch(case: &Path, tmp: &Path) -> Result<String, String> {
    let k = yaml::parse_one(&std::fs::read_to_string(case.join("kustomization.yaml")).unwrap()).unwrap();
    let mut current = std::fs::read_to_string(case.join("resources.yaml")).unwrap();
    std::fs::create_dir_all(tmp).unwrap();
    for p in k["patches"].as_array().expect("an apiserver case has `patches`") {
        let path = p["path"].as_str().expect("an apiserver case names patch files");
        let obj = tmp.join("object.yaml");
        std::fs::write(&obj, &current).unwrap();
        let out = Command::new("kubectl")
            .args(["patch", "--local", "--type", "strategic", "-o", "yaml", "-f"])
            .arg(&obj)
            .arg("--patch-file")
            .arg(case.join(path))
            .env_remove("KUBECONFIG")
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        current = String::from_utf8_lossy(&out.stdout).into_owned();
    }
    Ok(current)
}

/// What kubectl builds for the case: `kubectl kustomize`, or `kubectl patch --local`
/// for an `oracle`=`apiserver` case.
fn run_kubectl(case: &Path, tmp: &Path) -> Result<String, String> {
    let oracle = std::fs::read_to_string(case.join("oracle")).unwrap_or_default();
    if oracle.trim() == "apiserver" { run_kubectl_patch(case, tmp) } else { run_kubectl_kustomize(case, tmp) }
}

fn show(v: &Value) -> String {
    yaml::to_string(v)
}

fn expected_file(case: &Path) -> PathBuf {
    case.join("expected.yaml")
}

/// Every case directory, in name order (only the one `STRATA_CASE` names, if set).
fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/kustomize exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("kustomization.yaml").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 40, "the corpus has {} cases; it must keep at least 40", cases.len());
    if let Ok(only) = std::env::var("STRATA_CASE") {
        cases.retain(|c| c.file_name().is_some_and(|n| n == only.as_str()));
    }
    cases
}

fn case_name(case: &Path) -> String {
    case.file_name().unwrap().to_string_lossy().into_owned()
}

/// What differs between two sets of objects, one message per object.
fn differences(want: &Objects, got: &Objects, want_is: &str, got_is: &str) -> Vec<String> {
    let mut msgs = Vec::new();
    for (k, w) in want {
        match got.get(k) {
            None => msgs.push(format!("  missing in {got_is}: {k:?}\n{}", show(w))),
            Some(g) if g != w => {
                msgs.push(format!("  differs: {k:?}\n--- {want_is}\n{}--- {got_is}\n{}", show(w), show(g)))
            }
            Some(_) => {}
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        msgs.push(format!("  only in {got_is}: {k:?}\n{}", show(&got[k])));
    }
    msgs
}

#[test]
fn strata_builds_the_committed_kubectl_output() {
    let cases = cases();
    let mut failures = Vec::new();
    let t = std::time::Instant::now();
    for case in &cases {
        let name = case_name(case);
        let Ok(text) = std::fs::read_to_string(expected_file(case)) else {
            failures.push(format!("{name}: no expected.yaml; write it with STRATA_REGENERATE=1 (needs kubectl)"));
            continue;
        };
        let want = objects(parse_stream(&text));
        match run_strata(case) {
            Ok(got) => {
                let msgs = differences(&want, &got, "kubectl (expected.yaml)", "strata");
                if !msgs.is_empty() {
                    failures.push(format!("{name}:\n{}", msgs.join("\n")));
                }
            }
            Err(e) => failures.push(format!("{name}: strata failed:\n{e}")),
        }
    }
    eprintln!("{} cases: strata {:?} (library, debug build)", cases.len(), t.elapsed());
    assert!(failures.is_empty(), "{} of {} cases differ:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

#[test]
fn committed_kubectl_output_is_current() {
    if !support::require_tool("kubectl") {
        return;
    }
    let regenerate = std::env::var("STRATA_REGENERATE").as_deref() == Ok("1");
    let cases = cases();
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case_name(case);
        let fresh = match run_kubectl(case, &tmp.path().join(&name)) {
            Ok(text) => text,
            Err(e) => {
                failures.push(format!("{name}: kubectl failed:\n{e}"));
                continue;
            }
        };
        let file = expected_file(case);
        if regenerate {
            // Through a rename, so the other test never reads half a file.
            let part = case.join("expected.yaml.part");
            std::fs::write(&part, &fresh).unwrap();
            std::fs::rename(&part, &file).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        let msgs =
            differences(&objects(parse_stream(&fresh)), &objects(parse_stream(&committed)), "kubectl", "expected.yaml");
        if !msgs.is_empty() {
            failures.push(format!("{name}:\n{}", msgs.join("\n")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} committed outputs are not what kubectl builds (STRATA_REGENERATE=1 rewrites them):\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_case_has_its_files() {
    for e in std::fs::read_dir(cases_dir()).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            assert!(p.join("resources.yaml").exists(), "{} has no resources.yaml", p.display());
            assert!(p.join("kustomization.yaml").exists(), "{} has no kustomization.yaml", p.display());
            assert!(expected_file(&p).exists(), "{} has no expected.yaml (STRATA_REGENERATE=1 writes it)", p.display());
        }
    }
}

fn strata_render(repo: &Path, selector: &str) -> String {
    let args = [OsStr::new("render"), OsStr::new("--repo"), repo.as_os_str(), OsStr::new(selector)];
    let out = Strata::in_dir(support::project_root()).run(args);
    assert!(out.status.success(), "strata render failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The example repository's kustomization (the worked example of docs/reference/kustomize.md): `strata render`
/// of the target equals `kubectl kustomize` of the same kustomization over what the
/// target renders without it.
#[cfg(unix)]
#[test]
fn example_repo_kustomization_matches_kubectl_kustomize() {
    if !support::require_tool("kubectl") {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("example-repo");
    let target = "frontend/prod/westus";
    let with = objects(parse_stream(&strata_render(&repo, target)));

    let tmp = tempfile::tempdir().unwrap();
    let bare = tmp.path().join("repo");
    support::copy_tree(&repo, &bare);
    let kdir = tmp.path().join("kustomize");
    support::copy_tree(&repo.join(target), &kdir);
    std::fs::remove_file(kdir.join("templates")).ok();
    std::fs::remove_file(kdir.join("parameters.yaml")).ok();
    std::fs::remove_file(bare.join(target).join("kustomization.yaml")).unwrap();
    std::fs::write(kdir.join("resources.yaml"), strata_render(&bare, target)).unwrap();
    let k = std::fs::read_to_string(kdir.join("kustomization.yaml")).unwrap();
    std::fs::write(kdir.join("kustomization.yaml"), with_rendered_resources(&k)).unwrap();
    let out = Command::new("kubectl").arg("kustomize").arg(&kdir).output().unwrap();
    assert!(out.status.success(), "kubectl kustomize failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let want = objects(parse_stream(&String::from_utf8_lossy(&out.stdout)));
    assert_eq!(want.keys().collect::<Vec<_>>(), with.keys().collect::<Vec<_>>());
    for (k, w) in &want {
        assert_eq!(&with[k], w, "{k:?} differs:\n--- kubectl\n{}--- strata\n{}", show(w), show(&with[k]));
    }
    // The kustomization did something: the sidecar is there.
    let d = &with[&("apps".to_string(), "Deployment".to_string(), "web".to_string(), "frontend".to_string())];
    assert_eq!(d.pointer("/spec/template/spec/containers/1/name").and_then(Value::as_str), Some("exporter"));
}
