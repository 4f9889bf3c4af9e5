//! CRD validation rules: every `x-kubernetes-validations` rule of a schema, at every level,
//! evaluated against the part of the object it sits on (`self`), as the API server does on
//! a create, or on an update when the old object is given (`oldSelf`, ratcheting).
//!
//! What the server does and this follows: a rule runs only where its node is present (not
//! null); rules under a list run per item and under a map per value; the failure is
//! `Invalid value` (or the rule's `reason`) at the node's path extended by `fieldPath`,
//! with `messageExpression`, else `message`, else `failed rule: <rule>`; an evaluation
//! error is `Invalid value: "<type>": <error> evaluating rule: <rule>`. A transition rule
//! (one that reads `oldSelf`) runs only on an update where the old node exists, or with
//! `optionalOldSelf` (then `oldSelf` is an optional); on an update, the other rules of a
//! node whose value did not change are skipped (validation ratcheting). A node whose type
//! differs from its schema is left to the `schema` rule.

use serde_json::Value;

use super::Evaluator;
use super::library::optional;
use super::value::{shown, to_cel};
use crate::check::crd::Crds;
use crate::check::openapi::{Additional, Schema, ValidationRule};
use crate::check::{FieldPath, PathSeg};

/// One refused rule, as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The field, for locating it in a template.
    pub field: FieldPath,
    /// The field as the server prints it (`spec.items[0]`, `<nil>` for the object).
    pub server_field: String,
    /// The server's message (`Invalid value: 3: must be even`).
    pub message: String,
}

/// What the rules of one object found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub failures: Vec<Failure>,
    /// Transition rules not evaluated because no old object was given: (field, rule).
    pub skipped: Vec<(String, String)>,
}

/// Evaluates every rule of `schema` against `new` (a create), or against `new` replacing
/// `old` (an update).
pub fn evaluate(ev: &Evaluator, schema: &Schema, new: &Value, old: Option<&Value>) -> Outcome {
    let mut walk = Walk { ev, update: old.is_some(), out: Outcome::default() };
    let mut at = At { field: FieldPath::root(), server: String::new() };
    walk.node(new, old, schema, &mut at, true);
    walk.out
}

/// The rules of the CRD among `crds` (CustomResourceDefinition bodies) that serves `new`'s
/// apiVersion and kind, evaluated; `None` when no CRD serves it.
pub fn evaluate_crd(ev: &Evaluator, crds: &[Value], new: &Value, old: Option<&Value>) -> Option<Outcome> {
    let crds = Crds::from_bodies(crds);
    let schema = schema_for(&crds, new)?;
    Some(evaluate(ev, schema, new, old))
}

/// The schema of the CRD version that serves `object`.
pub fn schema_for<'a>(crds: &'a Crds, object: &Value) -> Option<&'a Schema> {
    let api = object.get("apiVersion")?.as_str()?;
    let kind = object.get("kind")?.as_str()?;
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    crds.versions(group, kind)?.get(version).filter(|v| v.served)?.schema.as_ref()
}

#[derive(Clone)]
struct At {
    field: FieldPath,
    server: String,
}

impl At {
    fn child(&self, key: &str) -> At {
        let server = if self.server.is_empty() { key.to_string() } else { format!("{}.{key}", self.server) };
        At { field: self.field.join(&[key]), server }
    }

    fn map_key(&self, key: &str) -> At {
        At { field: self.field.join(&[key]), server: format!("{}[{key}]", self.server) }
    }

    fn index(&self, i: usize) -> At {
        At { field: self.field.index(i), server: format!("{}[{i}]", self.server) }
    }

    fn shown(&self) -> String {
        if self.server.is_empty() { "<nil>".to_string() } else { self.server.clone() }
    }
}

struct Walk<'a> {
    ev: &'a Evaluator,
    update: bool,
    out: Outcome,
}

impl Walk<'_> {
    fn node(&mut self, value: &Value, old: Option<&Value>, schema: &Schema, at: &mut At, root: bool) {
        if value.is_null() || !type_matches(value, schema) {
            return;
        }
        if !schema.validations.is_empty() {
            let unchanged = old == Some(value);
            let this = to_cel(value, Some(schema), root);
            for rule in &schema.validations {
                self.rule(rule, value, &this, old, schema, at, unchanged, root);
            }
        }
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let old_child = old.and_then(|o| o.get(k));
                    if root && k == "metadata" {
                        continue;
                    }
                    if let Some(child) = schema.properties.as_ref().and_then(|p| p.get(k)) {
                        self.node(v, old_child, child, &mut at.child(k), false);
                    } else if let Some(Additional::Schema(add)) = &schema.additional_properties {
                        self.node(v, old_child, add, &mut at.map_key(k), false);
                    }
                }
            }
            Value::Array(items) => {
                let Some(item) = schema.items.as_deref() else { return };
                for (i, v) in items.iter().enumerate() {
                    let old_item = old.and_then(|o| correlated(o, v, schema));
                    self.node(v, old_item, item, &mut at.index(i), false);
                }
            }
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn rule(
        &mut self,
        rule: &ValidationRule,
        value: &Value,
        this: &cel::Value,
        old: Option<&Value>,
        schema: &Schema,
        at: &At,
        unchanged: bool,
        root: bool,
    ) {
        let program = match self.ev.compile(&rule.rule) {
            Ok(p) => p,
            Err(e) => {
                let message = format!("Invalid value: compilation failed: {e}");
                self.out.failures.push(Failure { field: at.field.clone(), server_field: at.shown(), message });
                return;
            }
        };
        if let Some(name) = program.variables.iter().find(|v| !RULE_NAMES.contains(&v.as_str())) {
            // The server refuses the CRD itself; the object cannot be created either.
            let message = format!("Invalid value: compilation failed: undeclared reference to '{name}'");
            self.out.failures.push(Failure { field: at.field.clone(), server_field: at.shown(), message });
            return;
        }
        let transition = program.reads("oldSelf");
        if !transition && unchanged {
            return;
        }
        let optional_old = rule.optional_old_self == Some(true);
        let old_self = match (transition, old) {
            (false, _) => None,
            (true, Some(o)) => {
                let o = to_cel(o, Some(schema), root);
                Some(if optional_old { optional(Some(o)) } else { o })
            }
            (true, None) if optional_old => Some(optional(None)),
            (true, None) => {
                if !self.update {
                    self.out.skipped.push((at.shown(), rule.rule.trim().to_string()));
                }
                return;
            }
        };
        let mut vars: Vec<(&str, &cel::Value)> = vec![("self", this)];
        if let Some(o) = &old_self {
            vars.push(("oldSelf", o));
        }
        let message = match self.ev.eval(&program, &vars) {
            Ok(cel::Value::Bool(true)) => return,
            Ok(cel::Value::Bool(false)) => self.refusal(rule, value, &vars),
            Ok(_) => format!("Invalid value: {:?}: rule did not evaluate to a boolean", schema_type(schema)),
            Err(e) => {
                let ty = super::value::go_quote(schema_type(schema));
                format!("Invalid value: {ty}: {e} evaluating rule: {}", rule.rule.trim())
            }
        };
        let (field, server_field) = match rule.field_path.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => with_field_path(at, p),
            None => (at.field.clone(), at.shown()),
        };
        self.out.failures.push(Failure { field, server_field, message });
    }

    /// The server's message for a rule that evaluated to false.
    fn refusal(&self, rule: &ValidationRule, value: &Value, vars: &[(&str, &cel::Value)]) -> String {
        let from_expression = rule.message_expression.as_deref().and_then(|src| {
            let p = self.ev.compile(src).ok()?;
            match self.ev.eval(&p, vars) {
                Ok(cel::Value::String(s)) if !s.trim().is_empty() && !s.contains('\n') => Some(s.to_string()),
                _ => None,
            }
        });
        let text = from_expression.unwrap_or_else(|| match rule.message.as_deref().map(str::trim) {
            Some(m) if !m.is_empty() => m.to_string(),
            _ => format!("failed rule: {}", rule.rule.trim()),
        });
        let value = shown(value);
        match rule.reason.as_deref() {
            Some("FieldValueForbidden") => format!("Forbidden: {text}"),
            Some("FieldValueRequired") => format!("Required value: {text}"),
            Some("FieldValueDuplicate") => match value {
                Some(v) => format!("Duplicate value: {v}"),
                None => "Duplicate value".to_string(),
            },
            _ => match value {
                Some(v) => format!("Invalid value: {v}: {text}"),
                None => format!("Invalid value: {text}"),
            },
        }
    }
}

/// The identifiers a CRD rule may read: `self`, `oldSelf`, type names and the namespaces of
/// library functions (`format.named`, `sets.contains`, `optional.of`, ...).
pub const RULE_NAMES: &[&str] = &[
    "self",
    "oldSelf",
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "duration",
    "timestamp",
    "optional",
    "format",
    "sets",
    "lists",
    "strings",
    "dyn",
];

/// The schema's type as the server names it in messages (`object`, `string`, `` for int-or-string).
fn schema_type(schema: &Schema) -> &str {
    schema.ty.as_deref().unwrap_or("")
}

fn type_matches(value: &Value, schema: &Schema) -> bool {
    match (schema.ty.as_deref(), value) {
        (None, _) => true,
        (Some("object"), Value::Object(_)) | (Some("array"), Value::Array(_)) => true,
        (Some("string"), Value::String(_)) | (Some("boolean"), Value::Bool(_)) => true,
        (Some("number"), Value::Number(_)) => true,
        (Some("integer"), Value::Number(n)) => n.is_i64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

/// The old item a new list item is compared with: by the map keys of a `map` list, by
/// value in a `set`; none in an atomic list.
fn correlated<'a>(old: &'a Value, item: &Value, schema: &Schema) -> Option<&'a Value> {
    let olds = old.as_array()?;
    match schema.list_type.as_deref() {
        Some("map") => {
            let keys = &schema.list_map_keys;
            olds.iter().find(|o| keys.iter().all(|k| o.get(k) == item.get(k)))
        }
        Some("set") => olds.iter().find(|o| *o == item),
        _ => None,
    }
}

/// The node's path extended by a rule's `fieldPath` (`.spec.x`, `['a.b']`, `.m['k']`).
fn with_field_path(at: &At, path: &str) -> (FieldPath, String) {
    let mut field = at.field.clone();
    let mut server = at.server.clone();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            field.0.push(PathSeg::Key(key.to_string()));
            server = if server.is_empty() { key.to_string() } else { format!("{server}.{key}") };
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("['") {
            let Some(end) = r.find("']") else { break };
            let key = &r[..end];
            field.0.push(PathSeg::Key(key.to_string()));
            server = if server.is_empty() { format!("[{key}]") } else { format!("{server}.[{key}]") };
            rest = &r[end + 2..];
        } else {
            break;
        }
    }
    (field, server)
}

#[cfg(test)]
#[path = "crd_tests.rs"]
mod tests;
