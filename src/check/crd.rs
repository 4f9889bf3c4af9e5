//! Custom resources: the `openAPIV3Schema` of each served version of each CRD, compiled once
//! per run, with the root properties every object has (`apiVersion`, `kind`, `metadata`,
//! the latter validated as built-in object metadata) added.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::openapi::{OBJECT_META, Schema};

/// One version of a CRD.
#[derive(Debug)]
pub struct CrdVersion {
    pub served: bool,
    /// `None` when the version declares no schema (anything goes).
    pub schema: Option<Schema>,
}

/// The CRDs of an environment, by (group, kind).
#[derive(Debug, Default)]
pub struct Crds {
    kinds: HashMap<(String, String), BTreeMap<String, CrdVersion>>,
    /// CRDs whose schema could not be read: (CRD name, reason).
    pub unreadable: Vec<(String, String)>,
}

impl Crds {
    pub fn from_bodies<'a>(bodies: impl IntoIterator<Item = &'a Value>) -> Crds {
        let mut crds = Crds::default();
        for body in bodies {
            crds.add(body);
        }
        crds
    }

    /// Adds one CustomResourceDefinition body (anything else is ignored).
    pub fn add(&mut self, body: &Value) {
        if body.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
            return;
        }
        let spec = body.get("spec");
        let str_at = |p: &str| spec.and_then(|s| s.pointer(p)).and_then(Value::as_str).unwrap_or("").to_string();
        let (group, kind) = (str_at("/group"), str_at("/names/kind"));
        let name = body.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
        let versions = spec.and_then(|s| s.get("versions")).and_then(Value::as_array).cloned().unwrap_or_default();
        let entry = self.kinds.entry((group, kind)).or_default();
        for v in &versions {
            let Some(vname) = v.get("name").and_then(Value::as_str) else { continue };
            let served = v.get("served").and_then(Value::as_bool).unwrap_or(false);
            let raw = v.pointer("/schema/openAPIV3Schema");
            let schema = match raw.map(|r| serde_json::from_value::<Schema>(r.clone())) {
                None => None,
                Some(Ok(s)) => Some(with_root_fields(s)),
                Some(Err(e)) => {
                    self.unreadable.push((name.clone(), format!("version `{vname}`: {e}")));
                    None
                }
            };
            entry.insert(vname.to_string(), CrdVersion { served, schema });
        }
    }

    /// The versions a CRD declares for a kind, if any CRD declares it.
    pub fn versions(&self, group: &str, kind: &str) -> Option<&BTreeMap<String, CrdVersion>> {
        self.kinds.get(&(group.to_string(), kind.to_string()))
    }
}

fn with_root_fields(mut s: Schema) -> Schema {
    let props = s.properties.get_or_insert_with(BTreeMap::new);
    let string = || Schema { ty: Some("string".into()), ..Schema::default() };
    props.entry("apiVersion".into()).or_insert_with(string);
    props.entry("kind".into()).or_insert_with(string);
    // The server validates metadata as ObjectMeta whatever the CRD says about it.
    props.insert("metadata".into(), Schema { reference: Some(OBJECT_META.into()), ..Schema::default() });
    if s.ty.is_none() {
        s.ty = Some("object".into());
    }
    s
}
