//! The cluster edge: comparing renders with a running Kubernetes cluster.
//!
//! In: a [`crate::compiled::Compiled`] render, a kubeconfig and context. Out: a
//! [`report::LiveReport`] of what applying each environment's bundle would
//! create, update, leave unchanged, prune, or conflict on.
//!
//! The network lives in [`connect`] (kube-rs client) and [`request`] (the
//! requests, behind a read-only guard); the decisions are pure functions:
//! [`discovery::resolve`], [`normalize`], [`crate::tracking`] (labels), and the comparison in
//! [`live`]. Invariant: strata never changes a cluster — every request is a
//! `GET` or carries `dryRun=All` ([`request::check_read_only`]). [`diff_live`]
//! is what `strata diff --live` calls: it opens the work tree or a revision,
//! compiles the selected targets and compares them ([`diff_report`]).

pub mod connect;
pub mod discovery;
pub mod live;
pub mod normalize;
pub mod report;
pub mod request;

pub use connect::{Cluster, KubeOptions};
pub use live::LiveOptions;
pub use report::LiveReport;

use std::collections::BTreeSet;
use std::path::Path;

use crate::compiled::Compiled;
use crate::diag::{Diagnostic, Error};
use crate::diff::CompareOptions;
use crate::repo::Repo;
use crate::{pipeline, repo};

/// What `strata diff --live` renders and where it compares it.
#[derive(Debug, Clone, Default)]
pub struct LiveDiffOptions {
    /// `--ref REV`: render this git revision instead of the work tree.
    pub reference: Option<String>,
    /// Target selectors (`shop/eastus`, `@eastus`); all targets when empty.
    pub selectors: Vec<String>,
    /// Values files, `--set`, `--strict`.
    pub values: pipeline::Options,
    /// The kubeconfig and context.
    pub kube: KubeOptions,
    pub compare: CompareOptions,
}

/// A live diff's report and the render's warnings.
#[derive(Debug)]
pub struct LiveDiff {
    pub report: crate::diff::Report,
    pub warnings: Vec<Diagnostic>,
}

/// `strata diff --live`: renders the selected targets of the repository at
/// `root` (its work tree, or the revision `opts.reference`, named in errors as
/// given with `--ref`) and compares them with the cluster.
pub fn diff_live(root: &Path, opts: &LiveDiffOptions) -> Result<LiveDiff, Error> {
    // Every target is discovered: those not selected keep their objects (no prunes).
    let opened = repo::open::open_at(root, "--ref", opts.reference.as_deref(), &[])?;
    let (repo, label) = (opened.repo, opened.label);
    let targets = repo.select(&opts.selectors)?;
    let compiled = pipeline::compile(&repo, &targets, &opts.values)?;
    let report = diff_report(&repo, &compiled, &label, &opts.kube, &opts.compare)?;
    Ok(LiveDiff { report, warnings: compiled.warnings })
}

/// `strata diff --live`: compares `compiled` (the render of targets of `repo`,
/// named `label`: `work tree`, `v1.4`) with the cluster `kube` names, as a
/// [`crate::diff::Report`] for the same renderers as a diff between revisions.
pub fn diff_report(
    repo: &Repo,
    compiled: &Compiled,
    label: &str,
    kube: &KubeOptions,
    compare: &CompareOptions,
) -> Result<crate::diff::Report, Error> {
    // The repository's other targets in these environments keep their objects.
    let selected: BTreeSet<String> = compiled.targets.iter().map(|t| t.target.address()).collect();
    let environments: BTreeSet<&str> = compiled.targets.iter().map(|t| t.target.environment.as_str()).collect();
    let others: Vec<&crate::repo::Target> = repo
        .targets()
        .filter(|t| environments.contains(t.environment.as_str()) && !selected.contains(&t.address()))
        .collect();
    let unselected = others.iter().map(|t| crate::tracking::label_value(&t.address())).collect();
    let partial = others.iter().map(|t| t.environment.clone()).collect();
    let opts = LiveOptions {
        ignore: repo.config.ignore_differences.clone(),
        show_secrets: compare.show_secrets,
        tracking: compiled.tracking.clone(),
        unselected,
        partial,
        ..LiveOptions::default()
    };
    let live = live::run(compiled, kube, &opts)?;
    Ok(live.to_diff_report_as(&compiled.info, label))
}
