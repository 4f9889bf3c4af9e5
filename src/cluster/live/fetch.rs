//! The requests of a live diff and their typed answers.
//!
//! In: every environment's [`EnvPlan`]. Out: per environment, a [`Fetched`]:
//! the answer about each served object by its cluster identity (`GET`,
//! server-side-apply dry-run, and after a 409 the forced dry-run), the objects
//! the prune search listed by the environment's labels, and the objects only
//! the live inventory names.
//!
//! Every request is a task that returns an [`Answer`] carrying the environment
//! and the identity or kind it was about, so answers are filed by what they
//! answer, never by their position. Tasks run with a bound on how many are in
//! flight ([`bounded`]); any failure fails the whole batch (all-or-nothing).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use super::LiveOptions;
use super::plan::{EnvPlan, How};
use crate::cluster::connect::{Cluster, DryRun};
use crate::cluster::discovery::{ApiKind, Catalog};
use crate::diag::{Diagnostic, Error, ErrorKind};
use crate::manifest::ResId;
use crate::tracking;

/// What the cluster says about one rendered object.
#[derive(Debug)]
pub(super) struct ObjectAnswer {
    /// The live object (`None`: it does not exist).
    pub live: Option<Value>,
    /// The dry-run apply of the rendered body.
    pub dry: DryRun,
    /// After a conflict, the same dry-run forced.
    pub forced: Option<DryRun>,
}

/// The answer of one request task, with what it is about.
#[derive(Debug)]
enum Answer {
    /// About the object `id` of environment `env`.
    Object { env: String, id: ResId, answer: Box<ObjectAnswer> },
    /// The objects of one kind carrying environment `env`'s tracking labels.
    Listed { env: String, items: Vec<Value> },
    /// An object the live inventory of `env` names, read by itself (absent when gone).
    InventoryNamed { env: String, item: Option<Value> },
}

/// Everything fetched for one environment.
#[derive(Debug, Default)]
pub(super) struct Fetched {
    /// Answers about the served rendered objects, by cluster identity.
    pub objects: BTreeMap<ResId, ObjectAnswer>,
    /// Objects found by the environment's tracking labels.
    pub listed: Vec<Value>,
    /// Objects only the live inventory names (labels removed by hand).
    pub by_inventory: Vec<Value>,
}

type Task = Pin<Box<dyn Future<Output = Result<Answer, Error>> + Send>>;

/// Fetches what every environment needs: the first batch (objects and lists),
/// then the objects only the live inventories name.
pub(super) async fn fetch(
    cluster: &Cluster,
    catalog: &Catalog,
    plans: &[EnvPlan<'_, '_>],
    opts: &LiveOptions,
) -> Result<BTreeMap<String, Fetched>, Error> {
    let limit = opts.concurrency.max(1);
    let mut fetched: BTreeMap<String, Fetched> =
        plans.iter().map(|p| (p.env.to_string(), Fetched::default())).collect();
    file(&mut fetched, bounded(first_batch(cluster, catalog, plans, opts), limit).await?);
    let second = inventory_batch(cluster, catalog, plans, &fetched);
    file(&mut fetched, bounded(second, limit).await?);
    Ok(fetched)
}

/// Files each answer under its environment.
fn file(fetched: &mut BTreeMap<String, Fetched>, answers: Vec<Answer>) {
    for a in answers {
        match a {
            Answer::Object { env, id, answer } => {
                fetched.entry(env).or_default().objects.insert(id, *answer);
            }
            Answer::Listed { env, items } => fetched.entry(env).or_default().listed.extend(items),
            Answer::InventoryNamed { env, item } => fetched.entry(env).or_default().by_inventory.extend(item),
        }
    }
}

/// Per environment, a `GET` and a dry-run of each served object (and a forced
/// dry-run after a conflict), then one list per listable kind.
fn first_batch(cluster: &Cluster, catalog: &Catalog, plans: &[EnvPlan<'_, '_>], opts: &LiveOptions) -> Vec<Task> {
    let mut tasks: Vec<Task> = Vec::new();
    for plan in plans {
        for p in &plan.planned {
            let How::Served { kind, body } = &p.how else { continue };
            let (c, k, env, id, body) =
                (cluster.clone(), kind.clone(), plan.env.to_string(), p.id.clone(), body.clone());
            tasks.push(Box::pin(async move {
                let answer = Box::new(ask_object(&c, &k, &id, &body).await?);
                Ok(Answer::Object { env, id, answer })
            }));
        }
        let Some(tracking) = &opts.tracking else { continue };
        let selector = tracking.environment_selector(plan.env);
        for kind in catalog.listable() {
            let (c, k, sel, env) = (cluster.clone(), kind.clone(), selector.clone(), plan.env.to_string());
            tasks.push(Box::pin(async move { Ok(Answer::Listed { env, items: c.list(&k, None, &sel).await? }) }));
        }
    }
    tasks
}

/// The live object, the dry-run, and after a conflict the forced dry-run.
async fn ask_object(c: &Cluster, kind: &ApiKind, id: &ResId, body: &Value) -> Result<ObjectAnswer, Error> {
    let ns = id.namespace.as_deref();
    let live = c.get(kind, ns, &id.name).await?;
    let dry = c.dry_run_apply(kind, ns, &id.name, body, false).await?;
    let forced = match dry {
        DryRun::Conflict(_) => Some(c.dry_run_apply(kind, ns, &id.name, body, true).await?),
        _ => None,
    };
    Ok(ObjectAnswer { live, dry, forced })
}

/// A `GET` of each object a live inventory names that the environment neither
/// renders nor found by its labels (labels removed by hand).
fn inventory_batch(
    cluster: &Cluster,
    catalog: &Catalog,
    plans: &[EnvPlan<'_, '_>],
    fetched: &BTreeMap<String, Fetched>,
) -> Vec<Task> {
    let mut tasks: Vec<Task> = Vec::new();
    for plan in plans {
        let Some(f) = fetched.get(plan.env) else { continue };
        let live_inventory = plan.inventory.as_ref().and_then(|id| f.objects.get(id)).and_then(|a| a.live.as_ref());
        let Some(live_inventory) = live_inventory else { continue };
        let mut known: BTreeSet<ResId> =
            plan.planned.iter().flat_map(|p| [p.id.clone(), p.resource.id.clone()]).collect();
        known.extend(f.listed.iter().filter_map(|i| ResId::of(i).ok()));
        for id in tracking::inventory_ids(live_inventory) {
            let Some(kind) = catalog.preferred(&id.group, &id.kind) else { continue };
            if known.contains(&id) || kind.namespaced != id.namespace.is_some() || !kind.supports("get") {
                continue;
            }
            let (c, k, env) = (cluster.clone(), kind.clone(), plan.env.to_string());
            tasks.push(Box::pin(async move {
                let found = c.get(&k, id.namespace.as_deref(), &id.name).await?;
                Ok(Answer::InventoryNamed { env, item: found.map(|o| with_type(o, &k)) })
            }));
        }
    }
    tasks
}

/// `apiVersion` and `kind` on an object (a `GET` answers with them; kept when present).
fn with_type(mut obj: Value, kind: &ApiKind) -> Value {
    if let Some(m) = obj.as_object_mut() {
        m.entry("apiVersion").or_insert_with(|| Value::String(kind.api_version()));
        m.entry("kind").or_insert_with(|| Value::String(kind.kind.clone()));
    }
    obj
}

/// Runs `tasks` with at most `limit` in flight; the answers come in any order
/// (each says what it answers). Every task runs to its end; all their errors
/// are reported together.
async fn bounded(tasks: Vec<Task>, limit: usize) -> Result<Vec<Answer>, Error> {
    let mut out = Vec::with_capacity(tasks.len());
    let mut diags = Vec::new();
    let mut bug = false;
    let mut pending = tasks.into_iter();
    let mut set = tokio::task::JoinSet::new();
    for t in pending.by_ref().take(limit) {
        set.spawn(t);
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(a)) => out.push(a),
            Ok(Err(e)) => {
                bug |= e.kind == ErrorKind::Bug;
                diags.extend(e.diagnostics);
            }
            Err(e) => {
                bug = true;
                diags.push(Diagnostic::error(format!("a cluster request task failed: {e}")));
            }
        }
        if let Some(t) = pending.next() {
            set.spawn(t);
        }
    }
    if !diags.is_empty() {
        // The same failure (an expired token, an unreachable server) hits every
        // request: report each message once.
        let mut seen = BTreeSet::new();
        diags.retain(|d| seen.insert(d.message.clone()));
        return Err(Error { kind: if bug { ErrorKind::Bug } else { ErrorKind::Input }, diagnostics: diags });
    }
    Ok(out)
}
