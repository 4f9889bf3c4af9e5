//! Scalars on one line: mapping keys, quoted and plain scalars, and plain scalars
//! resolved to values as `yaml_serde` does.

use serde_json::{Number, Value};

use super::MAX_KEY_LEN;

/// Splits `key: rest` into the key (as a string) and what follows the `:`.
/// `None` when the line is not a simple mapping entry.
pub(super) fn split_key(text: &str) -> Option<(String, &str)> {
    let b = text.as_bytes();
    match b.first()? {
        b'"' | b'\'' => {
            let (key, len) = quoted(text)?;
            let after = text[len..].trim_start_matches([' ', '\t']);
            let rest = after.strip_prefix(':')?;
            if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
                return None;
            }
            Some((key, rest))
        }
        c if is_indicator(*c) && !starts_plain(b) => None,
        _ => {
            // The first `:` followed by a blank or the end of the line.
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b':' if i + 1 == b.len() || matches!(b[i + 1], b' ' | b'\t') => {
                        let key = text[..i].trim_end_matches([' ', '\t']);
                        if key.len() > MAX_KEY_LEN || key.is_empty() {
                            return None;
                        }
                        // Only keys that resolve to strings are read here.
                        return match resolve_plain(key)? {
                            Value::String(s) => Some((s, &text[i + 1..])),
                            _ => None,
                        };
                    }
                    b'#' if i > 0 && matches!(b[i - 1], b' ' | b'\t') => return None,
                    _ => {}
                }
                i += 1;
            }
            None
        }
    }
}

/// Characters that cannot start a plain scalar here (`-`, `?` and `:` followed by a
/// non-blank can, in YAML, but are left to `yaml_serde` when they start a key).
pub(super) fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// `-x`, `?x`, `:x`: indicators followed by a non-blank start plain scalars.
fn starts_plain(b: &[u8]) -> bool {
    matches!(b[0], b'-' | b'?' | b':') && b.len() > 1 && !matches!(b[1], b' ' | b'\t')
}

/// A plain scalar in block context, up to a comment; `None` where YAML would
/// read something else (an indicator, `: `) or continue it.
pub(super) fn plain_block(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    if is_indicator(b[0]) && !starts_plain(b) {
        return None;
    }
    let mut end = b.len();
    for i in 0..b.len() {
        match b[i] {
            b'#' if i > 0 && matches!(b[i - 1], b' ' | b'\t') => {
                end = i;
                break;
            }
            b':' if i + 1 == b.len() || matches!(b[i + 1], b' ' | b'\t') => return None,
            _ => {}
        }
    }
    let s = text[..end].trim_end_matches([' ', '\t']);
    (!s.is_empty()).then_some(s)
}

/// A quoted scalar at the start of `text` that ends on the same line: its value
/// and the bytes it spans.
pub(super) fn quoted(text: &str) -> Option<(String, usize)> {
    let q = text.as_bytes()[0];
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        match (q, c) {
            (b'\'', '\'') => {
                if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Some((out, i + 1));
                }
            }
            (b'"', '"') => return Some((out, i + 1)),
            (b'"', '\\') => {
                let (_, e) = chars.next()?;
                match e {
                    '0' => out.push('\0'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    't' | '\t' => out.push('\t'),
                    'n' => out.push('\n'),
                    'v' => out.push('\u{b}'),
                    'f' => out.push('\u{c}'),
                    'r' => out.push('\r'),
                    'e' => out.push('\u{1b}'),
                    ' ' => out.push(' '),
                    '"' => out.push('"'),
                    '/' => out.push('/'),
                    '\\' => out.push('\\'),
                    'N' => out.push('\u{85}'),
                    '_' => out.push('\u{a0}'),
                    'L' => out.push('\u{2028}'),
                    'P' => out.push('\u{2029}'),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut code = 0u32;
                        for _ in 0..n {
                            let (_, h) = chars.next()?;
                            code = code * 16 + h.to_digit(16)?;
                        }
                        out.push(char::from_u32(code)?);
                    }
                    _ => return None,
                }
            }
            _ => out.push(c),
        }
    }
    None // not closed on this line
}

// ---------------------------------------------------------------------------
// Plain scalars, resolved as `yaml_serde` does (and then as strata's value
// visitor accepts them: integers beyond 64 bits and non-finite floats are errors
// there, so they are declined here).

/// The value of a plain scalar; `None` to decline.
pub(super) fn resolve_plain(s: &str) -> Option<Value> {
    let b = s.as_bytes();
    // Fast exit for the common case: words that start with a letter other than the
    // first letters of `null`, `true`, `false` (and their spellings).
    match b[0] {
        b'n' | b'N' | b't' | b'T' | b'f' | b'F' => {}
        c if c.is_ascii_alphabetic() || c == b'/' || c == b'_' || c >= 0x80 => {
            return Some(Value::String(s.to_string()));
        }
        _ => {}
    }
    match s {
        "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if !(b[0].is_ascii_digit() || matches!(b[0], b'+' | b'-' | b'.')) {
        return Some(Value::String(s.to_string()));
    }
    if let Some(u) = unsigned(s) {
        return Some(Value::Number(u.into()));
    }
    if let Some(i) = negative(s) {
        return Some(Value::Number(i.into()));
    }
    if unsigned_wide(s) || negative_wide(s) {
        return None; // beyond 64 bits: an error in strata's visitor
    }
    if !leading_zero_digits(s) {
        let unsigned = match s.strip_prefix('+') {
            Some(u) if u.starts_with(['+', '-']) => None,
            Some(u) => Some(u),
            None => Some(s),
        };
        if let Some(u) = unsigned {
            if matches!(u, ".inf" | ".Inf" | ".INF")
                || matches!(s, "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN")
            {
                return None; // non-finite: an error in strata's visitor
            }
            if let Ok(f) = u.parse::<f64>()
                && f.is_finite()
            {
                return Some(Value::Number(Number::from_f64(f)?));
            }
        }
    }
    Some(Value::String(s.to_string()))
}

/// `0123`, `-01`: digits after a leading zero are a string (YAML 1.2).
fn leading_zero_digits(s: &str) -> bool {
    let d = s.strip_prefix(['-', '+']).unwrap_or(s);
    d.len() > 1 && d.starts_with('0') && d[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Radix prefixes and the digits after them.
fn radix(s: &str) -> Option<(u32, &str)> {
    for (p, r) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = s.strip_prefix(p) {
            return Some((r, rest));
        }
    }
    None
}

fn unsigned(s: &str) -> Option<u64> {
    let u = s.strip_prefix('+').unwrap_or(s);
    if let Some((r, rest)) = radix(u) {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(n) = u64::from_str_radix(rest, r) {
            return Some(n);
        }
    }
    if u.starts_with(['+', '-']) || leading_zero_digits(s) {
        return None;
    }
    u.parse::<u64>().ok()
}

fn negative(s: &str) -> Option<i64> {
    if let Some(rest) = s.strip_prefix('-')
        && let Some((r, digits)) = radix(rest)
        && let Ok(n) = i64::from_str_radix(&format!("-{digits}"), r)
    {
        return Some(n);
    }
    if leading_zero_digits(s) {
        return None;
    }
    s.parse::<i64>().ok()
}

fn unsigned_wide(s: &str) -> bool {
    let u = s.strip_prefix('+').unwrap_or(s);
    if let Some((r, rest)) = radix(u)
        && !rest.starts_with(['+', '-'])
        && u128::from_str_radix(rest, r).is_ok()
    {
        return true;
    }
    !u.starts_with(['+', '-']) && !leading_zero_digits(s) && u.parse::<u128>().is_ok()
}

fn negative_wide(s: &str) -> bool {
    if let Some(rest) = s.strip_prefix('-')
        && let Some((r, digits)) = radix(rest)
        && i128::from_str_radix(&format!("-{digits}"), r).is_ok()
    {
        return true;
    }
    !leading_zero_digits(s) && s.parse::<i128>().is_ok()
}
