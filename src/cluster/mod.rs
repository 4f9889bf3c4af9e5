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
//! `GET` or carries `dryRun=All` ([`request::check_read_only`]). [`diff_report`]
//! is what `strata diff --live` calls.

pub mod connect;
pub mod discovery;
pub mod live;
pub mod normalize;
pub mod report;
pub mod request;

pub use connect::{Cluster, KubeOptions};
pub use live::LiveOptions;
pub use report::LiveReport;

use crate::compiled::Compiled;
use crate::diag::Error;
use crate::diff::CompareOptions;
use crate::repo::RepoConfig;

/// `strata diff --live`: compares `compiled` (rendered from a repository whose
/// `strata.yaml` is `config`) with the cluster `kube` names, as a
/// [`crate::diff::Report`] for the same renderers as a diff between revisions.
pub fn diff_report(
    compiled: &Compiled,
    config: &RepoConfig,
    kube: &KubeOptions,
    compare: &CompareOptions,
) -> Result<crate::diff::Report, Error> {
    let opts = LiveOptions {
        ignore: config.ignore_differences.clone(),
        show_secrets: compare.show_secrets,
        tracking_label: crate::tracking::label_key(config.tracking.as_ref())?,
        ..LiveOptions::default()
    };
    let live = live::run(compiled, kube, &opts)?;
    Ok(live.to_diff_report(&compiled.info))
}
