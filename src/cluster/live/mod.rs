//! The live diff: each environment's render against a running cluster.
//!
//! In: a [`Compiled`] render, a [`Cluster`] and [`LiveOptions`]. Out: a
//! [`LiveReport`] saying, per environment and object, whether applying the
//! bundle would create, update, leave unchanged, prune, or conflict.
//!
//! How: discovery resolves every object's kind; each object is read (`GET`)
//! and applied as a server-side apply **dry-run**, so the desired side carries
//! exactly the defaults the server would add; both sides are normalized
//! ([`super::normalize`]) and compared. A conflict (409) is dry-run again with
//! `force=true` to say whether taking the fields over would change anything.
//! With tracking on, one list per listable kind (cluster-wide, selected by the
//! environment's and repository's labels) finds the objects the environment no
//! longer renders: of a removed target, a removed component or a removed kind.
//! With `tracking.inventory` on, the environment's inventory is compared like
//! any object, and the objects the live one names but nothing else found are
//! read in a second batch (labels removed by hand).
//!
//! The steps live in their own files: [`plan`] places the objects on the
//! cluster's API, [`fetch`] sends the requests and files each typed answer by
//! the environment and identity it is about, [`entries`] turns the answers into
//! the report (pure).
//!
//! Invariants: read-only (see [`super::request`]); all-or-nothing — any failed
//! request fails the whole diff, so a report is never partial; byte-stable
//! output for the same cluster state.

mod entries;
mod fetch;
mod plan;

use std::collections::BTreeSet;

use super::connect::{Cluster, KubeOptions};
use super::normalize;
use super::report::LiveReport;
use crate::compiled::Compiled;
use crate::diag::{Diagnostic, Error, ErrorKind};
use crate::repo::config::IgnoreRule;
use crate::tracking::Tracking;

/// Knobs of a live diff.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// `strata.yaml` `ignoreDifferences`.
    pub ignore: Vec<IgnoreRule>,
    /// `--show-secrets`: do not mask Secret values.
    pub show_secrets: bool,
    /// Tracking when `strata.yaml` turns it on; no prune candidates are looked for without it.
    pub tracking: Option<Tracking>,
    /// Target label values of the repository's targets in the diffed environments
    /// that were not selected: their objects are theirs, not prunes.
    pub unselected: BTreeSet<String>,
    /// Environments of which only some targets were selected: their inventories
    /// are neither compared nor read.
    pub partial: BTreeSet<String>,
    /// Requests in flight at once.
    pub concurrency: usize,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            ignore: Vec::new(),
            show_secrets: false,
            tracking: None,
            unselected: BTreeSet::new(),
            partial: BTreeSet::new(),
            concurrency: 8,
        }
    }
}

/// Connects with `kube` and diffs `compiled` against the cluster, on a
/// single-threaded runtime of its own.
pub fn run(compiled: &Compiled, kube: &KubeOptions, opts: &LiveOptions) -> Result<LiveReport, Error> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Error {
        kind: ErrorKind::Bug,
        diagnostics: vec![Diagnostic::error(format!("cannot start the async runtime: {e}"))],
    })?;
    rt.block_on(async {
        let cluster = Cluster::connect(kube).await?;
        diff(&cluster, compiled, opts).await
    })
}

/// Diffs every environment of `compiled` against `cluster`.
pub async fn diff(cluster: &Cluster, compiled: &Compiled, opts: &LiveOptions) -> Result<LiveReport, Error> {
    normalize::check_ignore_rules(&opts.ignore).map_err(Error::many)?;
    let mut groups: Vec<&str> = compiled.resources().map(|(_, r)| r.id.group.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    // The prune search looks in every kind; without it, the rendered groups are enough.
    let catalog = cluster.discover(if opts.tracking.is_some() { None } else { Some(&groups) }).await?;

    // Plan every environment first: unknown kinds are input errors, reported together.
    let envs = compiled.environments();
    let inventories = plan::inventories(&envs, opts);
    let mut plans = Vec::new();
    let mut diags = Vec::new();
    for (env, targets) in &envs {
        match plan::plan_environment(cluster, &catalog, env, targets, inventories.get(*env)) {
            Ok(p) => plans.push(p),
            Err(mut d) => diags.append(&mut d),
        }
    }
    if !diags.is_empty() {
        return Err(Error::many(diags));
    }

    let fetched = fetch::fetch(cluster, &catalog, &plans, opts).await?;
    let mut environments = Vec::new();
    let mut diags = Vec::new();
    let none = fetch::Fetched::default();
    for plan in &plans {
        match entries::assemble(plan, fetched.get(plan.env).unwrap_or(&none), opts) {
            Ok(r) => environments.push(r),
            Err(e) if e.kind == ErrorKind::Bug => return Err(e),
            Err(e) => diags.extend(e.diagnostics),
        }
    }
    if !diags.is_empty() {
        return Err(Error::many(diags));
    }
    Ok(LiveReport { context: cluster.context.clone(), server: cluster.server.clone(), environments })
}
