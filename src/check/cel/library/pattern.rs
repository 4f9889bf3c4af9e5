//! `matches` (CEL's standard regex test) with its patterns compiled once per thread: the
//! `cel` crate's own `matches` compiles the pattern on every call, which made a policy
//! testing every key of every object cost more than the rest of `strata check`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use cel::common::types::STRING_TYPE;
use cel::common::value::CowVal;
use cel::extractors::IntoResolveResult;
use cel::{Env, ExecutionError, Value};
use regex::Regex;

/// Patterns kept per thread; past this many the cache starts over (hostile input).
const MAX_PATTERNS: usize = 4096;

thread_local! {
    static PATTERNS: RefCell<HashMap<String, Result<Rc<Regex>, String>>> = RefCell::new(HashMap::new());
}

/// The compiled `pattern`, or the regex crate's error. Shared, not cloned: a cloned `Regex`
/// starts with an empty search cache, which made every call pay for building one.
pub fn compiled(pattern: &str) -> Result<Rc<Regex>, String> {
    PATTERNS.with(|cache| {
        if let Some(found) = cache.borrow().get(pattern) {
            return found.clone();
        }
        let made = Regex::new(pattern).map(Rc::new).map_err(|e| e.to_string());
        let mut cache = cache.borrow_mut();
        if cache.len() >= MAX_PATTERNS {
            cache.clear();
        }
        cache.insert(pattern.to_string(), made.clone());
        made
    })
}

/// `s.matches(p)` and `matches(s, p)` on the environment (the crate's `regex` feature is off).
pub fn overloads(env: &mut Env) {
    let _ = env.add_overload("matches", "matches", vec![STRING_TYPE, STRING_TYPE], matches);
    let _ = env.add_member_overload("matches", "string_matches", STRING_TYPE, vec![STRING_TYPE], matches);
}

fn matches<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [s, p] = args.as_slice() else { return Err(ExecutionError::invalid_argument_count(2, args.len())) };
    match (Value::try_from(s.as_ref())?, Value::try_from(p.as_ref())?) {
        (Value::String(s), Value::String(p)) => match compiled(&p) {
            Ok(re) => Value::Bool(re.is_match(&s)).into_resolve_result(),
            Err(e) => Err(ExecutionError::FunctionError {
                function: "matches".to_string(),
                message: format!("'{p}' not a valid regex:\n{e}"),
            }),
        },
        (s, _) => Err(super::no_overload("matches", Some(&s), &[])),
    }
}

#[cfg(test)]
mod tests {
    use crate::check::cel::Evaluator;

    #[test]
    fn matches_as_the_standard_library() {
        let ev = Evaluator::new();
        let run = |src: &str| ev.compile(src).and_then(|p| ev.eval(&p, &[]));
        for src in ["'foobar'.matches('^[a-z]*$')", "matches('foobar', 'o+b')", "!'foo1'.matches('^[a-z]*$')"] {
            assert_eq!(run(src), Ok(cel::Value::Bool(true)), "{src}");
        }
        let err = run("'x'.matches('(x')").unwrap_err();
        assert!(err.starts_with("'(x' not a valid regex:"), "{err}");
        assert!(run("{'a': 1, 'B': 2}.all(k, k.matches('^[a-z]$'))") == Ok(cel::Value::Bool(false)));
    }
}
