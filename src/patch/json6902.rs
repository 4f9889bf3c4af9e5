//! JSON patches (RFC 6902) through the `json-patch` crate.
//!
//! In: the text of a patch — a JSON array or a YAML list of operations, as kustomize
//! accepts — and an object. Out: the patched object. A patch applies atomically: when
//! an operation fails (a `test` that does not hold, a path that does not exist) the
//! object is left as it was and the error names the operation's index and path, so
//! the caller can point at the operation in the patch file.

use json_patch::{Patch, PatchErrorKind, PatchOperation};
use serde_json::Value;

/// A parsed JSON patch with each operation's index in its file.
#[derive(Debug, Clone)]
pub struct JsonPatch {
    pub ops: Patch,
}

/// Why parsing a JSON patch failed; `op` is the index of the bad operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub op: Option<usize>,
    pub message: String,
}

/// Why applying an operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyError {
    /// 0-based index of the failing operation.
    pub op: usize,
    /// `add`, `remove`, `replace`, `move`, `copy` or `test`.
    pub name: &'static str,
    /// The operation's `path`.
    pub path: String,
    pub message: String,
}

/// Reads the operations from an already-parsed YAML or JSON list.
pub fn from_value(v: &Value) -> Result<JsonPatch, ParseError> {
    let Some(items) = v.as_array() else {
        return Err(ParseError { op: None, message: "a JSON patch must be a list of operations".into() });
    };
    let mut ops = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let op = serde_json::from_value::<PatchOperation>(item.clone()).map_err(|e| ParseError {
            op: Some(i),
            message: format!("operation {i} is not a valid JSON patch operation: {e}"),
        })?;
        ops.push(op);
    }
    Ok(JsonPatch { ops: Patch(ops) })
}

fn op_name(op: &PatchOperation) -> &'static str {
    match op {
        PatchOperation::Add(_) => "add",
        PatchOperation::Remove(_) => "remove",
        PatchOperation::Replace(_) => "replace",
        PatchOperation::Move(_) => "move",
        PatchOperation::Copy(_) => "copy",
        PatchOperation::Test(_) => "test",
    }
}

/// Applies every operation to `doc`, or none of them.
pub fn apply(doc: &mut Value, patch: &JsonPatch) -> Result<(), ApplyError> {
    json_patch::patch(doc, &patch.ops).map_err(|e| {
        let name = patch.ops.get(e.operation).map(op_name).unwrap_or("?");
        let message = match e.kind {
            PatchErrorKind::TestFailed => "the value differs from the one the `test` expects".to_string(),
            PatchErrorKind::InvalidFromPointer => "its `from` path does not exist in the object".to_string(),
            PatchErrorKind::InvalidPointer => "its path does not exist in the object".to_string(),
            PatchErrorKind::CannotMoveInsideItself => "it moves a value inside itself".to_string(),
            _ => e.kind.to_string(),
        };
        ApplyError { op: e.operation, name, path: e.path.to_string(), message }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj() -> Value {
        json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a", "image": "a:1"}]}}}})
    }

    #[test]
    fn operations_apply_in_order() {
        // (ops, pointer, expected value there)
        let cases = [
            (json!([{"op": "replace", "path": "/spec/replicas", "value": 3}]), "/spec/replicas", json!(3)),
            (
                json!([{"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "b"}}]),
                "/spec/template/spec/containers/1/name",
                json!("b"),
            ),
            (
                json!([{"op": "remove", "path": "/spec/replicas"}]),
                "/spec",
                json!({"template": {"spec": {"containers": [{"name": "a", "image": "a:1"}]}}}),
            ),
            (json!([{"op": "copy", "from": "/spec/replicas", "path": "/spec/min"}]), "/spec/min", json!(1)),
            (json!([{"op": "move", "from": "/spec/replicas", "path": "/spec/max"}]), "/spec/max", json!(1)),
            (
                json!([{"op": "test", "path": "/spec/replicas", "value": 1}, {"op": "replace", "path": "/spec/replicas", "value": 2}]),
                "/spec/replicas",
                json!(2),
            ),
        ];
        for (ops, ptr, want) in cases {
            let p = from_value(&ops).unwrap();
            let mut doc = obj();
            apply(&mut doc, &p).unwrap_or_else(|e| panic!("{ops}: {e:?}"));
            assert_eq!(doc.pointer(ptr), Some(&want), "{ops}");
        }
    }

    #[test]
    fn failures_name_the_operation_and_leave_the_object_alone() {
        let cases = [
            (
                json!([{"op": "replace", "path": "/spec/replicas", "value": 2}, {"op": "test", "path": "/spec/replicas", "value": 5}]),
                1,
                "test",
                "/spec/replicas",
            ),
            (json!([{"op": "remove", "path": "/spec/nope"}]), 0, "remove", "/spec/nope"),
            (json!([{"op": "replace", "path": "/metadata/name", "value": "x"}]), 0, "replace", "/metadata/name"),
        ];
        for (ops, idx, name, path) in cases {
            let p = from_value(&ops).unwrap();
            let mut doc = obj();
            let e = apply(&mut doc, &p).unwrap_err();
            assert_eq!((e.op, e.name, e.path.as_str()), (idx, name, path), "{ops}");
            assert_eq!(doc, obj(), "atomic: {ops}");
        }
    }

    #[test]
    fn malformed_operations_are_named_by_index() {
        let e = from_value(&json!([{"op": "add", "path": "/a", "value": 1}, {"op": "ad", "path": "/b"}])).unwrap_err();
        assert_eq!(e.op, Some(1));
        assert!(e.message.contains("operation 1"));
        assert!(from_value(&json!({"op": "add"})).is_err());
    }
}
