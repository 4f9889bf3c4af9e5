//! Values the API server filled in that a later apply collides with.
//!
//! Server-side apply removes only the fields its manager owns. A field the server
//! defaulted (no manager owns it) stays when the new manifest leaves it out, and
//! validation then refuses the object. Found with the real kube-apiserver v1.36.2
//! (`tests/fixtures/risks/*defaulted*`): a Deployment switched to `Recreate` keeps the
//! defaulted `rollingUpdate`, a StatefulSet switched to `OnDelete` likewise. A
//! DaemonSet switched to `OnDelete` is accepted (the server drops its `rollingUpdate`).

use serde_json::Value;

/// One collision: the field the server names, its words, and the one-off fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    pub field: &'static str,
    pub wording: &'static str,
    /// The merge patch that clears the defaulted value together with the switch.
    pub patch: &'static str,
}

/// The traps an update from `b` to `a` falls into.
pub fn traps(group: &str, kind: &str, b: &Value, a: &Value) -> Vec<Trap> {
    let strategy = |v: &Value, at: &str| -> (String, bool) {
        let s = v.pointer(at);
        let ty = s.and_then(|s| s.get("type")).and_then(Value::as_str).unwrap_or("RollingUpdate");
        (ty.to_string(), s.and_then(|s| s.get("rollingUpdate")).is_some_and(|r| !r.is_null()))
    };
    let switched = |at: &str, to: &str| {
        let ((tb, owned), (ta, _)) = (strategy(b, at), strategy(a, at));
        // Owned by the manifest before, the apply removes it; defaulted, it stays.
        tb == "RollingUpdate" && !owned && ta == to
    };
    match (group, kind) {
        ("apps", "Deployment") if switched("/spec/strategy", "Recreate") => vec![Trap {
            field: "spec.strategy.rollingUpdate",
            wording: "may not be specified when strategy `type` is 'Recreate'",
            patch: r#"{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}"#,
        }],
        ("apps", "StatefulSet") if switched("/spec/updateStrategy", "OnDelete") => vec![Trap {
            field: "spec.updateStrategy.rollingUpdate",
            wording: "only allowed for updateStrategy 'RollingUpdate'",
            patch: r#"{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}"#,
        }],
        _ => Vec::new(),
    }
}
