//! Template context objects: `Values` that records what templates read, and the
//! sandboxed `Files`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use globset::GlobBuilder;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value as MjValue};
use minijinja::{Error as MjError, ErrorKind, State};
use serde_json::Value;

use crate::source::{self, EntryKind, Fs};

/// The value paths a render read: `get` records a path; iterating or serializing
/// a map records it as read whole (everything below it counts as read).
#[derive(Debug, Default)]
pub struct ReadTracker {
    read: Mutex<HashSet<String>>,
    whole: Mutex<HashSet<String>>,
}

impl ReadTracker {
    fn touch(&self, path: &str) {
        let mut r = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if !r.contains(path) {
            r.insert(path.to_string());
        }
    }

    fn touch_whole(&self, path: &str) {
        let mut w = self.whole.lock().unwrap_or_else(|e| e.into_inner());
        if !w.contains(path) {
            w.insert(path.to_string());
        }
    }

    /// Whether the value at `path` (a leaf of some values layer) was read.
    pub fn was_read(&self, path: &[String]) -> bool {
        let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        let whole = self.whole.lock().unwrap_or_else(|e| e.into_inner());
        let mut prefix = String::new();
        if whole.contains("") {
            return true;
        }
        for (i, seg) in path.iter().enumerate() {
            if i > 0 {
                prefix.push('.');
            }
            prefix.push_str(seg);
            if whole.contains(&prefix) {
                return true;
            }
        }
        read.contains(&prefix)
    }
}

/// A map inside the merged values, seen by templates as `Values...`.
#[derive(Debug)]
pub struct TrackedMap {
    root: Arc<Value>,
    /// Keys from the root to this map.
    path: Vec<String>,
    tracker: Arc<ReadTracker>,
}

impl TrackedMap {
    pub fn root(root: Arc<Value>, tracker: Arc<ReadTracker>) -> MjValue {
        MjValue::from_object(TrackedMap { root, path: Vec::new(), tracker })
    }

    fn node(&self) -> &serde_json::Map<String, Value> {
        let mut cur = &*self.root;
        for k in &self.path {
            cur = &cur[k.as_str()];
        }
        cur.as_object().expect("tracked maps wrap maps")
    }

    fn dotted(&self, key: Option<&str>) -> String {
        let mut s = self.path.join(".");
        if let Some(k) = key {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(k);
        }
        s
    }
}

impl Object for TrackedMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        let key = key.as_str()?;
        self.get_value_by_str(key)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<MjValue> {
        // A lookup reads the key whether or not it exists: a parameter set to `null`
        // (deleting a default) is read by the template that looks it up.
        self.tracker.touch(&self.dotted(Some(key)));
        let child = self.node().get(key)?;
        Some(match child {
            Value::Object(_) => {
                let mut path = self.path.clone();
                path.push(key.to_string());
                MjValue::from_object(TrackedMap { root: self.root.clone(), path, tracker: self.tracker.clone() })
            }
            other => json_to_value(other),
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        self.tracker.touch_whole(&self.dotted(None));
        Enumerator::Values(self.node().keys().map(|k| MjValue::from(k.as_str())).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.node().len())
    }
}

/// Converts a JSON value into a template value.
pub fn json_to_value(v: &Value) -> MjValue {
    MjValue::from(minijinja::value::Serde(v))
}

/// `Files`: read-only access to the files of one version directory.
#[derive(Debug)]
pub struct FilesObject {
    pub fs: Fs,
    /// Repository-relative version directory.
    pub version_dir: String,
}

impl FilesObject {
    /// Resolves `rel` inside the version directory, refusing anything outside it.
    fn path_of(&self, rel: &str) -> Result<String, MjError> {
        let mut parts: Vec<&str> = Vec::new();
        for seg in rel.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(MjError::new(
                            ErrorKind::InvalidOperation,
                            format!("`Files` path `{rel}` leaves the version directory `{}`", self.version_dir),
                        ));
                    }
                }
                s => parts.push(s),
            }
        }
        if rel.starts_with('/') {
            return Err(MjError::new(
                ErrorKind::InvalidOperation,
                format!("`Files` paths are relative to the version directory; `{rel}` is absolute"),
            ));
        }
        Ok(source::join(&self.version_dir, &parts.join("/")))
    }

    fn get(&self, rel: &str) -> Result<MjValue, MjError> {
        let path = self.path_of(rel)?;
        match self.fs.kind(&path).map_err(|d| MjError::new(ErrorKind::InvalidOperation, d.message))? {
            Some(EntryKind::File) => {}
            _ => {
                return Err(MjError::new(
                    ErrorKind::InvalidOperation,
                    format!("`Files.get(\"{rel}\")`: no file `{path}`"),
                ));
            }
        }
        let text = self.fs.read_string(&path).map_err(|d| MjError::new(ErrorKind::InvalidOperation, d.message))?;
        Ok(MjValue::from(text))
    }

    fn glob(&self, pattern: &str) -> Result<MjValue, MjError> {
        let matcher = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| MjError::new(ErrorKind::InvalidOperation, format!("invalid glob `{pattern}`: {e}")))?
            .compile_matcher();
        let mut files = Vec::new();
        walk_files(&self.fs, &self.version_dir, "", &mut files)
            .map_err(|d| MjError::new(ErrorKind::InvalidOperation, d.message))?;
        let mut out = serde_json::Map::new();
        for rel in files.into_iter().filter(|f| matcher.is_match(f)) {
            let text = self
                .fs
                .read_string(&source::join(&self.version_dir, &rel))
                .map_err(|d| MjError::new(ErrorKind::InvalidOperation, d.message))?;
            out.insert(rel, Value::String(text));
        }
        Ok(json_to_value(&Value::Object(out)))
    }
}

/// Lists the regular files below `base/rel`, as paths relative to `base`, sorted.
pub fn walk_files(fs: &Fs, base: &str, rel: &str, out: &mut Vec<String>) -> Result<(), crate::diag::Diagnostic> {
    for e in fs.read_dir(&source::join(base, rel))? {
        if e.name.starts_with('.') {
            continue;
        }
        let child = source::join(rel, &e.name);
        let kind = match e.kind {
            EntryKind::Link => fs.kind(&source::join(base, &child))?,
            k => Some(k),
        };
        match kind {
            Some(EntryKind::Dir) if e.kind == EntryKind::Dir => walk_files(fs, base, &child, out)?,
            Some(EntryKind::File) => out.push(child),
            _ => {}
        }
    }
    Ok(())
}

impl Object for FilesObject {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[MjValue],
    ) -> Result<MjValue, MjError> {
        let arg = || -> Result<&str, MjError> {
            match args {
                [a] => a.as_str().ok_or_else(|| MjError::new(ErrorKind::InvalidOperation, "expected a string path")),
                _ => Err(MjError::new(ErrorKind::InvalidOperation, format!("`Files.{method}` takes one argument"))),
            }
        };
        match method {
            "get" | "Get" => self.get(arg()?),
            "glob" | "Glob" => self.glob(arg()?),
            _ => Err(MjError::from(ErrorKind::UnknownMethod)),
        }
    }
}
