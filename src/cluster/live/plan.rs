//! Placing a render on the cluster's API: each rendered object's kind resolved
//! through discovery, its namespace filled in (or dropped), its body made the
//! one to dry-run.
//!
//! In: one environment's targets and the [`Catalog`]. Out: a [`Planned`] per
//! object, in render order, or every object the cluster cannot take (unknown
//! kinds, two objects that are one on the cluster), reported together.
//!
//! Invariant: within an environment no two planned objects have the same
//! cluster identity, so a request's answer is found by the identity it carries.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::LiveOptions;
use crate::cluster::connect::Cluster;
use crate::cluster::discovery::{self, ApiKind, Catalog, Resolution};
use crate::compiled::CompiledTarget;
use crate::diag::Diagnostic;
use crate::manifest::{ResId, Resource};

/// What the report calls the inventory's target.
pub(super) const INVENTORY: &str = "inventory";

/// One rendered object, placed on the cluster.
pub(super) struct Planned<'a> {
    /// The target address that renders it, or [`INVENTORY`].
    pub target: String,
    pub resource: &'a Resource,
    /// The identity on the cluster: namespace filled in for namespaced kinds, dropped for cluster-scoped ones.
    pub id: ResId,
    pub how: How,
}

/// Whether an object can be asked about.
pub(super) enum How {
    /// Served: read and dry-run as `kind`, with this body.
    Served { kind: ApiKind, body: Value },
    /// A custom resource whose CustomResourceDefinition `crd` the same bundle creates.
    PendingCrd { crd: String },
}

/// One environment: its name, targets and placed objects (the inventory last).
pub(super) struct EnvPlan<'e, 'a> {
    pub env: &'e str,
    pub targets: &'e [&'a CompiledTarget],
    pub planned: Vec<Planned<'a>>,
    /// The cluster identity of the environment's inventory, when it is compared.
    pub inventory: Option<ResId>,
}

/// The inventory of each environment whose every target is rendered, when
/// `tracking.inventory` is on: the object its bundle ends with.
pub(super) fn inventories(
    envs: &BTreeMap<&str, Vec<&CompiledTarget>>,
    opts: &LiveOptions,
) -> BTreeMap<String, Resource> {
    let Some(tracking) = &opts.tracking else { return BTreeMap::new() };
    envs.iter()
        .filter(|(env, _)| !opts.partial.contains(**env))
        .filter_map(|(env, targets)| {
            let ids = targets.iter().flat_map(|t| t.resources.iter().map(|r| &r.id));
            Some((env.to_string(), tracking.inventory(env, ids)?))
        })
        .collect()
}

/// Places every object of one environment, and its inventory, on the cluster's API.
pub(super) fn plan_environment<'e, 'a>(
    cluster: &Cluster,
    catalog: &Catalog,
    env: &'e str,
    targets: &'e [&'a CompiledTarget],
    inventory: Option<&'a Resource>,
) -> Result<EnvPlan<'e, 'a>, Vec<Diagnostic>> {
    let mut planned = plan(cluster, catalog, env, targets)?;
    let inventory = inventory.and_then(|inv| plan_inventory(catalog, inv));
    let inventory_id = inventory.as_ref().map(|p| p.id.clone());
    planned.extend(inventory);
    check_unique(env, &planned)?;
    Ok(EnvPlan { env, targets, planned, inventory: inventory_id })
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

/// Two rendered objects that are one object on the cluster (one without a
/// namespace, placed in the context's, and one naming it) would overwrite each
/// other when applied: an input error naming both templates.
fn check_unique(env: &str, planned: &[Planned<'_>]) -> Result<(), Vec<Diagnostic>> {
    let mut seen: BTreeMap<&ResId, &Planned<'_>> = BTreeMap::new();
    let mut diags = Vec::new();
    let mut reported = BTreeSet::new();
    for p in planned {
        match seen.get(&p.id) {
            None => {
                seen.insert(&p.id, p);
            }
            Some(first) if reported.insert(&p.id) => diags.push(
                Diagnostic::error(format!(
                    "two objects of environment `{env}` are the same object `{}` on the cluster",
                    p.id
                ))
                .at(p.resource.source.template.to_string())
                .note(format!("also rendered by `{}` of {}", first.resource.source.template, first.target))
                .hint("give the object without a namespace its namespace explicitly, or rename one of them"),
            ),
            Some(_) => {}
        }
    }
    if diags.is_empty() { Ok(()) } else { Err(diags) }
}

/// Places every rendered object of one environment on the cluster's API.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::TemplateOrigin;
    use serde_json::json;
    use std::sync::Arc;

    fn res(template: &str, namespace: Option<&str>) -> Resource {
        let mut body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}});
        if let Some(ns) = namespace {
            body["metadata"]["namespace"] = json!(ns);
        }
        Resource::new(body, TemplateOrigin { template: Arc::from(template), doc: 0 }).unwrap()
    }

    fn placed<'a>(r: &'a Resource, target: &str) -> Planned<'a> {
        let mut id = r.id.clone();
        id.namespace = Some(id.namespace.unwrap_or_else(|| "default".into()));
        Planned { target: target.into(), resource: r, id, how: How::PendingCrd { crd: String::new() } }
    }

    #[test]
    fn two_objects_that_are_one_on_the_cluster_are_an_input_error() {
        // One without a namespace (placed in the context's, `default`), one naming it.
        let (a, b, c) =
            (res("a/v1/cm.yaml", None), res("b/v1/cm.yaml", Some("default")), res("c/v1/cm.yaml", Some("c")));
        let planned = [placed(&a, "a/eastus"), placed(&b, "b/eastus"), placed(&c, "c/eastus")];
        let diags = check_unique("eastus", &planned).unwrap_err();
        assert_eq!(diags.len(), 1);
        assert_eq!(
            diags[0].message,
            "two objects of environment `eastus` are the same object `ConfigMap/default/app` on the cluster"
        );
        assert_eq!(diags[0].path.as_deref(), Some("b/v1/cm.yaml"));
        assert_eq!(diags[0].notes, ["also rendered by `a/v1/cm.yaml` of a/eastus"]);
        assert!(check_unique("eastus", &planned[..1]).is_ok());
        assert!(check_unique("eastus", &planned[1..]).is_ok());
    }
}
