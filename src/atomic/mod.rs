//! Writing outputs atomically: a file or a whole directory appears complete or
//! not at all.
//!
//! Every command that writes into the user's tree goes through here (`strata
//! bundle` with [`StagedDir`], `strata schema` with [`write_file`], `strata
//! promote` with [`replace_entries`] (several links, all or none), `strata
//! version new` with [`create_dir`], `strata port` with [`write_files`] at
//! [`confined`] paths), so that an interrupted or failed run never leaves half
//! an output, and a reader never sees one.
//!
//! How: the new content is written into a temporary file or directory created
//! beside the destination (same directory, so same file system), then renamed
//! into place; a rename within one file system is atomic. Replacing a directory
//! takes two renames (the old one aside, the new one in); if the second fails
//! the old one is put back. Temporary names start with `.` and the
//! destination's name, so a leftover after a crash is easy to recognise.
//! Permissions are those of `mkdir` / `touch` (the umask applies), not the
//! private ones of a temporary file.
//!
//! Whether an existing destination may be replaced is the caller's decision
//! (a bundle replaces only a bundle); this module only writes. It depends on
//! nothing but [`crate::diag`].

use std::io;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Error};

mod staged;

pub use staged::StagedDir;

/// Writes `bytes` to `path` atomically, creating its parent directories.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let cannot = |e: io::Error| Error::io(Diagnostic::error(format!("cannot write `{}`: {e}", path.display())));
    let name = usable_name(path).ok_or_else(|| cannot(io::Error::other("not a file name")))?;
    let parent = parent_of(path);
    std::fs::create_dir_all(&parent).map_err(cannot)?;
    let prefix = format!(".{name}.tmp-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(&parent).map_err(cannot)?;
    io::Write::write_all(&mut tmp, bytes).map_err(cannot)?;
    tmp.persist(path).map_err(|e| cannot(e.error))?;
    Ok(())
}

/// Whether `path` holds exactly `text`.
fn holds(path: &Path, text: &str) -> bool {
    std::fs::read_to_string(path).ok().as_deref() == Some(text)
}

/// The files of `files` (name in `dir`, text) that are missing from `dir` or differ.
pub fn stale_files(dir: &Path, files: &[(&str, String)]) -> Vec<PathBuf> {
    files.iter().map(|(name, text)| (dir.join(name), text)).filter(|(p, t)| !holds(p, t)).map(|(p, _)| p).collect()
}

/// Writes the stale files of `files` ([`stale_files`]) into `dir` (created if needed),
/// each with [`write_file`], calling `wrote` after each file written.
pub fn write_stale_files(dir: &Path, files: &[(&str, String)], mut wrote: impl FnMut(&Path)) -> Result<(), Error> {
    for (name, text) in files {
        let path = dir.join(name);
        if !holds(&path, text) {
            write_file(&path, text.as_bytes())?;
            wrote(&path);
        }
    }
    Ok(())
}

/// Writes and deletes several files as one change, as near to all-or-nothing
/// as a file system allows: every new content is first written to a temporary
/// file beside its destination (a failure there changes nothing), then all are
/// renamed into place, then the deletions (`None`) are made. Used by `strata
/// port`, whose files across several version directories change together.
pub fn write_files(changes: &[(PathBuf, Option<Vec<u8>>)]) -> Result<(), Error> {
    let mut staged = Vec::new();
    for (path, bytes) in changes {
        let Some(bytes) = bytes else { continue };
        let cannot = |e: io::Error| Error::io(Diagnostic::error(format!("cannot write `{}`: {e}", path.display())));
        let name = usable_name(path).ok_or_else(|| cannot(io::Error::other("not a file name")))?;
        let parent = parent_of(path);
        std::fs::create_dir_all(&parent).map_err(cannot)?;
        let mut builder = tempfile::Builder::new();
        let prefix = format!(".{name}.tmp-");
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let mut tmp = builder.tempfile_in(&parent).map_err(cannot)?;
        io::Write::write_all(&mut tmp, bytes).map_err(cannot)?;
        staged.push((tmp, path));
    }
    for (tmp, path) in staged {
        tmp.persist(path).map_err(|e| io_error("write", path, e.error))?;
    }
    for (path, bytes) in changes {
        if bytes.is_none() {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("delete", path, e)),
            }
        }
    }
    Ok(())
}

/// `root` joined with `rel` (repository-relative, `/`-separated), for a write
/// that must stay inside `root`: refused when `rel` is absolute, has an empty,
/// `.` or `..` part, or passes through a symbolic link below `root` (which
/// could lead anywhere). The last part may be a link: a write replaces the link
/// itself, it does not follow it.
pub fn confined(root: &Path, rel: &str) -> Result<PathBuf, Error> {
    let refuse = |why: String| {
        Diagnostic::error(format!("refusing to write `{rel}`: {why}"))
            .note("strata writes only inside the repository root")
            .into()
    };
    let parts: Vec<&str> = rel.split('/').collect();
    if rel.starts_with('/') || rel.contains('\\') || parts.iter().any(|p| matches!(*p, "" | "." | "..")) {
        return Err(refuse("not a plain repository-relative path".to_string()));
    }
    let mut path = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        if i + 1 == parts.len() {
            break;
        }
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(refuse(format!("`{}` is a symbolic link", parts[..=i].join("/"))));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => break,
            Err(e) => return Err(io_error("inspect", &path, e)),
        }
    }
    Ok(root.join(rel))
}

/// Replaces the directory `dir` with one holding exactly `files` (relative
/// paths with `/`, bytes). `existing` says whether something is at `dir` to
/// replace (checked and allowed by the caller); `noun` names the directory in
/// messages (`bundle`: "cannot move the new bundle to `dist`"). Returns
/// warnings: the new directory is in place but the old one could not be removed.
#[cfg(test)]
pub fn replace_dir<'a>(
    dir: &Path,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    existing: bool,
    noun: &str,
) -> Result<Vec<Diagnostic>, Error> {
    let staged = StagedDir::new(dir, noun)?;
    for (rel, bytes) in files {
        staged.write(rel, bytes)?;
    }
    staged.commit(existing)
}

/// Output held back until a command has finished, so that a failure part way
/// leaves nothing on standard output (`strata render` of a whole repository,
/// produced environment by environment). The first [`SPOOL_MEMORY`] bytes stay
/// in memory; beyond that the output moves to an unnamed temporary file (gone
/// when closed, even after a crash), so that memory does not grow with the
/// output. Where no temporary file can be made, it stays in memory.
#[derive(Debug, Default)]
pub struct Spool {
    memory: Vec<u8>,
    file: Option<std::fs::File>,
}

/// How much output a [`Spool`] keeps in memory before it moves to a file.
pub const SPOOL_MEMORY: usize = 16 << 20;

impl Spool {
    pub fn new() -> Spool {
        Spool::default()
    }

    /// Appends `bytes`.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let cannot = |e: io::Error| {
            Error::io(Diagnostic::error(format!("cannot write the temporary file holding the output: {e}")))
        };
        if let Some(f) = &mut self.file {
            return io::Write::write_all(f, bytes).map_err(cannot);
        }
        self.memory.extend_from_slice(bytes);
        if self.memory.len() > SPOOL_MEMORY
            && let Ok(mut f) = tempfile::tempfile()
        {
            io::Write::write_all(&mut f, &self.memory).map_err(cannot)?;
            self.memory = Vec::new();
            self.file = Some(f);
        }
        Ok(())
    }

    /// Copies everything pushed, in order, to `out`.
    pub fn copy_to(self, out: &mut impl io::Write) -> io::Result<()> {
        match self.file {
            None => out.write_all(&self.memory),
            Some(mut f) => {
                io::Seek::seek(&mut f, io::SeekFrom::Start(0))?;
                io::copy(&mut f, out).map(|_| ())
            }
        }
    }
}

/// What [`replace_entries`] writes at a path: a regular file's bytes, or a
/// symbolic link's target as written in the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File(Vec<u8>),
    Symlink(String),
}

/// One path [`replace_entries`] rewrites: what is there now (to put back on
/// failure) and what goes there.
#[derive(Debug, Clone)]
pub struct Replacement {
    pub path: PathBuf,
    pub old: Entry,
    pub new: Entry,
}

/// Replaces several files or symbolic links (`strata promote`'s `templates`
/// links), all or none: every new entry is first written beside its
/// destination under a temporary name, then each is renamed into place. When
/// staging fails nothing has changed (the temporary entries are removed); when
/// a rename fails, the entries already replaced get their old content back the
/// same way, and a note names any that could not be put back.
pub fn replace_entries(replacements: &[Replacement]) -> Result<(), Error> {
    let staged = replacements.iter().map(|r| stage(&r.path, &r.new)).collect::<Result<Vec<_>, _>>()?;
    let mut done: Vec<&Replacement> = Vec::new();
    for (r, tmp) in replacements.iter().zip(staged) {
        if let Err(e) = tmp.persist(&r.path) {
            let mut d = io_error("replace", &r.path, e.error);
            for old in &done {
                if let Err(undo) = stage(&old.path, &old.old)
                    .and_then(|t| t.persist(&old.path).map_err(|e| io_error("restore", &old.path, e.error)))
                {
                    d = d.note(format!("`{}` could not be restored: {}", old.path.display(), undo.messages()));
                }
            }
            return Err(d);
        }
        done.push(r);
    }
    Ok(())
}

/// Writes `entry` beside `path` under a temporary name (`.NAME.tmp-XXXXXX`),
/// removed again when the returned path is dropped unpersisted.
fn stage(path: &Path, entry: &Entry) -> Result<tempfile::TempPath, Error> {
    let cannot = |e: io::Error| Error::io(Diagnostic::error(format!("cannot write beside `{}`: {e}", path.display())));
    let name = usable_name(path).ok_or_else(|| cannot(io::Error::other("not a file name")))?;
    let prefix = format!(".{name}.tmp-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    let tmp = match entry {
        Entry::File(bytes) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                builder.permissions(std::fs::Permissions::from_mode(0o666));
            }
            let mut f = builder.tempfile_in(parent_of(path)).map_err(cannot)?;
            io::Write::write_all(&mut f, bytes).map_err(cannot)?;
            f.into_temp_path()
        }
        Entry::Symlink(target) => {
            builder.make_in(parent_of(path), |p| symlink(target, p)).map_err(cannot)?.into_temp_path()
        }
    };
    Ok(tmp)
}

/// Creates the directory `dir` holding exactly `entries` (relative paths with
/// `/`; `noun` names it in errors: "version", "repository"). `dir` must not exist,
/// or be an empty directory. The tree is built in a temporary directory first:
/// beside `dir` and renamed into place when `dir` does not exist; inside the
/// empty `dir`, then its top-level entries renamed into `dir`, when it does (so
/// that a shell standing in `dir` keeps it). Either way it appears whole or not at all.
pub fn create_dir(dir: &Path, entries: &[(String, Entry)], noun: &str) -> Result<(), Error> {
    let exists = match std::fs::read_dir(dir) {
        Ok(mut listing) => match listing.next() {
            None => true,
            Some(_) => {
                return Err(Diagnostic::error(format!("`{}` already exists and is not empty", dir.display())).into());
            }
        },
        Err(_) if std::fs::symlink_metadata(dir).is_ok() => {
            return Err(Diagnostic::error(format!("`{}` already exists", dir.display())).into());
        }
        Err(_) => false,
    };
    let (base, name) = if exists {
        (dir.to_path_buf(), format!("strata-{noun}"))
    } else {
        let name = usable_name(dir)
            .ok_or_else(|| Diagnostic::error(format!("cannot use `{}` as the {noun} directory", dir.display())))?;
        (parent_of(dir), name.to_string())
    };
    std::fs::create_dir_all(&base).map_err(|e| io_error("create directory", &base, e))?;
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".{name}.tmp-");
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o777));
    }
    let tmp = builder.tempdir_in(&base).map_err(|e| io_error("create a temporary directory in", &base, e))?;
    for (rel, entry) in entries {
        let path = tmp.path().join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| io_error("create directory", p, e))?;
        }
        match entry {
            Entry::File(bytes) => std::fs::write(&path, bytes).map_err(|e| io_error("write", &path, e))?,
            Entry::Symlink(target) => symlink(target, &path).map_err(|e| io_error("create the link", &path, e))?,
        }
    }
    if !exists {
        std::fs::rename(tmp.path(), dir).map_err(|e| io_error(&format!("move the new {noun} to"), dir, e))?;
        let _ = tmp.keep();
        return Ok(());
    }
    let tops: std::collections::BTreeSet<&str> = entries.iter().filter_map(|(rel, _)| rel.split('/').next()).collect();
    for top in tops {
        let to = dir.join(top);
        std::fs::rename(tmp.path().join(top), &to).map_err(|e| io_error(&format!("move the new {noun} to"), &to, e))?;
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &str, path: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, path)
}

/// Where links are not available, a strata link file: the target path on one line.
#[cfg(not(unix))]
fn symlink(target: &str, path: &Path) -> io::Result<()> {
    std::fs::write(path, format!("{target}\n"))
}

/// The last component of `path` when it names something that can be renamed
/// into place: not empty, `.` or `..`.
pub fn usable_name(path: &Path) -> Option<&str> {
    path.file_name().and_then(|n| n.to_str()).filter(|n| !n.is_empty() && *n != "." && *n != "..")
}

pub(crate) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The system refused an operation: exit 3, not bad input ([`ErrorKind::Io`](crate::diag::ErrorKind::Io)).
pub(crate) fn io_error(action: &str, path: &Path, e: io::Error) -> Error {
    Error::io(Diagnostic::error(format!("cannot {action} `{}`: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::names;

    #[cfg(unix)]
    #[test]
    fn replace_entries_swaps_links_and_files_and_leaves_nothing_behind() {
        let root = tempfile::tempdir().unwrap();
        let (link, file) = (root.path().join("templates"), root.path().join("other"));
        std::os::unix::fs::symlink("../v1", &link).unwrap();
        std::fs::write(&file, "../v1\n").unwrap();
        let swap = |from: &str, to: &str| {
            vec![
                Replacement { path: link.clone(), old: Entry::Symlink(from.into()), new: Entry::Symlink(to.into()) },
                Replacement {
                    path: file.clone(),
                    old: Entry::File(format!("{from}\n").into_bytes()),
                    new: Entry::File(format!("{to}\n").into_bytes()),
                },
            ]
        };
        replace_entries(&swap("../v1", "../v2")).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("../v2"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "../v2\n");
        assert_eq!(names(root.path()), ["other", "templates"]);
        // A destination that cannot be replaced: the first one is put back.
        std::fs::remove_file(&file).unwrap();
        std::fs::create_dir_all(file.join("full")).unwrap();
        assert!(replace_entries(&swap("../v2", "../v3")).is_err());
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("../v2"));
        assert_eq!(names(root.path()), ["other", "templates"]);
    }

    #[cfg(unix)]
    #[test]
    fn create_dir_refuses_an_existing_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("v2");
        let entries =
            [("a/x".to_string(), Entry::File(b"1".to_vec())), ("l".to_string(), Entry::Symlink("a/x".into()))];
        create_dir(&dir, &entries, "test").unwrap();
        assert_eq!(std::fs::read_link(dir.join("l")).unwrap(), Path::new("a/x"));
        assert!(create_dir(&dir, &entries, "test").unwrap_err().messages().contains("already exists"));
        assert_eq!(names(root.path()), ["v2"]);
    }

    #[test]
    fn write_file_replaces_and_leaves_nothing_behind() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("schemas/a.json");
        write_file(&path, b"one").unwrap();
        write_file(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(names(&root.path().join("schemas")), ["a.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_ne!(mode, 0o600, "the file must not keep the temporary file's private mode");
        }
        assert!(write_file(&root.path().join(".."), b"x").is_err());
    }

    #[test]
    fn write_files_writes_and_deletes_together() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("v2/a.yaml"), root.path().join("v2/b.yaml"));
        write_file(&b, b"old").unwrap();
        write_files(&[(a.clone(), Some(b"new".to_vec())), (b.clone(), None)]).unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "new");
        assert_eq!(names(&root.path().join("v2")), ["a.yaml"]);
    }

    #[test]
    fn a_spool_gives_back_what_it_took_in_memory_or_in_a_file() {
        for total in [10, SPOOL_MEMORY + 10] {
            let mut spool = Spool::new();
            let chunk: Vec<u8> = (0..=255u8).collect();
            let mut want = Vec::new();
            while want.len() < total {
                spool.push(&chunk).unwrap();
                want.extend_from_slice(&chunk);
            }
            assert_eq!(spool.file.is_some(), total > SPOOL_MEMORY);
            assert!(spool.memory.len() <= SPOOL_MEMORY + chunk.len());
            let mut got = Vec::new();
            spool.copy_to(&mut got).unwrap();
            assert!(got == want, "{} bytes back, {} in", got.len(), want.len());
        }
    }

    #[test]
    fn confined_paths_do_not_pass_through_links() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("c/v2")).unwrap();
        std::os::unix::fs::symlink("/tmp", root.path().join("c/out")).unwrap();
        assert_eq!(confined(root.path(), "c/v2/new/x.yaml").unwrap(), root.path().join("c/v2/new/x.yaml"));
        // The last part may be a link: a write replaces it.
        assert!(confined(root.path(), "c/out").is_ok());
        for bad in ["c/out/x.yaml", "c/../../x", "/etc/passwd", "c//x", "./c/x"] {
            let e = confined(root.path(), bad).unwrap_err();
            assert!(e.messages().starts_with(&format!("refusing to write `{bad}`")), "{bad}: {}", e.messages());
            assert_eq!(e.kind, crate::diag::ErrorKind::Input, "{bad}");
        }
    }

    #[test]
    fn replace_dir_swaps_whole_directories() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        replace_dir(&dir, [("a/x", &b"1"[..])], false, "bundle").unwrap();
        replace_dir(&dir, [("b", &b"2"[..])], true, "bundle").unwrap();
        assert_eq!(names(&dir), ["b"]);
        assert_eq!(names(root.path()), ["out"]);
        let e = replace_dir(Path::new(".."), [], false, "bundle").unwrap_err();
        assert_eq!(e.messages(), "cannot use `..` as the bundle directory");
    }
}
