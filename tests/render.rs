//! Rendering end to end: the five values layers, the template context, and the
//! `strata render` command on `example-repo/`.

mod support;

use std::sync::Arc;

use serde_json::{Value, json};
use strata::facade::pipeline::{self, Options};
use strata::facade::repo::Repo;
use strata::facade::source::{Fs, MemorySource, SourceInfo};

fn repo(files: &[(&str, &str)]) -> Repo {
    let mut m = MemorySource::from_entries(files);
    m.with_info(SourceInfo { commit: Some("abc123".into()), reference: Some("refs/heads/main".into()), dirty: false });
    Repo::load(Fs::new(Arc::new(m))).unwrap()
}

fn render(r: &Repo, selector: &str, opts: &Options) -> Vec<Value> {
    let targets = r.select(&[selector.to_string()]).unwrap();
    let out = pipeline::compile(r, &targets, opts).unwrap();
    out.targets.iter().flat_map(|t| t.resources.iter().map(|r| r.body.clone())).collect()
}

const DUMP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dump\ndata:\n  values: {{ Values | toJson | quote }}\n";

#[test]
fn five_layers_in_helm_precedence() {
    let r = repo(&[
        (
            "strata.yaml",
            "values:\n  a: repo\n  b: repo\n  c: repo\n  d: repo\n  e: repo\nenvironments:\n  prod/west:\n    values:\n      b: env\n      c: env\n      d: env\n      e: env\n",
        ),
        (
            "app/v1/values.yaml",
            "a: default\nb: default\nc: default\nd: default\ne: default\nf: default\ngone: default\n",
        ),
        ("app/v1/cm.yaml", DUMP),
        ("app/parameters.yaml", "c: component-root\nd: component-root\ne: component-root\n"),
        ("app/prod/parameters.yaml", "d: prod\ne: prod\n"),
        ("app/prod/west/parameters.yaml", "e: target\ngone: null\n"),
        ("app/prod/west/templates", "-> ../../v1"),
    ]);
    let opts = Options {
        values_files: vec![("extra.yaml".into(), "f: file\n".into())],
        set: vec!["g=1".into()],
        set_string: vec!["h=2".into()],
        ..Options::default()
    };
    let docs = render(&r, "app/prod/west", &opts);
    let values: Value = serde_json::from_str(docs[0]["data"]["values"].as_str().unwrap()).unwrap();
    assert_eq!(
        values,
        json!({"a": "repo", "b": "env", "c": "component-root", "d": "prod", "e": "target", "f": "file", "g": 1, "h": "2"})
    );
}

#[test]
fn context_namespace_files_and_helpers() {
    let r = repo(&[
        ("app/component.yaml", "namespace: shop\n"),
        ("app/v1/values.yaml", "greeting: hello\nmsg: '{{ Values.greeting }} world'\n"),
        ("app/v1/_h.j2", "{% macro name(x) %}{{ x }}-cm{% endmacro %}"),
        ("app/v1/files/a.conf", "A\n"),
        ("app/v1/files/b.conf", "B\n"),
        (
            "app/v1/cm.yaml",
            "{% import \"_h.j2\" as h -%}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ h.name(Release.Name) }}\ndata:\n  ns: {{ Release.Namespace }}\n  target: {{ Target.Name }} {{ Target.Environment }} {{ Target.Path }}\n  version: {{ Component.Name }}/{{ Component.Version }}\n  repo: {{ Repo.Commit }} {{ Repo.Ref }}\n  kube: {{ Capabilities.KubeVersion.Version }}\n  tpl: {{ tpl(Values.msg) }}\n  files: {{ Files.glob(\"files/*.conf\") | toJson | quote }}\n---\n# an empty document is dropped\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ Release.Namespace }}\n",
        ),
        ("app/east/templates", "-> ../v1"),
        ("app/west/templates", "../v1\n"),
        ("app/west/parameters.yaml", "namespace: shop-west\n"),
    ]);
    let east = render(&r, "app/east", &Options::default());
    assert_eq!(east.len(), 2);
    let d = &east[0]["data"];
    assert_eq!(east[0]["metadata"]["name"], "app-cm");
    assert_eq!(east[0]["metadata"]["namespace"], "shop", "namespaced objects get the component's namespace");
    assert!(east[1]["metadata"].get("namespace").is_none(), "a Namespace is cluster-scoped");
    assert_eq!(d["ns"], "shop");
    assert_eq!(d["target"], "east east app/east");
    assert_eq!(d["version"], "app/v1");
    assert_eq!(d["repo"], "abc123 refs/heads/main");
    assert_eq!(d["kube"], "v1.33.0");
    assert_eq!(d["tpl"], "hello world");
    assert_eq!(d["files"], r#"{"files/a.conf":"A\n","files/b.conf":"B\n"}"#);
    let west = render(&r, "app/west", &Options::default());
    assert_eq!(
        west[0]["metadata"]["namespace"], "shop-west",
        "a link file works like a link; parameters override the namespace"
    );
}

#[test]
fn unread_parameters_warn_unless_read_by_some_target() {
    let r = repo(&[
        ("app/v1/values.yaml", "replicas: 1\nimage: {tag: a}\n"),
        (
            "app/v1/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  r: '{{ Values.replicas }}'\n",
        ),
        ("app/v2/values.yaml", "replicas: 1\nimage: {tag: a}\n"),
        (
            "app/v2/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  r: '{{ Values.image.tag }}'\n",
        ),
        ("app/prod/parameters.yaml", "image:\n  tag: b\n"),
        ("app/prod/a/templates", "-> ../../v1"),
        ("app/prod/b/templates", "-> ../../v2"),
        ("app/prod/a/parameters.yaml", "replica: 3\n"),
    ]);
    let targets = r.select(&[]).unwrap();
    let out = pipeline::compile(&r, &targets, &Options::default()).unwrap();
    let msgs: Vec<String> =
        out.warnings.iter().map(|w| format!("{} {}", w.message, w.path.clone().unwrap_or_default())).collect();
    // `image.tag` in prod/parameters.yaml is read by prod/b, so only the typo warns.
    assert_eq!(msgs, ["parameter `replica` is set but no template reads it app/prod/a/parameters.yaml"]);
    let strict = Options { strict: true, ..Options::default() };
    assert!(pipeline::compile(&r, &targets, &strict).is_err());
}

/// Helm's idiom for deleting a default (`key: null` in parameters.yaml) is read when a
/// template looks the key up, even though the lookup then finds nothing; a misspelt
/// deletion is still reported, and so is a misspelt value.
#[test]
fn null_deleting_a_default_is_read_by_the_lookup() {
    let r = repo(&[
        ("app/v1/values.yaml", "features:\n  cache:\n    ttl: 30\n    size: 10\n"),
        (
            "app/v1/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  ttl: '{{ Values.features.cache.ttl | default(60) }}'\n  size: '{{ Values.features.cache.size }}'\n",
        ),
        ("app/prod/templates", "-> ../v1"),
        ("app/prod/parameters.yaml", "features:\n  cache:\n    ttl: null\n    sise: null\n"),
    ]);
    let targets = r.select(&[]).unwrap();
    let out = pipeline::compile(&r, &targets, &Options::default()).unwrap();
    assert_eq!(out.targets[0].resources[0].body["data"]["ttl"], "60", "the default is deleted");
    let msgs: Vec<&str> = out.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(msgs, ["parameter `features.cache.sise` is set but no template reads it"]);
    // `--strict` fails on the typo only: without it the repository passes.
    let strict = Options { strict: true, ..Options::default() };
    let e = pipeline::compile(&r, &targets, &strict).unwrap_err();
    assert_eq!(e.diagnostics.len(), 1, "{}", e.messages());
    let fixed = repo(&[
        ("app/v1/values.yaml", "features:\n  cache:\n    ttl: 30\n"),
        (
            "app/v1/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  ttl: '{{ Values.features.cache.ttl | default(60) }}'\n",
        ),
        ("app/prod/templates", "-> ../v1"),
        ("app/prod/parameters.yaml", "features:\n  cache:\n    ttl: null\n"),
    ]);
    let targets = fixed.select(&[]).unwrap();
    assert!(pipeline::compile(&fixed, &targets, &strict).is_ok());
}

use support::strata;

#[test]
fn render_example_repo_eastus() {
    let out = strata(&["render", "--repo", "example-repo", "@eastus"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "no warnings expected: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let docs = text.split("---\n").filter(|d| !d.is_empty()).count();
    assert_eq!(docs, text.matches("# Source: ").count());
    // Same bytes every run.
    let again = strata(&["render", "--repo", "example-repo", "@eastus"]);
    assert_eq!(text.as_bytes(), &again.stdout[..]);
    insta::assert_snapshot!("render_example_eastus", text);

    let json = strata(&["render", "--repo", "example-repo", "@eastus", "--format", "json"]);
    let parsed: Vec<Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed.len(), docs);
}

#[test]
fn render_whole_example_repo_has_no_warnings() {
    let out = strata(&["render", "--repo", "example-repo", "--strict"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for env in ["staging", "eastus", "westus", "prod/westus"] {
        assert!(text.contains(&format!("# Target: frontend/{env}\n")), "{env}");
    }
}

#[test]
fn committed_schemas_are_current() {
    for (name, text) in strata::facade::repo::config::schemas() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas").join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == text, "schemas/{name} is stale: run `cargo run -- schema --out schemas`");
    }
}

/// Writes `text` at `rel` below `root`, making the directories on the way.
fn write_file(root: &std::path::Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// `strata render` of many environments works in batches (see docs/guide/ci.md, "Bounded
/// memory"), yet an error in the last batch still leaves stdout empty.
#[test]
fn an_error_in_a_late_environment_prints_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let write = |rel: &str, text: &str| write_file(root, rel, text);
    write("app/v1/values.yaml", "n: 1\n");
    write(
        "app/v1/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  n: \"{{ Values.n }}\"\n",
    );
    for e in 0..70 {
        write(&format!("app/e{e:02}/templates"), "../v1\n");
    }
    write("app/e69/parameters.yaml", "n: [1\n");
    let run = |args: &[&str]| support::Strata::in_dir(root).run(args);
    let good = run(&["render", "@e00", "@e01"]);
    assert_eq!(good.status.code(), Some(0), "{}", String::from_utf8_lossy(&good.stderr));
    assert_eq!(String::from_utf8_lossy(&good.stdout).matches("kind: ConfigMap").count(), 2);
    for format in ["yaml", "json"] {
        let out = run(&["render", "--format", format]);
        assert_eq!(out.status.code(), Some(2), "{format}");
        assert!(out.stdout.is_empty(), "{format}: {}", String::from_utf8_lossy(&out.stdout));
        assert!(String::from_utf8_lossy(&out.stderr).contains("app/e69/parameters.yaml"), "{format}");
    }
}

/// `strata render COMPONENT/TARGET` reads that target, as `kubectl kustomize OVERLAY` reads
/// one overlay: a broken sibling does not stop it, and is reported by a render that reads it.
/// A target named through a link, or one that does not exist, is looked for in the whole
/// component (the same messages as before).
#[test]
fn one_target_renders_beside_a_broken_sibling() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let write = |rel: &str, text: &str| write_file(root, rel, text);
    write(
        "app/v1/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: \"{{ Values.a }}\"\n",
    );
    write("app/prod/east/parameters.yaml", "a: east\n");
    write("app/prod/east/templates", "../../v1\n");
    write("app/prod/west/templates", "../../v9\n");
    let run = |args: &[&str]| support::Strata::in_dir(root).run(args);
    let one = run(&["render", "app/prod/east"]);
    assert_eq!(one.status.code(), Some(0), "{}", String::from_utf8_lossy(&one.stderr));
    assert!(String::from_utf8_lossy(&one.stdout).contains("a: east"));
    for args in [&["render", "app"][..], &["render", "app/prod/west"], &["render", "app/prod/north"], &["render"]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("app/prod/west/templates"), "{args:?}");
    }
}
