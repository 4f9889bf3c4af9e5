//! Kubernetes' format library (`format.named`, `format.dns1123Label()` and the other named
//! formats, `validate`, with the apimachinery validation messages) and regex library
//! (`find`, `findAll`).

use std::sync::Arc;

use cel::objects::Opaque;
use cel::{ExecutionError, Value};
use regex::Regex;

use super::{Handler, error, no_overload, optional, text};

/// One named format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format(&'static str);

impl Opaque for Format {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.NamedFormat"
    }
}

const NAMES: &[&str] = &[
    "dns1123Label",
    "dns1123Subdomain",
    "dns1035Label",
    "qualifiedName",
    "dns1123LabelPrefix",
    "dns1123SubdomainPrefix",
    "dns1035LabelPrefix",
    "labelValue",
    "uri",
    "uuid",
    "byte",
    "date",
    "datetime",
];

pub const FUNCTIONS: &[(&str, Handler)] = &[
    ("format.named", named),
    ("format.dns1123Label", |t, a| constant("dns1123Label", t, a)),
    ("format.dns1123Subdomain", |t, a| constant("dns1123Subdomain", t, a)),
    ("format.dns1035Label", |t, a| constant("dns1035Label", t, a)),
    ("format.qualifiedName", |t, a| constant("qualifiedName", t, a)),
    ("format.dns1123LabelPrefix", |t, a| constant("dns1123LabelPrefix", t, a)),
    ("format.dns1123SubdomainPrefix", |t, a| constant("dns1123SubdomainPrefix", t, a)),
    ("format.dns1035LabelPrefix", |t, a| constant("dns1035LabelPrefix", t, a)),
    ("format.labelValue", |t, a| constant("labelValue", t, a)),
    ("format.uri", |t, a| constant("uri", t, a)),
    ("format.uuid", |t, a| constant("uuid", t, a)),
    ("format.byte", |t, a| constant("byte", t, a)),
    ("format.date", |t, a| constant("date", t, a)),
    ("format.datetime", |t, a| constant("datetime", t, a)),
    ("validate", validate),
    ("find", find),
    ("findAll", find_all),
];

fn named(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this, args) {
        (None, [Value::String(s)]) => {
            Ok(optional(NAMES.iter().find(|n| **n == s.as_str()).map(|n| Value::Opaque(Arc::new(Format(n))))))
        }
        _ => Err(no_overload("format.named", this, args)),
    }
}

fn constant(name: &'static str, this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    if this.is_some() || !args.is_empty() {
        return Err(no_overload(name, this, args));
    }
    Ok(Value::Opaque(Arc::new(Format(name))))
}

fn validate(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let f = match this {
        Some(Value::Opaque(o)) => o.downcast_ref::<Format>().copied(),
        _ => None,
    };
    match (f, args) {
        (Some(f), [Value::String(s)]) => {
            let errs = problems(f.0, s);
            Ok(optional((!errs.is_empty()).then(|| Value::List(Arc::new(errs.into_iter().map(text).collect())))))
        }
        _ => Err(no_overload("validate", this, args)),
    }
}

/// apimachinery's `RegexError`: the message, the examples, the pattern.
fn regex_error(msg: &str, pattern: &str, examples: &[&str]) -> String {
    let mut out = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push_str(&format!("'{e}', "));
    }
    out.push_str(&format!("regex used for validation is '{pattern}')"));
    out
}

const LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const SUBDOMAIN: &str = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1035: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const LABEL_VALUE: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const QUALIFIED: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

fn full(pattern: &str, s: &str) -> bool {
    Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|r| r.is_match(s))
}

fn max_len(s: &str, n: usize, out: &mut Vec<String>) {
    if s.len() > n {
        out.push(format!("must be no more than {n} characters"));
    }
}

fn dns1123_label(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    max_len(s, 63, &mut out);
    if !full(LABEL, s) {
        let msg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
        out.push(regex_error(msg, LABEL, &["my-name", "123-abc"]));
    }
    out
}

fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    max_len(s, 253, &mut out);
    if !full(SUBDOMAIN, s) {
        let msg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
        out.push(regex_error(msg, SUBDOMAIN, &["example.com"]));
    }
    out
}

fn dns1035_label(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    max_len(s, 63, &mut out);
    if !full(DNS1035, s) {
        let msg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
        out.push(regex_error(msg, DNS1035, &["my-name", "abc-123"]));
    }
    out
}

fn label_value(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    max_len(s, 63, &mut out);
    if !full(LABEL_VALUE, s) {
        let msg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
        out.push(regex_error(msg, LABEL_VALUE, &["MyValue", "my_value", "12345"]));
    }
    out
}

/// apimachinery's `IsQualifiedName`.
fn qualified_name(s: &str) -> Vec<String> {
    let parts: Vec<&str> = s.split('/').collect();
    let (prefix, name) = match parts.as_slice() {
        [n] => (None, *n),
        [p, n] => (Some(*p), *n),
        _ => {
            let msg = "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
            return vec![
                regex_error(msg, QUALIFIED, &["MyName", "my.name", "123-abc"])
                    + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
            ];
        }
    };
    let mut out = Vec::new();
    match prefix {
        Some("") => out.push("prefix part must be non-empty".to_string()),
        Some(p) => out.extend(dns1123_subdomain(p).into_iter().map(|m| format!("prefix part {m}"))),
        None => {}
    }
    if name.is_empty() {
        out.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        out.push("name part must be no more than 63 characters".to_string());
    }
    if !full(QUALIFIED, name) {
        let msg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
        out.push(regex_error(msg, QUALIFIED, &["MyName", "my.name", "123-abc"]));
    }
    out
}

fn problems(format: &str, s: &str) -> Vec<String> {
    // The prefix formats allow a trailing dash (a `generateName`).
    let prefix = |s: &str| -> String {
        if s.len() > 1 && s.ends_with('-') { s[..s.len() - 1].to_string() + "a" } else { s.to_string() }
    };
    match format {
        "dns1123Label" => dns1123_label(s),
        "dns1123Subdomain" => dns1123_subdomain(s),
        "dns1035Label" => dns1035_label(s),
        "qualifiedName" => qualified_name(s),
        "dns1123LabelPrefix" => dns1123_label(&prefix(s)),
        "dns1123SubdomainPrefix" => dns1123_subdomain(&prefix(s)),
        "dns1035LabelPrefix" => dns1035_label(&prefix(s)),
        "labelValue" => label_value(s),
        "uri" => match super::url::parse(s) {
            Some(_) => Vec::new(),
            None => vec!["invalid URI".to_string()],
        },
        "uuid" => (!full("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", s))
            .then(|| "does not match the UUID format".to_string())
            .into_iter()
            .collect(),
        "byte" => {
            use base64::Engine;
            let ok = base64::engine::general_purpose::STANDARD.decode(s).is_ok();
            (!ok).then(|| "invalid base64".to_string()).into_iter().collect()
        }
        "date" => {
            let ok = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok();
            (!ok).then(|| "invalid date".to_string()).into_iter().collect()
        }
        _ => {
            let ok = chrono::DateTime::parse_from_rfc3339(s).is_ok();
            (!ok).then(|| "invalid datetime".to_string()).into_iter().collect()
        }
    }
}

fn compiled(name: &str, pattern: &str) -> Result<std::rc::Rc<Regex>, ExecutionError> {
    super::pattern::compiled(pattern).map_err(|e| error(name, format!("error parsing regexp: {e}")))
}

fn find(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this, args) {
        (Some(Value::String(s)), [Value::String(p)]) => {
            Ok(text(compiled("find", p)?.find(s).map_or("", |m| m.as_str())))
        }
        _ => Err(no_overload("find", this, args)),
    }
}

fn find_all(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let (s, p, limit) = match (this, args) {
        (Some(Value::String(s)), [Value::String(p)]) => (s, p, -1),
        (Some(Value::String(s)), [Value::String(p), Value::Int(n)]) => (s, p, *n),
        _ => return Err(no_overload("findAll", this, args)),
    };
    let re = compiled("findAll", p)?;
    let take = if limit < 0 { usize::MAX } else { limit as usize };
    let found: Vec<Value> = re.find_iter(s).take(take).map(|m| text(m.as_str())).collect();
    Ok(Value::List(Arc::new(found)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_format_messages() {
        assert!(problems("dns1123Label", "my-name").is_empty());
        let e = problems("dns1123Label", "My_Name");
        assert_eq!(e.len(), 1);
        assert!(
            e[0].ends_with(
                "(e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            ),
            "{}",
            e[0]
        );
        assert_eq!(problems("dns1123LabelPrefix", "web-"), Vec::<String>::new());
        assert!(problems("qualifiedName", "example.com/My.Name").is_empty());
        assert_eq!(problems("labelValue", &"a".repeat(64))[0], "must be no more than 63 characters");
    }
}
