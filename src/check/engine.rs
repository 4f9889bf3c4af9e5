//! The engine: every selected rule over every object of every environment, the configured
//! levels and per-object exemptions applied, findings sorted.

use rayon::prelude::*;
use serde_json::Value;

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use super::cel::admission::{self, Action, Admission};
use super::cel::{self, Evaluator};
use super::config::{CheckConfig, CheckOptions, KubeVersion, Level};
use super::crd::Crds;
use super::deprecated::{self, Status};
use super::openapi::Definitions;
use super::references::{self, Index};
use super::rules;
use super::validate::Validator;
use super::{CheckEnvironment, FieldPath, Finding, Found, Report, Severity, practices, server};
use crate::manifest::{ResId, Resource, group_of};

/// The annotation listing rules an object is exempt from (`"probes,image-tag"`, or `"*"`).
pub const IGNORE_ANNOTATION: &str = "strata.dev/ignore-check";
/// kube-linter's exemption prefix, honoured for the rules that stand for its checks.
pub const KUBE_LINTER_IGNORE_PREFIX: &str = "ignore-check.kube-linter.io/";

/// Checks every object of every environment. Configuration problems
/// ([`CheckConfig::problems`], [`CheckOptions::problems`]) are the caller's to report first.
pub fn run(environments: &[CheckEnvironment<'_>], config: &CheckConfig, opts: &CheckOptions) -> Report {
    let defs = Definitions::builtin();
    let kube = opts
        .kube_version
        .or_else(|| KubeVersion::parse(&defs.kubernetes))
        .unwrap_or(KubeVersion { major: 1, minor: 36 });
    // Environments are independent: checked in parallel (a validator each: it caches
    // compiled patterns), merged, then sorted.
    let per_env: Vec<(Vec<Box<Finding>>, BTreeSet<String>)> = environments
        .par_iter()
        .map(|env| {
            let resources: Vec<&Resource> = env.objects.iter().map(|(_, r)| *r).collect();
            let bodies = resources.iter().map(|r| &r.body).chain(&opts.extra_crds);
            let crds = Crds::from_bodies(bodies);
            let index = Index::new(&resources);
            let validator = Validator::new(defs);
            let evaluator = Evaluator::new();
            let notes = RefCell::new(BTreeSet::new());
            let bound = admission::bindings(resources.iter().map(|r| &r.body).chain(&opts.extra_policies));
            let plurals = admission::crd_plurals(resources.iter().map(|r| &r.body).chain(&opts.extra_crds));
            let resource_of = |group: &str, kind: &str| admission::resource_name(&plurals, group, kind);
            let admission = Admission::new(&evaluator, &bound, &resources, &resource_of, &opts.memo);
            let object = ObjectCheck {
                validator: &validator,
                evaluator: &evaluator,
                admission: &admission,
                notes: &notes,
                defs,
                crds: &crds,
                index: &index,
                config,
                opts,
                kube,
                previous: env.previous.as_ref(),
            };
            // Each finding is boxed: lists of them grow, join, sort and merge by moving
            // pointers, not the findings (a hundred thousand on a large repository: a
            // second copy of them all was the check's peak).
            let mut findings = Vec::with_capacity(env.objects.len() * 3);
            for (target, r) in &env.objects {
                findings.extend(
                    object.findings(r).into_iter().filter_map(|f| finish(f, env, target, r, config)).map(Box::new),
                );
            }
            (findings, notes.into_inner())
        })
        .collect();
    let notes: BTreeSet<String> = per_env.iter().flat_map(|(_, n)| n.iter().cloned()).collect();
    let mut findings = Vec::with_capacity(per_env.iter().map(|(f, _)| f.len()).sum());
    per_env.into_iter().for_each(|(f, _)| findings.extend(f));
    let mut report = Report {
        findings,
        objects: environments.iter().map(|e| e.objects.len()).sum(),
        notes: notes.into_iter().collect(),
    };
    sort_findings(&mut report);
    report
}

/// The reports of batches of environments as one, in [`run`]'s order.
pub fn merge(reports: Vec<Report>) -> Report {
    let mut notes = BTreeSet::new();
    // Reserved at once: a findings list grown by doubling copies its bytes again each time.
    let findings = Vec::with_capacity(reports.iter().map(|r| r.findings.len()).sum());
    let mut merged = Report { findings, objects: 0, notes: Vec::new() };
    for r in reports {
        merged.findings.extend(r.findings);
        merged.objects += r.objects;
        notes.extend(r.notes);
    }
    merged.notes = notes.into_iter().collect();
    sort_findings(&mut merged);
    merged
}

fn sort_findings(report: &mut Report) {
    // Batches come in environment order, each sorted: joined, they usually are in order,
    // and a sort would still make room for half of them before finding that out.
    if !report.findings.is_sorted_by(|a, b| sort_key(a) <= sort_key(b)) {
        report.findings.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    }
    report.findings.dedup();
}

type SortKey<'a> = (&'a str, &'a str, &'a str, usize, &'a crate::manifest::ResId, &'a str, &'a FieldPath, &'a str);

fn sort_key(f: &Finding) -> SortKey<'_> {
    (&f.environment, &f.target, &f.template, f.doc, &f.object, f.rule, &f.field, &f.message)
}

struct ObjectCheck<'a> {
    validator: &'a Validator<'a>,
    evaluator: &'a Evaluator,
    admission: &'a Admission<'a>,
    /// What could not be checked (transition rules), once per rule and kind.
    notes: &'a RefCell<BTreeSet<String>>,
    defs: &'a Definitions,
    crds: &'a Crds,
    index: &'a Index<'a>,
    config: &'a CheckConfig,
    opts: &'a CheckOptions,
    kube: KubeVersion,
    /// The environment's objects at `--from REV`, when given.
    previous: Option<&'a HashMap<&'a ResId, &'a Resource>>,
}

impl ObjectCheck<'_> {
    fn on(&self, rule: &str) -> bool {
        self.opts.selected(rule) && self.config.level(rule) != Level::Off
    }

    fn findings(&self, r: &Resource) -> Vec<Found> {
        let mut out = Vec::new();
        let removed = self.on("deprecated-api") && self.deprecated(r, &mut out);
        if self.on("schema") && !removed {
            self.schema(r, &mut out);
        }
        if self.on("server-validation") {
            out.extend(server::check(r));
        }
        if self.on("cel") {
            self.cel(r, &mut out);
        }
        if self.on("admission-policy") && !self.admission.bindings.is_empty() {
            self.admission_policies(r, &mut out);
        }
        out.extend(practices::check(r));
        out.extend(references::check(r, self.index, self.config));
        out.retain(|f| self.on(f.rule));
        out
    }

    /// `deprecated-api`; true when the apiVersion is not served at all (schema has nothing to add).
    fn deprecated(&self, r: &Resource, out: &mut Vec<Found>) -> bool {
        let (api, kind) = (r.api_version(), r.id.kind.as_str());
        let field = FieldPath::root().join(&["apiVersion"]);
        match deprecated::status(api, kind, self.kube) {
            Some(Status::Removed(row)) => {
                let at = row.removed_in.map(|m| format!("1.{m}")).unwrap_or_default();
                let msg = format!("`{api}` {kind} was removed in Kubernetes {at} (cluster: {})", self.kube);
                out.push(Found::error("deprecated-api", field, msg).hint(format!("use {}", row.replacement)));
                true
            }
            Some(Status::Deprecated(row)) => {
                let msg = format!("`{api}` {kind} is deprecated since Kubernetes 1.{}", row.deprecated_in);
                out.push(Found::warning("deprecated-api", field, msg).hint(format!("use {}", row.replacement)));
                false
            }
            None => false,
        }
    }

    fn schema(&self, r: &Resource, out: &mut Vec<Found>) {
        let api = r.api_version();
        let group = group_of(api);
        let version = api.rsplit('/').next().unwrap_or(api);
        let kind = r.id.kind.as_str();
        let root = FieldPath::root();
        let violations = if let Some(s) = self.defs.kind(group, version, kind) {
            self.validator.validate(&r.body, s, &root)
        } else if let Some(versions) = self.crds.versions(group, kind) {
            match versions.get(version).filter(|v| v.served) {
                Some(v) => v.schema.as_ref().map(|s| self.validator.validate(&r.body, s, &root)).unwrap_or_default(),
                None => {
                    let served: Vec<String> =
                        versions.iter().filter(|(_, v)| v.served).map(|(n, _)| format!("`{group}/{n}`")).collect();
                    let msg = format!("`{api}` {kind} is not served by its CustomResourceDefinition");
                    out.push(
                        Found::error("schema", root.join(&["apiVersion"]), msg)
                            .hint(format!("served: {}", served.join(", "))),
                    );
                    return;
                }
            }
        } else {
            out.push(self.no_schema(r, group));
            return;
        };
        for v in violations {
            out.push(Found::error("schema", v.path, v.message));
        }
    }

    /// The object as rendered at `--from REV`, when given and found there.
    fn before(&self, r: &Resource) -> Option<&Resource> {
        self.previous.and_then(|p| p.get(&r.id)).copied()
    }

    /// `cel`: the CRD's `x-kubernetes-validations`, as on a create, or with `--from` as an
    /// update of the object at that revision (transition rules noted when they cannot run).
    fn cel(&self, r: &Resource, out: &mut Vec<Found>) {
        let Some(schema) = cel::crd::schema_for(self.crds, &r.body) else { return };
        let outcome = cel::crd::evaluate(self.evaluator, schema, &r.body, self.before(r).map(|b| &b.body));
        for f in outcome.failures {
            out.push(Found::error("cel", f.field, f.message));
        }
        if self.previous.is_some() {
            // A create at `--from`'s side: the server runs no transition rule either.
            return;
        }
        let mut notes = self.notes.borrow_mut();
        for (field, rule) in outcome.skipped {
            notes.insert(format!(
                "{} rule `{rule}` at `{field}` reads `oldSelf`: the server evaluates it on updates only, not checked (`--from REV` checks updates)",
                r.id.kind
            ));
        }
    }

    /// `admission-policy`: every binding's policy, as on a create or with `--from` an update
    /// (Audit decisions are notes).
    fn admission_policies(&self, r: &Resource, out: &mut Vec<Found>) {
        let mut notes = Vec::new();
        for d in self.admission.decide(r, self.before(r), &mut notes) {
            let keys: Vec<&str> = d.field.iter().map(String::as_str).collect();
            let field = FieldPath::root().join(&keys);
            match d.action {
                Action::Deny => out.push(Found::error("admission-policy", field, d.message)),
                Action::Warn => out.push(Found::warning("admission-policy", field, d.message)),
                Action::Audit => notes.push(format!("{} {}: {}", r.id.kind, r.id.name, d.message)),
            }
        }
        self.notes.borrow_mut().extend(notes);
    }

    fn no_schema(&self, r: &Resource, group: &str) -> Found {
        let (api, kind) = (r.api_version(), r.id.kind.as_str());
        let field = FieldPath::root().join(&["apiVersion"]);
        if self.defs.has_group(group) || deprecated::is_listed_removed(api, kind) {
            let served = self.defs.versions_of(group, kind);
            let msg = format!("`{api}` {kind} is not served by Kubernetes {}", self.defs.kubernetes);
            let f = Found::error("schema", field, msg);
            return if served.is_empty() { f } else { f.hint(format!("served: {}", served.join(", "))) };
        }
        let msg = format!("no schema for `{api}` {kind}");
        let hint = "render its CustomResourceDefinition in the environment or list its file in `check.crds`";
        if self.opts.strict {
            Found::error("schema", field, msg).hint(hint)
        } else {
            Found::warning("schema", field, msg).hint(hint)
        }
    }
}

/// Applies the configured level and the object's exemptions; adds where the finding is.
fn finish(found: Found, env: &CheckEnvironment, target: &str, r: &Resource, config: &CheckConfig) -> Option<Finding> {
    let severity = match config.level(found.rule) {
        Level::Off => return None,
        Level::Warning => Severity::Warning,
        Level::Error => found.severity,
    };
    if exempt(r, found.rule) {
        return None;
    }
    Some(Finding {
        rule: found.rule,
        severity,
        environment: env.name.clone(),
        target: target.to_string(),
        object: r.id.clone(),
        api_version: r.api_version().to_string(),
        template: r.source.template.to_string(),
        doc: r.source.doc,
        field: found.field,
        line: None,
        column: None,
        located: None,
        value: None,
        source_line: None,
        message: found.message,
        hint: found.hint,
    })
}

/// Whether the object's annotations exempt it from a rule.
pub fn exempt(r: &Resource, rule: &str) -> bool {
    let Some(ann) = r.metadata().and_then(|m| m.get("annotations")).and_then(Value::as_object) else {
        return false;
    };
    if let Some(list) = ann.get(IGNORE_ANNOTATION).and_then(Value::as_str)
        && list.split(',').map(str::trim).any(|n| n == rule || n == "*")
    {
        return true;
    }
    ann.keys()
        .filter_map(|k| k.strip_prefix(KUBE_LINTER_IGNORE_PREFIX))
        .any(|check| check == rule || rules::from_kube_linter(check).is_some_and(|r| r.name == rule))
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
