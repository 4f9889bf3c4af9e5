//! Kubernetes' quantity library: `quantity`, `isQuantity`, `isInteger`,
//! `asInteger`, `asApproximateFloat`, `add`, `sub`, `compareTo`, `isLessThan`,
//! `isGreaterThan`. A quantity is held as an exact count of nano-units, which covers every
//! suffix from `n` to `Ei` (values below a nano-unit round up, as the server's do). The
//! server at 1.36 has no `sign()` (a rule using it does not compile there), so neither does this.

use std::cmp::Ordering;
use std::sync::Arc;

use cel::objects::Opaque;
use cel::{ExecutionError, Value};

use super::{Handler, error, no_overload, operands};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    pub nanos: i128,
}

impl Opaque for Quantity {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Quantity"
    }
}

pub const FUNCTIONS: &[(&str, Handler)] = &[
    ("quantity", quantity),
    ("isQuantity", is_quantity),
    ("isInteger", is_integer),
    ("asInteger", as_integer),
    ("asApproximateFloat", as_approximate_float),
    ("add", add),
    ("sub", sub),
    ("compareTo", compare_to),
    ("isLessThan", is_less_than),
    ("isGreaterThan", is_greater_than),
];

const NANO: i128 = 1_000_000_000;

/// Parses a quantity as `resource.ParseQuantity` does.
pub fn parse(text: &str) -> Option<Quantity> {
    let (neg, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let num_end = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(num_end);
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
        return None;
    }
    let digits: String = format!("{int}{frac}");
    let mut mantissa: i128 = if digits.len() > 30 { return None } else { digits.parse().ok()? };
    let (mut exp10, binary) = suffix_scale(suffix)?;
    exp10 -= frac.len() as i32;
    mantissa = mantissa.checked_mul(1i128.checked_shl(binary)?)?;
    let nanos = scale(mantissa, exp10 + 9)?;
    Some(Quantity { nanos: if neg { -nanos } else { nanos } })
}

/// The decimal exponent and binary shift a suffix stands for.
fn suffix_scale(suffix: &str) -> Option<(i32, u32)> {
    Some(match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        s if s.starts_with(['e', 'E']) => {
            let e = &s[1..];
            let ok = !e.is_empty() && e.trim_start_matches(['+', '-']).chars().all(|c| c.is_ascii_digit());
            if !ok || e.trim_start_matches(['+', '-']).is_empty() {
                return None;
            }
            (e.parse().ok()?, 0)
        }
        _ => return None,
    })
}

/// `m × 10^e`, rounded up when `e` is negative.
fn scale(m: i128, e: i32) -> Option<i128> {
    if e >= 0 {
        return m.checked_mul(10i128.checked_pow(e as u32)?);
    }
    let d = 10i128.checked_pow((-e) as u32).unwrap_or(i128::MAX);
    Some(if m % d == 0 { m / d } else { m / d + 1 })
}

fn get(v: &Value) -> Option<Quantity> {
    match v {
        Value::Opaque(o) => o.downcast_ref::<Quantity>().copied(),
        _ => None,
    }
}

fn wrap(q: Quantity) -> Value {
    Value::Opaque(Arc::new(q))
}

/// Orders two quantities (`None` when either is not one).
pub fn compare_values(a: &Value, b: &Value) -> Option<Ordering> {
    Some(get(a)?.nanos.cmp(&get(b)?.nanos))
}

fn quantity(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this, args) {
        (None, [Value::String(s)]) => parse(s).map(wrap).ok_or_else(|| {
            error(
                "quantity",
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            )
        }),
        _ => Err(no_overload("quantity", this, args)),
    }
}

fn is_quantity(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this, args) {
        (None, [Value::String(s)]) => Ok(Value::Bool(parse(s).is_some())),
        _ => Err(no_overload("isQuantity", this, args)),
    }
}

fn one(name: &str, this: Option<&Value>, args: &[Value]) -> Result<Quantity, ExecutionError> {
    match (this.and_then(get), args) {
        (Some(q), []) => Ok(q),
        _ => Err(no_overload(name, this, args)),
    }
}

fn is_integer(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let q = one("isInteger", this, args)?;
    Ok(Value::Bool(q.nanos % NANO == 0 && i64::try_from(q.nanos / NANO).is_ok()))
}

fn as_integer(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let q = one("asInteger", this, args)?;
    if q.nanos % NANO != 0 {
        return Err(error("asInteger", "cannot convert value to integer"));
    }
    i64::try_from(q.nanos / NANO).map(Value::Int).map_err(|_| error("asInteger", "cannot convert value to integer"))
}

fn as_approximate_float(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Float(one("asApproximateFloat", this, args)?.nanos as f64 / 1e9))
}

/// The receiver and the quantity (or integer) argument of `add`, `sub`, comparisons.
fn pair(name: &str, this: Option<&Value>, args: &[Value], ints: bool) -> Result<(Quantity, Quantity), ExecutionError> {
    let Some((a, [b])) = operands(this, args) else { return Err(no_overload(name, this, args)) };
    let a = get(a).filter(|_| this.is_some()).ok_or_else(|| no_overload(name, this, args))?;
    let b = match b {
        Value::Int(i) if ints => Quantity { nanos: *i as i128 * NANO },
        other => get(other).ok_or_else(|| no_overload(name, this, args))?,
    };
    Ok((a, b))
}

fn add(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let (a, b) = pair("add", this, args, true)?;
    Ok(wrap(Quantity { nanos: a.nanos + b.nanos }))
}

fn sub(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let (a, b) = pair("sub", this, args, true)?;
    Ok(wrap(Quantity { nanos: a.nanos - b.nanos }))
}

fn compare_to(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    if let Some(r) = super::semver::compare_method(this, args) {
        return Ok(Value::Int(r as i64));
    }
    let (a, b) = pair("compareTo", this, args, false)?;
    Ok(Value::Int(a.nanos.cmp(&b.nanos) as i64))
}

fn is_less_than(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    if let Some(r) = super::semver::compare_method(this, args) {
        return Ok(Value::Bool(r == Ordering::Less));
    }
    let (a, b) = pair("isLessThan", this, args, false)?;
    Ok(Value::Bool(a.nanos < b.nanos))
}

fn is_greater_than(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    if let Some(r) = super::semver::compare_method(this, args) {
        return Ok(Value::Bool(r == Ordering::Greater));
    }
    let (a, b) = pair("isGreaterThan", this, args, false)?;
    Ok(Value::Bool(a.nanos > b.nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_suffix() {
        let n = |s: &str| parse(s).map(|q| q.nanos);
        assert_eq!(n("1"), Some(NANO));
        assert_eq!(n("500m"), Some(NANO / 2));
        assert_eq!(n("1Ki"), Some(1024 * NANO));
        assert_eq!(n("1.5Gi"), Some(1536 * 1024 * 1024 * NANO));
        assert_eq!(n("1e3"), Some(1000 * NANO));
        assert_eq!(n("-2k"), Some(-2000 * NANO));
        assert_eq!(n("1n"), Some(1));
        assert_eq!(n("0.1n"), Some(1), "rounded up");
        assert_eq!(n(".5"), Some(NANO / 2));
        for bad in ["", "abc", "1.2.3", "1Kb", "1e", "--1", "Gi"] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }
}
