//! Normal forms for comparison: canonical key order, and Secret values masked.

use serde_json::{Map, Value};

use crate::manifest::group_of;

/// What a Secret value is shown as.
pub const MASK: &str = "***";

/// The fields of a core `v1` Secret whose values are secret.
const SECRET_FIELDS: &[&str] = &["data", "stringData"];

/// `kubectl apply` copies the whole object, values included, into this annotation.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The value with every mapping's keys sorted, at every depth. Lists keep their
/// order (it is meaningful in Kubernetes objects).
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::with_capacity(m.len());
            for k in keys {
                out.insert(k.clone(), canonical(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Whether an object body is a core Secret.
pub fn is_secret(body: &Value) -> bool {
    body.get("kind").and_then(Value::as_str) == Some("Secret")
        && body.get("apiVersion").and_then(Value::as_str).map(group_of) == Some("")
}

/// Masks the values of a Secret's `data` and `stringData` (and the copy of them in
/// `kubectl.kubernetes.io/last-applied-configuration`), on both sides of a
/// comparison at once so that what changed stays visible without showing what it
/// is: a key whose value is the same on both sides becomes `***`; a key whose value
/// changed becomes `*** (before)` on the before side and `*** (after)` on the after
/// side; a key on one side only becomes `***`. Neither a value nor a hash of one
/// survives. Bodies that are not Secrets are returned unchanged.
pub fn mask_secret(before: Option<&Value>, after: Option<&Value>) -> (Option<Value>, Option<Value>) {
    let mut b = before.cloned();
    let mut a = after.cloned();
    let secret = |v: &Option<Value>| v.as_ref().is_some_and(is_secret);
    let (mb, ma) = (secret(&b), secret(&a));
    if !mb && !ma {
        return (b, a);
    }
    let mut bm = if mb { b.as_mut().and_then(Value::as_object_mut) } else { None };
    let mut am = if ma { a.as_mut().and_then(Value::as_object_mut) } else { None };
    for field in SECRET_FIELDS {
        mask_field(bm.as_deref_mut(), am.as_deref_mut(), field);
    }
    mask_field(annotations(bm), annotations(am), LAST_APPLIED);
    (b, a)
}

fn annotations(m: Option<&mut Map<String, Value>>) -> Option<&mut Map<String, Value>> {
    m.and_then(|m| m.get_mut("metadata")).and_then(|m| m.get_mut("annotations")).and_then(Value::as_object_mut)
}

/// Masks `field` of two parent mappings (either may be absent).
fn mask_field(before: Option<&mut Map<String, Value>>, after: Option<&mut Map<String, Value>>, field: &str) {
    let bv = before.and_then(|m| m.get_mut(field));
    let av = after.and_then(|m| m.get_mut(field));
    match (bv, av) {
        (Some(Value::Object(bm)), Some(Value::Object(am))) => {
            for (k, v) in bm.iter_mut() {
                mask_pair(Some(v), am.get_mut(k));
            }
            for (k, v) in am.iter_mut() {
                if !bm.contains_key(k) {
                    mask_pair(None, Some(v));
                }
            }
        }
        (Some(Value::Object(m)), other) | (other, Some(Value::Object(m))) if other.is_none() => {
            for v in m.values_mut() {
                *v = Value::String(MASK.into());
            }
        }
        (bv, av) => mask_pair(bv, av),
    }
}

/// Masks one value present on one or both sides.
fn mask_pair(before: Option<&mut Value>, after: Option<&mut Value>) {
    match (before, after) {
        (Some(b), Some(a)) if b == a => {
            *b = Value::String(MASK.into());
            *a = Value::String(MASK.into());
        }
        (Some(b), Some(a)) => {
            *b = Value::String(format!("{MASK} (before)"));
            *a = Value::String(format!("{MASK} (after)"));
        }
        (Some(v), None) | (None, Some(v)) => *v = Value::String(MASK.into()),
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data})
    }

    #[test]
    fn canonical_sorts_keys_at_every_depth_and_keeps_lists() {
        let v = json!({"b": {"z": 1, "a": [{"y": 1, "x": 2}, 3]}, "a": null});
        let c = canonical(&v);
        assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"a":null,"b":{"a":[{"x":2,"y":1},3],"z":1}}"#);
        assert_eq!(canonical(&c), c, "idempotent");
    }

    #[test]
    fn masks_secret_values_pairwise() {
        // (before data, after data, expected before, expected after)
        let cases = [
            (json!({"k": "YQ=="}), json!({"k": "YQ=="}), json!({"k": "***"}), json!({"k": "***"})),
            (json!({"k": "YQ=="}), json!({"k": "Yg=="}), json!({"k": "*** (before)"}), json!({"k": "*** (after)"})),
            (json!({"old": "YQ=="}), json!({"new": "YQ=="}), json!({"old": "***"}), json!({"new": "***"})),
            (json!({"k": "YQ==", "n": 1}), json!({"k": "YQ=="}), json!({"k": "***", "n": "***"}), json!({"k": "***"})),
            (json!("not-a-map"), json!("other"), json!("*** (before)"), json!("*** (after)")),
        ];
        for (b, a, eb, ea) in cases {
            let (mb, ma) = mask_secret(Some(&secret(b.clone())), Some(&secret(a.clone())));
            assert_eq!(mb.unwrap()["data"], eb, "{b} -> {a}");
            assert_eq!(ma.unwrap()["data"], ea, "{b} -> {a}");
        }
    }

    #[test]
    fn masks_one_sided_secrets_string_data_and_last_applied() {
        let s = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "annotations": {LAST_APPLIED: "{\"data\":{\"k\":\"c2VjcmV0\"}}", "keep": "me"}},
            "stringData": {"password": "hunter2"}, "type": "Opaque",
        });
        let (b, a) = mask_secret(None, Some(&s));
        assert_eq!(b, None);
        let a = a.unwrap();
        assert_eq!(a["stringData"]["password"], "***");
        assert_eq!(a["metadata"]["annotations"][LAST_APPLIED], "***");
        assert_eq!(a["metadata"]["annotations"]["keep"], "me");
        assert_eq!(a["type"], "Opaque");
        let text = serde_json::to_string(&a).unwrap();
        assert!(!text.contains("hunter2") && !text.contains("c2VjcmV0"), "{text}");
    }

    #[test]
    fn leaves_other_objects_alone() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}});
        assert_eq!(mask_secret(Some(&cm), Some(&cm)), (Some(cm.clone()), Some(cm.clone())));
        // A custom resource called Secret in another group is not a core Secret.
        let custom =
            json!({"apiVersion": "example.com/v1", "kind": "Secret", "metadata": {"name": "c"}, "data": {"k": "v"}});
        assert!(!is_secret(&custom));
        assert_eq!(mask_secret(Some(&custom), None).0.unwrap()["data"]["k"], "v");
    }
}
