//! Normalization: what is left of an object once server noise is removed.
//!
//! In: an object as the API server returns it (a live `GET` or a server-side
//! apply dry-run), plus the `ignoreDifferences` rules of `strata.yaml`. Out:
//! the same object without the fields that change on every write or belong to
//! the server, so that two objects compare equal exactly when applying the
//! render would change nothing a user wrote. (Secret values are masked later,
//! when the diff text is made, by [`crate::diff::unified_diff`].)
//!
//! Invariants: every function here is pure and idempotent (normalizing twice
//! equals normalizing once), and normalizing two equal objects gives equal
//! objects. Defaulted fields need no special care: both sides of a live diff
//! come from the server (the dry-run result carries the same defaults as the
//! live object), which is why strata diffs against a dry-run and never against
//! the raw render.

use serde_json::Value;

use crate::diag::Diagnostic;
use crate::manifest::ResId;
use crate::repo::config::IgnoreRule;

/// `metadata` fields the server writes on every change; never part of a diff.
///
/// | field               | why it is dropped                                   |
/// |---------------------|-----------------------------------------------------|
/// | `managedFields`     | field ownership bookkeeping, rewritten on each apply |
/// | `resourceVersion`   | changes on every write                              |
/// | `uid`               | assigned at creation                                |
/// | `generation`        | bumped by the server when `spec` changes            |
/// | `creationTimestamp` | assigned at creation                                |
/// | `selfLink`          | deprecated, set by old servers                      |
const SERVER_METADATA: &[&str] =
    &["managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"];

/// Annotations written by tools and controllers, not by the user.
///
/// | annotation                                         | written by                                  |
/// |----------------------------------------------------|---------------------------------------------|
/// | `kubectl.kubernetes.io/last-applied-configuration` | client-side `kubectl apply` (holds a whole copy of the object, Secret values in clear) |
/// | `deployment.kubernetes.io/revision`                | the Deployment controller                   |
const SERVER_ANNOTATIONS: &[&str] =
    &["kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision"];

/// Removes the fields the server owns: `status`, [`SERVER_METADATA`] and
/// [`SERVER_ANNOTATIONS`] (an `annotations` map left empty goes too).
pub fn normalize(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else { return };
    map.remove("status");
    let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    for f in SERVER_METADATA {
        meta.remove(*f);
    }
    if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        for a in SERVER_ANNOTATIONS {
            ann.remove(*a);
        }
        if ann.is_empty() {
            meta.remove("annotations");
        }
    }
}

/// Checks the `ignoreDifferences` rules of `strata.yaml`: every JSON pointer must
/// be a non-empty RFC 6901 pointer.
pub fn check_ignore_rules(rules: &[IgnoreRule]) -> Result<(), Vec<Diagnostic>> {
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if rule.json_pointers.is_empty() {
            out.push(
                Diagnostic::error(format!("`ignoreDifferences[{i}]` has no `jsonPointers`"))
                    .at(crate::repo::REPO_CONFIG)
                    .hint("list the fields to ignore, like `jsonPointers: [/spec/replicas]`"),
            );
        }
        for p in &rule.json_pointers {
            let why = crate::diff::ignore::pointer_problem(p);
            if let Some(why) = why {
                out.push(
                    Diagnostic::error(format!("invalid JSON pointer `{p}` in `ignoreDifferences[{i}]`: {why}"))
                        .at(crate::repo::REPO_CONFIG)
                        .hint("write RFC 6901 pointers such as `/spec/replicas` or `/metadata/annotations/example.com~1hash`"),
                );
            }
        }
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

/// Whether `rule` applies to the object `id`; omitted selectors match anything.
pub fn rule_matches(rule: &IgnoreRule, id: &ResId) -> bool {
    rule.group.as_deref().is_none_or(|g| g == id.group)
        && rule.kind.as_deref().is_none_or(|k| k == id.kind)
        && rule.name.as_deref().is_none_or(|n| n == id.name)
        && rule.namespace.as_deref().is_none_or(|ns| Some(ns) == id.namespace.as_deref())
}

/// Removes, for every rule matching `id`, the fields its pointers name.
pub fn apply_ignore_rules(obj: &mut Value, id: &ResId, rules: &[IgnoreRule]) {
    for rule in rules.iter().filter(|r| rule_matches(r, id)) {
        for p in &rule.json_pointers {
            remove_pointer(obj, p);
        }
    }
}

/// Removes the value an RFC 6901 pointer names; returns whether it was there.
/// Array elements are addressed by index (`/spec/containers/0/image`).
pub fn remove_pointer(obj: &mut Value, pointer: &str) -> bool {
    let Some(rest) = pointer.strip_prefix('/') else { return false };
    let tokens: Vec<String> = rest.split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect();
    let Some((last, parents)) = tokens.split_last() else { return false };
    let mut cur = obj;
    for t in parents {
        cur = match cur {
            Value::Object(m) => match m.get_mut(t) {
                Some(v) => v,
                None => return false,
            },
            Value::Array(a) => match t.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match cur {
        Value::Object(m) => m.remove(last).is_some(),
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => {
                a.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(path: &str) -> Value {
        let p = format!("{}/tests/fixtures/apiserver/{path}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
        // `.http` fixtures end with a `HTTP <status>` line.
        let body = text.rsplit_once("\nHTTP ").map(|(b, _)| b).unwrap_or(&text);
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn server_fields_are_dropped() {
        let mut obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {
                "name": "shop", "namespace": "shop", "uid": "u", "resourceVersion": "1", "generation": 2,
                "creationTimestamp": "t", "managedFields": [{}], "labels": {"a": "b"},
                "annotations": {"deployment.kubernetes.io/revision": "3", "kubectl.kubernetes.io/last-applied-configuration": "{}"}
            },
            "spec": {"replicas": 3},
            "status": {"replicas": 3}
        });
        normalize(&mut obj);
        assert_eq!(
            obj,
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop", "namespace": "shop", "labels": {"a": "b"}}, "spec": {"replicas": 3}})
        );
        // User annotations stay.
        let mut obj = json!({"metadata": {"annotations": {"team": "x", "deployment.kubernetes.io/revision": "1"}}});
        normalize(&mut obj);
        assert_eq!(obj, json!({"metadata": {"annotations": {"team": "x"}}}));
    }

    #[test]
    fn recorded_live_object_and_unchanged_dry_run_normalize_equal() {
        // A real server's live object and its dry-run differ in managedFields
        // times and nothing else a user wrote.
        for (live, dry) in [
            ("live/deployment-shop.json", "dryrun-unchanged/deployment-shop.http"),
            ("live/service-shop.json", "dryrun-unchanged/service-shop.http"),
            ("live/secret-shop-db.json", "dryrun-unchanged/secret-shop-db.http"),
            ("live/configmap-shop-config.json", "dryrun-unchanged/configmap-shop-config.http"),
            ("live/configwatcher-shop-watcher.json", "dryrun-unchanged/configwatcher-shop-watcher.http"),
        ] {
            let (mut a, mut b) = (fixture(live), fixture(dry));
            normalize(&mut a);
            normalize(&mut b);
            assert_eq!(a, b, "{live} vs {dry}");
            assert!(a["metadata"].get("managedFields").is_none() && a.get("status").is_none());
        }
        let (mut a, mut b) = (fixture("live/deployment-shop.json"), fixture("dryrun-changed/deployment-shop.http"));
        normalize(&mut a);
        normalize(&mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn normalize_is_idempotent() {
        for f in [
            "live/deployment-shop.json",
            "live/customresourcedefinition-configwatchers.k8spatterns.io.json",
            "live/service-shop-after-ops-edit.json",
            "live/namespace-shop.json",
        ] {
            let mut once = fixture(f);
            normalize(&mut once);
            let mut twice = once.clone();
            normalize(&mut twice);
            assert_eq!(once, twice, "{f}");
        }
    }

    #[test]
    fn pointers_remove_what_they_name() {
        let base = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "a"}, {"image": "b"}]}}},
                          "metadata": {"annotations": {"example.com/hash": "x", "a~b": "y"}}});
        let cases: &[(&str, bool, Value)] = &[
            (
                "/spec/replicas",
                true,
                json!({"spec": {"template": {"spec": {"containers": [{"image": "a"}, {"image": "b"}]}}}, "metadata": {"annotations": {"example.com/hash": "x", "a~b": "y"}}}),
            ),
            (
                "/spec/template/spec/containers/1/image",
                true,
                json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "a"}, {}]}}}, "metadata": {"annotations": {"example.com/hash": "x", "a~b": "y"}}}),
            ),
            (
                "/spec/template/spec/containers/0",
                true,
                json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "b"}]}}}, "metadata": {"annotations": {"example.com/hash": "x", "a~b": "y"}}}),
            ),
            (
                "/metadata/annotations/example.com~1hash",
                true,
                json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "a"}, {"image": "b"}]}}}, "metadata": {"annotations": {"a~b": "y"}}}),
            ),
            (
                "/metadata/annotations/a~0b",
                true,
                json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "a"}, {"image": "b"}]}}}, "metadata": {"annotations": {"example.com/hash": "x"}}}),
            ),
            ("/spec/missing", false, base.clone()),
            ("/spec/template/spec/containers/7/image", false, base.clone()),
            ("/spec/replicas/deeper", false, base.clone()),
            ("spec", false, base.clone()),
        ];
        for (p, found, expect) in cases {
            let mut v = base.clone();
            assert_eq!(remove_pointer(&mut v, p), *found, "{p}");
            assert_eq!(&v, expect, "{p}");
        }
    }

    #[test]
    fn ignore_rules_select_by_group_kind_name_namespace() {
        let rule = |g: Option<&str>, k: Option<&str>, n: Option<&str>, ns: Option<&str>| IgnoreRule {
            group: g.map(str::to_string),
            kind: k.map(str::to_string),
            name: n.map(str::to_string),
            namespace: ns.map(str::to_string),
            json_pointers: vec!["/spec/replicas".into()],
        };
        let dep = ResId {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "shop".into(),
        };
        let cases = [
            (rule(None, None, None, None), true),
            (rule(Some("apps"), Some("Deployment"), None, None), true),
            (rule(Some(""), Some("Deployment"), None, None), false),
            (rule(Some("apps"), Some("StatefulSet"), None, None), false),
            (rule(None, Some("Deployment"), Some("shop"), Some("shop")), true),
            (rule(None, Some("Deployment"), Some("web"), None), false),
            (rule(None, None, None, Some("other")), false),
        ];
        for (r, expect) in cases {
            assert_eq!(rule_matches(&r, &dep), expect, "{r:?}");
            let mut v = json!({"spec": {"replicas": 5, "paused": false}});
            apply_ignore_rules(&mut v, &dep, std::slice::from_ref(&r));
            assert_eq!(v["spec"].get("replicas").is_none(), expect);
        }
    }

    #[test]
    fn bad_ignore_rules_are_errors_naming_strata_yaml() {
        let r = |ps: &[&str]| IgnoreRule {
            json_pointers: ps.iter().map(|s| s.to_string()).collect(),
            ..IgnoreRule::default()
        };
        assert!(check_ignore_rules(&[r(&["/spec/replicas", "/a~1b~0c"])]).is_ok());
        let cases: &[(&[&str], &str)] = &[
            (&[""], "the empty pointer"),
            (&["spec/replicas"], "starts with `/`"),
            (&["/a~2"], "`~` must be followed"),
            (&[], "has no `jsonPointers`"),
        ];
        for (ps, msg) in cases {
            let e = check_ignore_rules(&[r(ps)]).unwrap_err();
            assert!(e[0].message.contains(msg), "{ps:?}: {}", e[0].message);
            assert_eq!(e[0].path.as_deref(), Some("strata.yaml"));
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// JSON objects whose keys often are the ones normalization looks at.
        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                "[a-z]{0,6}".prop_map(Value::from)
            ];
            leaf.prop_recursive(4, 48, 5, |inner| {
                let key = prop_oneof![
                    "[a-z]{1,5}",
                    Just("status".to_string()),
                    Just("metadata".to_string()),
                    Just("managedFields".to_string()),
                    Just("resourceVersion".to_string()),
                    Just("annotations".to_string()),
                    Just("deployment.kubernetes.io/revision".to_string()),
                ];
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                    prop::collection::btree_map(key, inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #[test]
            fn normalize_is_idempotent(v in json_value()) {
                let mut once = v.clone();
                normalize(&mut once);
                let mut twice = once.clone();
                normalize(&mut twice);
                prop_assert_eq!(once, twice);
            }
        }
    }
}
