//! The bundle of each [`Place`], written straight into the object database.
//!
//! In: the opened source [`Repo`], the targets of the selected environments,
//! the places and the repository the branches live in. Out: per place, its
//! files (path relative to the hydrated path → blob id): exactly the files
//! `strata bundle --out DIR` writes for the place's environments, `index.json`
//! included, made batch by batch ([`crate::bundle::batches::plan_each`]) and
//! handed to a [`Sink`] that writes each as a git blob at once, so memory
//! holds a batch's objects, not the repository's. The bookkeeping files
//! (`README.md`, `hydrator.metadata`) are added by the caller.
//!
//! Also: a hydrated path's files read back from a tree ([`tree_files`]) and
//! the comparison that decides "unchanged" ([`same_bundle`]).

use std::collections::BTreeMap;

use gix::ObjectId;
use gix::bstr::ByteSlice;

use super::place::Place;
use super::secrets;
use crate::bundle::{self, Assembler, INDEX, Sink, batches};
use crate::diag::{Diagnostic, Error};
use crate::order::Plan;
use crate::pipeline::Options;
use crate::release::cherry_pick::git_error;
use crate::repo::{Repo, Target};

/// A place's files: path relative to the hydrated path → blob.
pub type Files = BTreeMap<String, ObjectId>;

/// Writes each file as a blob and records it.
struct Blobs<'r, 'f> {
    repo: &'r gix::Repository,
    files: &'f mut Files,
}

impl Sink for Blobs<'_, '_> {
    fn file(&mut self, path: &str, bytes: &[u8]) -> Result<(), Error> {
        let id = self.repo.write_blob(bytes).map_err(|e| git_error("write the blob of", path, e))?;
        self.files.insert(path.to_string(), id.detach());
        Ok(())
    }
}

/// What the batches build up, moved into the batch callback (which must be `Send`).
struct Building {
    repo: gix::Repository,
    assemblers: Vec<Assembler>,
    files: Vec<Files>,
    secrets: Vec<Diagnostic>,
}

/// Every place's bundle files, written as blobs into `repo`; plaintext Secrets
/// are refused unless `allow_secrets`. Returns the files per place (in the
/// order of `places`) and the warnings.
pub fn write(
    source: &Repo,
    targets: &[&Target],
    places: &[Place],
    repo: gix::Repository,
    opts: &super::HydrateOptions,
) -> Result<(Vec<Files>, Vec<Diagnostic>), Error> {
    let allow_secrets = opts.allow_secrets;
    let compile = Options { cache: opts.cache.clone(), ..Options::default() };
    let place_of: BTreeMap<&str, usize> =
        places.iter().enumerate().flat_map(|(i, p)| p.environments.iter().map(move |e| (e.as_str(), i))).collect();
    let mut b = Building {
        repo,
        assemblers: places.iter().map(|_| Assembler::default()).collect(),
        files: places.iter().map(|_| Files::new()).collect(),
        secrets: Vec::new(),
    };
    let check = source.config.check.as_ref();
    // Moved in whole: the gix handle may go to another thread, not be shared.
    let state = &mut b;
    let streamed = batches::plan_each(source, targets, &compile, move |compiled, plans| {
        let b = &mut *state;
        if !allow_secrets {
            b.secrets.extend(secrets::plaintext(compiled, check));
        }
        let mut by_place: BTreeMap<usize, Vec<Plan<'_>>> = BTreeMap::new();
        for plan in plans {
            let i = place_of.get(plan.environment.as_str()).copied().unwrap_or(0);
            by_place.entry(i).or_default().push(plan);
        }
        for (i, plans) in by_place {
            let part = bundle::part(compiled, &plans);
            b.assemblers[i].add(part, &mut Blobs { repo: &b.repo, files: &mut b.files[i] })?;
        }
        Ok(())
    })?;
    if !b.secrets.is_empty() {
        return Err(batches::with_warnings(&streamed.warnings, secrets::refusal(b.secrets)));
    }
    for (assembler, files) in b.assemblers.into_iter().zip(b.files.iter_mut()) {
        assembler
            .finish(&streamed.info, &mut Blobs { repo: &b.repo, files })
            .map_err(|e| batches::with_warnings(&streamed.warnings, e))?;
    }
    Ok((b.files, streamed.warnings))
}

/// The files under `path` (`""`: the whole tree) of `tree`, recursively;
/// empty when nothing is there. Symbolic links and submodules count as files.
pub fn tree_files(repo: &gix::Repository, tree: ObjectId, path: &str) -> Result<Files, Error> {
    let mut out = Files::new();
    let root = repo.find_tree(tree).map_err(|e| git_error("read tree", &tree.to_string(), e))?;
    let start = if path.is_empty() {
        Some(tree)
    } else {
        match root.lookup_entry_by_path(path).map_err(|e| git_error("read", path, e))? {
            Some(e) if e.mode().is_tree() => Some(e.object_id()),
            Some(e) => {
                out.insert(String::new(), e.object_id());
                None
            }
            None => None,
        }
    };
    if let Some(start) = start {
        walk(repo, start, "", &mut out)?;
    }
    Ok(out)
}

fn walk(repo: &gix::Repository, tree: ObjectId, prefix: &str, out: &mut Files) -> Result<(), Error> {
    let t = repo.find_tree(tree).map_err(|e| git_error("read tree", &tree.to_string(), e))?;
    for entry in t.iter() {
        let entry = entry.map_err(|e| git_error("read tree", &tree.to_string(), e))?;
        let name = format!("{prefix}{}", entry.filename().to_str_lossy());
        if entry.mode().is_tree() {
            walk(repo, entry.oid().to_owned(), &format!("{name}/"), out)?;
        } else {
            out.insert(name, entry.oid().to_owned());
        }
    }
    Ok(())
}

/// Whether `old` (a hydrated path's files as the branch has them) holds the
/// same bundle as `new`: the same files with the same bytes, apart from the
/// bookkeeping — `README.md`, `hydrator.metadata`, and in `index.json` the
/// `source` (commit, ref) and `strata` (version) fields, which name where the
/// files came from, not what they are.
pub fn same_bundle(repo: &gix::Repository, old: &Files, new: &Files, bookkeeping: &[&str]) -> Result<bool, Error> {
    let content = |files: &Files| -> Vec<(String, ObjectId)> {
        files
            .iter()
            .filter(|(p, _)| !bookkeeping.contains(&p.as_str()) && p.as_str() != INDEX)
            .map(|(p, id)| (p.clone(), *id))
            .collect()
    };
    if content(old) != content(new) {
        return Ok(false);
    }
    match (old.get(INDEX), new.get(INDEX)) {
        (Some(a), Some(b)) if a == b => Ok(true),
        (Some(a), Some(b)) => Ok(index_content(repo, *a)? == index_content(repo, *b)?),
        _ => Ok(false),
    }
}

/// `index.json` without `source` and `strata`; `None` when it is not JSON.
fn index_content(repo: &gix::Repository, id: ObjectId) -> Result<Option<serde_json::Value>, Error> {
    let blob = repo.find_blob(id).map_err(|e| git_error("read", INDEX, e))?;
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&blob.data) else { return Ok(None) };
    if let Some(map) = v.as_object_mut() {
        map.remove("source");
        map.remove("strata");
    }
    Ok(Some(v))
}

/// Writes a tree holding `files` (paths with `/`), returns its id.
pub fn write_tree(repo: &gix::Repository, files: &Files) -> Result<ObjectId, Error> {
    let empty = ObjectId::empty_tree(repo.object_hash());
    let mut editor = repo.edit_tree(empty).map_err(|e| git_error("start", "a tree", e))?;
    for (path, id) in files {
        editor
            .upsert(path.as_str(), gix::object::tree::EntryKind::Blob, *id)
            .map_err(|e| git_error("add to the tree", path, e))?;
    }
    Ok(editor.write().map_err(|e| git_error("write", "a tree", e))?.detach())
}
