//! Plaintext Secrets are not committed: a hydrated branch is read by everyone
//! who can read the repository, and its history keeps every value forever.
//!
//! In: a compiled batch and `strata.yaml`'s `check:` block. Out: one error per
//! `v1` `Secret` with a non-empty `data` or `stringData`, naming the template
//! (or kustomization) it came from. Passed: Secrets declared external in
//! `check.external` (`Secret/namespace/name`: the user says their values live
//! outside the repository, as `strata check`'s rules read it), and objects that
//! carry encrypted values for an operator to turn into a Secret in the cluster
//! (`SealedSecret`, `ExternalSecret`, `SopsSecret`: not `kind: Secret`).
//! `--allow-secrets` turns the check off.

use serde_json::Value;

use crate::compiled::Batch;
use crate::diag::{Diagnostic, Error};
use crate::repo::config::CheckConfig;

/// The plaintext Secrets of `compiled` not declared external.
pub fn plaintext(compiled: &Batch, check: Option<&CheckConfig>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for t in &compiled.targets {
        for r in &t.resources {
            if r.id.kind != "Secret" || !r.id.group.is_empty() {
                continue;
            }
            let ns = r.id.namespace.as_deref();
            if check.is_some_and(|c| c.is_external("Secret", ns, &r.id.name)) {
                continue;
            }
            let keys: Vec<&str> = ["data", "stringData"]
                .into_iter()
                .filter(|k| r.body.get(*k).and_then(Value::as_object).is_some_and(|m| !m.is_empty()))
                .collect();
            if keys.is_empty() {
                continue;
            }
            let name = match ns {
                Some(ns) => format!("{ns}/{}", r.id.name),
                None => r.id.name.clone(),
            };
            out.push(
                Diagnostic::error(format!(
                    "Secret `{name}` of `{}` has plaintext `{}`: refusing to commit it",
                    t.target.address(),
                    keys.join("` and `")
                ))
                .at(r.source.template.to_string()),
            );
        }
    }
    out
}

/// The error for the Secrets found, with what to do about them.
pub fn refusal(found: Vec<Diagnostic>) -> Error {
    let mut e = Error::many(found);
    if let Some(last) = e.diagnostics.last_mut() {
        last.notes.push(
            "a hydrated branch keeps every value in its history, readable by anyone who can read the repository".into(),
        );
        last.hints.push(
            "render an encrypted object instead (SealedSecret, ExternalSecret, SopsSecret), declare the Secret in \
             `strata.yaml` `check.external` (`Secret/NAMESPACE/NAME`) when its values come from elsewhere, or pass \
             `--allow-secrets`"
                .into(),
        );
    }
    e
}
