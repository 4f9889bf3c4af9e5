//! The annotations that steer ordering: waves and object dependencies.
//!
//! In: a [`Resource`]. Out: its [`Wave`] (from `strata.dev/wave`, else Argo CD's
//! `argocd.argoproj.io/sync-wave`, else 0) and the objects its
//! `config.kubernetes.io/depends-on` names, in kpt's reference format. A bad value
//! is an error naming the template that produced the object.

use crate::diag::Diagnostic;
use crate::manifest::{ResId, Resource};

pub const WAVE: &str = "strata.dev/wave";
pub const ARGO_WAVE: &str = "argocd.argoproj.io/sync-wave";
pub const DEPENDS_ON: &str = "config.kubernetes.io/depends-on";

/// Which annotation set an object's wave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaveSource {
    Default,
    Strata,
    ArgoCd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Wave {
    pub value: i64,
    pub source: WaveSource,
}

impl Wave {
    /// `wave 2 (`strata.dev/wave`)`, `wave 0 (default)`.
    pub fn describe(&self) -> String {
        match self.source {
            WaveSource::Default => format!("wave {} (default)", self.value),
            WaveSource::Strata => format!("wave {} (`{WAVE}`)", self.value),
            WaveSource::ArgoCd => format!("wave {} (`{ARGO_WAVE}`)", self.value),
        }
    }
}

/// An annotation's string value; a non-string value (Kubernetes rejects those) is an error.
fn annotation<'r>(r: &'r Resource, key: &str) -> Result<Option<&'r str>, Diagnostic> {
    let Some(v) = r.metadata().and_then(|m| m.get("annotations")).and_then(|a| a.get(key)) else {
        return Ok(None);
    };
    match v.as_str() {
        Some(s) => Ok(Some(s)),
        None => Err(object_error(r, format!("annotation `{key}` of `{}` must be a string, found `{v}`", r.id))
            .hint(format!("quote the value: `{key}: \"{v}\"`; Kubernetes accepts only string annotations"))),
    }
}

fn object_error(r: &Resource, message: String) -> Diagnostic {
    Diagnostic::error(message)
        .at(r.source.template.to_string())
        .note(format!("document {} of the template's output", r.source.doc + 1))
}

/// The object's wave. `strata.dev/wave` wins over Argo CD's annotation when both are set.
pub fn wave(r: &Resource) -> Result<Wave, Diagnostic> {
    for (key, source) in [(WAVE, WaveSource::Strata), (ARGO_WAVE, WaveSource::ArgoCd)] {
        if let Some(text) = annotation(r, key)? {
            // Argo CD parses with Go's `strconv.Atoi`: an optional sign and digits, nothing else.
            let value = text.parse::<i64>().map_err(|_| {
                object_error(r, format!("annotation `{key}` of `{}` must be an integer, found `{text}`", r.id))
                    .hint("waves are whole numbers like \"-1\", \"0\" or \"2\"; lower waves apply first")
            })?;
            return Ok(Wave { value, source });
        }
    }
    Ok(Wave { value: 0, source: WaveSource::Default })
}

/// The objects named by `config.kubernetes.io/depends-on`: a comma-separated list
/// of `group/namespaces/NAMESPACE/Kind/name` (namespaced) or `group/Kind/name`
/// (cluster-scoped), with an empty group for the core API (`/namespaces/shop/ConfigMap/web`).
pub fn depends_on(r: &Resource) -> Result<Vec<ResId>, Diagnostic> {
    let Some(text) = annotation(r, DEPENDS_ON)? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for reference in text.split(',').map(str::trim) {
        let parts: Vec<&str> = reference.split('/').collect();
        let id = match parts.as_slice() {
            [group, "namespaces", ns, kind, name] if !ns.is_empty() && !kind.is_empty() && !name.is_empty() => ResId {
                group: group.to_string(),
                kind: kind.to_string(),
                namespace: Some(ns.to_string()),
                name: name.to_string(),
            },
            [group, kind, name] if !kind.is_empty() && !name.is_empty() => {
                ResId { group: group.to_string(), kind: kind.to_string(), namespace: None, name: name.to_string() }
            }
            _ => {
                return Err(object_error(
                    r,
                    format!("annotation `{DEPENDS_ON}` of `{}` has a malformed reference `{reference}`", r.id),
                )
                .hint("write `group/namespaces/NAMESPACE/Kind/name` for namespaced objects or `group/Kind/name` for cluster-scoped ones; the core group is empty: `/namespaces/shop/ConfigMap/web`")
                .hint("separate several references with commas"));
            }
        };
        out.push(id);
    }
    Ok(out)
}

/// `id` in kpt's reference format, for messages.
pub fn reference(id: &ResId) -> String {
    match &id.namespace {
        Some(ns) => format!("{}/namespaces/{ns}/{}/{}", id.group, id.kind, id.name),
        None => format!("{}/{}/{}", id.group, id.kind, id.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::TemplateOrigin;
    use serde_json::{Value, json};
    use std::sync::Arc;

    fn object(annotations: Value) -> Resource {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop", "annotations": annotations}});
        Resource::new(body, TemplateOrigin { template: Arc::from("web/v1/cm.yaml"), doc: 0 }).unwrap()
    }

    #[test]
    fn waves() {
        type Case = (Value, Result<(i64, WaveSource), &'static str>);
        let cases: &[Case] = &[
            (json!({}), Ok((0, WaveSource::Default))),
            (json!({"strata.dev/wave": "2"}), Ok((2, WaveSource::Strata))),
            (json!({"argocd.argoproj.io/sync-wave": "-1"}), Ok((-1, WaveSource::ArgoCd))),
            (json!({"argocd.argoproj.io/sync-wave": "-1", "strata.dev/wave": "3"}), Ok((3, WaveSource::Strata))),
            (json!({"strata.dev/wave": "+4"}), Ok((4, WaveSource::Strata))),
            (json!({"strata.dev/wave": "two"}), Err("must be an integer, found `two`")),
            (json!({"strata.dev/wave": "1.5"}), Err("must be an integer, found `1.5`")),
            (json!({"strata.dev/wave": " 1"}), Err("must be an integer")),
            (json!({"argocd.argoproj.io/sync-wave": ""}), Err("must be an integer, found ``")),
            (json!({"strata.dev/wave": 2}), Err("must be a string, found `2`")),
        ];
        for (ann, want) in cases {
            let got = wave(&object(ann.clone()));
            match (got, want) {
                (Ok(w), Ok((v, s))) => assert_eq!((w.value, w.source), (*v, *s), "{ann}"),
                (Err(d), Err(msg)) => {
                    assert!(d.message.contains(msg), "{ann}: {}", d.message);
                    assert_eq!(d.path.as_deref(), Some("web/v1/cm.yaml"));
                }
                (got, want) => panic!("{ann}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn dependency_references() {
        let id = |g: &str, k: &str, ns: Option<&str>, n: &str| ResId {
            group: g.into(),
            kind: k.into(),
            namespace: ns.map(str::to_string),
            name: n.into(),
        };
        let cases: &[(&str, Result<Vec<ResId>, &str>)] = &[
            ("apps/namespaces/shop/StatefulSet/db", Ok(vec![id("apps", "StatefulSet", Some("shop"), "db")])),
            ("/namespaces/shop/ConfigMap/web", Ok(vec![id("", "ConfigMap", Some("shop"), "web")])),
            (
                "rbac.authorization.k8s.io/ClusterRole/reader",
                Ok(vec![id("rbac.authorization.k8s.io", "ClusterRole", None, "reader")]),
            ),
            (
                "/Namespace/shop, apps/namespaces/shop/Deployment/api",
                Ok(vec![id("", "Namespace", None, "shop"), id("apps", "Deployment", Some("shop"), "api")]),
            ),
            ("apps/Deployment", Err("malformed reference `apps/Deployment`")),
            ("apps/namespace/shop/Deployment/api", Err("malformed reference")),
            ("/namespaces//ConfigMap/web", Err("malformed reference")),
            ("a/b/c,", Err("malformed reference ``")),
        ];
        for (text, want) in cases {
            let got = depends_on(&object(json!({ DEPENDS_ON: text })));
            match (got, want) {
                (Ok(ids), Ok(w)) => assert_eq!(&ids, w, "{text}"),
                (Err(d), Err(msg)) => assert!(d.message.contains(msg), "{text}: {}", d.message),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
        assert_eq!(reference(&id("", "ConfigMap", Some("shop"), "web")), "/namespaces/shop/ConfigMap/web");
        assert_eq!(reference(&id("", "Namespace", None, "shop")), "/Namespace/shop");
    }
}
