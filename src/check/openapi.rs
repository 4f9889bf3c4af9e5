//! Schemas: the model shared by the built-in Kubernetes definitions and CRD schemas, and the
//! built-in definitions themselves.
//!
//! The built-in definitions are `kubernetes-1.36.json` beside this file: the `definitions` of
//! a real API server's `/openapi/v2` document (`tests/fixtures/apiserver/openapi-v2-definitions.json`)
//! kept to what validation reads (no descriptions, no patch strategies), `$ref`s shortened to
//! the definition name, `Quantity` given the format `quantity`, and free-form built-in objects
//! (`RawExtension`, `FieldsV1`) marked `x-kubernetes-preserve-unknown-fields`. The file records
//! the sha256 of the document it came from; the test `builtin_schemas_are_current` checks it
//! and rewrites it with `STRATA_REGENERATE=1`.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

/// A JSON schema as Kubernetes uses it (OpenAPI v2 definitions and CRD `openAPIV3Schema`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Schema {
    #[serde(rename = "$ref")]
    pub reference: Option<String>,
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub format: Option<String>,
    pub properties: Option<BTreeMap<String, Schema>>,
    pub required: Vec<String>,
    pub items: Option<Box<Schema>>,
    pub additional_properties: Option<Additional>,
    #[serde(rename = "enum")]
    pub enumeration: Option<Vec<Value>>,
    pub nullable: bool,
    pub pattern: Option<String>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: bool,
    pub exclusive_maximum: bool,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub unique_items: bool,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    pub any_of: Vec<Schema>,
    pub all_of: Vec<Schema>,
    pub one_of: Vec<Schema>,
    pub not: Option<Box<Schema>>,
    #[serde(rename = "x-kubernetes-preserve-unknown-fields")]
    pub preserve_unknown_fields: bool,
    #[serde(rename = "x-kubernetes-embedded-resource")]
    pub embedded_resource: bool,
    #[serde(rename = "x-kubernetes-int-or-string")]
    pub int_or_string: bool,
    #[serde(rename = "x-kubernetes-list-type")]
    pub list_type: Option<String>,
    #[serde(rename = "x-kubernetes-list-map-keys")]
    pub list_map_keys: Vec<String>,
    #[serde(rename = "x-kubernetes-group-version-kind")]
    pub gvk: Vec<Gvk>,
    /// CEL rules (CRD schemas only), evaluated by [`super::cel`].
    #[serde(rename = "x-kubernetes-validations")]
    pub validations: Vec<ValidationRule>,
}

/// One `x-kubernetes-validations` entry.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ValidationRule {
    pub rule: String,
    pub message: Option<String>,
    pub message_expression: Option<String>,
    /// `FieldValueInvalid` (default), `FieldValueForbidden`, `FieldValueRequired`, `FieldValueDuplicate`.
    pub reason: Option<String>,
    /// A JSONPath-like path relative to the node (`.spec.x`, `['a.b']`).
    pub field_path: Option<String>,
    pub optional_old_self: Option<bool>,
}

/// `additionalProperties`: a boolean or a schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Additional {
    Allowed(bool),
    Schema(Box<Schema>),
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// The built-in definitions, by name, and the kinds they serve.
#[derive(Debug)]
pub struct Definitions {
    /// The Kubernetes version the definitions come from (`1.36`).
    pub kubernetes: String,
    pub defs: HashMap<String, Schema>,
    /// (group, version, kind) → definition name.
    kinds: HashMap<(String, String, String), String>,
}

/// The name of the definition of object metadata.
pub const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

const DATA: &str = include_str!("kubernetes-1.36.json");

/// The compact data file's shape.
#[derive(Deserialize)]
struct DataFile {
    kubernetes: String,
    definitions: HashMap<String, Schema>,
}

impl Definitions {
    /// The built-in definitions, parsed once per process.
    pub fn builtin() -> &'static Definitions {
        static DEFS: OnceLock<Definitions> = OnceLock::new();
        DEFS.get_or_init(|| {
            let data: DataFile = serde_json::from_str(DATA).expect("the built-in schemas are valid JSON");
            Definitions::new(data.kubernetes, data.definitions)
        })
    }

    fn new(kubernetes: String, defs: HashMap<String, Schema>) -> Definitions {
        let mut kinds = HashMap::new();
        for (name, s) in &defs {
            for g in &s.gvk {
                kinds.insert((g.group.clone(), g.version.clone(), g.kind.clone()), name.clone());
            }
        }
        Definitions { kubernetes, defs, kinds }
    }

    pub fn get(&self, name: &str) -> Option<&Schema> {
        self.defs.get(name)
    }

    /// The schema of a built-in kind at one apiVersion.
    pub fn kind(&self, group: &str, version: &str, kind: &str) -> Option<&Schema> {
        self.kinds.get(&(group.to_string(), version.to_string(), kind.to_string())).and_then(|n| self.defs.get(n))
    }

    /// Whether the built-in API serves any kind in this group (`apps`, `` for core).
    pub fn has_group(&self, group: &str) -> bool {
        self.kinds.keys().any(|(g, _, _)| g == group)
    }

    /// The apiVersions that serve a kind, sorted (`apps/v1`).
    pub fn versions_of(&self, group: &str, kind: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .kinds
            .keys()
            .filter(|(g, _, k)| g == group && k == kind)
            .map(|(g, v, _)| if g.is_empty() { v.clone() } else { format!("{g}/{v}") })
            .collect();
        v.sort();
        v
    }
}

/// The compact form of an OpenAPI v2 document (see the module documentation).
#[cfg(test)]
pub fn compact(source: &Value, sha256: &str) -> Value {
    let defs = source.get("definitions").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut out = serde_json::Map::new();
    let mut names: Vec<&String> = defs.keys().collect();
    names.sort();
    for name in names {
        let mut s = compact_schema(&defs[name]);
        if name == "io.k8s.apimachinery.pkg.api.resource.Quantity" {
            s = serde_json::json!({"type": "string", "format": "quantity"});
        }
        out.insert(name.clone(), s);
    }
    let version = source.pointer("/info/version").and_then(Value::as_str).unwrap_or("");
    serde_json::json!({
        "source": "openapi-v2-definitions.json",
        "sha256": sha256,
        "kubernetes": version,
        "definitions": out,
    })
}

#[cfg(test)]
const KEPT: &[&str] = &[
    "type",
    "format",
    "required",
    "enum",
    "x-kubernetes-group-version-kind",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
];

#[cfg(test)]
fn compact_schema(s: &Value) -> Value {
    let Some(obj) = s.as_object() else { return s.clone() };
    let mut out = serde_json::Map::new();
    for (k, v) in obj {
        match k.as_str() {
            "$ref" => {
                let name = v.as_str().unwrap_or("").trim_start_matches("#/definitions/");
                out.insert(k.clone(), Value::String(name.to_string()));
            }
            "properties" => {
                let props = v.as_object().map(|p| p.iter().map(|(n, ps)| (n.clone(), compact_schema(ps))).collect());
                out.insert(k.clone(), Value::Object(props.unwrap_or_default()));
            }
            "items" | "additionalProperties" if v.is_object() => {
                out.insert(k.clone(), compact_schema(v));
            }
            "additionalProperties" => {
                out.insert(k.clone(), v.clone());
            }
            "allOf" => {
                // Built-in definitions wrap a `$ref` in `allOf` to attach a description.
                if let Some(r) =
                    v.as_array().and_then(|a| a.first()).and_then(|f| f.get("$ref")).and_then(Value::as_str)
                {
                    out.insert("$ref".into(), Value::String(r.trim_start_matches("#/definitions/").to_string()));
                }
            }
            _ if KEPT.contains(&k.as_str()) => {
                out.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
    let free_form = out.get("type").and_then(Value::as_str) == Some("object")
        && !out.contains_key("properties")
        && !out.contains_key("additionalProperties");
    if free_form {
        out.insert("x-kubernetes-preserve-unknown-fields".into(), Value::Bool(true));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    #[test]
    fn builtin_schemas_are_current() {
        let src = crate::fixtures::apiserver("openapi-v2-definitions.json");
        let bytes = std::fs::read(&src).unwrap();
        let sha: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        let source: Value = serde_json::from_slice(&bytes).unwrap();
        let mut text = serde_json::to_string(&compact(&source, &sha)).unwrap();
        text.push('\n');
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/check/kubernetes-1.36.json");
        if std::env::var("STRATA_REGENERATE").as_deref() == Ok("1") {
            std::fs::write(&here, &text).unwrap();
        }
        assert!(DATA == text, "src/check/kubernetes-1.36.json is stale: run with STRATA_REGENERATE=1");
    }

    #[test]
    fn builtin_kinds_resolve() {
        let d = Definitions::builtin();
        assert_eq!(d.kubernetes, "1.36");
        assert!(d.kind("apps", "v1", "Deployment").is_some());
        assert!(d.kind("", "v1", "ConfigMap").is_some());
        assert!(d.kind("extensions", "v1beta1", "DaemonSet").is_none());
        assert_eq!(d.versions_of("autoscaling", "HorizontalPodAutoscaler"), ["autoscaling/v1", "autoscaling/v2"]);
        assert!(d.get(OBJECT_META).is_some());
    }
}
