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
    /// Where Flux reads the bundles from (Flux only).
    pub source: FluxSource,
}

/// Where Flux's Kustomizations read the bundles from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FluxSource {
    /// A git repository (`--repo-url`), the bundles committed under `--path`.
    #[default]
    Git,
    /// The artifacts of `strata publish oci://…`: one `OCIRepository` per
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
    match controller {
        Controller::ArgoCd => applicationset(repo, &waves, opts),
        Controller::Flux => flux(&waves, opts),
    }
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
    let steps: Vec<Value> = waves
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
        .collect();
    let doc = json!({
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
                    "labels": {WAVE_LABEL: "{{.wave}}", "strata.dev/component": "{{.component}}"},
                },
                "spec": {
                    "project": "default",
                    "source": {
                        "repoURL": repo_url,
                        "targetRevision": opts.revision,
                        "path": "{{.path}}",
                        "directory": {"recurse": true},
                    },
                    "destination": {"server": "https://kubernetes.default.svc"},
                },
            },
        },
    });
    Ok(document(&doc))
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
    if let (FluxSource::Git, Some(url)) = (&opts.source, &opts.repo_url) {
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
            if let FluxSource::Oci { url, verify_secret } = &opts.source {
                out.push_str(&oci_repository(&name, env, url, verify_secret.as_deref(), opts));
                spec["sourceRef"] = json!({"kind": "OCIRepository", "name": name});
            }
            if !previous.is_empty() {
                spec["dependsOn"] = Value::Array(previous.iter().map(|n| json!({"name": n})).collect());
            }
            if matches!(w.pause, Some(Pause::Manual(true)) | Some(Pause::Duration(_))) {
                spec["suspend"] = json!(true);
            }
            out.push_str(&document(&json!({
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": name, "namespace": opts.namespace, "labels": {WAVE_LABEL: w.name}},
                "spec": spec,
            })));
            names.push(name);
        }
        if !names.is_empty() {
            previous = names;
        }
    }
    Ok(out)
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
