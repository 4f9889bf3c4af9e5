//! The page: `page.html` rendered with minijinja (`.html`: values auto-escaped),
//! `page.css` and `page.js` inline, the objects embedded as JSON in a
//! `<script type="application/json">` that the script draws lazily.
//!
//! The `Content-Security-Policy` meta tag allows nothing but the inline styles
//! and the one inline script, named by its SHA-256 hash: no request can leave
//! the page, opened from disk or from a CI artifact.

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::data::PageData;
use crate::diff::Report;
use crate::rollout::Plan;

const TEMPLATE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// The whole page.
pub fn render(data: &PageData) -> String {
    let mut env = minijinja::Environment::new();
    env.add_template("page.html", TEMPLATE).expect("page.html is a valid template");
    let t = data.totals;
    let ctx = json!({
        "page": data.context,
        "root": {"environments": t.environments, "objects": t.objects, "risks": t.risks, "findings": t.findings},
        "csp": csp(),
        "style": STYLE,
        "script": SCRIPT,
        "data": embedded_json(&data.objects),
    });
    let template = env.get_template("page.html").expect("added above");
    template.render(minijinja::value::Serde(&ctx)).expect("the page template renders any data")
}

/// `default-src 'none'`, inline styles, and the page's one script by hash.
pub fn csp() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
    format!("default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{hash}'")
}

/// JSON safe inside `<script>`: `<`, `>` and `&` escaped, so no `</script>` or
/// `<!--` in a value can end the element. Parsed back by the script unchanged.
fn embedded_json(v: &Value) -> String {
    let s = serde_json::to_string(v).expect("JSON values serialize");
    s.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// The summary by wave: `[{name, environments, touched, targets, objects, kinds, risks, blast}]`.
pub fn waves(plan: &Plan) -> Value {
    let waves: Vec<Value> = plan
        .waves
        .iter()
        .map(|w| {
            let kinds: Vec<String> =
                w.kinds.iter().map(|(k, c)| format!("{k} {}", c.describe(crate::diff::Vocabulary::Revisions))).collect();
            json!({
                "name": w.name,
                "environments": w.environments.len(),
                "touched": w.touched.len(),
                "targets": w.changed_targets.len(),
                "unchanged_targets": w.unchanged_targets,
                "objects": w.objects(),
                "kinds": kinds,
                "risks": w.risks.iter().map(|r| json!({
                    "kind": r.kind.word(), "target": r.target, "object": r.object, "field": r.field, "message": r.message,
                })).collect::<Vec<_>>(),
                "blast": w.cumulative.describe(),
            })
        })
        .collect();
    Value::Array(waves)
}

/// Every image change, wave by wave: `[{wave, target, container, from, to}]`.
pub fn images(plan: &Plan) -> Value {
    let images = plan.waves.iter().flat_map(|w| {
        w.images.iter().map(|i| {
            json!({
                "wave": w.name, "target": i.target, "container": i.container,
                "from": i.from.as_deref().unwrap_or("(none)"), "to": i.to.as_deref().unwrap_or("(none)"),
            })
        })
    });
    Value::Array(images.collect())
}

/// The waves × environments grid: a row per wave, a cell per environment with its
/// state (`unchanged`, `changed`, `risk`), objects changed and risks.
pub fn grid(plan: &Plan, report: &Report) -> Value {
    let rows: Vec<Value> = plan
        .waves
        .iter()
        .map(|w| {
            let cells: Vec<Value> = w
                .environments
                .iter()
                .map(|e| {
                    let objects = report
                        .environments
                        .iter()
                        .find(|r| &r.environment == e)
                        .map_or(0, |r| r.counts.added + r.counts.removed + r.counts.changed);
                    let prefix = |t: &str| t.split_once('/').is_some_and(|(_, env)| env == e);
                    let risks = w.risks.iter().filter(|r| prefix(&r.target)).count();
                    let state = match (objects, risks) {
                        (_, r) if r > 0 => "risk",
                        (0, _) => "unchanged",
                        _ => "changed",
                    };
                    json!({"environment": e, "objects": objects, "risks": risks, "state": state})
                })
                .collect();
            json!({"wave": w.name, "cells": cells})
        })
        .collect();
    Value::Array(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_json_cannot_end_its_script_element() {
        let v = json!({"a": "</script><!-- & -->"});
        let e = embedded_json(&v);
        assert!(!e.contains('<') && !e.contains('>') && !e.contains('&'), "{e}");
        assert_eq!(serde_json::from_str::<Value>(&e).unwrap(), v);
    }

    #[test]
    fn the_policy_names_the_script_by_its_hash() {
        let p = csp();
        assert!(p.starts_with("default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-"), "{p}");
        let hash = p.rsplit_once("'sha256-").unwrap().1.trim_end_matches('\'');
        let expect = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
        assert_eq!(hash, expect);
    }
}
