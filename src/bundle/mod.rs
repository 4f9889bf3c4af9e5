//! Bundles: per-environment, apply-ordered, byte-stable output for CI.
//!
//! In: a [`Batch`] of compiled environments and their [`Plan`]s, a batch at a
//! time ([`batches::produce`]). Out: the bundle's files (paths relative to the
//! bundle directory, with `/`; bytes), each batch's [`part`] handed to a [`Sink`]
//! as it is made and `index.json` last ([`Assembler`]): staged beside the bundle
//! directory and renamed into place ([`write::Staged`]), compared with it
//! ([`check::Checker`]), or kept in memory ([`Bundle`], [`build`]). Layout:
//!
//! ```text
//! DIR/index.json                          source, strata version, per environment: files, counts, components
//! DIR/<environment>/NN-wave-W-<phase>.yaml  one multi-document file per apply phase
//! DIR/<environment>/inventory.yaml          with `tracking.inventory`: the environment's inventory, last
//! ```
//!
//! An environment path such as `prod/westus` becomes nested directories. Phases
//! are numbered in apply order (`00-`, `01-`, ...; wider when there are more than
//! 100), so applying the files in name order applies the objects in order.
//! Invariants: the same inputs give the same bytes (no timestamps, maps with
//! sorted keys, arrays in apply order), and every document is preceded by the
//! `# Source:` / `# Target:` comments `strata render` prints ([`stream`]).

pub mod batches;
pub mod check;
mod reuse;
pub mod stream;
pub mod write;

pub use batches::{BundleOptions, Produced, produce};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::compiled::Batch;
use crate::diag::{Diagnostic, Error};
use crate::order::{Phase, PhaseKind, Placed, Plan};
use crate::source::SourceInfo;
use crate::yaml;

pub const INDEX: &str = "index.json";
/// Bumped when the layout or `index.json` changes incompatibly.
pub const FORMAT: u32 = 1;

/// Every file of a bundle, by path relative to the bundle directory.
#[cfg(test)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bundle {
    pub files: BTreeMap<String, Vec<u8>>,
}

/// One apply phase's file.
#[derive(Debug, Clone)]
pub struct PhaseFile<'p, 'a> {
    /// `00-wave-0-crds.yaml`.
    pub name: String,
    /// Relative to the bundle directory: `prod/westus/00-wave-0-crds.yaml`.
    pub path: String,
    pub phase: Phase,
    pub objects: &'p [Placed<'a>],
}

/// The files of each environment, environments sorted, phases in apply order.
pub fn layout<'p, 'a>(plans: &'p [Plan<'a>]) -> Vec<(&'p str, Vec<PhaseFile<'p, 'a>>)> {
    plans
        .iter()
        .map(|plan| {
            let phases = plan.phases();
            let width = phases.len().saturating_sub(1).to_string().len().max(2);
            let files = phases
                .into_iter()
                .enumerate()
                .map(|(i, (phase, objects))| {
                    let name = format!("{i:0width$}-{}.yaml", phase.slug());
                    PhaseFile { path: format!("{}/{name}", plan.environment), name, phase, objects }
                })
                .collect();
            (plan.environment.as_str(), files)
        })
        .collect()
}

/// The per-target layout (`strata bundle --per-target`): each environment's plan
/// split into one plan per target, named `component/environment`, so that its
/// files land in `DIR/<component>/<environment>/` (what an Argo CD Application
/// of `strata rollout export` points at). Objects keep their apply order.
pub fn per_target<'a>(plans: &[Plan<'a>]) -> Vec<Plan<'a>> {
    let mut out: BTreeMap<String, Plan<'a>> = BTreeMap::new();
    for plan in plans {
        for o in &plan.objects {
            let address = o.target.address();
            out.entry(address.clone())
                .or_insert_with(|| Plan { environment: address, objects: Vec::new() })
                .objects
                .push(o.clone());
        }
    }
    out.into_values().collect()
}

/// Appends one object as a YAML document with its `# Source:` and `# Target:` comments.
pub fn write_document(out: &mut String, placed: &Placed<'_>) {
    out.push_str("---\n# Source: ");
    out.push_str(&placed.resource.source.template);
    out.push_str("\n# Target: ");
    out.push_str(&placed.target.address());
    out.push('\n');
    yaml::write_document(out, &placed.resource.body);
}

#[derive(Serialize)]
struct Index<'a> {
    format: u32,
    strata: &'static str,
    source: &'a SourceInfo,
    environments: &'a BTreeMap<String, EnvIndex>,
}

#[derive(Debug, Serialize, Deserialize)]
struct EnvIndex {
    /// The environment's directory, relative to the bundle directory.
    dir: String,
    resources: usize,
    components: BTreeMap<String, ComponentIndex>,
    /// In apply order.
    files: Vec<FileIndex>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ComponentIndex {
    version: String,
    resources: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct FileIndex {
    path: String,
    phase: PhaseKind,
    wave: i64,
    resources: usize,
    sha256: String,
}

/// Where a bundle's files go as they are made: a directory being staged
/// ([`write::Staged`]), a comparison with a directory ([`check::Checker`]), or
/// memory ([`Bundle`]).
pub trait Sink {
    /// One file, by path relative to the bundle directory.
    fn file(&mut self, path: &str, bytes: &[u8]) -> Result<(), Error>;
}

#[cfg(test)]
impl Sink for Bundle {
    fn file(&mut self, path: &str, bytes: &[u8]) -> Result<(), Error> {
        self.files.insert(path.to_string(), bytes.to_vec());
        Ok(())
    }
}

/// Builds nothing: for `strata bundle --explain` without `--out`.
#[derive(Debug, Default)]
pub struct Discard;

impl Sink for Discard {
    fn file(&mut self, _: &str, _: &[u8]) -> Result<(), Error> {
        Ok(())
    }
}

/// Some environments' files (each with its text and sha256) and `index.json`
/// entries: what one batch of environments adds to a bundle.
#[derive(Debug)]
pub struct Part {
    files: Vec<(String, String)>,
    environments: Vec<(String, EnvIndex)>,
}

impl Part {
    /// This part as one part per environment, in order.
    fn split(self) -> Vec<Part> {
        let mut files = self.files.into_iter();
        self.environments
            .into_iter()
            .map(|(env, index)| {
                let files = files.by_ref().take(index.files.len()).collect();
                Part { files, environments: vec![(env, index)] }
            })
            .collect()
    }
}

/// Renders the files of `plans` (environments of `compiled`) in memory.
pub fn part(compiled: &Batch, plans: &[Plan<'_>]) -> Part {
    let targets = compiled.environments();
    let layout = layout(plans);
    // Writing the documents is most of the work: in parallel, in chunks of
    // objects (one environment may be one large phase file).
    let texts: Vec<Vec<(String, String)>> = layout
        .par_iter()
        .map(|(_, phase_files)| phase_files.par_iter().map(|f| phase_text(f.objects)).collect())
        .collect();
    let mut files = Vec::new();
    let mut environments = Vec::new();
    for ((env, phase_files), texts) in layout.into_iter().zip(texts) {
        let mut index_files = Vec::new();
        for (f, (text, sha256)) in phase_files.iter().zip(texts) {
            index_files.push(FileIndex {
                path: f.path.clone(),
                phase: f.phase.kind,
                wave: f.phase.wave,
                resources: f.objects.len(),
                sha256,
            });
            files.push((f.path.clone(), text));
        }
        // Per target (`--per-target`), the directory is the target's address.
        let of_target: Vec<&crate::compiled::CompiledTarget> =
            compiled.targets.iter().filter(|t| !targets.contains_key(env) && t.target.address() == env).collect();
        let components = targets
            .get(env)
            .into_iter()
            .flatten()
            .chain(of_target.iter())
            .map(|t| {
                let c = ComponentIndex { version: t.target.version.clone(), resources: t.resources.len() };
                (t.target.component.clone(), c)
            })
            .collect();
        if let Some((path, text)) = inventory_file(compiled, env, &phase_files) {
            let sha256 = sha256_hex(text.as_bytes());
            let (phase, wave) = (PhaseKind::Inventory, index_files.last().map_or(0, |f: &FileIndex| f.wave));
            index_files.push(FileIndex { path: path.clone(), phase, wave, resources: 1, sha256 });
            files.push((path, text));
        }
        let resources = index_files.iter().map(|f| f.resources).sum();
        environments
            .push((env.to_string(), EnvIndex { dir: env.to_string(), resources, components, files: index_files }));
    }
    Part { files, environments }
}

/// One phase file's text and its sha256.
fn phase_text(objects: &[Placed<'_>]) -> (String, String) {
    let chunks: Vec<String> = objects
        .par_chunks(256)
        .map(|chunk| {
            let mut text = String::with_capacity(chunk.len() * 1024);
            for o in chunk {
                write_document(&mut text, o);
            }
            text
        })
        .collect();
    let text = if chunks.len() == 1 { chunks.into_iter().next().unwrap_or_default() } else { chunks.concat() };
    let sha = sha256_hex(text.as_bytes());
    (text, sha)
}

/// A bundle put together part by part: each part's files go to a [`Sink`] at
/// once, and only the `index.json` entries stay until [`Assembler::finish`]
/// writes the index. Paths are checked as they come: once one would be both a
/// file and an environment directory, nothing more is written and `finish`
/// reports every clash.
#[derive(Debug, Default)]
pub struct Assembler {
    environments: BTreeMap<String, EnvIndex>,
    files: BTreeSet<String>,
    dirs: BTreeSet<String>,
    clash: bool,
}

impl Assembler {
    /// Adds one part, writing its files to `sink`.
    pub fn add(&mut self, part: Part, sink: &mut dyn Sink) -> Result<(), Error> {
        for (path, text) in part.files {
            self.clash |= self.clashes(&path);
            if !self.clash {
                sink.file(&path, text.as_bytes())?;
            }
            let mut at = path.as_str();
            while let Some((parent, _)) = at.rsplit_once('/') {
                self.dirs.insert(parent.to_string());
                at = parent;
            }
            self.files.insert(path);
        }
        self.environments.extend(part.environments);
        Ok(())
    }

    /// Whether `path` runs into a file or directory already laid out (or `index.json`).
    fn clashes(&self, path: &str) -> bool {
        let mut at = path;
        while let Some((parent, _)) = at.rsplit_once('/') {
            if parent == INDEX || self.files.contains(parent) {
                return true;
            }
            at = parent;
        }
        path == INDEX || self.dirs.contains(path)
    }

    /// The files so far, `index.json` not counted.
    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// Writes `index.json` (with `info` as its source) to `sink`.
    pub fn finish(self, info: &SourceInfo, sink: &mut dyn Sink) -> Result<(), Error> {
        check_collisions(self.files.iter().map(String::as_str))?;
        let index =
            Index { format: FORMAT, strata: env!("CARGO_PKG_VERSION"), source: info, environments: &self.environments };
        let mut json = serde_json::to_string_pretty(&index).map_err(|e| Error {
            kind: crate::diag::ErrorKind::Bug,
            diagnostics: vec![Diagnostic::error(format!("cannot serialize {INDEX}: {e}"))],
        })?;
        json.push('\n');
        sink.file(INDEX, json.as_bytes())
    }
}

/// Renders the bundle in memory.
#[cfg(test)]
pub fn build(compiled: &Batch, plans: &[Plan<'_>]) -> Result<Bundle, Error> {
    let mut bundle = Bundle::default();
    let mut assembler = Assembler::default();
    assembler.add(part(compiled, plans), &mut bundle)?;
    assembler.finish(&compiled.info, &mut bundle)?;
    Ok(bundle)
}

/// `inventory.yaml`, the last file of an environment's bundle, when
/// `tracking.inventory` is on: the inventory ([`crate::tracking::Tracking::inventory`])
/// of every object of the environment's files. Not in per-target bundles.
fn inventory_file(compiled: &Batch, env: &str, phase_files: &[PhaseFile<'_, '_>]) -> Option<(String, String)> {
    if !compiled.targets.iter().any(|t| t.target.environment == env) {
        return None;
    }
    let ids = phase_files.iter().flat_map(|f| f.objects.iter().map(|o| &o.resource.id));
    let inventory = compiled.tracking.as_ref()?.inventory(env, ids)?;
    let mut text = format!("---\n# Source: {}\n# Inventory: {env}\n", inventory.source.template);
    yaml::write_document(&mut text, &inventory.body);
    // After every `NN-…` file in name order.
    Some((format!("{env}/inventory.yaml"), text))
}

/// An environment whose path runs into another file (an environment named
/// `index.json`, or one nested under a phase file's name) cannot be laid out.
fn check_collisions<'p>(files: impl Iterator<Item = &'p str> + Clone) -> Result<(), Error> {
    let mut dirs = BTreeSet::new();
    for path in files.clone() {
        let mut at = path;
        while let Some((parent, _)) = at.rsplit_once('/') {
            dirs.insert(parent);
            at = parent;
        }
    }
    let clashes: Vec<Diagnostic> = files
        .chain([INDEX])
        .filter(|p| dirs.contains(p))
        .map(|p| {
            Diagnostic::error(format!("bundle path `{p}` would be both a file and an environment directory"))
                .hint("rename the environment directory so that it does not clash with bundle file names")
        })
        .collect();
    if clashes.is_empty() { Ok(()) } else { Err(Error::many(clashes)) }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Per environment and phase file, each object with the rule that put it there.
pub fn explain(plans: &[Plan<'_>]) -> String {
    let mut out = String::new();
    for (env, files) in layout(plans) {
        let _ = writeln!(out, "environment `{env}`");
        if files.is_empty() {
            out.push_str("  (no objects)\n");
        }
        let objects = files.iter().flat_map(|f| f.objects.iter());
        let id_width = objects.clone().map(|o| o.resource.id.to_string().chars().count()).max().unwrap_or(0);
        let target_width = objects.map(|o| o.target.address().chars().count()).max().unwrap_or(0);
        for f in &files {
            let _ = writeln!(out, "  {}  ({})", f.name, f.phase.describe());
            for o in f.objects {
                let id = o.resource.id.to_string();
                let _ = writeln!(out, "    {id:<id_width$}  {:<target_width$}  {}", o.target.address(), o.explain(),);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
