//! `--set` and `--set-string` in Helm's syntax: `a.b=c`, `list[0]=x`,
//! `a=x,b=y`, `tags={a,b}`, backslash escapes for `,` `.` `=` `[`.
//! `--set` types values as Helm's `strvals` does (`true`, `false`, `null` in any
//! letter case, integers without a leading zero); `--set-string` keeps every value a
//! string. As in Helm, all arguments build one tree, and a key is one kind of value
//! in it (a map, a list or a scalar): using it as another is an error.

use serde_json::{Map, Value};

use crate::diag::Diagnostic;

/// Parses one `--set` argument into a values tree.
pub fn parse(expr: &str, typed: bool) -> Result<Value, Diagnostic> {
    parse_after(expr, typed, &mut Value::Object(Map::new()))
}

/// [`parse`], for an argument that follows the `--set` / `--set-string` arguments
/// already parsed into `earlier` (which this one is added to). As Helm parses every
/// argument into one tree, an argument cannot use a key as another kind of value
/// than an earlier argument did (`--set a[0]=x --set a.b=1`).
pub fn parse_after(expr: &str, typed: bool, earlier: &mut Value) -> Result<Value, Diagnostic> {
    let flag = if typed { "--set" } else { "--set-string" };
    let err = |msg: String| {
        Diagnostic::error(format!("invalid `{flag} {expr}`: {msg}"))
            .hint("use Helm's syntax: `a.b=c`, `list[0]=x`, `a=1,b=2`, `tags={x,y}`; escape `,` `.` `=` with `\\`")
    };
    let mut root = Value::Object(Map::new());
    let mut assignments = Vec::new();
    for assignment in split_unescaped(expr, ',', Braces::Group) {
        if assignment.is_empty() {
            continue;
        }
        let Some((key, raw)) = split_once_unescaped(&assignment, '=') else {
            return Err(err(format!("`{assignment}` has no `=`")));
        };
        let path = parse_key(&key).map_err(err)?;
        let value = if raw.starts_with('{') && raw.ends_with('}') && raw.len() >= 2 {
            let inner = &raw[1..raw.len() - 1];
            Value::Array(
                split_unescaped(inner, ',', Braces::Ignore)
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| typed_value(&unescape(&s), typed))
                    .collect(),
            )
        } else {
            typed_value(&unescape(&raw), typed)
        };
        insert(&mut root, &path, value.clone(), "earlier in the expression").map_err(err)?;
        assignments.push((path, value));
    }
    for (path, value) in assignments {
        insert(earlier, &path, value, "by an earlier `--set` or `--set-string`").map_err(err)?;
    }
    Ok(root)
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn parse_key(key: &str) -> Result<Vec<Seg>, String> {
    let mut out = Vec::new();
    for part in split_unescaped(key, '.', Braces::Ignore) {
        let mut rest = part.as_str();
        let name_end = find_unescaped(rest, '[').unwrap_or(rest.len());
        let name = unescape(&rest[..name_end]);
        if name.is_empty() {
            return Err(format!("empty key in `{key}`"));
        }
        out.push(Seg::Key(name));
        rest = &rest[name_end..];
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(|| format!("unclosed `[` in `{key}`"))?;
            let idx: usize = r[..end].parse().map_err(|_| format!("`[{}]` is not a list index", &r[..end]))?;
            if idx > 65_536 {
                return Err(format!("list index {idx} is too large"));
            }
            out.push(Seg::Index(idx));
            rest = &r[end + 1..];
        }
        if !rest.is_empty() {
            return Err(format!("unexpected `{rest}` in `{key}`"));
        }
    }
    if out.len() > crate::yaml::MAX_DEPTH {
        return Err(format!("the key nests deeper than {} levels", crate::yaml::MAX_DEPTH));
    }
    Ok(out)
}

/// Sets `value` at `path` inside `root`, creating maps and lists on the way. As in
/// Helm, a key that already holds a value of another kind cannot be walked into: a
/// list then a map at one key (`a[0]=x,a.b=1`), or a scalar then either, is refused;
/// a list item walked into as a map becomes one (Helm's "indices out of order").
fn insert(root: &mut Value, path: &[Seg], value: Value, earlier: &str) -> Result<(), String> {
    let mut cur = root;
    for (i, seg) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let next_is_index = matches!(path.get(i + 1), Some(Seg::Index(_)));
        let empty = || if next_is_index { Value::Array(vec![]) } else { Value::Object(Map::new()) };
        match seg {
            Seg::Key(k) => {
                let m = cur.as_object_mut().ok_or("expected a map")?;
                if last {
                    m.insert(k.clone(), value);
                    return Ok(());
                }
                let slot = m.entry(k.clone()).or_insert_with(empty);
                if next_is_index != slot.is_array() || !next_is_index && !slot.is_object() {
                    return Err(conflict(&path[..=i], slot, next_is_index, earlier));
                }
                cur = slot;
            }
            Seg::Index(idx) => {
                let a = cur.as_array_mut().ok_or("expected a list")?;
                while a.len() <= *idx {
                    a.push(Value::Null);
                }
                if last {
                    a[*idx] = value;
                    return Ok(());
                }
                let item = &mut a[*idx];
                if next_is_index && !item.is_array() && !item.is_null() {
                    return Err(conflict(&path[..=i], item, next_is_index, earlier));
                }
                if next_is_index && !item.is_array() || !next_is_index && !item.is_object() {
                    *item = empty();
                }
                cur = item;
            }
        }
    }
    Ok(())
}

/// The error for walking into `path`, which holds `found` (set `earlier`), as a list
/// (`as_list`) or a map.
fn conflict(path: &[Seg], found: &Value, as_list: bool, earlier: &str) -> String {
    let mut at = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if at.is_empty() => at.push_str(k),
            Seg::Key(k) => at.push_str(&format!(".{k}")),
            Seg::Index(i) => at.push_str(&format!("[{i}]")),
        }
    }
    let holds = match found {
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
        _ => "a value",
    };
    let wanted = if as_list { "a list (`[N]`)" } else { "a map (`.key`)" };
    format!("`{at}` is set to {holds} {earlier} and cannot also be {wanted}")
}

/// Helm's typing of a `--set` value: `true`, `false` and `null` in any letter case,
/// and integers (`0`, or digits with an optional sign not starting with `0`).
fn typed_value(s: &str, typed: bool) -> Value {
    if !typed {
        return Value::String(s.to_string());
    }
    if s.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if s.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if s == "0" {
        return Value::Number(0.into());
    }
    if !s.starts_with('0')
        && let Ok(n) = s.parse::<i64>()
    {
        return Value::Number(n.into());
    }
    Value::String(s.to_string())
}

/// Whether [`split_unescaped`] keeps a `{a,b}` list whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Braces {
    /// A separator inside `{}` does not split.
    Group,
    /// Braces are ordinary characters.
    Ignore,
}

/// Splits on `sep` not preceded by a backslash (and, with [`Braces::Group`], not
/// inside `{}`); escapes are kept for the next step.
fn split_unescaped(s: &str, sep: char, braces: Braces) -> Vec<String> {
    let grouped = braces == Braces::Group;
    let mut out = vec![String::new()];
    let mut depth = 0usize;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let cur = out.last_mut().expect("never empty");
                cur.push('\\');
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '{' if grouped => {
                depth += 1;
                out.last_mut().expect("never empty").push(c);
            }
            '}' if grouped => {
                depth = depth.saturating_sub(1);
                out.last_mut().expect("never empty").push(c);
            }
            c if c == sep && depth == 0 => out.push(String::new()),
            c => out.last_mut().expect("never empty").push(c),
        }
    }
    out
}

fn find_unescaped(s: &str, c: char) -> Option<usize> {
    let mut escaped = false;
    for (i, ch) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if ch == '\\' {
            escaped = true;
        } else if ch == c {
            return Some(i);
        }
    }
    None
}

fn split_once_unescaped(s: &str, c: char) -> Option<(String, String)> {
    let i = find_unescaped(s, c)?;
    Some((s[..i].to_string(), s[i + c.len_utf8()..].to_string()))
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helm_set_syntax() {
        let cases: &[(&str, bool, Value)] = &[
            ("a.b=c", true, json!({"a": {"b": "c"}})),
            ("a=1,b=true,c=null,d=012,e=-3", true, json!({"a": 1, "b": true, "c": null, "d": "012", "e": -3})),
            ("a=1,b=true", false, json!({"a": "1", "b": "true"})),
            ("list[1]=x", true, json!({"list": [null, "x"]})),
            ("list[0].name=web,list[0].port=80", true, json!({"list": [{"name": "web", "port": 80}]})),
            ("tags={a,b,3}", true, json!({"tags": ["a", "b", 3]})),
            (r"a\.b=c\,d", true, json!({"a.b": "c,d"})),
            ("anno.kubernetes\\.io/x=y", true, json!({"anno": {"kubernetes.io/x": "y"}})),
            ("a==b", true, json!({"a": "=b"})),
            // Helm types booleans and null in any letter case, and integers with a sign.
            (
                "a=TRUE,b=True,c=FALSE,d=NULL,e=Null,f=nUlL",
                true,
                json!({"a": true, "b": true, "c": false, "d": null, "e": null, "f": null}),
            ),
            ("a=TRUE,b=Null", false, json!({"a": "TRUE", "b": "Null"})),
            (
                "a=+5,b=-012,c=0,d=00,e=1.5,f=9223372036854775808",
                true,
                json!({"a": 5, "b": -12, "c": 0, "d": "00", "e": "1.5", "f": "9223372036854775808"}),
            ),
            // Later assignments of the same kind replace; a list item becomes a map.
            ("a.b=1,a.c=2,a.b=3", true, json!({"a": {"b": 3, "c": 2}})),
            ("a[0]=1,a[0].b=2", true, json!({"a": [{"b": 2}]})),
            ("a=1,a=x", true, json!({"a": "x"})),
            ("a.b=1,a=2", true, json!({"a": 2})),
        ];
        for (expr, typed, want) in cases {
            assert_eq!(&parse(expr, *typed).unwrap(), want, "{expr}");
        }
    }

    /// Helm refuses a key used as two kinds of value in one expression.
    #[test]
    fn a_key_is_one_kind_of_value() {
        let cases = [
            ("a[0]=x,a.b=1", "`a` is set to a list earlier in the expression and cannot also be a map (`.key`)"),
            ("a.b=1,a[0]=x", "`a` is set to a map earlier in the expression and cannot also be a list (`[N]`)"),
            ("a=1,a.b=2", "`a` is set to a value earlier in the expression and cannot also be a map (`.key`)"),
            ("a=1,a[0]=2", "`a` is set to a value earlier in the expression and cannot also be a list (`[N]`)"),
            (
                "a[0]=1,a[0][1]=2",
                "`a[0]` is set to a value earlier in the expression and cannot also be a list (`[N]`)",
            ),
        ];
        for (expr, want) in cases {
            let e = parse(expr, true).unwrap_err();
            assert_eq!(e.message, format!("invalid `--set {expr}`: {want}"), "{expr}");
        }
    }

    /// Every `--set` and `--set-string` goes into one tree, as in Helm.
    #[test]
    fn a_key_is_one_kind_of_value_across_arguments() {
        let mut earlier = Value::Object(Map::new());
        assert_eq!(parse_after("a[0]=x,b.c=1", true, &mut earlier).unwrap(), json!({"a": ["x"], "b": {"c": 1}}));
        assert_eq!(parse_after("b.d=2", false, &mut earlier).unwrap(), json!({"b": {"d": "2"}}));
        let e = parse_after("a.b=1", true, &mut earlier).unwrap_err();
        assert_eq!(
            e.message,
            "invalid `--set a.b=1`: `a` is set to a list by an earlier `--set` or `--set-string` and cannot also be a map (`.key`)"
        );
        assert_eq!(earlier, json!({"a": ["x"], "b": {"c": 1, "d": "2"}}));
    }

    #[test]
    fn bad_set_expressions() {
        for bad in ["novalue", "a[x]=1", "a[1=2", ".a=1"] {
            let e = parse(bad, true).unwrap_err();
            assert!(e.message.starts_with("invalid `--set"), "{bad}: {}", e.message);
        }
        let deep = format!("{}x=1", "a.".repeat(crate::yaml::MAX_DEPTH));
        assert!(parse(&deep, true).unwrap_err().message.contains("nests deeper than 128 levels"));
        assert!(parse(&format!("{}x=1", "a.".repeat(crate::yaml::MAX_DEPTH - 1)), true).is_ok());
    }
}
