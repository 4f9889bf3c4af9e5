//! The Kubernetes CEL libraries the `cel` crate does not have, as the API server offers
//! them at 1.36 (`k8s.io/apiserver/pkg/cel/library`): lists (`isSorted`, `sum`, `min`,
//! `max`, `indexOf`, `lastIndexOf`), regex (`find`, `findAll`), URLs, quantities, IP
//! addresses and CIDRs, named formats, semantic versions and the `sets` extension. The
//! crate brings the standard library, the macros, optional values and the strings and
//! lists extensions.
//!
//! Each function is one handler over the receiver (`this`, when called as a method) and
//! the arguments, registered on a root [`Context`]; a handler picks its overload by the
//! types it is given and answers "no such overload" otherwise, as cel-go does.

mod format;
mod lists;
mod net;
mod pattern;
mod quantity;
mod semver;
mod url;

use std::sync::Arc;

use cel::objects::OptionalValue;
use cel::{Context, Env, ExecutionError, FunctionContext, Value};

/// A handler: the receiver (method calls) and the arguments → the result.
pub type Handler = fn(Option<&Value>, &[Value]) -> Result<Value, ExecutionError>;

/// The environment rules are compiled in: the standard library and the extensions the
/// server enables (strings, lists), with its macros and optional values. Not the math and
/// encoder extensions: the server refuses `math.greatest` and `base64.decode` in CRD rules.
pub fn env() -> Env {
    let mut env = Env::stdlib();
    // Declared once per process on a fresh environment: these cannot collide.
    let _ = cel::extensions::strings(&mut env);
    let _ = cel::extensions::lists(&mut env);
    lists::overloads(&mut env);
    pattern::overloads(&mut env);
    env
}

/// A root context with every Kubernetes function.
pub fn context(env: Arc<Env>) -> Context<'static, 'static> {
    let mut ctx = Context::with_env(env);
    let tables: [&[(&str, Handler)]; 6] =
        [lists::FUNCTIONS, quantity::FUNCTIONS, net::FUNCTIONS, url::FUNCTIONS, semver::FUNCTIONS, format::FUNCTIONS];
    for (name, handler) in tables.into_iter().flatten() {
        let handler = *handler;
        // A name the environment declares is left to its overloads (the crate refuses it).
        let _ = ctx.add_function(name, move |ftx: &FunctionContext| call(ftx, handler));
    }
    ctx
}

/// The crate's call into a [`Handler`]: receiver and arguments made [`Value`]s.
fn call(ftx: &FunctionContext, handler: Handler) -> Result<Value, ExecutionError> {
    let this = ftx.this.as_ref().map(|t| Value::try_from(t.as_ref())).transpose()?;
    let args = ftx.args.iter().map(|a| Value::try_from(a.as_ref())).collect::<Result<Vec<_>, _>>()?;
    handler(this.as_ref(), &args)
}

/// The "no matching overload" error of a call with these operands.
pub fn no_overload(name: &str, this: Option<&Value>, args: &[Value]) -> ExecutionError {
    let types: Vec<String> = this.into_iter().chain(args).map(type_name).collect();
    ExecutionError::no_such_overload(name, types)
}

/// A value's CEL type name, as error messages name it.
pub fn type_name(v: &Value) -> String {
    match v {
        Value::Opaque(o) => o.runtime_type_name().to_string(),
        other => other.type_of().to_string(),
    }
}

/// The one operand a function takes: the receiver of a method call, else its first argument
/// (and the rest).
pub fn operands<'a>(this: Option<&'a Value>, args: &'a [Value]) -> Option<(&'a Value, &'a [Value])> {
    match this {
        Some(t) => Some((t, args)),
        None => args.split_first(),
    }
}

pub fn optional(v: Option<Value>) -> Value {
    Value::Opaque(Arc::new(match v {
        Some(v) => OptionalValue::of(v),
        None => OptionalValue::none(),
    }))
}

pub fn text(s: impl Into<String>) -> Value {
    Value::String(Arc::new(s.into()))
}

pub fn error(function: &str, message: impl ToString) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

/// A Go duration (`1h30m`, `500ms`, `-2.5s`) as the server's schema format `duration` reads it.
pub fn duration(text: &str) -> Option<chrono::Duration> {
    let (neg, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(chrono::Duration::zero());
    }
    let mut nanos: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        nanos += n * scale;
        rest = &rest[unit_end..];
    }
    let d = chrono::Duration::nanoseconds(nanos.round() as i64);
    Some(if neg { -d } else { d })
}
