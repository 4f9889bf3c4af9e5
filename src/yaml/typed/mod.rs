//! Typed configuration files: YAML text read into a serde type, every problem
//! positioned.
//!
//! In: the text of a configuration file (`strata.yaml`, `component.yaml`,
//! `kustomization.yaml`), its repository-relative path and a type `T`. Out: the
//! `T`, or one diagnostic per problem, each naming the file, line and column of the
//! key at fault. Invariants: every mapping read into a struct is checked for
//! unknown fields, with a "did you mean" hint from the edit distance to the fields
//! the struct knows, so a typo is never a setting silently ignored; an empty file
//! is `T::default()`; when the file does not read, each top-level field is read
//! alone, so that every field at fault is reported, not only the first.
//!
//! The text is parsed once by [`super::parse`]; `T` is then read from the parsed
//! value by [`ValueReader`], a serde `Deserializer` that knows the key path of
//! every value it hands out, so that errors find their line through
//! [`super::locate`].
//!
//! With [`TypedOptions::any_case`], a field written in another letter case than the
//! struct's (`patchesJSON6902` for `patchesJson6902`) is read as that field, as Go's
//! `encoding/json` reads kustomize's file, and reported ([`Respelled`]) so the caller
//! can warn; a name matching no field in any case is still an unknown field.

use std::cell::RefCell;
use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde_json::{Map, Value};

use super::{locate, parse_file};
use crate::diag::Diagnostic;

/// How messages about one kind of file describe it.
#[derive(Debug, Clone, Copy, Default)]
pub struct TypedOptions<'a> {
    /// What to call nested mappings, by the name serde gives the type that reads
    /// them: `("PatchTarget", "a patch `target`")`. Others are called by their key
    /// path (`environments.eastus`), top-level fields by the file's name.
    pub names: &'a [(&'a str, &'a str)],
    /// Top-level fields another tool reads and strata does not, each with what to
    /// do instead.
    pub foreign: &'a [(&'a str, &'a str)],
    /// That tool's name, for the message: "kustomize field `vars` is not supported".
    pub foreign_tool: &'a str,
    /// Field names match whatever their letter case ([`Respelled`]).
    pub any_case: bool,
}

/// A field written in another letter case than its name, read as that field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Respelled {
    /// The key path as written in the file.
    pub path: Vec<String>,
    /// The field's name.
    pub name: &'static str,
}

impl Respelled {
    /// The warning for this field in the file at `path` with text `text`.
    pub fn warning(&self, path: &str, text: &str) -> Diagnostic {
        let written = self.path.last().map(String::as_str).unwrap_or("");
        let (line, col) = locate(text, &self.path).unwrap_or((1, 1));
        Diagnostic::warning(format!("`{}` is spelt `{}`; read as `{}`", field_name(&self.path), self.name, self.name))
            .at(path.to_string())
            .with_source_line(text, line, col, written.chars().count(), "")
            .hint(format!("field names are matched ignoring letter case, as kustomize does; write `{}`", self.name))
    }

    /// `key_path` (field names) as written in the file, given what was respelled.
    pub fn as_written(respelled: &[Respelled], key_path: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(key_path.len());
        for seg in key_path {
            let written = respelled
                .iter()
                .find(|r| r.name == seg && r.path.len() == out.len() + 1 && r.path[..out.len()] == out[..])
                .and_then(|r| r.path.last().cloned());
            out.push(written.unwrap_or_else(|| seg.clone()));
        }
        out
    }
}

/// Reads the YAML `text` of the file at `path` into a `T`.
pub fn read<T: DeserializeOwned + Default>(
    text: &str,
    path: &str,
    options: &TypedOptions<'_>,
) -> Result<T, Vec<Diagnostic>> {
    read_respelled(text, path, options).map(|(t, _)| t)
}

/// [`read`], and the fields written in another letter case ([`TypedOptions::any_case`]).
pub fn read_respelled<T: DeserializeOwned + Default>(
    text: &str,
    path: &str,
    options: &TypedOptions<'_>,
) -> Result<(T, Vec<Respelled>), Vec<Diagnostic>> {
    let value = parse_file(text, path).map_err(|d| vec![d])?;
    if value.is_null() {
        return Ok((T::default(), Vec::new()));
    }
    let cx = ReadContext { any_case: options.any_case, respelled: RefCell::new(Vec::new()) };
    let first = match T::deserialize(ValueReader::new(&value, &cx)) {
        Ok(t) => return Ok((t, cx.respelled.into_inner())),
        Err(e) => e,
    };
    let file = FileText { path, text, options };
    let mut errors = Vec::new();
    if let Value::Object(top) = &value {
        for (key, v) in top {
            let alone = Value::Object(Map::from_iter([(key.clone(), v.clone())]));
            match T::deserialize(ValueReader::new(&alone, &cx)) {
                // Other required fields are missing when a field is read alone.
                Err(e) if !(e.path.as_deref() == Some(&[]) && matches!(e.problem, Problem::MissingField(_))) => {
                    errors.push(e)
                }
                _ => {}
            }
        }
    }
    if errors.is_empty() {
        errors.push(first);
    }
    Err(errors.into_iter().map(|e| file.diagnostic(e)).collect())
}

/// "did you mean `x`?" for a misspelt `word`, when one of `known` is close enough.
pub fn did_you_mean(word: &str, known: &[&str]) -> Option<String> {
    known
        .iter()
        .filter(|k| edit_distance(k, word) <= 2.max(word.len() / 4))
        .min_by_key(|k| edit_distance(k, word))
        .map(|best| format!("did you mean `{best}`?"))
}

/// Levenshtein distance, ignoring case.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A key path as messages write it: `patches[0].target`.
pub fn field_name(path: &[String]) -> String {
    let mut out = String::new();
    for seg in path {
        if seg.parse::<usize>().is_ok() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// The file being read, to turn [`FieldError`]s into diagnostics.
struct FileText<'a> {
    path: &'a str,
    text: &'a str,
    options: &'a TypedOptions<'a>,
}

impl FileText<'_> {
    fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }

    fn diagnostic(&self, e: FieldError) -> Diagnostic {
        let at = e.path.unwrap_or_default();
        let (line, col) = locate(self.text, &at).unwrap_or((1, 1));
        let len = match at.last() {
            Some(k) if k.parse::<usize>().is_err() => k.chars().count(),
            _ => 1,
        };
        let (message, hint) = self.words(&at, e.problem);
        let d = Diagnostic::error(message).at(self.path.to_string()).with_source_line(self.text, line, col, len, "");
        match hint {
            Some(h) => d.hint(h),
            None => d,
        }
    }

    /// The message and hint of a problem at key path `at`.
    fn words(&self, at: &[String], problem: Problem) -> (String, Option<String>) {
        let field = field_name(at);
        match problem {
            Problem::UnknownField { field: name, known, within } => {
                let same = |f: &str| f == name || (self.options.any_case && f.eq_ignore_ascii_case(&name));
                if at.len() == 1
                    && let Some((_, instead)) = self.options.foreign.iter().find(|(f, _)| same(f))
                {
                    let tool = self.options.foreign_tool;
                    return (format!("{tool} field `{name}` is not supported by strata"), Some(instead.to_string()));
                }
                let place = match self.options.names.iter().find(|(n, _)| *n == within) {
                    Some((_, description)) => description.to_string(),
                    None if at.len() == 1 => self.file_name().to_string(),
                    None => format!("`{}`", field_name(&at[..at.len() - 1])),
                };
                let hint = did_you_mean(&name, known).unwrap_or_else(|| {
                    format!("the fields are: {}", known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "))
                });
                (format!("unknown field `{name}` in {place}"), Some(hint))
            }
            Problem::WrongType { expected: Expected::Mapping, .. } if at.is_empty() => {
                (format!("{} must be a mapping of fields", self.file_name()), None)
            }
            Problem::WrongType { expected: Expected::String, found: found @ (Value::Number(_) | Value::Bool(_)) } => {
                (format!("`{field}` must be a string, found `{found}`"), Some(format!("quote the value: \"{found}\"")))
            }
            Problem::WrongType { expected, .. } => (format!("`{field}` must be {expected}"), None),
            Problem::MissingField(name) if at.is_empty() => (format!("{} needs a `{name}`", self.file_name()), None),
            Problem::MissingField(name) => (format!("`{field}` needs a `{name}`"), None),
            Problem::Other(message) if at.is_empty() => (format!("invalid {}: {message}", self.file_name()), None),
            Problem::Other(message) => (format!("invalid `{field}`: {message}"), None),
        }
    }
}

/// What went wrong reading one value, and where.
#[derive(Debug)]
pub struct FieldError {
    /// The key path of the value, once known (errors raised by serde's visitors
    /// learn it on their way out of the reader).
    path: Option<Vec<String>>,
    problem: Problem,
}

#[derive(Debug)]
enum Problem {
    UnknownField { field: String, known: &'static [&'static str], within: &'static str },
    WrongType { expected: Expected, found: Value },
    MissingField(&'static str),
    Other(String),
}

/// The kinds of value a field can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    String,
    Bool,
    Integer,
    /// A whole number, 0 or more.
    Count,
    Number,
    List,
    Mapping,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expected::String => "a string",
            Expected::Bool => "`true` or `false`",
            Expected::Integer => "a whole number",
            Expected::Count => "a whole number (0 or more)",
            Expected::Number => "a number",
            Expected::List => "a list",
            Expected::Mapping => "a mapping",
        })
    }
}

impl FieldError {
    fn new(problem: Problem) -> FieldError {
        FieldError { path: None, problem }
    }

    /// Places an error that does not know its path yet at `path`.
    fn or_at(mut self, path: &[String]) -> FieldError {
        self.path.get_or_insert_with(|| path.to_vec());
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = field_name(self.path.as_deref().unwrap_or_default());
        match &self.problem {
            Problem::UnknownField { field, .. } => write!(f, "unknown field `{field}` at `{at}`"),
            Problem::WrongType { expected, .. } => write!(f, "`{at}` must be {expected}"),
            Problem::MissingField(name) => write!(f, "`{at}` needs a `{name}`"),
            Problem::Other(message) => write!(f, "`{at}`: {message}"),
        }
    }
}

impl std::error::Error for FieldError {}

impl de::Error for FieldError {
    fn custom<M: fmt::Display>(message: M) -> FieldError {
        FieldError::new(Problem::Other(message.to_string()))
    }

    fn missing_field(field: &'static str) -> FieldError {
        FieldError::new(Problem::MissingField(field))
    }
}

/// What every reader of one file shares: whether names match in any case, and the
/// fields read that way.
struct ReadContext {
    any_case: bool,
    respelled: RefCell<Vec<Respelled>>,
}

/// A serde `Deserializer` over a parsed value that knows the value's key path.
/// Structs are read with unknown fields rejected whatever their serde attributes.
struct ValueReader<'v> {
    value: &'v Value,
    path: Vec<String>,
    cx: &'v ReadContext,
}

impl<'v> ValueReader<'v> {
    fn new(value: &'v Value, cx: &'v ReadContext) -> ValueReader<'v> {
        ValueReader { value, path: Vec::new(), cx }
    }

    fn wrong_type(&self, expected: Expected) -> FieldError {
        let found = match self.value {
            Value::Array(_) | Value::Object(_) => Value::Null,
            scalar => scalar.clone(),
        };
        FieldError { path: Some(self.path.clone()), problem: Problem::WrongType { expected, found } }
    }

    fn map(&self, fields: Option<(&'static str, &'static [&'static str])>) -> Option<MapReader<'v>> {
        let Value::Object(m) = self.value else { return None };
        Some(MapReader { entries: m.iter(), value: None, path: self.path.clone(), fields, cx: self.cx })
    }

    fn seq(&self) -> Option<SeqReader<'v>> {
        let Value::Array(items) = self.value else { return None };
        Some(SeqReader { items: items.iter().enumerate(), path: self.path.clone(), cx: self.cx })
    }

    fn integer<'de, V: Visitor<'de>>(self, visitor: V, expected: Expected) -> Result<V::Value, FieldError> {
        match self.value {
            Value::Number(n) if n.is_u64() => visitor.visit_u64(n.as_u64().unwrap_or_default()),
            Value::Number(n) if n.is_i64() && expected == Expected::Integer => {
                visitor.visit_i64(n.as_i64().unwrap_or_default())
            }
            _ => Err(self.wrong_type(expected)),
        }
        .map_err(|e: FieldError| e.or_at(&self.path))
    }
}

/// Integer widths all read the same way (serde's visitors check the range).
macro_rules! read_integer {
    ($expected:expr => $($method:ident)*) => {
        $(fn $method<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
            self.integer(visitor, $expected)
        })*
    };
}

impl<'v> de::Deserializer<'v> for ValueReader<'v> {
    type Error = FieldError;

    read_integer!(Expected::Integer => deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128);
    read_integer!(Expected::Count => deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128);

    fn deserialize_any<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) if n.is_u64() => visitor.visit_u64(n.as_u64().unwrap_or_default()),
            Value::Number(n) if n.is_i64() => visitor.visit_i64(n.as_i64().unwrap_or_default()),
            Value::Number(n) => visitor.visit_f64(n.as_f64().unwrap_or_default()),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(_) => visitor.visit_seq(self.seq().expect("an array")),
            Value::Object(_) => visitor.visit_map(self.map(None).expect("an object")),
        }
        .map_err(|e: FieldError| e.or_at(&self.path))
    }

    fn deserialize_bool<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(*b).map_err(|e: FieldError| e.or_at(&self.path)),
            _ => Err(self.wrong_type(Expected::Bool)),
        }
    }

    fn deserialize_f32<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        match self.value {
            Value::Number(n) => {
                visitor.visit_f64(n.as_f64().unwrap_or_default()).map_err(|e: FieldError| e.or_at(&self.path))
            }
            _ => Err(self.wrong_type(Expected::Number)),
        }
    }

    fn deserialize_str<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        match self.value {
            Value::String(s) => visitor.visit_borrowed_str(s).map_err(|e: FieldError| e.or_at(&self.path)),
            _ => Err(self.wrong_type(Expected::String)),
        }
    }

    fn deserialize_char<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_string<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        let path = self.path.clone();
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e: FieldError| e.or_at(&path))
    }

    fn deserialize_newtype_struct<V: Visitor<'v>>(self, _: &'static str, visitor: V) -> Result<V::Value, FieldError> {
        let path = self.path.clone();
        visitor.visit_newtype_struct(self).map_err(|e: FieldError| e.or_at(&path))
    }

    fn deserialize_seq<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        match self.seq() {
            Some(items) => visitor.visit_seq(items).map_err(|e: FieldError| e.or_at(&self.path)),
            None => Err(self.wrong_type(Expected::List)),
        }
    }

    fn deserialize_tuple<V: Visitor<'v>>(self, _: usize, visitor: V) -> Result<V::Value, FieldError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'v>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        match self.map(None) {
            Some(entries) => visitor.visit_map(entries).map_err(|e: FieldError| e.or_at(&self.path)),
            None => Err(self.wrong_type(Expected::Mapping)),
        }
    }

    fn deserialize_struct<V: Visitor<'v>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        match self.map(Some((name, fields))) {
            Some(entries) => visitor.visit_map(entries).map_err(|e: FieldError| e.or_at(&self.path)),
            None => Err(self.wrong_type(Expected::Mapping)),
        }
    }

    fn deserialize_enum<V: Visitor<'v>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        match self.value {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Object(m) if m.len() == 1 => {
                visitor.visit_enum(MapAccessDeserializer::new(self.map(None).expect("an object")))
            }
            _ => return Err(self.wrong_type(Expected::String)),
        }
        .map_err(|e: FieldError| e.or_at(&self.path))
    }

    fn deserialize_bytes<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_unit<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'v>>(self, _: &'static str, visitor: V) -> Result<V::Value, FieldError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_unit()
    }
}

/// The entries of a mapping; for a struct, `fields` are the names it knows.
struct MapReader<'v> {
    entries: serde_json::map::Iter<'v>,
    /// The value of the key just read, and its path.
    value: Option<(&'v Value, Vec<String>)>,
    path: Vec<String>,
    fields: Option<(&'static str, &'static [&'static str])>,
    cx: &'v ReadContext,
}

impl<'v> de::MapAccess<'v> for MapReader<'v> {
    type Error = FieldError;

    fn next_key_seed<K: de::DeserializeSeed<'v>>(&mut self, seed: K) -> Result<Option<K::Value>, FieldError> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        let mut path = self.path.clone();
        path.push(key.clone());
        let mut name = key.as_str();
        if let Some((within, known)) = self.fields
            && !known.contains(&name)
        {
            let Some(field) = known.iter().find(|k| self.cx.any_case && k.eq_ignore_ascii_case(name)) else {
                let problem = Problem::UnknownField { field: key.clone(), known, within };
                return Err(FieldError { path: Some(path), problem });
            };
            self.cx.respelled.borrow_mut().push(Respelled { path: path.clone(), name: field });
            name = field;
        }
        let key = seed
            .deserialize(BorrowedStrDeserializer::<FieldError>::new(name))
            .map_err(|e: FieldError| e.or_at(&path))?;
        self.value = Some((value, path));
        Ok(Some(key))
    }

    fn next_value_seed<S: de::DeserializeSeed<'v>>(&mut self, seed: S) -> Result<S::Value, FieldError> {
        let (value, path) = self.value.take().expect("serde reads a key before its value");
        seed.deserialize(ValueReader { value, path, cx: self.cx })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// The items of a list.
struct SeqReader<'v> {
    items: std::iter::Enumerate<std::slice::Iter<'v, Value>>,
    path: Vec<String>,
    cx: &'v ReadContext,
}

impl<'v> de::SeqAccess<'v> for SeqReader<'v> {
    type Error = FieldError;

    fn next_element_seed<S: de::DeserializeSeed<'v>>(&mut self, seed: S) -> Result<Option<S::Value>, FieldError> {
        let Some((i, value)) = self.items.next() else { return Ok(None) };
        let mut path = self.path.clone();
        path.push(i.to_string());
        seed.deserialize(ValueReader { value, path, cx: self.cx }).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

#[cfg(test)]
mod tests;
