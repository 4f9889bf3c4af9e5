//! `strata diff --live`: the render against a running cluster.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use super::{Global, Outcome, ValuesArgs};
use crate::cluster::{self, KubeOptions, LiveOptions, tracking};
use crate::diag::Error;
use crate::pipeline;

/// Where `--live` compares with (flattened into `strata diff`'s arguments).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LiveArgs {
    /// Compare the render with a cluster: what applying each environment's bundle
    /// would create, update, prune, or conflict on. Read-only: objects are read and
    /// server-side-apply dry-run (`dryRun=All`), never changed.
    #[arg(long)]
    pub live: bool,
    /// The kubeconfig file (default: `KUBECONFIG`, then `~/.kube/config`).
    #[arg(long, value_name = "FILE", requires = "live")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME", requires = "live")]
    pub context: Option<String>,
}

/// Report formats of `strata diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Human-readable, coloured on a terminal (honours `NO_COLOR`).
    #[default]
    Text,
    /// A pull-request comment: summary table, collapsible details, under 60,000 characters.
    Markdown,
    Json,
}

/// Compare a render with a cluster (see `strata diff --help`).
pub fn run(global: &Global, selectors: &[String], values: &ValuesArgs, format: Format, show_secrets: bool, live: &LiveArgs) -> Result<Outcome, Error> {
    let repo = super::open_worktree(global)?;
    let targets = repo.select(selectors)?;
    let compiled = pipeline::compile(&repo, &targets, &values.options()?)?;
    super::print_warnings(&compiled.warnings);
    let opts = LiveOptions {
        ignore: repo.config.ignore_differences.clone(),
        show_secrets,
        tracking_label: tracking::label_key(repo.config.tracking.as_ref())?,
        ..LiveOptions::default()
    };
    let kube = KubeOptions { kubeconfig: live.kubeconfig.clone(), context: live.context.clone() };
    let report = cluster::live::run(&compiled, &kube, &opts)?;
    let out = match format {
        Format::Text => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            cluster::report::to_text(&report, color)
        }
        Format::Markdown => cluster::report::to_markdown(&report),
        Format::Json => cluster::report::to_json(&report),
    };
    super::write_stdout(out.as_bytes())?;
    Ok(if report.has_changes() { Outcome::Found } else { Outcome::Ok })
}

/// Show what a change would do, environment by environment.
///
/// With `--live`, compares the selected targets' render (the work tree) with a
/// cluster: each object is read and server-side-apply dry-run as field manager
/// `strata`; status, managedFields, resourceVersion, uid, generation and
/// timestamps are ignored, as are `ignoreDifferences` of strata.yaml. With
/// `tracking` on in strata.yaml, objects labelled with a target that its render
/// no longer contains are listed as `prune`. Secret values are masked unless
/// `--show-secrets`.
///
/// Exit status: 0 no difference, 1 differences, 2 error.
///
/// Examples:
///   strata diff --live @eastus
///   strata diff --live --context prod-westus --format markdown 'api/*'
///   strata diff --live --kubeconfig ~/.kube/ci.yaml --format json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DiffArgs {
    /// Targets to compare: `component/environment`, `component`, `@environment`,
    /// or a glob like `*/prod/*`. None means every target.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Show Secret values instead of `***`.
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub values: ValuesArgs,
}

/// `strata diff` until the git half (`--from`/`--to`) lands: `--live` only.
pub fn run_diff(global: &Global, args: DiffArgs) -> Result<Outcome, Error> {
    if !args.live.live {
        return Err(crate::diag::Diagnostic::error("`strata diff` needs `--live` in this build")
            .hint("run `strata diff --live` to compare with a cluster")
            .into());
    }
    run(global, &args.selectors, &args.values, args.format, args.show_secrets, &args.live)
}
