//! Writing `serde_json::Value`s as YAML text.
//!
//! Block style, two-space indentation, keys in the order they were written,
//! literal blocks for multi-line strings, and every string quoted that a YAML 1.1
//! reader (kubectl, Helm, Argo CD) would take for a boolean, null, number or
//! timestamp (`on`, `y`, `012`, `1_000`, `2024-01-01`). Byte-stable: the same
//! value always gives the same text.

use std::fmt;

use serde_json::{Map, Value};

/// Emits one document (no `---`), ending with a newline.
pub fn to_string(v: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_document(&mut out, v);
    out
}

/// Appends one document (no `---`) to `out`.
pub fn write_document(out: &mut String, v: &Value) {
    match v {
        Value::Object(m) if !m.is_empty() => write_map(out, m, 0, First::OnItsOwnLine),
        Value::Array(a) if !a.is_empty() => write_seq(out, a, 0, First::OnItsOwnLine),
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

/// Where the first entry of a mapping or sequence goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum First {
    /// Indented on a line of its own.
    OnItsOwnLine,
    /// After text already on the line (the `- ` of the item it is).
    AfterDash,
}

/// Writes a mapping whose keys sit at column `ind`.
fn write_map(out: &mut String, m: &Map<String, Value>, ind: usize, first: First) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || first == First::OnItsOwnLine {
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
            write_map(out, m, ind + 2, First::OnItsOwnLine);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, ind + 2, First::OnItsOwnLine);
        }
        other => {
            out.push(' ');
            write_scalar(out, other, ind + 2);
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, a: &[Value], ind: usize, first: First) {
    for (i, v) in a.iter().enumerate() {
        if i > 0 || first == First::OnItsOwnLine {
            indent(out, ind);
        }
        out.push_str("- ");
        match v {
            Value::Object(m) if !m.is_empty() => write_map(out, m, ind + 2, First::AfterDash),
            Value::Array(a) if !a.is_empty() => write_seq(out, a, ind + 2, First::AfterDash),
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
    use crate::yaml::parse_one;
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
}
