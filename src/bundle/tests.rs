use std::sync::Arc;

use serde_json::Value;

use super::*;
use crate::order::{self, ComponentGraph};
use crate::pipeline::{self, Options};
use crate::repo::Repo;
use crate::source::{Fs, MemorySource};

fn repo() -> Repo {
    let mut m = MemorySource::new();
    m.with_info(SourceInfo {
        commit: Some("0123abcd".into()),
        reference: Some("refs/heads/main".into()),
        dirty: false,
    });
    m.file("db/component.yaml", "namespace: data\n")
        .file("db/v1/values.yaml", "replicas: 1\n")
        .file(
            "db/v1/db.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: data\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: {{ Values.replicas }}\n",
        )
        .link("db/east/templates", "../v1")
        .link("db/prod/west/templates", "../../v1")
        .file("api/component.yaml", "namespace: data\ndependsOn: [db]\n")
        .file(
            "api/v2/api.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api\ndata:\n  mode: \"on\"\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  annotations:\n    strata.dev/wave: \"1\"\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names:\n    kind: Widget\n    plural: widgets\n",
        )
        .link("api/east/templates", "../v2");
    Repo::load(Fs::new(Arc::new(m))).unwrap()
}

fn bundle_of(repo: &Repo) -> (Bundle, String) {
    let targets = repo.select(&[]).unwrap();
    let compiled = pipeline::compile(repo, &targets, &Options::default()).unwrap();
    let graph = ComponentGraph::from_repo(repo).unwrap();
    let plans = order::plan(&graph, &compiled).unwrap();
    (build(&compiled, &plans).unwrap(), explain(&plans))
}

#[test]
fn lays_out_phases_per_environment() {
    let (b, _) = bundle_of(&repo());
    let paths: Vec<&str> = b.files.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "east/00-wave-0-crds.yaml",
            "east/01-wave-0-namespaces.yaml",
            "east/02-wave-0-resources.yaml",
            "east/03-wave-1-resources.yaml",
            "index.json",
            "prod/west/00-wave-0-namespaces.yaml",
            "prod/west/01-wave-0-resources.yaml",
        ]
    );
    let resources = String::from_utf8(b.files["east/02-wave-0-resources.yaml"].clone()).unwrap();
    // db (no dependencies) before api; inside api, kind order.
    let kinds: Vec<&str> = resources.lines().filter_map(|l| l.strip_prefix("kind: ")).collect();
    assert_eq!(kinds, ["StatefulSet", "ConfigMap", "Deployment"]);
    assert!(
        resources.starts_with("---\n# Source: db/v1/db.yaml\n# Target: db/east\napiVersion: apps/v1\n"),
        "{resources}"
    );
    // YAML 1.1 readers must not see a boolean.
    assert!(resources.contains("mode: 'on'"), "{resources}");
}

#[test]
fn index_describes_the_bundle() {
    let (b, _) = bundle_of(&repo());
    let index: Value = serde_json::from_slice(&b.files["index.json"]).unwrap();
    assert_eq!(index["format"], 1);
    assert_eq!(index["strata"], env!("CARGO_PKG_VERSION"));
    assert_eq!(index["source"], serde_json::json!({"commit": "0123abcd", "ref": "refs/heads/main", "dirty": false}));
    let envs: Vec<&String> = index["environments"].as_object().unwrap().keys().collect();
    assert_eq!(envs, ["east", "prod/west"]);
    let east = &index["environments"]["east"];
    assert_eq!(east["dir"], "east");
    assert_eq!(east["resources"], 6);
    assert_eq!(
        east["components"],
        serde_json::json!({"api": {"version": "v2", "resources": 4}, "db": {"version": "v1", "resources": 2}})
    );
    let files = east["files"].as_array().unwrap();
    assert_eq!(files.len(), 4);
    for f in files {
        let path = f["path"].as_str().unwrap();
        assert_eq!(f["sha256"].as_str().unwrap(), sha256_hex(&b.files[path]), "{path}");
    }
    assert_eq!(files[0]["phase"], "crds");
    assert_eq!(files[3]["wave"], 1);
    assert_eq!(files[3]["resources"], 1);
}

#[test]
fn same_inputs_same_bytes() {
    let (a, ea) = bundle_of(&repo());
    let (b, eb) = bundle_of(&repo());
    assert_eq!(a, b);
    assert_eq!(ea, eb);
}

#[test]
fn explains_each_object() {
    let (_, text) = bundle_of(&repo());
    let want = "\
environment `east`
  00-wave-0-crds.yaml  (wave 0: CustomResourceDefinitions)
    apiextensions.k8s.io/CustomResourceDefinition/widgets.example.com  api/east  CustomResourceDefinitions apply first in wave 0 (default), so their kinds exist
  01-wave-0-namespaces.yaml  (wave 0: Namespaces)
    Namespace/data                                                     db/east   Namespaces apply before the objects in them, in wave 0 (default)
  02-wave-0-resources.yaml  (wave 0: resources)
    apps/StatefulSet/data/db                                           db/east   first in wave 0 (default)
    ConfigMap/data/api                                                 api/east  component `api` depends on `db`
    apps/Deployment/data/api                                           api/east  kind order: ConfigMap before Deployment
  03-wave-1-resources.yaml  (wave 1: resources)
    example.com/Widget/data/w                                          api/east  first in wave 1 (`strata.dev/wave`)
environment `prod/west`
  00-wave-0-namespaces.yaml  (wave 0: Namespaces)
    Namespace/data            db/prod/west  Namespaces apply before the objects in them, in wave 0 (default)
  01-wave-0-resources.yaml  (wave 0: resources)
    apps/StatefulSet/data/db  db/prod/west  first in wave 0 (default)
";
    assert_eq!(text, want);
}

#[test]
fn environment_clashing_with_a_file_is_an_error() {
    let e = check_collisions(["index.json/00-wave-0-resources.yaml"].into_iter()).unwrap_err();
    assert!(e.messages().contains("bundle path `index.json` would be both a file and an environment directory"));
    let nested = ["a/00-wave-0-resources.yaml", "a/00-wave-0-resources.yaml/b/00-wave-0-resources.yaml"];
    assert!(check_collisions(nested.into_iter()).is_err());
    // Part by part: nothing is written from the first clash on, and `finish` reports it.
    for order in [[0, 1], [1, 0]] {
        let mut assembler = Assembler::default();
        let mut sink = Bundle::default();
        for i in order {
            let part = Part { files: vec![(nested[i].to_string(), "x".to_string())], environments: Vec::new() };
            assembler.add(part, &mut sink).unwrap();
        }
        assert_eq!(sink.files.len(), 1, "{order:?}");
        let e = assembler.finish(&SourceInfo::default(), &mut sink).unwrap_err();
        assert!(e.messages().contains("bundle path `a/00-wave-0-resources.yaml` would be both"), "{}", e.messages());
    }
}

/// 3 components × 30 environments (two batches of `compile_each`), with
/// dependencies, waves, a CRD and Namespaces.
fn many_environments() -> Repo {
    let mut m = MemorySource::new();
    m.file("db/component.yaml", "namespace: data\n")
        .file("db/v1/db.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: data\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n")
        .file("api/component.yaml", "namespace: data\ndependsOn: [db]\n")
        .file("api/v1/api.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api\ndata:\n  env: {{ Target.Environment }}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  annotations:\n    strata.dev/wave: \"1\"\n")
        .file("crd/v1/crd.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names:\n    kind: Widget\n    plural: widgets\n");
    for e in 0..30 {
        let env = if e % 2 == 0 { format!("e{e:02}") } else { format!("prod/e{e:02}") };
        let up = if e % 2 == 0 { "../v1" } else { "../../v1" };
        for c in ["db", "api", "crd"] {
            m.link(&format!("{c}/{env}/templates"), up);
        }
    }
    Repo::load(Fs::new(Arc::new(m))).unwrap()
}

#[test]
fn produced_batch_by_batch_is_built_at_once() {
    let repo = many_environments();
    let targets = repo.select(&[]).unwrap();
    let compiled = pipeline::compile(&repo, &targets, &Options::default()).unwrap();
    let graph = ComponentGraph::from_repo(&repo).unwrap();
    let plans = order::plan(&graph, &compiled).unwrap();
    for per_target in [false, true] {
        let plans = if per_target { super::per_target(&plans) } else { plans.clone() };
        let want = build(&compiled, &plans).unwrap();
        let mut got = Bundle::default();
        let knobs = BundleOptions { per_target, explain: true };
        let made = produce(&repo, &targets, &Options::default(), knobs, &mut got).unwrap();
        assert_eq!(got, want, "per target: {per_target}");
        assert_eq!(made.explain, explain(&plans));
        assert_eq!((made.directories, made.objects, made.files), (plans.len(), 150, want.files.len()));
    }
    // `strata render`: the same bytes as the whole repository's stream.
    for (format, want) in
        [(stream::Format::Yaml, stream::to_yaml(&plans)), (stream::Format::Json, stream::to_json(&plans))]
    {
        let mut spool = crate::atomic::Spool::new();
        stream::render(&repo, &targets, &Options::default(), format, &mut spool).unwrap();
        let mut got = Vec::new();
        spool.copy_to(&mut got).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), want, "{format:?}");
    }
    let none: Vec<&crate::repo::Target> = Vec::new();
    let mut spool = crate::atomic::Spool::new();
    stream::render(&repo, &none, &Options::default(), stream::Format::Json, &mut spool).unwrap();
    let mut got = Vec::new();
    spool.copy_to(&mut got).unwrap();
    assert_eq!(String::from_utf8(got).unwrap(), stream::to_json(&[]));
}

#[test]
fn ordering_errors_of_every_batch_come_with_the_warnings() {
    let mut m = MemorySource::new();
    m.file("a/v1/values.yaml", "x: 1\n").file(
        "a/v1/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    config.kubernetes.io/depends-on: /namespaces/x/ConfigMap/missing\n",
    );
    for e in 0..70 {
        m.link(&format!("a/e{e:02}/templates"), "../v1").file(&format!("a/e{e:02}/parameters.yaml"), "typo: 1\n");
    }
    let repo = Repo::load(Fs::new(Arc::new(m))).unwrap();
    let targets = repo.select(&[]).unwrap();
    let compiled = pipeline::compile(&repo, &targets, &Options::default()).unwrap();
    let want = order::plan(&ComponentGraph::from_repo(&repo).unwrap(), &compiled).unwrap_err();
    let e = produce(&repo, &targets, &Options::default(), BundleOptions::default(), &mut Discard).unwrap_err();
    let (warnings, errors): (Vec<_>, Vec<_>) =
        e.diagnostics.iter().partition(|d| d.severity == crate::diag::Severity::Warning);
    assert_eq!(warnings.len(), 70);
    assert_eq!(errors.len(), want.diagnostics.len());
    assert_eq!(errors.len(), 70, "one per environment, from both batches");
}

/// `app` in four environments sharing `app/parameters.yaml`: `b` is read by
/// `e1` only, `unused` by none (a warning quoting its line).
fn shared_parameters() -> Repo {
    let mut m = MemorySource::new();
    m.file("app/v1/values.yaml", "a: 0\nb: 0\nenv: x\n")
        .file(
            "app/v1/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: \"{{ Values.a }}\"\n{% if Values.env == \"e1\" %}  b: \"{{ Values.b }}\"\n{% endif %}",
        )
        .file("app/parameters.yaml", "b: 2\nunused: 1\n");
    for e in 0..4 {
        m.link(&format!("app/e{e}/templates"), "../v1")
            .file(&format!("app/e{e}/parameters.yaml"), &format!("env: e{e}\n"));
    }
    Repo::load(Fs::new(Arc::new(m))).unwrap()
}

/// Every file below `dir`: path → bytes.
fn cache_files(dir: &std::path::Path) -> BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for sub in std::fs::read_dir(dir.join("v1")).unwrap().flatten() {
        for f in std::fs::read_dir(sub.path()).unwrap().flatten() {
            out.insert(f.path(), std::fs::read(f.path()).unwrap());
        }
    }
    out
}

#[test]
fn whole_environments_come_from_the_cache_with_their_warnings() {
    let repo = shared_parameters();
    let targets = repo.select(&[]).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cached = Options {
        cache: Some(crate::cache::CacheOptions { dir: tmp.path().to_path_buf(), max_bytes: 1 << 30 }),
        ..Options::default()
    };
    let run = |opts: &Options| {
        let mut b = Bundle::default();
        let made = produce(&repo, &targets, opts, BundleOptions::default(), &mut b).unwrap();
        (b, format!("{:?}", made.warnings), (made.directories, made.objects, made.files))
    };
    let want = run(&Options::default());
    assert!(want.1.contains("`unused` is set but no template reads it") && !want.1.contains("`b`"), "{}", want.1);
    assert_eq!(run(&cached), want, "cold");
    // Each target's entry and each environment's: 4 + 4.
    let target_entries: Vec<std::path::PathBuf> = {
        let cache = cached.open_cache(&repo).unwrap();
        let keys = targets.iter().map(|t| cache.key(t).unwrap().as_str().to_string());
        keys.map(|k| tmp.path().join("v1").join(&k[..2]).join(k)).collect()
    };
    assert_eq!(cache_files(tmp.path()).len(), 8);
    // Without the targets' entries, the environments come whole: nothing renders
    // (no target entry comes back), and `b`, read in `e1` only, is still read.
    target_entries.iter().for_each(|p| std::fs::remove_file(p).unwrap());
    assert_eq!(run(&cached), want, "warm, environments only");
    assert!(target_entries.iter().all(|p| !p.exists()), "no target rendered");
    // A damaged environment entry is a miss: rendered again and replaced.
    let (path, bytes) = cache_files(tmp.path()).into_iter().next().unwrap();
    let mut damaged = bytes.clone();
    let last = damaged.len() - 2;
    damaged[last] ^= 1;
    std::fs::write(&path, &damaged).unwrap();
    assert_eq!(run(&cached), want, "warm, one environment damaged");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "replaced by a whole entry");
}
