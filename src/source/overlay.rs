//! A source with some files and links replaced, added or deleted in memory:
//! what a tree would look like after a write, compiled before anything is
//! written (`strata port` renders the ported version this way, `strata promote`
//! the repointed `templates` links, and each writes only when it renders).
//!
//! In: a base [`Source`] and the changes: `path → Some(bytes)` (a file written)
//! or `None` (deleted), and symbolic links ([`OverlaySource::with_link`]). Out: a
//! [`Source`] that reads the changed entries from memory and everything else
//! from the base. Directories that only new entries create exist; a directory
//! whose entries are all deleted stays, empty, as on disk.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use super::{DirEntry, EntryKind, Source, SourceInfo};

/// One changed path.
#[derive(Debug, Clone)]
enum Change {
    File(Arc<[u8]>),
    /// A symbolic link and its target as written (`../v2`).
    Link(String),
    Deleted,
}

impl Change {
    fn kind(&self) -> Option<EntryKind> {
        match self {
            Change::File(_) => Some(EntryKind::File),
            Change::Link(_) => Some(EntryKind::Link),
            Change::Deleted => None,
        }
    }
}

pub struct OverlaySource {
    base: Arc<dyn Source>,
    changes: BTreeMap<String, Change>,
}

impl OverlaySource {
    /// `base` with `changes`: `Some(bytes)` writes a file, `None` deletes one.
    pub fn new(base: Arc<dyn Source>, changes: BTreeMap<String, Option<Arc<[u8]>>>) -> Self {
        let changes = changes.into_iter().map(|(k, v)| (k, v.map_or(Change::Deleted, Change::File))).collect();
        OverlaySource { base, changes }
    }

    /// Also writes the symbolic link `path` → `target` (relative, as written in
    /// the link), replacing whatever was at `path`.
    pub fn with_link(mut self, path: impl Into<String>, target: impl Into<String>) -> Self {
        self.changes.insert(path.into(), Change::Link(target.into()));
        self
    }

    /// Also writes the file `path`, replacing whatever was there.
    pub fn with_file(mut self, path: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Self {
        self.changes.insert(path.into(), Change::File(bytes.into()));
        self
    }

    /// Whether a written file or link lies below `path`.
    fn has_written_below(&self, path: &str) -> bool {
        let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
        self.changes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .any(|(_, v)| !matches!(v, Change::Deleted))
    }
}

impl Source for OverlaySource {
    fn entry_kind(&self, path: &str) -> io::Result<Option<EntryKind>> {
        match self.changes.get(path) {
            Some(change) => Ok(change.kind()),
            None => match self.base.entry_kind(path)? {
                None if self.has_written_below(path) => Ok(Some(EntryKind::Dir)),
                kind => Ok(kind),
            },
        }
    }

    fn read_dir(&self, path: &str) -> io::Result<Vec<DirEntry>> {
        let mut entries: BTreeMap<String, EntryKind> = match self.base.read_dir(path) {
            Ok(list) => list.into_iter().map(|e| (e.name, e.kind)).collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.has_written_below(path) => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
        for (k, v) in self.changes.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)) {
            let rest = &k[prefix.len()..];
            match (rest.split_once('/'), v.kind()) {
                (Some((dir, _)), Some(_)) => {
                    entries.insert(dir.to_string(), EntryKind::Dir);
                }
                (None, Some(kind)) => {
                    entries.insert(rest.to_string(), kind);
                }
                (None, None) => {
                    entries.remove(rest);
                }
                (Some(_), None) => {}
            }
        }
        Ok(entries.into_iter().map(|(name, kind)| DirEntry { name, kind }).collect())
    }

    fn read_link(&self, path: &str) -> io::Result<String> {
        match self.changes.get(path) {
            Some(Change::Link(target)) => Ok(target.clone()),
            Some(Change::File(_)) => Err(io::Error::new(io::ErrorKind::InvalidInput, "not a link")),
            Some(Change::Deleted) => Err(io::Error::new(io::ErrorKind::NotFound, "no such link")),
            None => self.base.read_link(path),
        }
    }

    fn read_file(&self, path: &str) -> io::Result<Arc<[u8]>> {
        match self.changes.get(path) {
            Some(Change::File(bytes)) => Ok(bytes.clone()),
            Some(Change::Link(_)) => Err(io::Error::new(io::ErrorKind::InvalidInput, "is a link")),
            Some(Change::Deleted) => Err(io::Error::new(io::ErrorKind::NotFound, "no such file")),
            None => self.base.read_file(path),
        }
    }

    fn root_name(&self) -> Option<String> {
        self.base.root_name()
    }

    fn info(&self) -> SourceInfo {
        // The files differ from the base's commit: dirty.
        SourceInfo { dirty: true, ..self.base.info() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;

    #[test]
    fn changes_show_through_and_the_rest_reads_the_base() {
        let base = MemorySource::from_entries(&[("a/x", "1"), ("a/y", "2"), ("b/t", "-> ../a")]);
        let mut changes = BTreeMap::new();
        changes.insert("a/x".to_string(), Some(Arc::from(&b"new"[..])));
        changes.insert("a/y".to_string(), None);
        changes.insert("c/d/z".to_string(), Some(Arc::from(&b"3"[..])));
        let o = OverlaySource::new(Arc::new(base), changes);
        assert_eq!(&*o.read_file("a/x").unwrap(), b"new");
        assert_eq!(o.read_file("a/y").unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(o.entry_kind("a/y").unwrap(), None);
        assert_eq!(o.entry_kind("c").unwrap(), Some(EntryKind::Dir));
        assert_eq!(o.read_link("b/t").unwrap(), "../a");
        let names = |p: &str| o.read_dir(p).unwrap().into_iter().map(|e| e.name).collect::<Vec<_>>();
        assert_eq!(names("a"), ["x"]);
        assert_eq!(names(""), ["a", "b", "c"]);
        assert_eq!(names("c"), ["d"]);
    }

    #[test]
    fn links_replace_entries_and_create_directories() {
        let base = MemorySource::from_entries(&[("v1/x", "1"), ("v2/x", "2"), ("e/templates", "-> ../v1")]);
        let o = OverlaySource::new(Arc::new(base), BTreeMap::new())
            .with_link("e/templates", "../v2")
            .with_link("n/templates", "../v2")
            .with_file("w/templates", &b"../v1\n"[..]);
        assert_eq!(o.read_link("e/templates").unwrap(), "../v2");
        assert_eq!(o.entry_kind("n").unwrap(), Some(EntryKind::Dir));
        assert_eq!(o.entry_kind("n/templates").unwrap(), Some(EntryKind::Link));
        assert_eq!(o.read_file("n/templates").unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert_eq!(o.read_link("w/templates").unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let kinds = |p: &str| o.read_dir(p).unwrap().into_iter().map(|e| (e.name, e.kind)).collect::<Vec<_>>();
        assert_eq!(kinds("e"), [("templates".to_string(), EntryKind::Link)]);
        assert_eq!(kinds("w"), [("templates".to_string(), EntryKind::File)]);
        assert!(o.info().dirty);
    }
}
