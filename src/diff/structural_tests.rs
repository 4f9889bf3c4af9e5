use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn deploy(containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": 2, "template": {"spec": {"containers": containers}}},
    })
}

fn container(name: &str, image: &str) -> Value {
    json!({"name": name, "image": image, "args": ["--a", "--b"],
           "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}],
           "ports": [{"containerPort": 80, "protocol": "TCP"}]})
}

/// (path, kind) of each change, for compact expectations.
fn paths(changes: &[FieldChange]) -> Vec<(String, &'static str)> {
    changes.iter().map(|c| (c.path.clone(), c.kind.word())).collect()
}

const C: &str = "spec.template.spec.containers";

fn containers_of(v: &mut Value) -> &mut Vec<Value> {
    v["spec"]["template"]["spec"]["containers"].as_array_mut().unwrap()
}

#[test]
fn table_of_changes() {
    let base = deploy(json!([container("web", "nginx:1"), container("sidecar", "envoy:1")]));
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        v
    };
    type Case<'a> = (&'a str, Value, Vec<(String, &'a str)>);
    let cases: Vec<Case> = vec![
        ("nothing", base.clone(), vec![]),
        (
            "image",
            edit(&|v| containers_of(v)[0]["image"] = json!("nginx:2")),
            vec![(format!("{C}[name=web].image"), "changed")],
        ),
        ("containers reordered", edit(&|v| containers_of(v).reverse()), vec![(C.to_string(), "order changed")]),
        (
            "env reordered",
            edit(&|v| containers_of(v)[0]["env"].as_array_mut().unwrap().swap(0, 2)),
            vec![(format!("{C}[name=web].env"), "order changed")],
        ),
        (
            "env inserted in the middle",
            edit(&|v| containers_of(v)[0]["env"].as_array_mut().unwrap().insert(1, json!({"name": "X", "value": "x"}))),
            vec![(format!("{C}[name=web].env[name=X]"), "added")],
        ),
        (
            "port added",
            edit(&|v| containers_of(v)[0]["ports"].as_array_mut().unwrap().push(json!({"containerPort": 9090}))),
            vec![(format!("{C}[name=web].ports[containerPort=9090]"), "added")],
        ),
        (
            "args stay positional",
            edit(&|v| containers_of(v)[1]["args"].as_array_mut().unwrap().reverse()),
            vec![(format!("{C}[name=sidecar].args[0]"), "changed"), (format!("{C}[name=sidecar].args[1]"), "changed")],
        ),
        ("container removed", edit(&|v| drop(containers_of(v).pop())), vec![(format!("{C}[name=sidecar]"), "removed")]),
        (
            "annotation with a dot",
            edit(&|v| v["metadata"]["annotations"] = json!({"a.io/b": "x"})),
            vec![("metadata.annotations".into(), "added")],
        ),
        ("replicas", edit(&|v| v["spec"]["replicas"] = json!(0)), vec![("spec.replicas".into(), "changed")]),
    ];
    for (what, after, expect) in cases {
        let got = compare("apps/v1", "Deployment", &base, &after);
        assert_eq!(paths(&got), expect, "{what}");
        assert_eq!(got.is_empty(), base == after, "{what}");
    }
}

#[test]
fn changes_carry_before_and_after() {
    let b = deploy(json!([container("web", "nginx:1")]));
    let mut a = b.clone();
    a["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    a["metadata"]["annotations"] = json!({"example.com/hash": "x"});
    let got = compare("apps/v1", "Deployment", &b, &a);
    assert_eq!(got[0].path, "metadata.annotations");
    assert_eq!((got[0].before.clone(), got[0].after.clone()), (None, Some(json!({"example.com/hash": "x"}))));
    assert_eq!(got[1].before, Some(json!("nginx:1")));
    assert_eq!(got[1].after, Some(json!("nginx:2")));
    // A key that is not a plain word is quoted.
    let mut c = a.clone();
    c["metadata"]["annotations"]["example.com/hash"] = json!("y");
    let got = compare("apps/v1", "Deployment", &a, &c);
    assert_eq!(paths(&got), [(r#"metadata.annotations["example.com/hash"]"#.to_string(), "changed")]);
}

#[test]
fn finalizers_are_a_set_and_custom_resources_are_keyed_by_name() {
    let cm = |f: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": f}});
    let got = compare("v1", "ConfigMap", &cm(json!(["a", "b"])), &cm(json!(["b", "a", "c"])));
    assert_eq!(
        paths(&got),
        [("metadata.finalizers".to_string(), "order changed"), ("metadata.finalizers[c]".to_string(), "added")]
    );
    let w = |items: Value| json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"parts": items}});
    let b = w(json!([{"name": "x", "size": 1}, {"name": "y", "size": 2}]));
    let a = w(json!([{"name": "y", "size": 3}, {"name": "x", "size": 1}]));
    let got = compare("example.com/v1", "Widget", &b, &a);
    assert_eq!(
        paths(&got),
        [("spec.parts".to_string(), "order changed"), ("spec.parts[name=y].size".into(), "changed")]
    );
    // Entries without distinct names stay positional.
    let (b, a) = (w(json!([{"size": 1}, {"size": 2}])), w(json!([{"size": 2}, {"size": 1}])));
    assert_eq!(
        paths(&compare("example.com/v1", "Widget", &b, &a)),
        [("spec.parts[0].size".to_string(), "changed"), ("spec.parts[1].size".to_string(), "changed")]
    );
}

#[test]
fn summary_lists_the_first_paths() {
    let c = |p: &str, k| FieldChange { path: p.into(), kind: k, before: None, after: None };
    let changes: Vec<FieldChange> = (0..8).map(|i| c(&format!("a{i}"), ChangeKind::Changed)).collect();
    assert_eq!(summary(&changes[..2]), "~ a0, ~ a1");
    assert_eq!(summary(&changes), "~ a0, ~ a1, ~ a2, ~ a3, ~ a4, ~ a5, and 2 more");
    assert_eq!(summary(&[c("x", ChangeKind::OrderChanged)]), "↕ x");
}

/// Containers with distinct names and varied fields.
fn containers() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::btree_set("[a-z]{1,6}", 1..6).prop_flat_map(|names| {
        let n = names.len();
        (Just(names), prop::collection::vec(("[a-z]{1,4}", 0u16..3), n)).prop_map(|(names, fields)| {
            names
                .into_iter()
                .zip(fields)
                .map(|(name, (image, port))| {
                    json!({"name": name, "image": image, "ports": [{"containerPort": 8000 + port}],
                           "env": [{"name": "E", "value": image}]})
                })
                .collect()
        })
    })
}

proptest! {
    #[test]
    fn permuting_a_keyed_list_is_only_order_changed(list in containers(), seed in any::<u64>()) {
        let mut shuffled = list.clone();
        // A deterministic permutation from the seed (rotate, then reverse on odd seeds).
        let k = (seed as usize) % shuffled.len();
        shuffled.rotate_left(k);
        if seed % 2 == 1 { shuffled.reverse(); }
        let got = compare("apps/v1", "Deployment", &deploy(Value::from(list.clone())), &deploy(Value::from(shuffled.clone())));
        if list == shuffled {
            prop_assert!(got.is_empty());
        } else {
            prop_assert_eq!(paths(&got), vec![(C.to_string(), "order changed")]);
        }
    }

    #[test]
    fn changing_one_entry_is_one_change_at_its_keyed_path(list in containers(), pick in any::<prop::sample::Index>(), image in "[A-Z]{1,3}") {
        let i = pick.index(list.len());
        let mut after = list.clone();
        after[i]["image"] = json!(image);
        let name = list[i]["name"].as_str().unwrap().to_string();
        let got = compare("apps/v1", "Deployment", &deploy(Value::from(list.clone())), &deploy(Value::from(after)));
        prop_assert_eq!(got.len(), 1);
        prop_assert_eq!(&got[0].path, &format!("{C}[name={name}].image"));
        prop_assert_eq!(got[0].kind, ChangeKind::Changed);
        prop_assert_eq!(got[0].before.as_ref(), Some(&list[i]["image"]));
        prop_assert_eq!(got[0].after.as_ref(), Some(&json!(image)));
    }

    #[test]
    fn a_body_compared_with_itself_has_no_change(list in containers()) {
        let d = deploy(Value::from(list));
        prop_assert!(compare("apps/v1", "Deployment", &d, &d).is_empty());
    }
}
