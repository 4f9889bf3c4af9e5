//! `strata rollout plan` and `strata rollout export` end to end, on git
//! repositories built here with the git CLI, and `strata.yaml` waves that cover,
//! overlap or miss environments.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::{Strata, require_tool};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/example-repo");

fn git(dir: &Path, args: &[&str]) {
    support::git(dir, args);
}

fn write(dir: &Path, path: &str, content: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

fn link(dir: &Path, path: &str, target: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&p);
    std::os::unix::fs::symlink(target, p).unwrap();
}

fn commit(dir: &Path, message: &str, tag: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["tag", tag]);
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Strata::in_dir(dir).home(dir).env("GIT_CONFIG_NOSYSTEM", "1").run(args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const WAVES: &str = "rollout:\n  - name: staging\n    environments: [staging]\n    pause: 10m\n  - name: canary\n    environments: [eastus]\n    pause: true\n  - name: rest\n    environments: [westus]\n    maxUpdate: \"50%\"\n";

fn deployment(selector: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {selector}\n  template:\n    metadata:\n      labels:\n        app: {selector}\n    spec:\n      containers:\n        - name: web\n          image: \"registry.example.com/web:{{{{ Values.tag }}}}\"\n"
    )
}

const CONFIGMAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: shop\ndata:\n  a: \"1\"\n";

fn crd(fields: &[&str]) -> String {
    let mut props = String::new();
    for f in fields {
        props.push_str(&format!("                    {f}:\n                      type: string\n"));
    }
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names:\n    kind: Widget\n    plural: widgets\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              properties:\n{props}"
    )
}

/// A repository with waves staging → canary (eastus) → rest (westus): tag `v1`,
/// then tag `v2` where web/eastus moves to v2 (a new selector, its ConfigMap
/// gone) and the staging-only CRD loses a field.
fn two_tags() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    write(d, "strata.yaml", WAVES);
    write(d, "web/component.yaml", "namespace: shop\n");
    write(d, "web/v1/values.yaml", "tag: \"1.0\"\n");
    write(d, "web/v1/deployment.yaml", &deployment("web"));
    write(d, "web/v1/configmap.yaml", CONFIGMAP);
    write(d, "web/v2/values.yaml", "tag: \"2.0\"\n");
    write(d, "web/v2/deployment.yaml", &deployment("web-v2"));
    for env in ["staging", "eastus", "westus"] {
        link(d, &format!("web/{env}/templates"), "../v1");
    }
    write(d, "crds/v1/crd.yaml", &crd(&["size", "color"]));
    link(d, "crds/staging/templates", "../v1");
    commit(d, "one", "v1");
    link(d, "web/eastus/templates", "../v2");
    write(d, "crds/v1/crd.yaml", &crd(&["size"]));
    commit(d, "two", "v2");
    dir
}

#[test]
fn plan_over_two_tags_reports_each_risk_once_in_its_wave() {
    if !require_tool("git") {
        return;
    }
    let dir = two_tags();
    let out = run(dir.path(), &["rollout", "plan", "--from", "v1", "--to", "v2", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = plan["waves"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["staging", "canary", "rest"]);
    let risks: Vec<(String, String, String, String)> = plan["waves"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| {
            let wave = w["name"].as_str().unwrap().to_string();
            w["risks"].as_array().unwrap().iter().map(move |r| {
                (
                    wave.clone(),
                    r["kind"].as_str().unwrap().into(),
                    r["object"].as_str().unwrap().into(),
                    r["field"].as_str().unwrap().into(),
                )
            })
        })
        .collect();
    let want = [
        (
            "staging",
            "crd",
            "apiextensions.k8s.io/CustomResourceDefinition/widgets.example.com",
            "spec.versions[v1].spec.color",
        ),
        ("canary", "deletion", "ConfigMap/shop/web-config", "metadata.name"),
        ("canary", "apply-failure", "apps/Deployment/shop/web", "spec.selector"),
    ];
    let want: Vec<(String, String, String, String)> =
        want.iter().map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string())).collect();
    assert_eq!(risks, want);

    let canary = &plan["waves"][1];
    assert_eq!(canary["versions"][0]["from"], "v1");
    assert_eq!(canary["versions"][0]["to"], "v2");
    assert_eq!(canary["images"][0]["from"], "registry.example.com/web:1.0");
    assert_eq!(canary["images"][0]["to"], "registry.example.com/web:2.0");
    assert_eq!(canary["kinds"]["ConfigMap"]["removed"], 1);
    assert_eq!(canary["pause"], true);
    // The rest wave: nothing changes; westus's inputs are identical, so it is counted, not rendered.
    let rest = &plan["waves"][2];
    assert_eq!(rest["changes"], false);
    assert_eq!(rest["targets"]["unchanged"], 1);
    assert_eq!(rest["cumulative"]["environments"], serde_json::json!({"touched": 2, "total": 3}));

    let out = run(dir.path(), &["rollout", "plan", "--from", "v1", "--to", "v2"]);
    let t = text(&out.stdout);
    assert!(t.contains("wave 3/3: rest (maxUpdate: 50%)\n  environments: westus\n  no change"), "{t}");
    assert!(t.contains("web v1 → v2 (eastus)"), "{t}");
    assert!(t.contains("! apply failure: web/eastus apps/Deployment/shop/web `spec.selector`"), "{t}");

    let out = run(dir.path(), &["rollout", "plan", "--from", "v2", "--to", "v2", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("No change in westus"), "{}", text(&out.stdout));
}

#[test]
fn bad_waves_exit_2_naming_the_line() {
    if !require_tool("git") {
        return;
    }
    let cases = [
        (
            "rollout:\n  - name: a\n    environments: [staging, eastus]\n",
            "strata.yaml:1",
            "environment `westus` is in no rollout wave",
        ),
        (
            "rollout:\n  - name: a\n    environments: [\"*\"]\n  - name: b\n    environments:\n      - westus\n",
            "strata.yaml:6",
            "environment `westus` is in two rollout waves: `a` and `b`",
        ),
        (
            "rollout:\n  - name: a\n    environments: [\"*\", moon]\n",
            "strata.yaml:3",
            "`moon` in rollout wave `a` matches no environment",
        ),
    ];
    let dir = two_tags();
    for (yaml, at, message) in cases {
        write(dir.path(), "strata.yaml", yaml);
        for args in [&["rollout", "plan", "--from", "v1"][..], &["rollout", "export", "--format", "flux"][..]] {
            let out = run(dir.path(), args);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(message) && err.contains(at), "{args:?}: {err}");
        }
    }
}

fn example() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("config");
    support::copy_tree(Path::new(EXAMPLE), &repo);
    (dir, repo)
}

fn export(repo: &Path, format: &str) -> Value {
    let out =
        run(repo, &["rollout", "export", "--format", format, "--repo-url", "https://git.example.com/shop/config.git"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(format!("export_{format}"), text(&out.stdout));
    let docs: Vec<Value> = text(&out.stdout)
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_json::to_value(serde_yaml::from_str::<Value>(d).unwrap()).unwrap())
        .collect();
    Value::Array(docs)
}

/// Structural checks of the fields we emit, after the ApplicationSet CRD
/// (argoproj.io/v1alpha1): the upstream CRD cannot be fetched here.
#[test]
fn applicationset_has_one_rolling_sync_step_per_wave() {
    let (_dir, repo) = example();
    let docs = export(&repo, "applicationset");
    let a = &docs[0];
    assert_eq!(docs.as_array().unwrap().len(), 1);
    assert_eq!((a["apiVersion"].as_str(), a["kind"].as_str()), (Some("argoproj.io/v1alpha1"), Some("ApplicationSet")));
    let spec = a["spec"].as_object().unwrap();
    for key in spec.keys() {
        assert!(
            ["goTemplate", "goTemplateOptions", "generators", "strategy", "template"].contains(&key.as_str()),
            "{key}"
        );
    }
    assert_eq!(spec["strategy"]["type"], "RollingSync");
    let steps = spec["strategy"]["rollingSync"]["steps"].as_array().unwrap();
    let waves: Vec<&str> = steps.iter().map(|s| s["matchExpressions"][0]["values"][0].as_str().unwrap()).collect();
    assert_eq!(waves, ["staging", "canary", "everywhere"]);
    for s in steps {
        let e = &s["matchExpressions"][0];
        assert_eq!((e["key"].as_str(), e["operator"].as_str()), (Some("strata.dev/wave"), Some("In")));
        assert!(s.get("maxUpdate").is_none_or(|m| m.is_i64() || m.as_str().is_some_and(|p| p.ends_with('%'))));
    }
    let elements = spec["generators"][0]["list"]["elements"].as_array().unwrap();
    assert_eq!(elements.len(), 16);
    for e in elements {
        let path = format!("dist/{}/{}", e["component"].as_str().unwrap(), e["environment"].as_str().unwrap());
        assert_eq!(e["path"], Value::String(path));
        assert!(waves.contains(&e["wave"].as_str().unwrap()));
    }
    let template = &spec["template"];
    assert_eq!(template["metadata"]["labels"]["strata.dev/wave"], "{{.wave}}");
    for key in ["repoURL", "targetRevision", "path"] {
        assert!(template["spec"]["source"][key].is_string(), "{key}");
    }
    assert!(template["spec"]["destination"]["server"].is_string());
    assert!(template["spec"]["project"].is_string());
}

/// Structural checks after the Flux Kustomization CRD (kustomize.toolkit.fluxcd.io/v1).
#[test]
fn flux_kustomizations_chain_waves_with_depends_on() {
    let (_dir, repo) = example();
    let docs = export(&repo, "flux");
    let docs = docs.as_array().unwrap();
    assert_eq!(docs[0]["kind"], "GitRepository");
    assert_eq!(docs[0]["spec"]["url"], "https://git.example.com/shop/config.git");
    let ks: Vec<&Value> = docs[1..].iter().collect();
    let names: Vec<&str> = ks.iter().map(|k| k["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["strata-staging", "strata-eastus", "strata-prod-westus", "strata-westus"]);
    for k in &ks {
        assert_eq!(k["apiVersion"], "kustomize.toolkit.fluxcd.io/v1");
        for key in ["interval", "path", "prune", "sourceRef"] {
            assert!(k["spec"].get(key).is_some(), "{key}");
        }
        assert_eq!(k["spec"]["sourceRef"]["kind"], "GitRepository");
    }
    let deps = |i: usize| -> Vec<&str> {
        ks[i]["spec"]["dependsOn"]
            .as_array()
            .map(|d| d.iter().map(|n| n["name"].as_str().unwrap()).collect())
            .unwrap_or_default()
    };
    assert_eq!(deps(0), Vec::<&str>::new());
    assert_eq!(deps(1), ["strata-staging"]);
    assert_eq!(deps(2), ["strata-eastus"]);
    assert_eq!(deps(3), ["strata-eastus"]);
}

#[test]
fn per_target_bundle_has_the_directories_the_export_names() {
    let (dir, repo) = example();
    let out_dir = dir.path().join("dist");
    let out = run(&repo, &["bundle", "--per-target", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let index: Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("index.json")).unwrap()).unwrap();
    let envs = index["environments"].as_object().unwrap();
    assert_eq!(envs.len(), 16);
    assert!(envs.contains_key("frontend/prod/westus"));
    assert_eq!(envs["frontend/eastus"]["components"]["frontend"]["version"], "v1");
    assert!(out_dir.join("frontend/prod/westus").is_dir());
    let files = std::fs::read_dir(out_dir.join("api/eastus")).unwrap().count();
    assert!(files > 0);
}
