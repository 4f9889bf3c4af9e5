//! Values: Helm-style layers, merged with provenance.
//!
//! In: the layers of one target, lowest precedence first (the version's
//! `values.yaml`, `strata.yaml` `values:`, `strata.yaml` `environments.<env>.values:`,
//! each `parameters.yaml` from the component root down, `--values` files, then
//! `--set` / `--set-string`). Out: [`Values`], the merged tree plus, for any path,
//! the file and line of the layer that set it.
//!
//! Merge rules (Helm's): maps merge deeply, scalars and lists replace, an explicit
//! `null` deletes the key. [`layers_for`] builds a target's layers in that order;
//! [`unread_parameters`] reports what a `parameters.yaml` sets and no template reads.

pub mod layers;
pub mod origin;
pub mod schema;
pub mod set;
pub mod show;
pub mod unread;

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::diag::Diagnostic;
use crate::yaml::locate;

pub use layers::{ValuesFile, command_line_layers, merged_for, values_for};
pub use schema::ValuesSchema;
pub use unread::Unread;

/// What a layer is, for messages and for the unused-parameter check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// The version's `values.yaml`.
    Defaults,
    /// `strata.yaml` `values:` or `environments.<env>.values:`.
    Repo,
    /// A `parameters.yaml` between the component root and the target.
    Parameters,
    /// A `--values` file.
    ValuesFile,
    /// `--set` / `--set-string`.
    Set,
}

/// One layer of values with where it came from.
#[derive(Debug, Clone)]
pub struct Layer {
    pub kind: LayerKind,
    /// Repository-relative file, or `--set a.b=c` for command-line values.
    pub origin: Arc<str>,
    /// The text of the file, to find lines in; shared between targets.
    pub text: Option<Arc<str>>,
    /// Keys above this layer's data inside its file (`environments`, `eastus`, `values`
    /// for a layer read from `strata.yaml`), used to find lines.
    pub prefix: Vec<String>,
    pub data: Arc<Value>,
}

impl Layer {
    /// Where in its file this layer sets `path`, as `file:line:col` when found.
    pub fn describe(&self, path: &[String]) -> String {
        match &self.text {
            Some(text) => {
                let mut full = self.prefix.clone();
                full.extend(path.iter().cloned());
                match locate(text, &full) {
                    Some((l, c)) => format!("{}:{l}:{c}", self.origin),
                    None => self.origin.to_string(),
                }
            }
            None => self.origin.to_string(),
        }
    }

    pub fn position(&self, path: &[String]) -> Option<(usize, usize)> {
        let text = self.text.as_ref()?;
        let mut full = self.prefix.clone();
        full.extend(path.iter().cloned());
        locate(text, &full)
    }
}

/// The merged values of one target.
#[derive(Debug, Clone)]
pub struct Values {
    pub merged: Value,
    pub layers: Vec<Layer>,
}

impl Values {
    /// Merges `layers` (lowest precedence first).
    pub fn merge(layers: Vec<Layer>) -> Values {
        let mut merged = Value::Object(Map::new());
        for (i, l) in layers.iter().enumerate() {
            coalesce(&mut merged, &l.data, i == 0);
        }
        Values { merged, layers }
    }

    /// The highest layer that sets `path` (or a non-map value above it).
    pub fn origin_of(&self, path: &[String]) -> Option<&Layer> {
        self.layers.iter().rev().find(|l| sets(&l.data, path))
    }
}

/// Whether `data` sets the value at `path`: the path exists, or a scalar or list
/// replaces something on the way down.
fn sets(data: &Value, path: &[String]) -> bool {
    let mut cur = data;
    for seg in path {
        match cur {
            Value::Object(m) => match m.get(seg) {
                Some(v) => cur = v,
                None => return false,
            },
            Value::Array(a) => match seg.parse::<usize>().ok().and_then(|i| a.get(i)) {
                Some(v) => cur = v,
                None => return true,
            },
            _ => return true,
        }
    }
    true
}

/// Merges `over` into `base` with Helm's rules. In the first layer nulls are kept.
pub fn coalesce(base: &mut Value, over: &Value, keep_nulls: bool) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                if v.is_null() && !keep_nulls {
                    b.shift_remove(k);
                    continue;
                }
                match b.get_mut(k) {
                    Some(existing @ Value::Object(_)) if v.is_object() => coalesce(existing, v, keep_nulls),
                    _ => {
                        b.insert(k.clone(), strip_nulls(v, keep_nulls));
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn strip_nulls(v: &Value, keep: bool) -> Value {
    match v {
        Value::Object(m) if !keep => Value::Object(
            m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), strip_nulls(v, keep))).collect(),
        ),
        other => other.clone(),
    }
}

/// Every leaf path set by `data` (maps are walked; scalars, lists and empty maps are leaves).
pub fn leaf_paths(data: &Value) -> Vec<Vec<String>> {
    fn walk(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    path.push(k.clone());
                    walk(v, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }
    let mut out = Vec::new();
    walk(data, &mut Vec::new(), &mut out);
    out
}

/// Parses a values file: a mapping, or empty.
pub fn parse_values_file(text: &str, path: &str) -> Result<Value, Diagnostic> {
    let v = crate::yaml::parse_file(text, path)?;
    match v {
        Value::Null => Ok(Value::Object(Map::new())),
        Value::Object(_) => Ok(v),
        _ => Err(Diagnostic::error(format!("`{path}` must be a mapping of values"))
            .at_pos(path.to_string(), 1, 1)
            .hint("write values as `key: value` lines")),
    }
}

/// Validates merged values against a `values.schema.json`; one diagnostic per
/// violation, each naming the JSON path and the file and line that set the value.
pub fn validate_schema(values: &Values, schema: &ValuesSchema) -> Result<(), Vec<Diagnostic>> {
    let schema_path = schema.path.as_str();
    let mut out = Vec::new();
    for err in schema.validator.iter_errors(&values.merged) {
        let pointer = err.instance_path().as_str().to_string();
        let path: Vec<String> = pointer.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
        let dotted = if path.is_empty() { "(root)".to_string() } else { path.join(".") };
        let mut d = Diagnostic::error(format!("value `{dotted}` does not match the schema: {err}"));
        match values.origin_of(&path) {
            Some(layer) => {
                match (layer.position(&path), &layer.text) {
                    (Some((l, c)), Some(text)) => {
                        d = d.at(layer.origin.to_string()).with_source_line(text, l, c, 1, "set here");
                    }
                    _ => d = d.at(layer.origin.to_string()),
                }
                d = d.note(format!("schema: {schema_path}, at `{}`", err.schema_path()));
            }
            None => {
                d = d.at(schema_path.to_string()).note("no values layer sets this path");
            }
        }
        out.push(d);
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layer(kind: LayerKind, origin: &str, text: &str) -> Layer {
        let data = parse_values_file(text, origin).unwrap();
        Layer { kind, origin: Arc::from(origin), text: Some(Arc::from(text)), prefix: vec![], data: Arc::new(data) }
    }

    #[test]
    fn helm_merge_rules() {
        let v = Values::merge(vec![
            layer(LayerKind::Defaults, "v1/values.yaml", "a: {b: 1, c: 2}\nlist: [1, 2]\nkeep: null\ngone: x\n"),
            layer(
                LayerKind::Parameters,
                "east/parameters.yaml",
                "a: {c: 3, d: 4}\nlist: [9]\ngone: null\nnew: {x: null, y: 1}\n",
            ),
        ]);
        assert_eq!(v.merged, json!({"a": {"b": 1, "c": 3, "d": 4}, "list": [9], "keep": null, "new": {"y": 1}}));
    }

    #[test]
    fn origin_points_at_the_highest_layer() {
        let v = Values::merge(vec![
            layer(LayerKind::Defaults, "v1/values.yaml", "replicas: 1\nimage:\n  tag: a\n"),
            layer(LayerKind::Parameters, "east/parameters.yaml", "# comment\nimage:\n  tag: b\n"),
        ]);
        let p = |s: &str| s.split('.').map(String::from).collect::<Vec<_>>();
        assert_eq!(v.origin_of(&p("replicas")).unwrap().describe(&p("replicas")), "v1/values.yaml:1:1");
        assert_eq!(v.origin_of(&p("image.tag")).unwrap().describe(&p("image.tag")), "east/parameters.yaml:3:3");
    }

    #[test]
    fn schema_errors_name_path_file_and_line() {
        let v = Values::merge(vec![
            layer(LayerKind::Defaults, "v1/values.yaml", "replicas: 1\n"),
            layer(LayerKind::Parameters, "east/parameters.yaml", "replicas: many\n"),
        ]);
        let schema = json!({"type": "object", "properties": {"replicas": {"type": "integer"}}});
        let fs = crate::source::Fs::new(Arc::new(crate::source::MemorySource::from_entries(&[])));
        let schema = ValuesSchema::compile(&fs, "v1/values.schema.json", &schema, None).unwrap();
        let errs = validate_schema(&v, &schema).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.starts_with("value `replicas` does not match the schema"), "{}", errs[0].message);
        assert_eq!(errs[0].path.as_deref(), Some("east/parameters.yaml"));
        assert_eq!(errs[0].pos.map(|p| p.line), Some(1));
    }

    #[test]
    fn leaves() {
        let l = leaf_paths(&json!({"a": {"b": 1, "c": [1]}, "d": {}}));
        assert_eq!(l, vec![vec!["a", "b"], vec!["a", "c"], vec!["d"]]);
    }
}
