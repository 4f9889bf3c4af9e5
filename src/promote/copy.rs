//! `strata version new COMPONENT NEW --from OLD`: a new version directory,
//! a copy of an existing one.
//!
//! In: the work tree's [`Repo`], the component, the new name and the version to
//! copy. Out: `COMPONENT/NEW` holding the same files (templates, partials,
//! `files/`, `values.yaml`, the schema) and the same links, copied as links with
//! their text unchanged (the new directory is a sibling of the old one, so a
//! relative link still reaches what it reached). Written with
//! [`atomic::create_dir`]: the directory appears whole or not at all. No target
//! points at it yet, so nothing renders differently.

use std::path::Path;

use super::versions::component_versions;
use crate::atomic::{self, Entry};
use crate::diag::{Diagnostic, Error};
use crate::repo::Repo;
use crate::source::{self, EntryKind, Fs};

/// What [`new_version`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    /// Repository-relative directory of the new version.
    pub dir: String,
    pub files: usize,
    pub links: usize,
}

/// Copies `COMPONENT/FROM` to `COMPONENT/NEW` under `root`, the work tree `repo` was read from.
pub fn new_version(root: &Path, repo: &Repo, component: &str, new: &str, from: &str) -> Result<NewVersion, Error> {
    if repo.component(component).is_none() {
        let names: Vec<&str> = repo.components.iter().map(|c| c.name.as_str()).collect();
        return Err(Diagnostic::error(format!("unknown component `{component}`"))
            .note(format!("components: {}", names.join(", ")))
            .into());
    }
    check_name(new)?;
    let versions = component_versions(repo, component)?;
    if !versions.iter().any(|v| v == from) {
        return Err(Diagnostic::error(format!("component `{component}` has no version `{from}` to copy"))
            .at(component)
            .note(format!("versions of `{component}`: {}", versions.join(", ")))
            .into());
    }
    let dir = source::join(component, new);
    if repo.fs.entry_kind(&dir)?.is_some() {
        return Err(Diagnostic::error(format!("`{dir}` already exists"))
            .at(dir)
            .hint("choose a new name, or remove the directory first")
            .into());
    }
    let from_dir = repo.fs.resolve(&source::join(component, from))?;
    let mut entries = Vec::new();
    collect(&repo.fs, &from_dir, "", &mut entries)?;
    atomic::create_dir(&atomic::confined(root, &dir)?, &entries, "version")?;
    let links = entries.iter().filter(|(_, e)| matches!(e, Entry::Symlink(_))).count();
    Ok(NewVersion { dir, files: entries.len() - links, links })
}

/// A version name is one plain directory name: letters, digits, `.`, `-`,
/// `_`, `+`, starting with a letter or digit (so not hidden, not `..`).
fn check_name(name: &str) -> Result<(), Diagnostic> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+');
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if first_ok && name.chars().all(ok_char) && name != crate::repo::TEMPLATES_LINK {
        return Ok(());
    }
    Err(Diagnostic::error(format!("`{name}` is not a valid version name"))
        .note("a version is one directory: letters, digits, `.`, `-`, `_`, `+`, starting with a letter or digit")
        .hint("for example `v4` or `2.1.0`"))
}

/// Every file and link under `dir` (physical), as paths relative to it.
fn collect(fs: &Fs, dir: &str, rel: &str, out: &mut Vec<(String, Entry)>) -> Result<(), Diagnostic> {
    let here = source::join(dir, rel);
    for e in fs.source().read_dir(&here).map_err(|e| source::io_error(&here, &e))? {
        let (path, rel) = (source::join(&here, &e.name), source::join(rel, &e.name));
        match e.kind {
            EntryKind::Dir => collect(fs, dir, &rel, out)?,
            EntryKind::Link => out.push((rel, Entry::Symlink(fs.read_link(&path)?))),
            EntryKind::File => {
                let bytes = fs.source().read_file(&path).map_err(|e| source::io_error(&path, &e))?;
                out.push((rel, Entry::File(bytes.to_vec())));
            }
        }
    }
    Ok(())
}
