//! `kustomization.yaml`: reading and checking it.
//!
//! In: a target directory, read through the repository's [`Fs`]. Out: a
//! [`Kustomization`] with every patch file read and parsed, or every problem found,
//! each naming the file, line and column. Invariants: every field is either
//! understood or an error (never silently ignored); every file named is read
//! through the repository (relative to the target, never outside the repository).
//!
//! The file is read in two steps: [`file`] gives its types, read by
//! [`crate::yaml::typed`] (unknown fields, wrong types); then each field is
//! checked and the files it names are read ([`files`], [`patches`], [`transforms`]).

// Readers return a `Diagnostic` for the one problem they found; errors are built
// once per bad input, never on a hot path, so their size does not matter.
#![allow(clippy::result_large_err)]

mod file;
mod files;
mod generators;
mod patches;
mod replacements;
#[cfg(test)]
mod tests;
mod transforms;

use std::sync::Arc;

use serde_json::Value;

use super::fields::{FieldSpec, ImageRule};
use super::generators::{Generator, GeneratorKind};
use super::json6902::JsonPatch;
use super::replacements::Replacement;
use super::select::Selector;
use crate::diag::{Diagnostic, Error};
use crate::manifest::Resource;
use crate::source::{self, Fs};
use crate::yaml::{locate, typed};
use file::KustomizationYaml;
use files::TargetDir;

pub const FILE_NAME: &str = "kustomization.yaml";

/// A position in a file, with the text to quote under an error.
#[derive(Debug, Clone)]
pub struct Span {
    pub file: Arc<str>,
    pub text: Arc<str>,
    pub line: usize,
    pub col: usize,
    pub len: usize,
}

impl Span {
    pub fn diag(&self, message: impl Into<String>, label: &str) -> Diagnostic {
        Diagnostic::error(message)
            .at(self.file.to_string())
            .with_source_line(&self.text, self.line, self.col, self.len, label)
    }
}

/// Where a patch's own text sits in its file, to turn positions inside the patch into
/// positions in the file (an inline `patch: |` starts on the line after its key).
#[derive(Debug, Clone)]
pub struct PatchText {
    pub file: Arc<str>,
    pub file_text: Arc<str>,
    pub body: String,
    pub line_offset: usize,
    pub col_offset: usize,
    /// Positions inside `body` map exactly into the file.
    pub exact: bool,
    /// Where to point when nothing better is known.
    pub start: (usize, usize),
}

impl PatchText {
    /// The span in the file of (line, col) inside the patch text.
    pub fn span(&self, pos: Option<(usize, usize)>, len: usize) -> Span {
        let (line, col) = match pos {
            Some((l, c)) if self.exact => (l + self.line_offset, c + self.col_offset),
            _ => self.start,
        };
        Span { file: self.file.clone(), text: self.file_text.clone(), line, col, len }
    }

    /// The span of a key path inside the patch (deepest key found).
    pub fn locate(&self, path: &[String]) -> Span {
        let len = path.last().map(|k| k.chars().count()).unwrap_or(1);
        self.span(locate(&self.body, path), len)
    }
}

/// `options:` of a patch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PatchOptions {
    pub allow_name_change: bool,
    pub allow_kind_change: bool,
}

/// What a patch does.
#[derive(Debug, Clone)]
pub enum PatchBody {
    /// One or more strategic merge patches (documents of one file).
    Strategic(Vec<StrategicDoc>),
    Json(JsonPatch),
}

#[derive(Debug, Clone)]
pub struct StrategicDoc {
    pub body: Value,
    /// 1-based line of the document's first line inside the patch text.
    pub line: usize,
}

/// One patch entry of kustomization.yaml.
#[derive(Debug, Clone)]
pub struct Patch {
    /// How the entry is called in messages: `patches[2]`.
    pub entry: String,
    /// The entry in kustomization.yaml.
    pub at: Span,
    pub target: Option<(Selector, Span)>,
    pub options: PatchOptions,
    pub body: PatchBody,
    pub text: PatchText,
}

/// `labels:` entries.
#[derive(Debug, Clone)]
pub struct LabelRule {
    pub pairs: Vec<(String, String)>,
    pub specs: Vec<FieldSpec>,
}

/// `replicas:` entries.
#[derive(Debug, Clone)]
pub struct ReplicaRule {
    pub name: String,
    pub count: i64,
    pub at: Span,
}

/// A checked kustomization.yaml with every file it names read.
#[derive(Debug, Clone)]
pub struct Kustomization {
    /// Repository-relative path of the file.
    pub path: String,
    pub text: Arc<str>,
    /// Objects from files listed under `resources:`, added to the rendered ones.
    pub resources: Vec<Resource>,
    pub patches_strategic_merge: Vec<Patch>,
    pub patches: Vec<Patch>,
    pub namespace: Option<String>,
    pub name_prefix: String,
    pub name_suffix: String,
    pub labels: Vec<LabelRule>,
    pub common_labels: Vec<(String, String)>,
    pub common_annotations: Vec<(String, String)>,
    pub patches_json6902: Vec<Patch>,
    pub replicas: Vec<ReplicaRule>,
    pub images: Vec<ImageRule>,
    /// Fields written in another letter case, and labels or annotations of
    /// `resources:` objects that were not strings.
    pub warnings: Vec<Diagnostic>,
    /// `configMapGenerator` entries, then `secretGenerator` entries.
    pub generators: Vec<Generator>,
    pub replacements: Vec<Replacement>,
}

/// Reads `<dir>/kustomization.yaml` if there is one.
pub fn load(fs: &Fs, dir: &str) -> Result<Option<Kustomization>, Error> {
    let path = source::join(dir, FILE_NAME);
    let Some(text) = fs.read_optional(&path)? else { return Ok(None) };
    parse(fs, dir, &path, &text).map(Some)
}

/// Parses kustomization text whose file is `path` inside target directory `dir`.
pub fn parse(fs: &Fs, dir: &str, path: &str, text: &str) -> Result<Kustomization, Error> {
    let (written, respelled): (KustomizationYaml, _) =
        typed::read_respelled(text, path, &file::OPTIONS).map_err(Error::many)?;
    let warnings = respelled.iter().map(|r| r.warning(path, text)).collect();
    let target = TargetDir { path: Arc::from(path), text: Arc::from(text), fs, dir, respelled };
    let mut k = Kustomization {
        path: path.to_string(),
        text: target.text.clone(),
        resources: Vec::new(),
        patches_strategic_merge: Vec::new(),
        patches: Vec::new(),
        namespace: written.namespace.filter(|s| !s.is_empty()),
        name_prefix: written.name_prefix.unwrap_or_default(),
        name_suffix: written.name_suffix.unwrap_or_default(),
        labels: Vec::new(),
        common_labels: written.common_labels.map(|p| p.0).unwrap_or_default(),
        common_annotations: written.common_annotations.map(|p| p.0).unwrap_or_default(),
        patches_json6902: Vec::new(),
        replicas: Vec::new(),
        images: Vec::new(),
        warnings,
        generators: Vec::new(),
        replacements: Vec::new(),
    };
    let mut diags = Vec::new();
    let mut keep = |r: Result<(), Diagnostic>| diags.extend(r.err());
    let key = |k: &str| vec![k.to_string()];
    if let Some(v) = written.api_version.filter(|v| v != "kustomize.config.k8s.io/v1beta1") {
        let expected = "expected `kustomize.config.k8s.io/v1beta1`";
        keep(Err(target.err(&key("apiVersion"), format!("unsupported `apiVersion: {v}`; {expected}"))));
    }
    if let Some(v) = written.kind.filter(|v| v != "Kustomization") {
        keep(Err(target.err(&key("kind"), format!("unsupported `kind: {v}`; expected `Kustomization`"))));
    }
    let key_path = key("resources");
    keep(target.resources(&key_path, &written.resources.unwrap_or_default()).map(|(r, w)| {
        k.resources = r;
        k.warnings.extend(w);
    }));
    let key_path = key("patchesStrategicMerge");
    let entries = written.patches_strategic_merge.unwrap_or_default();
    keep(target.strategic_merge_list(&key_path, &entries).map(|r| k.patches_strategic_merge = r));
    let key_path = key("patches");
    keep(target.patch_list(&key_path, &written.patches.unwrap_or_default()).map(|r| k.patches = r));
    let key_path = key("labels");
    keep(target.label_rules(&key_path, &written.labels.unwrap_or_default()).map(|r| k.labels = r));
    let key_path = key("patchesJson6902");
    keep(
        target.json6902_list(&key_path, &written.patches_json6902.unwrap_or_default()).map(|r| k.patches_json6902 = r),
    );
    let key_path = key("replicas");
    keep(target.replica_rules(&key_path, &written.replicas.unwrap_or_default()).map(|r| k.replicas = r));
    let key_path = key("images");
    keep(target.image_rules(&key_path, &written.images.unwrap_or_default()).map(|r| k.images = r));
    let global = written.generator_options.as_ref();
    for (field, kind, entries) in [
        ("configMapGenerator", GeneratorKind::ConfigMap, written.config_map_generator.unwrap_or_default()),
        ("secretGenerator", GeneratorKind::Secret, written.secret_generator.unwrap_or_default()),
    ] {
        keep(target.generators(&key(field), kind, &entries, global).map(|g| k.generators.extend(g)));
    }
    let entries = written.replacements.unwrap_or_default();
    match target.replacements(&key("replacements"), &entries) {
        Ok(r) => k.replacements = r,
        Err(e) => diags.extend(e.diagnostics),
    }
    if diags.is_empty() { Ok(k) } else { Err(Error::many(diags)) }
}
