//! The properties the fuzz targets check, one function per target.
//!
//! In: the raw bytes a fuzzer (or a committed corpus file) gives. Out: nothing;
//! a function panics when its property does not hold, which is what a fuzzer
//! reports as a crash. The `fuzz/` crate (nightly, `cargo fuzz`) calls these from
//! its targets, and `tests/fuzz_corpus.rs` replays every file of
//! `fuzz/corpus/<target>/` through them on stable, so CI checks the corpora
//! without nightly. Input that is not UTF-8 is ignored: strata reads every file
//! and argument as UTF-8 text and refuses anything else before these parsers.
//!
//! | target | input | property |
//! | --- | --- | --- |
//! | `block_yaml` | a YAML stream | the block reader returns what `yaml_serde` returns, or declines |
//! | `set_expr` | a `--set` argument | no panic; a map comes back; `--set-string` leaves are strings |
//! | `kustomization` | files, see [`kustomization`] | loading and applying it never panics, and is deterministic |
//! | `strategic_merge` | object `---` patch | no panic; merging an empty patch gives the object back |
//! | `values_merge` | layers as YAML documents (maps) | an empty top layer changes nothing; the top layer wins |
//! | `selector` | a selector | target, `target:` pattern and label selectors parse without panic, literals match |

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::manifest::{Resource, TemplateOrigin};
use crate::patch::schema::Schema;
use crate::patch::select::{LabelSelector, Pattern};
use crate::patch::{ApplyOptions, strategic};
use crate::repo::{Selector, Target};
use crate::source::{Fs, MemorySource};
use crate::values::{Layer, LayerKind, Values, leaf_paths};
use crate::yaml;

/// A property: panics on an input for which it does not hold.
pub type Property = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/` call them.
pub const TARGETS: &[(&str, Property)] = &[
    ("block_yaml", block_yaml),
    ("set_expr", set_expr),
    ("kustomization", kustomization),
    ("strategic_merge", strategic_merge),
    ("values_merge", values_merge),
    ("selector", selector),
];

/// The block YAML reader against `yaml_serde`: same documents, or the block
/// reader declines (and `yaml_serde` alone decides, as in [`yaml::parse_documents`]).
pub fn block_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(fast) = yaml::block::parse_stream(text) else { return };
    match yaml::parse_documents_slow(text) {
        Ok(slow) => assert_eq!(fast, slow, "block reader and yaml_serde differ on {text:?}"),
        Err(e) => panic!("block reader accepted what yaml_serde refuses ({e}): {text:?} gave {fast:?}"),
    }
}

/// `--set` and `--set-string`: an error or a map; with `--set-string` every value
/// is a string (a `null` only pads a list up to an index).
pub fn set_expr(data: &[u8]) {
    let Ok(expr) = std::str::from_utf8(data) else { return };
    for typed in [true, false] {
        let Ok(v) = crate::values::set::parse(expr, typed) else { continue };
        assert!(v.is_object(), "`{expr}` gave {v}");
        if !typed {
            assert!(only_strings(&v, false), "`--set-string {expr}` gave a value that is not a string: {v}");
        }
    }
}

/// Whether every leaf of `v` is a string; nulls are allowed as list items only.
fn only_strings(v: &Value, in_list: bool) -> bool {
    match v {
        Value::String(_) => true,
        Value::Null => in_list,
        Value::Object(m) => m.values().all(|v| only_strings(v, false)),
        Value::Array(a) => a.iter().all(|v| only_strings(v, true)),
        _ => false,
    }
}

/// The target directory of the [`kustomization`] target's repository.
const KUSTOMIZE_DIR: &str = "web/eastus";

/// A kustomization and the files it names: the input up to the first line
/// `#file: NAME` is `kustomization.yaml`, each such line starts the file `NAME`
/// beside it. It is loaded from an in-memory repository and applied to one
/// rendered Deployment; either step may fail, neither may panic, and a second
/// run gives the same objects.
pub fn kustomization(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut files = vec![("kustomization.yaml".to_string(), String::new())];
    for line in text.split_inclusive('\n') {
        match line.strip_prefix("#file: ") {
            Some(name) => files.push((name.trim().to_string(), String::new())),
            None => files.last_mut().expect("never empty").1.push_str(line),
        }
    }
    let mut source = MemorySource::new();
    for (name, content) in &files {
        source.file(&format!("{KUSTOMIZE_DIR}/{name}"), content);
    }
    let fs = Fs::new(Arc::new(source));
    let run = || -> Option<Vec<Resource>> {
        let rendered =
            Resource::new(rendered_deployment(), TemplateOrigin { template: Arc::from("web/v1/d.yaml"), doc: 0 });
        let opts = ApplyOptions { default_namespace: Some("web".to_string()) };
        crate::patch::apply_target(&fs, KUSTOMIZE_DIR, vec![rendered.ok()?], &opts, "web/eastus")
            .ok()
            .map(|(resources, _)| resources)
    };
    let (first, second) = (run(), run());
    assert_eq!(first, second, "applying {text:?} twice gave different objects");
}

fn rendered_deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]}
            }
        }
    })
}

/// Strategic merge: the first document is the object, the second (if any) the
/// patch, merged with the schema of the object's `apiVersion` and `kind`. No
/// panic, and merging an empty patch into a mapping gives it back unchanged.
pub fn strategic_merge(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mut docs) = yaml::parse_documents(text) else { return };
    if docs.is_empty() {
        return;
    }
    let object = docs.remove(0);
    let s = |k: &str| object.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let schema = Schema::builtin().root(&s("apiVersion"), &s("kind"));
    if object.is_object() {
        let same = strategic::merge(object.clone(), &Value::Object(Map::new()), schema);
        assert_eq!(same, Ok(Some(object.clone())), "an empty patch changed {object}");
    }
    if let Some(patch) = docs.first() {
        let _ = strategic::merge(object, patch, schema);
    }
}

/// Values merge (Helm's rules): every document of the input is a layer, lowest
/// first. An empty layer on top changes nothing; what the top layer sets (a
/// scalar or a list) is the merged value there and that layer is its origin; a
/// `null` in the top layer (above another) deletes the key.
pub fn values_merge(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(docs) = yaml::parse_documents(text) else { return };
    let layer = |i: usize, data: Value| Layer {
        kind: LayerKind::Parameters,
        origin: Arc::from(format!("layer{i}").as_str()),
        text: None,
        prefix: Vec::new(),
        data: Arc::new(data),
    };
    // Read as values files are: an empty document is an empty map, anything but a map is refused.
    let Some(maps) = docs
        .into_iter()
        .map(|d| if d.is_null() { Some(Value::Object(Map::new())) } else { d.is_object().then_some(d) })
        .collect::<Option<Vec<Value>>>()
    else {
        return;
    };
    let layers: Vec<Layer> = maps.into_iter().enumerate().map(|(i, d)| layer(i, d)).collect();
    let Some(top) = layers.last().cloned() else { return };
    let merged = Values::merge(layers.clone());
    let mut with_empty = layers.clone();
    with_empty.push(layer(layers.len(), Value::Object(Map::new())));
    assert_eq!(Values::merge(with_empty).merged, merged.merged, "an empty top layer changed the merge of {text:?}");
    for path in leaf_paths(&top.data) {
        let want = lookup(&top.data, &path).expect("a leaf path exists");
        let got = lookup(&merged.merged, &path);
        if want.is_null() {
            if layers.len() > 1 {
                assert_eq!(got, None, "`null` at {path:?} in the top layer did not delete it: {text:?}");
            }
        } else if !want.as_object().is_some_and(Map::is_empty) {
            assert_eq!(got, Some(want), "the top layer's value at {path:?} lost: {text:?}");
            let origin = merged.origin_of(&path).map(|l| l.origin.clone());
            assert_eq!(origin, Some(top.origin.clone()), "origin of {path:?} in {text:?}");
        }
    }
}

fn lookup<'v>(v: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| v.as_object()?.get(k))
}

/// Selectors: the command line's target selectors, a `target:`'s name
/// patterns and label selectors. No panic; a pattern without regex syntax
/// matches itself; an empty label selector matches everything.
pub fn selector(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(s) = Selector::parse(text) {
        let _ = s.component();
        let target = Target {
            component: "web".to_string(),
            environment: "prod/eastus".to_string(),
            dir: "web/prod/eastus".to_string(),
            version_dir: "web/v1".to_string(),
            version: "v1".to_string(),
        };
        let _ = s.matches(&target);
    }
    if let Ok(p) = Pattern::new(text) {
        let literal = !text.chars().any(|c| "\\.+*?()|[]{}^$".contains(c));
        assert!(!literal || p.is_match(text), "pattern `{text}` does not match itself");
        let _ = p.is_match("web");
    }
    if let Ok(l) = LabelSelector::parse(text) {
        let labels = json!({"app": "web", "tier": "front", "n": "3"});
        let _ = l.matches(Some(&labels));
        if text.trim().is_empty() {
            assert!(l.matches(None), "the empty selector `{text}` does not match everything");
        }
    }
}

#[cfg(test)]
mod corpus;
