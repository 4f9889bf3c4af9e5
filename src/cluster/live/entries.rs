//! Turning the cluster's answers into report entries.
//!
//! In: one environment's [`EnvPlan`] and what was [`Fetched`] for it. Out: its
//! [`EnvironmentReport`]: one entry per rendered object in render order
//! (create, update, unchanged, conflict, or not dry-run and why), then the
//! prunes sorted by identity.
//!
//! Pure: no network. Both sides of a comparison go through the same
//! normalization and ignore rules ([`super::super::normalize`]); every diff
//! through `strata diff`'s renderer, so Secret values are masked.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::LiveOptions;
use super::fetch::{Fetched, ObjectAnswer};
use super::plan::{EnvPlan, How, INVENTORY, Planned};
use crate::cluster::connect::{Conflict, DryRun, Forced};
use crate::cluster::normalize;
use crate::cluster::report::{Entry, EnvironmentReport, TargetInfo};
use crate::diag::{Diagnostic, Error, ErrorKind};
use crate::diff::{self, Status};
use crate::manifest::ResId;
use crate::tracking;

/// Builds one environment's report from what was fetched for it. An input
/// problem (a namespace nothing creates) is a diagnostic; a served object
/// without an answer is a bug.
pub(super) fn assemble(
    plan: &EnvPlan<'_, '_>,
    fetched: &Fetched,
    opts: &LiveOptions,
) -> Result<EnvironmentReport, Error> {
    let (mut entries, diags) = rendered_entries(plan, fetched, opts)?;
    if !diags.is_empty() {
        return Err(Error::many(diags));
    }
    entries.extend(prune_entries(plan, fetched, opts));
    let targets = plan
        .targets
        .iter()
        .map(|t| TargetInfo {
            address: t.target.address(),
            component: t.target.component.clone(),
            environment: t.target.environment.clone(),
            version: t.target.version.clone(),
        })
        .collect();
    Ok(EnvironmentReport { environment: plan.env.to_string(), targets, entries })
}

/// One entry per rendered object, in plan order, from the answer about its
/// identity; an object whose namespace nothing creates is a problem instead.
fn rendered_entries(
    plan: &EnvPlan<'_, '_>,
    fetched: &Fetched,
    opts: &LiveOptions,
) -> Result<(Vec<Entry>, Vec<Diagnostic>), Error> {
    let (env, planned) = (plan.env, &plan.planned);
    let mut entries = Vec::new();
    let mut diags = Vec::new();
    let rendered_namespaces: BTreeSet<&str> = planned
        .iter()
        .filter(|p| p.id.group.is_empty() && p.id.kind == "Namespace")
        .map(|p| p.id.name.as_str())
        .collect();
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
            How::Served { body, .. } => match answer(fetched, p)? {
                ObjectAnswer { live, dry: DryRun::Conflict(c), forced } => {
                    conflict_entry(base, live.clone(), c, forced.as_ref(), opts)
                }
                ObjectAnswer { dry: DryRun::NamespaceMissing(ns), .. } => {
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
                ObjectAnswer { live, dry: DryRun::Applied(after), .. } => {
                    compare(base, live.clone(), after.clone(), opts)
                }
            },
        };
        entries.push(entry);
    }
    Ok((entries, diags))
}

/// The answer about `p`'s identity; every served object was asked about.
fn answer<'f>(fetched: &'f Fetched, p: &Planned<'_>) -> Result<&'f ObjectAnswer, Error> {
    fetched.objects.get(&p.id).ok_or_else(|| Error {
        kind: ErrorKind::Bug,
        diagnostics: vec![Diagnostic::error(format!(
            "no cluster answer about `{}`, although it was asked about",
            p.id
        ))],
    })
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
fn prune_entries(plan: &EnvPlan<'_, '_>, fetched: &Fetched, opts: &LiveOptions) -> Vec<Entry> {
    let Some(tracking) = &opts.tracking else { return Vec::new() };
    let rendered: BTreeSet<&ResId> = plan.planned.iter().map(|p| &p.id).collect();
    let owner: BTreeMap<String, String> =
        plan.targets.iter().map(|t| (tracking::label_value(&t.target.address()), t.target.address())).collect();
    let mut prunes: BTreeMap<ResId, Entry> = BTreeMap::new();
    // Listed items sorted by identity, so which copy wins never depends on answer order.
    let mut listed: Vec<(ResId, &Value)> =
        fetched.listed.iter().filter_map(|item| Some((ResId::of(item).ok()?, item))).collect();
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    let from_inventory = fetched.by_inventory.iter().filter_map(|item| Some((ResId::of(item).ok()?, item)));
    let sources = listed.into_iter().map(|(id, i)| (id, i, false)).chain(from_inventory.map(|(id, i)| (id, i, true)));
    for (id, item, by_inventory) in sources {
        // Controllers copy labels onto objects they own; the garbage
        // collector deletes those with their owner.
        let owned = item.pointer("/metadata/ownerReferences").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
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
