//! CEL as the Kubernetes API server evaluates it, offline: the `cel` crate (parser,
//! interpreter, standard library, macros, optional values, strings/lists extensions)
//! plus what Kubernetes adds ([`library`]).
//!
//! In: CRD schemas with `x-kubernetes-validations` and the objects they type ([`crd`]).
//! Out: failures with the server's field path and message, for the `cel` rule.
//!
//! What the crate does not do, and so neither does this: type-check an expression before it
//! runs (the server refuses a CRD whose rule names an undeclared field; here such a rule
//! fails when evaluated, with "no such key"), and estimate an expression's cost (the
//! server refuses rules whose worst case exceeds its budget; here a rule is stopped only
//! by [`MAX_RULE_CHARS`] and the evaluation itself).

pub mod admission;
pub mod crd;
pub mod defaults;
pub mod library;
pub mod value;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use cel::common::ast::Expr;
use cel::{Context, Env, ExecutionError, Program, Value};

/// The longest expression accepted (the server's `MaxRequestSizeBytes`-derived limit for
/// one rule is far larger; this bounds the parser's work on hostile input).
pub const MAX_RULE_CHARS: usize = 100_000;

/// The one environment, built once per process.
fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| Arc::new(library::env())).clone()
}

/// Compiles and evaluates expressions; compiled programs are cached by their text.
/// One per thread (the crate's contexts are not shared between threads).
pub struct Evaluator {
    root: Context<'static, 'static>,
    programs: RefCell<HashMap<String, Result<Arc<Compiled>, String>>>,
}

/// A compiled expression and the variables it reads.
pub struct Compiled {
    program: Program,
    /// Identifiers the expression reads outside its comprehensions (`self`, `oldSelf`, `object`…).
    pub variables: Vec<String>,
}

impl Compiled {
    pub fn reads(&self, name: &str) -> bool {
        self.variables.iter().any(|v| v == name)
    }
}

impl Default for Evaluator {
    fn default() -> Self {
        Evaluator::new()
    }
}

impl Evaluator {
    pub fn new() -> Evaluator {
        Evaluator { root: library::context(env()), programs: RefCell::new(HashMap::new()) }
    }

    /// The program for `source`, or the compiler's message.
    pub fn compile(&self, source: &str) -> Result<Arc<Compiled>, String> {
        if let Some(p) = self.programs.borrow().get(source) {
            return p.clone();
        }
        let compiled = if source.len() > MAX_RULE_CHARS {
            Err(format!("expression is longer than {MAX_RULE_CHARS} characters"))
        } else {
            env().compile(source).map_err(|e| e.to_string()).map(|program| {
                let mut variables = Vec::new();
                free_variables(&program.expression().expr, &mut Vec::new(), &mut variables);
                variables.sort();
                variables.dedup();
                Arc::new(Compiled { program, variables })
            })
        };
        self.programs.borrow_mut().insert(source.to_string(), compiled.clone());
        compiled
    }

    /// Runs a program with the given variables.
    pub fn eval(&self, program: &Compiled, vars: &[(&str, &Value)]) -> Result<Value, String> {
        self.run(program, &self.scope(vars)?)
    }

    /// A scope holding `vars`, converted once for every program run in it (or in its children).
    pub fn scope(&self, vars: &[(&str, &Value)]) -> Result<Scope<'_>, String> {
        child(&self.root, vars)
    }

    /// Runs a program in a scope.
    pub fn run(&self, program: &Compiled, scope: &Scope<'_>) -> Result<Value, String> {
        program.program.execute(scope).map_err(|e| message(&e))
    }
}

/// Variables for programs: a scope of the evaluator's root, or of another scope.
pub type Scope<'a> = Context<'a, 'static>;

/// A scope inside `parent` adding `vars` (which hide the parent's of the same name).
pub fn child<'a>(parent: &'a Scope<'_>, vars: &[(&str, &Value)]) -> Result<Scope<'a>, String> {
    let mut ctx = parent.new_inner_scope();
    for (name, value) in vars {
        let val: Box<dyn cel::common::value::Val> = (*value).clone().try_into().map_err(|e| message(&e))?;
        ctx.add_variable_as_val(*name, val);
    }
    Ok(ctx)
}

/// The identifiers an expression reads, but those its comprehensions bind.
fn free_variables(expr: &Expr, bound: &mut Vec<String>, out: &mut Vec<String>) {
    match expr {
        Expr::Ident(name) if !name.starts_with('@') && !bound.contains(name) => out.push(name.clone()),
        Expr::Call(call) => {
            call.target.iter().for_each(|t| free_variables(&t.expr, bound, out));
            call.args.iter().for_each(|a| free_variables(&a.expr, bound, out));
        }
        Expr::Select(select) => free_variables(&select.operand.expr, bound, out),
        Expr::List(list) => list.elements.iter().for_each(|e| free_variables(&e.expr, bound, out)),
        Expr::Map(map) => {
            for entry in &map.entries {
                if let cel::common::ast::EntryExpr::MapEntry(e) = &entry.expr {
                    free_variables(&e.key.expr, bound, out);
                    free_variables(&e.value.expr, bound, out);
                }
            }
        }
        Expr::Comprehension(c) => {
            free_variables(&c.iter_range.expr, bound, out);
            free_variables(&c.accu_init.expr, bound, out);
            let added: Vec<String> =
                [Some(&c.iter_var), c.iter_var2.as_ref(), Some(&c.accu_var)].into_iter().flatten().cloned().collect();
            bound.extend(added.iter().cloned());
            for e in [&c.loop_cond, &c.loop_step, &c.result] {
                free_variables(&e.expr, bound, out);
            }
            bound.truncate(bound.len() - added.len());
        }
        _ => {}
    }
}

/// An evaluation error worded as cel-go words it (what the server puts in its message).
pub fn message(e: &ExecutionError) -> String {
    match e {
        ExecutionError::NoSuchKey(k) => format!("no such key: {k}"),
        ExecutionError::DivisionByZero(_) => "division by zero".to_string(),
        ExecutionError::RemainderByZero(_) => "modulus by zero".to_string(),
        ExecutionError::Overflow(..) => "integer overflow".to_string(),
        ExecutionError::NoSuchOverload(_) => "no such overload".to_string(),
        ExecutionError::FunctionError { message, .. } => message.clone(),
        ExecutionError::UndeclaredReference(name) => format!("no such attribute(s): {name}"),
        ExecutionError::IndexOutOfBounds(i) => match i {
            Value::Int(i) => format!("index out of bounds: {i}"),
            _ => "index out of bounds".to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> Result<Value, String> {
        let ev = Evaluator::new();
        let p = ev.compile(src)?;
        ev.eval(&p, &[])
    }

    #[test]
    fn kubernetes_libraries() {
        let t = Value::Bool(true);
        for src in [
            "[1, 2, 3].isSorted() && [3, 1].sum() == 4 && [2, 5, 1].min() == 1 && [2, 5].max() == 5",
            "[1, 2, 1].indexOf(1) == 0 && [1, 2, 1].lastIndexOf(1) == 2 && 'abca'.indexOf('a') == 0",
            "quantity('1Gi').isGreaterThan(quantity('1G')) && quantity('500m').add(1).asApproximateFloat() == 1.5",
            "quantity('2').asInteger() == 2 && isQuantity('1Ki') && !isQuantity('1KB')",
            "ip('10.0.0.1').family() == 4 && cidr('10.0.0.0/8').containsIP('10.1.2.3') && isCIDR('::/0')",
            "url('https://example.com:80/x?a=1').getPort() == '80' && url('https://e.com/').getQuery() == {}",
            "'abc 123 def 456'.find('[0-9]+') == '123' && 'a1b2'.findAll('[0-9]') == ['1', '2']",
            "semver('1.2.3').isLessThan(semver('1.10.0')) && semver('1.2.3').major() == 1 && isSemver('v1.2', true)",
            "!format.dns1123Label().validate('ok-name').hasValue() && format.named('uuid').hasValue()",
            "sets.contains([1, 2, 3], [2]) && sets.intersects([1], [1, 5]) && !sets.equivalent([1], [2])",
            "[1, 2].all(x, x > 0) && [1, 2].exists_one(x, x == 2) && [1, 2].map(x, x * 2) == [2, 4]",
            "'a,b'.split(',') == ['a', 'b'] && optional.of(1).orValue(2) == 1 && {'a': 1}.?b.orValue(3) == 3",
        ] {
            assert_eq!(run(src), Ok(t.clone()), "{src}");
        }
    }

    #[test]
    fn errors_worded_as_cel_go() {
        assert_eq!(run("{'a': 1}.b == 1"), Err("no such key: b".to_string()));
        assert_eq!(run("1 / 0 == 1"), Err("division by zero".to_string()));
        assert!(run("1 +").is_err());
    }

    #[test]
    fn free_variables_leave_out_comprehension_bindings() {
        let ev = Evaluator::new();
        let p = ev.compile("self.items.all(i, i.x < oldSelf.max)").unwrap();
        assert_eq!(p.variables, vec!["oldSelf".to_string(), "self".to_string()]);
    }
}
