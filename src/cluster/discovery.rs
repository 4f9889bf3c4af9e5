//! Discovery: which kinds a cluster serves, under which resource and scope.
//!
//! In: the API server's discovery documents (through kube-rs: aggregated
//! discovery, two requests, with a fallback to per-group discovery for servers
//! older than 1.26). Out: a [`Catalog`] mapping `(group, version, kind)` to the
//! resource's plural name, scope and verbs, and [`resolve`], which classifies a
//! rendered object's `apiVersion`/`kind` as served, waiting for a
//! CustomResourceDefinition of the same bundle, or unknown.
//!
//! Invariant: the catalog is plain data, so resolution is a pure function
//! tested without a cluster.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::manifest::{Resource, group_of};

/// One kind a cluster serves, in one group version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKind {
    /// API group, empty for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// The resource name in URLs (`deployments`).
    pub plural: String,
    pub namespaced: bool,
    /// Verbs the resource supports (`get`, `list`, `patch`, …).
    pub verbs: Vec<String>,
}

impl ApiKind {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }
}

/// The kinds a cluster serves.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    kinds: BTreeMap<(String, String, String), ApiKind>,
    /// Per group and kind, the version to list it in (the group's preferred one).
    preferred: BTreeMap<(String, String), String>,
}

/// Kinds never searched for objects to prune: nobody applies Events, and
/// CustomResourceDefinitions are never labelled (see [`crate::tracking`]).
const NOT_PRUNED: &[(&str, &str)] =
    &[("", "Event"), ("events.k8s.io", "Event"), ("apiextensions.k8s.io", "CustomResourceDefinition")];

impl Catalog {
    /// A catalog of `kinds`; a kind served in several versions is listed in the first given.
    pub fn new(kinds: impl IntoIterator<Item = ApiKind>) -> Self {
        let mut c = Catalog::default();
        for k in kinds {
            c.preferred.entry((k.group.clone(), k.kind.clone())).or_insert_with(|| k.version.clone());
            c.kinds.insert((k.group.clone(), k.version.clone(), k.kind.clone()), k);
        }
        c
    }

    /// Builds the catalog from kube-rs discovery results (top-level resources
    /// only), each group's preferred version first.
    pub fn from_discovery(d: &kube::Discovery) -> Self {
        let mut kinds = Vec::new();
        let api_kind = |(ar, caps): (kube::discovery::ApiResource, kube::discovery::ApiCapabilities)| ApiKind {
            group: ar.group,
            version: ar.version,
            kind: ar.kind,
            plural: ar.plural,
            namespaced: caps.scope == kube::discovery::Scope::Namespaced,
            verbs: caps.operations,
        };
        for g in d.groups() {
            kinds.extend(g.recommended_resources().into_iter().map(api_kind));
            for v in g.versions() {
                kinds.extend(g.versioned_resources(v).into_iter().map(api_kind));
            }
        }
        Catalog::new(kinds)
    }

    /// The kind `group`/`kind` in the version it is listed in, if served.
    pub fn preferred(&self, group: &str, kind: &str) -> Option<&ApiKind> {
        let version = self.preferred.get(&(group.to_string(), kind.to_string()))?;
        self.kinds.get(&(group.to_string(), version.clone(), kind.to_string()))
    }

    /// Every kind an object strata applied could have, once (in its preferred
    /// version), that can be listed: where the prune search looks. Sorted by
    /// group and kind.
    pub fn listable(&self) -> Vec<&ApiKind> {
        self.preferred
            .iter()
            .filter(|((g, k), _)| !NOT_PRUNED.contains(&(g.as_str(), k.as_str())))
            .filter_map(|((g, k), v)| self.kinds.get(&(g.clone(), v.clone(), k.clone())))
            .filter(|k| k.supports("list"))
            .collect()
    }

    pub fn get(&self, api_version: &str, kind: &str) -> Option<&ApiKind> {
        let (group, version) = split_api_version(api_version);
        self.kinds.get(&(group.to_string(), version.to_string(), kind.to_string()))
    }

    /// Versions under which the cluster serves `group`/`kind`.
    pub fn versions_of(&self, group: &str, kind: &str) -> Vec<&str> {
        self.kinds.values().filter(|k| k.group == group && k.kind == kind).map(|k| k.version.as_str()).collect()
    }

    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// What the cluster makes of a rendered object's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Served: this is where it lives.
    Served(ApiKind),
    /// Not served yet, but a CustomResourceDefinition in the same bundle
    /// defines it: it would exist once the bundle is applied in order.
    PendingCrd { crd: String, namespaced: bool },
    /// Neither served nor defined by the bundle; `served_versions` lists the
    /// versions the cluster does serve for this group and kind, if any.
    Unknown { served_versions: Vec<String> },
}

/// Classifies `resource`'s apiVersion/kind against the catalog and the
/// CustomResourceDefinitions of the same environment's render.
pub fn resolve(catalog: &Catalog, resource: &Resource, crds: &[&Resource]) -> Resolution {
    let api_version = resource.api_version();
    let kind = resource.id.kind.as_str();
    if let Some(k) = catalog.get(api_version, kind) {
        return Resolution::Served(k.clone());
    }
    let (group, version) = split_api_version(api_version);
    for crd in crds {
        let spec = crd.body.get("spec");
        let g = spec.and_then(|s| s.get("group")).and_then(Value::as_str);
        let k = spec.and_then(|s| s.get("names")).and_then(|n| n.get("kind")).and_then(Value::as_str);
        let serves_version = spec.and_then(|s| s.get("versions")).and_then(Value::as_array).is_some_and(|vs| {
            vs.iter().any(|v| {
                v.get("name").and_then(Value::as_str) == Some(version)
                    && v.get("served").and_then(Value::as_bool) != Some(false)
            })
        });
        if g == Some(group) && k == Some(kind) && serves_version {
            let namespaced = spec.and_then(|s| s.get("scope")).and_then(Value::as_str) != Some("Cluster");
            return Resolution::PendingCrd { crd: crd.id.name.clone(), namespaced };
        }
    }
    Resolution::Unknown {
        served_versions: catalog.versions_of(group_of(api_version), kind).into_iter().map(str::to_string).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::TemplateOrigin;
    use serde_json::json;
    use std::sync::Arc;

    fn res(v: Value) -> Resource {
        Resource::new(v, TemplateOrigin { template: Arc::from("shop/v1/x.yaml"), doc: 0 }).unwrap()
    }

    fn catalog() -> Catalog {
        let k = |g: &str, v: &str, kind: &str, plural: &str, ns: bool| ApiKind {
            group: g.into(),
            version: v.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced: ns,
            verbs: vec!["get".into(), "list".into(), "patch".into()],
        };
        Catalog::new([
            k("", "v1", "ConfigMap", "configmaps", true),
            k("", "v1", "Namespace", "namespaces", false),
            k("apps", "v1", "Deployment", "deployments", true),
            k("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
        ])
    }

    #[test]
    fn kinds_resolve_to_resources_or_say_why_not() {
        let crd = res(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "configwatchers.k8spatterns.io"},
            "spec": {"group": "k8spatterns.io", "scope": "Namespaced", "names": {"kind": "ConfigWatcher", "plural": "configwatchers"},
                     "versions": [{"name": "v1", "served": true, "storage": true}, {"name": "v0", "served": false}]}
        }));
        let obj = |api: &str, kind: &str| res(json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"}}));
        let c = catalog();
        let cases = [
            (obj("apps/v1", "Deployment"), "served deployments namespaced"),
            (obj("v1", "Namespace"), "served namespaces cluster"),
            (obj("k8spatterns.io/v1", "ConfigWatcher"), "pending configwatchers.k8spatterns.io"),
            (obj("k8spatterns.io/v0", "ConfigWatcher"), "unknown []"),
            (obj("example.com/v1", "Widget"), "unknown []"),
            (obj("policy/v1beta1", "PodDisruptionBudget"), "unknown [\"v1\"]"),
        ];
        for (r, expect) in cases {
            let got = match resolve(&c, &r, &[&crd]) {
                Resolution::Served(k) => {
                    format!("served {} {}", k.plural, if k.namespaced { "namespaced" } else { "cluster" })
                }
                Resolution::PendingCrd { crd, .. } => format!("pending {crd}"),
                Resolution::Unknown { served_versions } => format!("unknown {served_versions:?}"),
            };
            assert_eq!(got, expect, "{} {}", r.api_version(), r.id.kind);
        }
    }

    #[test]
    fn api_versions_split_into_group_and_version() {
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
        assert_eq!(split_api_version("v1"), ("", "v1"));
        assert_eq!(split_api_version("networking.k8s.io/v1"), ("networking.k8s.io", "v1"));
    }
}
