//! `strata values`: a target's merged values as text, optionally with the origin
//! of every value.
//!
//! In: the target's [`Values`], an optional key path (`image.tag`, `ports[0]`,
//! `annotations.a\.b/c` with `\.` for a dot inside a key), whether to show
//! origins and the format. Out: the text to print.
//!
//! Formats:
//! - YAML without origins: the merged tree (or the value at the key), as `strata
//!   render` would see it; a scalar prints bare, like `git config KEY`.
//! - YAML with origins: the same YAML, each leaf followed by a comment
//!   `# file:line (overrides file:line, ...)`, the layers it overrode highest
//!   first (a `null` that deleted the key on the way is shown as `file:line (null)`),
//!   then one comment line per key deleted with `null`:
//!   `# deleted: a.b by file:line (overrides file:line)`. It still parses as YAML.
//! - JSON without origins: the merged tree. With origins: an object with `values`,
//!   `origins` (per leaf: `path`, `value`, `setBy`, `overrides`) and `deleted`.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::origin::{self, Deleted, Leaf, Origins, Place, describe_chain};
use super::{LayerKind, Values};
use crate::diag::Diagnostic;
use crate::yaml;

/// Output format of `strata values`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// The text `strata values` prints (see the module documentation).
pub fn show(values: &Values, key: Option<&str>, with_origin: bool, format: Format) -> Result<String, Diagnostic> {
    let path = match key {
        Some(k) => parse_key(k)?,
        None => Vec::new(),
    };
    let all = origin::origins(values);
    let Some(value) = lookup(&values.merged, &path) else {
        return Err(missing(values, &all, key.unwrap_or_default(), &path));
    };
    let origins = origins_at(all, &path);
    Ok(match (format, with_origin) {
        (Format::Yaml, false) => yaml::to_string(value),
        (Format::Json, false) => pretty(value),
        (Format::Yaml, true) => annotated_yaml(value, &path, &origins),
        (Format::Json, true) => pretty(&origins_json(value, &origins)),
    })
}

/// Splits a key path on unescaped dots; `name[2]` is `name`, `2`.
fn parse_key(key: &str) -> Result<Vec<String>, Diagnostic> {
    let bad = |why: &str| {
        Diagnostic::error(format!("invalid key path `{key}`: {why}"))
            .hint("write keys with dots (`image.tag`), list items as `ports[0]`, and `\\.` for a dot inside a key")
    };
    let mut out = vec![String::new()];
    let mut chars = key.chars();
    while let Some(c) = chars.next() {
        let cur = out.last_mut().expect("never empty");
        match c {
            '\\' => cur.push(chars.next().ok_or_else(|| bad("it ends with `\\`"))?),
            '.' => out.push(String::new()),
            '[' => {
                let index: String = chars.by_ref().take_while(|&c| c != ']').collect();
                if index.parse::<usize>().is_err() {
                    return Err(bad(&format!("`[{index}]` is not a list index")));
                }
                out.push(index);
            }
            c => cur.push(c),
        }
    }
    // `a[0].b` leaves an empty segment between `]` and `.`.
    let mut segs: Vec<String> = Vec::new();
    for (i, s) in out.into_iter().enumerate() {
        if s.is_empty() && i > 0 && segs.last().is_some_and(|p| p.parse::<usize>().is_ok()) {
            continue;
        }
        if s.is_empty() {
            return Err(bad("a key is empty"));
        }
        segs.push(s);
    }
    Ok(segs)
}

/// The value at `path`, through maps and list indexes.
fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, seg| match cur {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => a.get(seg.parse::<usize>().ok()?),
        _ => None,
    })
}

/// The origins under `path`; inside a list (which is one leaf), the list's.
fn origins_at(all: Origins, path: &[String]) -> Origins {
    let containing = all.leaves.iter().find(|l| path.starts_with(&l.path) && l.path.len() < path.len()).cloned();
    let mut o = origin::under(all, path);
    if let Some(l) = containing {
        o.leaves = vec![l];
    }
    o
}

fn missing(values: &Values, all: &Origins, key: &str, path: &[String]) -> Diagnostic {
    if let Some(d) = all.deleted.iter().find(|d| path.starts_with(&d.path)) {
        return Diagnostic::error(format!("`{key}` is not set: it was deleted"))
            .note(format!("deleted by {}", describe_chain(&d.by, &d.overrides)));
    }
    let found = (0..path.len()).rev().find(|&n| lookup(&values.merged, &path[..n]).is_some()).unwrap_or(0);
    let mut d = Diagnostic::error(format!("no value `{key}` in this target"));
    if let Some(Value::Object(m)) = lookup(&values.merged, &path[..found]) {
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        if let Some(s) = yaml::typed::did_you_mean(&path[found], &keys) {
            d = d.hint(s);
        } else if !keys.is_empty() {
            let at = if found == 0 { "the top level".to_string() } else { format!("`{}`", path[..found].join(".")) };
            d = d.hint(format!("keys at {at}: {}", keys.join(", ")));
        }
    }
    d
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("a JSON value serializes");
    s.push('\n');
    s
}

fn yaml_key(k: &str) -> String {
    if yaml::is_plain_safe(k) { k.to_string() } else { Value::String(k.to_string()).to_string() }
}

/// The YAML of `value` (at `root`) with each leaf's origin as a trailing comment.
fn annotated_yaml(value: &Value, root: &[String], origins: &Origins) -> String {
    let notes: HashMap<&[String], String> =
        origins.leaves.iter().map(|l| (&l.path[..], describe_chain(&l.set_by, &l.overrides))).collect();
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, &mut root.to_vec(), 0, &notes),
        // A leaf, or a value inside a list: the leaf holding it has the note.
        _ => {
            let note = origins.leaves.first().map(|l| describe_chain(&l.set_by, &l.overrides));
            write_leaf(&mut out, None, value, 0, note.as_deref());
        }
    }
    for d in &origins.deleted {
        out.push_str(&deleted_line(d));
    }
    out
}

fn deleted_line(d: &Deleted) -> String {
    let mut line = format!("# deleted: {} by {}", d.path.join("."), d.by.at);
    if !d.overrides.is_empty() {
        let list: Vec<String> = d.overrides.iter().map(Place::describe).collect();
        line.push_str(&format!(" (overrides {})", list.join(", ")));
    }
    line.push('\n');
    line
}

fn write_map(
    out: &mut String,
    m: &Map<String, Value>,
    path: &mut Vec<String>,
    ind: usize,
    notes: &HashMap<&[String], String>,
) {
    for (k, v) in m {
        path.push(k.clone());
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                out.push_str(&format!("{:ind$}{}:\n", "", yaml_key(k)));
                write_map(out, inner, path, ind + 2, notes);
            }
            _ => write_leaf(out, Some(k), v, ind, notes.get(&path[..]).map(String::as_str)),
        }
        path.pop();
    }
}

/// `key: value  # note`, or for a multi-line value the note on the first line.
fn write_leaf(out: &mut String, key: Option<&str>, v: &Value, ind: usize, note: Option<&str>) {
    let text = yaml::to_string(v);
    let comment = note.map(|n| format!("  # {n}")).unwrap_or_default();
    let head = key.map(|k| format!("{:ind$}{}:", "", yaml_key(k))).unwrap_or_default();
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let block = matches!(v, Value::Array(a) if !a.is_empty()) || matches!(v, Value::Object(m) if !m.is_empty());
    if block {
        out.push_str(&format!("{head}{comment}\n"));
        let sub = if key.is_some() { ind + 2 } else { 0 };
        for line in text.lines() {
            out.push_str(&format!("{:sub$}{line}\n", ""));
        }
        return;
    }
    let sep = if key.is_some() { " " } else { "" };
    out.push_str(&format!("{head}{sep}{first}{comment}\n"));
    // The lines of a literal block, indented under the key.
    for line in lines {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("{:ind$}{line}\n", ""));
        }
    }
}

fn place_json(p: &Place) -> Value {
    let layer = match p.kind {
        LayerKind::Defaults => "defaults",
        LayerKind::Repo => "repo",
        LayerKind::Parameters => "parameters",
        LayerKind::ValuesFile => "values-file",
        LayerKind::Set => "set",
    };
    json!({"at": p.at, "layer": layer, "null": p.null})
}

fn origins_json(value: &Value, origins: &Origins) -> Value {
    let leaf = |l: &Leaf| {
        json!({
            "path": l.path,
            "value": l.value,
            "setBy": place_json(&l.set_by),
            "overrides": l.overrides.iter().map(place_json).collect::<Vec<_>>(),
        })
    };
    let deleted = |d: &Deleted| {
        json!({
            "path": d.path,
            "deletedBy": place_json(&d.by),
            "overrides": d.overrides.iter().map(place_json).collect::<Vec<_>>(),
        })
    };
    json!({
        "values": value,
        "origins": origins.leaves.iter().map(leaf).collect::<Vec<_>>(),
        "deleted": origins.deleted.iter().map(deleted).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Layer, parse_values_file};
    use std::sync::Arc;

    fn layer(kind: LayerKind, origin: &str, text: &str) -> Layer {
        let data = parse_values_file(text, origin).unwrap();
        Layer { kind, origin: Arc::from(origin), text: Some(Arc::from(text)), prefix: vec![], data: Arc::new(data) }
    }

    fn values() -> Values {
        Values::merge(vec![
            layer(
                LayerKind::Defaults,
                "v1/values.yaml",
                "image:\n  tag: a\n  repo: r\nports: [80, 443]\nconf: \"x\\ny\\n\"\ngone: {a: 1}\n\"odd key\": {}\n",
            ),
            layer(LayerKind::Parameters, "t/parameters.yaml", "image:\n  tag: b\ngone: null\n"),
        ])
    }

    #[test]
    fn annotated_yaml_parses_back_to_the_merged_values() {
        let text = show(&values(), None, true, Format::Yaml).unwrap();
        assert_eq!(
            text,
            "image:\n  tag: b  # t/parameters.yaml:2 (overrides v1/values.yaml:2)\n  repo: r  # v1/values.yaml:3\n\
             ports:  # v1/values.yaml:4\n  - 80\n  - 443\nconf: |  # v1/values.yaml:5\n  x\n  y\n\
             odd key: {}  # v1/values.yaml:7\n# deleted: gone by t/parameters.yaml:3 (overrides v1/values.yaml:6)\n"
        );
        assert_eq!(yaml::parse_one(&text).unwrap(), values().merged);
    }

    #[test]
    fn one_key() {
        let v = values();
        assert_eq!(show(&v, Some("image.tag"), false, Format::Yaml).unwrap(), "b\n");
        assert_eq!(
            show(&v, Some("image.tag"), true, Format::Yaml).unwrap(),
            "b  # t/parameters.yaml:2 (overrides v1/values.yaml:2)\n"
        );
        assert_eq!(show(&v, Some("ports[1]"), true, Format::Yaml).unwrap(), "443  # v1/values.yaml:4\n");
        assert_eq!(show(&v, Some("image"), true, Format::Yaml).unwrap().lines().count(), 2);
        let e = show(&v, Some("image.tga"), false, Format::Yaml).unwrap_err();
        assert_eq!(e.hints, ["did you mean `tag`?"]);
        let e = show(&v, Some("gone.a"), false, Format::Yaml).unwrap_err();
        assert!(e.notes[0].starts_with("deleted by t/parameters.yaml:3"), "{:?}", e.notes);
        assert!(show(&v, Some("a..b"), false, Format::Yaml).is_err());
    }

    #[test]
    fn json_with_origins() {
        let out: Value = serde_json::from_str(&show(&values(), None, true, Format::Json).unwrap()).unwrap();
        assert_eq!(out["origins"][0]["path"], json!(["image", "tag"]));
        assert_eq!(
            out["origins"][0]["setBy"],
            json!({"at": "t/parameters.yaml:2", "layer": "parameters", "null": false})
        );
        assert_eq!(out["deleted"][0]["deletedBy"]["at"], "t/parameters.yaml:3");
        assert_eq!(out["values"], values().merged);
    }

    #[test]
    fn key_paths() {
        assert_eq!(parse_key("a.b").unwrap(), ["a", "b"]);
        assert_eq!(parse_key("a[0].b").unwrap(), ["a", "0", "b"]);
        assert_eq!(parse_key(r"x.a\.b/c").unwrap(), ["x", "a.b/c"]);
        assert!(parse_key("a[x]").is_err());
    }
}
