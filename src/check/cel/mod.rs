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

/// The variables holding JSON documents whose reads [`Compiled::paths`] follows: what
/// admission gives its expressions besides `variables` and `authorizer`.
pub const DOCUMENTS: [&str; 5] = ["object", "oldObject", "request", "namespaceObject", "params"];

/// Variables holding anything else: an expression reading one has no [`Compiled::paths`].
const OTHER_VARIABLES: [&str; 4] = ["variables", "authorizer", "self", "oldSelf"];

/// A compiled expression and the variables it reads.
pub struct Compiled {
    program: Program,
    /// Identifiers the expression reads outside its comprehensions (`self`, `oldSelf`, `object`…).
    pub variables: Vec<String>,
    /// Where the expression reads [`DOCUMENTS`], sorted: the path of every chain of field
    /// selections it starts from one (`object.spec.replicas` → `(0, [spec, replicas])`, a
    /// document read whole → `(d, [])`), through comprehensions (`object.x.all(c, c.y)` →
    /// `[x, Each, y]` and `[x, Each, Nothing]`), `in` and `size()`. `None` when it reads
    /// another variable. Its value is a function of what these paths reach.
    pub paths: Option<Vec<DocPath>>,
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
                let mut paths = Some(Vec::new());
                document_paths(&program.expression().expr, &mut Vec::new(), &mut paths);
                if let Some(p) = paths.as_mut() {
                    p.sort();
                    p.dedup();
                }
                Arc::new(Compiled { program, variables, paths })
            })
        };
        self.programs.borrow_mut().insert(source.to_string(), compiled.clone());
        compiled
    }

    /// Runs a program with the given variables.
    pub fn eval(&self, program: &Compiled, vars: &[(&str, &Value)]) -> Result<Value, String> {
        self.run(program, &child(&self.root, vars)?)
    }

    /// The scope of the functions alone, whose children may hold values that borrow (`'v`).
    pub fn root(&self) -> &Scope<'_, '_> {
        &self.root
    }

    /// Runs a program in a scope.
    pub fn run(&self, program: &Compiled, scope: &Scope<'_, '_>) -> Result<Value, String> {
        program.program.execute(scope).map_err(|e| message(&e))
    }
}

/// Variables for programs: a scope of the evaluator's root, or of another scope. Its
/// values live for `'v` (`'static` when they own their data).
pub type Scope<'a, 'v> = Context<'a, 'v>;

/// A scope inside `parent` adding `vars` (which hide the parent's of the same name).
pub fn child<'a, 'v>(parent: &'a Scope<'_, 'v>, vars: &[(&str, &Value)]) -> Result<Scope<'a, 'v>, String> {
    let mut ctx = parent.new_inner_scope();
    for (name, value) in vars {
        let val: Box<dyn cel::common::value::Val> = (*value).clone().try_into().map_err(|e| message(&e))?;
        ctx.add_variable_as_val(*name, val);
    }
    Ok(ctx)
}

/// What a call (its target, then its arguments), a list or a map literal (keys and values)
/// is made of.
fn operands(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::Call(call) => call.target.iter().map(|t| &**t).chain(&call.args).map(|e| &e.expr).collect(),
        Expr::List(list) => list.elements.iter().map(|e| &e.expr).collect(),
        Expr::Map(map) => map
            .entries
            .iter()
            .filter_map(|entry| match &entry.expr {
                cel::common::ast::EntryExpr::MapEntry(e) => Some([&e.key.expr, &e.value.expr]),
                _ => None,
            })
            .flatten()
            .collect(),
        _ => Vec::new(),
    }
}

/// The identifiers an expression reads, but those its comprehensions bind.
fn free_variables(expr: &Expr, bound: &mut Vec<String>, out: &mut Vec<String>) {
    match expr {
        Expr::Ident(name) if !name.starts_with('@') && !bound.contains(name) => out.push(name.clone()),
        Expr::Call(_) | Expr::List(_) | Expr::Map(_) => {
            operands(expr).into_iter().for_each(|e| free_variables(e, bound, out))
        }
        Expr::Select(select) => free_variables(&select.operand.expr, bound, out),
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

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    /// A field selection (`.spec`).
    Field(String),
    /// A literal index into a list (`containers[0]`).
    Index(i64),
    /// Every element of a list, every key of a map: what a comprehension iterates and `in` reads.
    Each,
    /// Nothing of the value but that it is there (the elements a comprehension iterates
    /// without reading them, the length `size()` reads).
    Nothing,
}

/// A path into document `.0` of [`DOCUMENTS`].
pub type DocPath = (usize, Vec<Segment>);

/// What a selection chain starts from.
enum Chain {
    /// A document, or a comprehension variable iterating one: the path read.
    Document(DocPath),
    /// A value the expression computed (whose reads are the computing expression's), a
    /// function namespace or an undeclared name.
    Computed,
    /// A variable that is no document (`variables`, `self`…).
    Other,
}

/// Comprehension variables in scope: each with the document path it iterates, if any.
type Bound = Vec<(String, Option<DocPath>)>;

/// `a.b.c`, `has(a.b.c)`, `a.b[0].c`: what the chain of field selections and literal
/// indexes starts from, with the steps added; `None` when `expr` is no such chain.
fn chain(expr: &Expr, bound: &Bound) -> Option<Chain> {
    match expr {
        Expr::Ident(name) => Some(match bound.iter().rev().find(|(b, _)| b == name) {
            Some((_, Some(path))) => Chain::Document(path.clone()),
            Some((_, None)) => Chain::Computed,
            None => match DOCUMENTS.iter().position(|d| d == name) {
                Some(d) => Chain::Document((d, Vec::new())),
                None if OTHER_VARIABLES.contains(&name.as_str()) => Chain::Other,
                None => Chain::Computed,
            },
        }),
        Expr::Select(select) => Some(match chain(&select.operand.expr, bound)? {
            Chain::Document((d, mut path)) => {
                path.push(Segment::Field(select.field.clone()));
                // `has(a.b)` reads whether `b` is there, not what it holds.
                if select.test {
                    path.push(Segment::Nothing);
                }
                Chain::Document((d, path))
            }
            other => other,
        }),
        Expr::Call(call) if call.func_name == "_[_]" && call.target.is_none() && call.args.len() == 2 => {
            let Expr::Literal(cel::common::ast::LiteralValue::Int(i)) = &call.args[1].expr else { return None };
            Some(match chain(&call.args[0].expr, bound)? {
                Chain::Document((d, mut path)) => {
                    path.push(Segment::Index(*i.inner()));
                    Chain::Document((d, path))
                }
                other => other,
            })
        }
        _ => None,
    }
}

/// When `expr` is a [`chain`], its path (with `tail`, what is read of the value it reaches:
/// nothing added, all of it) into `out`, and `true`.
fn read_chain(expr: &Expr, bound: &Bound, tail: &[Segment], out: &mut Option<Vec<DocPath>>) -> bool {
    match chain(expr, bound) {
        Some(Chain::Document((d, mut path))) => {
            path.extend_from_slice(tail);
            if let Some(o) = out.as_mut() {
                o.push((d, path));
            }
            true
        }
        Some(Chain::Other) => {
            *out = None;
            true
        }
        Some(Chain::Computed) => true,
        None => false,
    }
}

/// [`Compiled::paths`] of `expr` into `out` (`None` once another variable is read).
fn document_paths(expr: &Expr, bound: &mut Bound, out: &mut Option<Vec<DocPath>>) {
    if read_chain(expr, bound, &[], out) {
        return;
    }
    match expr {
        // `x in list` reads the list's elements, `x in map` its keys.
        Expr::Call(call) if call.func_name == "@in" && call.target.is_none() && call.args.len() == 2 => {
            document_paths(&call.args[0].expr, bound, out);
            if !read_chain(&call.args[1].expr, bound, &[Segment::Each], out) {
                document_paths(&call.args[1].expr, bound, out);
            }
        }
        // `size()` reads a list's length, a map's keys (a string's length: the string).
        Expr::Call(call) if call.func_name == "size" && (call.args.len() + usize::from(call.target.is_some())) == 1 => {
            let of = match (&call.target, call.args.first()) {
                (Some(target), _) => &**target,
                (None, Some(arg)) => arg,
                (None, None) => return,
            };
            if !read_chain(&of.expr, bound, &[Segment::Each, Segment::Nothing], out) {
                document_paths(&of.expr, bound, out);
            }
        }
        Expr::Call(_) | Expr::List(_) | Expr::Map(_) => {
            operands(expr).into_iter().for_each(|e| document_paths(e, bound, out))
        }
        Expr::Comprehension(c) => {
            // Iterating a document path with one variable: the variable stands for each
            // element (each key of a map), and the iteration reads how many there are.
            let iterated = match (&c.iter_var2, chain(&c.iter_range.expr, bound)) {
                (None, Some(Chain::Document((d, path)))) => {
                    let mut each = path;
                    each.push(Segment::Each);
                    let mut shape = each.clone();
                    shape.push(Segment::Nothing);
                    if let Some(o) = out.as_mut() {
                        o.push((d, shape));
                    }
                    Some((d, each))
                }
                _ => {
                    document_paths(&c.iter_range.expr, bound, out);
                    None
                }
            };
            document_paths(&c.accu_init.expr, bound, out);
            let before = bound.len();
            bound.push((c.iter_var.clone(), iterated));
            bound.extend(c.iter_var2.iter().map(|v| (v.clone(), None)));
            bound.push((c.accu_var.clone(), None));
            for e in [&c.loop_cond, &c.loop_step, &c.result] {
                document_paths(&e.expr, bound, out);
            }
            bound.truncate(before);
        }
        // A selection from a computed value: what computed it.
        Expr::Select(select) => document_paths(&select.operand.expr, bound, out),
        Expr::Literal(_) | Expr::Ident(_) => {}
        // Struct literals (not in Kubernetes' environment): not followed.
        Expr::Struct(_) | Expr::Unspecified => *out = None,
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
    fn document_paths_follow_selections_comprehensions_in_and_size() {
        use Segment::{Each, Field, Index, Nothing};
        let ev = Evaluator::new();
        let paths = |src: &str| ev.compile(src).unwrap().paths.clone();
        let f = |s: &str| Field(s.to_string());
        assert_eq!(
            paths("object.spec.replicas >= 1 && has(object.metadata.labels) && request.operation == 'CREATE'"),
            Some(vec![
                (0, vec![f("metadata"), f("labels"), Nothing]),
                (0, vec![f("spec"), f("replicas")]),
                (2, vec![f("operation")])
            ])
        );
        // A chain goes through literal indexes and ends at anything else: a computed
        // index, a call, an optional selection.
        assert_eq!(
            paths(
                "has(object.c[0].p) && object.d[object.i] == 1 && object.spec.?x.hasValue() && type(oldObject) == map"
            ),
            Some(vec![
                (0, vec![f("c"), Index(0), f("p"), Nothing]),
                (0, vec![f("d")]),
                (0, vec![f("i")]),
                (0, vec![f("spec")]),
                (1, vec![])
            ])
        );
        // Comprehension variables stand for each element; iterating reads the count.
        assert_eq!(
            paths("object.cs.all(c, c.image.startsWith('r') && c.ports.all(p, p.port > 0))"),
            Some(vec![
                (0, vec![f("cs"), Each, f("image")]),
                (0, vec![f("cs"), Each, f("ports"), Each, f("port")]),
                (0, vec![f("cs"), Each, f("ports"), Each, Nothing]),
                (0, vec![f("cs"), Each, Nothing]),
            ])
        );
        // `in` reads elements or keys, `size()` how many; computed values are their makers'.
        assert_eq!(
            paths("'k' in object.labels && size(object.items) > 0 && object.xs.map(x, x.n).all(n, n > 1)"),
            Some(vec![
                (0, vec![f("items"), Each, Nothing]),
                (0, vec![f("labels"), Each]),
                (0, vec![f("xs"), Each, f("n")]),
                (0, vec![f("xs"), Each, Nothing]),
            ])
        );
        // Comprehension variables hide documents; function namespaces are no variables.
        assert_eq!(
            paths("[1].all(object, object > 0) && format.dns1123Label().validate(params.n) == optional.none()"),
            Some(vec![(4, vec![f("n")])])
        );
        assert_eq!(paths("variables.x == object.a"), None);
        assert_eq!(paths("self.a == 1"), None);
    }

    #[test]
    fn free_variables_leave_out_comprehension_bindings() {
        let ev = Evaluator::new();
        let p = ev.compile("self.items.all(i, i.x < oldSelf.max)").unwrap();
        assert_eq!(p.variables, vec!["oldSelf".to_string(), "self".to_string()]);
    }
}
