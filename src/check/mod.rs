//! Check: rendered objects validated before they reach a cluster.
//!
//! In: the rendered (patched) [`Resource`]s of one or more environments, each with the
//! address of the target that produced it, the `check:` block of `strata.yaml`
//! ([`CheckConfig`]) and the run's [`CheckOptions`]. Out: a [`Report`] of [`Finding`]s, each
//! naming its rule, severity, environment, target, object, template (the resource's
//! origin) and field path. [`report`] turns a report into text, JSON, SARIF 2.1.0 or
//! GitHub workflow annotations.
//!
//! Rules, all listed in [`rules::RULES`] with a default severity and a why and a fix:
//! - `schema`: the Kubernetes OpenAPI definitions built in ([`openapi`]), and the
//!   `openAPIV3Schema` of the CRDs of the environment or of `check.crds`, applied as strictly
//!   as the API server's `fieldValidation=Strict` ([`validate`]);
//! - `deprecated-api`: apiVersions removed or deprecated by `kubeVersion` ([`deprecated`]);
//! - `server-validation`: what the API server refuses beyond OpenAPI ([`server`]);
//! - `cel`: the `x-kubernetes-validations` rules of CRD schemas, evaluated as the server
//!   evaluates them ([`cel`]);
//! - practice rules on pod templates ([`practices`]) and references between the objects of
//!   one environment ([`references`]).
//!
//! Invariants: findings are sorted (environment, target, template, document, object, rule,
//! field) so a report is byte-stable; built-in schemas are parsed once per process, CRD
//! schemas once per run.

pub mod cel;
pub mod config;
pub mod crd;
pub mod deprecated;
pub mod formats;
pub mod locate;
pub mod openapi;
pub mod practices;
pub mod references;
pub mod report;
pub mod repository;
pub mod rules;
pub mod server;
pub mod server_kinds;
pub mod validate;

mod engine;

pub use config::{CheckConfig, CheckOptions, KubeVersion, Level};
pub use engine::{IGNORE_ANNOTATION, KUBE_LINTER_IGNORE_PREFIX, run};
pub use repository::{RepoCheckOptions, check_repo};

use std::collections::HashMap;

use serde::Serialize;

use crate::manifest::{ResId, Resource};

/// The objects of one environment, as the check sees them.
#[derive(Debug, Clone)]
pub struct CheckEnvironment<'a> {
    /// The environment's name (`eastus`, `prod/westus`).
    pub name: String,
    /// Every rendered object of the environment, with the address of its target (`api/eastus`).
    pub objects: Vec<(String, &'a Resource)>,
    /// With `check --from REV`: the environment's objects as rendered at REV. An object
    /// found there is checked as an update of it (CRD transition rules and ratcheting,
    /// admission with operation `UPDATE` and `oldObject`); any other as a create.
    pub previous: Option<HashMap<&'a ResId, &'a Resource>>,
}

/// One segment of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// A path to a field inside an object body: `spec.template.spec.containers[0].image`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct FieldPath(pub Vec<PathSeg>);

impl FieldPath {
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    /// This path extended by the given keys (`.` splits nothing: pass each key).
    pub fn join(&self, keys: &[&str]) -> FieldPath {
        let mut p = self.clone();
        p.0.extend(keys.iter().map(|k| PathSeg::Key((*k).to_string())));
        p
    }

    pub fn index(&self, i: usize) -> FieldPath {
        let mut p = self.clone();
        p.0.push(PathSeg::Index(i));
        p
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for FieldPath {
    /// Keys that are not plain identifiers are quoted: `metadata.labels["app.kubernetes.io/name"]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSeg::Index(n) => write!(f, "[{n}]")?,
                PathSeg::Key(k)
                    if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') && !k.is_empty() =>
                {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathSeg::Key(k) => write!(f, "[{}]", serde_json::Value::String(k.clone()))?,
            }
        }
        Ok(())
    }
}

/// How bad a finding is (a rule set to `off` produces none): the diagnostics' severity.
pub use crate::diag::Severity;

/// One problem found in one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub environment: String,
    pub target: String,
    pub object: ResId,
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Repository-relative path of the template that produced the object.
    pub template: String,
    /// 0-based index of the document inside the template's output.
    pub doc: usize,
    /// The field the finding is about; empty for the whole object. In json: `field`, the path
    /// as text, and `fieldSegments`, its segments (for position lookup in the template).
    #[serde(flatten, serialize_with = "serialize_field")]
    pub field: FieldPath,
    /// 1-based line in `template` of the field's key, or of the nearest enclosing key written
    /// there ([`locate`]); `None` when the template does not show where.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column of that key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The part of `field` found at `line` (equal to `field` when the key is written there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub located: Option<std::sync::Arc<str>>,
    /// `file:line:col` of the values layer that set the field's value, when the template
    /// writes the value as one `{{ Values.… }}` expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The template's text at `line`, for the text format's snippet.
    #[serde(skip)]
    pub source_line: Option<std::sync::Arc<str>>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// A finding's field as its two json keys (one path held, not a copy for each).
fn serialize_field<S: serde::Serializer>(p: &FieldPath, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Keys<'p> {
        #[serde(serialize_with = "serialize_display")]
        field: &'p FieldPath,
        #[serde(rename = "fieldSegments")]
        field_segments: &'p [PathSeg],
    }
    Keys { field: p, field_segments: &p.0 }.serialize(s)
}

fn serialize_display<T: std::fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub findings: Vec<Box<Finding>>,
    /// How many objects were checked.
    pub objects: usize,
    /// What the run could not check, one line each (a transition rule without `--from`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Error).count()
    }

    pub fn warnings(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Warning).count()
    }

    /// The exit code of `strata check`: 1 when errors were found (or warnings, `strict`), else 0.
    pub fn exit_code(&self, strict: bool) -> i32 {
        if self.errors() > 0 || (strict && self.warnings() > 0) { 1 } else { 0 }
    }
}

/// A finding before the engine adds where it was found and applies the configured level:
/// `severity` is the most the finding can be (a rule set to `warning` caps it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub rule: &'static str,
    pub severity: Severity,
    pub field: FieldPath,
    pub message: String,
    pub hint: Option<String>,
}

impl Found {
    pub fn error(rule: &'static str, field: FieldPath, message: impl Into<String>) -> Found {
        Found { rule, severity: Severity::Error, field, message: message.into(), hint: None }
    }

    pub fn warning(rule: &'static str, field: FieldPath, message: impl Into<String>) -> Found {
        Found { severity: Severity::Warning, ..Found::error(rule, field, message) }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Found {
        self.hint = Some(hint.into());
        self
    }
}
