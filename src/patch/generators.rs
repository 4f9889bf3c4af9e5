//! `configMapGenerator` and `secretGenerator`: ConfigMaps and Secrets built from
//! literals and files, and the content-hash suffix of their names.
//!
//! In: the checked generator entries of a kustomization ([`Generator`], every file
//! already read by [`super::kustomization`]) and the resources being transformed.
//! Out: the resources with each generated object added (`behavior: create`) or
//! merged into / replacing the rendered object of the same identity (`merge`,
//! `replace`), exactly as kustomize 5.5 does; later, once every transformer has run,
//! [`add_hash_suffixes`] appends the content hash to the names of generated objects,
//! and [`super::names::fix_references`] rewrites every reference to them.
//!
//! Invariants: the hash is kustomize's (`api/hasher`): SHA-256 of the Go
//! `encoding/json` form of `{kind, name: "", data, binaryData}` for a ConfigMap,
//! `{kind, name: "", type, data, stringData}` for a Secret (kustomize looks the name
//! up under a key that never exists, so the name is always empty), its first ten
//! hex digits with `0 1 3 a e` mapped to `g h k m t`. Data keys come out sorted, as
//! kustomize writes them. Secret values are base64, like any Secret's `data`.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::Item;
use super::kustomization::Span;
use crate::diag::Error;
use crate::manifest::{Resource, TemplateOrigin};

/// What a generator builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratorKind {
    ConfigMap,
    Secret,
}

impl GeneratorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GeneratorKind::ConfigMap => "ConfigMap",
            GeneratorKind::Secret => "Secret",
        }
    }
}

/// `behavior:` of a generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    Create,
    Merge,
    Replace,
}

/// One data entry's value: text goes to `data`, other bytes to `binaryData`
/// (a Secret's `data` holds both, base64-encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataValue {
    Text(String),
    Binary(Vec<u8>),
}

/// A checked generator entry with every source read.
#[derive(Debug, Clone)]
pub struct Generator {
    pub kind: GeneratorKind,
    /// How the entry is called in messages: `configMapGenerator[0]`.
    pub entry: String,
    pub at: Span,
    pub name: String,
    pub namespace: Option<String>,
    pub behavior: Behavior,
    /// Keys are unique (checked when read).
    pub data: Vec<(String, DataValue)>,
    /// A Secret's `type` (`Opaque` when not given).
    pub secret_type: String,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    /// Whether the name gets the content-hash suffix.
    pub hash: bool,
    pub immutable: bool,
}

impl Generator {
    /// The object this generator builds, before any merge.
    pub fn object(&self, default_namespace: Option<&str>) -> Value {
        let mut meta = Map::new();
        meta.insert("name".into(), Value::String(self.name.clone()));
        if let Some(ns) = self.namespace.as_deref().or(default_namespace) {
            meta.insert("namespace".into(), Value::String(ns.to_string()));
        }
        if !self.labels.is_empty() {
            meta.insert("labels".into(), string_map(&self.labels));
        }
        if !self.annotations.is_empty() {
            meta.insert("annotations".into(), string_map(&self.annotations));
        }
        let mut body = Map::new();
        body.insert("apiVersion".into(), Value::String("v1".into()));
        body.insert("kind".into(), Value::String(self.kind.as_str().into()));
        body.insert("metadata".into(), Value::Object(meta));
        if self.immutable {
            body.insert("immutable".into(), Value::Bool(true));
        }
        let b64 = |bytes: &[u8]| Value::String(kyaml_base64(bytes));
        let mut data = BTreeMap::new();
        let mut binary = BTreeMap::new();
        for (k, v) in &self.data {
            match (self.kind, v) {
                (GeneratorKind::ConfigMap, DataValue::Text(t)) => data.insert(k.clone(), Value::String(t.clone())),
                (GeneratorKind::ConfigMap, DataValue::Binary(b)) => binary.insert(k.clone(), b64(b)),
                (GeneratorKind::Secret, DataValue::Text(t)) => data.insert(k.clone(), b64(t.as_bytes())),
                (GeneratorKind::Secret, DataValue::Binary(b)) => data.insert(k.clone(), b64(b)),
            };
        }
        if !data.is_empty() {
            body.insert("data".into(), Value::Object(data.into_iter().collect()));
        }
        if !binary.is_empty() {
            body.insert("binaryData".into(), Value::Object(binary.into_iter().collect()));
        }
        if self.kind == GeneratorKind::Secret {
            body.insert("type".into(), Value::String(self.secret_type.clone()));
        }
        Value::Object(body)
    }
}

/// Base64 as kustomize (kyaml) writes it into `data` and `binaryData`: an encoding of
/// 70 characters or more is cut into lines of 70, each ended by a newline (the hash
/// covers those newlines, so they are part of the value).
pub fn kyaml_base64(bytes: &[u8]) -> String {
    const LINE: usize = 70;
    let enc = base64::engine::general_purpose::STANDARD.encode(bytes);
    if enc.len() < LINE {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / LINE + 1);
    for chunk in enc.as_bytes().chunks(LINE) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out
}

fn string_map(pairs: &[(String, String)]) -> Value {
    let sorted: BTreeMap<&String, &String> = pairs.iter().map(|(k, v)| (k, v)).collect();
    Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// Runs the generators in order: each adds its object, or merges into or replaces
/// the one object of its kind, name and namespace (a generator that names no
/// namespace also finds objects in `default_namespace`, the target's).
/// `file` is the kustomization's path, the source of created objects.
pub fn generate(
    items: &mut Vec<Item>,
    generators: &[Generator],
    default_namespace: Option<&str>,
    file: &str,
) -> Result<(), Error> {
    for (n, g) in generators.iter().enumerate() {
        let hits = matching(items, g, default_namespace);
        let made = g.object(default_namespace);
        match (g.behavior, hits.as_slice()) {
            (Behavior::Create, []) => {
                let source = TemplateOrigin { template: file.into(), doc: n };
                let res = Resource::new(made, source)?;
                items.push(Item { res, prev: Vec::new(), hash: g.hash });
            }
            (Behavior::Create, [i, ..]) => {
                let id = &items[*i].res.id;
                return Err(g
                    .at
                    .diag(format!("`{}` creates `{id}`, which already exists", g.entry), "already exists")
                    .hint("set `behavior: merge` or `behavior: replace` to change the rendered object")
                    .into());
            }
            (_, []) => {
                return Err(g
                    .at
                    .diag(
                        format!(
                            "`{}` ({}) finds no {} named `{}` to change",
                            g.entry,
                            behavior_name(g.behavior),
                            g.kind.as_str(),
                            g.name
                        ),
                        "matches nothing",
                    )
                    .hint(super::available(items, |i| i.kind == g.kind.as_str() && i.group.is_empty()))
                    .hint("remove `behavior` (or set `create`) to add a new object")
                    .into());
            }
            (_, [i]) => {
                let old = &mut items[*i];
                old.res.body = combine(&old.res.body, made, g.behavior);
                old.res.refresh_id()?;
            }
            (_, many) => {
                let ids: Vec<String> = many.iter().map(|i| format!("`{}`", items[*i].res.id)).collect();
                return Err(g
                    .at
                    .diag(format!("`{}` matches {} objects: {}", g.entry, many.len(), ids.join(", ")), "")
                    .hint("give the generator a `namespace`")
                    .into());
            }
        }
    }
    Ok(())
}

fn behavior_name(b: Behavior) -> &'static str {
    match b {
        Behavior::Create => "behavior: create",
        Behavior::Merge => "behavior: merge",
        Behavior::Replace => "behavior: replace",
    }
}

fn matching(items: &[Item], g: &Generator, default_namespace: Option<&str>) -> Vec<usize> {
    let ns_of = |s: &str| super::names::namespace_or_default(s);
    let want = g.namespace.as_deref().map(ns_of);
    (0..items.len())
        .filter(|&i| {
            let id = items[i].ident();
            let have = ns_of(&id.namespace);
            id.group.is_empty()
                && id.kind == g.kind.as_str()
                && id.name == g.name
                && match &want {
                    Some(w) => *w == have,
                    None => have == "default" || default_namespace.is_some_and(|d| ns_of(d) == have),
                }
        })
        .collect()
}

/// The generated object `new` in place of `old`, as kustomize merges them: the old
/// labels and annotations under the new ones, and for `merge` the old `data` and
/// `binaryData` under the new entries. Everything else of `old` is dropped.
fn combine(old: &Value, mut new: Value, behavior: Behavior) -> Value {
    let Some(obj) = new.as_object_mut() else { return new };
    if let Some(ns) = old.pointer("/metadata/namespace") {
        let meta = obj.get_mut("metadata").and_then(Value::as_object_mut).expect("generated metadata");
        meta.insert("namespace".into(), ns.clone());
    }
    for field in ["labels", "annotations"] {
        let under = old.pointer(&format!("/metadata/{field}"));
        let meta = obj.get_mut("metadata").and_then(Value::as_object_mut).expect("generated metadata");
        merge_under(meta, field, under);
    }
    if behavior == Behavior::Merge {
        for field in ["data", "binaryData"] {
            merge_under(obj, field, old.get(field));
        }
    }
    new
}

/// `map[field]` becomes `under` with `map[field]`'s entries on top (keys sorted).
fn merge_under(map: &mut Map<String, Value>, field: &str, under: Option<&Value>) {
    let Some(Value::Object(under)) = under else { return };
    let mut merged: BTreeMap<String, Value> = under.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    if let Some(Value::Object(top)) = map.get(field) {
        merged.extend(top.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    if !merged.is_empty() {
        map.insert(field.to_string(), Value::Object(merged.into_iter().collect()));
    }
}

/// Appends the content hash to the name of every generated object that wants one
/// (the last transform before references are rewritten, as in kustomize).
pub fn add_hash_suffixes(items: &mut [Item]) {
    for item in items.iter_mut().filter(|i| i.hash) {
        let hash = name_hash(&item.res.body);
        item.remember();
        if let Some(Value::Object(meta)) = item.res.body.get_mut("metadata")
            && let Some(Value::String(name)) = meta.get_mut("name")
        {
            name.push('-');
            name.push_str(&hash);
        }
    }
}

/// kustomize's content hash of a ConfigMap or Secret (any other object: of its
/// whole body), ten characters.
pub fn name_hash(body: &Value) -> String {
    let field = |k: &str| body.get(k).cloned().unwrap_or_else(|| Value::String(String::new()));
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or("");
    let mut m = Map::new();
    let encoded = match kind {
        "ConfigMap" | "Secret" => {
            m.insert("kind".into(), Value::String(kind.into()));
            m.insert("name".into(), Value::String(String::new()));
            m.insert("data".into(), field("data"));
            let extra = if kind == "ConfigMap" { "binaryData" } else { "stringData" };
            if let Some(v @ Value::Object(_)) = body.get(extra) {
                m.insert(extra.into(), v.clone());
            }
            if kind == "Secret" {
                m.insert("type".into(), field("type"));
            }
            go_json(&Value::Object(m))
        }
        _ => go_json(body),
    };
    let digest = Sha256::digest(encoded.as_bytes());
    digest
        .iter()
        .flat_map(|b| [b >> 4, b & 15])
        .take(10)
        .map(|nibble| match nibble {
            0 => 'g',
            1 => 'h',
            3 => 'k',
            10 => 'm',
            14 => 't',
            n => char::from_digit(u32::from(n), 16).expect("a nibble"),
        })
        .collect()
}

/// Go's `encoding/json` form of a value: object keys sorted, HTML characters and
/// line separators escaped, `\b` and `\f` as Go 1.22 and later write them.
pub fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_go_json(v, &mut out);
    out
}

fn write_go_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(k, out);
                out.push(':');
                write_go_json(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(x, out);
            }
            out.push(']');
        }
        Value::String(s) => write_go_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_go_string(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// (kustomization, files, message)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

    /// (body, the suffix `kubectl kustomize` 5.5 gave it)
    #[test]
    fn hashes_are_kustomizes() {
        let cases = [
            (
                json!({"kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {
                    "A": "1", "B ": " \"two\"", "C": "x=y", "greet.txt": "hello <&>\n",
                    "k1": "v1", "k2": "quoted", "other": "hello <&>\n"}}),
                "7d46k2bb6g",
            ),
            (
                json!({"kind": "Secret", "type": "Opaque", "metadata": {"name": "sec"},
                    "data": {"A": "MQ==", "B ": "ICJ0d28i", "C": "eD15"}}),
                "6bd88h8c84",
            ),
            (json!({"kind": "ConfigMap", "metadata": {"name": "empty"}}), "6ct58987ht"),
            (json!({"kind": "ConfigMap", "binaryData": {"bin.dat": "//4AYmlu"}}), "cmdh6chtm5"),
            (
                json!({"kind": "ConfigMap", "data": {
                    "ctl.txt": "a\u{8}b\u{c}c\u{1b}d\te\r\n\u{2028}\"\\/", "e": "", "n": "1.0", "q": "x", "u": "ü"}}),
                "5tt2t86dtk",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(name_hash(&body), want, "{body}");
        }
    }

    /// Loads `web/prod/kustomization.yaml` (with `files`) and applies it to one
    /// rendered Deployment and ConfigMap in namespace `shop` (the target's).
    fn run(kustomization: &str, files: &[(&str, &str)]) -> Result<Vec<Resource>, Error> {
        use crate::source::{Fs, MemorySource};
        use std::sync::Arc;
        let mut m = MemorySource::new();
        m.file("web/prod/kustomization.yaml", kustomization);
        for (p, bytes) in files {
            m.file(p, bytes);
        }
        m.file("secret.env", "outside=1\n");
        let fs = Fs::new(Arc::new(m));
        let k = crate::patch::load(&fs, "web/prod")?.expect("present");
        let rendered = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        envFrom:\n        - configMapRef: {name: settings}\n        - secretRef: {name: keys}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {a: \"1\"}\n";
        let docs = crate::yaml::parse_documents(rendered).unwrap();
        let origin = |doc| TemplateOrigin { template: Arc::from("web/v1/all.yaml"), doc };
        let res = docs.into_iter().enumerate().map(|(i, b)| Resource::new(b, origin(i)).unwrap()).collect();
        let opts = crate::patch::ApplyOptions { default_namespace: Some("shop".into()) };
        crate::patch::apply(res, &k, &opts)
    }

    #[test]
    fn generated_objects_join_the_target_namespace_and_references_follow_the_hash() {
        let k = "configMapGenerator:\n- name: settings\n  behavior: merge\n  literals: [b=2]\nsecretGenerator:\n- name: keys\n  envs: [keys.env]\n";
        let out = run(k, &[("web/prod/keys.env", "TOKEN=abc\n")]).unwrap();
        let ids: Vec<String> = out.iter().map(|r| r.id.to_string()).collect();
        // Merged into the rendered ConfigMap (found in the target's namespace): no hash,
        // as kustomize; the created Secret: hashed, in the target's namespace.
        assert_eq!(ids, ["apps/Deployment/shop/web", "ConfigMap/shop/settings", "Secret/shop/keys-86h6cc7m29"]);
        assert_eq!(out[1].body["data"], json!({"a": "1", "b": "2"}));
        assert_eq!(out[2].body["data"]["TOKEN"], "YWJj");
        let env_from = &out[0].body["spec"]["template"]["spec"]["containers"][0]["envFrom"];
        assert_eq!(env_from[1]["secretRef"]["name"], "keys-86h6cc7m29");
        assert_eq!(&*out[2].source.template, "web/prod/kustomization.yaml");
    }

    /// (kustomization, files, message): one case per class of bad generator input.
    #[test]
    fn bad_generators_are_errors_naming_the_entry() {
        let cases: &[Case] = &[
            ("configMapGenerator:\n- literals: [a=1]\n", &[], "a `configMapGenerator` entry needs a `name`"),
            ("configMapGenerator:\n- name: x\n  behavior: upsert\n", &[], "unknown `behavior: upsert`"),
            ("configMapGenerator:\n- name: x\n  type: Opaque\n", &[], "`type` is for `secretGenerator` entries"),
            ("configMapGenerator:\n- name: x\n  literals: [novalue]\n", &[], "literal `novalue` is not `KEY=VALUE`"),
            ("configMapGenerator:\n- name: x\n  literals: [a=1, a=2]\n", &[], "repeats the key `a`"),
            ("configMapGenerator:\n- name: x\n  files: [a=b=c]\n", &[], "is neither a path nor `KEY=PATH`"),
            ("configMapGenerator:\n- name: x\n  files: [missing.txt]\n", &[], "`missing.txt` does not exist"),
            ("secretGenerator:\n- name: x\n  envs: [../../secret.env]\n", &[], ""),
            ("secretGenerator:\n- name: x\n  envs: [../../../secret.env]\n", &[], "leaves the repository"),
            (
                "secretGenerator:\n- name: x\n  envs: [e.env]\n",
                &[("web/prod/e.env", "A=1\nHOME\n")],
                "line 2 of `web/prod/e.env` (`HOME`) is not `KEY=VALUE`",
            ),
            (
                "configMapGenerator:\n- name: settings\n  literals: [a=1]\n",
                &[],
                "`configMapGenerator[0]` creates `ConfigMap/shop/settings`, which already exists",
            ),
            (
                "configMapGenerator:\n- name: other\n  behavior: replace\n",
                &[],
                "`configMapGenerator[0]` (behavior: replace) finds no ConfigMap named `other`",
            ),
            ("generatorOptions:\n  disableNameSuffixHsh: true\n", &[], "disableNameSuffixHsh"),
        ];
        for (k, files, want) in cases {
            match run(k, files) {
                Ok(_) if want.is_empty() => {}
                Ok(_) => panic!("{k}: no error"),
                Err(e) => {
                    assert!(!want.is_empty() && e.messages().contains(want), "{k}\n  got: {}", e.messages());
                    let d = &e.diagnostics[0];
                    assert!(d.path.as_deref().is_some_and(|p| p.starts_with("web/prod/")), "{k}: {:?}", d.path);
                    assert!(d.pos.is_some(), "{k}: no position");
                }
            }
        }
    }

    #[test]
    fn go_json_escapes_like_go() {
        assert_eq!(
            go_json(&json!({"b": "<&>", "a": ["\u{1}", 1, true, null]})),
            r#"{"a":["\u0001",1,true,null],"b":"\u003c\u0026\u003e"}"#
        );
    }
}
