//! The pipeline driver: `Source → Repo → Values → Rendered → Resources →
//! Patched → Namespaced → Tracked → Compiled`.
//!
//! In: a loaded [`Repo`], the selected targets and [`Options`]. Out: [`Compiled`],
//! each target's resources in a deterministic order plus the warnings found.
//! The driver only calls the stages in order ([`render_target`] for one target)
//! and shares work between targets: each version directory is loaded and its
//! templates compiled once, each `parameters.yaml` parsed once ([`Memo`]);
//! targets render in parallel and come back in repository order. What a stage
//! decides (layer precedence, the namespace, labels) lives in that stage.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use crate::compiled::{self, Compiled, CompiledTarget};
use crate::diag::{Diagnostic, Error};
use crate::manifest::Resource;
use crate::render::{Limits, ReadTracker, TargetContext, VersionEnv};
use crate::repo::{Repo, Target};
use crate::source::SourceInfo;
use crate::values::{self, Layer, Values, ValuesFile};
use crate::{namespace, patch, tracking};

/// Knobs of one compilation.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--values FILE`: (display path, text), in order.
    pub values_files: Vec<(String, String)>,
    /// `--set` expressions, in order.
    pub set: Vec<String>,
    /// `--set-string` expressions, in order.
    pub set_string: Vec<String>,
    /// Unread parameters are errors instead of warnings.
    pub strict: bool,
    pub limits: Limits,
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
    command_line: Vec<Layer>,
}

/// One target's render and what it read.
struct Rendered {
    resources: Vec<Resource>,
    tracker: Arc<ReadTracker>,
    layers: Vec<Layer>,
}

/// Runs the pipeline over `targets` (all from `repo`).
pub fn compile(repo: &Repo, targets: &[&Target], opts: &Options) -> Result<Compiled, Error> {
    let command_line = values::command_line_layers(&opts.values_files, &opts.set, &opts.set_string)?;
    let shared = Shared { repo, opts, info: repo.fs.info(), versions: Memo::new(), files: Memo::new(), command_line };
    let results: Vec<Result<Rendered, Error>> = targets.par_iter().map(|t| render_target(&shared, t)).collect();

    let mut diags = Vec::new();
    let mut rendered = Vec::new();
    for (t, r) in targets.iter().zip(results) {
        match r {
            Ok(r) => rendered.push(((*t).clone(), r)),
            Err(e) => diags.extend(e.diagnostics),
        }
    }
    if !diags.is_empty() {
        return Err(Error::many(dedup(diags)));
    }

    let warnings = values::unread_parameters(
        rendered.iter().map(|(_, r)| (&r.layers[..], |leaf: &[String]| r.tracker.was_read(leaf))),
    );
    if opts.strict && !warnings.is_empty() {
        return Err(values::unread::as_errors(warnings));
    }
    let targets: Vec<CompiledTarget> =
        rendered.into_iter().map(|(target, r)| CompiledTarget { target, resources: r.resources }).collect();
    compiled::check_duplicates(&targets)?;
    Ok(Compiled { targets, warnings, info: shared.info })
}

fn dedup(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    // A broken version used by several targets is reported once.
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.message.clone(), d.path.clone(), d.pos)));
    diags
}

impl Shared<'_> {
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

/// One target through every stage, in order.
fn render_target(shared: &Shared<'_>, t: &Target) -> Result<Rendered, Error> {
    let (repo, address) = (shared.repo, format!("{} (version {})", t.address(), t.version));
    let version = shared.version(&t.version_dir)?;
    let defaults = ValuesFile { text: version.defaults_text.clone(), data: version.defaults.clone() };
    let layers = values::layers_for(repo, t, defaults, &|path| shared.parameters(path), &shared.command_line)?;
    let values = Values::merge(layers);
    values::layers::validate_version_schema(&values, version.schema.as_deref())
        .map_err(|e| e.note(format!("rendering {address}")))?;

    let ns = namespace::for_target(&values.merged, repo.component(&t.component).map(|c| &c.config));
    let (tracker, merged, kube) =
        (Arc::new(ReadTracker::default()), Arc::new(values.merged.clone()), repo.config.kube_version.as_deref());
    let cx = TargetContext::for_target(t, merged, tracker.clone(), ns.as_deref(), &shared.info, kube, &address);
    let mut resources = version.render(&cx)?;
    namespace::set_default(&mut resources, ns.as_deref());
    let patch_opts = patch::ApplyOptions { default_namespace: ns.clone() };
    let mut resources = patch::apply_target(&repo.fs, &t.dir, resources, &patch_opts, &address)?;
    tracking::label_target(&mut resources, repo.config.tracking.as_ref(), &t.address())?;
    Ok(Rendered { resources, tracker, layers: values.layers })
}
