//! Bad and good kustomization.yaml files, read through a memory repository.

use super::*;
use crate::source::MemorySource;

fn load_with(files: &[(&str, &str)]) -> Result<Kustomization, Error> {
    let mut m = MemorySource::new();
    for (p, t) in files {
        m.file(p, t);
    }
    let fs = Fs::new(Arc::new(m));
    load(&fs, "web/prod").map(|k| k.expect("kustomization.yaml is there"))
}

/// (kustomization.yaml, message, line:col) — one class of bad input each.
#[test]
fn bad_kustomizations_name_the_field_and_line() {
    let cases: &[(&str, &str, (usize, usize))] = &[
        ("kind: Component\n", "unsupported `kind: Component`", (1, 1)),
        ("apiVersion: kustomize.config.k8s.io/v1\n", "unsupported `apiVersion", (1, 1)),
        ("namespace: a\nnamePrefx: p-\n", "unknown field `namePrefx` in kustomization.yaml", (2, 1)),
        ("vars: []\n", "kustomize field `vars` is not supported", (1, 1)),
        ("patches:\n- path: a.yaml\n  patch: x\n", "has both `path` and `patch`", (2, 3)),
        ("patches:\n- target:\n    kind: X\n", "has neither `path` nor `patch`", (2, 3)),
        (
            "patches:\n- patch: |\n    - op: add\n      path: /a\n      value: 1\n",
            "is a JSON patch without a `target`",
            (2, 3),
        ),
        ("patches:\n- target:\n    knd: X\n  patch: x\n", "unknown field `knd` in a patch `target`", (3, 5)),
        ("patches:\n- target:\n    name: \"web-(\"\n  patch: x\n", "invalid regular expression `web-(`", (3, 5)),
        ("patches:\n- target:\n    labelSelector: \"a in (b\"\n  patch: x\n", "unbalanced `(`", (3, 5)),
        ("patches:\n- options:\n    allowNameChange: yes\n  path: p.yaml\n", "must be `true` or `false`", (3, 5)),
        (
            "patches:\n- patch: |\n    kind: Deployment\n    spec: {}\n",
            "strategic merge patch has no `apiVersion`, `metadata.name`",
            (3, 5),
        ),
        (
            "patches:\n- patch: |\n    - op: jump\n      path: /a\n  target:\n    kind: X\n",
            "operation 0 is not a valid JSON patch operation",
            (3, 7),
        ),
        ("patchesJson6902:\n- path: ops.yaml\n", "has no `target`", (2, 3)),
        // A field in another letter case is read; errors inside it point into it.
        ("namespace: a\npatchesJSON6902:\n- path: ops.yaml\n", "has no `target`", (3, 3)),
        ("patchesJson6903: []\n", "unknown field `patchesJson6903` in kustomization.yaml", (1, 1)),
        ("HelmCharts: []\n", "kustomize field `HelmCharts` is not supported", (1, 1)),
        (
            "patches:\n- target:\n    kind: X\n  patch: |\n    spec: {}\n",
            "strategic merge patch has no `kind`, `metadata.name`",
            (5, 5),
        ),
        ("resources:\n- https://github.com/x/y\n", "remote `https://github.com/x/y` is not supported", (2, 3)),
        ("resources:\n- /etc/passwd\n", "absolute path `/etc/passwd`", (2, 3)),
        ("resources:\n- ../../..\n", "leaves the repository", (2, 3)),
        ("resources:\n- ../v1\n", "is a directory", (2, 3)),
        ("replicas:\n- name: web\n  count: -1\n", "`count` must be a whole number", (3, 3)),
        ("replicas:\n- count: 2\n", "needs a `name`", (2, 3)),
        ("images:\n- name: nginx\n", "changes nothing", (2, 3)),
        ("images:\n- name: nginx\n  tagSuffix: -x\n", "`tagSuffix` is not supported", (3, 3)),
        ("commonLabels:\n  version: 2\n", "`commonLabels.version` must be a string, found `2`", (2, 3)),
        ("labels:\n- pairs: {a: b}\n  includeSelector: true\n", "unknown field `includeSelector`", (3, 3)),
        ("namespace: [a]\n", "`namespace` must be a string", (1, 1)),
        ("- a\n", "must be a mapping of fields", (1, 1)),
    ];
    for (text, want, (line, col)) in cases {
        let files = [
            ("web/prod/kustomization.yaml", *text),
            ("web/prod/p.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"),
            ("web/v1/x.yaml", ""),
        ];
        let e = match load_with(&files) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e,
        };
        let d = &e.diagnostics[0];
        assert!(d.message.contains(want), "{text}\n  got: {}\n  wanted: {want}", d.message);
        assert_eq!(d.path.as_deref(), Some("web/prod/kustomization.yaml"), "{text}");
        let pos = d.pos.map(|p| (p.line, p.col));
        assert_eq!(pos, Some((*line, *col)), "{text}: {}", d.message);
    }
}

#[test]
fn every_problem_of_the_file_is_reported() {
    let e = load_with(&[("web/prod/kustomization.yaml", "bases: []\nnamePrefix: 1\nfoo: bar\n")]).unwrap_err();
    assert_eq!(e.diagnostics.len(), 3, "{}", e.messages());
}

#[test]
fn files_are_read_relative_to_the_target() {
    let k = load_with(&[
        (
            "web/prod/kustomization.yaml",
            "resources:\n- ../shared/extra.yaml\npatches:\n- path: patches/p.yaml\npatchesStrategicMerge:\n- |-\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n",
        ),
        ("web/shared/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n---\n"),
        ("web/prod/patches/p.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"),
    ])
    .unwrap();
    assert_eq!(k.resources.len(), 1);
    assert_eq!(&*k.resources[0].source.template, "web/shared/extra.yaml");
    assert_eq!(&*k.patches[0].text.file, "web/prod/patches/p.yaml");
    // The inline patch's lines map into kustomization.yaml (line 7 is its `apiVersion`).
    assert_eq!(k.patches_strategic_merge[0].text.span(Some((1, 1)), 1).line, 7);
}

#[test]
fn missing_patch_files_name_the_resolved_path() {
    let e = load_with(&[("web/prod/kustomization.yaml", "patches:\n- path: nope.yaml\n")]).unwrap_err();
    assert!(e.messages().contains("`nope.yaml` does not exist (looked for `web/prod/nope.yaml`)"), "{}", e.messages());
}

/// Kustomize's readings that strata used to refuse: a field in another letter case (with
/// a warning naming the field's name), a targeted strategic merge patch without
/// `apiVersion`, a one-line JSON object as a `patchesStrategicMerge` entry, and a
/// `resources:` file whose annotation is a number (a string, with a warning).
#[test]
fn what_kustomize_accepts_is_read() {
    let k = load_with(&[
        (
            "web/prod/kustomization.yaml",
            "resources:\n- extra.yaml\npatchesJSON6902:\n- target: {kind: Deployment, name: web}\n  patch: '[]'\npatches:\n- target:\n    Kind: Deployment\n  patch: |\n    kind: Deployment\n    metadata:\n      name: x\npatchesStrategicMerge:\n- '{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"c\"}}'\nimages:\n- name: nginx\n  Digest: sha256:00\n",
        ),
        ("web/prod/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  annotations:\n    port: 8080\n"),
    ])
    .unwrap();
    assert_eq!((k.patches_json6902.len(), k.patches.len(), k.patches_strategic_merge.len()), (1, 1, 1));
    assert_eq!(k.images[0].digest.as_deref(), Some("sha256:00"));
    assert_eq!(k.resources[0].body["metadata"]["annotations"]["port"], "8080");
    let got: Vec<(String, String, usize)> = k
        .warnings
        .iter()
        .map(|w| (w.message.clone(), w.path.clone().unwrap_or_default(), w.pos.map(|p| p.line).unwrap_or(0)))
        .collect();
    let file = "web/prod/kustomization.yaml".to_string();
    assert_eq!(
        got,
        [
            ("`patchesJSON6902` is spelt `patchesJson6902`; read as `patchesJson6902`".into(), file.clone(), 3),
            ("`patches[0].target.Kind` is spelt `kind`; read as `kind`".into(), file.clone(), 8),
            ("`images[0].Digest` is spelt `digest`; read as `digest`".into(), file, 17),
            (
                "annotation `port` is a number; strata writes it as the string \"8080\"".into(),
                "web/prod/extra.yaml".into(),
                6
            ),
        ]
    );
    // A list has no text to become: an error in the file that holds it.
    let e = load_with(&[
        ("web/prod/kustomization.yaml", "resources:\n- bad.yaml\n"),
        ("web/prod/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    a: [1]\n  name: c\n"),
    ])
    .unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!(d.message, "annotation `a` is a list; it must be a string");
    assert_eq!((d.path.as_deref(), d.pos.map(|p| p.line)), (Some("web/prod/bad.yaml"), Some(5)));
}
