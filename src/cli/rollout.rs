//! `strata rollout`: plan a change wave by wave; export the waves to Argo CD or Flux.

use super::diff::Format;
use super::revision::{RevisionRangeArgs, on_arg};
use super::{Global, Outcome, ValuesArgs};
use crate::diag::{Diagnostic, Error};
use crate::repo::open;
use crate::rollout;
use crate::rollout::export::{self, Controller, ExportSource};

/// Plan a change over the rollout waves of `strata.yaml`, or export the waves.
#[derive(Debug, clap::Args)]
#[command(after_help = "Docs: docs/guide/rollout.md")]
pub struct RolloutArgs {
    #[command(subcommand)]
    pub command: RolloutCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RolloutCommand {
    Plan(PlanArgs),
    Export(ExportArgs),
}

/// What a change does to each rollout wave, in order.
///
/// Compares two revisions with the diff engine (targets whose inputs are
/// identical are counted, not rendered) and groups the result by the waves of
/// `strata.yaml` `rollout:` (all environments in one wave `all` when it has
/// none). Per wave: its environments; targets changed and unchanged; objects
/// added / changed / removed by kind; component versions that move; image
/// changes; risks, each naming the object and field: deletions (whole
/// namespaces too), CRD versions or fields removed and scope changes, changes
/// the API server refuses (workload `spec.selector`, StatefulSet fields other
/// than the updatable ones, Job `spec.template` / `spec.selector`, Service
/// `spec.clusterIP(s)`, PVC `spec` other than requests, renames applied as
/// delete + create), replicas dropping to 0, a workload losing its
/// PodDisruptionBudget; and the blast radius so far.
///
/// Exit status: 0 nothing to roll out, 1 changes, 2 error (bad waves name the
/// line of strata.yaml).
///
/// Examples:
///   strata rollout plan --from HEAD~1
///   strata rollout plan --from v1.4.0 --to v1.5.0 frontend
///   strata rollout plan --base origin/main --format markdown > comment.md
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(mut_args(on_arg("from", |a| a.help("The revision to plan from: a tag, branch, commit or `HEAD~2`"))))]
#[command(mut_args(on_arg("to", |a| a.help(
    "The revision to plan to (default: the work tree, uncommitted changes included)"
))))]
#[command(mut_args(on_arg("base", |a| a.help(
    "Plan from the merge base of REV and HEAD, like a pull request (`--base origin/main`)"
))))]
#[command(after_help = "Docs: docs/guide/rollout.md")]
pub struct PlanArgs {
    /// Targets to plan (`component/environment`, `component`, `@environment`, a glob);
    /// applied to both sides. None means every target.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    #[command(flatten)]
    pub range: RevisionRangeArgs,
    /// Output format: `text`, `markdown` (a pull-request comment under 60,000
    /// characters), `json` (documented in the README).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub values: ValuesArgs,
}

/// Print the rollout waves as an Argo CD ApplicationSet or as Flux Kustomizations.
///
/// `applicationset`: one ApplicationSet; its list generator has an element per
/// target (component, environment, wave, path of its bundle directory), each
/// Application is labelled `strata.dev/wave`, and `strategy: RollingSync` has
/// one step per wave in order (`maxUpdate` from the wave; a wave with `pause`
/// gets `maxUpdate: 0`, synced by hand). Applications point at per-target
/// bundle directories: write them with `strata bundle --per-target --out dist`.
///
/// `flux`: one Kustomization per environment, each depending on every
/// Kustomization of the wave before (a wave with `pause` is `suspend: true`),
/// pointing at per-environment bundles (`strata bundle --out dist`); with
/// `--repo-url`, a GitRepository they read from comes first.
///
/// Examples:
///   strata rollout export --format applicationset --repo-url https://git.example.com/shop/config.git
///   strata rollout export --format applicationset --repo-url URL --revision release --path deploy/{component}/{environment}
///   strata rollout export --format flux --repo-url https://git.example.com/shop/config.git
///   strata rollout export --format flux --source oci://ghcr.io/shop/config --verify-secret cosign-pub
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(after_help = "Docs: docs/guide/rollout.md")]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// The git URL the controller reads the bundles from (required for `applicationset`).
    #[arg(long, value_name = "URL")]
    pub repo_url: Option<String>,
    /// The revision it reads: Argo CD's `targetRevision`, Flux's branch.
    #[arg(long, value_name = "REV", default_value = "main")]
    pub revision: String,
    /// Bundle directory, relative to the git repository's root; `{component}`,
    /// `{environment}` and `{wave}` are replaced. Default:
    /// `dist/{component}/{environment}` (applicationset), `dist/{environment}` (flux).
    #[arg(long, value_name = "TEMPLATE")]
    pub path: Option<String>,
    /// Name of the ApplicationSet / GitRepository, prefix of Kustomization names.
    #[arg(long, default_value = "strata")]
    pub name: String,
    /// Namespace of the exported objects (default: `argocd`, `flux-system`).
    #[arg(long)]
    pub namespace: Option<String>,
    /// What the objects point at: `bundle` (default: bundle directories on `--revision`
    /// of `--repo-url`), `hydrated` (the environment branches of `strata hydrate`: one
    /// Application / Kustomization per environment reading `--branch` at `--path`,
    /// default the root), or with `--format flux` `oci://HOST/REPOSITORY`, the artifacts
    /// of `strata publish`: an `OCIRepository` per environment (tag `{environment}`),
    /// `--path` then inside the artifact (default `{environment}`).
    #[arg(long, value_name = "SOURCE", default_value = "bundle")]
    pub source: String,
    /// With `--source hydrated`: each environment's branch, as given to `strata hydrate`.
    #[arg(long, value_name = "TEMPLATE", default_value = "env/{environment}")]
    pub branch: String,
    /// With `--source oci://…`: the Secret holding the cosign public key; each
    /// `OCIRepository` gets `spec.verify` (provider `cosign`).
    #[arg(long, value_name = "SECRET")]
    pub verify_secret: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Applicationset,
    Flux,
}

impl ExportFormat {
    fn name(self) -> &'static str {
        match self {
            ExportFormat::Applicationset => "applicationset",
            ExportFormat::Flux => "flux",
        }
    }
}

pub fn run(global: &Global, args: RolloutArgs) -> Result<Outcome, Error> {
    match args.command {
        RolloutCommand::Plan(a) => plan(global, a),
        RolloutCommand::Export(a) => export(global, a),
    }
}

fn plan(global: &Global, args: PlanArgs) -> Result<Outcome, Error> {
    let sides = args.range.open(global, "strata rollout plan", &[])?;
    let (plan, warnings) = rollout::plan_sides(&sides, &args.selectors, &args.values.options()?)?;
    super::print_warnings(&warnings);
    super::write_stdout(rollout::render(&plan, args.format.into(), &command_line(&args)).as_bytes())?;
    Ok(if plan.changes() { Outcome::Found } else { Outcome::Ok })
}

fn export(global: &Global, args: ExportArgs) -> Result<Outcome, Error> {
    let repo = open::open_worktree(&global.repo, &[])?;
    let controller = match args.format {
        ExportFormat::Applicationset => Controller::ArgoCd,
        ExportFormat::Flux => Controller::Flux,
    };
    let source = match args.source.as_str() {
        "bundle" if args.verify_secret.is_none() => ExportSource::Bundle,
        "hydrated" if args.verify_secret.is_none() => ExportSource::Hydrated { branch: args.branch },
        url if url.starts_with("oci://") && controller == Controller::Flux => {
            ExportSource::Oci { url: url.to_string(), verify_secret: args.verify_secret.clone() }
        }
        other => {
            return Err(Diagnostic::error(format!(
                "`--source {other}` is not a source of `--format {}`",
                args.format.name()
            ))
            .hint("`--source` is `bundle`, `hydrated`, or with `--format flux` `oci://HOST/REPOSITORY` (`--verify-secret` needs it)")
            .into());
        }
    };
    let default_path = match source {
        ExportSource::Hydrated { .. } => "",
        ExportSource::Oci { .. } => "{environment}",
        ExportSource::Bundle => controller.default_path(),
    };
    let opts = export::ExportOptions {
        source,
        repo_url: args.repo_url,
        revision: args.revision,
        path: args.path.unwrap_or_else(|| default_path.to_string()),
        name: args.name,
        namespace: args.namespace.unwrap_or_else(|| controller.default_namespace().to_string()),
    };
    super::write_stdout(export::export(&repo, controller, &opts)?.as_bytes())?;
    Ok(Outcome::Ok)
}

/// The command that shows the whole plan, for the markdown note.
fn command_line(args: &PlanArgs) -> String {
    crate::diff::output::command_line("strata rollout plan", &args.selectors, args.range.flags())
}
