//! Helm's everyday functions, as minijinja filters and functions under their
//! Helm names: `Values.x | toYaml | nindent(4)`, `required("msg", Values.x)`.

use std::cell::Cell;

use base64::Engine as _;
use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, State};
use sha2::{Digest, Sha256};

use super::Limits;
use crate::yaml;

pub fn register(env: &mut Environment<'static>, limits: Limits) {
    let max_width = limits.indent_width;
    let max_depth = limits.tpl_depth;
    env.add_filter("toYaml", to_yaml);
    env.add_filter("toJson", to_json);
    env.add_filter("fromYaml", from_yaml);
    env.add_filter("fromJson", from_json);
    env.add_filter("indent", move |v: Value, width: usize| indent(v, width, max_width));
    env.add_filter("nindent", move |v: Value, width: usize| nindent(v, width, max_width));
    env.add_filter("quote", quote);
    env.add_filter("squote", squote);
    env.add_filter("b64enc", b64enc);
    env.add_filter("b64dec", b64dec);
    env.add_filter("sha256sum", sha256sum);
    env.add_filter("required", required_filter);
    env.add_function("required", required_function);
    env.add_filter("tpl", move |state: &State, template: String| tpl(state, template, max_depth));
    env.add_function("tpl", move |state: &State, template: String| tpl(state, template, max_depth));
    env.add_filter("trunc", trunc);
    env.add_filter("trimSuffix", trim_suffix);
    env.add_filter("trimPrefix", trim_prefix);
    env.add_filter("toString", to_str);
    env.add_filter("default", default);
    // `lower` and `upper` are minijinja's own, with Helm's meaning.
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Helm's `strval`: strings as they are, nothing as empty, the rest displayed.
fn strval(v: &Value) -> String {
    if v.is_none() || v.is_undefined() {
        String::new()
    } else if let Some(s) = v.as_str() {
        s.to_string()
    } else {
        v.to_string()
    }
}

fn to_json_value(v: &Value) -> Result<serde_json::Value, Error> {
    if v.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    serde_json::to_value(v).map_err(|e| invalid(format!("cannot convert to data: {e}")))
}

fn to_yaml(v: Value) -> Result<String, Error> {
    let data = to_json_value(&v)?;
    let mut s = yaml::to_string(&data);
    if s.ends_with('\n') {
        s.pop();
    }
    Ok(s)
}

fn to_json(v: Value) -> Result<String, Error> {
    let data = to_json_value(&v)?;
    serde_json::to_string(&data).map_err(|e| invalid(e.to_string()))
}

fn from_yaml(s: String) -> Result<Value, Error> {
    let v = yaml::parse_one(&s).map_err(|e| invalid(format!("fromYaml: {e}")))?;
    Ok(Value::from(minijinja::value::Serde(v)))
}

fn from_json(s: String) -> Result<Value, Error> {
    let v: serde_json::Value = serde_json::from_str(&s).map_err(|e| invalid(format!("fromJson: {e}")))?;
    Ok(Value::from(minijinja::value::Serde(v)))
}

/// Helm's `indent`: every line, the first included, gets `width` spaces (at most `max_width`).
fn indent(v: Value, width: usize, max_width: usize) -> Result<String, Error> {
    if width > max_width {
        return Err(invalid(format!("indent width above {max_width}")));
    }
    let pad = " ".repeat(width);
    let s = strval(&v);
    Ok(format!("{pad}{}", s.replace('\n', &format!("\n{pad}"))))
}

fn nindent(v: Value, width: usize, max_width: usize) -> Result<String, Error> {
    Ok(format!("\n{}", indent(v, width, max_width)?))
}

fn quote(v: Value) -> Result<String, Error> {
    let s = strval(&v);
    serde_json::to_string(&s).map_err(|e| invalid(e.to_string()))
}

fn squote(v: Value) -> String {
    format!("'{}'", strval(&v))
}

fn b64enc(v: Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(strval(&v))
}

fn b64dec(v: Value) -> Result<String, Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(strval(&v).trim())
        .map_err(|e| invalid(format!("b64dec: {e}")))?;
    String::from_utf8(bytes).map_err(|_| invalid("b64dec: the decoded bytes are not UTF-8 text"))
}

fn sha256sum(v: Value) -> String {
    let digest = Sha256::digest(strval(&v).as_bytes());
    hex(&digest)
}

pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

fn is_unset(v: &Value) -> bool {
    v.is_undefined() || v.is_none() || v.as_str() == Some("")
}

/// `Values.x | required("x is needed")`
fn required_filter(v: Value, msg: String) -> Result<Value, Error> {
    if is_unset(&v) { Err(invalid(format!("required value missing: {msg}"))) } else { Ok(v) }
}

/// `required("x is needed", Values.x)`, Helm's argument order.
fn required_function(msg: String, v: Value) -> Result<Value, Error> {
    required_filter(v, msg)
}

/// `default`: the fallback for undefined and null values (Jinja's rule, extended to null).
fn default(v: Value, other: Option<Value>) -> Value {
    if v.is_undefined() || v.is_none() { other.unwrap_or_else(|| Value::from("")) } else { v }
}

thread_local! {
    static TPL_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Helm's `tpl`: renders a string as a template with the current context, nested at
/// most `max_depth` deep.
fn tpl(state: &State, template: String, max_depth: usize) -> Result<String, Error> {
    let depth = TPL_DEPTH.with(|d| d.get());
    if depth >= max_depth {
        return Err(invalid(format!("`tpl` nested more than {max_depth} deep (does a value render itself?)")));
    }
    let mut ctx = std::collections::BTreeMap::new();
    for name in super::CONTEXT_NAMES {
        if let Some(v) = state.lookup(name) {
            ctx.insert(*name, v);
        }
    }
    TPL_DEPTH.with(|d| d.set(depth + 1));
    let out = state.env().render_str(&template, Value::from(ctx));
    TPL_DEPTH.with(|d| d.set(depth));
    out.map_err(|e| invalid(format!("in `tpl`: {e}")))
}

/// Helm's `trunc`: the first `n` characters, or the last `-n`.
fn trunc(v: Value, n: i64) -> String {
    let s = strval(&v);
    let count = s.chars().count();
    if n >= 0 {
        s.chars().take(n as usize).collect()
    } else {
        let keep = (-n) as usize;
        s.chars().skip(count.saturating_sub(keep)).collect()
    }
}

fn trim_suffix(v: Value, suffix: String) -> String {
    let s = strval(&v);
    s.strip_suffix(suffix.as_str()).map(str::to_string).unwrap_or(s)
}

fn trim_prefix(v: Value, prefix: String) -> String {
    let s = strval(&v);
    s.strip_prefix(prefix.as_str()).map(str::to_string).unwrap_or(s)
}

fn to_str(v: Value) -> String {
    strval(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(src: &str) -> String {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        register(&mut env, Limits::default());
        env.render_str(src, minijinja::context! { x => "a\nb", m => minijinja::context!{ k => "on", n => 1 }, Values => minijinja::context!{ n => 1 } }).unwrap()
    }

    #[test]
    fn helm_functions() {
        let cases = [
            ("{{ m | toYaml }}", "k: 'on'\n'n': 1"),
            ("{{ m | toJson }}", r#"{"k":"on","n":1}"#),
            ("{{ x | indent(2) }}", "  a\n  b"),
            ("{{ x | nindent(2) }}", "\n  a\n  b"),
            ("{{ 'a\"b' | quote }}", "\"a\\\"b\""),
            ("{{ 5 | quote }}", "\"5\""),
            ("{{ 'x' | squote }}", "'x'"),
            ("{{ 'hello' | b64enc }}", "aGVsbG8="),
            ("{{ 'aGVsbG8=' | b64dec }}", "hello"),
            ("{{ 'abc' | sha256sum }}", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("{{ 'abcdef' | trunc(3) }}", "abc"),
            ("{{ 'abcdef' | trunc(-2) }}", "ef"),
            ("{{ 'web-' | trimSuffix('-') }}", "web"),
            ("{{ 'v1.2' | trimPrefix('v') }}", "1.2"),
            ("{{ nope | default('d') }}", "d"),
            ("{{ none | default('d') }}", "d"),
            ("{{ ('a: [1, 2]' | fromYaml).a[1] }}", "2"),
            ("{{ ('{\"a\": 3}' | fromJson).a }}", "3"),
            ("{{ 'X' | lower }}{{ 'y' | upper }}", "xY"),
            ("{{ tpl('{{ Values.n }}') }}", "1"),
            ("{{ 'ok' | required('needed') }}", "ok"),
        ];
        for (src, want) in cases {
            assert_eq!(render(src), want, "{src}");
        }
    }

    #[test]
    fn required_fails_with_the_message() {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        register(&mut env, Limits::default());
        let e = env.render_str("{{ required('db host is needed', nope) }}", minijinja::context! {}).unwrap_err();
        assert!(e.to_string().contains("db host is needed"), "{e}");
    }
}
