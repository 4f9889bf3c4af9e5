//! Entry kinds asked once, for a walk that asks about the same directories
//! again and again: resolving a path checks the kind of each of its prefixes.
//! The render cache's keys (the loaders of [`crate::cache::inputs`] resolve
//! every string of a `kustomization.yaml` as a candidate path: on the medium
//! benchmark, 70,000 `statx` calls for the keys of 1,000 targets) and the
//! discovery of targets (each `templates` link resolved prefix by prefix:
//! about ten `statx` a target) read through [`Kinds`], and so does all of
//! `strata render` with selectors (discovery, the look for `Repo`, the render:
//! [`Kinds::rebased`] carries what was read over to the source that knows the
//! commit).
//!
//! A kind is answered from its directory's listing, read once (or kept from a
//! `read_dir` that went through): one listing of a target directory answers
//! every candidate its `kustomization.yaml` names, where each used to cost a
//! `statx`.
//!
//! Only for reads that see the tree as it is when they start: a file written
//! after its directory was listed is not seen. A run's keys and discovery are
//! such reads; commands that write into the repository (`promote`, `init`)
//! write after them, through other sources.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use super::{DirEntry, EntryKind, Source, SourceInfo};

/// A directory's entries' kinds.
type Listing = Arc<HashMap<String, EntryKind>>;

/// A source whose entry kinds are remembered, each directory's from one
/// listing; every other read goes through.
pub struct Kinds {
    inner: Arc<dyn Source>,
    known: Mutex<HashMap<String, Option<EntryKind>>>,
    /// Directory → its entries' kinds; `None` when it cannot be listed (the
    /// kinds inside are then asked one by one).
    listings: Mutex<HashMap<String, Option<Listing>>>,
    /// Files read lately, for walks that read the same file for many targets
    /// (a component's `component.yaml` and `parameters.yaml`, once per
    /// environment); emptied when it holds [`FILES_BYTES`].
    files: Mutex<Files>,
}

/// The most bytes of file contents [`Kinds`] keeps at a time.
const FILES_BYTES: usize = 8 << 20;

#[derive(Default)]
struct Files {
    bytes: usize,
    by_path: HashMap<String, Arc<[u8]>>,
}

impl Kinds {
    pub fn new(inner: Arc<dyn Source>) -> Kinds {
        Kinds {
            inner,
            known: Mutex::new(HashMap::new()),
            listings: Mutex::new(HashMap::new()),
            files: Mutex::new(Files::default()),
        }
    }

    /// The same tree read through `inner` (the one source that knows its
    /// commit, once it is known), keeping what was already listed and read.
    pub fn rebased(&self, inner: Arc<dyn Source>) -> Kinds {
        let files = lock(&self.files);
        Kinds {
            inner,
            known: Mutex::new(lock(&self.known).clone()),
            listings: Mutex::new(lock(&self.listings).clone()),
            files: Mutex::new(Files { bytes: files.bytes, by_path: files.by_path.clone() }),
        }
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
        let entries = self.inner.read_dir(path)?;
        let kinds: HashMap<String, EntryKind> = entries.iter().map(|e| (e.name.clone(), e.kind)).collect();
        lock(&self.listings).entry(path.to_string()).or_insert_with(|| Some(Arc::new(kinds)));
        Ok(entries)
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
        if let Some(bytes) = lock(&self.files).by_path.get(path) {
            let size = bytes.len() as u64;
            return Ok(if size <= max { Ok(bytes.clone()) } else { Err(size) });
        }
        let read = self.inner.read_file_max(path, max)?;
        if let Ok(bytes) = &read {
            let mut files = lock(&self.files);
            if files.bytes + bytes.len() > FILES_BYTES {
                *files = Files::default();
            }
            files.bytes += bytes.len();
            files.by_path.insert(path.to_string(), bytes.clone());
        }
        Ok(read)
    }

    fn info(&self) -> SourceInfo {
        self.inner.info()
    }

    fn root_name(&self) -> Option<String> {
        self.inner.root_name()
    }

    fn remembers_kinds(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;

    /// A source that counts listings and file reads, to see what [`Kinds`] spares.
    struct Counting {
        inner: MemorySource,
        listed: Mutex<Vec<String>>,
        read: Mutex<Vec<String>>,
    }

    impl Source for Counting {
        fn entry_kind(&self, path: &str) -> io::Result<Option<EntryKind>> {
            self.inner.entry_kind(path)
        }
        fn read_dir(&self, path: &str) -> io::Result<Vec<DirEntry>> {
            lock(&self.listed).push(path.to_string());
            self.inner.read_dir(path)
        }
        fn read_link(&self, path: &str) -> io::Result<String> {
            self.inner.read_link(path)
        }
        fn read_file(&self, path: &str) -> io::Result<Arc<[u8]>> {
            lock(&self.read).push(path.to_string());
            self.inner.read_file(path)
        }
        fn info(&self) -> SourceInfo {
            self.inner.info()
        }
    }

    fn counting(commit: &str) -> Arc<Counting> {
        let mut inner = MemorySource::from_entries(&[("a/b/c.yaml", "x: 1\n"), ("a/d", "-> b")]);
        inner.with_info(SourceInfo { commit: Some(commit.to_string()), ..SourceInfo::default() });
        Arc::new(Counting { inner, listed: Mutex::default(), read: Mutex::default() })
    }

    #[test]
    fn kinds_come_from_one_listing_per_directory_and_survive_a_rebase() {
        let first = counting("one");
        let kinds = Kinds::new(first.clone());
        assert_eq!(kinds.entry_kind("a/b").unwrap(), Some(EntryKind::Dir));
        assert_eq!(kinds.entry_kind("a/d").unwrap(), Some(EntryKind::Link));
        assert_eq!(kinds.entry_kind("a/x").unwrap(), None);
        // Below a missing entry or a file, nothing is there: no listing can say otherwise.
        assert_eq!(kinds.entry_kind("a/x/y").unwrap(), None);
        assert_eq!(kinds.entry_kind("a/b/c.yaml/z").unwrap(), None);
        assert_eq!(*lock(&first.listed), ["a", "a/x", "a/b/c.yaml"]);
        assert_eq!(&*kinds.read_file_max("a/b/c.yaml", 100).unwrap().unwrap(), b"x: 1\n");
        assert_eq!(kinds.read_file_max("a/b/c.yaml", 2).unwrap(), Err(5), "over the limit: its size");
        assert_eq!(*lock(&first.read), ["a/b/c.yaml"]);

        // Rebased on the source that knows the commit: what was listed and read is kept.
        let second = counting("two");
        let rebased = kinds.rebased(second.clone());
        assert_eq!(rebased.info().commit.as_deref(), Some("two"));
        assert_eq!(rebased.entry_kind("a/b").unwrap(), Some(EntryKind::Dir));
        assert_eq!(&*rebased.read_file_max("a/b/c.yaml", 100).unwrap().unwrap(), b"x: 1\n");
        assert!(lock(&second.listed).is_empty() && lock(&second.read).is_empty());
        // What was never asked goes to the new source.
        assert_eq!(rebased.entry_kind("a/b/c.yaml").unwrap(), Some(EntryKind::File));
        assert_eq!(*lock(&second.listed), ["a/b"]);
    }

    #[test]
    fn an_fs_reads_through_one_kinds_however_often_it_is_asked() {
        let plain = crate::source::Fs::new(counting("one"));
        let once = plain.with_kinds();
        assert!(!plain.source().remembers_kinds() && once.source().remembers_kinds());
        assert!(Arc::ptr_eq(once.with_kinds().source(), once.source()), "not wrapped twice");
    }
}
