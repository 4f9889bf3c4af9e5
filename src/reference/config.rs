//! `docs/reference/config.md`: `strata.yaml` and `component.yaml` field by field,
//! written from their JSON Schemas ([`crate::repo::config::schemas`]), so the page
//! says what the schemas say.
//!
//! One section per file and one per object a field holds (`rollout[]`, `check`):
//! a table of its fields with type, default and the description the schema carries
//! (the doc comments of `src/repo/config.rs`). A default is the schema's `default`,
//! else the `(default …)` its description names, else the empty list or map.

use serde_json::{Map, Value};

/// The page.
pub fn page() -> String {
    let mut out = String::from(
        "# Configuration reference: `strata.yaml` and `component.yaml`\n\n\
         <!-- Generated from the JSON Schemas by src/reference/config.rs; do not edit. Change the doc \
         comments in src/repo/config.rs, then run `strata schema --docs docs/reference` (or `STRATA_REGENERATE=1 cargo test --lib reference`). -->\n\n\
         Both files are optional and every field in them is optional unless marked *required*. An unknown \
         field is an error naming the file and line. The same fields as JSON Schemas, for editors with \
         yaml-language-server: [`schemas/strata.schema.json`](../../schemas/strata.schema.json) and \
         [`schemas/component.schema.json`](../../schemas/component.schema.json) (`strata schema --out schemas` \
         writes them), picked up from a modeline:\n\n\
         ```yaml\n# yaml-language-server: $schema=../schemas/component.schema.json\n```\n",
    );
    for (name, text) in crate::repo::config::schemas() {
        let schema: Value = serde_json::from_str(&text).expect("the schemas are JSON");
        let file = name.trim_end_matches(".schema.json");
        out.push_str(&file_sections(&format!("{file}.yaml"), &schema));
    }
    out
}

/// An object to describe: the heading path and its schema.
struct Section<'a> {
    path: String,
    schema: &'a Value,
}

/// The sections of one file: the file's own fields, then each object reached from them.
fn file_sections(file: &str, schema: &Value) -> String {
    let empty = Map::new();
    let defs = schema.get("$defs").and_then(Value::as_object).unwrap_or(&empty);
    let mut sections = vec![Section { path: String::new(), schema }];
    let mut seen: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sections.len() {
        let (path, s) = (sections[i].path.clone(), sections[i].schema);
        for (field, fs) in properties(s) {
            let (suffix, target) = reached(fs);
            let Some(name) = target.filter(|n| !seen.contains(n)) else { continue };
            let Some(def) = defs.get(&name).filter(|d| d.get("properties").is_some()) else { continue };
            seen.push(name);
            let at = if path.is_empty() { field.to_string() } else { format!("{path}.{field}") };
            sections.push(Section { path: format!("{at}{suffix}"), schema: def });
        }
        i += 1;
    }
    let links: Vec<(String, String)> =
        sections[1..].iter().map(|s| (def_name(defs, s.schema), slug(&s.path))).collect();
    let mut out = String::new();
    for s in &sections {
        if s.path.is_empty() {
            out.push_str(&format!("\n## `{file}`\n\n"));
        } else {
            out.push_str(&format!("\n### `{}`\n\n", s.path));
        }
        if let Some(d) = s.schema.get("description").and_then(Value::as_str) {
            out.push_str(d);
            out.push_str("\n\n");
        }
        out.push_str(&table(s.schema, defs, &links));
    }
    out
}

/// The fields of an object schema, in order.
fn properties(s: &Value) -> Vec<(&str, &Value)> {
    s.get("properties")
        .and_then(Value::as_object)
        .map(|p| p.iter().map(|(k, v)| (k.as_str(), v)).collect())
        .unwrap_or_default()
}

/// The `$defs` name a field leads to (directly, as list items or as map values) and
/// the path suffix for it: `""`, `"[]"`, `".<name>"`.
fn reached(s: &Value) -> (&'static str, Option<String>) {
    let r = |v: &Value| v.get("$ref").and_then(Value::as_str).map(|r| r.trim_start_matches("#/$defs/").to_string());
    if let Some(items) = s.get("items") {
        return ("[]", r(items));
    }
    if let Some(values) = s.get("additionalProperties").filter(|v| v.is_object()) {
        return (".<name>", r(values));
    }
    let alternatives = s.get("anyOf").and_then(Value::as_array).into_iter().flatten();
    ("", r(s).or_else(|| alternatives.filter_map(r).next()))
}

fn def_name(defs: &Map<String, Value>, schema: &Value) -> String {
    defs.iter().find(|(_, d)| std::ptr::eq(*d, schema)).map(|(n, _)| n.clone()).unwrap_or_default()
}

/// The anchor a forge gives a heading: lower case, punctuation dropped, spaces to `-`.
fn slug(path: &str) -> String {
    format!("`{path}`")
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn table(s: &Value, defs: &Map<String, Value>, links: &[(String, String)]) -> String {
    let required: Vec<&str> =
        s.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut out = String::from("| Field | Type | Default | Description |\n|---|---|---|---|\n");
    for (field, fs) in properties(s) {
        let description = fs.get("description").and_then(Value::as_str).unwrap_or("");
        let default = if required.contains(&field) { "*required*".to_string() } else { default_of(fs, description) };
        let row = [format!("`{field}`"), type_of(fs, defs, links), default, description.replace('\n', " ")];
        out.push_str(&format!("| {} |\n", row.map(|c| c.replace('|', "\\|")).join(" | ")));
    }
    out
}

/// A field's type in words; objects with a section link to it.
fn type_of(s: &Value, defs: &Map<String, Value>, links: &[(String, String)]) -> String {
    if let Some(name) = s.get("$ref").and_then(Value::as_str).map(|r| r.trim_start_matches("#/$defs/")) {
        return match (links.iter().find(|(n, _)| n == name), defs.get(name)) {
            (Some((_, anchor)), _) => format!("[object](#{anchor})"),
            (None, Some(def)) => type_of(def, defs, links),
            (None, None) => name.to_string(),
        };
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
        let alternatives = any.iter().filter(|a| a.get("type").and_then(Value::as_str) != Some("null"));
        return alternatives.map(|a| type_of(a, defs, links)).collect::<Vec<_>>().join(" or ");
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        let words: Vec<String> = values.iter().map(|v| format!("`{}`", v.as_str().unwrap_or_default())).collect();
        return format!("one of {}", words.join(", "));
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null"),
        _ => return "any YAML value".to_string(),
    };
    match ty {
        "array" => format!("list of {}", s.get("items").map(|i| type_of(i, defs, links)).unwrap_or_default()),
        "object" => match s.get("additionalProperties").filter(|v| v.is_object()) {
            Some(v) => format!("map of name → {}", type_of(v, defs, links)),
            None => "object".to_string(),
        },
        "string" => match s.get("pattern").and_then(Value::as_str) {
            Some(p) => format!("string matching `{p}`"),
            None => "string".to_string(),
        },
        "integer" => match s.get("minimum") {
            Some(m) => format!("integer ≥ {m}"),
            None => "integer".to_string(),
        },
        other => other.to_string(),
    }
}

/// The schema's default, else the `(default …)` of the description, else empty
/// for lists and maps, else `—`.
fn default_of(s: &Value, description: &str) -> String {
    if let Some(d) = s.get("default") {
        return format!("`{d}`");
    }
    if let Some(d) = described_default(description) {
        return d.to_string();
    }
    match s.get("type").and_then(Value::as_str) {
        Some("array") => "`[]`".to_string(),
        Some("object") => "`{}`".to_string(),
        _ => "—".to_string(),
    }
}

/// `1.33.0` of `… (default `1.33.0`).`, up to the closing parenthesis.
fn described_default(description: &str) -> Option<&str> {
    let start = ["(default: ", "(default "].iter().find_map(|p| description.find(p).map(|i| i + p.len()))?;
    let mut depth = 0;
    for (i, c) in description[start..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(&description[start..start + i]),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_both_schemas_has_a_row_with_a_description() {
        let page = page();
        for (_, text) in crate::repo::config::schemas() {
            let schema: Value = serde_json::from_str(&text).unwrap();
            let defs = schema["$defs"].as_object().cloned().unwrap_or_default();
            for s in std::iter::once(&schema).chain(defs.values()) {
                for (field, fs) in properties(s) {
                    assert!(page.contains(&format!("| `{field}` | ")), "{field} has no row");
                    assert!(fs.get("description").is_some(), "{field} has no doc comment in src/repo/config.rs");
                }
            }
        }
    }

    #[test]
    fn types_defaults_and_sections() {
        let page = page();
        for row in [
            "| `kubeVersion` | string | `1.33.0` |",
            "| `rollout` | list of [object](#rollout) | `[]` |",
            "| `environments` | map of name → [object](#environmentsname) | `{}` |",
            "| `name` | string | *required* |",
            "| `enabled` | boolean | `false` |",
            "| `maxFileBytes` | integer ≥ 1 | 8 MiB |",
        ] {
            assert!(page.contains(row), "no row {row}");
        }
        for heading in
            ["## `strata.yaml`", "### `rollout[]`", "### `environments.<name>`", "### `diff`", "## `component.yaml`"]
        {
            assert!(page.contains(&format!("\n{heading}\n")), "no heading {heading}");
        }
        assert!(page.contains("`^([0-9]\\|[1-9][0-9]\\|100)%$`"), "a `|` in a cell is escaped");
        assert!(page.contains("| `rules` | map of name → one of `error`, `warning`, `off` |"));
    }

    #[test]
    fn described_defaults() {
        assert_eq!(described_default("Label key (default `strata.dev/target`)."), Some("`strata.dev/target`"));
        assert_eq!(described_default("x (default: the name (of it))"), Some("the name (of it)"));
        assert_eq!(described_default("no default here"), None);
    }
}
