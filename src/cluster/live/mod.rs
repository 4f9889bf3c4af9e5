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
//! Invariants: read-only (see [`super::request`]); all-or-nothing — any failed
//! request fails the whole diff, so a report is never partial; byte-stable
//! output for the same cluster state.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use super::connect::{Cluster, Conflict, DryRun, Forced, KubeOptions};
use super::discovery::{self, ApiKind, Catalog, Resolution};
use super::normalize;
use super::report::{Entry, EnvironmentReport, LiveReport, TargetInfo};
use crate::compiled::{Compiled, CompiledTarget};
use crate::diag::{Diagnostic, Error, ErrorKind};
use crate::diff::{self, Status};
use crate::manifest::{ResId, Resource};
use crate::repo::config::IgnoreRule;
use crate::tracking::{self, Tracking};

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

/// One rendered object, placed on the cluster.
struct Planned<'a> {
    target: String,
    resource: &'a Resource,
    /// The identity on the cluster: namespace filled in for namespaced kinds, dropped for cluster-scoped ones.
    id: ResId,
    how: How,
}

enum How {
    Served { kind: ApiKind, body: Value },
    PendingCrd { crd: String },
}

/// What one request task brings back.
enum Fetched {
    /// The live object, the dry-run, and after a conflict the forced dry-run.
    Object {
        live: Option<Value>,
        dry: DryRun,
        forced: Option<Box<DryRun>>,
    },
    List(Vec<Value>),
}

type Task = Pin<Box<dyn Future<Output = Result<Fetched, Error>> + Send>>;

/// Where one environment's results are in the first batch.
struct Layout {
    first_object: usize,
    first_list: usize,
    end: usize,
    /// The index of the inventory's fetched object, when the inventory is on.
    inventory: Option<usize>,
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
    let inventories = inventories(&envs, opts);
    let mut plans = Vec::new();
    let mut diags = Vec::new();
    for (env, targets) in &envs {
        match plan(cluster, &catalog, env, targets) {
            Ok(mut p) => {
                if let Some(inventory) = inventories.get(*env) {
                    p.extend(plan_inventory(&catalog, inventory));
                }
                plans.push((*env, targets, p));
            }
            Err(mut d) => diags.append(&mut d),
        }
    }
    if !diags.is_empty() {
        return Err(Error::many(diags));
    }

    // Every request of every environment, as one bounded batch; then the objects
    // only the live inventories name.
    let (tasks, layout) = requests(cluster, &catalog, &plans, opts);
    let results = bounded(tasks, opts.concurrency.max(1)).await?;
    let (tasks, extra_at) = inventory_requests(cluster, &catalog, &plans, &layout, &results);
    let extra = bounded(tasks, opts.concurrency.max(1)).await?;

    let mut environments = Vec::new();
    let mut diags = Vec::new();
    for (((env, targets, planned), l), range) in plans.iter().zip(&layout).zip(&extra_at) {
        let objects = &results[l.first_object..l.first_list];
        let listed = &results[l.first_list..l.end];
        match assemble(env, targets, planned, objects, [listed, &extra[range.clone()]], opts) {
            Ok(r) => environments.push(r),
            Err(mut d) => diags.append(&mut d),
        }
    }
    if !diags.is_empty() {
        return Err(Error::many(diags));
    }
    Ok(LiveReport { context: cluster.context.clone(), server: cluster.server.clone(), environments })
}

/// The inventory of each environment whose every target is rendered, when
/// `tracking.inventory` is on: the object its bundle ends with.
fn inventories(envs: &BTreeMap<&str, Vec<&CompiledTarget>>, opts: &LiveOptions) -> BTreeMap<String, Resource> {
    let Some(tracking) = &opts.tracking else { return BTreeMap::new() };
    envs.iter()
        .filter(|(env, _)| !opts.partial.contains(**env))
        .filter_map(|(env, targets)| {
            let ids = targets.iter().flat_map(|t| t.resources.iter().map(|r| &r.id));
            Some((env.to_string(), tracking.inventory(env, ids)?))
        })
        .collect()
}

/// The inventory as one more object of the environment.
fn plan_inventory<'a>(catalog: &Catalog, inventory: &'a Resource) -> Option<Planned<'a>> {
    let Resolution::Served(kind) = discovery::resolve(catalog, inventory, &[]) else { return None };
    Some(Planned {
        target: INVENTORY.to_string(),
        resource: inventory,
        id: inventory.id.clone(),
        how: How::Served { kind, body: inventory.body.clone() },
    })
}

/// One environment's name, targets and placed objects.
type EnvPlan<'e, 'a> = (&'e str, &'e Vec<&'a CompiledTarget>, Vec<Planned<'a>>);

/// What the report calls the inventory's target.
const INVENTORY: &str = "inventory";

/// The first batch: per environment, a `GET` and a dry-run of each served object
/// (and a forced dry-run after a conflict), then one list per listable kind.
fn requests(
    cluster: &Cluster,
    catalog: &Catalog,
    plans: &[EnvPlan<'_, '_>],
    opts: &LiveOptions,
) -> (Vec<Task>, Vec<Layout>) {
    let mut tasks: Vec<Task> = Vec::new();
    let mut layout = Vec::new();
    for (env, _, planned) in plans {
        let first_object = tasks.len();
        let mut inventory = None;
        for p in planned {
            if let How::Served { kind, body } = &p.how {
                if p.target == INVENTORY {
                    inventory = Some(tasks.len());
                }
                let (c, k, ns, name, body) =
                    (cluster.clone(), kind.clone(), p.id.namespace.clone(), p.id.name.clone(), body.clone());
                tasks.push(Box::pin(async move {
                    let live = c.get(&k, ns.as_deref(), &name).await?;
                    let dry = c.dry_run_apply(&k, ns.as_deref(), &name, &body, false).await?;
                    let forced = match dry {
                        DryRun::Conflict(_) => {
                            Some(Box::new(c.dry_run_apply(&k, ns.as_deref(), &name, &body, true).await?))
                        }
                        _ => None,
                    };
                    Ok(Fetched::Object { live, dry, forced })
                }));
            }
        }
        let first_list = tasks.len();
        if let Some(tracking) = &opts.tracking {
            let selector = tracking.environment_selector(env);
            for kind in catalog.listable() {
                let (c, k, sel) = (cluster.clone(), kind.clone(), selector.clone());
                tasks.push(Box::pin(async move { Ok(Fetched::List(c.list(&k, None, &sel).await?)) }));
            }
        }
        layout.push(Layout { first_object, first_list, end: tasks.len(), inventory });
    }
    (tasks, layout)
}

/// The second batch: a `GET` of each object a live inventory names that the
/// environment neither renders nor found by its labels (labels removed by
/// hand). Each answer is a list of zero or one object; the ranges say whose.
fn inventory_requests(
    cluster: &Cluster,
    catalog: &Catalog,
    plans: &[EnvPlan<'_, '_>],
    layout: &[Layout],
    results: &[Fetched],
) -> (Vec<Task>, Vec<std::ops::Range<usize>>) {
    let mut tasks: Vec<Task> = Vec::new();
    let mut ranges = Vec::new();
    for ((_, _, planned), l) in plans.iter().zip(layout) {
        let start = tasks.len();
        let live_inventory = match l.inventory.map(|i| &results[i]) {
            Some(Fetched::Object { live: Some(live), .. }) => live,
            _ => {
                ranges.push(start..start);
                continue;
            }
        };
        let mut known: BTreeSet<ResId> = planned.iter().flat_map(|p| [p.id.clone(), p.resource.id.clone()]).collect();
        for f in &results[l.first_list..l.end] {
            if let Fetched::List(items) = f {
                known.extend(items.iter().filter_map(|i| ResId::of(i).ok()));
            }
        }
        for id in tracking::inventory_ids(live_inventory) {
            let Some(kind) = catalog.preferred(&id.group, &id.kind) else { continue };
            if known.contains(&id) || kind.namespaced != id.namespace.is_some() || !kind.supports("get") {
                continue;
            }
            let (c, k) = (cluster.clone(), kind.clone());
            tasks.push(Box::pin(async move {
                let found = c.get(&k, id.namespace.as_deref(), &id.name).await?;
                Ok(Fetched::List(found.map(|o| with_type(o, &k)).into_iter().collect()))
            }));
        }
        ranges.push(start..tasks.len());
    }
    (tasks, ranges)
}

/// `apiVersion` and `kind` on an object (a `GET` answers with them; kept when present).
fn with_type(mut obj: Value, kind: &ApiKind) -> Value {
    if let Some(m) = obj.as_object_mut() {
        m.entry("apiVersion").or_insert_with(|| Value::String(kind.api_version()));
        m.entry("kind").or_insert_with(|| Value::String(kind.kind.clone()));
    }
    obj
}

/// Places every object of one environment on the cluster's API.
fn plan<'a>(
    cluster: &Cluster,
    catalog: &Catalog,
    env: &str,
    targets: &[&'a CompiledTarget],
) -> Result<Vec<Planned<'a>>, Vec<Diagnostic>> {
    let crds: Vec<&Resource> = targets
        .iter()
        .flat_map(|t| t.resources.iter())
        .filter(|r| r.id.group == "apiextensions.k8s.io" && r.id.kind == "CustomResourceDefinition")
        .collect();
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for t in targets {
        for r in &t.resources {
            let place = |namespaced: bool| {
                let mut id = r.id.clone();
                id.namespace = if namespaced {
                    Some(id.namespace.unwrap_or_else(|| cluster.default_namespace.clone()))
                } else {
                    None
                };
                id
            };
            match discovery::resolve(catalog, r, &crds) {
                Resolution::Served(kind) => {
                    let id = place(kind.namespaced);
                    let mut body = r.body.clone();
                    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                        match &id.namespace {
                            Some(ns) => meta.insert("namespace".into(), Value::String(ns.clone())),
                            None => meta.remove("namespace"),
                        };
                    }
                    out.push(Planned { target: t.target.address(), resource: r, id, how: How::Served { kind, body } });
                }
                Resolution::PendingCrd { crd, namespaced } => {
                    out.push(Planned {
                        target: t.target.address(),
                        resource: r,
                        id: place(namespaced),
                        how: How::PendingCrd { crd },
                    });
                }
                Resolution::Unknown { served_versions } => {
                    let what = format!("`{}` `{}`", r.api_version(), r.id.kind);
                    let mut d = Diagnostic::error(format!(
                        "the cluster of context `{}` does not serve {what}",
                        cluster.context
                    ))
                    .at(r.source.template.to_string())
                    .note(format!(
                        "object `{}` of {} in environment `{env}`",
                        r.id,
                        t.target.address()
                    ));
                    d = if served_versions.is_empty() {
                        d.hint("install the CustomResourceDefinition that defines it, or add it to this environment's bundle")
                    } else {
                        let vs = served_versions.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ");
                        d.hint(format!("the cluster serves `{}` as {vs}: update `apiVersion`", r.id.kind))
                    };
                    diags.push(d);
                }
            }
        }
    }
    if diags.is_empty() { Ok(out) } else { Err(diags) }
}

/// Builds one environment's report from the fetched objects and lists.
fn assemble(
    env: &str,
    targets: &[&CompiledTarget],
    planned: &[Planned<'_>],
    objects: &[Fetched],
    listed: [&[Fetched]; 2],
    opts: &LiveOptions,
) -> Result<EnvironmentReport, Vec<Diagnostic>> {
    let (mut entries, diags) = rendered_entries(env, planned, objects, opts);
    entries.extend(prune_entries(targets, planned, listed, opts));
    let targets = targets
        .iter()
        .map(|t| TargetInfo {
            address: t.target.address(),
            component: t.target.component.clone(),
            environment: t.target.environment.clone(),
            version: t.target.version.clone(),
        })
        .collect();
    if diags.is_empty() { Ok(EnvironmentReport { environment: env.to_string(), targets, entries }) } else { Err(diags) }
}

/// One entry per rendered object, in plan order, from its fetched object (one per
/// served plan entry); an object whose namespace nothing creates is a problem instead.
fn rendered_entries(
    env: &str,
    planned: &[Planned<'_>],
    objects: &[Fetched],
    opts: &LiveOptions,
) -> (Vec<Entry>, Vec<Diagnostic>) {
    let mut entries = Vec::new();
    let mut diags = Vec::new();
    let rendered_namespaces: BTreeSet<&str> = planned
        .iter()
        .filter(|p| p.id.group.is_empty() && p.id.kind == "Namespace")
        .map(|p| p.id.name.as_str())
        .collect();
    let mut fetched = objects.iter();
    for p in planned {
        let base = Entry {
            status: Status::Added,
            id: p.id.clone(),
            api_version: p.resource.api_version().to_string(),
            target: p.target.clone(),
            template: Some(p.resource.source.template.to_string()),
            note: None,
            conflict: None,
            diff: None,
        };
        let entry = match &p.how {
            How::PendingCrd { crd } => Entry {
                note: Some(format!(
                    "not served yet: its CustomResourceDefinition `{crd}` is in this bundle, so it was not dry-run"
                )),
                diff: Some(object_diff(&p.id, None, Some(p.resource.body.clone()), opts)),
                ..base
            },
            How::Served { body, .. } => match fetched.next() {
                Some(Fetched::Object { live, dry: DryRun::Conflict(c), forced }) => {
                    conflict_entry(base, live.clone(), c, forced.as_deref(), opts)
                }
                Some(Fetched::Object { dry: DryRun::NamespaceMissing(ns), .. }) => {
                    if rendered_namespaces.contains(ns.as_str()) {
                        Entry {
                            note: Some(format!(
                                "namespace `{ns}` does not exist yet (this bundle creates it), so it was not dry-run"
                            )),
                            diff: Some(object_diff(&p.id, None, Some(body.clone()), opts)),
                            ..base
                        }
                    } else {
                        diags.push(missing_namespace(env, p, ns));
                        continue;
                    }
                }
                Some(Fetched::Object { live, dry: DryRun::Applied(after), .. }) => {
                    compare(base, live.clone(), after.clone(), opts)
                }
                _ => unreachable!("one fetched object per served plan entry"),
            },
        };
        entries.push(entry);
    }
    (entries, diags)
}

/// A conflict, with what the forced dry-run says taking the fields over would do:
/// nothing but move ownership (identical values, no diff), or the diff it would make.
fn conflict_entry(
    base: Entry,
    live: Option<Value>,
    conflict: &Conflict,
    forced: Option<&DryRun>,
    opts: &LiveOptions,
) -> Entry {
    let mut conflict = conflict.clone();
    let diff = match forced {
        Some(DryRun::Applied(after)) => {
            let would = compare(base.clone(), live, after.clone(), opts);
            let identical = would.status == Status::Unchanged;
            conflict.forced = Some(if identical { Forced::Identical } else { Forced::Changes });
            would.diff
        }
        // A forced apply conflicts with nothing; a namespace cannot vanish between two requests.
        _ => None,
    };
    Entry { status: Status::Conflict, conflict: Some(conflict), diff, ..base }
}

fn missing_namespace(env: &str, p: &Planned<'_>, ns: &str) -> Diagnostic {
    Diagnostic::error(format!("namespace `{ns}` of `{}` does not exist on the cluster", p.id))
        .at(p.resource.source.template.to_string())
        .note(format!("no target of environment `{env}` renders it"))
        .hint(format!("create namespace `{ns}`, or render it (a `Namespace` object) in this environment"))
}

/// Prunes: objects labelled with this environment and repository that it no
/// longer renders, by identity — unless a controller owns them or they belong to
/// a target of the repository that was not selected.
fn prune_entries(
    targets: &[&CompiledTarget],
    planned: &[Planned<'_>],
    [listed, from_inventory]: [&[Fetched]; 2],
    opts: &LiveOptions,
) -> Vec<Entry> {
    let Some(tracking) = &opts.tracking else { return Vec::new() };
    let rendered: BTreeSet<&ResId> = planned.iter().map(|p| &p.id).collect();
    let owner: BTreeMap<String, String> =
        targets.iter().map(|t| (tracking::label_value(&t.target.address()), t.target.address())).collect();
    let mut prunes: BTreeMap<ResId, Entry> = BTreeMap::new();
    let sources = listed.iter().map(|f| (f, false)).chain(from_inventory.iter().map(|f| (f, true)));
    for (f, by_inventory) in sources {
        let Fetched::List(items) = f else { unreachable!("lists come back as lists") };
        for item in items {
            let Ok(id) = ResId::of(item) else { continue };
            // Controllers copy labels onto objects they own; the garbage
            // collector deletes those with their owner.
            let owned =
                item.pointer("/metadata/ownerReferences").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
            let value = item
                .pointer("/metadata/labels")
                .and_then(|l| l.get(&tracking.key))
                .and_then(Value::as_str)
                .unwrap_or_default();
            // An inventory is the environment's own (in a partial diff, not compared).
            let inventory = item.pointer("/metadata/labels").and_then(|l| l.get(tracking::INVENTORY_LABEL)).is_some();
            let skip = owned || inventory || rendered.contains(&id) || prunes.contains_key(&id);
            if skip || opts.unselected.contains(value) {
                continue;
            }
            let (target, note) = match owner.get(value) {
                Some(address) => (address.clone(), None),
                None if value.is_empty() => (INVENTORY.to_string(), None),
                None => {
                    let address = address_of(value);
                    (address.clone(), Some(format!("target `{address}` is no longer in the repository")))
                }
            };
            let note = if by_inventory {
                Some("listed in the live inventory, but without this environment's tracking labels".to_string())
            } else {
                note
            };
            let api_version = item.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string();
            let diff = object_diff(&id, Some(item.clone()), None, opts);
            let entry = Entry {
                status: Status::Removed,
                id: id.clone(),
                api_version,
                target,
                template: None,
                note,
                conflict: None,
                diff: Some(diff),
            };
            prunes.insert(id, entry);
        }
    }
    prunes.into_values().collect()
}

/// The target address a label value stands for: `frontend.eastus` →
/// `frontend/eastus` when that is the address it came from (addresses of
/// letters, digits, `-` and `_`); the value itself otherwise.
fn address_of(value: &str) -> String {
    let address = value.replace('.', "/");
    if !value.is_empty() && tracking::label_value(&address) == value { address } else { value.to_string() }
}

/// Compares the live object with the dry-run result.
fn compare(base: Entry, live: Option<Value>, after: Value, opts: &LiveOptions) -> Entry {
    let Some(live) = live else {
        return Entry { status: Status::Added, diff: Some(object_diff(&base.id, None, Some(after), opts)), ..base };
    };
    let (mut a, mut b) = (live, after);
    prepare(&mut a, &base.id, opts);
    prepare(&mut b, &base.id, opts);
    if a == b {
        return Entry { status: Status::Unchanged, ..base };
    }
    Entry { status: Status::Changed, diff: Some(render_diff(&base.id, Some(a), Some(b), opts)), ..base }
}

/// Normalization and ignore rules, the same on both sides.
fn prepare(obj: &mut Value, id: &ResId, opts: &LiveOptions) {
    normalize::normalize(obj);
    normalize::apply_ignore_rules(obj, id, &opts.ignore);
}

/// A diff of one object whose one side is missing (create or prune).
fn object_diff(id: &ResId, before: Option<Value>, after: Option<Value>, opts: &LiveOptions) -> String {
    let before = before.map(|mut v| {
        prepare(&mut v, id, opts);
        v
    });
    let after = after.map(|mut v| {
        prepare(&mut v, id, opts);
        v
    });
    render_diff(id, before, after, opts)
}

/// The unified diff of the normalized sides, through `strata diff`'s own
/// renderer: canonical key order, Secret values masked unless `--show-secrets`.
fn render_diff(id: &ResId, before: Option<Value>, after: Option<Value>, opts: &LiveOptions) -> String {
    diff::unified_diff(id, before.as_ref(), after.as_ref(), opts.show_secrets)
}

/// Runs `tasks` with at most `limit` in flight; results keep the tasks' order.
/// Every task runs to its end; all their errors are reported together.
async fn bounded(tasks: Vec<Task>, limit: usize) -> Result<Vec<Fetched>, Error> {
    let n = tasks.len();
    let mut out: Vec<Option<Fetched>> = (0..n).map(|_| None).collect();
    let mut diags = Vec::new();
    let mut bug = false;
    let mut pending = tasks.into_iter().enumerate();
    let mut set = tokio::task::JoinSet::new();
    for (i, t) in pending.by_ref().take(limit) {
        set.spawn(async move { (i, t.await) });
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, Ok(f))) => out[i] = Some(f),
            Ok((_, Err(e))) => {
                bug |= e.kind == ErrorKind::Bug;
                diags.extend(e.diagnostics);
            }
            Err(e) => {
                bug = true;
                diags.push(Diagnostic::error(format!("a cluster request task failed: {e}")));
            }
        }
        if let Some((i, t)) = pending.next() {
            set.spawn(async move { (i, t.await) });
        }
    }
    if !diags.is_empty() {
        // The same failure (an expired token, an unreachable server) hits every
        // request: report each message once.
        let mut seen = BTreeSet::new();
        diags.retain(|d| seen.insert(d.message.clone()));
        return Err(Error { kind: if bug { ErrorKind::Bug } else { ErrorKind::Input }, diagnostics: diags });
    }
    Ok(out.into_iter().map(|f| f.expect("every task finished")).collect())
}
