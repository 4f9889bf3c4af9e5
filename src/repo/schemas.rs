//! The JSON Schemas of `strata.yaml` and `component.yaml` as files in a
//! directory (`strata schema`): written when they differ, or checked.
//!
//! In: the directory (`--out`). Out: the schema files written atomically
//! ([`crate::atomic::write_file`]), only those whose bytes changed; or, when
//! checking, the files that are missing or differ.

use std::path::{Path, PathBuf};

use crate::atomic;
use crate::diag::Error;

/// The schema files in `dir` that are missing or differ from [`super::config::schemas`].
pub fn stale(dir: &Path) -> Vec<PathBuf> {
    atomic::stale_files(dir, &super::config::schemas())
}

/// What `strata schema --check` prints on stderr about the `stale` files of
/// `dir` ([`stale`]) and of the reference pages in `docs`: each file, then how
/// to regenerate them.
pub fn stale_report(dir: &Path, docs: Option<&Path>, stale: &[PathBuf]) -> String {
    let mut out: String = stale.iter().map(|s| format!("stale: {}\n", s.display())).collect();
    let docs = docs.map(|d| format!(" --docs {}", d.display())).unwrap_or_default();
    out.push_str(&format!("hint: run `strata schema --out {}{docs}` to regenerate\n", dir.display()));
    out
}

/// Writes the schema files that are stale into `dir` (created if needed),
/// calling `wrote` after each file written.
pub fn write(dir: &Path, wrote: impl FnMut(&Path)) -> Result<(), Error> {
    atomic::write_stale_files(dir, &super::config::schemas(), wrote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_is_stale_then_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("schemas");
        assert_eq!(stale(&dir).len(), 2);
        let mut written = Vec::new();
        write(&dir, |p| written.push(p.to_path_buf())).unwrap();
        assert_eq!(written, [dir.join("strata.schema.json"), dir.join("component.schema.json")]);
        assert!(stale(&dir).is_empty());
        write(&dir, |p| panic!("{} is fresh", p.display())).unwrap();
    }
}
