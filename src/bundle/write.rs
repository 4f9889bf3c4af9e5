//! Writing a bundle atomically.
//!
//! In: a bundle's files, one after the other ([`Staged`], a [`Sink`]), or a
//! [`Bundle`] already in memory ([`replace`]), and the target directory. Out:
//! the directory holding exactly the bundle's files, staged in a temporary
//! directory beside it with [`atomic::StagedDir`]: nothing is written into place
//! until everything is ready, and an existing bundle stays whole until the new
//! one replaces it. A directory that is not a strata bundle (no `index.json`
//! written by strata) is never replaced.

use std::io;
use std::path::{Path, PathBuf};

#[cfg(test)]
use super::Bundle;
use super::{INDEX, Sink};
use crate::atomic;
use crate::diag::{Diagnostic, Error};

/// Replaces `dir` with `bundle`; returns warnings (an old bundle that could not be removed).
#[cfg(test)]
pub fn replace(dir: &Path, bundle: &Bundle) -> Result<Vec<Diagnostic>, Error> {
    let mut staged = Staged::begin(dir)?;
    for (rel, bytes) in &bundle.files {
        staged.file(rel, bytes)?;
    }
    staged.commit()
}

/// A bundle being written file by file ([`Sink`]) into a temporary directory
/// beside `dir` (made with the first file), put in place by [`Staged::commit`].
/// Dropped without a commit, it leaves nothing behind.
#[derive(Debug)]
pub struct Staged {
    dir: PathBuf,
    stage: Option<atomic::StagedDir>,
}

impl Staged {
    /// Checks that `dir` may be written (new, empty, or a strata bundle) before
    /// any work is done; [`Staged::commit`] checks again.
    pub fn begin(dir: &Path) -> Result<Staged, Error> {
        if atomic::usable_name(dir).is_none() {
            return Err(Diagnostic::error(format!("cannot use `{}` as the bundle directory", dir.display()))
                .hint("name a directory, like `--out dist/bundles`")
                .into());
        }
        existing_bundle(dir)?;
        Ok(Staged { dir: dir.to_path_buf(), stage: None })
    }

    /// Puts the bundle in place of `dir`; returns warnings (an old bundle that
    /// could not be removed).
    pub fn commit(self) -> Result<Vec<Diagnostic>, Error> {
        // Checked again: another run may have written `dir` meanwhile.
        let existing = existing_bundle(&self.dir)?;
        let stage = match self.stage {
            Some(s) => s,
            None => atomic::StagedDir::new(&self.dir, "bundle")?,
        };
        stage.commit(existing)
    }
}

impl Sink for Staged {
    fn file(&mut self, path: &str, bytes: &[u8]) -> Result<(), Error> {
        let stage = match &mut self.stage {
            Some(s) => s,
            None => self.stage.insert(atomic::StagedDir::new(&self.dir, "bundle")?),
        };
        stage.write(path, bytes)
    }
}

/// Whether `dir` holds a bundle to replace. Missing: no. An empty directory or a
/// strata bundle: yes. Anything else is an error, so that `--out` can never
/// delete a directory it did not write.
fn existing_bundle(dir: &Path) -> Result<bool, Error> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_error("read", dir, e).into()),
    };
    if meta.file_type().is_symlink() {
        return Err(Diagnostic::error(format!(
            "`{}` is a symbolic link; strata replaces bundle directories, not links",
            dir.display()
        ))
        .hint("pass the directory the link points at")
        .into());
    }
    if !meta.is_dir() {
        return Err(Diagnostic::error(format!("`{}` exists and is not a directory", dir.display()))
            .hint("choose a new or empty directory for `--out`")
            .into());
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| io_error("read", dir, e))?;
    if entries.next().is_none() {
        return Ok(true);
    }
    let index = dir.join(INDEX);
    let is_bundle = std::fs::read(&index)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("strata").is_some() && v.get("environments").is_some());
    if !is_bundle {
        return Err(Diagnostic::error(format!(
            "refusing to replace `{}`: it is not empty and holds no strata bundle (`{INDEX}`)",
            dir.display()
        ))
        .hint("choose a new or empty directory for `--out`, or remove this one first")
        .into());
    }
    Ok(true)
}

fn io_error(action: &str, path: &Path, e: io::Error) -> Diagnostic {
    Diagnostic::error(format!("cannot {action} `{}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(files: &[(&str, &str)]) -> Bundle {
        let mut b = Bundle::default();
        for (p, c) in files {
            b.files.insert(p.to_string(), c.as_bytes().to_vec());
        }
        b
    }

    fn tree(dir: &Path) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for e in walk(dir) {
            out.push((
                e.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/"),
                std::fs::read_to_string(&e).unwrap(),
            ));
        }
        out.sort();
        out
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
        }
        out
    }

    #[test]
    fn writes_new_and_replaces_old_leaving_nothing_behind() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out/bundle");
        replace(&dir, &bundle(&[("index.json", "{\"strata\":1,\"environments\":{}}"), ("a/00-x.yaml", "one")]))
            .unwrap();
        assert_eq!(
            tree(&dir),
            [("a/00-x.yaml".into(), "one".into()), ("index.json".into(), "{\"strata\":1,\"environments\":{}}".into())]
        );
        replace(&dir, &bundle(&[("index.json", "{\"strata\":2,\"environments\":{}}"), ("b/c/00-y.yaml", "two")]))
            .unwrap();
        assert_eq!(
            tree(&dir),
            [
                ("b/c/00-y.yaml".into(), "two".into()),
                ("index.json".into(), "{\"strata\":2,\"environments\":{}}".into())
            ]
        );
        // No temporary or old directory is left beside it.
        let siblings: Vec<String> = std::fs::read_dir(root.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(siblings, ["bundle"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_ne!(mode, 0o700, "the bundle directory must not keep the temporary directory's private mode");
        }
    }

    #[test]
    fn refuses_what_is_not_a_bundle() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let notes = root.path().join("notes");
        std::fs::create_dir(&notes).unwrap();
        std::fs::write(notes.join("todo.txt"), "keep me").unwrap();
        let empty = root.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let b = bundle(&[("index.json", "{}")]);
        let cases: &[(&Path, Option<&str>)] = &[
            (&file, Some("exists and is not a directory")),
            (&notes, Some("refusing to replace")),
            (&empty, None),
            (Path::new("."), Some("cannot use `.` as the bundle directory")),
        ];
        for (dir, want) in cases {
            match (replace(dir, &b), want) {
                (Ok(_), None) => {}
                (Err(e), Some(w)) => assert!(e.messages().contains(w), "{}: {}", dir.display(), e.messages()),
                (got, want) => panic!("{}: got {got:?}, want {want:?}", dir.display()),
            }
        }
        assert_eq!(std::fs::read_to_string(notes.join("todo.txt")).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(empty.join("index.json")).unwrap(), "{}");
    }
}
