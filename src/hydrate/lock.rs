//! The reference transaction of one `strata hydrate` at a time per repository, and
//! recovery from a run killed inside it.
//!
//! A reference transaction locks each reference by creating `REF.lock` beside it and
//! renames the locks into place at the end; a run killed in between (`kill -9`, a
//! power cut) leaves the `.lock` files behind, and git and gix then refuse the
//! reference forever. So before its transaction a run takes an exclusive advisory
//! lock on `strata-hydrate.lock` in the git directory (the kernel releases it when the
//! process dies) and writes the references it is about to lock into a journal,
//! `strata-hydrate.refs`. A later run that holds the advisory lock and finds a
//! journal knows the run that wrote it is gone: it removes the `.lock` files the
//! journal names. A `.lock` of another program (git) is never in the journal.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Error};

/// Held while a run's reference transaction runs; released when dropped.
pub struct RunLock {
    _file: File,
    dir: PathBuf,
}

const LOCK: &str = "strata-hydrate.lock";
const JOURNAL: &str = "strata-hydrate.refs";

/// Takes the advisory lock in `git_dir` (waiting for another strata run to finish)
/// and removes what a killed run left.
pub fn acquire(git_dir: &Path) -> Result<RunLock, Error> {
    let path = git_dir.join(LOCK);
    let io = |what: &str, e: std::io::Error| {
        Error::from(Diagnostic::error(format!("cannot {what} `{}`: {e}", path.display())))
    };
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(|e| io("open", e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => file.lock().map_err(|e| io("lock", e))?,
        Err(TryLockError::Error(e)) => return Err(io("lock", e)),
    }
    let lock = RunLock { _file: file, dir: git_dir.to_path_buf() };
    lock.recover();
    Ok(lock)
}

impl RunLock {
    /// Removes the reference locks a killed run's journal names, then the journal.
    fn recover(&self) {
        let journal = self.dir.join(JOURNAL);
        let Ok(text) = std::fs::read_to_string(&journal) else { return };
        for name in text.lines().filter(|l| l.starts_with("refs/") && !l.contains("..")) {
            let _ = std::fs::remove_file(self.dir.join(format!("{name}.lock")));
        }
        let _ = std::fs::remove_file(journal);
    }

    /// Records the references the transaction is about to lock.
    pub fn journal(&self, refs: &[String]) -> Result<(), Error> {
        let text: String = refs.iter().map(|r| format!("{r}\n")).collect();
        crate::atomic::write_file(&self.dir.join(JOURNAL), text.as_bytes())
    }

    /// The transaction ended (moved or refused): its locks are gone.
    pub fn finished(&self) {
        let _ = std::fs::remove_file(self.dir.join(JOURNAL));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_runs_locks_are_removed_and_no_others() {
        let dir = tempfile::tempdir().unwrap();
        let heads = dir.path().join("refs/heads/env");
        std::fs::create_dir_all(&heads).unwrap();
        std::fs::write(heads.join("eastus.lock"), "x").unwrap();
        std::fs::write(heads.join("westus.lock"), "x").unwrap();
        {
            let lock = acquire(dir.path()).unwrap();
            lock.journal(&["refs/heads/env/eastus".to_string()]).unwrap();
            // Killed here: the advisory lock goes with the process, the journal stays.
            drop(lock);
        }
        assert!(dir.path().join(JOURNAL).exists());
        let lock = acquire(dir.path()).unwrap();
        assert!(!heads.join("eastus.lock").exists(), "the killed run's lock is removed");
        assert!(heads.join("westus.lock").exists(), "a lock the journal does not name stays");
        assert!(!dir.path().join(JOURNAL).exists());
        lock.finished();
    }
}
