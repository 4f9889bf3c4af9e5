//! The patch fields: `patches`, `patchesStrategicMerge` and `patchesJson6902`.
//!
//! Each entry's text is read (from its file or inline), parsed, and told apart as
//! kustomize does: a list of operations is a JSON patch, mappings are strategic
//! merge patches. Positions inside a patch map back to its file.

use serde_json::Value;

use super::file::{Json6902Entry, OptionsEntry, PatchEntry, TargetEntry};
use super::files::{TargetDir, child};
use super::{Patch, PatchBody, PatchOptions, PatchText, StrategicDoc};
use crate::diag::Diagnostic;
use crate::patch::json6902;
use crate::patch::select::{LabelSelector, Pattern, Selector};
use crate::yaml::{self, typed::field_name};

/// What kind of patch an entry's field says it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Either: told apart by the text (`patches`).
    Any,
    Strategic,
    Json,
}

impl TargetDir<'_> {
    /// The `patches` list at `key_path`.
    pub fn patch_list(&self, key_path: &[String], entries: &[PatchEntry]) -> Result<Vec<Patch>, Diagnostic> {
        let mut out = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let entry_path = child(key_path, i);
            let text = self.patch_source(&entry_path, entry.path.as_deref(), entry.patch.as_deref())?;
            let options = patch_options(entry.options.as_ref());
            let target = match &entry.target {
                Some(t) => {
                    Some((self.selector(&child(&entry_path, "target"), t)?, self.span(&child(&entry_path, "target"))))
                }
                None => None,
            };
            let body = self.patch_body(&text, Expect::Any, target.is_some())?;
            match (&body, &target) {
                (PatchBody::Json(_), None) => {
                    return Err(self
                        .err(&entry_path, format!("`{}` is a JSON patch without a `target`", field_name(&entry_path)))
                        .hint("add `target:` with the kind and name of the objects to patch"));
                }
                (PatchBody::Strategic(docs), Some(_)) if docs.len() > 1 => {
                    return Err(self
                        .err(&entry_path, format!("`{}` has {} strategic merge patches and a `target`", field_name(&entry_path), docs.len()))
                        .hint("give each document its own `patches` entry, or drop `target` to select by each patch's kind and name"));
                }
                _ => {}
            }
            out.push(Patch { entry: field_name(&entry_path), at: self.span(&entry_path), target, options, body, text });
        }
        Ok(out)
    }

    /// The `patchesStrategicMerge` list at `key_path`.
    pub fn strategic_merge_list(&self, key_path: &[String], entries: &[String]) -> Result<Vec<Patch>, Diagnostic> {
        let mut out = Vec::new();
        for (i, s) in entries.iter().enumerate() {
            let entry_path = child(key_path, i);
            // Kustomize takes an entry that reads as an object as an inline patch (YAML
            // over several lines, or a one-line JSON object), anything else as a path.
            let text = if s.contains('\n') || s.trim_start().starts_with('{') {
                self.inline_text(&entry_path, s)
            } else {
                let (file, text) = self.read_file(&entry_path, s)?;
                file_text(&file, text)
            };
            let body = self.patch_body(&text, Expect::Strategic, false)?;
            if let PatchBody::Json(_) = body {
                return Err(self
                    .err(&entry_path, "`patchesStrategicMerge` holds a JSON patch")
                    .hint("move it to `patches` with a `target`"));
            }
            out.push(Patch {
                entry: field_name(&entry_path),
                at: self.span(&entry_path),
                target: None,
                options: PatchOptions::default(),
                body,
                text,
            });
        }
        Ok(out)
    }

    /// The `patchesJson6902` list at `key_path`.
    pub fn json6902_list(&self, key_path: &[String], entries: &[Json6902Entry]) -> Result<Vec<Patch>, Diagnostic> {
        let mut out = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let entry_path = child(key_path, i);
            let Some(t) = &entry.target else {
                return Err(self
                    .err(&entry_path, format!("`{}` has no `target`", field_name(&entry_path)))
                    .hint("add `target:` with the kind and name of the object to patch"));
            };
            let text = self.patch_source(&entry_path, entry.path.as_deref(), entry.patch.as_deref())?;
            let target_path = child(&entry_path, "target");
            let target = Some((self.selector(&target_path, t)?, self.span(&target_path)));
            let body = self.patch_body(&text, Expect::Json, true)?;
            out.push(Patch {
                entry: field_name(&entry_path),
                at: self.span(&entry_path),
                target,
                options: PatchOptions::default(),
                body,
                text,
            });
        }
        Ok(out)
    }

    /// `path:` or `patch:` of the entry at `entry_path`, exactly one of them.
    fn patch_source(
        &self,
        entry_path: &[String],
        path: Option<&str>,
        patch: Option<&str>,
    ) -> Result<PatchText, Diagnostic> {
        match (path, patch) {
            (Some(_), Some(_)) => {
                Err(self.err(entry_path, format!("`{}` has both `path` and `patch`; give one", field_name(entry_path))))
            }
            (None, None) => Err(self
                .err(entry_path, format!("`{}` has neither `path` nor `patch`", field_name(entry_path)))
                .hint("name a patch file with `path:` or write the patch inline under `patch: |`")),
            (Some(rel), None) => {
                let (file, text) = self.read_file(&child(entry_path, "path"), rel)?;
                Ok(file_text(&file, text))
            }
            (None, Some(body)) => Ok(self.inline_text(&child(entry_path, "patch"), body)),
        }
    }

    /// A patch written inline as the value of `key_path`.
    fn inline_text(&self, key_path: &[String], body: &str) -> PatchText {
        let key_path = yaml::typed::Respelled::as_written(&self.respelled, key_path);
        let value = yaml::locate::scalar_value(&self.text, &key_path);
        PatchText {
            file: self.path.clone(),
            file_text: self.text.clone(),
            body: body.to_string(),
            line_offset: value.key.0,
            col_offset: value.indent,
            exact: value.literal,
            start: value.key,
        }
    }

    /// Parses patch text as kustomize tells the kinds apart: a list of operations is
    /// a JSON patch; mappings are strategic merge patches. `targeted`: the entry has
    /// a `target`, which selects the objects instead of the patch's own identity.
    fn patch_body(&self, text: &PatchText, expect: Expect, targeted: bool) -> Result<PatchBody, Diagnostic> {
        let docs = yaml::parse_documents(&text.body).map_err(|e| {
            let span = text.span(e.line.zip(e.col), 1);
            span.diag(format!("invalid YAML in patch: {}", e.message), "")
        })?;
        let starts = yaml::locate::document_lines(&text.body);
        let docs: Vec<(usize, Value)> = docs
            .into_iter()
            .enumerate()
            .filter(|(_, d)| !d.is_null())
            .map(|(i, d)| (starts.get(i).copied().unwrap_or(1), d))
            .collect();
        let Some((_, first)) = docs.first() else {
            return Err(text.span(None, 1).diag("the patch is empty", ""));
        };
        if first.is_array() || expect == Expect::Json {
            if docs.len() > 1 {
                return Err(text
                    .span(Some((docs[1].0, 1)), 3)
                    .diag("a JSON patch must be a single list of operations", ""));
            }
            let ops = json6902::from_value(first).map_err(|e| {
                let pos = e.op.and_then(|i| yaml::locate(&text.body, &[i.to_string()]));
                text.span(pos, 1).diag(e.message, "").hint(
                    "each operation needs `op` (add, remove, replace, move, copy, test), `path`, and `value` or `from`",
                )
            })?;
            return Ok(PatchBody::Json(ops));
        }
        let mut out = Vec::new();
        for (line, body) in docs {
            check_strategic(text, line, &body, targeted)?;
            out.push(StrategicDoc { body, line });
        }
        Ok(PatchBody::Strategic(out))
    }

    /// A patch `target` at `key_path`.
    pub(super) fn selector(&self, key_path: &[String], t: &TargetEntry) -> Result<Selector, Diagnostic> {
        let pattern = |key: &str, value: &Option<String>| -> Result<Option<Pattern>, Diagnostic> {
            let Some(text) = value else { return Ok(None) };
            Pattern::new(text).map(Some).map_err(|e| {
                self.err(&child(key_path, key), e)
                    .hint("target fields are regular expressions matched against the whole value")
            })
        };
        let labels = |key: &str, value: &Option<String>| -> Result<Option<LabelSelector>, Diagnostic> {
            let Some(text) = value else { return Ok(None) };
            LabelSelector::parse(text).map(Some).map_err(|e| self.err(&child(key_path, key), e))
        };
        Ok(Selector {
            group: pattern("group", &t.group)?,
            version: pattern("version", &t.version)?,
            kind: pattern("kind", &t.kind)?,
            name: pattern("name", &t.name)?,
            namespace: pattern("namespace", &t.namespace)?,
            labels: labels("labelSelector", &t.label_selector)?,
            annotations: labels("annotationSelector", &t.annotation_selector)?,
        })
    }
}

fn patch_options(options: Option<&OptionsEntry>) -> PatchOptions {
    let o = options.map(|o| (o.allow_name_change, o.allow_kind_change)).unwrap_or_default();
    PatchOptions { allow_name_change: o.0.unwrap_or(false), allow_kind_change: o.1.unwrap_or(false) }
}

/// A patch read from its own file: positions in it are positions in the file.
fn file_text(path: &str, text: String) -> PatchText {
    PatchText {
        file: path.into(),
        file_text: text.as_str().into(),
        body: text,
        line_offset: 0,
        col_offset: 0,
        exact: true,
        start: (1, 1),
    }
}

/// A strategic merge patch must be a mapping with the identity of an object. Kustomize
/// selects an untargeted patch by its `apiVersion`, `kind` and `metadata.name`; with a
/// `target` it selects by the target, and still refuses a patch without `kind` or
/// `metadata.name` (it cannot tell it from other YAML), but not one without `apiVersion`.
fn check_strategic(text: &PatchText, line: usize, doc: &Value, targeted: bool) -> Result<(), Diagnostic> {
    if !doc.is_object() {
        return Err(text
            .span(Some((line, 1)), 1)
            .diag("a patch must be a strategic merge patch (a mapping) or a JSON patch (a list of operations)", ""));
    }
    let needed: &[(&str, &str)] = if targeted {
        &[("kind", "/kind"), ("metadata.name", "/metadata/name")]
    } else {
        &[("apiVersion", "/apiVersion"), ("kind", "/kind"), ("metadata.name", "/metadata/name")]
    };
    let missing: Vec<String> = needed
        .iter()
        .filter(|(_, ptr)| doc.pointer(ptr).and_then(Value::as_str).is_none_or(str::is_empty))
        .map(|(n, _)| format!("`{n}`"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let hint = if targeted {
        "with a `target`, kustomize selects by the target but still needs the patch's `kind` and `metadata.name` (any name: it is not used to select)"
    } else {
        "without a `target`, kustomize selects the object by the patch's `apiVersion`, `kind` and `metadata.name`; give all three, or add a `target`"
    };
    Err(text
        .span(Some((line, 1)), 1)
        .diag(format!("strategic merge patch has no {}", missing.join(", ")), "")
        .hint(hint))
}
