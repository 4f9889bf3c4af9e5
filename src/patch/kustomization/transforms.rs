//! The transform fields: `labels`, `replicas` and `images`, checked beyond their
//! types (a field spec needs a `path`, an image rule must change something).

use super::file::{FieldSpecEntry, ImageEntry, LabelEntry, ReplicaEntry};
use super::files::{TargetDir, child};
use super::{LabelRule, ReplicaRule};
use crate::diag::Diagnostic;
use crate::patch::fields::{COMMON_LABELS, FieldSpec, ImageRule, METADATA_LABELS, TEMPLATE_LABELS, parse_path, union};

impl TargetDir<'_> {
    /// The `labels` list at `key_path`.
    pub fn label_rules(&self, key_path: &[String], entries: &[LabelEntry]) -> Result<Vec<LabelRule>, Diagnostic> {
        let mut out = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let entry_path = child(key_path, i);
            let pairs = entry.pairs.as_ref().map(|p| p.0.clone()).unwrap_or_default();
            let mut specs = Vec::new();
            for (j, f) in entry.fields.iter().flatten().enumerate() {
                specs.push(self.field_spec(&child(&child(&entry_path, "fields"), j), f)?);
            }
            let defaults = if entry.include_selectors.unwrap_or(false) {
                union(FieldSpec::table(COMMON_LABELS), FieldSpec::table(TEMPLATE_LABELS))
            } else if entry.include_templates.unwrap_or(false) {
                FieldSpec::table(TEMPLATE_LABELS)
            } else {
                FieldSpec::table(METADATA_LABELS)
            };
            out.push(LabelRule { pairs, specs: union(specs, defaults) });
        }
        Ok(out)
    }

    fn field_spec(&self, entry_path: &[String], f: &FieldSpecEntry) -> Result<FieldSpec, Diagnostic> {
        let path = f.path.as_deref().unwrap_or("");
        if path.is_empty() {
            return Err(self.err(entry_path, "a field spec needs a `path`"));
        }
        Ok(FieldSpec {
            group: f.group.clone().unwrap_or_default(),
            version: f.version.clone().unwrap_or_default(),
            kind: f.kind.clone().unwrap_or_default(),
            path: parse_path(path),
            create: f.create.unwrap_or(false),
        })
    }

    /// The `replicas` list at `key_path`.
    pub fn replica_rules(&self, key_path: &[String], entries: &[ReplicaEntry]) -> Result<Vec<ReplicaRule>, Diagnostic> {
        let mut out = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let entry_path = child(key_path, i);
            let Some(name) = entry.name.clone() else {
                return Err(self.err(&entry_path, "a `replicas` entry needs a `name`"));
            };
            let count = match entry.count {
                Some(c) if c >= 0 => c,
                Some(_) => {
                    return Err(self
                        .err(&child(&entry_path, "count"), "`count` must be a whole number of replicas (0 or more)"));
                }
                None => return Err(self.err(&entry_path, "a `replicas` entry needs a `count`")),
            };
            out.push(ReplicaRule { name, count, at: self.span(&entry_path) });
        }
        Ok(out)
    }

    /// The `images` list at `key_path`.
    pub fn image_rules(&self, key_path: &[String], entries: &[ImageEntry]) -> Result<Vec<ImageRule>, Diagnostic> {
        let mut out = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let entry_path = child(key_path, i);
            if entry.tag_suffix.is_some() {
                return Err(self
                    .err(&child(&entry_path, "tagSuffix"), "`tagSuffix` is not supported by strata")
                    .hint("kustomize 5.5 applies it twice to pod-spec images; give the whole tag with `newTag`"));
            }
            let Some(name) = entry.name.clone() else {
                return Err(self.err(&entry_path, "an `images` entry needs the `name` of the image to change"));
            };
            let rule = ImageRule {
                name,
                new_name: entry.new_name.clone(),
                new_tag: entry.new_tag.clone(),
                digest: entry.digest.clone(),
            };
            if rule.new_name.is_none() && rule.new_tag.is_none() && rule.digest.is_none() {
                return Err(self
                    .err(&entry_path, format!("`images` entry for `{}` changes nothing", rule.name))
                    .hint("set `newName`, `newTag` or `digest`"));
            }
            out.push(rule);
        }
        Ok(out)
    }
}
