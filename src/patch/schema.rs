//! Patch strategies of the built-in Kubernetes types, as strategic merge needs them.
//!
//! In: `merge_keys.json`, a compact table generated from the API server's OpenAPI v2
//! definitions (`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`,
//! `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`). Out: a [`Schema`] that
//! answers, while walking an object of a given group/version/kind, what a field is:
//! an object of a known type, a map of such objects, or a list with its strategy and
//! merge keys. Invariants: the table holds only types on a path to some patch
//! strategy (everything else merges as plain maps and replaced lists), and it is
//! never edited by hand — `STRATA_REGENERATE=1 cargo test --lib patch::schema` rewrites it
//! from `tests/fixtures/apiserver/openapi-v2-definitions.json`, and a test fails
//! when the committed file is stale.
//!
//! The file format, per type (names without the `io.k8s.` prefix):
//!
//! ```json
//! "api.core.v1.PodSpec": {
//!   "containers": {"list": "api.core.v1.Container", "strategy": "merge", "key": "name", "keys": ["name"]},
//!   "affinity": {"object": "api.core.v1.Affinity"}
//! }
//! ```
//!
//! `key` is the patch merge key (what the API server's strategic merge uses) and
//! `keys` the list-map keys (what kustomize uses when present: ports merge by
//! `containerPort` and `protocol`).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// The generated table, compiled in.
const MERGE_KEYS: &str = include_str!("merge_keys.json");

#[derive(Debug, Deserialize)]
struct File {
    /// `group/version/Kind` (`v1/Pod` for the core group) → root type.
    kinds: std::collections::BTreeMap<String, String>,
    types: std::collections::BTreeMap<String, std::collections::BTreeMap<String, FieldEntry>>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct FieldEntry {
    /// The field is an object of this type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object: Option<String>,
    /// The field is a list; its items are of this type (empty: scalars or untyped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    list: Option<String>,
    /// The field is a map whose values are of this type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    map: Option<String>,
    /// `x-kubernetes-patch-strategy`: `merge`, `retainKeys`, `merge,retainKeys`, `replace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    strategy: Option<String>,
    /// `x-kubernetes-patch-merge-key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    /// `x-kubernetes-list-map-keys`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    keys: Vec<String>,
}

/// Index of a type in [`Schema::types`].
type TypeId = usize;

#[derive(Debug, Default)]
struct TypeDef {
    fields: HashMap<String, FieldDef>,
}

#[derive(Debug)]
struct FieldDef {
    shape: Shape,
    ty: Option<TypeId>,
    merge: bool,
    keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Object,
    List,
    Map,
}

/// The patch strategies of every known kind.
#[derive(Debug)]
pub struct Schema {
    kinds: HashMap<String, TypeId>,
    types: Vec<TypeDef>,
}

/// What the schema says about one node of an object while walking it.
#[derive(Debug, Clone, Copy)]
pub enum Node<'s> {
    /// Nothing known: maps merge, lists are replaced.
    Unknown,
    /// An object of a known type.
    Object(&'s Schema, TypeId),
    /// A map whose values are objects of a known type.
    MapOf(&'s Schema, TypeId),
    /// A list, with how it merges.
    List(List<'s>),
}

/// A list field's patch strategy.
#[derive(Debug, Clone, Copy)]
pub struct List<'s> {
    /// `x-kubernetes-patch-strategy` includes `merge`: the list is associative.
    pub merge: bool,
    /// The keys that identify an item (empty for a set of scalars).
    pub keys: &'s [String],
    item: Option<(&'s Schema, TypeId)>,
}

impl<'s> List<'s> {
    /// The schema of the list's items.
    pub fn item(&self) -> Node<'s> {
        match self.item {
            Some((s, t)) => Node::Object(s, t),
            None => Node::Unknown,
        }
    }
}

impl<'s> Node<'s> {
    /// The schema of field `name` of an object described by `self`.
    pub fn field(&self, name: &str) -> Node<'s> {
        match *self {
            Node::Object(s, t) => match s.types[t].fields.get(name) {
                Some(f) => s.node_of(f),
                None => Node::Unknown,
            },
            Node::MapOf(s, t) => Node::Object(s, t),
            Node::Unknown | Node::List(_) => Node::Unknown,
        }
    }

    /// The list strategy, when this node is a list field.
    pub fn list(&self) -> Option<List<'s>> {
        match self {
            Node::List(l) => Some(*l),
            _ => None,
        }
    }
}

impl Schema {
    /// The compiled-in table (parsed once).
    pub fn builtin() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| Schema::parse(MERGE_KEYS).expect("merge_keys.json is generated and valid"))
    }

    fn parse(text: &str) -> Result<Schema, String> {
        let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let ids: HashMap<&str, TypeId> = file.types.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
        let lookup = |name: &Option<String>| -> Result<Option<TypeId>, String> {
            match name.as_deref() {
                None | Some("") => Ok(None),
                Some(n) => ids.get(n).copied().map(Some).ok_or_else(|| format!("unknown type `{n}`")),
            }
        };
        let mut types = Vec::with_capacity(file.types.len());
        for fields in file.types.values() {
            let mut def = TypeDef::default();
            for (name, f) in fields {
                let (shape, ty) = if f.list.is_some() {
                    (Shape::List, lookup(&f.list)?)
                } else if f.map.is_some() {
                    (Shape::Map, lookup(&f.map)?)
                } else {
                    (Shape::Object, lookup(&f.object)?)
                };
                let merge = f.strategy.as_deref().is_some_and(|s| s.split(',').any(|p| p == "merge"));
                // kustomize's rule: the list-map keys when given, else the merge key.
                let keys = if !f.keys.is_empty() { f.keys.clone() } else { f.key.iter().cloned().collect() };
                def.fields.insert(name.clone(), FieldDef { shape, ty, merge, keys });
            }
            types.push(def);
        }
        let mut kinds = HashMap::new();
        for (gvk, ty) in &file.kinds {
            let id = lookup(&Some(ty.clone()))?.ok_or("empty kind type")?;
            kinds.insert(gvk.clone(), id);
        }
        Ok(Schema { kinds, types })
    }

    fn node_of<'s>(&'s self, f: &'s FieldDef) -> Node<'s> {
        match f.shape {
            Shape::Object => f.ty.map(|t| Node::Object(self, t)).unwrap_or(Node::Unknown),
            Shape::Map => f.ty.map(|t| Node::MapOf(self, t)).unwrap_or(Node::Unknown),
            Shape::List => Node::List(List { merge: f.merge, keys: &f.keys, item: f.ty.map(|t| (self, t)) }),
        }
    }

    /// The root node of objects with this `apiVersion` and `kind`; [`Node::Unknown`]
    /// for custom resources and kinds the table does not know.
    pub fn root(&self, api_version: &str, kind: &str) -> Node<'_> {
        match self.kinds.get(&format!("{api_version}/{kind}")) {
            Some(&t) => Node::Object(self, t),
            None => Node::Unknown,
        }
    }
}

/// Builds the table from OpenAPI v2 `definitions` (the generator behind `merge_keys.json`).
#[cfg(test)]
fn generate(openapi: &serde_json::Value) -> String {
    use serde_json::{Map, Value};

    let defs = openapi.get("definitions").unwrap_or(openapi).as_object().expect("definitions is an object");
    // Built-in types only: the server also publishes its custom resources
    // (`com.example.v1.Widget`), which kustomize and strategic merge treat as unknown.
    let defs: Map<String, Value> =
        defs.iter().filter(|(k, _)| k.starts_with("io.k8s.")).map(|(k, v)| (k.clone(), v.clone())).collect();
    let all = generator::typed_fields(&defs);
    let keep = generator::reaching_a_strategy(&all);
    let types = generator::kept_types(&all, &keep);
    let kinds = generator::kinds(&defs, &keep);
    generator::write(&kinds, &types)
}

/// The steps of [`generate`].
#[cfg(test)]
mod generator {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::{Map, Value};

    use super::{FieldEntry, json};

    /// Fields by name, by type name.
    pub type Types = BTreeMap<String, BTreeMap<String, FieldEntry>>;

    /// A type name without the `#/definitions/` and `io.k8s.` prefixes.
    fn short(r: &str) -> String {
        let name = r.trim_start_matches("#/definitions/");
        name.strip_prefix("io.k8s.").unwrap_or(name).to_string()
    }

    fn ref_of(v: Option<&Value>) -> Option<String> {
        v.and_then(|v| v.get("$ref")).and_then(Value::as_str).map(short)
    }

    /// Every field that is a typed object, list or map, or carries a strategy.
    pub fn typed_fields(defs: &Map<String, Value>) -> Types {
        let mut all = Types::new();
        for (name, def) in defs {
            let mut fields = BTreeMap::new();
            for (fname, p) in def.get("properties").and_then(Value::as_object).into_iter().flatten() {
                if let Some(e) = field_entry(p)
                    && e != FieldEntry::default()
                {
                    fields.insert(fname.clone(), e);
                }
            }
            all.insert(short(name), fields);
        }
        all
    }

    /// One property's entry; `None` for a map of untyped values.
    fn field_entry(p: &Value) -> Option<FieldEntry> {
        let mut e = FieldEntry::default();
        if p.get("type").and_then(Value::as_str) == Some("array") {
            e.list = Some(ref_of(p.get("items")).unwrap_or_default());
        } else if let Some(ap) = p.get("additionalProperties") {
            e.map = Some(ref_of(Some(ap))?);
        } else if let Some(r) = ref_of(Some(p)) {
            e.object = Some(r);
        }
        e.strategy = p.get("x-kubernetes-patch-strategy").and_then(Value::as_str).map(str::to_string);
        e.key = p.get("x-kubernetes-patch-merge-key").and_then(Value::as_str).map(str::to_string);
        if e.strategy.is_some() {
            // List-map keys matter only where the list merges at all.
            e.keys = p
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
        }
        Some(e)
    }

    /// The type a field leads to, if any.
    fn child(e: &FieldEntry) -> Option<String> {
        e.object.clone().or(e.list.clone()).or(e.map.clone()).filter(|s| !s.is_empty())
    }

    /// The types from which some strategy is reachable (a fixed point).
    pub fn reaching_a_strategy(all: &Types) -> BTreeSet<String> {
        let mut keep: BTreeSet<String> = BTreeSet::new();
        loop {
            let before = keep.len();
            for (name, fields) in all {
                if fields.values().any(|e| e.strategy.is_some() || child(e).is_some_and(|c| keep.contains(&c))) {
                    keep.insert(name.clone());
                }
            }
            if keep.len() == before {
                return keep;
            }
        }
    }

    /// The kept types with the fields that matter, references to dropped types emptied.
    pub fn kept_types(all: &Types, keep: &BTreeSet<String>) -> Types {
        let mut types = Types::new();
        for name in keep {
            let mut fields = BTreeMap::new();
            for (fname, e) in &all[name] {
                let c = child(e).filter(|c| keep.contains(c));
                if e.strategy.is_none() && c.is_none() {
                    continue;
                }
                let mut e = e.clone();
                // Drop references to types with nothing to say.
                for slot in [&mut e.object, &mut e.list, &mut e.map] {
                    if slot.as_ref().is_some_and(|s| !s.is_empty() && !keep.contains(s)) {
                        *slot = Some(String::new());
                    }
                }
                if e.object.as_deref() == Some("") {
                    e.object = None;
                }
                if e.map.as_deref() == Some("") {
                    e.map = None;
                }
                fields.insert(fname.clone(), e);
            }
            types.insert(name.clone(), fields);
        }
        types
    }

    /// `group/version/Kind` → root type, for the kinds whose objects have something
    /// to merge by strategy.
    pub fn kinds(defs: &Map<String, Value>, keep: &BTreeSet<String>) -> BTreeMap<String, String> {
        let mut kinds = BTreeMap::new();
        for (name, def) in defs {
            for gvk in def.get("x-kubernetes-group-version-kind").and_then(Value::as_array).into_iter().flatten() {
                let g = gvk.get("group").and_then(Value::as_str).unwrap_or("");
                let v = gvk.get("version").and_then(Value::as_str).unwrap_or("");
                let k = gvk.get("kind").and_then(Value::as_str).unwrap_or("");
                let n = short(name);
                // Only kinds whose objects have something to merge by strategy, and not
                // the generic wrappers (`WatchEvent`, `DeleteOptions`) listed under every group.
                let is_list = k.ends_with("List") && def.pointer("/properties/items").is_some();
                if !keep.contains(&n) || n.starts_with("apimachinery.") || is_list {
                    continue;
                }
                let api_version = if g.is_empty() { v.to_string() } else { format!("{g}/{v}") };
                kinds.insert(format!("{api_version}/{k}"), n);
            }
        }
        kinds
    }

    /// The file, one entry a line.
    pub fn write(kinds: &BTreeMap<String, String>, types: &Types) -> String {
        let mut out = String::from("{\n  \"kinds\": {\n");
        let n = kinds.len();
        for (i, (k, v)) in kinds.iter().enumerate() {
            out.push_str(&format!("    {}: {}{}\n", json(k), json(v), if i + 1 < n { "," } else { "" }));
        }
        out.push_str("  },\n  \"types\": {\n");
        let n = types.len();
        for (i, (name, fields)) in types.iter().enumerate() {
            out.push_str(&format!("    {}: {{\n", json(name)));
            let m = fields.len();
            for (j, (fname, e)) in fields.iter().enumerate() {
                let entry = serde_json::to_string(e).expect("serializes");
                out.push_str(&format!("      {}: {}{}\n", json(fname), entry, if j + 1 < m { "," } else { "" }));
            }
            out.push_str(&format!("    }}{}\n", if i + 1 < n { "," } else { "" }));
        }
        out.push_str("  }\n}\n");
        out
    }
}

#[cfg(test)]
fn json(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keys_json_is_fresh() {
        let path = crate::fixtures::apiserver("openapi-v2-definitions.json");
        let text = std::fs::read_to_string(&path).expect("fixture is readable");
        let openapi: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
        let generated = generate(&openapi);
        let committed_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/patch/merge_keys.json");
        if std::env::var("STRATA_REGENERATE").as_deref() == Ok("1") {
            std::fs::write(&committed_path, &generated).expect("merge_keys.json is writable");
            return;
        }
        assert!(
            generated == MERGE_KEYS,
            "src/patch/merge_keys.json is stale relative to {}; run `STRATA_REGENERATE=1 cargo test --lib patch::schema`",
            path.display()
        );
    }

    #[test]
    fn knows_the_everyday_merge_keys() {
        let s = Schema::builtin();
        let pod = s.root("apps/v1", "Deployment").field("spec").field("template").field("spec");
        // (field path under the pod spec, merges?, keys) — the table every kustomize user relies on.
        let cases: &[(&[&str], bool, &[&str])] = &[
            (&["containers"], true, &["name"]),
            (&["initContainers"], true, &["name"]),
            (&["volumes"], true, &["name"]),
            (&["imagePullSecrets"], true, &["name"]),
            (&["tolerations"], false, &[]),
            (&["hostAliases"], true, &["ip"]),
        ];
        for (path, merge, keys) in cases {
            let mut n = pod;
            for p in *path {
                n = n.field(p);
            }
            // A list the table leaves out has no strategy: it is replaced.
            let (m, k) = n.list().map(|l| (l.merge, l.keys.to_vec())).unwrap_or((false, vec![]));
            assert_eq!(m, *merge, "{path:?}");
            assert_eq!(k, *keys, "{path:?}");
        }
        let c = pod.field("containers").list().unwrap().item();
        let cases: &[(&str, &[&str])] = &[
            ("env", &["name"]),
            ("ports", &["containerPort", "protocol"]),
            ("volumeMounts", &["mountPath"]),
            ("volumeDevices", &["devicePath"]),
        ];
        for (f, keys) in cases {
            let l = c.field(f).list().unwrap();
            assert!(l.merge, "{f}");
            assert_eq!(l.keys, *keys, "{f}");
        }
        // A set of scalars merges without keys.
        let fin = s.root("v1", "ConfigMap").field("metadata").field("finalizers").list().unwrap();
        assert!(fin.merge);
        assert!(fin.keys.is_empty());
        // Service ports merge by port and protocol.
        let ports = s.root("v1", "Service").field("spec").field("ports").list().unwrap();
        assert_eq!(ports.keys, ["port", "protocol"]);
        // Custom resources are unknown.
        assert!(matches!(s.root("example.com/v1", "Widget"), Node::Unknown));
    }
}
