//! Sources: where a configuration repository's bytes come from.
//!
//! In: a [`Source`] implementation (the work tree, a git revision read with gix, or memory in tests).
//! Out: [`Fs`], which every later stage reads through. `Fs` resolves symbolic links
//! itself, one path component at a time, so that a link can never lead outside the
//! repository root, a cycle ends with an error naming it, and a dangling link names
//! the link. Paths are repository-relative, `/`-separated, with no `.` or `..`.

mod git;
mod kinds;
mod memory;
mod overlay;
mod record;
mod worktree;

pub use git::{GitRepo, Revision, commit_facts, head_info, worktree_info};
pub use kinds::Kinds;
pub use memory::MemorySource;
pub use overlay::OverlaySource;
pub use record::Reads;
pub use worktree::WorkTreeSource;

use std::collections::HashSet;
use std::io;
use std::sync::Arc;

use crate::diag::Diagnostic;

/// What a path names, without following a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Link,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub kind: EntryKind,
}

/// Where the rendered bytes came from; exposed to templates as `Repo` and
/// written into bundle indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceInfo {
    /// The commit the files belong to (for a work tree: `HEAD`), if any.
    pub commit: Option<String>,
    /// The symbolic ref (`refs/heads/main`) or the revision asked for.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// True when the files differ from `commit` (uncommitted work-tree changes).
    pub dirty: bool,
}

/// Raw access to a tree of files. Paths are physical (already resolved) and
/// repository-relative; `""` is the root. Implementations never follow links.
pub trait Source: Send + Sync {
    /// The kind of entry at `path`, or `None` when nothing is there.
    fn entry_kind(&self, path: &str) -> io::Result<Option<EntryKind>>;
    /// The entries of a directory, sorted by name.
    fn read_dir(&self, path: &str) -> io::Result<Vec<DirEntry>>;
    /// The target of a symbolic link, as written in the link.
    fn read_link(&self, path: &str) -> io::Result<String>;
    /// The bytes of a regular file.
    fn read_file(&self, path: &str) -> io::Result<Arc<[u8]>>;
    /// The size of a regular file when it is known without reading it, so that
    /// [`Fs`] can refuse a file over its size limit before reading it.
    fn file_size(&self, _path: &str) -> io::Result<Option<u64>> {
        Ok(None)
    }
    /// The bytes of a regular file of at most `max` bytes, or (inside) the
    /// size of a larger one, read or not. Sources that learn the size from the
    /// open file override it to spare a separate look-up.
    fn read_file_max(&self, path: &str, max: u64) -> io::Result<Result<Arc<[u8]>, u64>> {
        if let Some(size) = self.file_size(path)?.filter(|&n| n > max) {
            return Ok(Err(size));
        }
        let bytes = self.read_file(path)?;
        Ok(if bytes.len() as u64 > max { Err(bytes.len() as u64) } else { Ok(bytes) })
    }
    /// Commit, ref and dirty flag of this tree.
    fn info(&self) -> SourceInfo;
    /// The name of the repository root directory (`example-repo`), when the tree
    /// has one: the default of `strata.yaml` `tracking.repository`.
    fn root_name(&self) -> Option<String> {
        None
    }
    /// Whether this source already remembers entry kinds and listings ([`Kinds`]),
    /// so that [`Fs::with_kinds`] does not wrap it in a second one.
    fn remembers_kinds(&self) -> bool {
        false
    }
}

/// Joins two repository-relative paths.
pub fn join(base: &str, rel: &str) -> String {
    match (base.is_empty(), rel.is_empty()) {
        (true, _) => rel.to_string(),
        (_, true) => base.to_string(),
        _ => format!("{base}/{rel}"),
    }
}

/// The parent directory of a repository-relative path (`""` for a top-level entry).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map(|(p, _)| p).unwrap_or("")
}

/// The last component of a path.
pub fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map(|(_, n)| n).unwrap_or(path)
}

/// `path` relative to `base`, with `..` where needed (both repository-relative).
pub fn relative_to(path: &str, base: &str) -> String {
    let p: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let b: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out: Vec<&str> = vec![".."; b.len() - common];
    out.extend(&p[common..]);
    out.join("/")
}

/// The file system every stage reads through: link resolution confined to the
/// repository root, and errors that name the path.
#[derive(Clone)]
pub struct Fs {
    source: Arc<dyn Source>,
    /// The largest file [`Fs::read`] returns (`strata.yaml` `limits.maxFileBytes`).
    max_file_bytes: u64,
}

/// The default largest file read from a repository: 8 MiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 8 << 20;

impl std::fmt::Debug for Fs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fs")
    }
}

/// The most links followed while resolving one path.
const MAX_LINK_HOPS: usize = 40;

impl Fs {
    pub fn new(source: Arc<dyn Source>) -> Self {
        Fs { source, max_file_bytes: DEFAULT_MAX_FILE_BYTES }
    }

    /// `other`'s files read with this file system's limits.
    pub fn with_source(&self, other: Fs) -> Fs {
        Fs { source: other.source, max_file_bytes: self.max_file_bytes }
    }

    /// The same files read through a [`Kinds`] (each directory listed once), for walks
    /// of the tree as it is when they start; this one when it already reads through one.
    pub fn with_kinds(&self) -> Fs {
        if self.source.remembers_kinds() {
            return self.clone();
        }
        Fs { source: Arc::new(Kinds::new(self.source.clone())), max_file_bytes: self.max_file_bytes }
    }

    /// The same files, with reads of files larger than `max` bytes refused.
    pub fn with_max_file_bytes(self, max: u64) -> Self {
        Fs { max_file_bytes: max, ..self }
    }

    pub fn source(&self) -> &Arc<dyn Source> {
        &self.source
    }

    pub fn info(&self) -> SourceInfo {
        self.source.info()
    }

    /// Resolves every link in `path`, staying inside the repository. The result
    /// may name something that does not exist; see [`Fs::resolve_existing`].
    pub fn resolve(&self, path: &str) -> Result<String, Diagnostic> {
        // Pending components, each with the link that introduced it (for errors).
        let mut pending: std::collections::VecDeque<(String, Option<Arc<str>>)> =
            path.split('/').filter(|s| !s.is_empty()).map(|s| (s.to_string(), None)).collect();
        let mut resolved: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut chain: Vec<String> = Vec::new();
        while let Some((part, origin)) = pending.pop_front() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    if resolved.pop().is_none() {
                        return Err(escape_error(path, origin.as_deref(), self));
                    }
                    continue;
                }
                _ => {}
            }
            resolved.push(part);
            let candidate = resolved.join("/");
            let kind = self.source.entry_kind(&candidate).map_err(|e| io_error(&candidate, &e))?;
            if kind != Some(EntryKind::Link) {
                if kind.is_none() {
                    // Nothing below a missing entry can exist: keep the rest lexically.
                    for (rest, _) in pending.drain(..) {
                        resolved.push(rest);
                    }
                }
                continue;
            }
            chain.push(candidate.clone());
            if !seen.insert(candidate.clone()) || chain.len() > MAX_LINK_HOPS {
                return Err(Diagnostic::error(format!("link cycle while resolving `{path}`"))
                    .at(candidate)
                    .note(format!("links followed: {}", chain.join(" -> ")))
                    .hint("make one of these links point at a directory or file instead"));
            }
            let target = self.source.read_link(&candidate).map_err(|e| io_error(&candidate, &e))?;
            let target = target.replace('\\', "/");
            if target.starts_with('/') || target.get(1..3) == Some(":/") {
                return Err(Diagnostic::error(format!(
                    "link `{candidate}` is absolute (`{target}`); links must be relative and stay inside the repository"
                ))
                .at(candidate.clone())
                .hint(format!("point it at a path relative to `{}`", parent(&candidate))));
            }
            resolved.pop();
            let origin: Arc<str> = Arc::from(candidate.as_str());
            for (i, t) in target.split('/').filter(|s| !s.is_empty()).enumerate() {
                pending.insert(i, (t.to_string(), Some(origin.clone())));
            }
        }
        Ok(resolved.join("/"))
    }

    /// Resolves `path` and fails with a clear error when nothing is there,
    /// naming the dangling link when one was followed.
    pub fn resolve_existing(&self, path: &str) -> Result<(String, EntryKind), Diagnostic> {
        let resolved = self.resolve(path)?;
        match self.source.entry_kind(&resolved).map_err(|e| io_error(&resolved, &e))? {
            Some(kind) => Ok((resolved, kind)),
            None if resolved != path => Err(Diagnostic::error(format!(
                "dangling link: `{path}` resolves to `{resolved}`, which does not exist"
            ))
            .at(path.to_string())
            .hint("create the target or point the link at an existing path")),
            None => Err(Diagnostic::error(format!("`{path}` does not exist")).at(path.to_string())),
        }
    }

    /// The kind of what `path` names after resolving links; `None` when missing.
    pub fn kind(&self, path: &str) -> Result<Option<EntryKind>, Diagnostic> {
        let resolved = self.resolve(path)?;
        self.source.entry_kind(&resolved).map_err(|e| io_error(&resolved, &e))
    }

    /// The raw kind at `path` without following a final link.
    pub fn entry_kind(&self, path: &str) -> Result<Option<EntryKind>, Diagnostic> {
        self.source.entry_kind(path).map_err(|e| io_error(path, &e))
    }

    pub fn read_link(&self, path: &str) -> Result<String, Diagnostic> {
        self.source.read_link(path).map_err(|e| io_error(path, &e))
    }

    /// Lists a directory (links inside it are reported as links).
    pub fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, Diagnostic> {
        let resolved = self.resolve(path)?;
        self.source.read_dir(&resolved).map_err(|e| io_error(path, &e))
    }

    /// Reads a file, following links inside the repository.
    pub fn read(&self, path: &str) -> Result<Arc<[u8]>, Diagnostic> {
        let (resolved, kind) = self.resolve_existing(path)?;
        if kind == EntryKind::Dir {
            return Err(Diagnostic::error(format!("expected a file, found a directory: `{path}`")).at(path));
        }
        self.read_resolved(path, &resolved)
    }

    /// The bytes of file `path`, already resolved to `resolved`, within the size limit.
    fn read_resolved(&self, path: &str, resolved: &str) -> Result<Arc<[u8]>, Diagnostic> {
        match self.source.read_file_max(resolved, self.max_file_bytes).map_err(|e| io_error(path, &e))? {
            Ok(bytes) => Ok(bytes),
            Err(size) => Err(self.too_large(path, size)),
        }
    }

    fn too_large(&self, path: &str, size: u64) -> Diagnostic {
        Diagnostic::error(format!(
            "`{path}` is {size} bytes, over the limit of {} bytes for one file",
            self.max_file_bytes
        ))
        .at(path)
        .note("the limit keeps a repository from making strata read without bound")
        .hint("raise `limits.maxFileBytes` in strata.yaml if the file is meant to be this large")
    }

    /// Reads a UTF-8 text file.
    pub fn read_string(&self, path: &str) -> Result<String, Diagnostic> {
        utf8(path, &self.read(path)?)
    }

    /// Reads a file if it exists (`None` when nothing is at `path`).
    pub fn read_optional(&self, path: &str) -> Result<Option<String>, Diagnostic> {
        // Resolved once: `kind` then `read_string` resolved the path twice.
        let resolved = self.resolve(path)?;
        match self.source.entry_kind(&resolved).map_err(|e| io_error(&resolved, &e))? {
            None => Ok(None),
            Some(EntryKind::Dir) => {
                Err(Diagnostic::error(format!("expected a file, found a directory: `{path}`")).at(path))
            }
            Some(_) => utf8(path, &self.read_resolved(path, &resolved)?).map(Some),
        }
    }
}

/// The text of file `path`, when it is UTF-8.
fn utf8(path: &str, bytes: &[u8]) -> Result<String, Diagnostic> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        Diagnostic::error(format!("`{path}` is not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()))
            .at(path)
            .hint("save the file as UTF-8")
    })
}

fn escape_error(path: &str, origin: Option<&str>, fs: &Fs) -> Diagnostic {
    match origin {
        Some(link) => {
            let target = fs.source.read_link(link).unwrap_or_default();
            Diagnostic::error(format!("link `{link}` points outside the repository (`{target}`)"))
                .at(link.to_string())
                .note("strata never reads outside the repository root")
                .hint("point the link at a directory inside the repository")
        }
        None => Diagnostic::error(format!("path `{path}` leaves the repository root"))
            .note("strata never reads outside the repository root"),
    }
}

pub(crate) fn io_error(path: &str, e: &io::Error) -> Diagnostic {
    Diagnostic::error(format!("cannot read `{path}`: {e}")).at(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs(entries: &[(&str, &str)]) -> Fs {
        Fs::new(Arc::new(MemorySource::from_entries(entries)))
    }

    #[test]
    fn resolves_relative_links_inside_the_root() {
        let f = fs(&[("app/v1/a.yaml", "x"), ("app/prod/west/templates", "-> ../../v1")]);
        assert_eq!(f.resolve("app/prod/west/templates").unwrap(), "app/v1");
        assert_eq!(f.resolve("app/prod/west/templates/a.yaml").unwrap(), "app/v1/a.yaml");
        assert_eq!(f.read_string("app/prod/west/templates/a.yaml").unwrap(), "x");
    }

    #[test]
    fn rejects_links_that_escape() {
        let f = fs(&[("app/east/templates", "-> ../../../etc")]);
        let e = f.resolve("app/east/templates").unwrap_err();
        assert!(e.message.contains("points outside the repository"), "{}", e.message);
        assert_eq!(e.path.as_deref(), Some("app/east/templates"));
        let f = fs(&[("app/east/templates", "-> /etc")]);
        assert!(f.resolve("app/east/templates").unwrap_err().message.contains("absolute"));
    }

    #[test]
    fn reports_cycles_and_dangling_links() {
        let f = fs(&[("a/x", "-> y"), ("a/y", "-> x")]);
        let e = f.resolve("a/x").unwrap_err();
        assert!(e.message.contains("link cycle"), "{}", e.message);
        let f = fs(&[("a/templates", "-> ../v9"), ("a/v1/x", "")]);
        let e = f.resolve_existing("a/templates").unwrap_err();
        assert!(e.message.contains("dangling link"), "{}", e.message);
        assert!(e.message.contains("`v9`") || e.message.contains("v9"), "{}", e.message);
    }

    #[test]
    fn files_over_the_size_limit_are_refused() {
        let f = fs(&[("app/v1/big.yaml", "0123456789"), ("app/v1/small.yaml", "01234")]).with_max_file_bytes(5);
        assert_eq!(f.read_string("app/v1/small.yaml").unwrap(), "01234");
        let e = f.read_string("app/v1/big.yaml").unwrap_err();
        assert_eq!(e.message, "`app/v1/big.yaml` is 10 bytes, over the limit of 5 bytes for one file");
        assert_eq!(e.path.as_deref(), Some("app/v1/big.yaml"));
    }

    #[test]
    fn relative_paths() {
        assert_eq!(relative_to("a/v1", "a"), "v1");
        assert_eq!(relative_to("a/v1", "a/prod/west"), "../../v1");
        assert_eq!(relative_to("b/v1", "a"), "../b/v1");
    }
}
