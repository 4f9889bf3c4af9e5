//! The work tree: files as they are on disk under the repository root.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{DirEntry, EntryKind, Source, SourceInfo};

pub struct WorkTreeSource {
    root: PathBuf,
    info: SourceInfo,
    /// [`Source::root_name`], found once (`--repo .` asks the current directory).
    name: std::sync::OnceLock<Option<String>>,
}

impl WorkTreeSource {
    /// A source rooted at `root`; `info` describes the commit it is based on.
    pub fn new(root: impl Into<PathBuf>, info: SourceInfo) -> Self {
        WorkTreeSource { root: root.into(), info, name: std::sync::OnceLock::new() }
    }

    fn full(&self, path: &str) -> PathBuf {
        if path.is_empty() { self.root.clone() } else { self.root.join(path) }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Source for WorkTreeSource {
    fn root_name(&self) -> Option<String> {
        let name = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(str::to_string);
        // `--repo .` has no name of its own: the directory it stands for has.
        let found = || name(&self.root).or_else(|| self.root.canonicalize().ok().as_deref().and_then(name));
        self.name.get_or_init(found).clone()
    }

    fn entry_kind(&self, path: &str) -> io::Result<Option<EntryKind>> {
        match std::fs::symlink_metadata(self.full(path)) {
            Ok(m) if m.file_type().is_symlink() => Ok(Some(EntryKind::Link)),
            Ok(m) if m.is_dir() => Ok(Some(EntryKind::Dir)),
            Ok(_) => Ok(Some(EntryKind::File)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn read_dir(&self, path: &str) -> io::Result<Vec<DirEntry>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.full(path))? {
            let entry = entry?;
            let ft = entry.file_type()?;
            let kind = if ft.is_symlink() {
                EntryKind::Link
            } else if ft.is_dir() {
                EntryKind::Dir
            } else {
                EntryKind::File
            };
            let Ok(name) = entry.file_name().into_string() else { continue };
            out.push(DirEntry { name, kind });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read_link(&self, path: &str) -> io::Result<String> {
        let target = std::fs::read_link(self.full(path))?;
        target
            .into_os_string()
            .into_string()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "link target is not UTF-8"))
    }

    fn read_file(&self, path: &str) -> io::Result<Arc<[u8]>> {
        Ok(Arc::from(std::fs::read(self.full(path))?))
    }

    fn file_size(&self, path: &str) -> io::Result<Option<u64>> {
        Ok(Some(std::fs::symlink_metadata(self.full(path))?.len()))
    }

    // One open and one `fstat`, where a size look-up then a read took two path walks.
    fn read_file_max(&self, path: &str, max: u64) -> io::Result<Result<Arc<[u8]>, u64>> {
        let mut f = std::fs::File::open(self.full(path))?;
        let size = f.metadata()?.len();
        if size > max {
            return Ok(Err(size));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0) + 1);
        // At most one byte past the limit: a file that grew since is refused, not read whole.
        io::Read::read_to_end(&mut io::Read::take(&mut f, max.saturating_add(1)), &mut bytes)?;
        Ok(if bytes.len() as u64 > max { Err(bytes.len() as u64) } else { Ok(Arc::from(bytes)) })
    }

    fn info(&self) -> SourceInfo {
        self.info.clone()
    }
}
