//! The entry kinds a run's cache keys ask for, asked once: resolving a path
//! checks the kind of each of its prefixes, and the loaders of [`super::inputs`]
//! resolve every string of a `kustomization.yaml` as a candidate path, so the
//! same target and component directories are asked about again and again (on
//! the medium benchmark, 70,000 `statx` calls for the keys of 1,000 targets).
//!
//! A kind is answered from its directory's listing, read once: one listing
//! of a target directory answers every candidate its `kustomization.yaml`
//! names, where each used to cost a `statx`.
//!
//! A run reads its tree as it is when the run starts; a file changed while the
//! run reads it may give a key and a render of different states, with or
//! without this memo.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use crate::source::{DirEntry, EntryKind, Source, SourceInfo};

/// A directory's entries' kinds.
type Listing = Arc<HashMap<String, EntryKind>>;

/// A source whose entry kinds are remembered, each directory's from one
/// listing; every other read goes through.
pub(super) struct Kinds {
    inner: Arc<dyn Source>,
    known: Mutex<HashMap<String, Option<EntryKind>>>,
    /// Directory → its entries' kinds; `None` when it cannot be listed (the
    /// kinds inside are then asked one by one).
    listings: Mutex<HashMap<String, Option<Listing>>>,
}

impl Kinds {
    pub(super) fn new(inner: Arc<dyn Source>) -> Kinds {
        Kinds { inner, known: Mutex::new(HashMap::new()), listings: Mutex::new(HashMap::new()) }
    }

    /// The kinds of the entries of `dir`, listed once; `None` when it cannot be
    /// listed for a reason other than being missing or no directory.
    fn listing(&self, dir: &str) -> Option<Listing> {
        if let Some(l) = lock(&self.listings).get(dir) {
            return l.clone();
        }
        let listed = match self.inner.read_dir(dir) {
            Ok(entries) => Some(Arc::new(entries.into_iter().map(|e| (e.name, e.kind)).collect())),
            // Nothing is below a missing entry or a file.
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {
                Some(Arc::new(HashMap::new()))
            }
            Err(_) => None,
        };
        lock(&self.listings).insert(dir.to_string(), listed.clone());
        listed
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Source for Kinds {
    fn entry_kind(&self, path: &str) -> io::Result<Option<EntryKind>> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        // `.`, `..` and empty names are the resolver's; a listing does not hold them.
        if !matches!(name, "" | "." | "..")
            && let Some(listing) = self.listing(dir)
        {
            return Ok(listing.get(name).copied());
        }
        if let Some(k) = lock(&self.known).get(path) {
            return Ok(*k);
        }
        let k = self.inner.entry_kind(path)?;
        lock(&self.known).insert(path.to_string(), k);
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

    fn read_file_max(&self, path: &str, max: u64) -> io::Result<Result<Arc<[u8]>, u64>> {
        self.inner.read_file_max(path, max)
    }

    fn info(&self) -> SourceInfo {
        self.inner.info()
    }

    fn root_name(&self) -> Option<String> {
        self.inner.root_name()
    }
}
