//! What a computation read: [`Fs::recording`] wraps a file system's source so
//! that every raw read (an entry's kind, a directory listing, a link's text, a
//! file's bytes, the root's name) is logged with its result, links followed
//! and paths that did not exist included.
//!
//! A computation that reads only through [`Fs`] and is deterministic gives the
//! same result over another tree when every logged read gives the same result
//! there ([`Reads::same_on`]): it would take the same steps and read the same
//! things. `strata diff` uses this to skip targets whose inputs did not change
//! (`diff::inputs`).

use std::collections::HashSet;
use std::io;
use std::sync::{Arc, Mutex};

use super::{DirEntry, EntryKind, Fs, Source, SourceInfo};

/// One raw read and what it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Read {
    Kind(String, Option<EntryKind>),
    List(String, Vec<DirEntry>),
    Link(String, String),
    File(String, Arc<[u8]>),
    RootName(Option<String>),
}

impl Read {
    fn key(&self) -> (u8, &str) {
        match self {
            Read::Kind(p, _) => (0, p),
            Read::List(p, _) => (1, p),
            Read::Link(p, _) => (2, p),
            Read::File(p, _) => (3, p),
            Read::RootName(_) => (4, ""),
        }
    }
}

/// The reads logged through one [`Fs::recording`].
#[derive(Debug, Default)]
pub struct Reads {
    log: Mutex<Vec<Read>>,
    /// A read failed (other than "not there"): what it would give elsewhere is unknown.
    failed: std::sync::atomic::AtomicBool,
}

impl Reads {
    fn push(&self, read: Read) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).push(read);
    }

    fn fail(&self) {
        self.failed.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The bytes of every file read.
    pub fn files(&self) -> Vec<Arc<[u8]>> {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().filter_map(|r| if let Read::File(_, b) = r { Some(b.clone()) } else { None }).collect()
    }

    /// Feeds every read (each once, in the order made) with its result to
    /// `hash`: two logs that feed the same bytes made the same reads with the
    /// same results (the render cache's key, `cache::Key`). False when a read
    /// failed: what it gives is unknown, so nothing may be keyed on it.
    pub fn hash_into(&self, hash: &mut dyn FnMut(&[u8])) -> bool {
        if self.failed.load(std::sync::atomic::Ordering::Relaxed) {
            return false;
        }
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen = HashSet::new();
        // Every field length-prefixed, so that no two logs give the same bytes.
        let mut field = |bytes: &[u8]| {
            hash(&(bytes.len() as u64).to_le_bytes());
            hash(bytes);
        };
        let kind = |k: Option<EntryKind>| -> &'static [u8] {
            match k {
                None => b"-",
                Some(EntryKind::File) => b"f",
                Some(EntryKind::Dir) => b"d",
                Some(EntryKind::Link) => b"l",
            }
        };
        for r in log.iter().filter(|r| seen.insert(r.key())) {
            let (tag, path) = r.key();
            field(&[tag]);
            field(path.as_bytes());
            match r {
                Read::Kind(_, k) => field(kind(*k)),
                Read::List(_, l) => {
                    field(&(l.len() as u64).to_le_bytes());
                    for e in l {
                        field(e.name.as_bytes());
                        field(kind(Some(e.kind)));
                    }
                }
                Read::Link(_, t) => field(t.as_bytes()),
                Read::File(_, b) => field(b),
                Read::RootName(n) => field(n.as_deref().unwrap_or("\0").as_bytes()),
            }
        }
        true
    }

    /// Whether every read gives the same result from `other` (and none failed).
    pub fn same_on(&self, other: &Fs) -> bool {
        if self.failed.load(std::sync::atomic::Ordering::Relaxed) {
            return false;
        }
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen = HashSet::new();
        let source = other.source();
        // Each read once (by what and where: hashing file contents would cost more than reading them).
        log.iter().filter(|r| seen.insert(r.key())).all(|r| match r {
            Read::Kind(p, k) => source.entry_kind(p).ok().as_ref() == Some(k),
            Read::List(p, l) => source.read_dir(p).ok().as_ref() == Some(l),
            Read::Link(p, t) => source.read_link(p).ok().as_ref() == Some(t),
            Read::File(p, b) => source.read_file(p).is_ok_and(|x| Arc::ptr_eq(&x, b) || x == *b),
            Read::RootName(n) => source.root_name() == *n,
        })
    }
}

/// A source that logs every read of another into [`Reads`].
struct Recording {
    inner: Arc<dyn Source>,
    reads: Arc<Reads>,
}

impl Recording {
    fn log<T>(&self, r: io::Result<T>, read: impl FnOnce(&T) -> Read) -> io::Result<T> {
        match &r {
            Ok(v) => self.reads.push(read(v)),
            Err(_) => self.reads.fail(),
        }
        r
    }
}

impl Source for Recording {
    fn entry_kind(&self, path: &str) -> io::Result<Option<EntryKind>> {
        self.log(self.inner.entry_kind(path), |k| Read::Kind(path.to_string(), *k))
    }

    fn read_dir(&self, path: &str) -> io::Result<Vec<DirEntry>> {
        self.log(self.inner.read_dir(path), |l| Read::List(path.to_string(), l.clone()))
    }

    fn read_link(&self, path: &str) -> io::Result<String> {
        self.log(self.inner.read_link(path), |t| Read::Link(path.to_string(), t.clone()))
    }

    fn read_file(&self, path: &str) -> io::Result<Arc<[u8]>> {
        self.log(self.inner.read_file(path), |b| Read::File(path.to_string(), b.clone()))
    }

    // Not logged: a size only decides whether a file is read, and the file's
    // bytes (logged when read) fix it; sources differ in knowing it beforehand.
    fn file_size(&self, path: &str) -> io::Result<Option<u64>> {
        self.inner.file_size(path)
    }

    fn read_file_max(&self, path: &str, max: u64) -> io::Result<Result<Arc<[u8]>, u64>> {
        let r = self.inner.read_file_max(path, max);
        match &r {
            Ok(Ok(b)) => self.reads.push(Read::File(path.to_string(), b.clone())),
            // A file over the limit fails the compilation that reads it.
            Ok(Err(_)) | Err(_) => self.reads.fail(),
        }
        r
    }

    fn info(&self) -> SourceInfo {
        self.inner.info()
    }

    fn root_name(&self) -> Option<String> {
        let name = self.inner.root_name();
        self.reads.push(Read::RootName(name.clone()));
        name
    }
}

impl Fs {
    /// The same files and limits, every read logged in the returned [`Reads`].
    pub fn recording(&self) -> (Fs, Arc<Reads>) {
        let reads = Arc::new(Reads::default());
        let source = Arc::new(Recording { inner: self.source().clone(), reads: reads.clone() });
        (self.with_source(Fs::new(source)), reads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;

    fn fs(entries: &[(&str, &str)]) -> Fs {
        Fs::new(Arc::new(MemorySource::from_entries(entries)))
    }

    #[test]
    fn reads_through_links_and_misses_are_replayed() {
        let a = fs(&[("c/v1/x", "1"), ("c/e/templates", "-> ../v1"), ("shared/s.json", "{}")]);
        let (rec, reads) = a.recording();
        assert_eq!(rec.read_string("c/e/templates/x").unwrap(), "1");
        assert_eq!(rec.read_optional("c/v1/missing").unwrap(), None);
        assert!(rec.read_dir("shared").is_ok());
        assert!(reads.same_on(&a));
        for (other, why) in [
            (fs(&[("c/v1/x", "2"), ("c/e/templates", "-> ../v1"), ("shared/s.json", "{}")]), "a file's bytes"),
            (fs(&[("c/v2/x", "1"), ("c/v1/x", "1"), ("c/e/templates", "-> ../v2"), ("shared/s.json", "{}")]), "a link"),
            (
                fs(&[("c/v1/x", "1"), ("c/v1/missing", ""), ("c/e/templates", "-> ../v1"), ("shared/s.json", "{}")]),
                "a new file",
            ),
            (fs(&[("c/v1/x", "1"), ("c/e/templates", "-> ../v1"), ("shared/t.json", "{}")]), "a listing"),
        ] {
            assert!(!reads.same_on(&other), "{why}");
        }
        // What was not read may change.
        assert!(reads.same_on(&fs(&[
            ("c/v1/x", "1"),
            ("c/e/templates", "-> ../v1"),
            ("shared/s.json", "{}"),
            ("other/y", "3")
        ])));
    }
}
