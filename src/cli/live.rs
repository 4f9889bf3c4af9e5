//! `strata diff --live`: the render against a running cluster, reported through
//! the same [`crate::diff::Report`] and renderers as a diff between revisions.

use std::path::PathBuf;

use super::revision::{RevisionArgs, on_arg};
use super::{Global, ValuesArgs};
use crate::cluster::{self, KubeOptions, LiveDiffOptions};
use crate::diag::Error;
use crate::diff::{CompareOptions, Report};

/// Where `--live` compares with (flattened into `strata diff`'s arguments).
#[derive(Debug, Clone, Default, clap::Args)]
#[command(mut_args(on_arg("reference", |a| a.requires("live").help(
    "With `--live`: render this git revision (a tag, branch, commit, `HEAD~1`) instead of the work tree: \
     what would deploying it do to the cluster?"
))))]
pub struct LiveArgs {
    /// Compare the work tree's render with a cluster: what applying each environment's
    /// bundle would create, update, prune, or conflict on. Read-only: objects are read
    /// and server-side-apply dry-run (`dryRun=All`), never changed.
    #[arg(long, conflicts_with_all = ["from", "to", "base"])]
    pub live: bool,
    #[command(flatten)]
    pub revision: RevisionArgs,
    /// The kubeconfig file (default: `KUBECONFIG`, then `~/.kube/config`).
    #[arg(long, value_name = "FILE", requires = "live")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME", requires = "live")]
    pub context: Option<String>,
}

/// The live diff of the selected targets of the work tree (or of `--ref REV`);
/// prints the render's warnings.
pub fn report(
    global: &Global,
    selectors: &[String],
    values: &ValuesArgs,
    compare: &CompareOptions,
    live: &LiveArgs,
) -> Result<Report, Error> {
    let opts = LiveDiffOptions {
        reference: live.revision.reference.clone(),
        selectors: selectors.to_vec(),
        values: values.options()?,
        kube: KubeOptions { kubeconfig: live.kubeconfig.clone(), context: live.context.clone() },
        compare: compare.clone(),
    };
    let diff = cluster::diff_live(&global.repo, &opts)?;
    super::print_warnings(&diff.warnings);
    Ok(diff.report)
}
