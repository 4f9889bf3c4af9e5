//! An in-memory tree, for tests: `file("a/b.yaml", "...")`, `link("a/t", "../v1")`.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use super::{DirEntry, EntryKind, Source, SourceInfo};

#[derive(Debug, Clone)]
enum Entry {
    File(Arc<[u8]>),
    Link(String),
}

#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    entries: BTreeMap<String, Entry>,
    info: SourceInfo,
}

impl MemorySource {
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree from `(path, content)` pairs; content `-> target` makes a link.
    /// The shorthand every in-memory test repository is written in.
    pub fn from_entries(entries: &[(&str, &str)]) -> Self {
        let mut m = Self::new();
        for (path, content) in entries {
            match content.strip_prefix("-> ") {
                Some(target) => m.link(path, target),
                None => m.file(path, content),
            };
        }
        m
    }

    pub fn file(&mut self, path: &str, content: &str) -> &mut Self {
        self.entries.insert(path.to_string(), Entry::File(Arc::from(content.as_bytes())));
        self
    }

    pub fn link(&mut self, path: &str, target: &str) -> &mut Self {
        self.entries.insert(path.to_string(), Entry::Link(target.to_string()));
        self
    }

    pub fn with_info(&mut self, info: SourceInfo) -> &mut Self {
        self.info = info;
        self
    }

    fn is_dir(&self, path: &str) -> bool {
        if path.is_empty() {
            return true;
        }
        let prefix = format!("{path}/");
        self.entries.range(prefix.clone()..).next().is_some_and(|(k, _)| k.starts_with(&prefix))
    }
}

impl Source for MemorySource {
    fn entry_kind(&self, path: &str) -> io::Result<Option<EntryKind>> {
        Ok(match self.entries.get(path) {
            Some(Entry::File(_)) => Some(EntryKind::File),
            Some(Entry::Link(_)) => Some(EntryKind::Link),
            None if self.is_dir(path) => Some(EntryKind::Dir),
            None => None,
        })
    }

    fn read_dir(&self, path: &str) -> io::Result<Vec<DirEntry>> {
        let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
        let mut out: Vec<DirEntry> = Vec::new();
        for (k, v) in self.entries.range(prefix.clone()..) {
            let Some(rest) = k.strip_prefix(&prefix) else { break };
            let (name, kind) = match rest.split_once('/') {
                Some((dir, _)) => (dir, EntryKind::Dir),
                None => (rest, if matches!(v, Entry::Link(_)) { EntryKind::Link } else { EntryKind::File }),
            };
            if out.last().is_none_or(|l| l.name != name) {
                out.push(DirEntry { name: name.to_string(), kind });
            }
        }
        if out.is_empty() && !self.is_dir(path) {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such directory"));
        }
        Ok(out)
    }

    fn read_link(&self, path: &str) -> io::Result<String> {
        match self.entries.get(path) {
            Some(Entry::Link(t)) => Ok(t.clone()),
            _ => Err(io::Error::new(io::ErrorKind::InvalidInput, "not a link")),
        }
    }

    fn read_file(&self, path: &str) -> io::Result<Arc<[u8]>> {
        match self.entries.get(path) {
            Some(Entry::File(b)) => Ok(b.clone()),
            Some(Entry::Link(_)) => Err(io::Error::new(io::ErrorKind::InvalidInput, "is a link")),
            None => Err(io::Error::new(io::ErrorKind::NotFound, "no such file")),
        }
    }

    fn info(&self) -> SourceInfo {
        self.info.clone()
    }
}
