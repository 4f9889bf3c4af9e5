//! The planner by example: kinds, waves, phases, components, `depends-on`, errors.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::*;
use crate::manifest::TemplateOrigin;

pub(super) fn target(component: &str) -> Target {
    Target {
        component: component.to_string(),
        environment: "east".to_string(),
        dir: format!("{component}/east"),
        version_dir: format!("{component}/v1"),
        version: "v1".to_string(),
    }
}

/// An object: `"apps/v1 Deployment shop/web"`, `"v1 Namespace shop"`, with annotations.
pub(super) fn obj(spec: &str, annotations: &[(&str, &str)]) -> Resource {
    let mut parts = spec.split(' ');
    let (api, kind, id) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    let mut meta = Map::new();
    match id.split_once('/') {
        Some((ns, name)) => {
            meta.insert("namespace".into(), json!(ns));
            meta.insert("name".into(), json!(name));
        }
        None => {
            meta.insert("name".into(), json!(id));
        }
    }
    if !annotations.is_empty() {
        let a: Map<String, Value> = annotations.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        meta.insert("annotations".into(), Value::Object(a));
    }
    let mut body = json!({"apiVersion": api, "kind": kind, "metadata": meta});
    if kind == "CustomResourceDefinition" {
        let (plural, group) = id.split_once('.').unwrap();
        let mut k = plural.trim_end_matches('s').to_string();
        k[..1].make_ascii_uppercase();
        body["spec"] = json!({"group": group, "names": {"kind": k, "plural": plural}, "scope": "Namespaced"});
    }
    let template = format!("x/v1/{}.yaml", id.replace('/', "-"));
    Resource::new(body, TemplateOrigin { template: Arc::from(template.as_str()), doc: 0 }).unwrap()
}

fn graph(edges: &[(&str, &[&str])]) -> ComponentGraph {
    ComponentGraph::new(edges.iter().map(|(c, d)| (c.to_string(), d.iter().map(|s| s.to_string()).collect()))).unwrap()
}

struct Case {
    targets: Vec<Target>,
    objects: Vec<(usize, Resource)>,
}

impl Case {
    fn new(components: &[&str]) -> Case {
        Case { targets: components.iter().map(|c| target(c)).collect(), objects: Vec::new() }
    }
    fn add(mut self, component: usize, spec: &str, annotations: &[(&str, &str)]) -> Case {
        self.objects.push((component, obj(spec, annotations)));
        self
    }
    fn items(&self) -> Vec<(&Target, &Resource)> {
        self.objects.iter().map(|(c, r)| (&self.targets[*c], r)).collect()
    }
    fn plan(&self, g: &ComponentGraph) -> Result<Vec<(String, String, String)>, Error> {
        let p = plan_environment("east", &self.items(), g)?;
        Ok(p.objects.iter().map(|o| (o.phase.slug(), o.resource.id.to_string(), o.explain())).collect())
    }
}

#[test]
fn kind_order_and_ties() {
    let c = Case::new(&["web"])
        .add(0, "apps/v1 Deployment shop/web", &[])
        .add(0, "example.com/v1 Widget shop/w", &[])
        .add(0, "v1 Service shop/web", &[])
        .add(0, "v1 ConfigMap shop/b", &[])
        .add(0, "v1 ConfigMap other/a", &[])
        .add(0, "v1 ConfigMap shop/a", &[])
        .add(0, "coordination.k8s.io/v1 Lease shop/l", &[]);
    let got = c.plan(&ComponentGraph::default()).unwrap();
    let want = [
        ("wave-0-resources", "ConfigMap/other/a", "first in wave 0 (default)"),
        ("wave-0-resources", "ConfigMap/shop/a", "same kind, by namespace"),
        ("wave-0-resources", "ConfigMap/shop/b", "same kind, by name"),
        ("wave-0-resources", "Service/shop/web", "kind order: ConfigMap before Service"),
        ("wave-0-resources", "apps/Deployment/shop/web", "kind order: Service before Deployment"),
        (
            "wave-0-resources",
            "coordination.k8s.io/Lease/shop/l",
            "kind order: Deployment before Lease (built-in kinds outside Helm's install order follow it, by name)",
        ),
        (
            "wave-0-resources",
            "example.com/Widget/shop/w",
            "kind order: Lease before Widget (custom resources follow built-in kinds, by name)",
        ),
    ];
    let got: Vec<(&str, &str, &str)> = got.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    assert_eq!(got, want);
}

#[test]
fn waves_and_phases() {
    let c = Case::new(&["platform", "web"])
        .add(1, "apps/v1 Deployment shop/web", &[("strata.dev/wave", "2")])
        .add(1, "v1 ConfigMap shop/web", &[])
        .add(0, "example.com/v1 Widget shop/w", &[("argocd.argoproj.io/sync-wave", "-1")])
        .add(
            0,
            "apiextensions.k8s.io/v1 CustomResourceDefinition widgets.example.com",
            &[("argocd.argoproj.io/sync-wave", "-1")],
        )
        .add(0, "v1 Namespace shop", &[("strata.dev/wave", "-1")])
        .add(1, "v1 Namespace other", &[]);
    let got = c.plan(&ComponentGraph::default()).unwrap();
    let want = [
        (
            "wave-minus-1-crds",
            "apiextensions.k8s.io/CustomResourceDefinition/widgets.example.com",
            "CustomResourceDefinitions apply first in wave -1 (`argocd.argoproj.io/sync-wave`), so their kinds exist",
        ),
        (
            "wave-minus-1-namespaces",
            "Namespace/shop",
            "Namespaces apply before the objects in them, in wave -1 (`strata.dev/wave`)",
        ),
        ("wave-minus-1-resources", "example.com/Widget/shop/w", "first in wave -1 (`argocd.argoproj.io/sync-wave`)"),
        ("wave-0-namespaces", "Namespace/other", "Namespaces apply before the objects in them, in wave 0 (default)"),
        ("wave-0-resources", "ConfigMap/shop/web", "first in wave 0 (default)"),
        ("wave-2-resources", "apps/Deployment/shop/web", "first in wave 2 (`strata.dev/wave`)"),
    ];
    let got: Vec<(&str, &str, &str)> = got.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    assert_eq!(got, want);

    let items = c.items();
    let p = plan_environment("east", &items, &ComponentGraph::default()).unwrap();
    let phases: Vec<(String, usize)> = p.phases().iter().map(|(ph, objs)| (ph.slug(), objs.len())).collect();
    assert_eq!(phases.len(), 6);
    assert_eq!(phases[0], ("wave-minus-1-crds".to_string(), 1));
    let deletion: Vec<String> = p.deletion_order().map(|o| o.resource.id.to_string()).collect();
    let mut apply: Vec<String> = p.objects.iter().map(|o| o.resource.id.to_string()).collect();
    apply.reverse();
    assert_eq!(deletion, apply);
}

#[test]
fn component_dependencies_come_first() {
    let g = graph(&[("api", &["db"]), ("db", &[]), ("web", &["api"]), ("cache", &[])]);
    let c = Case::new(&["api", "db", "web", "cache"])
        .add(0, "v1 ConfigMap shop/api", &[])
        .add(1, "apps/v1 StatefulSet shop/db", &[])
        .add(2, "v1 ConfigMap shop/web", &[])
        .add(3, "apps/v1 Deployment shop/cache", &[])
        // Namespaces are hoisted above component order: they run nothing.
        .add(2, "v1 Namespace shop", &[]);
    let got = c.plan(&g).unwrap();
    let ids: Vec<&str> = got.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "Namespace/shop",
            "apps/Deployment/shop/cache",
            "apps/StatefulSet/shop/db",
            "ConfigMap/shop/api",
            "ConfigMap/shop/web"
        ]
    );
    assert_eq!(got[3].2, "component `api` depends on `db`");
    assert_eq!(got[4].2, "component `web` depends on `api`, `db`");
}

#[test]
fn depends_on_overrides_kind_order() {
    let g = graph(&[("app", &[])]);
    let c = Case::new(&["app"])
        .add(0, "v1 ConfigMap shop/settings", &[(annotations::DEPENDS_ON, "apps/namespaces/shop/Deployment/migrate")])
        .add(0, "apps/v1 Deployment shop/migrate", &[])
        .add(0, "v1 Secret shop/token", &[])
        .add(0, "v1 Service shop/app", &[]);
    let got = c.plan(&g).unwrap();
    let ids: Vec<(&str, &str)> = got.iter().map(|(_, id, why)| (id.as_str(), why.as_str())).collect();
    assert_eq!(
        ids,
        [
            ("Secret/shop/token", "first in wave 0 (default)"),
            ("Service/shop/app", "kind order: Secret before Service"),
            ("apps/Deployment/shop/migrate", "kind order: Service before Deployment"),
            (
                "ConfigMap/shop/settings",
                "depends on `apps/Deployment/shop/migrate` (`config.kubernetes.io/depends-on`)"
            ),
        ]
    );
}

#[test]
fn component_barrier_holds_across_depths() {
    // `late` (depth 0) waits for an object of `slow`; `mid` depends on `late`, so
    // it must wait too, though its key (depth 1, ConfigMap) is smaller than `slow`'s
    // Deployment (depth 1).
    let g = graph(&[("late", &[]), ("mid", &["late"]), ("slow", &["base"]), ("base", &[]), ("deep", &["slow"])]);
    let c = Case::new(&["late", "mid", "slow", "base", "deep"])
        .add(0, "v1 ConfigMap ns/late", &[(annotations::DEPENDS_ON, "apps/namespaces/ns/Deployment/slow")])
        .add(1, "v1 ConfigMap ns/mid", &[])
        .add(2, "apps/v1 Deployment ns/slow", &[])
        .add(3, "v1 ConfigMap ns/base", &[])
        .add(4, "v1 ConfigMap ns/deep", &[]);
    let got = c.plan(&g).unwrap();
    let ids: Vec<(&str, &str)> = got.iter().map(|(_, id, why)| (id.as_str(), why.as_str())).collect();
    assert_eq!(
        ids,
        [
            ("ConfigMap/ns/base", "first in wave 0 (default)"),
            ("apps/Deployment/ns/slow", "component `slow` depends on `base`"),
            ("ConfigMap/ns/late", "depends on `apps/Deployment/ns/slow` (`config.kubernetes.io/depends-on`)"),
            // Without the barrier on `late`, `mid` (depth 1, a ConfigMap) would go before `slow`.
            ("ConfigMap/ns/mid", "component `mid` depends on `late`"),
            ("ConfigMap/ns/deep", "component `deep` depends on `base`, `slow`"),
        ]
    );
}

#[test]
fn bad_input_is_reported_with_the_template() {
    let g = graph(&[("api", &["db"]), ("db", &[])]);
    let cases: Vec<(Case, &[&str])> = vec![
        (
            Case::new(&["api"]).add(
                0,
                "v1 ConfigMap shop/a",
                &[(annotations::DEPENDS_ON, "/namespaces/shop/Secret/nope")],
            ),
            &["`ConfigMap/shop/a` depends on `/namespaces/shop/Secret/nope`, which is not in environment `east`"],
        ),
        (
            Case::new(&["api"]).add(0, "v1 ConfigMap shop/a", &[(annotations::DEPENDS_ON, "/Secret/s")]).add(
                0,
                "v1 Secret shop/s",
                &[],
            ),
            &["which is not in environment `east`", "did you mean `/namespaces/shop/Secret/s`?"],
        ),
        (
            Case::new(&["api"]).add(
                0,
                "v1 ConfigMap shop/a",
                &[(annotations::DEPENDS_ON, "/namespaces/shop/ConfigMap/a")],
            ),
            &["`ConfigMap/shop/a` depends on itself"],
        ),
        (
            Case::new(&["api"])
                .add(0, "v1 ConfigMap shop/a", &[(annotations::DEPENDS_ON, "/namespaces/shop/Secret/s")])
                .add(0, "v1 Secret shop/s", &[("strata.dev/wave", "1")]),
            &[
                "`ConfigMap/shop/a` depends on `Secret/shop/s`, which applies later: it is in wave 1 (`strata.dev/wave`), after wave 0 (default)",
            ],
        ),
        (
            Case::new(&["api"])
                .add(0, "v1 Namespace shop", &[(annotations::DEPENDS_ON, "/namespaces/shop/Secret/s")])
                .add(0, "v1 Secret shop/s", &[]),
            &["which applies later: wave 0: resources apply after wave 0: Namespaces"],
        ),
        (
            Case::new(&["api"])
                .add(0, "v1 ConfigMap shop/a", &[(annotations::DEPENDS_ON, "/namespaces/shop/Secret/s")])
                .add(0, "v1 Secret shop/s", &[(annotations::DEPENDS_ON, "/namespaces/shop/ConfigMap/a")]),
            &["dependency cycle in environment `east`: `Secret/shop/s`, `ConfigMap/shop/a`"],
        ),
        (
            // db's object waits for api's, but api depends on db.
            Case::new(&["api", "db"])
                .add(1, "v1 Secret shop/db", &[(annotations::DEPENDS_ON, "/namespaces/shop/ConfigMap/api")])
                .add(0, "v1 ConfigMap shop/api", &[]),
            &["dependency cycle in environment `east`: `Secret/shop/db`, `ConfigMap/shop/api`"],
        ),
        (
            Case::new(&["api"]).add(0, "example.com/v1 Widget shop/w", &[]).add(
                0,
                "apiextensions.k8s.io/v1 CustomResourceDefinition widgets.example.com",
                &[("strata.dev/wave", "1")],
            ),
            &["`example.com/Widget/shop/w` (wave 0 (default)) would apply before its CustomResourceDefinition"],
        ),
        (
            Case::new(&["api"]).add(0, "v1 ConfigMap shop/a", &[]).add(
                0,
                "v1 Namespace shop",
                &[("strata.dev/wave", "3")],
            ),
            &["`ConfigMap/shop/a` (wave 0 (default)) would apply before its Namespace `Namespace/shop` (wave 3"],
        ),
        (
            Case::new(&["api"]).add(0, "v1 ConfigMap shop/a", &[("strata.dev/wave", "first")]).add(
                0,
                "v1 ConfigMap shop/b",
                &[(annotations::DEPENDS_ON, "apps/Deployment")],
            ),
            &["must be an integer, found `first`", "malformed reference `apps/Deployment`"],
        ),
    ];
    for (case, wants) in cases {
        let e = case.plan(&g).unwrap_err();
        let text = e.to_string();
        for want in wants {
            assert!(text.contains(want), "want {want:?} in:\n{text}");
        }
        // Every problem names the template of the object that has it.
        for d in &e.diagnostics {
            assert!(d.path.as_deref().is_some_and(|p| p.starts_with("x/v1/")), "{d}");
        }
    }
}

#[test]
fn cycle_through_a_component_names_the_rule() {
    let g = graph(&[("api", &["db"]), ("db", &[])]);
    let c = Case::new(&["api", "db"])
        .add(1, "v1 Secret shop/db", &[(annotations::DEPENDS_ON, "/namespaces/shop/ConfigMap/api")])
        .add(0, "v1 ConfigMap shop/api", &[]);
    let e = c.plan(&g).unwrap_err();
    let d = &e.diagnostics[0];
    let notes = d.notes.join("\n");
    assert!(notes.contains("`ConfigMap/shop/api` of component `api` applies after every object of component `db`, including `Secret/shop/db` (`dependsOn` in api/component.yaml)"), "{notes}");
    assert!(
        notes.contains(
            "`Secret/shop/db` depends on `ConfigMap/shop/api` (`config.kubernetes.io/depends-on` in x/v1/shop-db.yaml)"
        ),
        "{notes}"
    );
}
