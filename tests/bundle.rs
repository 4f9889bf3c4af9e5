//! Bundles and apply order end to end: `strata bundle` and `strata render` run as
//! real processes over `example-repo/` and `tests/fixtures/bundle/repo/` (waves,
//! a CRD, Namespaces, component `dependsOn`, a `depends-on` annotation).

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use serde_json::Value;
use strata::facade::order::{self, ComponentGraph, PhaseKind};
use strata::facade::pipeline::{self, Options};
use strata::facade::repo::Repo;
use strata::facade::source::{Fs, SourceInfo, WorkTreeSource};

const FIXTURE: &str = "tests/fixtures/bundle/repo";

use support::strata;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir`: relative path → bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn bundling_twice_gives_identical_trees() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for dir in [&a, &b] {
        let out = strata(&["bundle", "--repo", "example-repo", "--out", arg(dir)]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "bundle writes files, not stdout");
    }
    let first = tree(&a);
    assert_eq!(first, tree(&b));
    // Replacing an existing bundle gives the same bytes and leaves nothing beside it.
    let out = strata(&["bundle", "--repo", "example-repo", "--out", arg(&a)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(first, tree(&a));
    assert_eq!(names_in(tmp.path()), ["a", "b"]);

    let paths: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "eastus/00-wave-0-namespaces.yaml",
            "eastus/01-wave-0-resources.yaml",
            "index.json",
            "prod/westus/00-wave-0-namespaces.yaml",
            "prod/westus/01-wave-0-resources.yaml",
            "staging/00-wave-0-namespaces.yaml",
            "staging/01-wave-0-resources.yaml",
            "westus/00-wave-0-namespaces.yaml",
            "westus/01-wave-0-resources.yaml",
        ]
    );
}

#[test]
fn index_lists_files_counts_and_component_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let out = strata(&["bundle", "--repo", "example-repo", "--out", arg(&dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let files = tree(&dir);
    let index: Value = serde_json::from_slice(&files["index.json"]).unwrap();
    assert_eq!(index["strata"], env!("CARGO_PKG_VERSION"));
    assert!(index["source"]["commit"].as_str().is_some_and(|c| c.len() == 40), "{}", index["source"]);
    assert!(index["source"]["dirty"].is_boolean());

    // Components and versions agree with the repository's links.
    let repo = load("example-repo");
    for (env, e) in index["environments"].as_object().unwrap() {
        let want: BTreeMap<&str, &str> = repo
            .targets()
            .filter(|t| &t.environment == env)
            .map(|t| (t.component.as_str(), t.version.as_str()))
            .collect();
        let got: BTreeMap<&str, &str> = e["components"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(c, v)| (c.as_str(), v["version"].as_str().unwrap()))
            .collect();
        assert_eq!(got, want, "{env}");
        let mut total = 0;
        for f in e["files"].as_array().unwrap() {
            let path = f["path"].as_str().unwrap();
            let bytes = &files[path];
            assert_eq!(f["sha256"].as_str().unwrap(), sha256(bytes), "{path}");
            let docs = text(bytes).matches("---\n# Source: ").count();
            assert_eq!(f["resources"].as_u64().unwrap() as usize, docs, "{path}");
            total += docs;
        }
        assert_eq!(e["resources"].as_u64().unwrap() as usize, total, "{env}");
        let per_component: u64 =
            e["components"].as_object().unwrap().values().map(|c| c["resources"].as_u64().unwrap()).sum();
        assert_eq!(per_component as usize, total, "{env}");
    }
}

fn sha256(bytes: &[u8]) -> String {
    strata::facade::bundle::sha256_hex(bytes)
}

#[test]
fn check_reports_stale_bundles_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let check = || strata(&["bundle", "--repo", FIXTURE, "--out", arg(&dir), "--check"]);

    // No bundle yet: stale, and --check creates nothing.
    let out = check();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("added    staging/02-wave-0-resources.yaml\n"), "{}", text(&out.stdout));
    assert!(!dir.exists());

    let out = strata(&["bundle", "--repo", FIXTURE, "--out", arg(&dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = check();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("is up to date"), "{}", text(&out.stderr));

    // A bundle built at another commit with the same content is fresh: the source
    // in index.json is provenance (a committed bundle cannot record its own commit).
    let fresh = tree(&dir);
    let mut index: Value = serde_json::from_slice(&fresh["index.json"]).unwrap();
    index["source"] = serde_json::json!({"commit": "0000000000000000000000000000000000000000", "ref": "refs/heads/old", "dirty": false});
    std::fs::write(dir.join("index.json"), serde_json::to_string_pretty(&index).unwrap() + "\n").unwrap();
    let out = check();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("refs/heads/old"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("the source is not compared"), "{}", text(&out.stderr));
    std::fs::write(dir.join("index.json"), &fresh["index.json"]).unwrap();

    // Change one file, delete another, add a stray one.
    std::fs::write(dir.join("staging/02-wave-0-resources.yaml"), "---\n").unwrap();
    std::fs::remove_file(dir.join("prod/eastus/00-wave-0-crds.yaml")).unwrap();
    std::fs::write(dir.join("prod/eastus/99-extra.yaml"), "x").unwrap();
    let before = tree(&dir);
    let out = check();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "added    prod/eastus/00-wave-0-crds.yaml\nremoved  prod/eastus/99-extra.yaml\nchanged  staging/02-wave-0-resources.yaml\n"
    );
    assert!(text(&out.stderr).contains("is stale: 1 added, 1 removed, 1 changed"), "{}", text(&out.stderr));
    assert_eq!(tree(&dir), before, "--check never writes");

    // Bundling again repairs it.
    let out = strata(&["bundle", "--repo", FIXTURE, "--out", arg(&dir)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(tree(&dir), fresh);
}

#[test]
fn an_error_leaves_the_bundle_directory_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    support::copy_tree(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE).as_path(), &repo);
    let parent = tmp.path().join("dist");
    let dir = parent.join("bundle");
    let out = strata(&["bundle", "--repo", arg(&repo), "--out", arg(&dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let good = tree(&dir);
    let index: Value = serde_json::from_slice(&good["index.json"]).unwrap();
    assert_eq!(index["source"], serde_json::json!({"commit": null, "ref": null, "dirty": false}), "outside git");

    // A template error in one environment: nothing is replaced, nothing is left behind.
    std::fs::write(
        repo.join("api/v2/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Values.missing.key }}\n",
    )
    .unwrap();
    let out = strata(&["bundle", "--repo", arg(&repo), "--out", arg(&dir)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("api/v2/configmap.yaml"), "{}", text(&out.stderr));
    assert_eq!(tree(&dir), good);
    assert_eq!(names_in(&parent), ["bundle"]);

    // An ordering error (here a depends-on naming nothing) is caught before writing too,
    // and a directory that did not exist is not created.
    std::fs::write(repo.join("api/v2/configmap.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api\n  annotations:\n    config.kubernetes.io/depends-on: /namespaces/shop/Secret/nope\n").unwrap();
    let fresh = parent.join("new");
    for d in [&dir, &fresh] {
        let out = strata(&["bundle", "--repo", arg(&repo), "--out", arg(d)]);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains("which is not in environment `staging`"), "{}", text(&out.stderr));
    }
    assert_eq!(tree(&dir), good);
    assert_eq!(names_in(&parent), ["bundle"]);
}

#[test]
fn never_replaces_a_directory_it_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let out = strata(&["bundle", "--repo", FIXTURE, "--out", arg(tmp.path())]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("holds no strata bundle"), "{}", text(&out.stderr));
    assert_eq!(names_in(tmp.path()), ["notes.txt"]);
}

#[test]
fn usage_errors_exit_2() {
    let out = strata(&["bundle", "--repo", FIXTURE]);
    assert_eq!(out.status.code(), Some(2), "--out is required without --explain");
    let out = strata(&["bundle", "--repo", FIXTURE, "--check", "--explain"]);
    assert_eq!(out.status.code(), Some(2), "--check needs --out");
}

#[test]
fn explain_says_why_each_object_sits_where_it_does() {
    let out = strata(&["bundle", "--repo", FIXTURE, "--explain", "@staging"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!("explain_fixture_staging", text(&out.stdout));
}

#[test]
fn render_prints_what_the_bundle_files_hold_in_the_same_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let out = strata(&["bundle", "--repo", FIXTURE, "--out", arg(&dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let files = tree(&dir);
    // All environments: grouped by environment (sorted), phases in name order.
    let bundled: String = files.iter().filter(|(p, _)| p.ends_with(".yaml")).map(|(_, b)| text(b)).collect();
    let rendered = strata(&["render", "--repo", FIXTURE]);
    assert_eq!(rendered.status.code(), Some(0));
    assert_eq!(text(&rendered.stdout), bundled);

    // JSON holds the same objects in the same order.
    let json = strata(&["render", "--repo", FIXTURE, "--format", "json"]);
    let objects: Vec<Value> = serde_json::from_slice(&json.stdout).unwrap();
    let from_json: Vec<String> = objects
        .iter()
        .map(|o| format!("{}/{}", o["kind"].as_str().unwrap(), o["metadata"]["name"].as_str().unwrap()))
        .collect();
    let from_yaml: Vec<String> = text(&rendered.stdout)
        .split("---\n")
        .filter(|d| !d.is_empty())
        .map(|d| {
            let kind = d.lines().find_map(|l| l.strip_prefix("kind: ")).unwrap();
            let name = d.lines().find_map(|l| l.strip_prefix("  name: ")).unwrap();
            format!("{kind}/{name}")
        })
        .collect();
    assert_eq!(from_json, from_yaml);
}

fn load(root: &str) -> Repo {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
    Repo::load(Fs::new(Arc::new(WorkTreeSource::new(root, SourceInfo::default())))).unwrap()
}

#[test]
fn example_repo_applies_in_dependency_order() {
    let repo = load("example-repo");
    let targets = repo.select(&[]).unwrap();
    let compiled = pipeline::compile(&repo, &targets, &Options::default()).unwrap();
    let graph = ComponentGraph::from_repo(&repo).unwrap();
    let plans = order::plan(&graph, &compiled).unwrap();
    let envs: Vec<&str> = plans.iter().map(|p| p.environment.as_str()).collect();
    assert_eq!(envs, ["eastus", "prod/westus", "staging", "westus"]);
    for plan in &plans {
        let env = &plan.environment;
        let total: usize =
            compiled.targets.iter().filter(|t| &t.target.environment == env).map(|t| t.resources.len()).sum();
        assert_eq!(plan.objects.len(), total, "{env}: every object once");
        // Namespaces first, then the rest.
        let phases: Vec<PhaseKind> = plan.phases().iter().map(|(p, _)| p.kind).collect();
        assert_eq!(phases, [PhaseKind::Namespaces, PhaseKind::Resources], "{env}");
        // database, then api (dependsOn database), then frontend (dependsOn api); platform's
        // admission policy (outside staging) depends on nothing: beside database, by name.
        let resources = plan.phases()[1].1;
        let components: Vec<&str> = resources.iter().map(|o| o.target.component.as_str()).collect();
        let mut grouped = components.clone();
        grouped.dedup();
        let expected: &[&str] = match env.as_str() {
            "staging" => &["database", "api", "frontend"],
            _ => &["database", "platform", "api", "frontend"],
        };
        assert_eq!(grouped, expected, "{env}: {components:?}");
        // Kind order inside each component: a Deployment or StatefulSet after its Service.
        for c in ["database", "api", "frontend"] {
            let kinds: Vec<&str> =
                resources.iter().filter(|o| o.target.component == c).map(|o| o.resource.id.kind.as_str()).collect();
            let service = kinds.iter().position(|k| *k == "Service").unwrap();
            let workload = kinds.iter().position(|k| *k == "Deployment" || *k == "StatefulSet").unwrap();
            assert!(service < workload, "{env}/{c}: {kinds:?}");
        }
        // Deletion is the reverse.
        let del: Vec<_> = plan.deletion_order().map(|o| &o.resource.id).collect();
        let mut app: Vec<_> = plan.objects.iter().map(|o| &o.resource.id).collect();
        app.reverse();
        assert_eq!(del, app);
    }
}

/// kubectl must read every phase file as strata wrote it: same objects, same order
/// (`kubectl kustomize` with `sortOptions: fifo` over the files, in name order).
#[test]
fn kubectl_reads_the_bundle_files_in_order() {
    if !support::require_tool("kubectl") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let out = strata(&["bundle", "--repo", FIXTURE, "--out", arg(&dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for env in ["staging", "prod/eastus"] {
        let env_dir = dir.join(env);
        let files = names_in(&env_dir);
        let mut k = String::from(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsortOptions:\n  order: fifo\nresources:\n",
        );
        for f in &files {
            k.push_str(&format!("- {f}\n"));
        }
        std::fs::write(env_dir.join("kustomization.yaml"), k).unwrap();
        let built = Command::new("kubectl").arg("kustomize").arg(&env_dir).output().unwrap();
        assert!(built.status.success(), "{}", text(&built.stderr));
        let theirs = strata::facade::yaml::parse_documents(&text(&built.stdout)).unwrap();
        let ours: Vec<Value> = files
            .iter()
            .flat_map(|f| {
                strata::facade::yaml::parse_documents(&std::fs::read_to_string(env_dir.join(f)).unwrap()).unwrap()
            })
            .filter(|v| !v.is_null())
            .collect();
        assert_eq!(ours.len(), theirs.len(), "{env}");
        assert_eq!(ours, theirs, "{env}");
    }
}

#[test]
fn with_tracking_inventory_each_environment_ends_with_its_inventory() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("example-repo");
    support::copy_tree(&support::project_root().join("example-repo"), &repo);
    let config = std::fs::read_to_string(repo.join("strata.yaml")).unwrap();
    let config = config.replace("  repository: example-repo\n", "  repository: example-repo\n  inventory: true\n");
    std::fs::write(repo.join("strata.yaml"), config).unwrap();
    let out = tmp.path().join("out");
    let r = strata(&["bundle", "--repo", arg(&repo), "--out", arg(&out), "@eastus", "@prod/westus"]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    let files = tree(&out);
    let index: Value = serde_json::from_slice(&files["index.json"]).unwrap();
    for (env, dir) in [("eastus", "eastus"), ("prod/westus", "prod/westus")] {
        let listed = &index["environments"][env]["files"];
        let last = listed.as_array().unwrap().last().unwrap();
        assert_eq!(
            (last["path"].as_str(), last["phase"].as_str()),
            (Some(&*format!("{dir}/inventory.yaml")), Some("inventory"))
        );
        // Applying the directory in name order applies the inventory last.
        let names: Vec<&String> = files
            .keys()
            .filter(|k| k.starts_with(&format!("{dir}/")) && k.matches('/').count() == dir.matches('/').count() + 1)
            .collect();
        assert_eq!(names.last().map(|s| s.as_str()), Some(&*format!("{dir}/inventory.yaml")), "{names:?}");
        // It lists every object of the other files, one identity a line.
        let docs: Vec<Value> = names[..names.len() - 1]
            .iter()
            .flat_map(|n| strata::facade::yaml::parse_documents(&text(&files[*n])).unwrap())
            .collect();
        let mut want: Vec<String> = docs
            .iter()
            .map(|d| strata::facade::tracking::inventory_line(&strata::facade::manifest::ResId::of(d).unwrap()))
            .collect();
        want.sort();
        let inventory = strata::facade::yaml::parse_documents(&text(&files[&format!("{dir}/inventory.yaml")])).unwrap();
        let lines: Vec<&str> = inventory[0]["data"]["objects"].as_str().unwrap().lines().collect();
        assert_eq!(lines, want);
        assert_eq!(inventory[0]["metadata"]["labels"]["strata.dev/inventory"], "true");
    }
    // Without it, no inventory.
    let plain = tmp.path().join("plain");
    let r = strata(&["bundle", "--repo", "example-repo", "--out", arg(&plain), "@eastus"]);
    assert!(r.status.success());
    assert!(!plain.join("eastus/inventory.yaml").exists());
}
