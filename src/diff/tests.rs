use std::sync::Arc;

use serde_json::{Value, json};

use super::markdown::MarkdownOptions;
use super::text::TextOptions;
use super::*;
use crate::compiled::Batch;
use crate::manifest::TemplateOrigin;
use crate::repo::Target;

/// A render of `(address, version, bodies)` targets.
fn compiled(targets: &[(&str, &str, Vec<Value>)]) -> Compiled {
    let targets = targets
        .iter()
        .map(|(address, version, bodies)| {
            let (component, environment) = address.split_once('/').unwrap();
            let template: Arc<str> = Arc::from(format!("{component}/{version}/t.yaml").as_str());
            CompiledTarget {
                target: Target {
                    component: component.into(),
                    environment: environment.into(),
                    dir: address.to_string(),
                    version_dir: format!("{component}/{version}"),
                    version: version.to_string(),
                },
                resources: bodies
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        Resource::new(b.clone(), TemplateOrigin { template: template.clone(), doc: i }).unwrap()
                    })
                    .collect(),
            }
        })
        .collect();
    Compiled { batch: Batch { targets, info: SourceInfo::default(), tracking: None }, warnings: vec![] }
}

fn cm(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "shop"}, "data": data})
}

fn deploy(replicas: u64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
    })
}

fn secret(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"}, "type": "Opaque", "data": data})
}

fn opts() -> CompareOptions {
    CompareOptions::default()
}

#[test]
fn identical_renders_do_not_differ() {
    let a = compiled(&[("web/east", "v1", vec![deploy(1), cm("c", json!({"k": "v"}))])]);
    let r = compare(&a, &a, &opts());
    assert!(!r.differs());
    assert_eq!(r.counts(), Counts { unchanged: 2, ..Counts::default() });
    assert!(r.environments[0].targets[0].changes.is_empty());
}

#[test]
fn reordered_keys_are_not_a_change() {
    let a = compiled(&[(
        "web/east",
        "v1",
        vec![json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}})],
    )]);
    let b = compiled(&[(
        "web/east",
        "v1",
        vec![json!({"data": {"b": "2", "a": "1"}, "metadata": {"name": "c"}, "kind": "ConfigMap", "apiVersion": "v1"})],
    )]);
    assert!(!compare(&a, &b, &opts()).differs());
}

#[test]
fn matches_by_identity_and_counts_per_target_and_environment() {
    let before = compiled(&[
        ("web/east", "v1", vec![deploy(1), cm("old", json!({}))]),
        ("web/west", "v1", vec![deploy(1)]),
        ("db/east", "v1", vec![cm("gone", json!({}))]),
    ]);
    let after = compiled(&[
        ("web/east", "v2", vec![cm("new", json!({})), deploy(3)]),
        ("web/west", "v1", vec![deploy(1)]),
        ("api/east", "v1", vec![cm("api", json!({}))]),
    ]);
    let r = compare(&before, &after, &opts());
    assert!(r.differs());
    let envs: Vec<(&str, Counts)> = r.environments.iter().map(|e| (e.environment.as_str(), e.counts)).collect();
    assert_eq!(
        envs,
        [
            ("east", Counts { added: 2, removed: 2, changed: 1, ..Counts::default() }),
            ("west", Counts { unchanged: 1, ..Counts::default() }),
        ]
    );
    let east = &r.environments[0];
    let addrs: Vec<(&str, Option<Status>, String)> =
        east.targets.iter().map(|t| (t.address.as_str(), t.presence(), t.versions())).collect();
    assert_eq!(
        addrs,
        [
            ("api/east", Some(Status::Added), "v1".to_string()),
            ("db/east", Some(Status::Removed), "v1".to_string()),
            ("web/east", None, "v1 → v2".to_string()),
        ]
    );
    let web: Vec<(Status, String)> = east.targets[2].changes.iter().map(|c| (c.status, c.id.to_string())).collect();
    assert_eq!(
        web,
        [
            (Status::Added, "ConfigMap/shop/new".to_string()),
            (Status::Removed, "ConfigMap/shop/old".to_string()),
            (Status::Changed, "apps/Deployment/shop/web".to_string()),
        ]
    );
    let names: Vec<&str> = r.touched_environments().map(|e| e.environment.as_str()).collect();
    assert_eq!(names, ["east"]);
}

#[test]
fn a_changed_resource_gets_a_unified_diff_with_three_lines_of_context() {
    let r = compare(
        &compiled(&[("web/east", "v1", vec![deploy(1)])]),
        &compiled(&[("web/east", "v1", vec![deploy(2)])]),
        &opts(),
    );
    let c = &r.environments[0].targets[0].changes[0];
    assert_eq!(c.source.as_deref(), Some("web/v1/t.yaml"));
    assert_eq!(
        c.diff,
        "--- a/apps/Deployment/shop/web\n\
         +++ b/apps/Deployment/shop/web\n\
         @@ -6,7 +6,7 @@\n   \
         name: web\n   \
         namespace: shop\n \
         spec:\n\
         -  replicas: 1\n\
         +  replicas: 2\n   \
         selector:\n     \
         matchLabels:\n       \
         app: web\n"
    );
}

#[test]
fn added_and_removed_resources_show_their_whole_body() {
    let r = compare(
        &compiled(&[("web/east", "v1", vec![])]),
        &compiled(&[("web/east", "v1", vec![cm("c", json!({"k": "v"}))])]),
        &opts(),
    );
    let d = &r.environments[0].targets[0].changes[0].diff;
    assert!(d.starts_with("--- /dev/null\n+++ b/ConfigMap/shop/c\n@@ -0,0 +1,7 @@\n+apiVersion: v1\n"), "{d}");
    assert!(d.contains("+  k: v\n"), "{d}");
}

#[test]
fn secret_values_are_masked_unless_asked() {
    let before = compiled(&[("db/east", "v1", vec![secret(json!({"password": "aHVudGVyMg==", "user": "YWRtaW4="}))])]);
    let after = compiled(&[("db/east", "v1", vec![secret(json!({"password": "c3dvcmRmaXNo", "user": "YWRtaW4="}))])]);
    let r = compare(&before, &after, &opts());
    let c = &r.environments[0].targets[0].changes[0];
    assert_eq!(c.status, Status::Changed);
    assert!(c.diff.contains("-  password: '*** (before)'\n+  password: '*** (after)'\n"), "{}", c.diff);
    assert!(c.diff.contains("   user: '***'\n"), "{}", c.diff);
    for leak in ["aHVudGVyMg", "c3dvcmRmaXNo", "YWRtaW4", "hunter2", "swordfish", "admin"] {
        assert!(!c.diff.contains(leak), "leaked {leak}: {}", c.diff);
        for out in [
            text::render(&r, TextOptions::default()),
            markdown::render(&r, &MarkdownOptions::default()),
            json::render(&r, json::JsonOptions::default()),
        ] {
            assert!(!out.contains(leak), "leaked {leak}: {out}");
        }
    }
    let shown = compare(&before, &after, &CompareOptions { show_secrets: true, ..CompareOptions::default() });
    let d = &shown.environments[0].targets[0].changes[0].diff;
    assert!(d.contains("-  password: aHVudGVyMg==\n+  password: c3dvcmRmaXNo\n"), "{d}");
}

#[test]
fn a_secret_that_only_changes_a_masked_value_still_counts_as_changed() {
    let r = compare(
        &compiled(&[("db/east", "v1", vec![secret(json!({"k": "YQ=="}))])]),
        &compiled(&[("db/east", "v1", vec![secret(json!({"k": "Yg=="}))])]),
        &opts(),
    );
    assert_eq!(r.counts().changed, 1);
}

#[test]
fn text_report_lists_environments_targets_and_diffs() {
    let r = compare(
        &compiled(&[("web/east", "v1", vec![deploy(1)]), ("web/west", "v1", vec![deploy(1)])]),
        &compiled(&[("web/east", "v2", vec![deploy(2), cm("c", json!({}))]), ("web/west", "v1", vec![deploy(1)])]),
        &opts(),
    );
    let t = text::render(&r, TextOptions::default());
    assert!(!t.contains('\x1b'), "no colour unless asked");
    for want in [
        "environment east: 1 added, 1 changed\n",
        "  target web/east (v1 → v2): 1 added, 1 changed\n",
        "    + added ConfigMap/shop/c  (web/v2/t.yaml)\n",
        "    ~ changed apps/Deployment/shop/web  (web/v2/t.yaml)\n",
        "-  replicas: 1\n+  replicas: 2\n",
        "environment west: 1 unchanged\n",
        "1 of 2 environments differs: 1 added, 1 changed, 1 unchanged\n",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
    let stat = text::render(&r, TextOptions { stat: true, color: false });
    assert!(stat.contains("~ changed apps/Deployment/shop/web") && !stat.contains("replicas"), "{stat}");
    let coloured = text::render(&r, TextOptions { stat: false, color: true });
    assert!(coloured.contains("\x1b[32m+  replicas: 2\x1b[0m"), "{coloured}");
    assert_eq!(text::environment_names(&r), "east\n");
}

#[test]
fn json_report_has_the_documented_shape() {
    let r = compare(
        &compiled(&[("web/east", "v1", vec![deploy(1)])]),
        &compiled(&[("web/east", "v1", vec![deploy(2)]), ("api/east", "v1", vec![cm("c", json!({}))])]),
        &opts(),
    );
    let v: Value = serde_json::from_str(&json::render(&r, json::JsonOptions::default())).unwrap();
    assert_eq!(v["differs"], true);
    assert_eq!(v["counts"], json!({"added": 1, "removed": 0, "changed": 1, "unchanged": 0}));
    let env = &v["environments"][0];
    assert_eq!(env["environment"], "east");
    assert_eq!(env["targets"][0]["address"], "api/east");
    assert_eq!(env["targets"][0]["status"], "added");
    assert_eq!(env["targets"][0]["from_version"], Value::Null);
    let res = &env["targets"][1]["resources"][0];
    assert_eq!(res["status"], "changed");
    assert_eq!(res["id"], "apps/Deployment/shop/web");
    assert_eq!(
        (res["group"].as_str(), res["kind"].as_str(), res["namespace"].as_str()),
        (Some("apps"), Some("Deployment"), Some("shop"))
    );
    assert!(res["diff"].as_str().unwrap().contains("+  replicas: 2"));
    let stat: Value = serde_json::from_str(&json::render(&r, json::JsonOptions { stat: true })).unwrap();
    assert!(stat["environments"][0]["targets"][1]["resources"][0].get("diff").is_none());
}

#[test]
fn markdown_has_a_table_and_a_block_per_target() {
    let r = compare(
        &compiled(&[("web/east", "v1", vec![deploy(1)]), ("web/west", "v1", vec![deploy(1)])]),
        &compiled(&[("web/east", "v2", vec![deploy(2)]), ("web/west", "v1", vec![deploy(1)])]),
        &opts(),
    );
    let m = markdown::render(&r, &MarkdownOptions::default());
    for want in [
        "**1 of 2 environments differs**: 1 changed, 1 unchanged.",
        "| Environment | Target | Version | Added | Removed | Changed | Unchanged |",
        "| east | web/east | v1 → v2 | 0 | 0 | 1 | 0 |",
        "1 environment without differences.",
        "<details><summary><code>web/east</code>: 1 changed</summary>",
        "- **changed** `apps/Deployment/shop/web` from `web/v2/t.yaml`",
        "```diff\n--- a/apps/Deployment/shop/web\n",
        "-  replicas: 1\n+  replicas: 2\n",
        "</details>",
    ] {
        assert!(m.contains(want), "missing {want:?} in:\n{m}");
    }
    assert!(!m.contains("web/west |"), "unchanged targets are not rows");
    let same = markdown::render(&compare(&r_side(), &r_side(), &opts()), &MarkdownOptions::default());
    assert!(same.contains("No differences in the rendered output of 1 environment"), "{same}");
}

fn r_side() -> Compiled {
    compiled(&[("web/east", "v1", vec![deploy(1)])])
}

#[test]
fn markdown_stays_under_the_limit_and_says_what_was_cut() {
    // 40 targets, each changing a ConfigMap with a 4 kB value: far more than 20,000 characters.
    let big = |tag: &str| json!({"k": format!("{tag}{}", "x".repeat(4_000))});
    let side = |tag: &str| -> Compiled {
        let owned: Vec<(String, Vec<Value>)> =
            (0..40).map(|i| (format!("app{i:02}/east"), vec![cm("c", big(tag))])).collect();
        let refs: Vec<(&str, &str, Vec<Value>)> = owned.iter().map(|(a, b)| (a.as_str(), "v1", b.clone())).collect();
        compiled(&refs)
    };
    let r = compare(&side("a"), &side("b"), &opts());
    let opts = MarkdownOptions {
        max_chars: 20_000,
        command: Some("strata diff --from main".into()),
        ..MarkdownOptions::default()
    };
    let m = markdown::render(&r, &opts);
    assert!(m.len() <= 20_000, "{} characters", m.len());
    assert!(m.contains("| east | app39/east | v1 | 0 | 0 | 1 | 0 |"), "every row is in the table");
    assert!(m.contains("This comment was cut to stay under 20000 characters."), "{m}");
    assert!(m.contains("Diffs left out for `app01/east`"), "{m}");
    assert!(!m.contains("Targets left out"), "every target keeps its names block: {m}");
    assert!(m.contains("<code>app39/east</code>"), "{m}");
    assert!(m.contains("```diff\n--- a/ConfigMap/shop/c"), "the first targets keep their diffs");
    assert!(m.contains("Run `strata diff --from main` to see everything."), "{m}");
    assert_eq!(m.matches("<details>").count(), m.matches("</details>").count(), "blocks are whole");
    assert_eq!(m.matches("```diff").count() * 2, m.matches("```").count(), "fences are closed");
}

#[test]
fn markdown_fences_outlast_backticks_in_the_diff() {
    let r = compare(
        &compiled(&[("web/east", "v1", vec![cm("c", json!({"k": "a ``` b"}))])]),
        &compiled(&[("web/east", "v1", vec![cm("c", json!({"k": "a ```` c"}))])]),
        &opts(),
    );
    let m = markdown::render(&r, &MarkdownOptions::default());
    assert!(m.contains("\n`````diff\n"), "{m}");
}

#[test]
fn cluster_vocabulary_renames_statuses() {
    let mut r =
        compare(&compiled(&[("web/east", "v1", vec![])]), &compiled(&[("web/east", "v1", vec![deploy(1)])]), &opts());
    r.words = Vocabulary::Cluster;
    let t = text::render(&r, TextOptions::default());
    assert!(t.contains("+ create apps/Deployment/shop/web"), "{t}");
    let v: Value = serde_json::from_str(&json::render(&r, json::JsonOptions { stat: true })).unwrap();
    assert_eq!(v["counts"], json!({"create": 1, "prune": 0, "update": 0, "conflict": 0, "unchanged": 0}));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z0-9 ]{0,8}".prop_map(Value::from)
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn canonical_is_idempotent_and_preserves_equality(v in json_value()) {
            let c = canonical(&v);
            prop_assert_eq!(&canonical(&c), &c);
            prop_assert_eq!(&c, &v);
        }

        #[test]
        fn a_diff_of_a_thing_with_itself_is_empty(data in prop::collection::btree_map("[a-z]{1,4}", "[a-z0-9]{0,6}", 0..5), is_secret in any::<bool>()) {
            let data: Value = Value::Object(data.into_iter().map(|(k, v)| (k, Value::from(v))).collect());
            let body = if is_secret { secret(data) } else { cm("c", data) };
            let side = compiled(&[("web/east", "v1", vec![body])]);
            let r = compare(&side, &side, &CompareOptions::default());
            prop_assert!(!r.differs());
            prop_assert_eq!(r.counts().unchanged, 1);
        }
    }
}
