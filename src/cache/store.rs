//! The cache directory: one file per entry, `DIR/v1/ab/abcdef…` (the key's
//! first two hex digits as a subdirectory, so that no directory grows huge).
//!
//! Reads and removals are plain file-system calls: a cache is not an output,
//! and an entry that cannot be read is a miss. Writes go through
//! [`crate::atomic::write_file`] (a temporary beside the entry, then a
//! rename): a concurrent run reads the old entry, the new one, or nothing, and
//! two runs writing the same key write the same bytes. A hit touches the
//! entry's modification time, the "last used" that eviction sorts by.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The subdirectory of this layout (a new layout gets a new name).
const LAYOUT: &str = "v1";

fn path(dir: &Path, key: &str) -> PathBuf {
    dir.join(LAYOUT).join(&key[..2]).join(key)
}

/// The bytes of entry `key`, marked as used now; `None` when there is none.
pub(super) fn read(dir: &Path, key: &str) -> Option<Vec<u8>> {
    let p = path(dir, key);
    // Opened for writing too, to mark it used; a read-only cache is read all the same.
    let (mut f, writable) = match std::fs::File::options().read(true).write(true).open(&p) {
        Ok(f) => (f, true),
        Err(_) => (std::fs::File::open(&p).ok()?, false),
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut f, &mut bytes).ok()?;
    if writable {
        // A failure only makes it look older.
        let _ = f.set_modified(SystemTime::now());
    }
    Some(bytes)
}

/// Writes entry `key`; false when it could not be written.
pub(super) fn write(dir: &Path, key: &str, bytes: &[u8]) -> bool {
    crate::atomic::write_file(&path(dir, key), bytes).is_ok()
}

/// Removes the least recently used entries until the entries take at most
/// `max_bytes`. Temporaries of writes under way (names starting with `.`) are
/// left alone; an entry another run removed first is simply gone.
pub(super) fn evict(dir: &Path, max_bytes: u64) {
    let mut entries: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
    let Ok(subdirs) = std::fs::read_dir(dir.join(LAYOUT)) else { return };
    for sub in subdirs.flatten() {
        let Ok(files) = std::fs::read_dir(sub.path()) else { continue };
        for f in files.flatten() {
            if f.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            match f.metadata() {
                Ok(meta) if meta.is_file() => {
                    entries.push((meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len(), f.path()));
                }
                _ => {}
            }
        }
    }
    let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
    // Oldest first; the path breaks ties so that concurrent runs agree.
    entries.sort();
    for (_, len, p) in entries {
        if total <= max_bytes {
            break;
        }
        let _ = std::fs::remove_file(&p);
        total -= len;
    }
}
