//! Kubernetes' semver library: `semver`, `isSemver` (optionally normalizing `v1.2` to
//! `1.2.0`), `major`, `minor`, `patch`; `compareTo`, `isLessThan` and `isGreaterThan`
//! are shared with quantities ([`compare_method`]).

use std::cmp::Ordering;
use std::sync::Arc;

use cel::objects::Opaque;
use cel::{ExecutionError, Value};

use super::{Handler, error, no_overload};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Semver {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<String>,
}

impl Opaque for Semver {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Semver"
    }
}

pub const FUNCTIONS: &[(&str, Handler)] =
    &[("semver", semver), ("isSemver", is_semver), ("major", major), ("minor", minor), ("patch", patch)];

fn number(s: &str) -> Option<u64> {
    let ok = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if ok { s.parse().ok() } else { None }
}

/// Parses a semantic version as blang/semver's `Parse` does.
pub fn parse(text: &str) -> Option<Semver> {
    let (rest, build) = text.split_once('+').map_or((text, None), |(a, b)| (a, Some(b)));
    if let Some(b) = build
        && (b.is_empty() || b.split('.').any(|i| i.is_empty() || !i.chars().all(ident_char)))
    {
        return None;
    }
    let (core, pre) = rest.split_once('-').map_or((rest, None), |(a, b)| (a, Some(b)));
    let parts: Vec<&str> = core.split('.').collect();
    let [ma, mi, pa] = parts.as_slice() else { return None };
    let pre: Vec<String> = match pre {
        None => Vec::new(),
        Some(p) => {
            let ids: Vec<&str> = p.split('.').collect();
            let valid = |i: &&str| {
                !i.is_empty()
                    && i.chars().all(ident_char)
                    && (!i.chars().all(|c| c.is_ascii_digit()) || number(i).is_some())
            };
            if !ids.iter().all(valid) {
                return None;
            }
            ids.into_iter().map(String::from).collect()
        }
    };
    Some(Semver { major: number(ma)?, minor: number(mi)?, patch: number(pa)?, pre })
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// `v1.2` → `1.2.0`, `01.02.03` → `1.2.3`: what `isSemver(s, true)` and `semver(s, true)` accept.
fn normalize(text: &str) -> String {
    let t = text.strip_prefix('v').unwrap_or(text);
    let cut = t.find(['-', '+']).unwrap_or(t.len());
    let (core, tail) = t.split_at(cut);
    let mut parts: Vec<String> =
        core.split('.').map(|p| p.trim_start_matches('0')).map(|p| if p.is_empty() { "0" } else { p }.into()).collect();
    while parts.len() < 3 {
        parts.push("0".into());
    }
    format!("{}{tail}", parts.join("."))
}

fn compare(a: &Semver, b: &Semver) -> Ordering {
    let core = (a.major, a.minor, a.patch).cmp(&(b.major, b.minor, b.patch));
    if core != Ordering::Equal {
        return core;
    }
    match (a.pre.is_empty(), b.pre.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    for (x, y) in a.pre.iter().zip(&b.pre) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(i), Ok(j)) => i.cmp(&j),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.pre.len().cmp(&b.pre.len())
}

fn get(v: &Value) -> Option<&Semver> {
    match v {
        Value::Opaque(o) => o.downcast_ref::<Semver>(),
        _ => None,
    }
}

pub fn compare_values(a: &Value, b: &Value) -> Option<Ordering> {
    Some(compare(get(a)?, get(b)?))
}

/// `a.compareTo(b)` when both are versions.
pub fn compare_method(this: Option<&Value>, args: &[Value]) -> Option<Ordering> {
    compare_values(this?, args.first()?)
}

fn input(name: &str, this: Option<&Value>, args: &[Value]) -> Result<String, ExecutionError> {
    match (this, args) {
        (None, [Value::String(s)]) => Ok(s.to_string()),
        (None, [Value::String(s), Value::Bool(n)]) => Ok(if *n { normalize(s) } else { s.to_string() }),
        _ => Err(no_overload(name, this, args)),
    }
}

fn semver(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let s = input("semver", this, args)?;
    match parse(&s) {
        Some(v) => Ok(Value::Opaque(Arc::new(v))),
        None => Err(error("semver", format!("could not parse {s:?} as semver"))),
    }
}

fn is_semver(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(parse(&input("isSemver", this, args)?).is_some()))
}

fn part(name: &str, this: Option<&Value>, args: &[Value], f: fn(&Semver) -> u64) -> Result<Value, ExecutionError> {
    match (this.and_then(get), args) {
        (Some(v), []) => Ok(Value::Int(f(v) as i64)),
        _ => Err(no_overload(name, this, args)),
    }
}

fn major(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    part("major", this, args, |v| v.major)
}

fn minor(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    part("minor", this, args, |v| v.minor)
}

fn patch(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    part("patch", this, args, |v| v.patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        assert!(parse("1.2.3-rc.1+b5").is_some());
        for bad in ["1.2", "v1.2.3", "01.2.3", "1.2.3-01", "1.2.3-", "1.2.3+"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert_eq!(normalize("v1.2"), "1.2.0");
        let v = |s| parse(s).unwrap();
        assert_eq!(compare(&v("1.0.0-alpha"), &v("1.0.0")), Ordering::Less);
        assert_eq!(compare(&v("1.0.0-alpha.1"), &v("1.0.0-alpha.beta")), Ordering::Less);
        assert_eq!(compare(&v("1.10.0"), &v("1.9.9")), Ordering::Greater);
    }
}
