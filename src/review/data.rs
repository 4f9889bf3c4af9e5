//! What the review page shows, as data: the totals, the tables drawn by the
//! template (summary by wave, versions matrix, waves × environments grid,
//! findings per rule, changes found in several environments) and the objects
//! the script draws lazily. Everything sorted: same inputs, same bytes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use super::rows;
use crate::check::{Finding, Report as CheckReport};
use crate::compiled::Compiled;
use crate::diff::{FieldChange, RevisionDiff, Status, groups};
use crate::manifest::{ResId, Resource};
use crate::render::locate::TemplateDocs;
use crate::repo::open::Sides;
use crate::rollout::Plan;
use crate::source::Fs;

/// The page's totals, stated on its root element.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Environments in which something changes (`diff --format json`: `differs`).
    pub environments: usize,
    /// Objects added, removed or changed (`diff`'s counts).
    pub objects: usize,
    /// Risks of the rollout plan (`rollout plan --format json`: `risks`).
    pub risks: usize,
    /// `check` findings on the after side of changed objects (not removed ones).
    pub findings: usize,
}

/// Everything the page needs.
#[derive(Debug)]
pub struct PageData {
    pub totals: Totals,
    /// The tables the template draws.
    pub context: Value,
    /// The objects, for the script (`[{id, environment, …}]`).
    pub objects: Value,
}

/// Where each changed object's findings and risks are filed: (target, object).
type ObjectKey = (String, String);

/// Builds the page's data from the comparison, its plan and both sides' checks.
pub fn build(sides: &Sides, diff: &RevisionDiff, plan: &Plan, before: &CheckReport, after: &CheckReport) -> PageData {
    let report = &diff.report;
    let wave_of: HashMap<&str, &str> =
        plan.waves.iter().flat_map(|w| w.environments.iter().map(|e| (e.as_str(), w.name.as_str()))).collect();
    let changed: BTreeSet<ObjectKey> = report
        .environments
        .iter()
        .flat_map(|e| &e.targets)
        .flat_map(|t| t.changes.iter().map(|c| (t.address.clone(), c.id.to_string())))
        .collect();
    let live = changed_not_removed(diff);
    let (after_findings, before_findings) = (on(after, &live), on(before, &live));
    let mut risks: HashMap<ObjectKey, Vec<Value>> = HashMap::new();
    for r in plan.waves.iter().flat_map(|w| &w.risks) {
        risks.entry((r.target.clone(), r.object.clone())).or_default().push(json!({
            "kind": r.kind.word(), "field": r.field, "message": r.message,
        }));
    }
    let mut findings_of: HashMap<ObjectKey, Vec<Value>> = HashMap::new();
    for f in &after_findings {
        findings_of.entry((f.target.clone(), f.object.to_string())).or_default().push(finding(f));
    }
    let objects = objects(sides, diff, &wave_of, risks, findings_of);
    let totals = Totals {
        environments: report.touched_environments().count(),
        objects: changed.len(),
        risks: plan.risks(),
        findings: after_findings.len(),
    };
    let context = json!({
        "title": format!("{} → {}", report.before.describe(), report.after.describe()),
        "totals": {"environments": totals.environments, "objects": totals.objects, "risks": totals.risks, "findings": totals.findings},
        "all_environments": report.environments.len(),
        "counts": report.describe(),
        "waves": super::page::waves(plan),
        "images": super::page::images(plan),
        "grid": super::page::grid(plan, report),
        "versions": versions(sides),
        "rules": rules(&before_findings, &after_findings),
        "partial": super::partial_environments(diff).len(),
        "cross_rules": crate::check::references::CROSS_OBJECT_RULES.join(", "),
        "groups": groups::groups(report).iter().take(50).map(|g| json!({
            "component": g.component, "object": g.object, "path": g.change.path, "kind": g.change.kind.word(),
            "before": g.change.before.as_ref().map(short), "after": g.change.after.as_ref().map(short),
            "where": g.describe(),
        })).collect::<Vec<_>>(),
    });
    PageData { totals, context, objects: Value::Array(objects) }
}

/// The changed objects, for the script: each with its wave, template line, structural
/// changes, diff rows, risks and findings.
fn objects(
    sides: &Sides,
    diff: &RevisionDiff,
    wave_of: &HashMap<&str, &str>,
    mut risks: HashMap<ObjectKey, Vec<Value>>,
    mut findings_of: HashMap<ObjectKey, Vec<Value>>,
) -> Vec<Value> {
    let report = &diff.report;
    let lines = Lines::new(sides, diff);
    let mut objects = Vec::new();
    for env in report.touched_environments() {
        for t in &env.targets {
            for c in &t.changes {
                let key = (t.address.clone(), c.id.to_string());
                let (template, line) = lines.of(&t.address, &c.id, c.status);
                objects.push(json!({
                    "id": key.1, "environment": env.environment, "target": t.address,
                    "wave": wave_of.get(env.environment.as_str()).copied().unwrap_or(crate::rollout::NO_WAVE),
                    "kind": c.id.kind, "status": report.words.word(c.status), "template": template, "line": line,
                    "versions": t.versions(),
                    "fields": c.fields.iter().map(field).collect::<Vec<_>>(),
                    "rows": rows::rows(&c.diff),
                    "risks": risks.remove(&key).unwrap_or_default(),
                    "findings": findings_of.remove(&key).unwrap_or_default(),
                }));
            }
        }
    }
    objects
}

/// The changed objects that exist on the after side (a removed object has no findings).
fn changed_not_removed(diff: &RevisionDiff) -> BTreeSet<ObjectKey> {
    let targets = diff.report.environments.iter().flat_map(|e| &e.targets);
    targets
        .flat_map(|t| {
            t.changes.iter().filter(|c| c.status != Status::Removed).map(|c| (t.address.clone(), c.id.to_string()))
        })
        .collect()
}

/// The findings on the objects in `keys`.
fn on<'r>(report: &'r CheckReport, keys: &BTreeSet<ObjectKey>) -> Vec<&'r Finding> {
    report.findings.iter().filter(|f| keys.contains(&(f.target.clone(), f.object.to_string()))).map(|f| &**f).collect()
}

/// A finding for the page: `[rule, severity, message, field, template, line]` (arrays,
/// not objects: a page with thousands of findings is a fifth smaller, and opens faster).
fn finding(f: &Finding) -> Value {
    json!([f.rule, f.severity.as_str(), f.message, f.field.to_string(), f.template, f.line])
}

/// A field change for the page, values shortened to one line: `[path, kind, before, after]`.
fn field(f: &FieldChange) -> Value {
    json!([f.path, f.kind.word(), f.before.as_ref().map(short), f.after.as_ref().map(short)])
}

/// A value as one line of at most 200 characters: strings bare, others as JSON.
fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 200 { format!("{}…", s.chars().take(200).collect::<String>()) } else { s }
}

/// Findings per rule on changed objects: `[{rule, before, after}]`, sorted by rule.
fn rules(before: &[&Finding], after: &[&Finding]) -> Value {
    let mut m: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for f in before {
        m.entry(f.rule).or_default().0 += 1;
    }
    for f in after {
        m.entry(f.rule).or_default().1 += 1;
    }
    Value::Array(m.into_iter().map(|(rule, (b, a))| json!({"rule": rule, "before": b, "after": a})).collect())
}

/// The versions matrix: every component × environment of either side, before → after.
fn versions(sides: &Sides) -> Value {
    let mut cells: BTreeMap<(String, String), (Option<String>, Option<String>)> = BTreeMap::new();
    for t in sides.before.repo.targets() {
        cells.entry((t.component.clone(), t.environment.clone())).or_default().0 = Some(t.version.clone());
    }
    for t in sides.after.repo.targets() {
        cells.entry((t.component.clone(), t.environment.clone())).or_default().1 = Some(t.version.clone());
    }
    let environments: BTreeSet<&String> = cells.keys().map(|(_, e)| e).collect();
    let components: BTreeSet<&String> = cells.keys().map(|(c, _)| c).collect();
    let rows: Vec<Value> = components
        .iter()
        .map(|c| {
            let row: Vec<Value> = environments
                .iter()
                .map(|e| match cells.get(&((*c).clone(), (*e).clone())) {
                    None => json!({"text": "", "moved": false}),
                    Some((b, a)) if b == a => json!({"text": b, "moved": false}),
                    Some((b, a)) => json!({
                        "text": format!("{} → {}", b.as_deref().unwrap_or("(new)"), a.as_deref().unwrap_or("(removed)")),
                        "moved": true,
                    }),
                })
                .collect();
            json!({"component": c, "cells": row})
        })
        .collect();
    json!({"environments": environments, "rows": rows})
}

/// Each changed object's template and the line its document starts at.
struct Lines<'d> {
    after: HashMap<(String, &'d ResId), &'d Resource>,
    before: HashMap<(String, &'d ResId), &'d Resource>,
    docs: std::cell::RefCell<HashMap<(bool, String), Option<TemplateDocs>>>,
    fs: (&'d Fs, &'d Fs),
}

impl<'d> Lines<'d> {
    fn new(sides: &'d Sides, diff: &'d RevisionDiff) -> Self {
        let index = |c: &'d Compiled| {
            c.targets.iter().flat_map(|t| t.resources.iter().map(move |r| ((t.target.address(), &r.id), r))).collect()
        };
        Lines {
            after: index(&diff.after),
            before: index(&diff.before),
            docs: Default::default(),
            fs: (&sides.before.repo.fs, &sides.after.repo.fs),
        }
    }

    /// (template, line): the after side's, the before side's for a removed object.
    fn of(&self, address: &str, id: &'d ResId, status: Status) -> (Option<String>, Option<usize>) {
        let after = status != Status::Removed;
        let side = if after { &self.after } else { &self.before };
        let Some(r) = side.get(&(address.to_string(), id)) else { return (None, None) };
        let template = r.source.template.to_string();
        let mut docs = self.docs.borrow_mut();
        let fs = if after { self.fs.1 } else { self.fs.0 };
        let parsed = docs
            .entry((after, template.clone()))
            .or_insert_with(|| fs.read_string(&template).ok().map(|t| TemplateDocs::new(&t)));
        let line = parsed.as_ref().and_then(|d| d.document(r.source.doc, &id.kind)).map(|(l, _)| l);
        (Some(template), line)
    }
}
