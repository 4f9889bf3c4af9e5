//! The target directory a kustomization.yaml sits in: positions in the file, and
//! the files it names (read relative to the directory, never outside the
//! repository).

use std::sync::Arc;

use super::Span;
use crate::diag::Diagnostic;
use crate::diag::Diagnostic as Warning;
use crate::manifest::{Resource, TemplateOrigin};
use crate::render::strings;
use crate::source::{EntryKind, Fs};
use crate::yaml::{self, typed::Respelled};

/// A kustomization.yaml being read: its text, for positions, and its directory.
pub(super) struct TargetDir<'a> {
    /// Repository-relative path of the kustomization.yaml.
    pub path: Arc<str>,
    pub text: Arc<str>,
    pub fs: &'a Fs,
    /// Repository-relative directory of the target.
    pub dir: &'a str,
    /// Fields written in another letter case (key paths name fields by their names).
    pub respelled: Vec<Respelled>,
}

/// The `key_path` followed by `key`.
pub(super) fn child(key_path: &[String], key: impl ToString) -> Vec<String> {
    let mut out = key_path.to_vec();
    out.push(key.to_string());
    out
}

impl TargetDir<'_> {
    /// Where `key_path` is written (the deepest key found).
    pub fn span(&self, key_path: &[String]) -> Span {
        let key_path = &Respelled::as_written(&self.respelled, key_path)[..];
        let (line, col) = yaml::locate(&self.text, key_path).unwrap_or((1, 1));
        let len = match key_path.last() {
            Some(k) if k.parse::<usize>().is_err() => k.chars().count(),
            _ => 1,
        };
        Span { file: self.path.clone(), text: self.text.clone(), line, col, len }
    }

    /// An error pointing at `key_path`.
    pub fn err(&self, key_path: &[String], message: impl Into<String>) -> Diagnostic {
        self.span(key_path).diag(message, "")
    }

    /// A path relative to the target directory, checked to stay inside the repository.
    fn relative_path(&self, key_path: &[String], rel: &str) -> Result<String, Diagnostic> {
        if rel.contains("://") || rel.starts_with("github.com/") || rel.starts_with("git@") {
            return Err(self
                .err(
                    key_path,
                    format!("remote `{rel}` is not supported; strata reads only files inside the repository"),
                )
                .hint("vendor the files into the repository and list them by relative path"));
        }
        if rel.starts_with('/') || rel.get(1..3) == Some(":\\") || rel.get(1..3) == Some(":/") {
            return Err(self
                .err(
                    key_path,
                    format!("absolute path `{rel}`; paths are relative to the target directory `{}`", self.dir),
                )
                .hint("write the path relative to the directory holding kustomization.yaml"));
        }
        let mut parts: Vec<&str> = self.dir.split('/').filter(|s| !s.is_empty()).collect();
        for seg in rel.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(self
                            .err(key_path, format!("`{rel}` leaves the repository"))
                            .hint("files named in kustomization.yaml must be inside the repository"));
                    }
                }
                s => parts.push(s),
            }
        }
        Ok(parts.join("/"))
    }

    /// Reads the file `rel` names (written at `key_path`): its repository path and text.
    pub fn read_file(&self, key_path: &[String], rel: &str) -> Result<(String, String), Diagnostic> {
        let path = self.existing_file(key_path, rel)?;
        let text = self.fs.read_string(&path)?;
        Ok((path, text))
    }

    /// Reads the file `rel` names (written at `key_path`): its repository path and bytes.
    pub fn read_bytes(&self, key_path: &[String], rel: &str) -> Result<(String, Arc<[u8]>), Diagnostic> {
        let path = self.existing_file(key_path, rel)?;
        let bytes = self.fs.read(&path)?;
        Ok((path, bytes))
    }

    /// The repository path of the file `rel` names, checked to exist and be a file.
    fn existing_file(&self, key_path: &[String], rel: &str) -> Result<String, Diagnostic> {
        let path = self.relative_path(key_path, rel)?;
        match self.fs.kind(&path) {
            Ok(None) => Err(self
                .err(key_path, format!("`{rel}` does not exist (looked for `{path}`)"))
                .hint(format!("paths are relative to `{}`", if self.dir.is_empty() { "." } else { self.dir }))),
            Ok(Some(EntryKind::Dir)) => Err(self
                .err(key_path, format!("`{rel}` is a directory; strata reads plain YAML files only"))
                .hint("list the YAML files themselves (other kustomizations are not supported)")),
            Err(d) => Err(d),
            Ok(Some(_)) => Ok(path),
        }
    }

    /// The objects of the files listed under `resources:` (`key_path`), with their
    /// label and annotation values made strings (and a warning for each one that was not).
    pub fn resources(
        &self,
        key_path: &[String],
        files: &[String],
    ) -> Result<(Vec<Resource>, Vec<Warning>), Diagnostic> {
        let (mut out, mut warnings) = (Vec::new(), Vec::new());
        for (i, rel) in files.iter().enumerate() {
            let (path, text) = self.read_file(&child(key_path, i), rel)?;
            let docs = yaml::parse_documents(&text).map_err(|e| e.into_diagnostic(&path, &text))?;
            let template: Arc<str> = Arc::from(path.as_str());
            let mut objects = Vec::new();
            for (doc, body) in docs.into_iter().enumerate() {
                if body.is_null() {
                    continue;
                }
                for item in crate::manifest::expand_lists(body) {
                    objects.push(Resource::new(item, TemplateOrigin { template: template.clone(), doc })?);
                }
            }
            let found = strings::labels_and_annotations(&mut objects, &text, &path, || Some(text.clone()));
            warnings.extend(found.map_err(|mut errors| errors.remove(0))?);
            out.extend(objects);
        }
        Ok((out, warnings))
    }
}
