//! Kubernetes' list library (`isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`)
//! and cel-go's `sets` extension (`sets.contains`, `sets.equivalent`, `sets.intersects`).

use std::cmp::Ordering;
use std::sync::Arc;

use cel::common::types::{DYN_TYPE, LIST_TYPE};
use cel::common::value::CowVal;
use cel::extractors::IntoResolveResult;
use cel::{Env, ExecutionError, Value};

use super::{Handler, no_overload, operands};

pub const FUNCTIONS: &[(&str, Handler)] = &[
    ("isSorted", is_sorted),
    ("sum", sum),
    ("min", min),
    ("max", max),
    ("sets.contains", sets_contains),
    ("sets.equivalent", sets_equivalent),
    ("sets.intersects", sets_intersects),
];

/// `indexOf` and `lastIndexOf` on lists: the strings extension declares them on strings,
/// so the list overloads join its declaration.
pub fn overloads(env: &mut Env) {
    let _ = env.add_member_overload("indexOf", "list_indexOf", LIST_TYPE, vec![DYN_TYPE], index_of);
    let _ = env.add_member_overload("lastIndexOf", "list_lastIndexOf", LIST_TYPE, vec![DYN_TYPE], last_index_of);
}

fn list_and_item<'b, 'v>(args: &[CowVal<'b, 'v>]) -> Result<(Arc<Vec<Value>>, Value), ExecutionError> {
    let [list, item] = args else { return Err(ExecutionError::invalid_argument_count(2, args.len())) };
    match Value::try_from(list.as_ref())? {
        Value::List(l) => Ok((l, Value::try_from(item.as_ref())?)),
        other => Err(no_overload("indexOf", Some(&other), &[])),
    }
}

fn index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let (list, item) = list_and_item(&args)?;
    let at = list.iter().position(|v| *v == item).map_or(-1, |i| i as i64);
    Value::Int(at).into_resolve_result()
}

fn last_index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let (list, item) = list_and_item(&args)?;
    let at = list.iter().rposition(|v| *v == item).map_or(-1, |i| i as i64);
    Value::Int(at).into_resolve_result()
}

fn the_list<'a>(name: &str, this: Option<&'a Value>, args: &'a [Value]) -> Result<&'a [Value], ExecutionError> {
    match operands(this, args) {
        Some((Value::List(l), [])) => Ok(l.as_slice()),
        _ => Err(no_overload(name, this, args)),
    }
}

fn compare(a: &Value, b: &Value) -> Result<Ordering, ExecutionError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        (Value::UInt(x), Value::UInt(y)) => Ok(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => Ok(x.partial_cmp(y).unwrap_or(Ordering::Equal)),
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Ok(x.cmp(y)),
        (Value::Bytes(x), Value::Bytes(y)) => Ok(x.cmp(y)),
        (Value::Duration(x), Value::Duration(y)) => Ok(x.cmp(y)),
        (Value::Timestamp(x), Value::Timestamp(y)) => Ok(x.cmp(y)),
        (Value::Opaque(_), Value::Opaque(_)) => super::quantity::compare_values(a, b)
            .or_else(|| super::semver::compare_values(a, b))
            .ok_or_else(|| ExecutionError::ValuesNotComparable(a.clone(), b.clone())),
        _ => Err(ExecutionError::ValuesNotComparable(a.clone(), b.clone())),
    }
}

fn is_sorted(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let list = the_list("isSorted", this, args)?;
    for pair in list.windows(2) {
        if compare(&pair[0], &pair[1])? == Ordering::Greater {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn sum(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let list = the_list("sum", this, args)?;
    let Some(first) = list.first() else { return Ok(Value::Int(0)) };
    let mut acc = first.clone();
    for v in &list[1..] {
        acc = match (&acc, v) {
            (Value::Int(a), Value::Int(b)) => {
                Value::Int(a.checked_add(*b).ok_or_else(|| super::error("sum", "integer overflow"))?)
            }
            (Value::UInt(a), Value::UInt(b)) => {
                Value::UInt(a.checked_add(*b).ok_or_else(|| super::error("sum", "integer overflow"))?)
            }
            (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
            (Value::Duration(a), Value::Duration(b)) => Value::Duration(*a + *b),
            _ => return Err(no_overload("sum", this, args)),
        };
    }
    Ok(acc)
}

fn extreme(name: &str, this: Option<&Value>, args: &[Value], want: Ordering) -> Result<Value, ExecutionError> {
    let list = the_list(name, this, args)?;
    let Some(mut best) = list.first() else {
        return Err(super::error(name, format!("{name} called on empty list")));
    };
    for v in &list[1..] {
        if compare(v, best)? == want {
            best = v;
        }
    }
    Ok(best.clone())
}

fn min(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    extreme("min", this, args, Ordering::Less)
}

fn max(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    extreme("max", this, args, Ordering::Greater)
}

fn two_lists<'a>(name: &str, args: &'a [Value]) -> Result<(&'a [Value], &'a [Value]), ExecutionError> {
    match args {
        [Value::List(a), Value::List(b)] => Ok((a.as_slice(), b.as_slice())),
        _ => Err(no_overload(name, None, args)),
    }
}

fn sets_contains(_: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let (a, b) = two_lists("sets.contains", args)?;
    Ok(Value::Bool(b.iter().all(|x| a.contains(x))))
}

fn sets_equivalent(_: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let (a, b) = two_lists("sets.equivalent", args)?;
    Ok(Value::Bool(b.iter().all(|x| a.contains(x)) && a.iter().all(|x| b.contains(x))))
}

fn sets_intersects(_: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let (a, b) = two_lists("sets.intersects", args)?;
    Ok(Value::Bool(b.iter().any(|x| a.contains(x))))
}
