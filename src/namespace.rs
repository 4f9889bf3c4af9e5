//! Namespace: the namespace a target deploys into, given to its objects.
//!
//! In: a target's merged values and its `component.yaml`, then its rendered
//! resources. Out: the target's namespace ([`for_target`]: `Values.namespace`,
//! else the component's `namespace:`, else none) and the same resources with
//! that namespace set on every namespaced object that names none
//! ([`set_default`]), as `kubectl apply -n` or an Argo CD destination would.
//!
//! The driver runs this stage on the rendered resources before patching: a
//! kustomization's patch targets and `namespace:` field see the namespace each
//! object will have (kustomize reads resources that already carry theirs), and
//! the patch stage is given the same namespace for the objects it adds.
//!
//! Invariants: an object that names a namespace keeps it; cluster-scoped kinds
//! (built in, or defined by a CustomResourceDefinition in the same render with
//! `scope: Cluster`) never get one.

use serde_json::Value;

use crate::manifest::{self, Resource};
use crate::repo::ComponentConfig;

/// The target's namespace: `namespace` in its merged values, else the
/// component's `namespace:`; `None` when neither sets one.
pub fn for_target(values: &Value, component: Option<&ComponentConfig>) -> Option<String> {
    values
        .get("namespace")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| component.and_then(|c| c.namespace.clone()))
}

/// The stage: with a namespace, [`set_default_namespace`]; without one, nothing.
pub fn set_default(resources: &mut [Resource], namespace: Option<&str>) {
    if let Some(ns) = namespace {
        set_default_namespace(resources, ns);
    }
}

/// Gives namespaced objects without a namespace the target's namespace, as
/// `kubectl apply -n` or an Argo CD destination would.
pub fn set_default_namespace(resources: &mut [Resource], namespace: &str) {
    let crds: Vec<Resource> = resources.iter().filter(|r| r.id.kind == "CustomResourceDefinition").cloned().collect();
    for r in resources.iter_mut() {
        if r.id.namespace.is_none() && !manifest::is_cluster_scoped(&r.id.group, &r.id.kind, &crds) {
            let meta = r.metadata_mut();
            // Keep `namespace` next to `name`, where people look for it.
            let at = meta.keys().position(|k| k == "name").map(|i| i + 1).unwrap_or(meta.len());
            meta.shift_insert(at, "namespace".into(), Value::String(namespace.to_string()));
            r.id.namespace = Some(namespace.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::manifest::TemplateOrigin;

    #[test]
    fn values_win_over_the_component() {
        let component = ComponentConfig { namespace: Some("from-component".into()), ..Default::default() };
        let cases: &[(Value, Option<&ComponentConfig>, Option<&str>)] = &[
            (json!({"namespace": "from-values"}), Some(&component), Some("from-values")),
            (json!({}), Some(&component), Some("from-component")),
            (json!({"namespace": 3}), None, None),
            (json!({}), None, None),
        ];
        for (values, component, want) in cases {
            assert_eq!(for_target(values, *component).as_deref(), *want, "{values}");
        }
    }

    #[test]
    fn only_namespaced_objects_without_one_get_it() {
        let src = TemplateOrigin { template: Arc::from("a/v1/x.yaml"), doc: 0 };
        let mk = |v: Value| Resource::new(v, src.clone()).unwrap();
        let mut rs = vec![
            mk(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {}}})),
            mk(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "kept"}})),
            mk(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "c"}})),
        ];
        set_default(&mut rs, None);
        assert!(rs[0].id.namespace.is_none());
        set_default(&mut rs, Some("shop"));
        let namespaces: Vec<Option<&str>> = rs.iter().map(|r| r.id.namespace.as_deref()).collect();
        assert_eq!(namespaces, [Some("shop"), Some("kept"), None]);
        let keys: Vec<&String> = rs[0].body["metadata"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "namespace", "labels"], "`namespace` goes next to `name`");
    }
}
