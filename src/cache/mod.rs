//! The render cache (`--cache DIR`, `STRATA_CACHE`): each target's compiled
//! objects, kept between runs and reused when nothing its compilation reads
//! has changed.
//!
//! In: the [`Fs`] a compilation reads, the compile options as bytes, a target.
//! Out: the target's [`Key`], and for a key its [`Entry`] when one was stored
//! (by this run or an earlier one, of any command: `bundle`, `render`,
//! `check`, `diff` share entries).
//!
//! The key is a SHA-256 of strata's version, the cache format, the compile
//! options (`--values` files, `--set`, `--strict`, limits), the target's
//! address and directories, and every read that compiling it makes: the
//! loaders of [`inputs`] run over [`Fs::recording`] (for `strata.yaml` and each
//! version directory once per run), each read with its result (listings, link
//! texts, file bytes, missing paths). Compilation is deterministic and reads
//! only through [`Fs`], so equal keys mean equal objects. A target is not
//! cached when a read fails or a file read mentions `Repo` (the revision, which
//! the files do not fix), nor when its compilation warned (the warnings are
//! not kept).
//!
//! Besides targets' entries, a caller may store bytes under a key derived from
//! target keys ([`Cache::derived_key`], [`Cache::put_sealed`]): `bundle` keeps
//! each environment's files that way ([`crate::bundle`]'s `reuse`).
//!
//! Invariants: a run's output is byte-identical with and without the cache; a
//! cache that cannot be read or written is a miss, never an error; an entry is
//! used only when its checksum holds (a corrupt one is rendered again and
//! replaced); entries are written atomically ([`crate::atomic::write_file`]),
//! so concurrent runs sharing a directory see whole entries or none
//! ([`store`]); the directory stays under `--cache-max-size`, least recently
//! used entries out.

pub mod inputs;
mod store;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::diag::Diagnostic;
use crate::manifest::{Resource, TemplateOrigin};
use crate::repo::mentions::mentions_repo;
use crate::repo::{REPO_CONFIG, Target};
use crate::source::Fs;

/// Where the cache lives and how large it may grow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheOptions {
    pub dir: PathBuf,
    /// Bytes of entries kept at most (`--cache-max-size`).
    pub max_bytes: u64,
}

/// `--cache-max-size` when not given: 1 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// What the key covers besides the reads; a change here invalidates every entry.
const FORMAT: &str = "strata-cache 1";

/// The hash of some reads; `None` when they may not key a cache entry.
type Digest = Option<Vec<u8>>;

/// A target's cache key: a SHA-256, as hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(String);

impl Key {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A target's compiled objects as stored, and which of its parameters its
/// templates read (the unread-parameter warnings need them without rendering).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub resources: Vec<Resource>,
    /// Leaf paths of the target's parameter layers that a template read.
    pub read_leaves: Vec<Vec<String>>,
}

/// One compilation's view of the cache: the keys' shared parts computed once.
pub struct Cache {
    opts: CacheOptions,
    fs: Fs,
    /// The hash of the version, the format, the options and `strata.yaml`'s
    /// reads; `None` when nothing may be cached (`strata.yaml` mentions `Repo`).
    base: Option<Vec<u8>>,
    versions: Mutex<HashMap<String, Arc<OnceLock<Digest>>>>,
    /// Each target's key, by address, computed once per run.
    keys: Mutex<HashMap<String, Option<Key>>>,
    wrote: AtomicBool,
}

impl Cache {
    /// The cache at `opts.dir` for a compilation over `fs` with `options`
    /// (the compile options, as bytes that differ when they do).
    pub fn new(opts: &CacheOptions, fs: &Fs, options: &[u8]) -> Cache {
        let mut h = Sha256::new();
        for part in [FORMAT.as_bytes(), env!("CARGO_PKG_VERSION").as_bytes(), options] {
            field(&mut h, part);
        }
        let base = recorded(fs, &mut h, |fs| fs.read_optional(REPO_CONFIG).map(drop).map_err(drop))
            .then(|| h.finalize().to_vec());
        let versions = Mutex::new(HashMap::new());
        let fs = fs.with_kinds();
        let keys = Mutex::new(HashMap::new());
        Cache { opts: opts.clone(), fs, base, versions, keys, wrote: AtomicBool::new(false) }
    }

    /// The key of `t`, or `None` when it may not be cached; computed once per run.
    pub fn key(&self, t: &Target) -> Option<Key> {
        let address = t.address();
        if let Some(k) = lock(&self.keys).get(&address) {
            return k.clone();
        }
        let k = self.compute_key(t);
        lock(&self.keys).insert(address, k.clone());
        k
    }

    /// A key made of `parts` (a `tag` naming what it keys, then bytes that
    /// differ when what it keys does, such as target keys), under the same
    /// version, options and `strata.yaml` as every target key of this run;
    /// `None` when nothing may be cached.
    pub fn derived_key<'p>(&self, tag: &str, parts: impl IntoIterator<Item = &'p [u8]>) -> Option<Key> {
        let mut h = Sha256::new();
        field(&mut h, self.base.as_ref()?);
        field(&mut h, tag.as_bytes());
        for part in parts {
            field(&mut h, part);
        }
        Some(Key(hex(&h.finalize())))
    }

    /// The bytes stored under `key` with [`Cache::put_sealed`] and the same
    /// `tag`, when a whole entry is there (its checksum holds).
    pub fn get_sealed(&self, tag: &str, key: &Key) -> Option<Vec<u8>> {
        let mut bytes = store::read(&self.opts.dir, &key.0)?;
        let body = unseal(tag, &bytes)?.len();
        Some(bytes.split_off(bytes.len() - body))
    }

    /// Stores `parts`, one after another, under `key`, with a header naming
    /// `tag` and the checksum of the rest.
    pub fn put_sealed(&self, tag: &str, key: &Key, parts: &[&[u8]]) {
        if store::write(&self.opts.dir, &key.0, &seal(tag, parts)) {
            self.wrote.store(true, Ordering::Relaxed);
        }
    }

    fn compute_key(&self, t: &Target) -> Option<Key> {
        let base = self.base.as_ref()?;
        let version = self.version(&t.version_dir)?;
        let mut h = Sha256::new();
        for part in [&base[..], &version, t.component.as_bytes(), t.environment.as_bytes(), t.dir.as_bytes()] {
            field(&mut h, part);
        }
        field(&mut h, t.version_dir.as_bytes());
        recorded(&self.fs, &mut h, |fs| inputs::read_target(fs, t)).then(|| Key(hex(&h.finalize())))
    }

    /// The hash of a version directory's reads, once per run.
    fn version(&self, dir: &str) -> Digest {
        let cell = lock(&self.versions).entry(dir.to_string()).or_default().clone();
        cell.get_or_init(|| {
            let mut h = Sha256::new();
            recorded(&self.fs, &mut h, |fs| inputs::read_version(fs, dir)).then(|| h.finalize().to_vec())
        })
        .clone()
    }

    /// The entry stored under `key`, when there is a whole one.
    pub fn get(&self, key: &Key) -> Option<Entry> {
        decode(&self.get_sealed(FORMAT, key)?)
    }

    /// Stores a target's `resources` and `read_leaves` ([`Entry`]) under `key`;
    /// a failure to write leaves the cache as it was.
    pub fn put(&self, key: &Key, resources: &[Resource], read_leaves: &[Vec<String>]) {
        // A number JSON would not give back exactly is not stored.
        if !resources.iter().all(|r| floats_round_trip(&r.body)) {
            return;
        }
        self.put_sealed(FORMAT, key, &[&encode(resources, read_leaves)]);
    }

    /// The end of the run: when it stored entries, the least recently used
    /// ones go until the directory is under its bound.
    pub fn finish(&self) {
        if self.wrote.load(Ordering::Relaxed) {
            store::evict(&self.opts.dir, self.opts.max_bytes);
        }
    }
}

/// Parses a size: bytes, or a number with `K`, `M`, `G` (powers of 1024; `KiB`,
/// `MB`… accepted).
pub fn parse_size(text: &str) -> Result<u64, Diagnostic> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => u32::MAX,
    };
    n.parse::<u64>().ok().filter(|_| shift != u32::MAX).and_then(|n| n.checked_mul(1 << shift.min(40))).ok_or_else(
        || {
            Diagnostic::error(format!("invalid cache size `{text}`"))
                .hint("give bytes or a number with K, M or G, like `500M` or `2G`")
        },
    )
}

/// Runs `read` over `fs` with every read logged, then hashes the log into `h`:
/// false when `read` or one of its reads failed, or a file read mentions `Repo`.
fn recorded(fs: &Fs, h: &mut Sha256, read: impl FnOnce(&Fs) -> Result<(), ()>) -> bool {
    let (fs, reads) = fs.recording();
    read(&fs).is_ok() && !reads.files().iter().any(|b| mentions_repo(b)) && reads.hash_into(&mut |b| h.update(b))
}

/// Whether every float in `v` reads back from its JSON text as the same number
/// (serde_json's parser is exact for most floats, not all).
fn floats_round_trip(v: &Value) -> bool {
    match v {
        Value::Number(n) if n.is_f64() => serde_json::from_str::<Value>(&n.to_string()).ok() == Some(v.clone()),
        Value::Array(items) => items.iter().all(floats_round_trip),
        Value::Object(map) => map.values().all(floats_round_trip),
        _ => true,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `parts` one after another behind a header line: `tag`, then the checksum of the rest.
fn seal(tag: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut sum = Sha256::new();
    parts.iter().for_each(|p| sum.update(p));
    let mut out = format!("{tag} {}\n", hex(&sum.finalize())).into_bytes();
    out.reserve(parts.iter().map(|p| p.len()).sum());
    parts.iter().for_each(|p| out.extend_from_slice(p));
    out
}

/// The body of a sealed entry (`tag checksum` then the body), when its tag is
/// `tag` and its checksum holds.
fn unseal<'b>(tag: &str, bytes: &'b [u8]) -> Option<&'b [u8]> {
    let newline = bytes.iter().position(|b| *b == b'\n')?;
    let (header, body) = (std::str::from_utf8(&bytes[..newline]).ok()?, &bytes[newline + 1..]);
    let sum = header.strip_prefix(tag)?.strip_prefix(' ')?;
    (sum == hex(&Sha256::digest(body))).then_some(body)
}

fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An entry's body (sealed with [`FORMAT`]): JSON of the read leaves, and
/// each object as `[template, document, body]`.
fn encode(resources: &[Resource], read_leaves: &[Vec<String>]) -> Vec<u8> {
    let resources: Vec<(&str, usize, &Value)> =
        resources.iter().map(|r| (&*r.source.template, r.source.doc, &r.body)).collect();
    serde_json::to_vec(&Stored { read: read_leaves, resources }).expect("JSON values serialize")
}

#[derive(serde::Serialize)]
struct Stored<'a> {
    read: &'a [Vec<String>],
    resources: Vec<(&'a str, usize, &'a Value)>,
}

#[derive(serde::Deserialize)]
struct Loaded {
    read: Vec<Vec<String>>,
    resources: Vec<(String, usize, Value)>,
}

/// The entry in `body`, or `None` when its shape is wrong.
fn decode(body: &[u8]) -> Option<Entry> {
    let loaded: Loaded = serde_json::from_slice(body).ok()?;
    let mut templates: HashMap<String, Arc<str>> = HashMap::new();
    let mut resources = Vec::with_capacity(loaded.resources.len());
    for (template, doc, body) in loaded.resources {
        let template = templates.entry(template).or_insert_with_key(|t| Arc::from(t.as_str())).clone();
        resources.push(Resource::new(body, TemplateOrigin { template, doc }).ok()?);
    }
    Some(Entry { resources, read_leaves: loaded.read })
}

#[cfg(test)]
mod tests;
