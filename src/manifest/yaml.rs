//! YAML in and out.
//!
//! Parsing goes through `yaml_serde` (the maintained serde_yaml API) into
//! `serde_json::Value` with insertion order kept, rejecting duplicate keys,
//! tags and non-finite numbers, with the position of every error.
//!
//! Emitting is strata's own: block style, two-space indentation, keys in the
//! order they were written, literal blocks for multi-line strings, and every
//! string quoted that a YAML 1.1 reader (kubectl, Helm, Argo CD) would take for
//! a boolean, null, number or timestamp (`on`, `y`, `012`, `1_000`, `2024-01-01`).

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::diag::Diagnostic;

/// A YAML syntax or structure error with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    /// 1-based line and column, when the parser knows them.
    pub line: Option<usize>,
    pub col: Option<usize>,
}

impl YamlError {
    /// Turns the error into a diagnostic naming `path`, with the offending line of `text`.
    pub fn into_diagnostic(self, path: &str, text: &str) -> Diagnostic {
        let d = Diagnostic::error(format!("invalid YAML: {}", self.message)).at(path.to_string());
        match (self.line, self.col) {
            (Some(l), Some(c)) => d.with_source_line(text, l, c, 1, ""),
            _ => d,
        }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.col) {
            (Some(l), Some(c)) => write!(f, "{} at line {l} column {c}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

fn convert_error(e: serde_yaml::Error) -> YamlError {
    let loc = e.location();
    let mut message = e.to_string();
    // yaml_serde puts " at line L column C" after the problem; the position is
    // reported separately, but the context after it ("while parsing a flow
    // sequence at line 2 column 8") is worth keeping.
    if let Some(loc) = &loc {
        let at = format!(" at line {} column {}", loc.line(), loc.column());
        if let Some(i) = message.find(&at) {
            message.replace_range(i..i + at.len(), "");
        }
    }
    YamlError { message, line: loc.as_ref().map(|l| l.line()), col: loc.as_ref().map(|l| l.column()) }
}

/// The parser reports a duplicate key at the start of its mapping; point at the
/// second occurrence of the key instead.
fn point_at_duplicate(mut e: YamlError, text: &str) -> YamlError {
    let Some(key) = e.message.strip_prefix("duplicate key `").and_then(|k| k.strip_suffix('`')) else { return e };
    let start = e.line.unwrap_or(1);
    let mut hits = text.lines().enumerate().skip(start - 1).filter_map(|(i, l)| {
        let t = l.trim_start_matches([' ', '-']).trim_start();
        let rest = t.strip_prefix(key).or_else(|| t.strip_prefix(&format!("\"{key}\"")[..]))?;
        rest.trim_start().starts_with(':').then(|| (i + 1, l.len() - t.len() + 1))
    });
    if let (Some(_), Some((line, col))) = (hits.next(), hits.next()) {
        e.line = Some(line);
        e.col = Some(col);
    }
    e
}

/// Parses every document of a YAML stream. Empty documents (nothing, or only
/// comments) come back as `Value::Null`, so that document indexes stay true.
///
/// Block-style text (what templates render) is read by [`super::block`], which
/// gives the same values about ten times faster and declines anything else;
/// then `yaml_serde` reads it and reports the errors.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, YamlError> {
    if let Some(docs) = super::block::parse_stream(text) {
        return Ok(docs);
    }
    parse_documents_slow(text)
}

/// [`parse_documents`] through `yaml_serde` only (public for benchmarks and tests).
#[doc(hidden)]
pub fn parse_documents_slow(text: &str) -> Result<Vec<Value>, YamlError> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        out.push(ValueSeed.deserialize(doc).map_err(|e| point_at_duplicate(convert_error(e), text))?);
    }
    Ok(out)
}

/// Parses a single-document YAML file (an empty file is `null`).
pub fn parse_one(text: &str) -> Result<Value, YamlError> {
    let mut docs = parse_documents(text)?;
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.pop().unwrap_or(Value::Null)),
        n => Err(YamlError { message: format!("expected one document, found {n}"), line: None, col: None }),
    }
}

/// Parses a single-document YAML file and names `path` in any error.
pub fn parse_file(text: &str, path: &str) -> Result<Value, Diagnostic> {
    parse_one(text).map_err(|e| e.into_diagnostic(path, text))
}

struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom(format!("`{v}` is not a finite number; quote it if it is meant as a string")))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(ValueSeed)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(ValueSeed)? {
            let key = match key {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => "null".to_string(),
                _ => return Err(de::Error::custom("mapping keys must be scalars")),
            };
            let value = map.next_value_seed(ValueSeed)?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _data: A) -> Result<Value, A::Error> {
        Err(de::Error::custom("YAML tags (`!tag`) are not supported in Kubernetes manifests"))
    }
}

// ---------------------------------------------------------------------------
// Emitting

/// Emits one document (no `---`), ending with a newline.
pub fn to_string(v: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_document(&mut out, v);
    out
}

/// Appends one document (no `---`) to `out`.
pub fn write_document(out: &mut String, v: &Value) {
    match v {
        Value::Object(m) if !m.is_empty() => write_map(out, m, 0, false),
        Value::Array(a) if !a.is_empty() => write_seq(out, a, 0, false),
        other => {
            // A literal block at the top level still needs indented lines.
            write_scalar(out, other, 2);
            out.push('\n');
        }
    }
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

/// Writes a mapping whose keys sit at column `ind`. With `inline`, the first key
/// follows text already on the line (after `- `).
fn write_map(out: &mut String, m: &Map<String, Value>, ind: usize, inline: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, ind);
        }
        write_key(out, k);
        out.push(':');
        write_after_key(out, v, ind);
    }
}

fn write_after_key(out: &mut String, v: &Value, ind: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, ind + 2, false);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, ind + 2, false);
        }
        other => {
            out.push(' ');
            write_scalar(out, other, ind + 2);
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, a: &[Value], ind: usize, inline: bool) {
    for (i, v) in a.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, ind);
        }
        out.push_str("- ");
        match v {
            Value::Object(m) if !m.is_empty() => write_map(out, m, ind + 2, true),
            Value::Array(a) if !a.is_empty() => write_seq(out, a, ind + 2, true),
            other => {
                write_scalar(out, other, ind + 2);
                out.push('\n');
            }
        }
    }
}

fn write_key(out: &mut String, k: &str) {
    if is_plain_safe(k) {
        out.push_str(k);
    } else {
        write_quoted(out, k);
    }
}

/// Writes a scalar (or an empty collection); `block_ind` is the indentation of
/// a literal block's lines.
fn write_scalar(out: &mut String, v: &Value, block_ind: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s, block_ind),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn write_string(out: &mut String, s: &str, block_ind: usize) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if can_be_literal_block(s) {
        write_literal_block(out, s, block_ind);
    } else {
        write_quoted(out, s);
    }
}

fn can_be_literal_block(s: &str) -> bool {
    s.contains('\n')
        && !s.trim_end_matches('\n').is_empty()
        && !s.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || is_special_space(c))
        // A line of only spaces before the content would change the detected indentation.
        && !s.lines().next().is_some_and(|l| l.trim().is_empty() || l.starts_with('\t'))
}

fn write_literal_block(out: &mut String, s: &str, ind: usize) {
    out.push('|');
    if s.starts_with(' ') {
        out.push('2');
    }
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            indent(out, ind);
            out.push_str(line);
        }
    }
    // Keep-chomping: the extra newlines are emitted as empty lines.
    for _ in 1..trailing {
        out.push('\n');
    }
}

fn is_special_space(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{85}')
}

fn write_quoted(out: &mut String, s: &str) {
    let printable = !s.chars().any(|c| c.is_control() || is_special_space(c));
    if printable {
        out.push('\'');
        for c in s.chars() {
            if c == '\'' {
                out.push('\'');
            }
            out.push(c);
        }
        out.push('\'');
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() || is_special_space(c) => {
                let _ = fmt::Write::write_fmt(out, format_args!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// True when `s` can be written as a plain scalar and every YAML 1.1 and 1.2
/// reader gets the same string back.
pub fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    if s.trim() != s {
        return false;
    }
    if "?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if first == '-' && (s.len() == 1 || s[1..].starts_with(' ')) {
        return false;
    }
    if s.chars().any(|c| c.is_control() || is_special_space(c)) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    !is_yaml11_special(s)
}

/// Strings that some YAML reader resolves to something other than a string.
fn is_yaml11_special(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
        "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "=", "<<",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    // Everything below starts with a digit, a sign or a dot: most strings do not,
    // and this runs for every string emitted.
    if !s.as_bytes().first().is_some_and(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.')) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if unsigned == ".inf" || unsigned == ".nan" {
        return true;
    }
    // Numbers in any base (0x, 0o, 0b, leading-zero octal), with underscores,
    // exponents or sexagesimal colons: anything that starts like a number and
    // is made only of number characters.
    let b = s.as_bytes();
    let starts_numeric = b[0].is_ascii_digit()
        || (matches!(b[0], b'+' | b'-' | b'.') && b.get(1).is_some_and(|c| c.is_ascii_digit() || *c == b'.'));
    if starts_numeric {
        let body = unsigned.as_bytes();
        let prefixed = body.len() > 2 && body[0] == b'0' && matches!(body[1], b'x' | b'o' | b'b');
        if prefixed && body[2..].iter().all(|c| c.is_ascii_hexdigit() || *c == b'_') {
            return true;
        }
        if s.bytes().all(|c| c.is_ascii_digit() || b"_+-.:eE".contains(&c)) {
            return true;
        }
    }
    // Timestamps such as 2024-01-01T10:00:00Z or 2024-01-01 10:00:00.
    b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml11_ambiguous_strings_are_quoted() {
        let v = json!({"data": {
            "a": "on", "b": "y", "c": "012", "d": "1e3", "e": "null", "f": "~", "g": "2024-01-01",
            "h": "1_000", "i": "yes", "j": "0x1F", "k": "1:20", "l": ".inf", "m": "", "neg": "-1",
            "on": "key too", "o": "2024-01-01T10:00:00Z", "p": "+1", "q": "1.5"
        }});
        let text = to_string(&v);
        for (k, expect) in [
            ("a", "'on'"),
            ("b", "'y'"),
            ("c", "'012'"),
            ("d", "'1e3'"),
            ("e", "'null'"),
            ("f", "'~'"),
            ("g", "'2024-01-01'"),
            ("h", "'1_000'"),
            ("i", "'yes'"),
            ("j", "'0x1F'"),
            ("k", "'1:20'"),
            ("l", "'.inf'"),
            ("m", "''"),
            ("neg", "'-1'"),
            ("o", "'2024-01-01T10:00:00Z'"),
            ("p", "'+1'"),
            ("q", "'1.5'"),
        ] {
            assert!(text.contains(&format!("  {k}: {expect}\n")), "{k}: {text}");
        }
        assert!(text.contains("  'on': key too\n"), "{text}");
        // And it reads back as the same strings.
        assert_eq!(parse_one(&text).unwrap(), v);
    }

    #[test]
    fn ordinary_strings_stay_plain() {
        let v = json!({"sha": "681b31bfc3fd581e907e", "image": "nginx:1.25.3", "url": "http://x:80/a#b", "args": ["--port=8080", "-v"], "name": "web-1", "k": ".dockerconfigjson", "v": "v1.2.3"});
        assert_eq!(
            to_string(&v),
            "sha: 681b31bfc3fd581e907e\nimage: nginx:1.25.3\nurl: http://x:80/a#b\nargs:\n  - --port=8080\n  - -v\nname: web-1\nk: .dockerconfigjson\nv: v1.2.3\n"
        );
    }

    #[test]
    fn nested_structures_and_blocks_round_trip() {
        let v = json!({
            "spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80}], "env": []}, {"name": "b", "x": {}}],
                     "matrix": [[1, 2], [3]], "nothing": null, "f": 1.5, "t": true},
            "conf": "line one\n  indented\n\nlast\n",
            "nonl": "a\nb",
            "keep": "a\n\n\n",
            "lead": "  starts with spaces\nsecond\n",
            "tricky": "it's \"quoted\"\ttab\r\n",
        });
        let text = to_string(&v);
        assert_eq!(parse_one(&text).unwrap(), v, "{text}");
        assert!(text.contains("conf: |\n  line one\n    indented\n\n  last\n"), "{text}");
        assert!(text.contains("nonl: |-\n  a\n  b\n"), "{text}");
        assert!(text.contains("- name: a\n      ports:\n        - containerPort: 80\n"), "{text}");
    }

    #[test]
    fn parse_errors_carry_positions() {
        let e = parse_documents("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(e.line.is_some(), "{e:?}");
        let e = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert!(e.message.contains("duplicate key `a`"), "{e:?}");
        assert_eq!(e.line, Some(2), "{e:?}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse_documents(&text).unwrap_err();
        assert!(e.message.contains("repetition limit") || e.message.contains("alias"), "{e:?}");
    }

    #[test]
    fn empty_documents_are_null() {
        let docs = parse_documents("---\n# only a comment\n---\na: 1\n---\n").unwrap();
        assert_eq!(docs.iter().filter(|d| !d.is_null()).count(), 1);
    }
}
