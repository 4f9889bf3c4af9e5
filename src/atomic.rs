//! Writing outputs atomically: a file or a whole directory appears complete or
//! not at all.
//!
//! Every command that writes into the user's tree goes through here (`strata
//! bundle` with [`replace_dir`], `strata schema` with [`write_file`]; later ones
//! such as `promote` and `port` should too), so that an interrupted or failed
//! run never leaves half an output, and a reader never sees one.
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

/// Writes `bytes` to `path` atomically, creating its parent directories.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let cannot = |e: io::Error| Diagnostic::error(format!("cannot write `{}`: {e}", path.display()));
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

/// Replaces the directory `dir` with one holding exactly `files` (relative
/// paths with `/`, bytes). `existing` says whether something is at `dir` to
/// replace (checked and allowed by the caller); `noun` names the directory in
/// messages (`bundle`: "cannot move the new bundle to `dist`"). Returns
/// warnings: the new directory is in place but the old one could not be removed.
pub fn replace_dir<'a>(
    dir: &Path,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    existing: bool,
    noun: &str,
) -> Result<Vec<Diagnostic>, Error> {
    let name = usable_name(dir)
        .ok_or_else(|| Diagnostic::error(format!("cannot use `{}` as the {noun} directory", dir.display())))?;
    let parent = parent_of(dir);
    std::fs::create_dir_all(&parent).map_err(|e| io_error("create directory", &parent, e))?;

    let prefix = format!(".{name}.tmp-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        // The finished directory should look like one made with `mkdir` (the umask
        // applies), not like a private temporary directory.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o777));
    }
    let tmp = builder.tempdir_in(&parent).map_err(|e| io_error("create a temporary directory in", &parent, e))?;
    for (rel, bytes) in files {
        let path = tmp.path().join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| io_error("create directory", p, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| io_error("write", &path, e))?;
    }

    if !existing {
        std::fs::rename(tmp.path(), dir).map_err(|e| io_error(&format!("move the new {noun} to"), dir, e))?;
        let _ = tmp.keep();
        return Ok(Vec::new());
    }
    // Aside, in, remove: the old directory stays whole until the new one is in place.
    let suffix = tmp.path().file_name().and_then(|n| n.to_str()).and_then(|n| n.rsplit('-').next()).unwrap_or("old");
    let aside = parent.join(format!(".{name}.old-{suffix}"));
    std::fs::rename(dir, &aside).map_err(|e| io_error(&format!("move the old {noun} aside from"), dir, e))?;
    if let Err(e) = std::fs::rename(tmp.path(), dir) {
        let restored = std::fs::rename(&aside, dir);
        let mut d = io_error(&format!("move the new {noun} to"), dir, e);
        if let Err(r) = restored {
            d = d.note(format!("the previous {noun} is kept at `{}` ({r})", aside.display()));
        }
        return Err(d.into());
    }
    let _ = tmp.keep();
    match std::fs::remove_dir_all(&aside) {
        Ok(()) => Ok(Vec::new()),
        Err(e) => Ok(vec![Diagnostic::warning(format!(
            "the new {noun} is in place, but the previous one could not be removed from `{}`: {e}",
            aside.display()
        ))]),
    }
}

/// What [`create_dir`] puts at a relative path.
#[derive(Debug, Clone, Copy)]
pub enum Entry<'a> {
    File(&'a [u8]),
    /// A relative symbolic link (where links are not available, a file holding
    /// the target path: a strata link file).
    Link(&'a str),
}

/// Creates the directory `dir` holding exactly `entries` (relative paths with
/// `/`). `dir` must not exist or be empty (checked by the caller). The tree is
/// built in a temporary directory first: beside `dir` and renamed into place
/// when `dir` does not exist; inside the empty `dir`, then its top-level entries
/// renamed into `dir`, when it does (so that a shell standing in `dir` keeps it).
pub fn create_dir(dir: &Path, entries: &[(&str, Entry<'_>)], noun: &str) -> Result<(), Error> {
    let exists = dir.is_dir();
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
            Entry::File(bytes) => std::fs::write(&path, bytes),
            #[cfg(unix)]
            Entry::Link(to) => std::os::unix::fs::symlink(to, &path),
            #[cfg(not(unix))]
            Entry::Link(to) => std::fs::write(&path, format!("{to}\n")),
        }
        .map_err(|e| io_error("write", &path, e))?;
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

/// The last component of `path` when it names something that can be renamed
/// into place: not empty, `.` or `..`.
pub fn usable_name(path: &Path) -> Option<&str> {
    path.file_name().and_then(|n| n.to_str()).filter(|n| !n.is_empty() && *n != "." && *n != "..")
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn io_error(action: &str, path: &Path, e: io::Error) -> Diagnostic {
    Diagnostic::error(format!("cannot {action} `{}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
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
