//! A [`Source`] that answers some paths with new links: the repository as it
//! would be after a promotion, compiled without touching the disk.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use super::links::{Link, LinkForm};
use crate::source::{DirEntry, EntryKind, Source, SourceInfo};

/// `base`, with the `templates` links in `links` replaced (each keeps its form,
/// so the kind of entry at its path does not change).
pub struct Overlay {
    base: Arc<dyn Source>,
    links: BTreeMap<String, Link>,
}

impl Overlay {
    pub fn new(base: Arc<dyn Source>, links: impl IntoIterator<Item = Link>) -> Self {
        Overlay { base, links: links.into_iter().map(|l| (l.path.clone(), l)).collect() }
    }
}

impl Source for Overlay {
    fn entry_kind(&self, path: &str) -> io::Result<Option<EntryKind>> {
        match self.links.get(path) {
            Some(l) if l.form == LinkForm::Symlink => Ok(Some(EntryKind::Link)),
            Some(_) => Ok(Some(EntryKind::File)),
            None => self.base.entry_kind(path),
        }
    }

    fn read_dir(&self, path: &str) -> io::Result<Vec<DirEntry>> {
        self.base.read_dir(path)
    }

    fn read_link(&self, path: &str) -> io::Result<String> {
        match self.links.get(path) {
            Some(l) if l.form == LinkForm::Symlink => Ok(l.raw.clone()),
            Some(_) => Err(io::Error::new(io::ErrorKind::InvalidInput, "not a link")),
            None => self.base.read_link(path),
        }
    }

    fn read_file(&self, path: &str) -> io::Result<Arc<[u8]>> {
        match self.links.get(path) {
            Some(l) if l.form == LinkForm::File => Ok(Arc::from(l.raw.as_bytes())),
            Some(_) => Err(io::Error::new(io::ErrorKind::InvalidInput, "is a link")),
            None => self.base.read_file(path),
        }
    }

    fn root_name(&self) -> Option<String> {
        self.base.root_name()
    }

    fn info(&self) -> SourceInfo {
        // Not a commit any more: the promotion is uncommitted work.
        SourceInfo { dirty: true, ..self.base.info() }
    }
}
