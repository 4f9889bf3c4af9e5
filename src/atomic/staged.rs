//! [`StagedDir`]: a directory built beside its destination, then renamed into
//! place; and the removal of the stages that killed runs left behind.
//!
//! The names beside a destination `DIR` (in its parent directory):
//! - `.DIR.tmp-XXXXXX`: the directory being built;
//! - `.DIR.tmp-XXXXXX.lock`: an empty file its run holds an exclusive lock on
//!   (`flock` on Unix, `LockFileEx` on Windows) for as long as the stage lives.
//!   The operating system drops the lock when the process ends, however it ends
//!   (`kill -9`, a power cut), so a lock that can be taken means a dead run;
//!   no process id is trusted (they are reused, and differ between containers
//!   sharing a directory);
//! - `.DIR.old-XXXXXX`: the previous `DIR`, moved aside while the new one is
//!   renamed into place.
//!
//! A stage is made in this order: the lock file under a name no sweep looks at
//! (`.DIR.lck-XXXXXX`), locked, renamed to `.DIR.tmp-XXXXXX.lock`; then the
//! directory. So every `.lock` file a sweep finds is either held (a live run,
//! left alone) or left by a run that ended without cleaning up. Before making
//! its stage, a run sweeps: for each `.DIR.tmp-XXXXXX.lock` it can lock without
//! waiting, it removes `.DIR.tmp-XXXXXX`, puts `.DIR.old-XXXXXX` back as `DIR`
//! when `DIR` is missing (the run died between the two renames of a
//! replacement) or else removes it, and removes the lock file last. Only these
//! names, made from `DIR`'s own name, are ever removed; the sweep is best
//! effort (what it cannot remove, the next run tries again).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::{io_error, parent_of, usable_name};
use crate::diag::{Diagnostic, Error};

/// A directory built file by file beside its destination, then put in place
/// whole by [`StagedDir::commit`], for a writer that makes its files one after
/// the other and should not hold them all (`strata bundle`, environment by
/// environment). Dropped without a commit
/// (an error on the way), the temporary directory is removed and the
/// destination is untouched; killed, it is removed by the next run's sweep.
#[derive(Debug)]
pub struct StagedDir {
    dir: PathBuf,
    noun: String,
    /// The directory being built; `None` once renamed into place.
    tmp: Option<PathBuf>,
    /// The lock file and the open, locked handle on it.
    lock: Option<(PathBuf, File)>,
    /// The directories made to hold the temporary one (outermost first),
    /// removed again (when empty) if the stage is dropped without a commit.
    made: Vec<PathBuf>,
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_dir_all(tmp);
        }
        // The lock file goes while it is still held: a sweep never sees it unlocked.
        if let Some((path, file)) = self.lock.take() {
            let _ = std::fs::remove_file(path);
            drop(file);
        }
        for d in self.made.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

impl StagedDir {
    /// Creates the temporary directory beside `dir` (and `dir`'s parents),
    /// after removing the stages of earlier runs that were killed.
    pub fn new(dir: &Path, noun: &str) -> Result<StagedDir, Error> {
        let name = usable_name(dir)
            .ok_or_else(|| Diagnostic::error(format!("cannot use `{}` as the {noun} directory", dir.display())))?;
        let parent = parent_of(dir);
        let made: Vec<PathBuf> = parent
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
            .map(Path::to_path_buf)
            .collect();
        let made: Vec<PathBuf> = made.into_iter().rev().collect();
        std::fs::create_dir_all(&parent).map_err(|e| io_error("create directory", &parent, e))?;
        sweep(dir);
        let mut stage =
            StagedDir { dir: dir.to_path_buf(), noun: noun.to_string(), tmp: None, lock: None, made: Vec::new() };
        let suffix = stage.take_lock(&parent, name)?;
        let tmp = parent.join(format!(".{name}.tmp-{suffix}"));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            // The finished directory should look like one made with `mkdir` (the umask
            // applies), not like a private temporary directory.
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o777);
        }
        builder.create(&tmp).map_err(|e| io_error("create a temporary directory in", &parent, e))?;
        stage.tmp = Some(tmp);
        stage.made = made;
        Ok(stage)
    }

    /// Makes and locks `.NAME.tmp-XXXXXX.lock`; returns `XXXXXX`.
    fn take_lock(&mut self, parent: &Path, name: &str) -> Result<String, Error> {
        let cannot = |e: io::Error| io_error("create a lock file in", parent, e);
        let prefix = format!(".{name}.lck-");
        let file = tempfile::Builder::new().prefix(&prefix).tempfile_in(parent).map_err(cannot)?;
        file.as_file().lock().map_err(cannot)?;
        let file_name = file.path().file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let suffix = file_name.get(prefix.len()..).unwrap_or_default().to_string();
        let path = parent.join(format!(".{name}.tmp-{suffix}.lock"));
        if path.symlink_metadata().is_ok() {
            return Err(cannot(io::Error::from(io::ErrorKind::AlreadyExists)));
        }
        let (handle, tmp_path) = file.into_parts();
        tmp_path.persist(&path).map_err(|e| cannot(e.error))?;
        self.lock = Some((path, handle));
        Ok(suffix)
    }

    fn tmp_path(&self) -> &Path {
        self.tmp.as_deref().unwrap_or(self.dir.as_path())
    }

    /// Writes one file (a relative path with `/`) into the temporary directory.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.tmp_path().join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| io_error("create directory", p, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| io_error("write", &path, e))?;
        Ok(())
    }

    /// Puts the directory in place. `existing` says whether something is at the
    /// destination to replace (checked and allowed by the caller). Returns
    /// warnings: the new directory is in place but the old one could not be removed.
    pub fn commit(mut self, existing: bool) -> Result<Vec<Diagnostic>, Error> {
        let (dir, noun) = (self.dir.clone(), self.noun.clone());
        let dir = dir.as_path();
        // A failure from here on keeps the directories it was made in.
        self.made.clear();
        let Some(tmp) = self.tmp.clone() else { return Ok(Vec::new()) };
        if !existing {
            std::fs::rename(&tmp, dir).map_err(|e| io_error(&format!("move the new {noun} to"), dir, e))?;
            self.tmp = None;
            return Ok(Vec::new());
        }
        // Aside, in, remove: the old directory stays whole until the new one is in place.
        let aside = aside_of(dir, &tmp);
        std::fs::rename(dir, &aside).map_err(|e| io_error(&format!("move the old {noun} aside from"), dir, e))?;
        if let Err(e) = std::fs::rename(&tmp, dir) {
            let restored = std::fs::rename(&aside, dir);
            let mut d = io_error(&format!("move the new {noun} to"), dir, e);
            if let Err(r) = restored {
                d = d.note(format!("the previous {noun} is kept at `{}` ({r})", aside.display()));
            }
            return Err(d);
        }
        self.tmp = None;
        match std::fs::remove_dir_all(&aside) {
            Ok(()) => Ok(Vec::new()),
            Err(e) => Ok(vec![Diagnostic::warning(format!(
                "the new {noun} is in place, but the previous one could not be removed from `{}`: {e}",
                aside.display()
            ))]),
        }
    }
}

/// `.DIR.old-XXXXXX` for the stage `.DIR.tmp-XXXXXX`.
fn aside_of(dir: &Path, tmp: &Path) -> PathBuf {
    let name = usable_name(dir).unwrap_or("dir");
    let suffix =
        tmp.file_name().and_then(|n| n.to_str()).and_then(|n| n.rsplit_once(".tmp-")).map_or("old", |(_, s)| s);
    parent_of(dir).join(format!(".{name}.old-{suffix}"))
}

/// Removes what killed runs staging `dir` left beside it (see the module
/// documentation); stages of live runs are left alone.
pub(crate) fn sweep(dir: &Path) {
    let Some(name) = usable_name(dir) else { return };
    let parent = parent_of(dir);
    let Ok(entries) = std::fs::read_dir(&parent) else { return };
    let (stage, unnamed) = (format!(".{name}.tmp-"), format!(".{name}.lck-"));
    for entry in entries.flatten() {
        let Ok(file_name) = entry.file_name().into_string() else { continue };
        if let Some(suffix) = file_name.strip_prefix(&stage).and_then(|s| s.strip_suffix(".lock")) {
            let Some(lock) = try_lock(&entry.path()) else { continue };
            let tmp = parent.join(format!("{stage}{suffix}"));
            if is_dir(&tmp) {
                let _ = std::fs::remove_dir_all(&tmp);
            }
            let aside = aside_of(dir, &tmp);
            if is_dir(&aside) {
                let restore = matches!(dir.symlink_metadata(), Err(e) if e.kind() == io::ErrorKind::NotFound);
                if !(restore && std::fs::rename(&aside, dir).is_ok()) {
                    let _ = std::fs::remove_dir_all(&aside);
                }
            }
            let _ = std::fs::remove_file(entry.path());
            drop(lock);
        } else if file_name.starts_with(&unnamed) {
            // Killed between making its lock file and naming it: nothing else
            // was made. Taken only when old, so a run in that instant keeps it.
            let old = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
            if old.is_some_and(|age| age.as_secs() > 60)
                && let Some(lock) = try_lock(&entry.path())
            {
                let _ = std::fs::remove_file(entry.path());
                drop(lock);
            }
        }
    }
}

/// The file at `path`, locked, when no live process holds its lock.
fn try_lock(path: &Path) -> Option<File> {
    let file = File::open(path).ok()?;
    file.try_lock().ok()?;
    Some(file)
}

fn is_dir(path: &Path) -> bool {
    path.symlink_metadata().is_ok_and(|m| m.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::names;

    #[test]
    fn a_stage_dropped_without_commit_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("dist/x/bundle");
        let staged = StagedDir::new(&dir, "bundle").unwrap();
        staged.write("a/b", b"1").unwrap();
        let during = names(&root.path().join("dist/x"));
        assert_eq!(during.len(), 2, "the temporary directory and its lock: {during:?}");
        assert!(during[0].starts_with(".bundle.tmp-") && during[1] == format!("{}.lock", during[0]), "{during:?}");
        drop(staged);
        assert_eq!(names(root.path()), Vec::<String>::new(), "the directories made for it are gone too");
        // Committed: in place, parents kept.
        let staged = StagedDir::new(&dir, "bundle").unwrap();
        staged.write("a/b", b"1").unwrap();
        staged.commit(false).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("a/b")).unwrap(), "1");
        assert_eq!(names(&root.path().join("dist/x")), ["bundle"]);
    }

    #[test]
    fn a_sweep_removes_dead_stages_and_keeps_live_ones() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let live = StagedDir::new(&dir, "bundle").unwrap();
        live.write("x", b"1").unwrap();
        // What a killed run leaves: a stage with an unheld lock, and one killed
        // between the renames of a replacement (the old directory aside, none in place).
        for (suffix, aside) in [("dead01", false), ("dead02", true)] {
            std::fs::create_dir(root.path().join(format!(".out.tmp-{suffix}"))).unwrap();
            std::fs::write(root.path().join(format!(".out.tmp-{suffix}/f")), "new").unwrap();
            std::fs::write(root.path().join(format!(".out.tmp-{suffix}.lock")), "").unwrap();
            if aside {
                std::fs::create_dir(root.path().join(format!(".out.old-{suffix}"))).unwrap();
                std::fs::write(root.path().join(format!(".out.old-{suffix}/f")), "previous").unwrap();
            }
        }
        // Not ours: a name strata never makes, and another destination's stage.
        std::fs::create_dir(root.path().join(".out.tmpfoo")).unwrap();
        std::fs::create_dir(root.path().join(".outer.tmp-dead03")).unwrap();
        std::fs::write(root.path().join(".outer.tmp-dead03.lock"), "").unwrap();
        sweep(&dir);
        let mut left = names(root.path());
        left.retain(|n| !n.starts_with(".out.tmp-") || n.starts_with(".out.tmp-dead"));
        assert_eq!(left, [".out.tmpfoo", ".outer.tmp-dead03", ".outer.tmp-dead03.lock", "out"]);
        assert_eq!(std::fs::read_to_string(dir.join("f")).unwrap(), "previous", "the aside is put back");
        assert_eq!(names(root.path()).iter().filter(|n| n.starts_with(".out.tmp-")).count(), 2, "the live stage");
        drop(live);
        assert_eq!(names(root.path()), [".out.tmpfoo", ".outer.tmp-dead03", ".outer.tmp-dead03.lock", "out"]);
    }
}
