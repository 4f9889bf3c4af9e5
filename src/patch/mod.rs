//! Patched: kustomize-compatible transforms of a target's rendered resources.
//!
//! In: the resources a target rendered and the target's optional
//! `kustomization.yaml` ([`Kustomization`], read by [`load`]). Out: the transformed
//! resources ([`apply`]), as `kubectl kustomize` would build them with the rendered
//! templates listed under `resources:`. The transforms run in kustomize v5's order:
//! `patchesStrategicMerge`, `patches`, `namespace`, `namePrefix`, `nameSuffix`,
//! `labels`, `commonLabels`, `commonAnnotations`, `patchesJson6902`, `replicas`,
//! `images`, `replacements`, then the content-hash suffix of generated names, and
//! last the rewrite of references to renamed objects. The generators
//! (`configMapGenerator`, `secretGenerator`) run first, so every transform sees
//! what they add or merge.
//!
//! Invariants: the engine is pure over `Vec<Resource>` (no I/O after [`load`]); the
//! order of resources is kept (deleted ones drop out, resources from the
//! kustomization's own `resources:` files come after the rendered ones); every
//! resource keeps the template it came from. Where strata is stricter than
//! kustomize: a patch, `replicas` or `images` entry that matches nothing is an
//! error naming the entry (kustomize lets patches and images pass silently).
//!
//! Modules: [`kustomization`] reads the file, [`strategic`] merges (with
//! [`schema`], the merge keys generated from the API server's OpenAPI),
//! [`json6902`] applies JSON patches, [`select`] picks targets, [`names`] renames
//! and fixes references, [`fields`] sets labels, annotations, images and replicas,
//! [`generators`] builds ConfigMaps and Secrets and hashes their names,
//! [`replacements`] copies fields between objects.

pub mod fields;
pub mod generators;
pub mod json6902;
pub mod kustomization;
pub mod names;
pub mod replacements;
pub mod schema;
pub mod select;
pub mod strategic;

use std::fmt;

use serde_json::Value;

pub use kustomization::{Kustomization, Patch, PatchBody, load};

use crate::diag::{Diagnostic, Error};
use crate::manifest::{self, Resource};
use fields::{FieldSpec, Missing};
use kustomization::Span;
use schema::Schema;
use select::{Candidate, Selector};

/// Knobs of [`apply`].
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// The namespace strata gave objects that named none (the target's namespace).
    /// A strategic merge patch without a `target` and without a namespace selects
    /// objects in this namespace, as it would select un-namespaced objects under
    /// kustomize.
    pub default_namespace: Option<String>,
}

/// The stage: the `kustomization.yaml` in the target directory `dir`, if there
/// is one, applied to the target's rendered resources (`address` names the
/// target in messages); without one, the resources unchanged. Also returns the
/// kustomization's warnings ([`Kustomization::warnings`]).
pub fn apply_target(
    fs: &crate::source::Fs,
    dir: &str,
    resources: Vec<Resource>,
    opts: &ApplyOptions,
    address: &str,
) -> Result<(Vec<Resource>, Vec<Diagnostic>), Error> {
    let Some(k) = load(fs, dir)? else { return Ok((resources, Vec::new())) };
    let out = apply(resources, &k, opts).map_err(|e| e.note(format!("applying {} to {address}", k.path)))?;
    Ok((out, k.warnings))
}

/// An object's identity as kustomize tracks it through renames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub name: String,
    /// Empty when the object names no namespace.
    pub namespace: String,
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.group.is_empty() {
            write!(f, "{}/", self.group)?;
        }
        write!(f, "{}/", self.kind)?;
        if !self.namespace.is_empty() {
            write!(f, "{}/", self.namespace)?;
        }
        f.write_str(&self.name)
    }
}

/// A resource being transformed, with the identities it had before this
/// kustomization renamed or moved it (kustomize's "previous ids").
#[derive(Debug, Clone)]
pub struct Item {
    pub res: Resource,
    pub prev: Vec<Ident>,
    /// A generated object whose name gets the content-hash suffix.
    pub hash: bool,
}

impl Item {
    fn new(res: Resource) -> Item {
        Item { res, prev: Vec::new(), hash: false }
    }

    /// The current identity, read from the body.
    pub fn ident(&self) -> Ident {
        let b = &self.res.body;
        let s = |p: &str| b.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
        let api_version = s("/apiVersion");
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.clone()),
        };
        Ident { group, version, kind: s("/kind"), name: s("/metadata/name"), namespace: s("/metadata/namespace") }
    }

    /// The identity before this kustomization changed it.
    pub fn original(&self) -> Ident {
        self.prev.first().cloned().unwrap_or_else(|| self.ident())
    }

    /// Records the current identity before a transformer that may change it.
    fn remember(&mut self) {
        let id = self.ident();
        self.prev.push(id);
    }
}

/// Applies `k` to `resources`, transform by transform in kustomize's order.
pub fn apply(resources: Vec<Resource>, k: &Kustomization, opts: &ApplyOptions) -> Result<Vec<Resource>, Error> {
    let mut items: Vec<Item> = resources.into_iter().chain(k.resources.iter().cloned()).map(Item::new).collect();
    let crds: Vec<Resource> =
        items.iter().filter(|i| i.res.id.kind == "CustomResourceDefinition").map(|i| i.res.clone()).collect();
    let patcher = Patcher { opts, crds: &crds, schema: Schema::builtin() };
    generators::generate(&mut items, &k.generators, opts.default_namespace.as_deref(), &k.path)?;

    for p in k.patches_strategic_merge.iter().chain(&k.patches) {
        patcher.apply_patch(&mut items, p)?;
    }
    if let Some(ns) = &k.namespace {
        names::set_namespace(&mut items, ns, &crds).map_err(|e| Diagnostic::error(e).at(k.path.clone()))?;
    }
    if !k.name_prefix.is_empty() || !k.name_suffix.is_empty() {
        names::add_prefix_suffix(&mut items, &k.name_prefix, &k.name_suffix);
    }
    set_labels_and_annotations(&mut items, k)?;
    for p in &k.patches_json6902 {
        patcher.apply_patch(&mut items, p)?;
    }
    set_replicas(&mut items, k)?;
    set_images(&mut items, k)?;
    replacements::apply(&mut items, &k.replacements, &patcher)?;
    generators::add_hash_suffixes(&mut items);
    names::fix_references(&mut items, &crds).map_err(|e| Diagnostic::error(e).at(k.path.clone()))?;
    finish(items)
}

/// `labels`, then `commonLabels`, then `commonAnnotations`, on every object.
fn set_labels_and_annotations(items: &mut [Item], k: &Kustomization) -> Result<(), Error> {
    // The field tables are built only for the transformers this kustomization uses.
    let common_labels = if k.common_labels.is_empty() {
        Vec::new()
    } else {
        fields::union(FieldSpec::table(fields::COMMON_LABELS), FieldSpec::table(fields::TEMPLATE_LABELS))
    };
    let label_rules = k
        .labels
        .iter()
        .map(|l| (sorted(&l.pairs), &l.specs))
        .chain((!k.common_labels.is_empty()).then(|| (sorted(&k.common_labels), &common_labels)));
    let annotation_specs =
        if k.common_annotations.is_empty() { Vec::new() } else { FieldSpec::table(fields::COMMON_ANNOTATIONS) };
    let annotation_rule =
        (!k.common_annotations.is_empty()).then(|| (sorted(&k.common_annotations), &annotation_specs));
    for (pairs, specs) in label_rules.chain(annotation_rule) {
        for item in items.iter_mut() {
            let id = item.ident();
            fields::set_entries(&mut item.res.body, (&id.group, &id.version, &id.kind), specs, &pairs).map_err(
                |e| Diagnostic::error(format!("cannot set labels or annotations on `{id}`: {e}")).at(k.path.clone()),
            )?;
        }
    }
    Ok(())
}

/// `replicas`: each entry sets the count of the workloads it names (under any of their
/// names in this kustomization) and must name one.
fn set_replicas(items: &mut [Item], k: &Kustomization) -> Result<(), Error> {
    for rule in &k.replicas {
        let specs = FieldSpec::table(fields::REPLICAS);
        let mut found = false;
        for item in items.iter_mut() {
            let cur = item.ident();
            let hit =
                item.prev.iter().chain(std::iter::once(&cur)).any(|id| {
                    id.name == rule.name && specs.iter().any(|s| s.applies_to(&id.group, &id.version, &id.kind))
                });
            if !hit {
                continue;
            }
            found = true;
            for s in specs.iter().filter(|s| s.applies_to(&cur.group, &cur.version, &cur.kind)) {
                fields::visit(&mut item.res.body, &s.path, Missing::Create, &mut |v| {
                    *v = Value::from(rule.count);
                    Ok(())
                })
                .map_err(|e| rule.at.diag(format!("cannot set replicas of `{cur}`: {e}"), ""))?;
            }
        }
        if !found {
            return Err(rule
                .at
                .diag(
                    format!(
                        "`replicas` entry `{}` matches no Deployment, ReplicaSet, StatefulSet or ReplicationController",
                        rule.name
                    ),
                    "matches nothing",
                )
                .hint(available(items, |_| true))
                .into());
        }
    }
    Ok(())
}

/// `images`: each entry rewrites the container images it names and must name one.
fn set_images(items: &mut [Item], k: &Kustomization) -> Result<(), Error> {
    for (i, rule) in k.images.iter().enumerate() {
        let mut found = false;
        for item in items.iter_mut() {
            let kind = item.res.id.kind.clone();
            found |= fields::set_images(&mut item.res.body, &kind, rule);
        }
        if !found {
            let at = k.images_span(i);
            return Err(at
                .diag(format!("`images` entry `{}` matches no container image", rule.name), "matches nothing")
                .hint("the name is the image without tag or digest, as written in the templates (`nginx`, `registry.example.com/app`)")
                .into());
        }
    }
    Ok(())
}

/// The transformed resources, with their identities read again from their bodies.
fn finish(items: Vec<Item>) -> Result<Vec<Resource>, Error> {
    let mut out = Vec::with_capacity(items.len());
    for mut item in items {
        // Kustomize rewrites every object's annotations (it keeps its own bookkeeping
        // there), which drops an empty `metadata.annotations`; so does strata.
        if let Some(meta) = item.res.body.get_mut("metadata").and_then(Value::as_object_mut)
            && meta.get("annotations").and_then(Value::as_object).is_some_and(|a| a.is_empty())
        {
            meta.shift_remove("annotations");
        }
        item.res.refresh_id()?;
        out.push(item.res);
    }
    Ok(out)
}

fn sorted(pairs: &[(String, String)]) -> Vec<(String, String)> {
    let mut p = pairs.to_vec();
    p.sort();
    p
}

/// A hint listing what there is to select.
fn available(items: &[Item], filter: impl Fn(&Ident) -> bool) -> String {
    let ids: Vec<String> = items.iter().map(Item::ident).filter(|i| filter(i)).map(|i| format!("`{i}`")).collect();
    match ids.len() {
        0 => "there are no resources of that kind".to_string(),
        n if n > 12 => format!("the resources are: {} and {} more", ids[..12].join(", "), n - 12),
        _ => format!("the resources are: {}", ids.join(", ")),
    }
}

/// What applying a patch needs besides the items: the options, the kustomization's
/// CustomResourceDefinitions (which kinds are cluster-scoped) and the merge-key schema.
struct Patcher<'a> {
    opts: &'a ApplyOptions,
    crds: &'a [Resource],
    schema: &'a Schema,
}

impl Patcher<'_> {
    fn cluster_scoped(&self, id: &Ident) -> bool {
        manifest::is_cluster_scoped(&id.group, &id.kind, self.crds)
    }

    fn select(&self, items: &[Item], sel: &Selector) -> Vec<usize> {
        (0..items.len())
            .filter(|&i| {
                let cur = items[i].ident();
                let org = items[i].original();
                let cs = self.cluster_scoped(&cur);
                let (ns, org_ns) = (names::effective_ns(&cur.namespace, cs), names::effective_ns(&org.namespace, cs));
                sel.matches(&Candidate {
                    group: &cur.group,
                    version: &cur.version,
                    kind: &cur.kind,
                    name: &cur.name,
                    original_name: &org.name,
                    namespace: &ns,
                    original_namespace: &org_ns,
                    body: &items[i].res.body,
                })
            })
            .collect()
    }

    fn apply_patch(&self, items: &mut Vec<Item>, p: &Patch) -> Result<(), Error> {
        let selected = match &p.target {
            Some((sel, span)) => {
                let hits = self.select(items, sel);
                if hits.is_empty() {
                    return Err(span
                        .diag(
                            format!("the target of `{}` matches no resource ({})", p.entry, sel.describe()),
                            "matches nothing",
                        )
                        .hint(available(items, |_| true))
                        .into());
                }
                Some(hits)
            }
            None => None,
        };
        match &p.body {
            PatchBody::Json(ops) => {
                for i in selected.unwrap_or_default() {
                    let item = &mut items[i];
                    let id = item.ident();
                    item.remember();
                    json6902::apply(&mut item.res.body, ops).map_err(|e| {
                        let pos = kustomization_locate_op(&p.text.body, e.op);
                        p.text
                            .span(pos, 1)
                            .diag(
                                format!(
                                    "JSON patch operation {} (`{}` at `{}`) failed on `{id}`: {}",
                                    e.op, e.name, e.path, e.message
                                ),
                                "",
                            )
                            .note(format!("patch `{}` of {}", p.entry, p.at.file))
                    })?;
                    check_object(item, p)?;
                }
            }
            PatchBody::Strategic(docs) => match selected {
                Some(hits) => {
                    let doc = &docs[0];
                    let mut deleted = Vec::new();
                    for i in hits {
                        if !self.merge_into(&mut items[i], doc, p)? {
                            deleted.push(i);
                        }
                    }
                    remove_all(items, deleted);
                }
                None => {
                    for doc in docs {
                        let i = self.find_by_identity(items, doc, p)?;
                        if !self.merge_into(&mut items[i], doc, p)? {
                            items.remove(i);
                        }
                    }
                }
            },
        }
        Ok(())
    }

    /// The one resource a strategic merge patch without `target` names by
    /// apiVersion, kind, name and namespace (under any of its names in this kustomization).
    fn find_by_identity(&self, items: &[Item], doc: &kustomization::StrategicDoc, p: &Patch) -> Result<usize, Error> {
        let body = &doc.body;
        let s = |ptr: &str| body.pointer(ptr).and_then(Value::as_str).unwrap_or("");
        let (api_version, kind, name, ns) =
            (s("/apiVersion"), s("/kind"), s("/metadata/name"), s("/metadata/namespace"));
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let want = Ident {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            name: name.into(),
            namespace: ns.into(),
        };
        let cs = self.cluster_scoped(&want);
        let want_ns = names::effective_ns(ns, cs);
        let default_ns = self.opts.default_namespace.as_deref().map(|d| names::effective_ns(d, cs));
        let ns_ok = |id: &Ident| {
            let have = names::effective_ns(&id.namespace, cs);
            have == want_ns || (ns.is_empty() && default_ns.as_deref() == Some(have.as_str()))
        };
        let hits: Vec<usize> = (0..items.len())
            .filter(|&i| {
                let cur = items[i].ident();
                items[i].prev.iter().chain(std::iter::once(&cur)).any(|id| {
                    id.group == want.group
                        && id.version == want.version
                        && id.kind == want.kind
                        && id.name == want.name
                        && ns_ok(id)
                })
            })
            .collect();
        let at = p.text.span(Some((doc.line, 1)), 1);
        match hits.len() {
            1 => Ok(hits[0]),
            0 => Err(at
                .diag(format!("no resource matches the strategic merge patch for `{want}` (`{}`)", p.entry), "")
                .hint(available(items, |i| i.kind == want.kind))
                .hint(
                    "check the patch's `apiVersion`, `kind`, `metadata.name` and namespace, or select with a `target`",
                )
                .into()),
            _ => Err(at
                .diag(format!("the strategic merge patch for `{want}` matches {} resources", hits.len()), "")
                .hint("give the patch a `metadata.namespace` or a `target`")
                .into()),
        }
    }

    /// Merges one patch document into one resource; `false` when it deleted the resource.
    fn merge_into(&self, item: &mut Item, doc: &kustomization::StrategicDoc, p: &Patch) -> Result<bool, Error> {
        let before = item.ident();
        if p.options.allow_name_change || p.options.allow_kind_change {
            item.remember();
        }
        // Like kustomize: the patch takes the object's apiVersion; its kind stays, so
        // that `allowKindChange` can change it.
        let mut patch = doc.body.clone();
        if let Some(m) = patch.as_object_mut() {
            m.insert("apiVersion".into(), Value::String(item.res.api_version().to_string()));
        }
        let root = self.schema.root(item.res.api_version(), &before.kind);
        // Taken, not cloned: a failed merge fails the whole kustomization, and the
        // items are dropped with it.
        let body = std::mem::take(&mut item.res.body);
        let merged = strategic::merge(body, &patch, root).map_err(|e| {
            let field_path: Vec<String> =
                e.path.split('.').take_while(|s| !s.contains('[')).map(str::to_string).collect();
            p.text
                .locate(&field_path)
                .diag(format!("strategic merge patch failed on `{before}`: {e}"), "")
                .note(format!("patch `{}` of {}", p.entry, p.at.file))
        });
        let Some(mut merged) = merged? else { return Ok(false) };
        if !merged.is_object() {
            return Err(p
                .text
                .span(Some((doc.line, 1)), 1)
                .diag("the patch does not leave a Kubernetes object", "")
                .into());
        }
        {
            let m = merged.as_object_mut().expect("checked");
            if !p.options.allow_kind_change {
                m.insert("kind".into(), Value::String(before.kind.clone()));
            }
            let meta = m.entry("metadata").or_insert_with(|| Value::Object(Default::default()));
            if let Some(meta) = meta.as_object_mut() {
                if !p.options.allow_name_change {
                    meta.insert("name".into(), Value::String(before.name.clone()));
                }
                if before.namespace.is_empty() {
                    meta.shift_remove("namespace");
                } else {
                    meta.insert("namespace".into(), Value::String(before.namespace.clone()));
                }
            }
        }
        item.res.body = merged;
        check_object(item, p)?;
        Ok(true)
    }
}

/// After a patch, the object must still have an identity.
fn check_object(item: &mut Item, p: &Patch) -> Result<(), Error> {
    item.res.refresh_id().map_err(|d| {
        Error::from(
            p.at.diag(format!("after `{}`, {}", p.entry, d.message), "")
                .hint("a patch must keep `apiVersion`, `kind` and `metadata.name`"),
        )
    })
}

fn remove_all(items: &mut Vec<Item>, mut indexes: Vec<usize>) {
    indexes.sort_unstable();
    for i in indexes.into_iter().rev() {
        items.remove(i);
    }
}

/// Line and column of JSON patch operation `op` in its text.
fn kustomization_locate_op(text: &str, op: usize) -> Option<(usize, usize)> {
    crate::yaml::locate(text, &[op.to_string()])
}

impl Kustomization {
    /// The `images[i]` entry's position.
    fn images_span(&self, i: usize) -> Span {
        let (line, col) = crate::yaml::locate(&self.text, &["images".to_string(), i.to_string()]).unwrap_or((1, 1));
        Span { file: self.path.as_str().into(), text: self.text.clone(), line, col, len: 1 }
    }
}

#[cfg(test)]
mod tests;
