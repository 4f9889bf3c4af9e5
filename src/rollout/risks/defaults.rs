//! Values the API server filled in that a later apply collides with.
//!
//! Server-side apply removes only the fields its manager owns. A field the server
//! defaulted (no manager owns it) stays when the new manifest leaves it out, and
//! validation then refuses the object. Found with the real kube-apiserver v1.36.2
//! (`tests/fixtures/risks/*defaulted*`): a Deployment switched to `Recreate` keeps the
//! defaulted `rollingUpdate`, a StatefulSet switched to `OnDelete` likewise. A
//! DaemonSet switched to `OnDelete` is accepted (the server drops its `rollingUpdate`).
//! A Job given a `podFailurePolicy` keeps the defaulted `podReplacementPolicy:
//! TerminatingOrFailed`, which a failure policy does not allow.

use serde_json::Value;

/// One collision: the field the server names, its words, and the one-off fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    pub field: &'static str,
    pub wording: &'static str,
    pub fix: Fix,
}

/// How to get past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// A one-off merge patch that clears the defaulted value together with the switch.
    Patch(&'static str),
    /// Write the field in the manifest with this value.
    Set(&'static str),
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
            fix: Fix::Patch(r#"{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}"#),
        }],
        ("apps", "StatefulSet") if switched("/spec/updateStrategy", "OnDelete") => vec![Trap {
            field: "spec.updateStrategy.rollingUpdate",
            wording: "only allowed for updateStrategy 'RollingUpdate'",
            fix: Fix::Patch(r#"{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}"#),
        }],
        ("batch", "Job") if gains_failure_policy(b, a) => vec![Trap {
            field: "spec.podReplacementPolicy",
            wording: "Unsupported value: \"TerminatingOrFailed\": supported values: \"Failed\"",
            fix: Fix::Set("Failed"),
        }],
        _ => Vec::new(),
    }
}

/// A Job given a `podFailurePolicy` while the server's default `podReplacementPolicy`
/// (`TerminatingOrFailed`, only without a failure policy) stays.
fn gains_failure_policy(b: &Value, a: &Value) -> bool {
    let set = |v: &Value, f: &str| v.pointer(&format!("/spec/{f}")).is_some_and(|v| !v.is_null());
    !set(b, "podFailurePolicy")
        && set(a, "podFailurePolicy")
        && !set(b, "podReplacementPolicy")
        && !set(a, "podReplacementPolicy")
}
