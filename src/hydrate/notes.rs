//! The bookkeeping that does not lag: a git note in `refs/notes/hydrator.metadata`
//! (Argo CD's namespace, read by GitOps Promoter) on each branch's tip, saying
//! which source commit it was last hydrated from, written also when the
//! bundle did not change and no commit was made (argo-cd#28556).
//!
//! A note is `{"drySha": …, "environments": […], "strata": VERSION}`. A branch
//! whose tip carries a note with this run's source commit, every environment
//! this run places on it and this strata version is already hydrated: the run
//! skips rendering it (the same commit and version give the same bytes).
//! Notes are local: `--push` does not push them.

use std::collections::BTreeSet;

use gix::ObjectId;
use serde::{Deserialize, Serialize};

use crate::diag::Error;
use crate::release::cherry_pick::git_error;

pub const REF: &str = "refs/notes/hydrator.metadata";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    #[serde(rename = "drySha")]
    pub dry_sha: String,
    #[serde(default)]
    pub environments: BTreeSet<String>,
    #[serde(default)]
    pub strata: String,
}

impl Note {
    pub fn new(dry: ObjectId, environments: impl IntoIterator<Item = String>) -> Note {
        Note {
            dry_sha: dry.to_string(),
            environments: environments.into_iter().collect(),
            strata: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// Whether this note names `dry` as its source commit.
    pub fn is_from(&self, dry: ObjectId) -> bool {
        ObjectId::from_hex(self.dry_sha.as_bytes()).is_ok_and(|id| id == dry)
    }

    /// Whether this note says `environments` were hydrated from `dry` by this strata.
    pub fn covers(&self, dry: ObjectId, environments: &[String]) -> bool {
        self.is_from(dry)
            && self.strata == env!("CARGO_PKG_VERSION")
            && environments.iter().all(|e| self.environments.contains(e))
    }
}

/// The notes ref as this run read it.
#[derive(Debug, Clone, Copy)]
pub struct Notes {
    pub tip: Option<ObjectId>,
    tree: ObjectId,
}

pub fn read(repo: &gix::Repository) -> Result<Notes, Error> {
    let tip = super::tip(repo, REF)?;
    let tree = match tip {
        Some(t) => super::tree_of(repo, t, REF)?,
        None => ObjectId::empty_tree(repo.object_hash()),
    };
    Ok(Notes { tip, tree })
}

/// The note on `commit`, in any fanout git writes (`ab/cdef…`, `ab/cd/ef…`).
pub fn get(repo: &gix::Repository, notes: &Notes, commit: ObjectId) -> Option<Note> {
    let tree = repo.find_tree(notes.tree).ok()?;
    let hex = commit.to_string();
    for path in fanouts(&hex) {
        if let Ok(Some(entry)) = tree.lookup_entry_by_path(path.as_str()) {
            let blob = repo.find_blob(entry.object_id()).ok()?;
            return serde_json::from_slice(&blob.data).ok();
        }
    }
    None
}

fn fanouts(hex: &str) -> [String; 3] {
    [hex.to_string(), format!("{}/{}", &hex[..2], &hex[2..]), format!("{}/{}/{}", &hex[..2], &hex[2..4], &hex[4..])]
}

/// A notes commit with `updates` added (any older note of those commits
/// replaced), on top of the ref as read; `None` when nothing changes.
pub fn write(
    repo: &gix::Repository,
    notes: &Notes,
    updates: &[(ObjectId, Note)],
    identity: &gix::actor::Signature,
    time: gix::date::Time,
) -> Result<Option<ObjectId>, Error> {
    let fresh: Vec<&(ObjectId, Note)> =
        updates.iter().filter(|(c, n)| get(repo, notes, *c).as_ref() != Some(n)).collect();
    if fresh.is_empty() {
        return Ok(None);
    }
    let mut editor = repo.edit_tree(notes.tree).map_err(|e| git_error("read", REF, e))?;
    for (commit, note) in fresh {
        let hex = commit.to_string();
        for path in fanouts(&hex) {
            editor.remove(path.as_str()).map_err(|e| git_error("edit", REF, e))?;
        }
        let mut text = serde_json::to_string(note).unwrap_or_default();
        text.push('\n');
        let blob = repo.write_blob(text).map_err(|e| git_error("write a note in", REF, e))?.detach();
        editor.upsert(hex.as_str(), gix::object::tree::EntryKind::Blob, blob).map_err(|e| git_error("edit", REF, e))?;
    }
    let tree = editor.write().map_err(|e| git_error("write", REF, e))?.detach();
    let message = "Notes added by 'strata hydrate'\n";
    super::commit::write(repo, tree, notes.tip, identity, time, message, None).map(Some)
}
