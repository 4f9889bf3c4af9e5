//! Whether a repository's files mention `Repo`, the template object holding
//! the revision (`Repo.Commit`, `Repo.Ref`, `Repo.Dirty`).
//!
//! In: an [`Fs`] and directories. Out: yes, or no when no file could read the
//! revision. Opening a work tree uses it to skip the git status nothing would
//! print ([`super::open::open_for_render`]); a diff uses it to decide which
//! targets render the same on both sides (`diff::inputs`). Unreadable means
//! "maybe": the caller then does the full work.

use std::sync::Arc;

use crate::source::{self, EntryKind, Fs};

/// The bytes of the file at `path`; `None` when nothing is there; `Err` when it
/// is not a file or cannot be read.
pub(crate) fn read_file(fs: &Fs, path: &str) -> Result<Option<Arc<[u8]>>, ()> {
    match fs.kind(path) {
        Ok(Some(EntryKind::File)) => fs.read(path).map(Some).map_err(|_| ()),
        Ok(None) => Ok(None),
        _ => Err(()),
    }
}

/// `Repo.Commit`, `Repo.Ref`, `Repo.Dirty` differ between revisions: any use of
/// the word `Repo` (not `Repository`), even in a comment, counts.
pub fn mentions_repo(bytes: &[u8]) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let alone = |i: usize| (i == 0 || !word(bytes[i - 1])) && bytes.get(i + 4).is_none_or(|c| !word(*c));
    match std::str::from_utf8(bytes) {
        // The standard library's substring search (diff checks every input file).
        Ok(text) => text.match_indices("Repo").any(|(i, _)| alone(i)),
        Err(_) => bytes.windows(4).enumerate().any(|(i, w)| w == b"Repo" && alone(i)),
    }
}

/// Whether any file below `dirs` (links followed), any of `files` or
/// `strata.yaml` uses the word `Repo`: when none does, no template can read
/// `Repo.Commit` or `Repo.Dirty`.
pub fn tree_mentions_repo(fs: &Fs, dirs: &[&str], files: &[&str]) -> bool {
    fn walk(fs: &Fs, dir: &str) -> Result<bool, ()> {
        for e in fs.read_dir(dir).map_err(|_| ())? {
            let path = source::join(dir, &e.name);
            let kind = match e.kind {
                EntryKind::Link => fs.kind(&path).map_err(|_| ())?,
                k => Some(k),
            };
            let hit = match kind {
                Some(EntryKind::Dir) if e.kind == EntryKind::Dir => walk(fs, &path)?,
                Some(EntryKind::Dir) => walk(fs, &fs.resolve(&path).map_err(|_| ())?)?,
                Some(_) => mentions_repo(&fs.read(&path).map_err(|_| ())?),
                None => false,
            };
            if hit {
                return Ok(true);
            }
        }
        Ok(false)
    }
    // Unreadable means "maybe": the caller then does the full work.
    matches!(read_file(fs, super::REPO_CONFIG), Ok(Some(t)) if mentions_repo(&t))
        || read_file(fs, super::REPO_CONFIG).is_err()
        || files.iter().any(|f| read_file(fs, f).map_or(true, |t| t.is_some_and(|t| mentions_repo(&t))))
        || dirs.iter().any(|d| walk(fs, d).unwrap_or(true))
}
