//! What compiling one target reads, as loaders that read it without compiling:
//! run over [`Fs::recording`] they log a superset of the compilation's reads
//! (`strata.yaml` aside, read once for all targets). `strata diff` replays the
//! log on the other side to skip targets whose inputs did not change
//! (`diff::inputs`); the render cache hashes it into a target's key
//! ([`super::Key`]).
//!
//! The loaders: `component.yaml` (the [`crate::repo::Repo`] fields a target's
//! compilation uses come from it and `strata.yaml`), the `parameters.yaml`
//! chain, the target's `kustomization.yaml` with every file it can name
//! ([`read_kustomization`]), the root's name (the default of
//! `tracking.repository`), and per version directory its `values.schema.json`
//! with every `$ref` ([`ValuesSchema::load`]) and the whole directory, links
//! followed (templates, partials, `values.yaml`, and what `Files` can read;
//! neither templates nor `Files` reach outside it).

use std::collections::HashSet;

use crate::repo::{self, Target};
use crate::source::{self, EntryKind, Fs};
use crate::values::{self, ValuesSchema};
use crate::yaml;

/// What compiling a target reads outside its version directory (and `strata.yaml`).
pub fn read_target(fs: &Fs, t: &Target) -> Result<(), ()> {
    fs.read_optional(&source::join(&t.component, repo::COMPONENT_CONFIG)).map_err(|_| ())?;
    for path in values::layers::parameter_files(t) {
        fs.read_optional(&path).map_err(|_| ())?;
    }
    read_kustomization(fs, &t.dir)?;
    // The default of `tracking.repository`.
    let _ = fs.source().root_name();
    Ok(())
}

/// What the target's `kustomization.yaml` can make its compilation read: the
/// file, and every string in it taken as a path relative to the target
/// directory (`key=path` generator entries split at `=`). Every file the patch
/// stage reads ([`crate::patch::load`]) is named by such a string, so these reads
/// are a superset of its reads, made without parsing the patches (parsing them
/// took two thirds of a diff of the medium benchmark). Absolute strings (JSON
/// pointers of inline patches) and URLs are no paths; a string leaving the
/// repository fails (the render reports it).
pub fn read_kustomization(fs: &Fs, dir: &str) -> Result<(), ()> {
    let path = source::join(dir, repo::KUSTOMIZATION);
    let Some(text) = fs.read_optional(&path).map_err(|_| ())? else { return Ok(()) };
    let doc = yaml::parse_one(&text).map_err(|_| ())?;
    let mut strings = Vec::new();
    collect_strings(&doc, &mut strings);
    // A candidate whose first name is not in the directory names nothing; the
    // listing, read once (and logged), answers for most strings (kinds, names,
    // patch texts) without a look-up each.
    let listing: HashSet<String> = fs.read_dir(dir).map_err(|_| ())?.into_iter().map(|e| e.name).collect();
    for s in strings {
        let value = s.split_once('=').map(|(_, v)| v);
        for candidate in std::iter::once(s).chain(value) {
            if candidate.is_empty() || candidate.starts_with('/') || candidate.contains("://") {
                continue;
            }
            let first = candidate.split('/').next().unwrap_or(candidate);
            if !matches!(first, "." | "..") && !listing.contains(first) {
                continue;
            }
            // `Fs` applies `..` and links as the patch stage's reads do, and refuses a path leaving the root.
            let rel = source::join(dir, candidate);
            if fs.kind(&rel).map_err(|_| ())? == Some(EntryKind::File) {
                fs.read(&rel).map_err(|_| ())?;
            }
        }
    }
    Ok(())
}

fn collect_strings<'v>(v: &'v serde_json::Value, out: &mut Vec<&'v str>) {
    match v {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        serde_json::Value::Object(map) => map.values().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

/// What compiling a target reads of its version: the schema with its `$ref`s,
/// and every file below the directory, links followed.
pub fn read_version(fs: &Fs, version_dir: &str) -> Result<(), ()> {
    ValuesSchema::load(fs, version_dir).map_err(|_| ())?;
    let mut seen = HashSet::new();
    walk(fs, version_dir, &mut seen)
}

fn walk(fs: &Fs, dir: &str, seen: &mut HashSet<String>) -> Result<(), ()> {
    // A link may lead back up: each directory is read once.
    if !seen.insert(fs.resolve(dir).map_err(|_| ())?) {
        return Ok(());
    }
    for e in fs.read_dir(dir).map_err(|_| ())? {
        let path = source::join(dir, &e.name);
        let kind = match e.kind {
            EntryKind::Link => fs.kind(&path).map_err(|_| ())?,
            k => Some(k),
        };
        match kind {
            Some(EntryKind::Dir) => walk(fs, &path, seen)?,
            Some(_) => {
                fs.read(&path).map_err(|_| ())?;
            }
            None => {}
        }
    }
    Ok(())
}
