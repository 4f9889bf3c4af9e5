//! The pipeline driver: `Source → Repo → Values → Rendered → Resources →
//! Patched → Namespaced → Tracked → Compiled`.
//!
//! In: a loaded [`Repo`], the selected targets and [`Options`]. Out: [`Compiled`],
//! each target's resources in a deterministic order plus the warnings found
//! ([`compile`]), or the same as [`Batch`]es of whole environments handed over
//! one at a time ([`compile_each`]). One driver ([`drive`]) runs both: `compile`
//! is its one-batch case. It only calls the stages in order ([`render_target`]
//! for one target) and shares work between targets: each version directory is
//! loaded and its templates compiled once, each `parameters.yaml` parsed once
//! ([`Memo`]), the tracking settings derived once ([`Shared`]); targets render
//! in parallel and come back in the order given. The order of errors and
//! warnings is decided in one place ([`Collected::finish`]). What a stage
//! decides (layer precedence, the namespace, labels) lives in that stage.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use crate::cache::{Cache, CacheOptions};
use crate::compiled::{self, Batch, Compiled, CompiledTarget};
use crate::diag::{self, Diagnostic, Error};
use crate::manifest::{ResId, Resource};
use crate::render::{Limits, ReadTracker, TargetContext, VersionEnv};
use crate::repo::{Repo, Target};
use crate::source::SourceInfo;
use crate::tracking::{self, Tracking};
use crate::values::unread::Leaves;
use crate::values::{self, Layer, LayerKind, Unread, ValuesFile};
use crate::{namespace, patch};

/// Knobs of one compilation.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--values FILE`: (display path, text), in order.
    pub values_files: Vec<(String, String)>,
    /// `--set` expressions, in order.
    pub set: Vec<String>,
    /// `--set-string` expressions, in order.
    pub set_string: Vec<String>,
    /// Warnings (unread parameters, labels or annotations that were not strings,
    /// kustomization fields in another letter case) are errors.
    pub strict: bool,
    pub limits: Limits,
    /// `--cache DIR`: targets whose inputs are unchanged come from there ([`crate::cache`]).
    pub cache: Option<CacheOptions>,
}

impl Options {
    /// Everything here that can change a target's objects, as bytes (part of its cache key).
    fn fingerprint(&self) -> Vec<u8> {
        format!("{:?}", (&self.values_files, &self.set, &self.set_string, self.strict, &self.limits)).into_bytes()
    }

    /// The render cache of a compilation of `repo` with these options, when `--cache` is on.
    pub fn open_cache(&self, repo: &Repo) -> Option<Arc<Cache>> {
        self.cache.as_ref().map(|c| Arc::new(Cache::new(c, &repo.fs, &self.fingerprint())))
    }
}

/// What a caller of [`compile_each_reusing`] already has and wants kept: a
/// bundle whose environments come whole from the cache needs none of their
/// objects, only their targets' parameter layers (the unread-parameter
/// warnings count every target), and it stores the environments it renders
/// with what their targets read.
#[derive(Default)]
pub struct Reuse {
    /// The cache the caller keyed the targets with (their keys are kept in it).
    pub cache: Option<Arc<Cache>>,
    /// Targets (by address) not to render, with their share in the
    /// unread-parameter warnings (as stored with their environment).
    pub layers_only: HashMap<String, Leaves>,
    /// Environments whose targets' shares to keep ([`Reuse::leaves`]).
    pub record: HashSet<String>,
    kept: Mutex<HashMap<String, Leaves>>,
    warned: Mutex<HashSet<String>>,
}

impl Reuse {
    /// Nothing skipped or kept yet, with the cache the caller keyed targets with.
    pub fn new(cache: Arc<Cache>) -> Reuse {
        Reuse { cache: Some(cache), ..Reuse::default() }
    }

    /// The share of target `address` in the unread-parameter warnings, when
    /// it is of a [`Reuse::record`] environment and rendered without warnings.
    pub fn leaves(&self, address: &str) -> Option<Leaves> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner()).get(address).cloned()
    }

    /// Whether a target of `environment` warned (its environment is then not stored whole).
    pub fn warned(&self, environment: &str) -> bool {
        self.warned.lock().unwrap_or_else(|e| e.into_inner()).contains(environment)
    }

    fn keep(&self, t: &Target, r: &Rendered) {
        if !self.record.contains(&t.environment) {
            return;
        }
        if r.warnings.is_empty() {
            let leaves = Unread::leaves(&r.layers, |leaf| r.read.was_read(leaf));
            self.kept.lock().unwrap_or_else(|e| e.into_inner()).insert(t.address(), leaves);
        } else {
            self.warned.lock().unwrap_or_else(|e| e.into_inner()).insert(t.environment.clone());
        }
    }
}

/// A memo table whose values are computed once, outside the lock.
///
/// It stays in the driver: which work targets share (a version's compiled
/// templates, a parsed `parameters.yaml`) is a decision about running many
/// targets at once, not part of any stage; the stages are functions of their
/// inputs and take what they read as arguments.
struct Memo<V> {
    map: Mutex<HashMap<String, Arc<OnceLock<V>>>>,
}

impl<V: Clone> Memo<V> {
    fn new() -> Self {
        Memo { map: Mutex::new(HashMap::new()) }
    }

    fn get(&self, key: &str, init: impl FnOnce() -> V) -> V {
        let cell = {
            let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
            m.entry(key.to_string()).or_default().clone()
        };
        cell.get_or_init(init).clone()
    }

    /// Drops the value of `key` (a later `get` computes it again).
    fn forget(&self, key: &str) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// A `parameters.yaml` as parsed once for every target that reads it.
type Parsed = Result<Option<ValuesFile>, Error>;

/// Shared, per-compilation caches.
struct Shared<'r> {
    repo: &'r Repo,
    opts: &'r Options,
    info: SourceInfo,
    versions: Memo<Result<Arc<VersionEnv>, Error>>,
    files: Memo<Parsed>,
    /// How many targets still to render read each `parameters.yaml`; a file
    /// is dropped from `files` after its last reader, and listed in `settled`.
    readers: Mutex<HashMap<String, usize>>,
    /// Files whose last reader has rendered since the last batch was taken:
    /// their read leaves are let go ([`Unread::settle`]).
    settled: Mutex<Vec<String>>,
    command_line: Vec<Layer>,
    /// `strata.yaml` `tracking:`, derived once: every target's labels and every batch carry it.
    tracking: Option<Tracking>,
    cache: Option<Arc<Cache>>,
    reuse: Option<&'r Reuse>,
}

/// One target's render, what it read, and the warnings of its stages.
struct Rendered {
    resources: Vec<Resource>,
    read: Read,
    layers: Vec<Layer>,
    warnings: Vec<Diagnostic>,
    /// In place of `layers` and `read`, for a target the caller has ([`Reuse::layers_only`]).
    leaves: Option<Leaves>,
}

/// Which values a target's templates read: tracked while rendering, or the
/// parameter leaves a cache entry kept.
enum Read {
    Tracked(Arc<ReadTracker>),
    Stored(std::collections::HashSet<Vec<String>>),
}

impl Read {
    fn was_read(&self, leaf: &[String]) -> bool {
        match self {
            Read::Tracked(t) => t.was_read(leaf),
            Read::Stored(leaves) => leaves.contains(leaf),
        }
    }
}

/// Runs the pipeline over `targets` (all from `repo`): the one-batch case of
/// [`compile_each`], every target in one batch, in the order given.
pub fn compile(repo: &Repo, targets: &[&Target], opts: &Options) -> Result<Compiled, Error> {
    let shared = Shared::new(repo, opts, None)?;
    let mut batch = None;
    let warnings = drive(&shared, vec![targets.iter().copied().enumerate().collect()], |b| batch = Some(b));
    shared.finish();
    let warnings = warnings?;
    // A run without errors hands its one batch over (empty when no target is selected).
    let batch = batch.unwrap_or_else(|| shared.batch(Vec::new()));
    Ok(Compiled { batch, warnings })
}

/// A batch of [`compile_each`] closes once it holds this many targets (whole
/// environments always): enough to keep every core busy rendering, few enough
/// that a batch's objects are a small share of a large repository's.
const BATCH_TARGETS: usize = 64;

/// What [`compile_each`] returns once every batch has been handed over.
#[derive(Debug, Clone)]
pub struct Streamed {
    /// The warnings (as [`Compiled::warnings`]), known once every target has rendered.
    pub warnings: Vec<Diagnostic>,
    pub info: SourceInfo,
}

/// [`compile`] in batches of whole environments, for outputs written
/// environment by environment (`strata bundle`, `strata render` of a whole
/// repository): each [`Batch`] (its targets, environments sorted) goes to
/// `each`, in environment order, and is dropped there, so that the objects of
/// one batch, not of the repository, are held at a time. Versions and parameter
/// files are still loaded once for all batches (a parameter file is let go
/// after the last target that reads it). While `each` works on one batch, the
/// next one renders.
///
/// The errors and warnings are [`compile`]'s, in its order ([`Collected::finish`]);
/// batches keep rendering after an error so that all are reported, but none
/// goes to `each` after the first. `each` decides what to do with its own errors.
pub fn compile_each<F>(repo: &Repo, targets: &[&Target], opts: &Options, each: F) -> Result<Streamed, Error>
where
    F: FnMut(Batch) + Send,
{
    compile_each_reusing(repo, targets, opts, None, each)
}

/// [`compile_each`] with what the caller already has ([`Reuse`]): its
/// `layers_only` targets are not rendered (they come to `each` without
/// objects), and the read leaves of its `record` environments' targets are kept.
pub fn compile_each_reusing<F>(
    repo: &Repo,
    targets: &[&Target],
    opts: &Options,
    reuse: Option<&Reuse>,
    each: F,
) -> Result<Streamed, Error>
where
    F: FnMut(Batch) + Send,
{
    let shared = Shared::new(repo, opts, reuse)?;
    let warnings = drive(&shared, batches(targets), each);
    shared.finish();
    let warnings = warnings?;
    Ok(Streamed { warnings, info: shared.info })
}

/// The driver of [`compile`] and [`compile_each`]: renders `batches` in order
/// (the targets of a batch in parallel; the next batch while `each` works on
/// the last), hands each batch to `each` while nothing has failed, and returns
/// the warnings or the errors ([`Collected::finish`]).
fn drive<F>(shared: &Shared<'_>, batches: Vec<Vec<(usize, &Target)>>, mut each: F) -> Result<Vec<Diagnostic>, Error>
where
    F: FnMut(Batch) + Send,
{
    shared.count_readers(batches.iter().flatten().map(|(_, t)| *t));
    let mut collected = Collected::default();
    let mut pending: Option<Batch> = None;
    let render = |t: &Target| {
        let r = compile_target(shared, t);
        shared.done(t);
        r
    };
    for batch in batches {
        let (results, ()) = rayon::join(
            || batch.par_iter().map(|(_, t)| render(t)).collect::<Vec<_>>(),
            || {
                if let Some(b) = pending.take() {
                    each(b);
                }
            },
        );
        pending = collected.take(&batch, results).map(|targets| shared.batch(targets));
        // Every reader of these files is in `collected` now.
        for file in std::mem::take(&mut *shared.settled.lock().unwrap_or_else(|e| e.into_inner())) {
            collected.unread.settle(&file);
        }
    }
    if let Some(b) = pending {
        each(b);
    }
    // A parameter file seen only through stored leaves is read again only to quote an unread leaf's line.
    let load = |origin: &str| {
        let file = shared.parameters(origin).ok()??;
        Some(Layer {
            kind: LayerKind::Parameters,
            origin: Arc::from(origin),
            text: file.text,
            prefix: vec![],
            data: file.data,
        })
    };
    collected.finish(shared.opts.strict, load)
}

/// The targets in batches of whole environments, environments sorted, each
/// target with its index in `targets` (errors are reported in that order).
fn batches<'t>(targets: &[&'t Target]) -> Vec<Vec<(usize, &'t Target)>> {
    let mut by_env: BTreeMap<&str, Vec<(usize, &Target)>> = BTreeMap::new();
    for (i, t) in targets.iter().enumerate() {
        by_env.entry(t.environment.as_str()).or_default().push((i, t));
    }
    let mut out: Vec<Vec<(usize, &Target)>> = Vec::new();
    for env in by_env.into_values() {
        match out.last_mut() {
            Some(batch) if batch.len() < BATCH_TARGETS => batch.extend(env),
            _ => out.push(env),
        }
    }
    out
}

/// What the driver keeps between batches: errors, warnings, unread parameters.
/// The one place that decides the order of a compilation's errors and warnings.
#[derive(Default)]
struct Collected {
    /// Render errors, with the index of the target they belong to.
    failed: Vec<(usize, Vec<Diagnostic>)>,
    duplicates: Vec<Diagnostic>,
    /// The stages' own warnings (labels that were not strings, respelled fields).
    stage: Vec<Diagnostic>,
    unread: Unread,
}

impl Collected {
    /// One batch's results; its compiled targets when the batch is to go on
    /// (nothing has failed so far).
    fn take(
        &mut self,
        batch: &[(usize, &Target)],
        results: Vec<Result<Rendered, Error>>,
    ) -> Option<Vec<CompiledTarget>> {
        let mut targets = Vec::with_capacity(batch.len());
        for ((i, t), r) in batch.iter().zip(results) {
            match r {
                Ok(mut r) => {
                    self.stage.append(&mut r.warnings);
                    match &r.leaves {
                        Some(leaves) => self.unread.add_leaves(leaves),
                        None => self.unread.add(&r.layers, |leaf: &[String]| r.read.was_read(leaf)),
                    }
                    targets.push(CompiledTarget { target: (*t).clone(), resources: r.resources });
                }
                Err(e) => self.failed.push((*i, e.diagnostics)),
            }
        }
        if let Err(e) = compiled::check_duplicates(&targets) {
            self.duplicates.extend(e.diagnostics);
        }
        (self.failed.is_empty() && self.duplicates.is_empty()).then_some(targets)
    }

    /// The warnings: the stages' own (deduplicated), then the unread
    /// parameters. Or the errors, in this order: render errors of every target
    /// (in the order the targets were given, each once), else `--strict`'s
    /// warnings made errors, else duplicate identities (environments sorted).
    fn finish(mut self, strict: bool, load: impl Fn(&str) -> Option<Layer>) -> Result<Vec<Diagnostic>, Error> {
        if !self.failed.is_empty() {
            self.failed.sort_by_key(|(i, _)| *i);
            return Err(Error::many(dedup(self.failed.into_iter().flat_map(|(_, d)| d).collect())));
        }
        let mut warnings = dedup(self.stage);
        let unread = self.unread.warnings(load);
        if strict && !(warnings.is_empty() && unread.is_empty()) {
            let mut errors = diag::warnings_as_errors(warnings);
            errors.diagnostics.extend(values::unread::as_errors(unread).diagnostics);
            return Err(errors);
        }
        warnings.extend(unread);
        if !self.duplicates.is_empty() {
            return Err(Error::many(self.duplicates));
        }
        Ok(warnings)
    }
}

fn dedup(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    // A broken version used by several targets is reported once.
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.message.clone(), d.path.clone(), d.pos)));
    diags
}

impl<'r> Shared<'r> {
    fn new(repo: &'r Repo, opts: &'r Options, reuse: Option<&'r Reuse>) -> Result<Shared<'r>, Error> {
        let command_line = values::command_line_layers(&opts.values_files, &opts.set, &opts.set_string)?;
        let tracking = tracking::settings(repo.config.tracking.as_ref(), &repo.fs)?;
        let info = repo.fs.info();
        let readers = Mutex::new(HashMap::new());
        let cache = match reuse.and_then(|r| r.cache.clone()) {
            Some(cache) => Some(cache),
            None => opts.open_cache(repo),
        };
        let (versions, files) = (Memo::new(), Memo::new());
        let settled = Mutex::new(Vec::new());
        Ok(Shared { repo, opts, info, versions, files, readers, settled, command_line, tracking, cache, reuse })
    }

    /// The end of a compilation: the cache keeps to its bound.
    fn finish(&self) {
        if let Some(cache) = &self.cache {
            cache.finish();
        }
    }

    /// A batch of `targets`, with what every batch of this compilation carries.
    fn batch(&self, targets: Vec<CompiledTarget>) -> Batch {
        Batch { targets, info: self.info.clone(), tracking: self.tracking.clone() }
    }

    /// Counts the readers of every `parameters.yaml` of `targets`.
    fn count_readers<'t>(&self, targets: impl Iterator<Item = &'t Target>) {
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        for t in targets {
            for path in values::layers::parameter_files(t) {
                *readers.entry(path).or_default() += 1;
            }
        }
    }

    /// `t` has rendered: its `parameters.yaml` files that no target left reads are dropped.
    fn done(&self, t: &Target) {
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        for path in values::layers::parameter_files(t) {
            if let Some(n) = readers.get_mut(&path) {
                *n -= 1;
                if *n == 0 {
                    readers.remove(&path);
                    self.files.forget(&path);
                    self.settled.lock().unwrap_or_else(|e| e.into_inner()).push(path);
                }
            }
        }
    }

    /// The version directory's templates, loaded and compiled once.
    fn version(&self, version_dir: &str) -> Result<Arc<VersionEnv>, Error> {
        self.versions.get(version_dir, || {
            VersionEnv::load(&self.repo.fs, version_dir, self.opts.limits.with_config(self.repo.config.limits.as_ref()))
                .map(Arc::new)
        })
    }

    /// A `parameters.yaml`, read and parsed once.
    fn parameters(&self, path: &str) -> Parsed {
        self.files.get(path, || {
            let Some(text) = self.repo.fs.read_optional(path)? else { return Ok(None) };
            let data = values::parse_values_file(&text, path)?;
            Ok(Some(ValuesFile { text: Some(Arc::from(text.as_str())), data: Arc::new(data) }))
        })
    }
}

/// One target: its layers only when the caller has its objects ([`Reuse`]);
/// else from the cache when it holds the target's objects, else through every
/// stage ([`render_target`]) and then into the cache.
fn compile_target(shared: &Shared<'_>, t: &Target) -> Result<Rendered, Error> {
    let reuse = shared.reuse;
    if let Some(leaves) = reuse.and_then(|r| r.layers_only.get(&t.address())) {
        let (read, leaves) = (Read::Stored(HashSet::new()), Some(leaves.clone()));
        return Ok(Rendered { resources: Vec::new(), read, layers: Vec::new(), warnings: Vec::new(), leaves });
    }
    let r = cached_or_rendered(shared, t)?;
    if let Some(reuse) = reuse {
        reuse.keep(t, &r);
    }
    Ok(r)
}

/// One target from the cache when it holds the target's objects, else through
/// every stage and then into the cache.
fn cached_or_rendered(shared: &Shared<'_>, t: &Target) -> Result<Rendered, Error> {
    let Some(cache) = &shared.cache else { return render_target(shared, t) };
    let key = cache.key(t);
    if let Some(entry) = key.as_ref().and_then(|k| cache.get(k))
        && let Some(r) = stored(shared, t, entry.resources, entry.read_leaves)
    {
        return Ok(r);
    }
    let r = render_target(shared, t)?;
    // Stored only what an entry gives back whole: no warnings, identities that are their bodies'.
    let whole = r.warnings.is_empty() && r.resources.iter().all(|x| ResId::of(&x.body).as_ref() == Ok(&x.id));
    if let Some(key) = key.filter(|_| whole) {
        cache.put(&key, &r.resources, &read_leaves(&r));
    }
    Ok(r)
}

/// A target whose objects are known (from the cache): its parameter layers,
/// for the unread-parameter warnings, and nothing renders. `None` when the
/// layers do not load (the render then reports why).
fn stored(shared: &Shared<'_>, t: &Target, resources: Vec<Resource>, leaves: Vec<Vec<String>>) -> Option<Rendered> {
    let empty = ValuesFile { text: None, data: Arc::new(serde_json::json!({})) };
    let layers = values::layers::layers_for(shared.repo, t, empty, &|p| shared.parameters(p), &[]).ok()?;
    let layers = layers.into_iter().filter(|l| l.kind == LayerKind::Parameters).collect();
    let read = Read::Stored(leaves.into_iter().collect());
    Some(Rendered { resources, read, layers, warnings: Vec::new(), leaves: None })
}

/// The leaves of a target's parameter layers that its templates read.
fn read_leaves(r: &Rendered) -> Vec<Vec<String>> {
    r.layers
        .iter()
        .filter(|l| l.kind == LayerKind::Parameters)
        .flat_map(|l| values::leaf_paths(&l.data))
        .filter(|leaf| r.read.was_read(leaf))
        .collect()
}

/// One target through every stage, in order.
fn render_target(shared: &Shared<'_>, t: &Target) -> Result<Rendered, Error> {
    let (repo, address) = (shared.repo, format!("{} (version {})", t.address(), t.version));
    let version = shared.version(&t.version_dir)?;
    let defaults = ValuesFile { text: version.defaults_text.clone(), data: version.defaults.clone() };
    let values = values::merged_for(repo, t, defaults, &|path| shared.parameters(path), &shared.command_line)?;
    values::layers::validate_version_schema(&values, version.schema.as_deref())
        .map_err(|e| e.note(format!("rendering {address}")))?;

    let ns = namespace::for_target(&values.merged, repo.component(&t.component).map(|c| &c.config));
    let (tracker, merged, kube) =
        (Arc::new(ReadTracker::default()), Arc::new(values.merged.clone()), repo.config.kube_version.as_deref());
    let cx = TargetContext::for_target(t, merged, tracker.clone(), ns.as_deref(), &shared.info, kube, &address);
    let rendered = version.render(&cx)?;
    let (mut resources, mut warnings) = (rendered.resources, rendered.warnings);
    namespace::set_default(&mut resources, ns.as_deref());
    let patch_opts = patch::ApplyOptions { default_namespace: ns.clone() };
    let (mut resources, patch_warnings) = patch::apply_target(&repo.fs, &t.dir, resources, &patch_opts, &address)?;
    warnings.extend(patch_warnings);
    tracking::label_target(&mut resources, shared.tracking.as_ref(), t);
    Ok(Rendered { resources, read: Read::Tracked(tracker), layers: values.layers, warnings, leaves: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Fs, MemorySource};

    /// `components` × `environments` targets; `broken` environments' parameters fail to render.
    fn repo(components: usize, environments: usize, broken: &[usize]) -> Repo {
        let mut m = MemorySource::new();
        for c in 0..components {
            m.file(&format!("c{c}/v1/values.yaml"), "n: 1\n").file(
                &format!("c{c}/v1/cm.yaml"),
                &format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{c}\ndata:\n  n: \"{{{{ Values.n }}}}\"\n"
                ),
            );
            for e in 0..environments {
                m.link(&format!("c{c}/e{e:02}/templates"), "../v1");
                let params = if broken.contains(&e) { "n: [1\n" } else { "n: 2\nunused: 1\n" };
                m.file(&format!("c{c}/e{e:02}/parameters.yaml"), params);
            }
        }
        Repo::load(Fs::new(std::sync::Arc::new(m))).unwrap()
    }

    #[test]
    fn batches_hold_whole_environments_in_order() {
        let r = repo(3, 30, &[]);
        let targets = r.select(&[]).unwrap();
        let batches = batches(&targets);
        // 3 targets per environment: a batch closes at the first environment that reaches 64.
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [66, 24]);
        let envs: Vec<&str> = batches.iter().flatten().map(|(_, t)| t.environment.as_str()).collect();
        assert!(envs.is_sorted(), "{envs:?}");
        for (i, t) in batches.iter().flatten() {
            assert_eq!(targets[*i].address(), t.address());
        }
    }

    #[test]
    fn compile_each_hands_over_what_compile_makes() {
        let r = repo(3, 30, &[]);
        let targets = r.select(&[]).unwrap();
        let all = compile(&r, &targets, &Options::default()).unwrap();
        let mut seen = Vec::new();
        let streamed = compile_each(&r, &targets, &Options::default(), |c| {
            assert!(c.targets.len() <= BATCH_TARGETS + 3, "a batch holds a few environments");
            seen.push(c);
        })
        .unwrap();
        assert_eq!(seen.len(), 2);
        let mut got: Vec<(String, Vec<Resource>)> =
            seen.into_iter().flat_map(|c| c.targets).map(|t| (t.target.address(), t.resources)).collect();
        let mut want: Vec<(String, Vec<Resource>)> =
            all.batch.targets.into_iter().map(|t| (t.target.address(), t.resources)).collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got, want);
        assert_eq!(streamed.warnings.len(), 90, "one unread `unused` per parameters file");
        assert_eq!(
            streamed.warnings.iter().map(Diagnostic::render).collect::<Vec<_>>(),
            all.warnings.iter().map(Diagnostic::render).collect::<Vec<_>>()
        );
        // --strict: the same errors.
        let strict = Options { strict: true, ..Options::default() };
        let e = compile_each(&r, &targets, &strict, |_| {}).unwrap_err();
        assert_eq!(e.messages(), compile(&r, &targets, &strict).unwrap_err().messages());
    }

    #[test]
    fn compile_each_reports_every_error_in_compile_order() {
        let r = repo(3, 30, &[2, 29]);
        let targets = r.select(&[]).unwrap();
        let want = compile(&r, &targets, &Options::default()).unwrap_err();
        let mut handed = 0;
        let got = compile_each(&r, &targets, &Options::default(), |_| handed += 1).unwrap_err();
        assert_eq!(got.messages(), want.messages());
        assert_eq!(got.diagnostics.len(), 6, "{}", got.messages());
        assert_eq!(handed, 0, "no batch goes on after an error in the first");
    }

    /// The tracking settings are derived once: every batch carries them, and
    /// invalid settings are one error before anything renders.
    #[test]
    fn tracking_settings_are_derived_once_and_carried() {
        let with = |tracking: &str| {
            let mut m = MemorySource::new();
            m.file("strata.yaml", tracking)
                .file("c/v1/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
            for e in ["a", "b"] {
                m.link(&format!("c/{e}/templates"), "../v1");
            }
            Repo::load(Fs::new(std::sync::Arc::new(m))).unwrap()
        };
        let r = with("tracking:\n  enabled: true\n  repository: shop\n");
        let targets = r.select(&[]).unwrap();
        let all = compile(&r, &targets, &Options::default()).unwrap();
        assert_eq!(all.tracking.as_ref().map(|t| t.repository.as_str()), Some("shop"));
        let labels = &all.targets[0].resources[0].body["metadata"]["labels"];
        assert_eq!(labels["strata.dev/repository"], "shop", "{labels}");
        let mut carried = Vec::new();
        compile_each(&r, &targets, &Options::default(), |b| carried.push(b.tracking.is_some())).unwrap();
        assert_eq!(carried, [true]);

        let r = with("tracking:\n  enabled: true\n  label: \"bad key/x/y\"\n");
        let targets = r.select(&[]).unwrap();
        let e = compile(&r, &targets, &Options::default()).unwrap_err();
        assert_eq!(e.diagnostics.len(), 1, "{}", e.messages());
        assert!(e.messages().starts_with("invalid tracking label"), "{}", e.messages());
        assert_eq!(compile_each(&r, &targets, &Options::default(), |_| {}).unwrap_err().messages(), e.messages());
    }

    fn objects(c: &Compiled) -> Vec<(String, Vec<Resource>)> {
        c.targets.iter().map(|t| (t.target.address(), t.resources.clone())).collect()
    }

    fn entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let subdirs = std::fs::read_dir(dir.join("v1")).map(|d| d.flatten().collect::<Vec<_>>()).unwrap_or_default();
        let mut out: Vec<_> =
            subdirs.iter().flat_map(|s| std::fs::read_dir(s.path()).unwrap().flatten().map(|f| f.path())).collect();
        out.sort();
        out
    }

    /// With `--cache`, a compilation gives what it gives without, cold or warm,
    /// warnings included, and a warm one takes its objects from the cache.
    #[test]
    fn the_cache_gives_what_rendering_gives() {
        let r = repo(3, 4, &[]);
        let targets = r.select(&[]).unwrap();
        let plain = compile(&r, &targets, &Options::default()).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let cached =
            Options { cache: Some(CacheOptions { dir: tmp.path().into(), max_bytes: 1 << 30 }), ..Options::default() };
        for run in ["cold", "warm"] {
            let got = compile(&r, &targets, &cached).unwrap();
            assert_eq!(objects(&got), objects(&plain), "{run}");
            let render = |w: &[Diagnostic]| w.iter().map(Diagnostic::render).collect::<Vec<_>>();
            assert_eq!(render(&got.warnings), render(&plain.warnings), "{run}");
            assert_eq!(entries(tmp.path()).len(), 12, "{run}: one entry per target");
        }
        // The objects come from the entry: one changed (its checksum made right) is what a run gives.
        let path = &entries(tmp.path())[0];
        let text = std::fs::read_to_string(path).unwrap();
        let body = text.split_once('\n').unwrap().1.replace(r#""n":"2""#, r#""n":"changed""#);
        let sum: String =
            <sha2::Sha256 as sha2::Digest>::digest(body.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(path, format!("strata-cache 1 {sum}\n{body}")).unwrap();
        let got = compile(&r, &targets, &cached).unwrap();
        let changed = got.targets.iter().filter(|t| t.resources[0].body["data"]["n"] == "changed").count();
        assert_eq!(changed, 1);
        // A corrupt or truncated entry is rendered again and replaced.
        let whole = std::fs::read(path).unwrap();
        for damaged in [&b"strata-cache 1 0\n{}"[..], &whole[..whole.len() / 2]] {
            std::fs::write(path, damaged).unwrap();
            assert_eq!(objects(&compile(&r, &targets, &cached).unwrap()), objects(&plain));
            assert!(std::fs::read_to_string(path).unwrap().contains(r#""n":"2""#));
        }
    }

    /// Runs sharing a cache directory at the same time each give the plain output.
    #[test]
    fn concurrent_runs_share_a_cache() {
        let r = repo(4, 8, &[]);
        let targets = r.select(&[]).unwrap();
        let plain = objects(&compile(&r, &targets, &Options::default()).unwrap());
        let tmp = tempfile::tempdir().unwrap();
        // A bound below the entries' size: runs evict while others read and write.
        let cached =
            Options { cache: Some(CacheOptions { dir: tmp.path().into(), max_bytes: 4096 }), ..Options::default() };
        std::thread::scope(|s| {
            let runs: Vec<_> = (0..4).map(|_| s.spawn(|| objects(&compile(&r, &targets, &cached).unwrap()))).collect();
            for run in runs {
                assert_eq!(run.join().unwrap(), plain);
            }
        });
        let size: u64 = entries(tmp.path()).iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();
        assert!(size <= 4096, "{size}");
    }
}
