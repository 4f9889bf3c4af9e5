//! Reading YAML text into `serde_json::Value`s.
//!
//! Block-style text (what templates render) goes through the fast [`super::block`]
//! reader; anything it declines goes through `yaml_serde` (the maintained
//! serde_yaml API), which also words the errors. Either way: insertion order kept,
//! duplicate keys, tags and non-finite numbers rejected, every error positioned.

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
    let (line, col) = (loc.as_ref().map(|l| l.line()), loc.as_ref().map(|l| l.column()));
    if message.starts_with("recursion limit exceeded") {
        // Block nesting, which the depth scan leaves to the deserializer: the same words.
        return YamlError { line, col, ..super::depth::too_deep(0, 0) };
    }
    YamlError { message, line, col }
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
    // libyaml's time grows with flow nesting times length: refuse deep nesting first.
    super::depth::check(text)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
