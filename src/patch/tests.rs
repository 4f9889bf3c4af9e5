//! Patching by example: a kustomization's fields applied to rendered resources.

use std::sync::Arc;

use super::*;
use crate::manifest::TemplateOrigin;
use crate::source::{Fs, MemorySource};

const RENDERED: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  a: \"1\"
";

fn rendered() -> Vec<Resource> {
    let docs = crate::yaml::parse_documents(RENDERED).unwrap();
    docs.into_iter()
        .enumerate()
        .map(|(doc, b)| Resource::new(b, TemplateOrigin { template: Arc::from("web/v1/all.yaml"), doc }).unwrap())
        .collect()
}

fn run(kustomization: &str, extra: &[(&str, &str)], ns: Option<&str>) -> Result<Vec<Resource>, Error> {
    let mut m = MemorySource::new();
    m.file("web/prod/kustomization.yaml", kustomization);
    for (p, t) in extra {
        m.file(p, t);
    }
    let fs = Fs::new(Arc::new(m));
    let k = load(&fs, "web/prod")?.expect("present");
    apply(rendered(), &k, &ApplyOptions { default_namespace: ns.map(str::to_string) })
}

const REPLICAS_PATCH: &str = "patches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      replicas: 3\n";

#[test]
fn a_patch_without_namespace_selects_in_the_target_namespace() {
    let out = run(REPLICAS_PATCH, &[], Some("shop")).unwrap();
    assert_eq!(out[0].body["spec"]["replicas"], 3);
    // Kustomize's rule without a default: un-namespaced (or `default`) objects only.
    let e = run(REPLICAS_PATCH, &[], None).unwrap_err();
    assert!(
        e.messages().contains("no resource matches the strategic merge patch for `apps/Deployment/web`"),
        "{}",
        e.messages()
    );
    let e = run(REPLICAS_PATCH, &[], Some("other")).unwrap_err();
    assert!(e.messages().contains("no resource matches"), "{}", e.messages());
}

/// (kustomization, message) — strata is stricter than kustomize where an entry selects nothing.
#[test]
fn entries_that_select_nothing_are_errors() {
    let cases = [
        (
            "patches:\n- target:\n    kind: StatefulSet\n  patch: |-\n    - op: remove\n      path: /spec\n",
            "the target of `patches[0]` matches no resource (kind=StatefulSet)",
        ),
        (
            "patchesJson6902:\n- target:\n    kind: Deployment\n    name: api\n  patch: '[]'\n",
            "the target of `patchesJson6902[0]` matches no resource (kind=Deployment, name=api)",
        ),
        ("replicas:\n- name: settings\n  count: 2\n", "`replicas` entry `settings` matches no Deployment"),
        ("images:\n- name: postgres\n  newTag: \"16\"\n", "`images` entry `postgres` matches no container image"),
    ];
    for (k, want) in cases {
        let e = run(k, &[], Some("shop")).unwrap_err();
        assert!(e.messages().contains(want), "{k}\n  got: {}", e.messages());
        assert_eq!(e.diagnostics[0].path.as_deref(), Some("web/prod/kustomization.yaml"));
    }
}

#[test]
fn deletes_keep_order_and_extra_resources_come_last() {
    let k = "resources:\n- extra.yaml\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n      namespace: shop\n    $patch: delete\n";
    let out = run(k, &[("web/prod/extra.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n")], None).unwrap();
    let ids: Vec<String> = out.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(ids, ["ConfigMap/shop/settings", "Secret/s"]);
    assert_eq!(&*out[1].source.template, "web/prod/extra.yaml");
}

#[test]
fn a_failing_json_operation_names_the_patch_file_and_the_operation() {
    let k = "patches:\n- target:\n    kind: Deployment\n  path: ops.yaml\n";
    let ops = "- op: test\n  path: /spec/replicas\n  value: 1\n- op: test\n  path: /spec/replicas\n  value: 2\n";
    let e = run(k, &[("web/prod/ops.yaml", ops)], None).unwrap_err();
    let d = &e.diagnostics[0];
    assert!(
        d.message.contains("JSON patch operation 1 (`test` at `/spec/replicas`) failed on `apps/Deployment/shop/web`"),
        "{}",
        d.message
    );
    assert_eq!(d.path.as_deref(), Some("web/prod/ops.yaml"));
    assert_eq!(d.pos.map(|p| p.line), Some(4));
}

#[test]
fn a_patch_that_removes_the_name_is_an_error() {
    let k = "patches:\n- target:\n    kind: ConfigMap\n  patch: |-\n    - op: remove\n      path: /metadata/name\n";
    let e = run(k, &[], None).unwrap_err();
    assert!(e.messages().contains("after `patches[0]`"), "{}", e.messages());
}

#[test]
fn transforms_run_in_kustomize_order() {
    // The JSON patch runs after the prefix, so it must name the new name; replicas
    // run after it and win; images run last.
    let k = "namePrefix: p-\npatchesJson6902:\n- target:\n    kind: Deployment\n    name: p-web\n  patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 5\nreplicas:\n- name: web\n  count: 7\nimages:\n- name: nginx\n  newTag: \"1.27\"\n";
    let out = run(k, &[], None).unwrap();
    assert_eq!(out[0].id.name, "p-web");
    assert_eq!(out[0].body["spec"]["replicas"], 7);
    assert_eq!(out[0].body["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27");
}
