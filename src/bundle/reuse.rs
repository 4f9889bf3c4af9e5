//! Whole environments from the render cache (`--cache`): a bundle keys each
//! environment by the keys of its targets ([`crate::cache::Cache::key`]) and
//! the components' `dependsOn` graph, and keeps the environment's files with
//! its `index.json` entry under that key. An environment whose key is found is
//! neither rendered, ordered nor written again: its files come back as stored,
//! and its targets only load their parameter layers (the unread-parameter
//! warnings count every target). A bundle after a commit that changes one
//! target renders, orders and writes that target's environment only.
//!
//! Equal keys give equal files: a target's key covers everything its objects
//! come from, and an environment's files are a function of its targets'
//! objects, the graph (which orders components) and `strata.yaml` (in every
//! target key). An environment is stored only when each of its targets has a
//! key and rendered without warnings (a hit has none to report). An entry that
//! does not hold together (checksum, shape, other targets) is a miss.

use std::collections::{BTreeMap, HashSet};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{EnvIndex, Part};
use crate::cache::Key;
use crate::diag::Error;
use crate::pipeline::{Options, Reuse};
use crate::repo::{Repo, Target};
use crate::values::unread::Leaves;

/// What an environment's entry is; a change here invalidates every one.
const TAG: &str = "strata-bundle-environment 1";

/// The environments of a bundle run with the cache on.
pub(super) struct Environments {
    /// What the compilation skips and keeps ([`Reuse`]).
    pub reuse: Reuse,
    /// Environments whose files came from the cache.
    hits: HashSet<String>,
    /// Environments to store once rendered: their key and target addresses.
    to_store: BTreeMap<String, (Key, Vec<String>)>,
}

/// An entry's first line (JSON); the files' texts follow, one after another.
#[derive(Serialize)]
struct Meta<'a> {
    objects: usize,
    index: &'a EnvIndex,
    /// Bytes of each file's text, in `index.files` order.
    sizes: Vec<usize>,
    /// Target address → its share in the unread-parameter warnings.
    read: &'a BTreeMap<String, Leaves>,
}

/// What a hit gives besides its part.
struct Loaded {
    objects: usize,
    read: BTreeMap<String, Leaves>,
}

#[derive(Deserialize)]
struct LoadedMeta {
    objects: usize,
    index: EnvIndex,
    sizes: Vec<usize>,
    read: BTreeMap<String, Leaves>,
}

/// Keys every environment of `targets` and hands each one the cache holds to
/// `hit` (its part and object count), in environment order; `None` when the
/// cache is off.
pub(super) fn open(
    repo: &Repo,
    targets: &[&Target],
    opts: &Options,
    mut hit: impl FnMut(Part, usize) -> Result<(), Error>,
) -> Result<Option<Environments>, Error> {
    let Some(cache) = opts.open_cache(repo) else { return Ok(None) };
    let keys: Vec<Option<Key>> = targets.par_iter().map(|t| cache.key(t)).collect();
    let mut by_env: BTreeMap<&str, Vec<(String, Option<Key>)>> = BTreeMap::new();
    for (t, k) in targets.iter().zip(keys) {
        by_env.entry(&t.environment).or_default().push((t.address(), k));
    }
    let graph = graph(repo);
    let keyed: Vec<(String, Key, Vec<String>)> = by_env
        .into_iter()
        .filter_map(|(env, members)| {
            let mut parts: Vec<&[u8]> = vec![graph.as_bytes()];
            for (address, key) in &members {
                parts.extend([address.as_bytes(), key.as_ref()?.as_str().as_bytes()]);
            }
            let key = cache.derived_key(TAG, parts)?;
            Some((env.to_string(), key, members.into_iter().map(|(a, _)| a).collect()))
        })
        .collect();
    let mut envs = Environments { reuse: Reuse::new(cache.clone()), hits: HashSet::new(), to_store: BTreeMap::new() };
    // A few entries at a time, read in parallel and handed over in order.
    for chunk in keyed.chunks(2 * rayon::current_num_threads().max(1)) {
        let loaded: Vec<Option<(Part, Loaded)>> =
            chunk.par_iter().map(|(env, key, members)| load(&cache.get_sealed(TAG, key)?, env, members)).collect();
        for ((env, key, members), got) in chunk.iter().zip(loaded) {
            match got {
                Some((part, meta)) => {
                    envs.reuse.layers_only.extend(meta.read);
                    envs.hits.insert(env.clone());
                    hit(part, meta.objects)?;
                }
                None => {
                    envs.reuse.record.insert(env.clone());
                    envs.to_store.insert(env.clone(), (key.clone(), members.clone()));
                }
            }
        }
    }
    Ok(Some(envs))
}

impl Environments {
    /// Whether `environment`'s files came from the cache (it is not to be written again).
    pub(super) fn is_hit(&self, environment: &str) -> bool {
        self.hits.contains(environment)
    }

    /// Stores a rendered environment's `part` (one environment, `objects`
    /// objects) when it may be: all its targets keyed, none warned.
    pub(super) fn store(&self, part: &Part, objects: usize) {
        let (Some(cache), [(env, index)]) = (&self.reuse.cache, &part.environments[..]) else { return };
        let Some((key, members)) = self.to_store.get(env) else { return };
        if self.reuse.warned(env) {
            return;
        }
        let Some(read) = members.iter().map(|m| Some((m.clone(), self.reuse.leaves(m)?))).collect() else {
            return;
        };
        let sizes = part.files.iter().map(|(_, text)| text.len()).collect();
        let Ok(mut head) = serde_json::to_vec(&Meta { objects, index, sizes, read: &read }) else { return };
        head.push(b'\n');
        let mut parts: Vec<&[u8]> = vec![&head];
        parts.extend(part.files.iter().map(|(_, text)| text.as_bytes()));
        cache.put_sealed(TAG, key, &parts);
    }
}

/// The components' `dependsOn` graph as text (it orders an environment's components).
fn graph(repo: &Repo) -> String {
    let mut edges: Vec<(&str, &[String])> = repo.depends_on().collect();
    edges.sort();
    serde_json::to_string(&edges).unwrap_or_default()
}

/// The part stored in `body` for environment `env` of targets `members`;
/// `None` when it does not hold together.
fn load(body: &[u8], env: &str, members: &[String]) -> Option<(Part, Loaded)> {
    let newline = body.iter().position(|b| *b == b'\n')?;
    let LoadedMeta { objects, index, sizes, read } = serde_json::from_slice(&body[..newline]).ok()?;
    let same_targets = read.len() == members.len() && members.iter().all(|m| read.contains_key(m));
    if index.dir != env || !same_targets || sizes.len() != index.files.len() {
        return None;
    }
    let mut rest = &body[newline + 1..];
    let mut files = Vec::with_capacity(sizes.len());
    for (f, &n) in index.files.iter().zip(&sizes) {
        let (text, tail) = rest.split_at_checked(n)?;
        files.push((f.path.clone(), String::from_utf8(text.to_vec()).ok()?));
        rest = tail;
    }
    if !rest.is_empty() {
        return None;
    }
    Some((Part { files, environments: vec![(env.to_string(), index)] }, Loaded { objects, read }))
}
