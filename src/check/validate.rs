//! The strict validator: one value against one [`Schema`], as the API server applies it with
//! `fieldValidation=Strict`.
//!
//! What the server does and this follows: a `null` field counts as absent (unless `nullable`,
//! where it is a value); an unknown field is an error unless the schema preserves unknown
//! fields; integers may be written as integral floats but not as strings; `int-or-string`
//! takes either; a `Quantity` takes a string in quantity syntax or a number; `format: byte`
//! takes standard base64; `x-kubernetes-list-type: map` lists have unique keys and no element
//! without any key; `set` lists have unique items; an `x-kubernetes-embedded-resource`
//! object has `apiVersion`, `kind` and metadata of its own.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use regex::Regex;
use serde_json::{Map, Value};

use super::formats;
use super::openapi::{Additional, Definitions, OBJECT_META, Schema};
use super::rules::distance;
use super::{FieldPath, PathSeg};

/// One schema violation: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: FieldPath,
    pub message: String,
}

/// Validates values against schemas that may `$ref` the built-in definitions.
pub struct Validator<'d> {
    defs: &'d Definitions,
    patterns: RefCell<HashMap<String, Option<Regex>>>,
}

impl<'d> Validator<'d> {
    pub fn new(defs: &'d Definitions) -> Validator<'d> {
        Validator { defs, patterns: RefCell::new(HashMap::new()) }
    }

    /// Every violation of `value` against `schema`, at paths under `path`.
    pub fn validate(&self, value: &Value, schema: &Schema, path: &FieldPath) -> Vec<Violation> {
        let mut out = Vec::new();
        self.walk(value, schema, &mut path.clone(), &mut out);
        out
    }

    fn resolve<'a>(&'a self, mut schema: &'a Schema) -> &'a Schema {
        // Definitions refer to each other by name; a chain of bare refs ends in a few steps.
        for _ in 0..8 {
            match schema.reference.as_deref().and_then(|r| self.defs.get(r)) {
                Some(s) => schema = s,
                None => break,
            }
        }
        schema
    }

    fn walk(&self, value: &Value, schema: &Schema, path: &mut FieldPath, out: &mut Vec<Violation>) {
        let schema = self.resolve(schema);
        if value.is_null() {
            return;
        }
        if let Some(msg) = type_error(value, schema) {
            out.push(Violation { path: path.clone(), message: msg });
            return;
        }
        self.constraints(value, schema, path, out);
        match value {
            Value::Object(map) => self.object(map, schema, path, out),
            Value::Array(items) => self.array(items, schema, path, out),
            _ => {}
        }
    }

    /// Enum, bounds, lengths, patterns and the combinators: checks of the value itself.
    fn constraints(&self, value: &Value, schema: &Schema, path: &FieldPath, out: &mut Vec<Violation>) {
        let mut push = |message: String| out.push(Violation { path: path.clone(), message });
        if let Some(allowed) = &schema.enumeration
            && !allowed.contains(value)
        {
            let list: Vec<String> = allowed.iter().map(|v| format!("`{}`", scalar(v))).collect();
            push(format!("unsupported value `{}`: supported values: {}", scalar(value), list.join(", ")));
        }
        match value {
            Value::String(s) => {
                let len = s.chars().count() as u64;
                if let Some(max) = schema.max_length.filter(|m| len > *m) {
                    push(format!("may not be longer than {max} characters"));
                }
                if let Some(min) = schema.min_length.filter(|m| len < *m) {
                    push(format!("must be at least {min} characters long"));
                }
                if let Some(p) = &schema.pattern
                    && self.matches(p, s) == Some(false)
                {
                    push(format!("`{s}` should match `{p}`"));
                }
            }
            Value::Number(n) => bounds(n.as_f64().unwrap_or(0.0), schema, &mut push),
            Value::Array(a) => {
                if let Some(max) = schema.max_items.filter(|m| a.len() as u64 > *m) {
                    push(format!("too many items: {}: must have at most {max} items", a.len()));
                }
                if let Some(min) = schema.min_items.filter(|m| (a.len() as u64) < *m) {
                    push(format!("too few items: {}: must have at least {min} items", a.len()));
                }
                if schema.unique_items && a.iter().enumerate().any(|(i, v)| a[..i].contains(v)) {
                    push("items must be unique".into());
                }
            }
            Value::Object(m) => {
                if let Some(max) = schema.max_properties.filter(|x| m.len() as u64 > *x) {
                    push(format!("must have at most {max} properties"));
                }
                if let Some(min) = schema.min_properties.filter(|x| (m.len() as u64) < *x) {
                    push(format!("must have at least {min} properties"));
                }
            }
            _ => {}
        }
        self.combinators(value, schema, path, out);
    }

    fn combinators(&self, value: &Value, schema: &Schema, path: &FieldPath, out: &mut Vec<Violation>) {
        let passes = |s: &Schema| self.validate(value, s, path).is_empty();
        if !schema.any_of.is_empty() && !schema.any_of.iter().any(passes) {
            let first = self.validate(value, &schema.any_of[0], path);
            let why = first.first().map(|v| format!(": {}", v.message)).unwrap_or_default();
            out.push(Violation { path: path.clone(), message: format!("matches none of `anyOf`{why}") });
        }
        for s in &schema.all_of {
            out.extend(self.validate(value, s, path));
        }
        if !schema.one_of.is_empty() && schema.one_of.iter().filter(|s| passes(s)).count() != 1 {
            out.push(Violation { path: path.clone(), message: "must match exactly one schema of `oneOf`".into() });
        }
        if let Some(not) = &schema.not
            && passes(not)
        {
            out.push(Violation { path: path.clone(), message: "must not match the schema of `not`".into() });
        }
    }

    fn matches(&self, pattern: &str, s: &str) -> Option<bool> {
        let mut cache = self.patterns.borrow_mut();
        let re = cache.entry(pattern.to_string()).or_insert_with(|| Regex::new(pattern).ok());
        re.as_ref().map(|r| r.is_match(s))
    }

    fn object(&self, map: &Map<String, Value>, schema: &Schema, path: &mut FieldPath, out: &mut Vec<Violation>) {
        if schema.embedded_resource {
            self.embedded(map, path, out);
        }
        let props = schema.properties.as_ref();
        for (key, v) in map {
            path.0.push(PathSeg::Key(key.clone()));
            if let Some(s) = props.and_then(|p| p.get(key)) {
                self.walk(v, s, path, out);
            } else if let Some(Additional::Schema(s)) = &schema.additional_properties {
                self.walk(v, s, path, out);
            } else if !(schema.preserve_unknown_fields
                || untyped(schema)
                || matches!(schema.additional_properties, Some(Additional::Allowed(true)))
                || (schema.embedded_resource && matches!(key.as_str(), "apiVersion" | "kind" | "metadata")))
            {
                let hint = props.and_then(|p| suggest(key, p.keys())).map(|s| format!(" (did you mean `{s}`?)"));
                out.push(Violation {
                    path: path.clone(),
                    message: format!("unknown field `{key}`{}", hint.unwrap_or_default()),
                });
            }
            path.0.pop();
        }
        for r in &schema.required {
            if map.get(r).is_none_or(Value::is_null) {
                out.push(Violation {
                    path: path.join(&[r.as_str()]),
                    message: format!("missing required field `{r}`"),
                });
            }
        }
    }

    fn embedded(&self, map: &Map<String, Value>, path: &mut FieldPath, out: &mut Vec<Violation>) {
        for key in ["apiVersion", "kind"] {
            if !map.get(key).is_some_and(Value::is_string) {
                out.push(Violation { path: path.join(&[key]), message: format!("missing required field `{key}`") });
            }
        }
        if let (Some(meta), Some(s)) = (map.get("metadata"), self.defs.get(OBJECT_META)) {
            path.0.push(PathSeg::Key("metadata".into()));
            self.walk(meta, s, path, out);
            path.0.pop();
        }
    }

    fn array(&self, items: &[Value], schema: &Schema, path: &mut FieldPath, out: &mut Vec<Violation>) {
        if let Some(item) = &schema.items {
            for (i, v) in items.iter().enumerate() {
                path.0.push(PathSeg::Index(i));
                self.walk(v, item, path, out);
                path.0.pop();
            }
        }
        match schema.list_type.as_deref() {
            Some("map") => {
                // A missing key that the item schema requires is reported once, as missing.
                let required = schema.items.as_deref().map(|i| &self.resolve(i).required);
                let keys_required = required.is_some_and(|r| schema.list_map_keys.iter().all(|k| r.contains(k)));
                list_map_keys(items, &schema.list_map_keys, keys_required, path, out)
            }
            Some("set") => {
                for (i, v) in items.iter().enumerate() {
                    if items[..i].contains(v) {
                        let message = format!("duplicate entries for value `{}`", scalar(v));
                        out.push(Violation { path: path.index(i), message });
                    }
                }
            }
            _ => {}
        }
    }
}

/// `x-kubernetes-list-type: map`: every element has a key, and no two share one.
fn list_map_keys(items: &[Value], keys: &[String], keys_required: bool, path: &FieldPath, out: &mut Vec<Violation>) {
    if keys.is_empty() {
        return;
    }
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else { continue };
        let key: Vec<&Value> = keys.iter().map(|k| obj.get(k).unwrap_or(&Value::Null)).collect();
        let key_text = serde_json::to_string(&key).unwrap_or_default();
        if key.iter().all(|v| v.is_null()) {
            if keys_required {
                continue;
            }
            let names: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            let message = format!("element omits all key fields ({})", names.join(", "));
            out.push(Violation { path: path.index(i), message });
            continue;
        }
        if !seen.insert(key_text) {
            let shown: Vec<String> =
                keys.iter().zip(&key).filter(|(_, v)| !v.is_null()).map(|(k, v)| format!("{k}={}", v)).collect();
            let message = format!("duplicate entries for key [{}]", shown.join(", "));
            out.push(Violation { path: path.index(i), message });
        }
    }
}

/// The type check, with Kubernetes' formats: `None` when `value` has the schema's type.
fn type_error(value: &Value, schema: &Schema) -> Option<String> {
    let format = schema.format.as_deref();
    if schema.int_or_string || format == Some("int-or-string") {
        let ok = value.is_string() || integral(value).is_some();
        return (!ok).then(|| format!("expected integer or string, got {}", type_name(value)));
    }
    let expected = schema.ty.as_deref()?;
    let ok = match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "boolean" => value.is_boolean(),
        "number" => value.is_number(),
        "integer" => return integer_error(value, format),
        "string" => match (format, value) {
            (Some("quantity"), Value::Number(_)) => true,
            (Some("quantity"), Value::String(s)) => return formats::quantity(s),
            (Some("byte"), Value::String(s)) => return formats::base64(s),
            (_, v) => v.is_string(),
        },
        _ => true,
    };
    (!ok).then(|| format!("expected {expected}, got {}", type_name(value)))
}

fn integer_error(value: &Value, format: Option<&str>) -> Option<String> {
    let Some(n) = integral(value) else {
        return Some(match value {
            Value::Number(n) => format!("expected integer, got `{n}`"),
            v => format!("expected integer, got {}", type_name(v)),
        });
    };
    let fits = match format {
        Some("int32") => i32::try_from(n).is_ok(),
        _ => true,
    };
    (!fits).then(|| format!("`{n}` does not fit in a 32-bit integer"))
}

/// An integer, also when written as an integral float (`3.0`).
fn integral(value: &Value) -> Option<i128> {
    let n = value.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i.into());
    }
    if let Some(u) = n.as_u64() {
        return Some(u.into());
    }
    n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18).map(|f| f as i128)
}

fn bounds(n: f64, schema: &Schema, push: &mut impl FnMut(String)) {
    if let Some(max) = schema.maximum {
        if schema.exclusive_maximum && n >= max {
            push(format!("`{n}` should be less than {max}"));
        } else if n > max {
            push(format!("`{n}` should be less than or equal to {max}"));
        }
    }
    if let Some(min) = schema.minimum {
        if schema.exclusive_minimum && n <= min {
            push(format!("`{n}` should be greater than {min}"));
        } else if n < min {
            push(format!("`{n}` should be greater than or equal to {min}"));
        }
    }
}

/// A schema that says nothing about the value (`JSON`, `JSONSchemaPropsOrBool`): anything goes.
fn untyped(schema: &Schema) -> bool {
    schema.ty.is_none() && schema.properties.is_none() && schema.additional_properties.is_none()
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The known field closest to a misspelt one: same letters in another case, or one or two edits.
fn suggest<'a>(key: &str, known: impl Iterator<Item = &'a String>) -> Option<&'a str> {
    let lower = key.to_ascii_lowercase();
    known
        .map(|k| {
            let d = if k.to_ascii_lowercase() == lower { 0 } else { distance(key, k) };
            (d, k)
        })
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k.as_str())
}

#[cfg(test)]
mod tests;
