//! `values.schema.json`: a version's values schema, compiled once, with its
//! `$ref`s read through [`Fs`].
//!
//! In: the schema's repository-relative path and its parsed JSON. Out: a
//! [`ValuesSchema`] that validates merged values. Invariant: nothing outside the
//! repository is read. A relative reference (`definitions.json#/$defs/port`)
//! resolves against the schema's own directory and is read through the same
//! confined [`Fs`] as every other file; absolute `file:` references, network
//! references (`http:`, `https:`), any other scheme, absolute paths and `../`
//! paths that leave the repository are refused before anything is read, with
//! an error naming the schema file and the reference. Referenced files are
//! JSON, like the schema.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::diag::{Diagnostic, Error};
use crate::source::{self, Fs};

/// The file name of a version's values schema.
pub const SCHEMA_FILE: &str = "values.schema.json";

/// The base URI schemas are compiled under: `strata:///api/v2/values.schema.json`.
/// The retriever reads only this scheme, so a `$id` that moves the base elsewhere
/// (`file:///etc/`) cannot lead a reference outside the repository either.
const SCHEME: &str = "strata";

/// A compiled `values.schema.json`.
pub struct ValuesSchema {
    /// Repository-relative path of the schema file.
    pub path: String,
    pub(crate) validator: jsonschema::Validator,
}

impl fmt::Debug for ValuesSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValuesSchema").field("path", &self.path).finish_non_exhaustive()
    }
}

impl ValuesSchema {
    /// Reads and compiles `version_dir/values.schema.json`, when there is one.
    pub fn load(fs: &Fs, version_dir: &str) -> Result<Option<ValuesSchema>, Error> {
        let path = source::join(version_dir, SCHEMA_FILE);
        let Some(text) = fs.read_optional(&path)? else { return Ok(None) };
        let schema = parse_json(&text, &path, "values schema")?;
        Ok(Some(ValuesSchema::compile(fs, &path, &schema, Some(&text))?))
    }

    /// Compiles `schema` (read from `path`, whose `text` is shown in errors when
    /// given), resolving `$ref`s through `fs`.
    pub fn compile(fs: &Fs, path: &str, schema: &Value, text: Option<&str>) -> Result<ValuesSchema, Diagnostic> {
        let dir = source::parent(path);
        let mut refs = Vec::new();
        collect_refs(schema, &mut refs);
        for reference in refs {
            if let Err(why) = check_reference(reference, dir) {
                return Err(refused(path, text, reference, &why));
            }
        }
        let validator = jsonschema::options()
            .with_base_uri(format!("{SCHEME}:///{}", encode_path(path)))
            .with_retriever(FsRetriever { fs: fs.clone() })
            .build(schema)
            .map_err(|e| {
                Diagnostic::error(format!("invalid JSON Schema: {}", strip_base(&e.to_string())))
                    .at(path.to_string())
                    .hint("relative `$ref`s name JSON files inside the repository, relative to the schema")
            })?;
        Ok(ValuesSchema { path: path.to_string(), validator })
    }
}

/// Parses a JSON file, naming it and pointing at the error.
fn parse_json(text: &str, path: &str, what: &str) -> Result<Value, Diagnostic> {
    serde_json::from_str(text).map_err(|e| {
        Diagnostic::error(format!("invalid JSON in {what}: {e}")).at(path.to_string()).with_source_line(
            text,
            e.line(),
            e.column(),
            1,
            "",
        )
    })
}

/// The error for a reference that is not followed, at the reference in `text`.
fn refused(path: &str, text: Option<&str>, reference: &str, why: &str) -> Diagnostic {
    let d = Diagnostic::error(format!("`$ref` `{reference}` in `{path}` {why}")).at(path.to_string());
    let written = serde_json::to_string(reference).unwrap_or_default();
    let d = match text.and_then(|t| Some((t, t.find(&written)?))) {
        Some((t, offset)) => {
            let line = t[..offset].matches('\n').count() + 1;
            let col = t[..offset].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            d.with_source_line(t, line, col, written.chars().count(), "not followed")
        }
        None => d,
    };
    d.note("strata reads nothing outside the repository root, and nothing from the network")
        .hint("copy the referenced schema into the repository and refer to it by a relative path (`definitions.json#/$defs/name`)")
}

/// Every reference keyword's string in `schema`. Data keywords (`const`, `enum`,
/// `default`, `examples`) hold instances, not schemas, and are not searched.
fn collect_refs<'a>(schema: &'a Value, out: &mut Vec<&'a str>) {
    match schema {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref" | "$dynamicRef" | "$recursiveRef", Value::String(s)) => out.push(s),
                    ("const" | "enum" | "default" | "examples", _) => {}
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Why `reference`, written in a schema in `dir`, may not be followed; `Ok` when it
/// stays inside the repository.
fn check_reference(reference: &str, dir: &str) -> Result<(), String> {
    let location = reference.split('#').next().unwrap_or("");
    if location.is_empty() {
        return Ok(()); // `#/$defs/x`: inside this schema
    }
    if let Some(scheme) = scheme_of(location) {
        return Err(match scheme.to_ascii_lowercase().as_str() {
            "file" => "is an absolute `file:` reference".to_string(),
            "http" | "https" => "is a network reference; strata does not fetch schemas".to_string(),
            other => format!("uses the `{other}:` scheme; only relative references are followed"),
        });
    }
    let location = percent_decode(location.split('?').next().unwrap_or(""));
    if location.starts_with(['/', '\\']) {
        return Err("is an absolute path; write it relative to the schema".to_string());
    }
    let mut depth: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for seg in location.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                if depth.pop().is_none() {
                    return Err("leaves the repository".to_string());
                }
            }
            s => depth.push(s),
        }
    }
    Ok(())
}

/// The scheme of an absolute URI (`file` in `file:///x`), per RFC 3986.
fn scheme_of(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .then_some(scheme)
}

fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Percent-encodes what a URI path may not hold as is (spaces, `%`, `#`, `?`).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '.' | '_' | '~' | '/' => out.push(c),
            c => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

/// Turns `strata:///api/v2/x.json` back into the repository path in messages.
fn strip_base(message: &str) -> String {
    message.replace(&format!("{SCHEME}:///"), "")
}

/// Reads referenced schemas through the repository's [`Fs`], and nothing else.
struct FsRetriever {
    fs: Fs,
}

impl jsonschema::Retrieve for FsRetriever {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        if !uri.scheme().as_str().eq_ignore_ascii_case(SCHEME)
            || uri.authority().is_some_and(|a| !a.as_str().is_empty())
        {
            return Err(format!("`{uri}` is outside the repository; only relative references are followed").into());
        }
        let path = percent_decode(uri.path().as_str().trim_start_matches('/')).into_owned();
        let text = match self.fs.read_optional(&path) {
            Ok(Some(text)) => text,
            Ok(None) => return Err(format!("`{path}` does not exist").into()),
            Err(d) => return Err(d.message.into()),
        };
        parse_json(&text, &path, "referenced schema").map_err(|d| {
            let at = d.pos.map(|p| format!(" (line {}, column {})", p.line, p.col)).unwrap_or_default();
            format!("{}{at}", d.message).into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;
    use serde_json::json;
    use std::sync::Arc;

    fn fs(entries: &[(&str, &str)]) -> Fs {
        Fs::new(Arc::new(MemorySource::from_entries(entries)))
    }

    #[test]
    fn relative_references_are_read_through_fs() {
        let f = fs(&[
            ("api/v2/definitions.json", r#"{"$defs": {"port": {"type": "integer", "maximum": 65535}}}"#),
            ("shared/common.json", r#"{"$defs": {"name": {"type": "string"}}}"#),
        ]);
        let schema = json!({"properties": {
            "port": {"$ref": "definitions.json#/$defs/port"},
            "name": {"$ref": "../../shared/common.json#/$defs/name"},
        }});
        let s = ValuesSchema::compile(&f, "api/v2/values.schema.json", &schema, None).unwrap();
        assert!(s.validator.is_valid(&json!({"port": 80, "name": "x"})));
        assert!(!s.validator.is_valid(&json!({"port": 70000})));
        assert!(!s.validator.is_valid(&json!({"name": 1})));
    }

    #[test]
    fn references_that_leave_the_repository_are_refused_before_reading() {
        let f = fs(&[]);
        let cases = [
            ("file:///etc/passwd.json", "absolute `file:` reference"),
            ("FILE:/etc/x.json#/a", "absolute `file:` reference"),
            ("https://example.com/s.json", "network reference"),
            ("http://169.254.169.254/latest", "network reference"),
            ("ftp://example.com/s.json", "`ftp:` scheme"),
            ("/etc/schema.json", "absolute path"),
            ("../../../outside.json", "leaves the repository"),
            ("a/../../../../outside.json", "leaves the repository"),
            ("%2e%2e/%2e%2e/%2e%2e/outside.json", "leaves the repository"),
        ];
        for (reference, why) in cases {
            let schema = json!({"properties": {"a": {"$ref": reference}}});
            let e = ValuesSchema::compile(&f, "api/v2/values.schema.json", &schema, None).unwrap_err();
            assert!(e.message.contains(why), "{reference}: {}", e.message);
            assert!(e.message.contains(reference), "{reference}: {}", e.message);
            assert_eq!(e.path.as_deref(), Some("api/v2/values.schema.json"));
        }
    }

    #[test]
    fn an_id_cannot_move_references_outside() {
        let f = fs(&[]);
        let schema = json!({"$id": "file:///etc/", "properties": {"a": {"$ref": "passwd.json"}}});
        let e = ValuesSchema::compile(&f, "v1/values.schema.json", &schema, None).unwrap_err();
        assert!(e.message.contains("outside the repository"), "{}", e.message);
    }

    #[test]
    fn missing_and_broken_references_name_the_file() {
        let f = fs(&[("v1/bad.json", "{\n  \"type\": \n}")]);
        let e = ValuesSchema::compile(&f, "v1/values.schema.json", &json!({"$ref": "nothere.json"}), None).unwrap_err();
        assert!(e.message.contains("`v1/nothere.json` does not exist"), "{}", e.message);
        let e = ValuesSchema::compile(&f, "v1/values.schema.json", &json!({"$ref": "bad.json"}), None).unwrap_err();
        assert!(e.message.contains("v1/bad.json") && e.message.contains("line 3"), "{}", e.message);
    }

    #[test]
    fn data_keywords_are_not_references() {
        let schema = json!({"default": {"$ref": "file:///x"}, "$defs": {"a": {"type": "string"}}, "$ref": "#/$defs/a"});
        assert!(ValuesSchema::compile(&fs(&[]), "v1/values.schema.json", &schema, None).is_ok());
    }
}
