//! `strata diff --live`: the render against a running cluster, reported through
//! the same [`crate::diff::Report`] and renderers as a diff between revisions.

use std::path::PathBuf;

use super::{Global, ValuesArgs};
use crate::cluster::{self, KubeOptions, LiveOptions};
use crate::diag::Error;
use crate::diff::Report;
use crate::pipeline;
use crate::tracking;

/// Where `--live` compares with (flattened into `strata diff`'s arguments).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LiveArgs {
    /// Compare the work tree's render with a cluster: what applying each environment's
    /// bundle would create, update, prune, or conflict on. Read-only: objects are read
    /// and server-side-apply dry-run (`dryRun=All`), never changed.
    #[arg(long, conflicts_with_all = ["from", "to", "base"])]
    pub live: bool,
    /// The kubeconfig file (default: `KUBECONFIG`, then `~/.kube/config`).
    #[arg(long, value_name = "FILE", requires = "live")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME", requires = "live")]
    pub context: Option<String>,
}

/// Renders the selected targets of the work tree and compares them with the cluster.
pub fn report(
    global: &Global,
    selectors: &[String],
    values: &ValuesArgs,
    show_secrets: bool,
    live: &LiveArgs,
) -> Result<Report, Error> {
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
    let live = cluster::live::run(&compiled, &kube, &opts)?;
    Ok(live.to_diff_report(&compiled.info))
}
