//! The waves as objects a GitOps controller runs: an Argo CD ApplicationSet
//! with a RollingSync strategy, or Flux Kustomizations chained by `dependsOn`.
//!
//! In: the [`Wave`]s and the targets of a [`Repo`], and [`ExportOptions`]. Out:
//! YAML text. Argo CD applications point at per-target bundle directories
//! (`strata bundle --per-target`): Argo CD does not follow symlinked
//! directories, so the rendered bundle is what it syncs. Flux Kustomizations
//! point at per-environment bundle directories (`strata bundle`).
//!
//! Invariants: elements are in repository order (component, then environment),
//! steps and Kustomizations in wave order; the same inputs give the same bytes.

use serde_json::{Value, json};

use crate::diag::{Diagnostic, Error};
use crate::repo::Repo;
use crate::repo::config::{MaxUpdate, Pause};
use crate::repo::waves::{self, Wave};
use crate::yaml;

/// The label carrying a target's wave on its Argo CD Application.
pub const WAVE_LABEL: &str = "strata.dev/wave";

/// Knobs of an export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The git repository Argo CD / Flux read the bundles from.
    pub repo_url: Option<String>,
    /// The revision they read (`HEAD`, a branch, a tag).
    pub revision: String,
    /// Where a bundle directory is, relative to the git repository's root, with
    /// `{component}`, `{environment}` and `{wave}` replaced.
    pub path: String,
    /// `metadata.name` of the ApplicationSet, prefix of Kustomization names.
    pub name: String,
    /// Namespace of the exported objects (`argocd`, `flux-system`).
    pub namespace: String,
    /// Where the controller reads each environment's manifests from.
    pub source: ExportSource,
}

/// What the exported objects point at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ExportSource {
    /// Bundle directories on one revision (`strata bundle`): `path` per target / environment.
    #[default]
    Bundle,
    /// Environment branches written by `strata hydrate`: `branch` (`env/{environment}`)
    /// holds the environment's bundle at `path`, its objects under `path/ENVIRONMENT/`.
    Hydrated { branch: String },
    /// The artifacts of `strata publish oci://…` (Flux only): one `OCIRepository` per
    /// environment, at the tag `strata publish` gives by default (`{environment}`,
    /// `/` as `-`); `path` is then the environment's directory inside the artifact.
    Oci {
        /// `oci://HOST/REPOSITORY`.
        url: String,
        /// The Secret holding the cosign public key (`cosign.pub`): `spec.verify`
        /// with provider `cosign` when the artifacts are signed.
        verify_secret: Option<String>,
    },
}

/// What a controller the waves are exported to runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    /// Argo CD: one ApplicationSet ([`applicationset`]).
    ArgoCd,
    /// Flux: Kustomizations ([`flux`]).
    Flux,
}

impl Controller {
    /// Where its bundle directories are by default: per target for Argo CD
    /// (`strata bundle --per-target`), per environment for Flux.
    pub fn default_path(self) -> &'static str {
        match self {
            Controller::ArgoCd => "dist/{component}/{environment}",
            Controller::Flux => "dist/{environment}",
        }
    }

    /// The namespace its objects live in by default.
    pub fn default_namespace(self) -> &'static str {
        match self {
            Controller::ArgoCd => "argocd",
            Controller::Flux => "flux-system",
        }
    }
}

/// `strata rollout export`: the waves of `repo` (checked first,
/// [`waves::resolve`]) as `controller`'s objects.
pub fn export(repo: &Repo, controller: Controller, opts: &ExportOptions) -> Result<String, Error> {
    let waves = waves::resolve(repo)?;
    match (controller, &opts.source) {
        (_, ExportSource::Hydrated { branch }) => hydrated(controller, &waves, opts, branch),
        (Controller::ArgoCd, ExportSource::Bundle) => applicationset(repo, &waves, opts),
        (Controller::Flux, ExportSource::Bundle | ExportSource::Oci { .. }) => flux(&waves, opts),
        (Controller::ArgoCd, ExportSource::Oci { .. }) => Err(Diagnostic::error(
            "`--source oci://…` is a source of `--format flux` only (Argo CD reads OCI through its own repository settings)",
        )
        .into()),
    }
}

/// `--source hydrated`: one Application (or Kustomization and GitRepository)
/// per environment, reading its branch; the objects are under `PATH/ENVIRONMENT/`
/// of the branch (`index.json`, `README.md` and `hydrator.metadata` stay outside).
fn hydrated(controller: Controller, waves: &[Wave], opts: &ExportOptions, branch: &str) -> Result<String, Error> {
    let mut by_wave: Vec<(&Wave, Vec<Value>)> = Vec::new();
    for w in waves {
        let mut envs = Vec::new();
        for env in &w.environments {
            let dir = fill(&opts.path, "", env, &w.name);
            let path = crate::source::join(dir.trim_matches('/'), env);
            envs.push(json!({"environment": env, "name": slug(env), "wave": w.name, "revision": fill(branch, "", env, &w.name), "path": path}));
        }
        by_wave.push((w, envs));
    }
    match controller {
        Controller::ArgoCd => hydrated_applicationset(&by_wave, opts),
        Controller::Flux => Ok(hydrated_flux(&by_wave, opts)),
    }
}

fn hydrated_applicationset(by_wave: &[(&Wave, Vec<Value>)], opts: &ExportOptions) -> Result<String, Error> {
    let repo_url = opts.repo_url.as_deref().ok_or_else(|| {
        Diagnostic::error("`--format applicationset` needs `--repo-url`")
            .hint("pass the git URL Argo CD reads the hydrated branches from: `--repo-url https://git.example.com/shop/config.git`")
    })?;
    let waves: Vec<Wave> = by_wave.iter().map(|(w, _)| (*w).clone()).collect();
    let elements: Vec<Value> = by_wave.iter().flat_map(|(_, envs)| envs.iter().cloned()).collect();
    let labels = json!({WAVE_LABEL: "{{.wave}}", "strata.dev/environment": "{{.name}}"});
    let doc = applicationset_doc(opts, repo_url, elements, rolling_steps(&waves), labels, json!("{{.revision}}"));
    Ok(document(&doc))
}

fn hydrated_flux(by_wave: &[(&Wave, Vec<Value>)], opts: &ExportOptions) -> String {
    let mut out = String::new();
    let mut previous: Vec<String> = Vec::new();
    for (w, envs) in by_wave {
        let mut names = Vec::new();
        for e in envs {
            let name = format!("{}-{}", opts.name, e["name"].as_str().unwrap_or_default());
            if let Some(url) = &opts.repo_url {
                out.push_str(&document(&json!({
                    "apiVersion": "source.toolkit.fluxcd.io/v1",
                    "kind": "GitRepository",
                    "metadata": {"name": name, "namespace": opts.namespace},
                    "spec": {"interval": "5m", "url": url, "ref": {"branch": e["revision"]}},
                })));
            }
            let spec = json!({
                "interval": "10m",
                "path": format!("./{}", e["path"].as_str().unwrap_or_default()),
                "prune": true,
                "sourceRef": {"kind": "GitRepository", "name": name},
            });
            out.push_str(&kustomization(&name, w, spec, &previous, opts));
            names.push(name);
        }
        if !names.is_empty() {
            previous = names;
        }
    }
    out
}

/// The waves as one ApplicationSet: a list generator with one element per
/// target, a RollingSync step per wave in order.
pub fn applicationset(repo: &Repo, waves: &[Wave], opts: &ExportOptions) -> Result<String, Error> {
    let repo_url = opts.repo_url.as_deref().ok_or_else(|| {
        Diagnostic::error("`--format applicationset` needs `--repo-url`").hint(
            "pass the git URL Argo CD reads the bundles from: `--repo-url https://git.example.com/shop/config.git`",
        )
    })?;
    check_path(&opts.path, "{component}")?;
    check_path(&opts.path, "{environment}")?;
    let mut elements = Vec::new();
    for t in repo.targets() {
        let wave = wave_of(waves, &t.environment);
        elements.push(json!({
            "component": t.component,
            "environment": t.environment,
            "name": format!("{}-{}", t.component, slug(&t.environment)),
            "wave": wave,
            "path": fill(&opts.path, &t.component, &t.environment, wave),
        }));
    }
    let labels = json!({WAVE_LABEL: "{{.wave}}", "strata.dev/component": "{{.component}}"});
    let doc = applicationset_doc(opts, repo_url, elements, rolling_steps(waves), labels, json!(opts.revision));
    Ok(document(&doc))
}

/// One RollingSync step per wave, in order (`maxUpdate` from the wave; a wave with `pause`: 0).
fn rolling_steps(waves: &[Wave]) -> Vec<Value> {
    waves
        .iter()
        .map(|w| {
            let mut step = json!({
                "matchExpressions": [{"key": WAVE_LABEL, "operator": "In", "values": [w.name]}],
            });
            let max_update = match (&w.pause, &w.max_update) {
                (Some(Pause::Manual(true)) | Some(Pause::Duration(_)), _) => Some(json!(0)),
                (_, Some(MaxUpdate::Count(n))) => Some(json!(n)),
                (_, Some(MaxUpdate::Percent(p))) => Some(json!(p)),
                _ => None,
            };
            if let Some(m) = max_update {
                step["maxUpdate"] = m;
            }
            step
        })
        .collect()
}

/// The ApplicationSet around its list elements: `labels` of each Application,
/// `revision` its `targetRevision` (a value or a `{{.revision}}` template).
fn applicationset_doc(
    opts: &ExportOptions,
    repo_url: &str,
    elements: Vec<Value>,
    steps: Vec<Value>,
    labels: Value,
    revision: Value,
) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": opts.name, "namespace": opts.namespace},
        "spec": {
            "goTemplate": true,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [{"list": {"elements": elements}}],
            "strategy": {"type": "RollingSync", "rollingSync": {"steps": steps}},
            "template": {
                "metadata": {
                    "name": "{{.name}}",
                    "labels": labels,
                },
                "spec": {
                    "project": "default",
                    "source": {
                        "repoURL": repo_url,
                        "targetRevision": revision,
                        "path": "{{.path}}",
                        "directory": {"recurse": true},
                    },
                    "destination": {"server": "https://kubernetes.default.svc"},
                },
            },
        },
    })
}

/// The waves as Flux: one Kustomization per environment, each depending on
/// every Kustomization of the wave before; a GitRepository first when
/// `repo_url` is given. A wave with `pause` is `suspend: true` (`flux resume`
/// starts it).
pub fn flux(waves: &[Wave], opts: &ExportOptions) -> Result<String, Error> {
    check_path(&opts.path, "{environment}")?;
    if opts.path.contains("{component}") {
        return Err(Diagnostic::error(
            "`--format flux` makes one Kustomization per environment: `--path` cannot use `{component}`",
        )
        .hint("point `--path` at a per-environment bundle (`strata bundle --out dist`): `--path dist/{environment}`")
        .into());
    }
    let mut out = String::new();
    if let (ExportSource::Bundle, Some(url)) = (&opts.source, &opts.repo_url) {
        out.push_str(&document(&json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": opts.name, "namespace": opts.namespace},
            "spec": {"interval": "5m", "url": url, "ref": {"branch": opts.revision}},
        })));
    }
    let mut previous: Vec<String> = Vec::new();
    for w in waves {
        let mut names = Vec::new();
        for env in &w.environments {
            let name = format!("{}-{}", opts.name, slug(env));
            let mut spec = json!({
                "interval": "10m",
                "path": format!("./{}", fill(&opts.path, "", env, &w.name).trim_start_matches("./")),
                "prune": true,
                "sourceRef": {"kind": "GitRepository", "name": opts.name},
            });
            if let ExportSource::Oci { url, verify_secret } = &opts.source {
                out.push_str(&oci_repository(&name, env, url, verify_secret.as_deref(), opts));
                spec["sourceRef"] = json!({"kind": "OCIRepository", "name": name});
            }
            out.push_str(&kustomization(&name, w, spec, &previous, opts));
            names.push(name);
        }
        if !names.is_empty() {
            previous = names;
        }
    }
    Ok(out)
}

/// One environment's Flux `Kustomization` of wave `w`: `spec` plus `dependsOn` the
/// previous wave's Kustomizations and `suspend` when the wave pauses first.
fn kustomization(name: &str, w: &Wave, mut spec: Value, previous: &[String], opts: &ExportOptions) -> String {
    if !previous.is_empty() {
        spec["dependsOn"] = Value::Array(previous.iter().map(|n| json!({"name": n})).collect());
    }
    if matches!(w.pause, Some(Pause::Manual(true)) | Some(Pause::Duration(_))) {
        spec["suspend"] = json!(true);
    }
    document(&json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": opts.namespace, "labels": {WAVE_LABEL: w.name}},
        "spec": spec,
    }))
}

/// The `OCIRepository` of one environment's artifact (tag `{environment}`, `/` as `-`).
fn oci_repository(
    name: &str,
    environment: &str,
    url: &str,
    verify_secret: Option<&str>,
    opts: &ExportOptions,
) -> String {
    let mut spec = json!({
        "interval": "5m",
        "url": url,
        "ref": {"tag": environment.replace('/', "-")},
    });
    if let Some(secret) = verify_secret {
        spec["verify"] = json!({"provider": "cosign", "secretRef": {"name": secret}});
    }
    document(&json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": {"name": name, "namespace": opts.namespace},
        "spec": spec,
    }))
}

fn document(v: &Value) -> String {
    let mut out = String::from("---\n");
    yaml::write_document(&mut out, v);
    out
}

fn check_path(path: &str, placeholder: &str) -> Result<(), Error> {
    if path.contains(placeholder) {
        return Ok(());
    }
    Err(Diagnostic::error(format!("`--path {path}` does not contain `{placeholder}`"))
        .hint("each target needs its own directory: `--path dist/{component}/{environment}`")
        .into())
}

/// The wave holding `environment` (the resolved waves hold every environment).
fn wave_of<'w>(waves: &'w [Wave], environment: &str) -> &'w str {
    waves.iter().find(|w| w.environments.iter().any(|e| e == environment)).map_or("", |w| w.name.as_str())
}

fn fill(template: &str, component: &str, environment: &str, wave: &str) -> String {
    template.replace("{component}", component).replace("{environment}", environment).replace("{wave}", wave)
}

/// `prod/westus` → `prod-westus`: a name Kubernetes accepts.
pub fn slug(environment: &str) -> String {
    environment.replace(['/', '_', '.'], "-").to_lowercase()
}
