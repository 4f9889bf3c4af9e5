//! The `replacements` field: entries written inline or read from the file a `path:`
//! names (one replacement, or a list of them), checked, with every field path parsed.

use std::sync::Arc;

use super::file::{self, FieldOptionsEntry, ReplacementEntry, ReplacementTargetEntry, SourceEntry};
use super::files::{TargetDir, child};
use crate::diag::{Diagnostic, Error};
use crate::patch::replacements::{FieldOptions, FieldPath, Replacement, Source, Target, parse_path};
use crate::yaml::{self, typed, typed::field_name};

impl TargetDir<'_> {
    /// The `replacements` list at `key_path`.
    pub fn replacements(&self, key_path: &[String], entries: &[ReplacementEntry]) -> Result<Vec<Replacement>, Error> {
        let mut out = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let entry_path = child(key_path, i);
            match (&entry.path, &entry.source, &entry.targets) {
                (Some(rel), None, None) => out.extend(self.replacement_file(&entry_path, rel)?),
                (Some(_), _, _) => {
                    return Err(self
                        .err(
                            &entry_path,
                            "a `replacements` entry has either `path` or `source` and `targets`, not both",
                        )
                        .into());
                }
                (None, _, _) => out.push(self.replacement(&entry_path, field_name(&entry_path), entry)?),
            }
        }
        Ok(out)
    }

    /// The replacements of the file `rel` names (at `key_path`).
    fn replacement_file(&self, key_path: &[String], rel: &str) -> Result<Vec<Replacement>, Error> {
        let (path, text) = self.read_file(key_path, rel)?;
        let in_file = TargetDir {
            path: Arc::from(path.as_str()),
            text: Arc::from(text.as_str()),
            fs: self.fs,
            dir: self.dir,
            respelled: Vec::new(),
        };
        let is_list = yaml::parse_file(&text, &path)?.is_array();
        let entries: Vec<(Vec<String>, ReplacementEntry)> = if is_list {
            let list: Vec<ReplacementEntry> = typed::read(&text, &path, &file::OPTIONS).map_err(Error::many)?;
            list.into_iter().enumerate().map(|(i, e)| (vec![i.to_string()], e)).collect()
        } else {
            vec![(Vec::new(), typed::read(&text, &path, &file::OPTIONS).map_err(Error::many)?)]
        };
        let mut out = Vec::new();
        for (at, entry) in entries {
            if entry.path.is_some() {
                return Err(in_file.err(&child(&at, "path"), "a replacements file cannot name another file").into());
            }
            let name = format!(
                "{} ({path}{})",
                field_name(key_path),
                if at.is_empty() { String::new() } else { format!("[{}]", at[0]) }
            );
            out.push(in_file.replacement(&at, name, &entry)?);
        }
        Ok(out)
    }

    fn replacement(
        &self,
        entry_path: &[String],
        entry: String,
        e: &ReplacementEntry,
    ) -> Result<Replacement, Diagnostic> {
        let Some(source) = &e.source else {
            return Err(self
                .err(entry_path, format!("`{entry}` needs a `source`"))
                .hint("name the object and field to copy from"));
        };
        let targets = e.targets.as_deref().unwrap_or_default();
        if targets.is_empty() {
            return Err(self
                .err(entry_path, format!("`{entry}` needs `targets`"))
                .hint("list the objects and fields to copy to"));
        }
        let source = self.source(&child(entry_path, "source"), source)?;
        let mut out = Vec::new();
        for (i, t) in targets.iter().enumerate() {
            out.push(self.target(&child(&child(entry_path, "targets"), i), t)?);
        }
        Ok(Replacement { entry, source, targets: out })
    }

    fn source(&self, at: &[String], s: &SourceEntry) -> Result<Source, Diagnostic> {
        let field_path =
            self.field_path(&child(at, "fieldPath"), s.field_path.as_deref().unwrap_or("metadata.name"))?;
        let options = self.field_options(&child(at, "options"), s.options.as_ref())?;
        if options.create {
            return Err(self.err(&child(&child(at, "options"), "create"), "`create` is for targets, not the source"));
        }
        let nonempty = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        Ok(Source {
            group: nonempty(&s.group),
            version: nonempty(&s.version),
            kind: nonempty(&s.kind),
            name: nonempty(&s.name),
            namespace: nonempty(&s.namespace),
            field_path,
            options,
            at: self.span(at),
        })
    }

    fn target(&self, at: &[String], t: &ReplacementTargetEntry) -> Result<Target, Diagnostic> {
        let Some(select) = &t.select else {
            return Err(self
                .err(at, "a replacement target needs `select`")
                .hint("give the kind (and name) of the objects to change"));
        };
        let select = self.selector(&child(at, "select"), select)?;
        let mut reject = Vec::new();
        for (i, r) in t.reject.iter().flatten().enumerate() {
            reject.push(self.selector(&child(&child(at, "reject"), i), r)?);
        }
        let mut field_paths = Vec::new();
        for (i, fp) in t.field_paths.iter().flatten().enumerate() {
            field_paths.push(self.field_path(&child(&child(at, "fieldPaths"), i), fp)?);
        }
        if field_paths.is_empty() {
            field_paths.push(self.field_path(at, "metadata.name")?);
        }
        let options = self.field_options(&child(at, "options"), t.options.as_ref())?;
        Ok(Target { select, reject, field_paths, options, at: self.span(at) })
    }

    fn field_path(&self, at: &[String], text: &str) -> Result<FieldPath, Diagnostic> {
        let parts = parse_path(text).map_err(|e| {
            self.err(at, format!("field path `{text}`: {e}"))
                .hint("write fields separated by `.`, list items as `0`, `*` or `[name=value]`")
        })?;
        Ok(FieldPath { text: text.to_string(), parts, at: self.span(at) })
    }

    fn field_options(&self, at: &[String], o: Option<&FieldOptionsEntry>) -> Result<FieldOptions, Diagnostic> {
        let Some(o) = o else { return Ok(FieldOptions::default()) };
        if o.index.is_some() && o.delimiter.as_deref().is_none_or(str::is_empty) {
            return Err(self.err(&child(at, "index"), "`index` needs a `delimiter`"));
        }
        Ok(FieldOptions {
            delimiter: o.delimiter.clone().filter(|d| !d.is_empty()),
            index: o.index.unwrap_or(0),
            create: o.create.unwrap_or(false),
        })
    }
}
