//! A source with some files replaced, added or deleted in memory: what a tree
//! would look like after a write, compiled before anything is written (`strata
//! port` renders the ported version this way, and writes only when it renders).
//!
//! In: a base [`Source`] and `path → Some(bytes)` (written) or `None` (deleted).
//! Out: a [`Source`] that reads the changed files from memory and everything
//! else from the base. Directories that only new files create exist; a
//! directory whose files are all deleted stays, empty, as on disk.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use super::{DirEntry, EntryKind, Source, SourceInfo};

pub struct OverlaySource {
    base: Arc<dyn Source>,
    changes: BTreeMap<String, Option<Arc<[u8]>>>,
}

impl OverlaySource {
    pub fn new(base: Arc<dyn Source>, changes: BTreeMap<String, Option<Arc<[u8]>>>) -> Self {
        OverlaySource { base, changes }
    }

    /// Whether a written file lies below `path`.
    fn has_written_below(&self, path: &str) -> bool {
        let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
        self.changes.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).any(|(_, v)| v.is_some())
    }
}

impl Source for OverlaySource {
    fn entry_kind(&self, path: &str) -> io::Result<Option<EntryKind>> {
        match self.changes.get(path) {
            Some(Some(_)) => Ok(Some(EntryKind::File)),
            Some(None) => Ok(None),
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
            match (rest.split_once('/'), v) {
                (Some((dir, _)), Some(_)) => {
                    entries.insert(dir.to_string(), EntryKind::Dir);
                }
                (None, Some(_)) => {
                    entries.insert(rest.to_string(), EntryKind::File);
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
            Some(_) => Err(io::Error::new(io::ErrorKind::InvalidInput, "not a link")),
            None => self.base.read_link(path),
        }
    }

    fn read_file(&self, path: &str) -> io::Result<Arc<[u8]>> {
        match self.changes.get(path) {
            Some(Some(bytes)) => Ok(bytes.clone()),
            Some(None) => Err(io::Error::new(io::ErrorKind::NotFound, "no such file")),
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
}
