//! `replacements`: a value copied from one object's field into fields of others.
//!
//! In: the checked `replacements` of a kustomization ([`Replacement`]) and the
//! resources being transformed. Out: the resources with every target field set,
//! as kustomize 5.5's replacement transformer sets them (it runs after `images`,
//! before name hashes and reference rewriting).
//!
//! Field paths are kustomize's: `.`-separated (not inside `[...]`), each part a
//! field name, a list index (`0`), `*` (every list item) or `[field=regex]` (the
//! list items whose field matches the regular expression, unanchored as in kyaml;
//! `[=regex]` for lists of scalars). With `create`, missing fields (and a missing
//! `[field=value]` item) are created. A scalar target keeps its type where it had
//! one (a number stays a number, a string a string); a created one takes the type
//! the text reads as.
//!
//! Where strata is stricter than kustomize: a source or target that selects no
//! object is an error (kustomize lets a target that selects nothing pass).

use regex::Regex;
use serde_json::{Map, Value};

use super::kustomization::Span;
use super::select::Selector;
use super::{Ident, Item, Patcher};
use crate::diag::Error;

/// One part of a replacement field path.
#[derive(Debug, Clone)]
pub enum PathPart {
    Field(String),
    Index(usize),
    Every,
    /// `[field=regex]`; an empty field matches scalar items.
    Match {
        field: String,
        value: String,
        re: Regex,
    },
}

/// A field path as written, and parsed.
#[derive(Debug, Clone)]
pub struct FieldPath {
    pub text: String,
    pub parts: Vec<PathPart>,
    pub at: Span,
}

/// `options` of a source or target: split the value at `delimiter` and use part `index`.
#[derive(Debug, Clone, Default)]
pub struct FieldOptions {
    pub delimiter: Option<String>,
    pub index: i64,
    pub create: bool,
}

/// A replacement `source`: exact identity fields (absent = any).
#[derive(Debug, Clone)]
pub struct Source {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub field_path: FieldPath,
    pub options: FieldOptions,
    pub at: Span,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub select: Selector,
    pub reject: Vec<Selector>,
    pub field_paths: Vec<FieldPath>,
    pub options: FieldOptions,
    pub at: Span,
}

#[derive(Debug, Clone)]
pub struct Replacement {
    /// `replacements[0]`, or `replacements[0] (path.yaml[1])` for one read from a file.
    pub entry: String,
    pub source: Source,
    pub targets: Vec<Target>,
}

/// Parses a kustomize field path (`spec.containers.[name=web].image`).
pub fn parse_path(text: &str) -> Result<Vec<PathPart>, String> {
    let mut raw = Vec::new();
    let (mut cur, mut depth) = (String::new(), 0usize);
    for c in text.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                raw.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    raw.push(cur);
    let mut parts = Vec::new();
    for p in raw.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        parts.push(if p == "*" {
            PathPart::Every
        } else if let Some(inner) = p.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            let Some((field, value)) = inner.split_once('=') else {
                return Err(format!("`{p}` is not `[field=value]`"));
            };
            let re = Regex::new(value).map_err(|e| format!("invalid regular expression `{value}` in `{p}`: {e}"))?;
            PathPart::Match { field: field.to_string(), value: value.to_string(), re }
        } else if let Ok(i) = p.parse::<usize>() {
            PathPart::Index(i)
        } else {
            PathPart::Field(p.to_string())
        });
    }
    if parts.is_empty() {
        return Err("the field path is empty".into());
    }
    Ok(parts)
}

/// A scalar's text as YAML writes it.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".into()),
        _ => None,
    }
}

/// The value plain YAML text reads as (a number, a boolean, null, else the string).
fn typed_scalar(text: &str) -> Value {
    match crate::yaml::parse_one(text) {
        Ok(v @ (Value::Number(_) | Value::Bool(_))) => v,
        Ok(Value::Null) if matches!(text, "null" | "~" | "Null" | "NULL") => Value::Null,
        _ => Value::String(text.to_string()),
    }
}

/// Calls `f` on every node `parts` leads to in `node` (creating what is missing
/// when `create`); the flag says whether the node was just created.
fn walk(
    node: &mut Value,
    parts: &[PathPart],
    create: bool,
    f: &mut dyn FnMut(&mut Value, bool) -> Result<(), String>,
) -> Result<(), String> {
    walk_at(node, parts, create, false, f)
}

fn walk_at(
    node: &mut Value,
    parts: &[PathPart],
    create: bool,
    created: bool,
    f: &mut dyn FnMut(&mut Value, bool) -> Result<(), String>,
) -> Result<(), String> {
    let Some((first, rest)) = parts.split_first() else { return f(node, created) };
    let empty_for = |next: Option<&PathPart>| match next {
        None => Value::Null,
        Some(PathPart::Field(_)) => Value::Object(Map::new()),
        Some(_) => Value::Array(Vec::new()),
    };
    match first {
        PathPart::Field(name) => {
            let Value::Object(m) = node else { return Ok(()) };
            let made = !m.contains_key(name);
            if made && !create {
                return Ok(());
            }
            let child = m.entry(name.clone()).or_insert_with(|| empty_for(rest.first()));
            walk_at(child, rest, create, made, f)
        }
        PathPart::Index(i) => {
            let Value::Array(a) = node else { return Ok(()) };
            let made = *i == a.len() && create;
            if made {
                a.push(empty_for(rest.first()));
            }
            match a.get_mut(*i) {
                Some(child) => walk_at(child, rest, create, made, f),
                None => Err(format!("index {i} specified but only {} elements found", a.len())),
            }
        }
        PathPart::Every => {
            let Value::Array(a) = node else { return Ok(()) };
            for child in a.iter_mut() {
                walk_at(child, rest, create, false, f)?;
            }
            Ok(())
        }
        PathPart::Match { field, value, re } => {
            let Value::Array(a) = node else { return Ok(()) };
            let hits = |a: &Vec<Value>| -> Vec<usize> {
                (0..a.len())
                    .filter(|&i| {
                        let v = if field.is_empty() { Some(&a[i]) } else { a[i].get(field) };
                        v.and_then(scalar_text).is_some_and(|t| re.is_match(t.trim()))
                    })
                    .collect()
            };
            let mut found = hits(a);
            if found.is_empty() && create {
                let item = if field.is_empty() {
                    Value::String(value.clone())
                } else {
                    Value::Object(Map::from_iter([(field.clone(), Value::String(value.clone()))]))
                };
                a.push(item);
                found = hits(a);
            }
            for i in found {
                walk_at(&mut a[i], rest, create, false, f)?;
            }
            Ok(())
        }
    }
}

/// Sets one target field to `value`, as kustomize's `setFieldValue` does.
fn set_field(target: &mut Value, created: bool, value: &Value, options: &FieldOptions) -> Result<(), String> {
    let mut value = value.clone();
    if let Some(delim) = &options.delimiter {
        let current = if created { Some(String::new()) } else { scalar_text(target) };
        let Some(current) = current else {
            return Err("the `delimiter` option needs a scalar target field".into());
        };
        let mut parts: Vec<String> = current.split(delim.as_str()).map(str::to_string).collect();
        let v = scalar_text(&value).ok_or("the `delimiter` option needs a scalar source value")?;
        match usize::try_from(options.index) {
            Err(_) => parts.insert(0, v),
            Ok(i) if i >= parts.len() => parts.push(v),
            Ok(i) => parts[i] = v,
        }
        value = Value::String(parts.join(delim));
    }
    let text = scalar_text(&value).filter(|_| !value.is_null());
    let scalar_target = !created && !target.is_object() && !target.is_array();
    if scalar_target && !target.is_null() && (value.is_object() || value.is_array()) {
        // kustomize writes an empty string here (a mapping node's scalar value).
        return Err("the source value is a mapping or list and the target field a scalar".into());
    }
    *target = match (&*target, text) {
        (_, None) => value,
        (Value::String(_), Some(t)) if !created => Value::String(t),
        (Value::Object(_) | Value::Array(_), Some(_)) => value,
        (_, Some(t)) => typed_scalar(&t),
    };
    Ok(())
}

impl Source {
    fn selects(&self, id: &Ident) -> bool {
        let m = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let ns = |s: &str| super::names::namespace_or_default(s);
        m(&self.group, &id.group)
            && m(&self.version, &id.version)
            && m(&self.kind, &id.kind)
            && m(&self.name, &id.name)
            && self.namespace.as_deref().is_none_or(|w| ns(w) == ns(&id.namespace))
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = [
            ("group", &self.group),
            ("version", &self.version),
            ("kind", &self.kind),
            ("name", &self.name),
            ("namespace", &self.namespace),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        if parts.is_empty() { "everything".into() } else { parts.join(", ") }
    }
}

/// The value a replacement copies: its source's field, refined by its options.
fn source_value(items: &[Item], r: &Replacement) -> Result<Value, Error> {
    let s = &r.source;
    let hits: Vec<usize> = (0..items.len())
        .filter(|&i| {
            let cur = items[i].ident();
            items[i].prev.iter().chain(std::iter::once(&cur)).any(|id| s.selects(id))
        })
        .collect();
    let i = match hits.as_slice() {
        [i] => *i,
        [] => {
            return Err(s
                .at
                .diag(format!("the source of `{}` matches no resource ({})", r.entry, s.describe()), "matches nothing")
                .hint(super::available(items, |_| true))
                .into());
        }
        many => {
            let ids: Vec<String> = many.iter().map(|i| format!("`{}`", items[*i].ident())).collect();
            return Err(s
                .at
                .diag(format!("the source of `{}` matches {} resources: {}", r.entry, many.len(), ids.join(", ")), "")
                .hint("a source must select exactly one object; add its `kind`, `name` or `namespace`")
                .into());
        }
    };
    let mut body = items[i].res.body.clone();
    let mut found = None;
    walk(&mut body, &s.field_path.parts, false, &mut |v, _| {
        if found.is_none() {
            found = Some(v.clone());
        }
        Ok(())
    })
    .map_err(|e| s.field_path.at.diag(e, ""))?;
    let id = items[i].ident();
    let Some(value) = found.filter(|v| !v.is_null()) else {
        return Err(s
            .field_path
            .at
            .diag(format!("`{}` has no field `{}` (the source of `{}`)", id, s.field_path.text, r.entry), "")
            .into());
    };
    let Some(delim) = &s.options.delimiter else { return Ok(value) };
    let text =
        scalar_text(&value).ok_or_else(|| s.at.diag("the `delimiter` option needs a scalar source field", ""))?;
    let parts: Vec<&str> = text.split(delim.as_str()).collect();
    match usize::try_from(s.options.index).ok().and_then(|i| parts.get(i)) {
        Some(p) => Ok(Value::String(p.to_string())),
        None => Err(s
            .at
            .diag(format!("`options.index` {} is out of bounds for `{text}` split at `{delim}`", s.options.index), "")
            .into()),
    }
}

/// Runs every replacement in order.
pub(super) fn apply(items: &mut [Item], replacements: &[Replacement], patcher: &Patcher<'_>) -> Result<(), Error> {
    for r in replacements {
        let value = source_value(items, r)?;
        for t in &r.targets {
            let selected = patcher.select(items, &t.select);
            let rejected: Vec<usize> = t.reject.iter().flat_map(|sel| patcher.select(items, sel)).collect();
            let hits: Vec<usize> = selected.into_iter().filter(|i| !rejected.contains(i)).collect();
            if hits.is_empty() {
                return Err(t
                    .at
                    .diag(
                        format!("a target of `{}` matches no resource ({})", r.entry, t.select.describe()),
                        "matches nothing",
                    )
                    .hint(super::available(items, |_| true))
                    .into());
            }
            for i in hits {
                let id = items[i].ident();
                for fp in &t.field_paths {
                    let mut seen = false;
                    walk(&mut items[i].res.body, &fp.parts, t.options.create, &mut |node, created| {
                        seen = true;
                        set_field(node, created, &value, &t.options)
                    })
                    .and_then(|()| if seen { Ok(()) } else { Err(format!("`{id}` has no field `{}`", fp.text)) })
                    .map_err(|e| {
                        let hint =
                            if t.options.create { "check the path" } else { "set `options.create: true` to create it" };
                        fp.at.diag(format!("{e} (a target of `{}`)", r.entry), "").hint(hint)
                    })?;
                }
                items[i].res.refresh_id()?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// (kustomization, files, message, file the error names)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);

    fn set(body: &mut Value, path: &str, value: Value, create: bool) -> usize {
        let parts = parse_path(path).unwrap();
        let mut n = 0;
        let opts = FieldOptions { create, ..Default::default() };
        walk(body, &parts, create, &mut |node, created| {
            n += 1;
            set_field(node, created, &value, &opts)
        })
        .unwrap();
        n
    }

    #[test]
    fn paths_split_outside_brackets() {
        let p = parse_path("spec.containers.[name=a.b].image").unwrap();
        assert_eq!(p.len(), 4);
        assert!(matches!(&p[2], PathPart::Match { field, value, .. } if field == "name" && value == "a.b"));
        assert!(matches!(parse_path("a.0.*").unwrap()[1..], [PathPart::Index(0), PathPart::Every]));
        assert!(parse_path("a.[b]").is_err());
    }

    #[test]
    fn targets_keep_their_type_and_created_fields_take_the_text_type() {
        let mut b = json!({"replicas": 1, "s": "x", "list": [{"name": "web-sidecar"}, {"name": "web"}]});
        set(&mut b, "replicas", json!("8080"), false);
        set(&mut b, "s", json!(8080), false);
        set(&mut b, "new.deep", json!("8080"), true);
        // Unanchored, as in kyaml: `web` also matches `web-sidecar`.
        assert_eq!(set(&mut b, "list.[name=web].port", json!("1"), true), 2);
        assert_eq!(set(&mut b, "list.[name=api].image", json!("x"), true), 1);
        assert_eq!(
            b,
            json!({"replicas": 8080, "s": "8080", "new": {"deep": 8080},
                "list": [{"name": "web-sidecar", "port": 1}, {"name": "web", "port": 1}, {"name": "api", "image": "x"}]})
        );
    }

    fn run(kustomization: &str, files: &[(&str, &str)]) -> Result<Vec<crate::manifest::Resource>, Error> {
        use crate::manifest::{Resource, TemplateOrigin};
        use crate::source::{Fs, MemorySource};
        use std::sync::Arc;
        let mut m = MemorySource::new();
        m.file("web/prod/kustomization.yaml", kustomization);
        for (p, t) in files {
            m.file(p, t);
        }
        let fs = Fs::new(Arc::new(m));
        let k = crate::patch::load(&fs, "web/prod")?.expect("present");
        let rendered = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: 2\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {n: \"5\", hosts: \"a,b\"}\n";
        let docs = crate::yaml::parse_documents(rendered).unwrap();
        let origin = |doc| TemplateOrigin { template: Arc::from("web/v1/all.yaml"), doc };
        let res = docs.into_iter().enumerate().map(|(i, b)| Resource::new(b, origin(i)).unwrap()).collect();
        crate::patch::apply(res, &k, &Default::default())
    }

    const GOOD: &str = "replacements:\n- source: {kind: ConfigMap, name: settings, fieldPath: data.n}\n  targets:\n  - select: {kind: Deployment}\n    reject: [{name: api}]\n    fieldPaths: [spec.replicas]\n";

    #[test]
    fn a_replacement_sets_the_selected_targets_only() {
        let out = run(GOOD, &[]).unwrap();
        assert_eq!(out[0].body["spec"]["replicas"], 5);
        assert_eq!(out[1].body["spec"]["replicas"], 2);
    }

    /// (kustomization, files, message, file the error names): one case per class of bad input.
    #[test]
    fn bad_replacements_are_errors_naming_the_entry() {
        let k = "web/prod/kustomization.yaml";
        let cases: &[Case] = &[
            (
                &GOOD.replace("name: settings", "name: other"),
                &[],
                "the source of `replacements[0]` matches no resource (kind=ConfigMap, name=other)",
                k,
            ),
            (
                &GOOD.replace("kind: ConfigMap, name: settings", "kind: Deployment"),
                &[],
                "the source of `replacements[0]` matches 2 resources",
                k,
            ),
            (&GOOD.replace("data.n", "data.missing"), &[], "`ConfigMap/settings` has no field `data.missing`", k),
            (
                &GOOD.replace("select: {kind: Deployment}", "select: {kind: StatefulSet}"),
                &[],
                "a target of `replacements[0]` matches no resource (kind=StatefulSet)",
                k,
            ),
            (&GOOD.replace("spec.replicas", "spec.paused"), &[], "`apps/Deployment/web` has no field `spec.paused`", k),
            (
                &GOOD.replace("[spec.replicas]", "['spec.[name]']"),
                &[],
                "field path `spec.[name]`: `[name]` is not `[field=value]`",
                k,
            ),
            (
                &GOOD.replace("fieldPath: data.n", "fieldPath: data.hosts, options: {index: 1}"),
                &[],
                "`index` needs a `delimiter`",
                k,
            ),
            (
                &GOOD.replace("fieldPath: data.n", "fieldPath: data.hosts, options: {delimiter: ',', index: 4}"),
                &[],
                "`options.index` 4 is out of bounds for `a,b`",
                k,
            ),
            (
                "replacements:\n- path: r.yaml\n  source: {kind: ConfigMap}\n",
                &[],
                "either `path` or `source` and `targets`",
                k,
            ),
            ("replacements:\n- source: {kind: ConfigMap}\n", &[], "`replacements[0]` needs `targets`", k),
            (
                "replacements:\n- path: r.yaml\n",
                &[("web/prod/r.yaml", "source: {kind: ConfigMap}\ntargets:\n- fieldPaths: [a]\n")],
                "a replacement target needs `select`",
                "web/prod/r.yaml",
            ),
            (
                "replacements:\n- path: r.yaml\n",
                &[("web/prod/r.yaml", "- source: {kind: ConfigMap, nmae: x}\n")],
                "nmae",
                "web/prod/r.yaml",
            ),
        ];
        for (text, files, want, file) in cases {
            let e = run(text, files).expect_err(text);
            assert!(e.messages().contains(want), "{text}\n  got: {}", e.messages());
            assert_eq!(e.diagnostics[0].path.as_deref(), Some(*file), "{text}");
            assert!(e.diagnostics[0].pos.is_some(), "{text}: no position");
        }
    }

    #[test]
    fn a_mapping_does_not_replace_a_scalar() {
        let opts = FieldOptions::default();
        assert!(set_field(&mut json!("old"), false, &json!({"a": "1"}), &opts).is_err());
        let mut created = Value::Null;
        set_field(&mut created, true, &json!({"a": "1"}), &opts).unwrap();
        assert_eq!(created, json!({"a": "1"}));
    }

    #[test]
    fn delimiters_replace_prepend_and_append() {
        for (index, want) in [(0, "new-b-c"), (-1, "new-a-b-c"), (9, "a-b-c-new"), (2, "a-b-new")] {
            let mut v = json!("a-b-c");
            set_field(
                &mut v,
                false,
                &json!("new"),
                &FieldOptions { delimiter: Some("-".into()), index, create: false },
            )
            .unwrap();
            assert_eq!(v, json!(want));
        }
    }
}
