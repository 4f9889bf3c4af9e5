//! CRD transition rules that pin a field: `x-kubernetes-validations` rules comparing
//! `self` with `oldSelf`, in the CustomResourceDefinitions the repository renders.
//!
//! Recognised forms (what CRDs write to make a field immutable or monotonic):
//! `self == oldSelf`, `oldSelf == self`, `self.x == oldSelf.x`, and the orderings
//! `self >= oldSelf` (`<=`, `>`, `<`) on numbers. A transition rule is evaluated
//! only when the field exists on both sides, as the server does. Other rules need a
//! CEL evaluator and are left to the server.

use std::collections::BTreeMap;

use serde_json::Value;

/// One pinning rule: where (JSON pointer into the object, and the field the server
/// names), the comparison, and the message the server answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub pointer: String,
    pub field: String,
    pub op: Op,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ge,
    Le,
    Gt,
    Lt,
}

/// `(group, kind)` → the pinning rules of its CRDs (every served version's schema).
pub type Pins = BTreeMap<(String, String), Vec<Pin>>;

/// Adds the pins of one CustomResourceDefinition body.
pub fn collect(crd: &Value, pins: &mut Pins) {
    let group = crd.pointer("/spec/group").and_then(Value::as_str).unwrap_or("");
    let Some(kind) = crd.pointer("/spec/names/kind").and_then(Value::as_str) else { return };
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let list = pins.entry((group.to_string(), kind.to_string())).or_default();
    for v in versions {
        if let Some(schema) = v.pointer("/schema/openAPIV3Schema") {
            walk(schema, "", list);
        }
    }
    list.sort_by(|a, b| (&a.pointer, &a.message).cmp(&(&b.pointer, &b.message)));
    list.dedup();
}

fn walk(schema: &Value, pointer: &str, out: &mut Vec<Pin>) {
    let rules = schema.get("x-kubernetes-validations").and_then(Value::as_array);
    for r in rules.into_iter().flatten() {
        let Some(text) = r.get("rule").and_then(Value::as_str) else { continue };
        let Some((sub, op)) = parse(text) else { continue };
        let at = format!("{pointer}{}", sub.iter().map(|s| format!("/{s}")).collect::<String>());
        let field = r.get("fieldPath").and_then(Value::as_str).map(|f| f.trim_start_matches('.').to_string());
        let field = field.unwrap_or_else(|| pointer.trim_start_matches('/').replace('/', "."));
        let message = r.get("message").and_then(Value::as_str).map(str::to_string);
        let message = message.unwrap_or_else(|| format!("failed rule: {text}"));
        out.push(Pin { pointer: at, field, op, message });
    }
    let props = schema.get("properties").and_then(Value::as_object);
    for (k, s) in props.into_iter().flatten() {
        walk(s, &format!("{pointer}/{k}"), out);
    }
}

/// `self.a.b OP oldSelf.a.b` → (`[a, b]`, OP), either side first.
fn parse(rule: &str) -> Option<(Vec<String>, Op)> {
    let ops = [("==", Op::Eq), (">=", Op::Ge), ("<=", Op::Le), (">", Op::Gt), ("<", Op::Lt)];
    let (sym, op) = ops.iter().find(|(s, _)| rule.contains(s))?;
    let (l, r) = rule.split_once(sym)?;
    let path = |s: &str, root: &str| -> Option<Vec<String>> {
        let rest = s.trim().strip_prefix(root)?;
        if rest.is_empty() {
            return Some(Vec::new());
        }
        let rest = rest.strip_prefix('.')?;
        let parts: Vec<String> = rest.split('.').map(str::to_string).collect();
        parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(parts)
    };
    if let (Some(a), Some(b)) = (path(l, "self"), path(r, "oldSelf")) {
        return (a == b).then_some((a, *op));
    }
    let flip = match op {
        Op::Ge => Op::Le,
        Op::Le => Op::Ge,
        Op::Gt => Op::Lt,
        Op::Lt => Op::Gt,
        Op::Eq => Op::Eq,
    };
    let (a, b) = (path(l, "oldSelf")?, path(r, "self")?);
    (a == b).then_some((a, flip))
}

/// The pins an update from `b` to `a` breaks: `(field, message)`.
pub fn broken<'p>(pins: &'p [Pin], b: &Value, a: &Value) -> Vec<&'p Pin> {
    pins.iter()
        .filter(|p| {
            let (Some(old), Some(new)) = (b.pointer(&p.pointer), a.pointer(&p.pointer)) else { return false };
            let num = |v: &Value| v.as_f64();
            match (p.op, num(new), num(old)) {
                (Op::Eq, _, _) => old != new,
                (Op::Ge, Some(n), Some(o)) => n < o,
                (Op::Le, Some(n), Some(o)) => n > o,
                (Op::Gt, Some(n), Some(o)) => n <= o,
                (Op::Lt, Some(n), Some(o)) => n >= o,
                _ => false,
            }
        })
        .collect()
}
