//! The pipeline: `Source → Repo → Values → Rendered → Resources → Patched → Ordered`.
//!
//! In: a loaded [`Repo`], the selected targets and [`Options`]. Out: [`Compiled`],
//! each target's resources in a deterministic order plus the warnings found.
//! Work is shared between targets: each version directory is loaded and its
//! templates compiled once, each values file parsed once; targets render in
//! parallel and come back in repository order.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use serde_json::Value;

use crate::cluster::tracking;
use crate::diag::{Diagnostic, Error};
use crate::manifest::{self, Resource};
use crate::render::{Limits, ReadTracker, TargetContext, VersionEnv};
use crate::repo::{self, Repo, Target};
use crate::source::{self, SourceInfo};
use crate::values::{self, Layer, LayerKind, Values};

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

/// One target's output.
#[derive(Debug, Clone)]
pub struct CompiledTarget {
    pub target: Target,
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone)]
pub struct Compiled {
    pub targets: Vec<CompiledTarget>,
    pub warnings: Vec<Diagnostic>,
    pub info: SourceInfo,
}

impl Compiled {
    /// The environments in the output, sorted, each with its targets' resources.
    pub fn environments(&self) -> BTreeMap<&str, Vec<&CompiledTarget>> {
        let mut out: BTreeMap<&str, Vec<&CompiledTarget>> = BTreeMap::new();
        for t in &self.targets {
            out.entry(t.target.environment.as_str()).or_default().push(t);
        }
        out
    }

    /// Every resource, target by target.
    pub fn resources(&self) -> impl Iterator<Item = (&CompiledTarget, &Resource)> {
        self.targets.iter().flat_map(|t| t.resources.iter().map(move |r| (t, r)))
    }
}

/// A memo table whose values are computed once, outside the lock.
pub struct Memo<V> {
    map: Mutex<HashMap<String, Arc<OnceLock<V>>>>,
}

impl<V: Clone> Memo<V> {
    pub fn new() -> Self {
        Memo { map: Mutex::new(HashMap::new()) }
    }

    pub fn get(&self, key: &str, init: impl FnOnce() -> V) -> V {
        let cell = {
            let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
            m.entry(key.to_string()).or_default().clone()
        };
        cell.get_or_init(init).clone()
    }
}

impl<V: Clone> Default for Memo<V> {
    fn default() -> Self {
        Self::new()
    }
}

type Parsed = Result<Option<(Arc<str>, Arc<Value>)>, Error>;

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
    parameter_layers: Vec<Layer>,
}

/// Runs the pipeline over `targets` (all from `repo`).
pub fn compile(repo: &Repo, targets: &[&Target], opts: &Options) -> Result<Compiled, Error> {
    let command_line = command_line_layers(opts)?;
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

    let mut warnings = unread_parameters(&rendered);
    if opts.strict && !warnings.is_empty() {
        for w in &mut warnings {
            w.severity = crate::diag::Severity::Error;
            w.hints.push("`--strict` makes unread parameters errors".to_string());
        }
        return Err(Error::many(warnings));
    }

    let mut out = Vec::with_capacity(rendered.len());
    for (target, r) in rendered {
        out.push(CompiledTarget { target, resources: r.resources });
    }
    // Duplicates: two objects with one identity in one environment.
    let mut dup = Vec::new();
    for (env, ts) in group_by_env(&out) {
        dup.extend(manifest::check_duplicates(
            ts.iter().flat_map(|t| t.resources.iter()),
            &format!("environment `{env}`"),
        ));
    }
    if !dup.is_empty() {
        return Err(Error::many(dup));
    }
    Ok(Compiled { targets: out, warnings, info: shared.info })
}

fn group_by_env(targets: &[CompiledTarget]) -> BTreeMap<&str, Vec<&CompiledTarget>> {
    let mut out: BTreeMap<&str, Vec<&CompiledTarget>> = BTreeMap::new();
    for t in targets {
        out.entry(t.target.environment.as_str()).or_default().push(t);
    }
    out
}

fn dedup(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    // A broken version used by several targets is reported once.
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.message.clone(), d.path.clone(), d.pos)));
    diags
}

fn command_line_layers(opts: &Options) -> Result<Vec<Layer>, Error> {
    let mut layers = Vec::new();
    for (path, text) in &opts.values_files {
        let data = values::parse_values_file(text, path)?;
        layers.push(Layer {
            kind: LayerKind::ValuesFile,
            origin: Arc::from(path.as_str()),
            text: Some(Arc::from(text.as_str())),
            prefix: vec![],
            data: Arc::new(data),
        });
    }
    for (exprs, typed, flag) in [(&opts.set, true, "--set"), (&opts.set_string, false, "--set-string")] {
        for e in exprs {
            layers.push(Layer {
                kind: LayerKind::Set,
                origin: Arc::from(format!("{flag} {e}").as_str()),
                text: None,
                prefix: vec![],
                data: Arc::new(values::set::parse(e, typed)?),
            });
        }
    }
    Ok(layers)
}

fn parse_cached(shared: &Shared<'_>, path: &str) -> Parsed {
    shared.files.get(path, || {
        let Some(text) = shared.repo.fs.read_optional(path)? else { return Ok(None) };
        let data = values::parse_values_file(&text, path)?;
        Ok(Some((Arc::from(text.as_str()), Arc::new(data))))
    })
}

fn render_target(shared: &Shared<'_>, t: &Target) -> Result<Rendered, Error> {
    let repo = shared.repo;
    let version = shared
        .versions
        .get(&t.version_dir, || VersionEnv::load(&repo.fs, &t.version_dir, shared.opts.limits).map(Arc::new))?;

    // Layers, lowest precedence first.
    let mut layers = vec![Layer {
        kind: LayerKind::Defaults,
        origin: Arc::from(source::join(&t.version_dir, "values.yaml").as_str()),
        text: version.defaults_text.clone(),
        prefix: vec![],
        data: version.defaults.clone(),
    }];
    let strata_text = repo.config_text.clone();
    if let Some(v) = &repo.config.values {
        layers.push(Layer {
            kind: LayerKind::Repo,
            origin: Arc::from(repo::REPO_CONFIG),
            text: strata_text.clone(),
            prefix: vec!["values".into()],
            data: Arc::new(v.clone()),
        });
    }
    if let Some(v) = repo.config.environments.get(&t.environment).and_then(|e| e.values.as_ref()) {
        layers.push(Layer {
            kind: LayerKind::Repo,
            origin: Arc::from(repo::REPO_CONFIG),
            text: strata_text.clone(),
            prefix: vec!["environments".into(), t.environment.clone(), "values".into()],
            data: Arc::new(v.clone()),
        });
    }
    let mut dir = t.component.clone();
    let mut parameter_layers = Vec::new();
    let env_parts: Vec<&str> = t.environment.split('/').collect();
    for i in 0..=env_parts.len() {
        if i > 0 {
            dir = source::join(&dir, env_parts[i - 1]);
        }
        let path = source::join(&dir, repo::PARAMETERS);
        if let Some((text, data)) = parse_cached(shared, &path)? {
            let l = Layer {
                kind: LayerKind::Parameters,
                origin: Arc::from(path.as_str()),
                text: Some(text),
                prefix: vec![],
                data,
            };
            parameter_layers.push(l.clone());
            layers.push(l);
        }
    }
    layers.extend(shared.command_line.iter().cloned());
    for l in &layers {
        if !l.data.is_object() {
            return Err(Diagnostic::error(format!("values in `{}` must be a mapping", l.origin))
                .at(l.origin.to_string())
                .into());
        }
    }
    let values = Values::merge(layers);

    if let Some(schema) = &version.schema {
        let schema_path = source::join(&t.version_dir, "values.schema.json");
        values::validate_schema(&values, schema, &schema_path)
            .map_err(|ds| Error::many(ds).note(format!("rendering {} (version {})", t.address(), t.version)))?;
    }

    let component = repo.component(&t.component).map(|c| &c.config);
    let namespace = values
        .merged
        .get("namespace")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| component.and_then(|c| c.namespace.clone()));
    let address = format!("{} (version {})", t.address(), t.version);
    let tracker = Arc::new(ReadTracker::default());
    let target_name = source::file_name(&t.environment);
    let cx = TargetContext {
        values: Arc::new(values.merged.clone()),
        tracker: tracker.clone(),
        release_name: &t.component,
        namespace: namespace.as_deref().unwrap_or("default"),
        component: &t.component,
        version: &t.version,
        target_name,
        environment: &t.environment,
        target_path: &t.dir,
        repo: &shared.info,
        kube_version: repo.config.kube_version.as_deref().unwrap_or("1.33.0"),
        address: &address,
    };
    let mut resources = version.render(&cx)?;
    if let Some(ns) = &namespace {
        set_default_namespace(&mut resources, ns);
    }
    // Patched: the target's kustomization.yaml, if any (section 4 of the contract).
    if let Some(k) = crate::patch::load(&repo.fs, &t.dir)? {
        let opts = crate::patch::ApplyOptions { default_namespace: namespace.clone() };
        resources = crate::patch::apply(resources, &k, &opts)
            .map_err(|e| e.note(format!("applying {} to {address}", k.path)))?;
    }
    // Tracking (`strata.yaml` `tracking:`): label every object with its target,
    // so that `diff --live` can find objects this target no longer renders.
    // After patching, so objects a kustomization adds are labelled too.
    if let Some(key) = tracking::label_key(repo.config.tracking.as_ref())? {
        tracking::label_resources(&mut resources, &key, &tracking::label_value(&t.address()));
    }
    Ok(Rendered { resources, tracker, parameter_layers })
}

/// Gives namespaced objects without a namespace the target's namespace, as
/// `kubectl apply -n` or an Argo CD destination would.
pub fn set_default_namespace(resources: &mut [Resource], namespace: &str) {
    let crds: Vec<Resource> = resources.iter().filter(|r| r.id.kind == "CustomResourceDefinition").cloned().collect();
    for r in resources.iter_mut() {
        if r.id.namespace.is_none() && !manifest::is_cluster_scoped(&r.id.group, &r.id.kind, &crds) {
            let meta = r.metadata_mut();
            // Keep `namespace` next to `name`, where people look for it.
            let at = meta.keys().position(|k| k == "name").map(|i| i + 1).unwrap_or(meta.len());
            meta.shift_insert(at, "namespace".into(), Value::String(namespace.to_string()));
            r.id.namespace = Some(namespace.to_string());
        }
    }
}

/// Parameters a target's `parameters.yaml` sets that no template of any target
/// using that file read.
fn unread_parameters(rendered: &[(Target, Rendered)]) -> Vec<Diagnostic> {
    // (file, leaf path) → read by some target?
    let mut seen: BTreeMap<(String, Vec<String>), (bool, Layer)> = BTreeMap::new();
    for (_, r) in rendered {
        for l in &r.parameter_layers {
            for leaf in values::leaf_paths(&l.data) {
                if leaf.len() == 1 && leaf[0] == "namespace" {
                    continue; // strata itself reads it
                }
                let read = r.tracker.was_read(&leaf);
                let e = seen.entry((l.origin.to_string(), leaf)).or_insert((false, l.clone()));
                e.0 |= read;
            }
        }
    }
    let mut out = Vec::new();
    for ((file, leaf), (read, layer)) in seen {
        if read {
            continue;
        }
        let dotted = leaf.join(".");
        let mut d = Diagnostic::warning(format!("parameter `{dotted}` is set but no template reads it"));
        match (layer.position(&leaf), &layer.text) {
            (Some((l, c)), Some(text)) => {
                let len = leaf.last().map(|k| k.chars().count()).unwrap_or(1);
                d = d.at(file.clone()).with_source_line(text, l, c, len, "not read by any template");
            }
            _ => d = d.at(file.clone()),
        }
        d = d.hint("check the spelling against the version's values.yaml, or remove it");
        out.push(d);
    }
    out.sort_by(|a, b| (&a.path, a.pos).cmp(&(&b.path, b.pos)));
    out
}
