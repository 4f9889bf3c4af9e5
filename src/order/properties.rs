//! The planner's properties: generated objects, components and edges, checked against
//! the rules by brute force.

use proptest::prelude::*;
use serde_json::Value;

use super::tests::{obj, target};
use super::*;

/// A generated object: component, kind index, namespace, name, wave annotation,
/// and indexes of objects it names in `depends-on`.
#[derive(Debug, Clone)]
struct Gen {
    component: usize,
    kind: usize,
    ns: usize,
    name: usize,
    wave: Option<(bool, i64)>,
    deps: Vec<usize>,
}

const KINDS: &[(&str, &str, bool)] = &[
    ("v1", "ConfigMap", true),
    ("apps/v1", "Deployment", true),
    ("v1", "Service", true),
    ("batch/v1", "Job", true),
    ("v1", "Namespace", false),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", false),
    ("coordination.k8s.io/v1", "Lease", true),
    ("example.com/v1", "Widget", true),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition", false),
];
const COMPONENTS: &[&str] = &["c0", "c1", "c2", "c3"];

fn gen_object(with_deps: bool) -> impl Strategy<Value = Gen> {
    let deps = if with_deps { prop::collection::vec(0usize..40, 0..2).boxed() } else { Just(Vec::new()).boxed() };
    (
        0..COMPONENTS.len(),
        0..KINDS.len(),
        0usize..2,
        0usize..3,
        prop::option::weighted(0.3, (any::<bool>(), -1i64..3)),
        deps,
    )
        .prop_map(|(component, kind, ns, name, wave, deps)| Gen { component, kind, ns, name, wave, deps })
}

fn build(gens: &[Gen]) -> Vec<(usize, Resource)> {
    let id_of = |g: &Gen| -> (String, String, Option<String>, String) {
        let (api, kind, namespaced) = KINDS[g.kind];
        let name = match kind {
            "CustomResourceDefinition" => "widgets.example.com".to_string(),
            "Namespace" => ["a", "b", "c"][g.name].to_string(),
            _ => format!("n{}", g.name),
        };
        (api.to_string(), kind.to_string(), namespaced.then(|| ["a", "b"][g.ns].to_string()), name)
    };
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<&Gen> = gens.iter().filter(|g| seen.insert(id_of(g))).collect();
    let mut out = Vec::new();
    for g in &unique {
        let (api, kind, ns, name) = id_of(g);
        let spec = match &ns {
            Some(ns) => format!("{api} {kind} {ns}/{name}"),
            None => format!("{api} {kind} {name}"),
        };
        let mut ann: Vec<(String, String)> = Vec::new();
        if let Some((strata, w)) = g.wave {
            ann.push((if strata { annotations::WAVE } else { annotations::ARGO_WAVE }.to_string(), w.to_string()));
        }
        let refs: Vec<String> = g
            .deps
            .iter()
            .filter(|d| **d < unique.len())
            .map(|d| {
                let (api, kind, ns, name) = id_of(unique[*d]);
                let group = crate::manifest::group_of(&api).to_string();
                annotations::reference(&ResId { group, kind, namespace: ns, name })
            })
            .collect();
        if !refs.is_empty() {
            ann.push((annotations::DEPENDS_ON.to_string(), refs.join(",")));
        }
        let ann: Vec<(&str, &str)> = ann.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        out.push((g.component, obj(&spec, &ann)));
    }
    out
}

fn gen_graph() -> impl Strategy<Value = ComponentGraph> {
    // Edges only towards lower-numbered components: never a cycle.
    prop::collection::vec(any::<bool>(), 6).prop_map(|bits| {
        let mut deps: Vec<(String, Vec<String>)> = COMPONENTS.iter().map(|c| (c.to_string(), Vec::new())).collect();
        let mut bit = bits.into_iter();
        for (a, (_, d)) in deps.iter_mut().enumerate() {
            for b in COMPONENTS.iter().take(a) {
                if bit.next().unwrap_or(false) {
                    d.push(b.to_string());
                }
            }
        }
        ComponentGraph::new(deps).unwrap()
    })
}

/// What the planner must refuse, found by brute force over every pair.
fn expected_error(items: &[(&Target, &Resource)], g: &ComponentGraph) -> Option<String> {
    let n = items.len();
    let waves: Vec<i64> = items.iter().map(|(_, r)| annotations::wave(r).unwrap().value).collect();
    let class = |r: &Resource| {
        if kinds::is_crd(r) {
            0
        } else if kinds::is_namespace(r) {
            1
        } else {
            2
        }
    };
    let phase = |i: usize| (waves[i], class(items[i].1));
    let index = |id: &ResId| items.iter().position(|(_, r)| &r.id == id);
    // must[a] holds b when b has to apply before a, inside one phase.
    let mut must: Vec<Vec<usize>> = vec![Vec::new(); n];
    for a in 0..n {
        let (ta, ra) = items[a];
        for id in annotations::depends_on(ra).unwrap() {
            let Some(b) = index(&id) else { return Some("missing".into()) };
            if a == b {
                return Some("self".into());
            }
            if phase(b) > phase(a) {
                return Some("later phase".into());
            }
            if phase(b) == phase(a) {
                must[a].push(b);
            }
        }
        for b in 0..n {
            let (tb, rb) = items[b];
            if phase(a) == phase(b) && g.depends_on(&ta.component, &tb.component) {
                must[a].push(b);
            }
            let defines = kinds::is_crd(rb)
                && rb.body.pointer("/spec/group").and_then(Value::as_str) == Some(ra.id.group.as_str())
                && rb.body.pointer("/spec/names/kind").and_then(Value::as_str) == Some(ra.id.kind.as_str());
            let holds = kinds::is_namespace(rb) && ra.id.namespace.as_deref() == Some(rb.id.name.as_str());
            if (defines || holds) && waves[b] > waves[a] {
                return Some("implicit dependency in a later wave".into());
            }
        }
    }
    // Cycle check: repeatedly remove nodes whose constraints are all removed.
    let mut removed = vec![false; n];
    loop {
        let next = (0..n).find(|&a| !removed[a] && must[a].iter().all(|&b| removed[b]));
        match next {
            Some(a) => removed[a] = true,
            None => break,
        }
    }
    removed.iter().any(|r| !r).then(|| "cycle".into())
}

fn key_of(o: &Placed<'_>, depths: &BTreeMap<String, usize>, crd_groups: &BTreeSet<String>) -> impl Ord {
    let r = o.resource;
    (
        o.phase,
        depths[&o.target.component],
        kinds::rank(&r.id.group, &r.id.kind, crd_groups),
        r.id.kind.clone(),
        r.id.group.clone(),
        r.id.namespace.clone(),
        r.id.name.clone(),
    )
}

fn check_rules(plan: &Plan<'_>, g: &ComponentGraph) -> Result<(), TestCaseError> {
    let objs = &plan.objects;
    let resources: Vec<&Resource> = objs.iter().map(|o| o.resource).collect();
    let crd_groups = kinds::crd_groups(&resources);
    let present: BTreeSet<&str> = objs.iter().map(|o| o.target.component.as_str()).collect();
    let depths = g.depths(&present);
    let pos = |id: &ResId| objs.iter().position(|o| &o.resource.id == id);
    let mut any_edge = false;
    for (i, o) in objs.iter().enumerate() {
        // Waves, then phases, never go back.
        if i > 0 {
            prop_assert!(objs[i - 1].phase <= o.phase, "phase order at {i}");
        }
        // Within a phase, a component's dependencies come first.
        for later in &objs[i + 1..] {
            if later.phase == o.phase {
                prop_assert!(
                    !g.depends_on(&o.target.component, &later.target.component),
                    "{} before {} but its component depends on the other's",
                    o.resource.id,
                    later.resource.id
                );
            }
        }
        // Named dependencies come first.
        for id in annotations::depends_on(o.resource).unwrap() {
            any_edge = true;
            prop_assert!(pos(&id).unwrap() < i, "{} before its dependency {id}", o.resource.id);
        }
        // Custom resources after their CRD, namespaced objects after their Namespace.
        for (j, other) in objs.iter().enumerate() {
            let r = o.resource;
            let defines = kinds::is_crd(other.resource)
                && other.resource.body.pointer("/spec/group").and_then(Value::as_str) == Some(r.id.group.as_str())
                && other.resource.body.pointer("/spec/names/kind").and_then(Value::as_str) == Some(r.id.kind.as_str());
            let holds = kinds::is_namespace(other.resource)
                && r.id.namespace.as_deref() == Some(other.resource.id.name.as_str());
            if defines || holds {
                prop_assert!(j < i, "{} before {}", r.id, other.resource.id);
            }
        }
        // Out of key order only when a hard constraint says so.
        if i > 0
            && objs[i - 1].phase == o.phase
            && key_of(&objs[i - 1], &depths, &crd_groups) > key_of(o, &depths, &crd_groups)
        {
            prop_assert!(
                matches!(o.reason, Reason::DependsOn(_) | Reason::Component { .. }),
                "{} out of key order because of {:?}",
                o.resource.id,
                o.reason
            );
        }
        if i > 0 && objs[i - 1].phase != o.phase {
            prop_assert_eq!(&o.reason, &Reason::PhaseStart);
        }
    }
    // Without object edges, the order is exactly the sort by key.
    if !any_edge {
        for w in objs.windows(2) {
            prop_assert!(key_of(&w[0], &depths, &crd_groups) < key_of(&w[1], &depths, &crd_groups));
        }
    }
    Ok(())
}

fn outline(p: &Plan<'_>) -> Vec<(String, String)> {
    p.objects.iter().map(|o| (o.resource.id.to_string(), o.explain())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_rule_holds_and_input_order_does_not_matter(
        gens in prop::collection::vec(gen_object(false), 0..30),
        g in gen_graph(),
        seed in any::<u64>(),
    ) {
        run_property(&gens, &g, seed)?;
    }

    #[test]
    fn with_object_dependencies_the_planner_refuses_exactly_the_impossible(
        gens in prop::collection::vec(gen_object(true), 0..25),
        g in gen_graph(),
        seed in any::<u64>(),
    ) {
        run_property(&gens, &g, seed)?;
    }
}

fn run_property(gens: &[Gen], g: &ComponentGraph, seed: u64) -> Result<(), TestCaseError> {
    let targets: Vec<Target> = COMPONENTS.iter().map(|c| target(c)).collect();
    let built = build(gens);
    let items: Vec<(&Target, &Resource)> = built.iter().map(|(c, r)| (&targets[*c], r)).collect();
    let expected = expected_error(&items, g);
    let plan = plan_environment("east", &items, g);
    match (&plan, &expected) {
        (Ok(p), None) => {
            prop_assert_eq!(p.objects.len(), items.len());
            check_rules(p, g)?;
            // Any other input order gives the same plan, reasons included.
            let mut shuffled = items.clone();
            shuffle(&mut shuffled, seed);
            let again = plan_environment("east", &shuffled, g).unwrap();
            prop_assert_eq!(outline(p), outline(&again));
            shuffled.reverse();
            let again = plan_environment("east", &shuffled, g).unwrap();
            prop_assert_eq!(outline(p), outline(&again));
        }
        (Err(e), Some(_)) => {
            // The same problems whatever the input order.
            let mut shuffled = items.clone();
            shuffle(&mut shuffled, seed);
            let again = plan_environment("east", &shuffled, g).unwrap_err();
            prop_assert_eq!(e.messages(), again.messages());
        }
        (Ok(_), Some(why)) => prop_assert!(false, "planned despite {why}"),
        (Err(e), None) => prop_assert!(false, "refused a possible order: {}", e),
    }
    Ok(())
}

/// A deterministic Fisher–Yates shuffle (splitmix64).
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        v.swap(i, (z % (i as u64 + 1)) as usize);
    }
}
