//! JSON values made CEL values, typed by their schema as the API server types them: an
//! `integer` is an `int` even when written `2.0`, a `number` is a `double` even when
//! written `2`, `format: byte` is `bytes`, `date` and `date-time` are `timestamp`,
//! `duration` is `duration`, `x-kubernetes-int-or-string` keeps what was written, and an
//! object lists only the fields its schema declares (all of them when it preserves unknown
//! fields). The root object's `metadata`, and that of an `x-kubernetes-embedded-resource`,
//! shows only `name` and `generateName`, as on the server.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use cel::Value as Cel;
use cel::common::types::{CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString};
use cel::common::value::Val;
use cel::objects::{Key, Map};
use serde_json::Value;

use crate::check::openapi::{Additional, Schema};

/// `value` as CEL sees it under `schema` (`None`: untyped, as JSON says). `root`: the
/// object itself (its `metadata` is cut to name and generateName).
pub fn to_cel(value: &Value, schema: Option<&Schema>, root: bool) -> Cel {
    let Some(s) = schema else { return untyped(value) };
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => number(n, s),
        Value::String(text) => string(text, s),
        Value::Array(items) => {
            Cel::List(Arc::new(items.iter().map(|i| to_cel(i, s.items.as_deref(), false)).collect()))
        }
        Value::Object(map) => object(map, s, root || s.embedded_resource),
    }
}

/// [`untyped`]'s value built straight as the interpreter's values, borrowing `value`'s
/// strings and keys: what admission gives its policies (`object`, `request`…), made once
/// per object with no intermediate copy.
pub fn borrowed(value: &Value) -> Box<dyn Val + '_> {
    match value {
        Value::Null => Box::new(CelNull),
        Value::Bool(b) => Box::new(CelBool::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Box::new(CelInt::from(i)),
            None => Box::new(CelDouble::from(n.as_f64().unwrap_or(0.0))),
        },
        Value::String(s) => Box::new(CelString::from(s.as_str())),
        Value::Array(items) => Box::new(CelList::from(items.iter().map(borrowed).collect::<Vec<_>>())),
        Value::Object(map) => {
            let m: HashMap<CelMapKey<'_>, Box<dyn Val + '_>> =
                map.iter().map(|(k, v)| (CelMapKey::from(k.as_str()), borrowed(v))).collect();
            Box::new(CelMap::from(m))
        }
    }
}

/// A value without a schema (preserved unknown fields): JSON's own types.
pub fn untyped(value: &Value) -> Cel {
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cel::Int(i),
            None => Cel::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(untyped).collect())),
        Value::Object(map) => {
            let m: HashMap<Key, Cel> =
                map.iter().map(|(k, v)| (Key::String(Arc::new(k.clone())), untyped(v))).collect();
            Cel::Map(Map { map: Arc::new(m) })
        }
    }
}

fn number(n: &serde_json::Number, s: &Schema) -> Cel {
    let as_int = || n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64));
    match s.ty.as_deref() {
        Some("number") => Cel::Float(n.as_f64().unwrap_or(0.0)),
        Some("integer") => as_int().map_or(Cel::Float(n.as_f64().unwrap_or(0.0)), Cel::Int),
        _ => match n.as_i64() {
            Some(i) => Cel::Int(i),
            None => Cel::Float(n.as_f64().unwrap_or(0.0)),
        },
    }
}

fn string(text: &str, s: &Schema) -> Cel {
    let plain = || Cel::String(Arc::new(text.to_string()));
    if s.ty.as_deref() != Some("string") {
        return plain();
    }
    match s.format.as_deref() {
        Some("byte") => {
            base64::engine::general_purpose::STANDARD.decode(text).map_or_else(|_| plain(), |b| Cel::Bytes(Arc::new(b)))
        }
        Some("date-time") => chrono::DateTime::parse_from_rfc3339(text).map_or_else(|_| plain(), Cel::Timestamp),
        Some("date") => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or_else(plain, |t| Cel::Timestamp(t.and_utc().fixed_offset())),
        Some("duration") => super::library::duration(text).map_or_else(plain, Cel::Duration),
        _ => plain(),
    }
}

fn object(map: &serde_json::Map<String, Value>, s: &Schema, resource: bool) -> Cel {
    let mut out: HashMap<Key, Cel> = HashMap::new();
    let key = |k: &str| Key::String(Arc::new(k.to_string()));
    for (k, v) in map {
        let child = s.properties.as_ref().and_then(|p| p.get(k));
        let converted = match (child, &s.additional_properties) {
            _ if resource && k == "metadata" => Some(metadata(v)),
            _ if resource && (k == "apiVersion" || k == "kind") => Some(untyped(v)),
            (Some(c), _) => Some(to_cel(v, Some(c), false)),
            (None, Some(Additional::Schema(a))) => Some(to_cel(v, Some(a), false)),
            (None, Some(Additional::Allowed(true))) => Some(untyped(v)),
            (None, _) if s.preserve_unknown_fields => Some(untyped(v)),
            (None, _) => None,
        };
        // A null field is an absent field, unless the schema makes it nullable.
        if let Some(c) = converted.filter(|c| *c != Cel::Null || child.is_some_and(|c| c.nullable)) {
            out.insert(key(k), c);
        }
    }
    Cel::Map(Map { map: Arc::new(out) })
}

/// Object metadata as rules see it: `name` and `generateName` only.
fn metadata(v: &Value) -> Cel {
    let mut out: HashMap<Key, Cel> = HashMap::new();
    for k in ["name", "generateName"] {
        if let Some(Value::String(s)) = v.get(k) {
            out.insert(Key::String(Arc::new(k.to_string())), Cel::String(Arc::new(s.clone())));
        }
    }
    Cel::Map(Map { map: Arc::new(out) })
}

/// How the server prints a value in `Invalid value: <v>` (Go's `%#v`-like form of the JSON
/// value: strings quoted, numbers and booleans as written); `None` for objects and lists,
/// which the server leaves out.
pub fn shown(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(go_quote(s)),
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => i.to_string(),
            None => n.as_f64().map(go_float).unwrap_or_default(),
        }),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".to_string()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// Go's `%v` of a float64: shortest representation, exponent from 1e21.
fn go_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 { format!("{f:.0}") } else { format!("{f}") }
}

/// Go's `strconv.Quote`: double quotes, `\"`, `\\` and control characters escaped.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(v: Value) -> Schema {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn typed_by_schema() {
        let s = schema(json!({"type": "object", "properties": {
            "i": {"type": "integer"}, "n": {"type": "number"}, "b": {"type": "string", "format": "byte"},
            "ios": {"x-kubernetes-int-or-string": true}, "metadata": {"type": "object"}}}));
        let v = json!({"i": 2.0, "n": 2, "b": "aGk=", "ios": "50%", "x": 1,
            "metadata": {"name": "a", "labels": {"k": "v"}}});
        let Cel::Map(m) = to_cel(&v, Some(&s), true) else { panic!() };
        let get = |k: &str| m.map.get(&Key::String(Arc::new(k.into()))).cloned();
        assert_eq!(get("i"), Some(Cel::Int(2)));
        assert_eq!(get("n"), Some(Cel::Float(2.0)));
        assert_eq!(get("b"), Some(Cel::Bytes(Arc::new(b"hi".to_vec()))));
        assert_eq!(get("ios"), Some(Cel::String(Arc::new("50%".into()))));
        assert_eq!(get("x"), None, "undeclared fields are not visible");
        let Some(Cel::Map(meta)) = get("metadata") else { panic!() };
        assert_eq!(meta.map.len(), 1, "only name and generateName");
    }

    #[test]
    fn borrowed_values_equal_converted_ones() {
        let v = json!({"a": [1, 2.5, "s", null, true], "b": {"c": {"d": -3}}, "e": 18446744073709551615u64});
        let via_value: Box<dyn Val> = untyped(&v).try_into().unwrap();
        assert_eq!(Cel::try_from(borrowed(&v).as_ref()).unwrap(), Cel::try_from(via_value.as_ref()).unwrap());
    }

    #[test]
    fn shown_as_the_server_prints() {
        assert_eq!(shown(&json!("he said \"hi\"")).as_deref(), Some(r#""he said \"hi\"""#));
        assert_eq!(shown(&json!(5)).as_deref(), Some("5"));
        assert_eq!(shown(&json!(1.5)).as_deref(), Some("1.5"));
        assert_eq!(shown(&json!(true)).as_deref(), Some("true"));
        assert_eq!(shown(&json!({"a": 1})), None);
    }
}
