//! The entry kinds a run's cache keys ask for, asked once: resolving a path
//! checks the kind of each of its prefixes, and the loaders of [`super::inputs`]
//! resolve every string of a `kustomization.yaml` as a candidate path, so the
//! same target and component directories are asked about again and again (on
//! the medium benchmark, 70,000 `statx` calls for the keys of 1,000 targets).
//!
//! A run reads its tree as it is when the run starts; a file changed while the
//! run reads it may give a key and a render of different states, with or
//! without this memo.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use crate::source::{DirEntry, EntryKind, Source, SourceInfo};

/// A source whose entry kinds are remembered; every other read goes through.
pub(super) struct Kinds {
    inner: Arc<dyn Source>,
    known: Mutex<HashMap<String, Option<EntryKind>>>,
}

impl Kinds {
    pub(super) fn new(inner: Arc<dyn Source>) -> Kinds {
        Kinds { inner, known: Mutex::new(HashMap::new()) }
    }
}

impl Source for Kinds {
    fn entry_kind(&self, path: &str) -> io::Result<Option<EntryKind>> {
        if let Some(k) = self.known.lock().unwrap_or_else(|e| e.into_inner()).get(path) {
            return Ok(*k);
        }
        let k = self.inner.entry_kind(path)?;
        self.known.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_string(), k);
        Ok(k)
    }

    fn read_dir(&self, path: &str) -> io::Result<Vec<DirEntry>> {
        self.inner.read_dir(path)
    }

    fn read_link(&self, path: &str) -> io::Result<String> {
        self.inner.read_link(path)
    }

    fn read_file(&self, path: &str) -> io::Result<Arc<[u8]>> {
        self.inner.read_file(path)
    }

    fn file_size(&self, path: &str) -> io::Result<Option<u64>> {
        self.inner.file_size(path)
    }

    fn info(&self) -> SourceInfo {
        self.inner.info()
    }

    fn root_name(&self) -> Option<String> {
        self.inner.root_name()
    }
}
