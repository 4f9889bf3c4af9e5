//! `--check`: is a bundle directory up to date?
//!
//! In: a freshly rendered bundle, file by file ([`Checker`]) or in memory
//! ([`compare`]), and an existing directory. Out: the [`Staleness`] — files the
//! fresh bundle adds, files the directory has that it would remove, files whose
//! bytes differ. Nothing is written.
//!
//! The `source` of `index.json` (commit, ref, dirty flag) is provenance, not
//! content: a bundle committed to the repository it was built from can never
//! record the commit that contains it. It is compared for information only
//! ([`Staleness::provenance`]); every other byte counts.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

#[cfg(test)]
use super::Bundle;
use super::{INDEX, Sink};
use crate::diag::{Diagnostic, Error};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Staleness {
    /// In the fresh bundle, missing from the directory.
    pub added: Vec<String>,
    /// In the directory, not in the fresh bundle.
    pub removed: Vec<String>,
    /// In both, with different bytes.
    pub changed: Vec<String>,
    /// `index.json` differs only in its `source`: (recorded, fresh).
    pub provenance: Option<(Value, Value)>,
}

impl Staleness {
    pub fn is_fresh(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// One line per file, sorted by path: `added    prod/westus/00-wave-0-crds.yaml`.
    pub fn report(&self) -> String {
        let mut rows: Vec<(&str, &str)> = Vec::new();
        rows.extend(self.added.iter().map(|p| ("added", p.as_str())));
        rows.extend(self.removed.iter().map(|p| ("removed", p.as_str())));
        rows.extend(self.changed.iter().map(|p| ("changed", p.as_str())));
        rows.sort_by(|a, b| a.1.cmp(b.1));
        rows.iter().map(|(what, path)| format!("{what:<8} {path}\n")).collect()
    }

    /// For stderr, before the [`Staleness::report`]: a note when the recorded
    /// source differs (it is not compared).
    pub fn note(&self) -> String {
        match &self.provenance {
            Some((recorded, fresh)) => format!(
                "note: `index.json` records source {recorded}, this checkout is {fresh}; the source is not compared\n"
            ),
            None => String::new(),
        }
    }

    /// The verdict on the bundle directory `dir`, for stderr: up to date, or
    /// stale with counts and the command that updates it.
    pub fn verdict(&self, dir: &Path) -> String {
        let dir = dir.display();
        if self.is_fresh() {
            return format!("bundle `{dir}` is up to date\n");
        }
        format!(
            "bundle `{dir}` is stale: {} added, {} removed, {} changed; run `strata bundle --out {dir}` to update it\n",
            self.added.len(),
            self.removed.len(),
            self.changed.len(),
        )
    }
}

/// Compares `dir` with `bundle`. A missing directory is stale (every file added).
#[cfg(test)]
pub fn compare(dir: &Path, bundle: &Bundle) -> Result<Staleness, Error> {
    let mut checker = Checker::open(dir)?;
    for (rel, bytes) in &bundle.files {
        checker.file(rel, bytes)?;
    }
    Ok(checker.finish())
}

/// [`compare`] file by file ([`Sink`]): each fresh file is compared with the
/// directory's as it comes, and only paths are kept.
#[derive(Debug)]
pub struct Checker {
    dir: PathBuf,
    /// The files in the directory, sorted.
    on_disk: Vec<String>,
    /// The fresh bundle's files, as they came.
    fresh: Vec<String>,
    staleness: Staleness,
}

impl Checker {
    /// Lists `dir` (a missing directory has no files).
    pub fn open(dir: &Path) -> Result<Checker, Error> {
        let mut on_disk = Vec::new();
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => list(dir, "", &mut on_disk)?,
            Ok(_) => {
                return Err(Diagnostic::error(format!("`{}` is not a directory", dir.display()))
                    .hint("`--check` compares with a bundle directory written by `strata bundle --out`")
                    .into());
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(dir, e).into()),
        }
        on_disk.sort();
        Ok(Checker { dir: dir.to_path_buf(), on_disk, fresh: Vec::new(), staleness: Staleness::default() })
    }

    /// What is stale, every list sorted by path.
    pub fn finish(mut self) -> Staleness {
        self.fresh.sort();
        let s = &mut self.staleness;
        s.removed = self.on_disk.iter().filter(|p| self.fresh.binary_search(p).is_err()).cloned().collect();
        s.added.sort();
        s.changed.sort();
        self.staleness
    }
}

impl Sink for Checker {
    fn file(&mut self, rel: &str, fresh: &[u8]) -> Result<(), Error> {
        self.fresh.push(rel.to_string());
        if self.on_disk.binary_search_by(|p| p.as_str().cmp(rel)).is_err() {
            self.staleness.added.push(rel.to_string());
            return Ok(());
        }
        let path = self.dir.join(rel);
        let old = std::fs::read(&path).map_err(|e| io_error(&path, e))?;
        if old == fresh {
            return Ok(());
        }
        match (rel == INDEX).then(|| provenance_only(&old, fresh)).flatten() {
            Some(p) => self.staleness.provenance = Some(p),
            None => self.staleness.changed.push(rel.to_string()),
        }
        Ok(())
    }
}

/// When two `index.json` texts differ only in `source`, the two sources: the
/// recorded index with the fresh source put in must give the fresh bytes exactly.
fn provenance_only(old_bytes: &[u8], fresh: &[u8]) -> Option<(Value, Value)> {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).ok().map(|s| s + "\n");
    let mut old: Value = serde_json::from_slice(old_bytes).ok()?;
    // The recorded index must be exactly as strata writes it (not reformatted by hand).
    if pretty(&old)?.as_bytes() != old_bytes {
        return None;
    }
    let fresh_source = serde_json::from_slice::<Value>(fresh).ok()?.get("source")?.clone();
    let recorded = old.as_object_mut()?.insert("source".to_string(), fresh_source.clone())?;
    (pretty(&old)?.as_bytes() == fresh).then_some((recorded, fresh_source))
}

/// Every file under `dir`, as `/`-separated paths relative to the bundle root.
/// Anything that is not a regular file or directory counts as a file, so it
/// shows up as removed or changed.
fn list(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    for e in entries {
        let e = e.map_err(|e| io_error(dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let kind = e.file_type().map_err(|err| io_error(&e.path(), err))?;
        if kind.is_dir() {
            list(&e.path(), &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

fn io_error(path: &Path, e: io::Error) -> Diagnostic {
    Diagnostic::error(format!("cannot read `{}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_added_removed_and_changed_files() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("b");
        std::fs::create_dir_all(dir.join("east")).unwrap();
        std::fs::write(dir.join("index.json"), "old").unwrap();
        std::fs::write(dir.join("east/00-wave-0-resources.yaml"), "same").unwrap();
        std::fs::write(dir.join("east/01-wave-1-resources.yaml"), "gone").unwrap();
        let mut b = Bundle::default();
        for (p, c) in
            [("index.json", "new"), ("east/00-wave-0-resources.yaml", "same"), ("west/00-wave-0-resources.yaml", "x")]
        {
            b.files.insert(p.to_string(), c.as_bytes().to_vec());
        }
        let s = compare(&dir, &b).unwrap();
        assert_eq!(s.added, ["west/00-wave-0-resources.yaml"]);
        assert_eq!(s.removed, ["east/01-wave-1-resources.yaml"]);
        assert_eq!(s.changed, ["index.json"]);
        assert_eq!(
            s.report(),
            "removed  east/01-wave-1-resources.yaml\nchanged  index.json\nadded    west/00-wave-0-resources.yaml\n"
        );
        // Missing directory: everything is added; nothing is created.
        let s = compare(&root.path().join("nope"), &b).unwrap();
        assert_eq!(s.added.len(), 3);
        assert!(!root.path().join("nope").exists());
        // Fresh.
        let b2 = Bundle { files: [("index.json".to_string(), b"old".to_vec())].into() };
        std::fs::remove_dir_all(dir.join("east")).unwrap();
        assert!(compare(&dir, &b2).unwrap().is_fresh());
    }

    #[test]
    fn index_provenance_is_not_content() {
        let root = tempfile::tempdir().unwrap();
        let index = |commit: &str, n: u32| {
            let mut s = serde_json::to_string_pretty(
                &serde_json::json!({"format": 1, "source": {"commit": commit}, "environments": {"e": n}}),
            )
            .unwrap();
            s.push('\n');
            s
        };
        std::fs::write(root.path().join("index.json"), index("aaa", 1)).unwrap();
        let fresh =
            |commit: &str, n: u32| Bundle { files: [("index.json".to_string(), index(commit, n).into_bytes())].into() };
        let s = compare(root.path(), &fresh("bbb", 1)).unwrap();
        assert!(s.is_fresh(), "{s:?}");
        let (old, new) = s.provenance.unwrap();
        assert_eq!((old["commit"].as_str(), new["commit"].as_str()), (Some("aaa"), Some("bbb")));
        let s = compare(root.path(), &fresh("bbb", 2)).unwrap();
        assert_eq!(s.changed, ["index.json"]);
        // Reformatted by hand: bytes count.
        std::fs::write(root.path().join("index.json"), index("aaa", 1).replace("\n", "\r\n")).unwrap();
        assert_eq!(compare(root.path(), &fresh("bbb", 1)).unwrap().changed, ["index.json"]);
    }
}
