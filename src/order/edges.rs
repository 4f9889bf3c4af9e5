//! Rule 4, object dependencies (`config.kubernetes.io/depends-on`), and the implicit
//! ones across waves (a custom resource after its CRD, an object after its Namespace):
//! which edges constrain the order inside a phase, and the problems with the others.

use std::collections::HashMap;

use serde_json::Value;

use super::annotations::{self, Wave};
use super::kinds;
use super::phase::Phase;
use super::sort::Key;
use crate::diag::Diagnostic;
use crate::manifest::{ResId, Resource};
use crate::repo::Target;

/// For each object, the objects of its own phase it names in `depends-on` (its
/// predecessors). A reference outside the environment, to the object itself or to a
/// later phase is a problem in `diags`; one to an earlier phase is already satisfied.
pub(super) fn annotation_predecessors(
    environment: &str,
    items: &[(&Target, &Resource)],
    references: &[Vec<ResId>],
    keys: &[Key<'_>],
    waves: &[Wave],
    by_id: &HashMap<&ResId, usize>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Vec<usize>> {
    let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    for (a, ids) in references.iter().enumerate() {
        let (_, ra) = items[a];
        for id in ids {
            let Some(&b) = by_id.get(id) else {
                diags.push(missing_dependency(environment, ra, id, items));
                continue;
            };
            if a == b {
                diags.push(self_dependency(ra));
            } else if keys[b].phase > keys[a].phase {
                diags.push(later_phase_dependency(ra, items[b].1, keys[a].phase, keys[b].phase, waves[a], waves[b]));
            } else if keys[b].phase == keys[a].phase && !predecessors[a].contains(&b) {
                predecessors[a].push(b);
            }
        }
    }
    predecessors
}

/// Across waves, a custom resource must not apply before its CRD, nor a namespaced
/// object before its Namespace (inside a wave, phases see to it).
pub(super) fn check_implicit_dependencies(
    environment: &str,
    items: &[(&Target, &Resource)],
    waves: &[Wave],
    by_id: &HashMap<&ResId, usize>,
    diags: &mut Vec<Diagnostic>,
) {
    let crd_of = crds_by_kind(items);
    for (i, (_, r)) in items.iter().enumerate() {
        let crds = crd_of.get(&(r.id.group.as_str(), r.id.kind.as_str())).into_iter().flatten();
        let ns = r.id.namespace.as_ref().and_then(|ns| {
            by_id.get(&ResId { group: String::new(), kind: "Namespace".into(), namespace: None, name: ns.clone() })
        });
        for (&j, what) in crds.map(|j| (j, "its CustomResourceDefinition")).chain(ns.map(|j| (j, "its Namespace"))) {
            if waves[j].value > waves[i].value {
                diags.push(earlier_wave_than(environment, r, items[j].1, what, waves[i], waves[j]));
            }
        }
    }
}

/// The CustomResourceDefinitions of the environment by the `(group, kind)` they define.
fn crds_by_kind<'a>(items: &[(&'a Target, &'a Resource)]) -> HashMap<(&'a str, &'a str), Vec<usize>> {
    let mut crd_of: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, (_, r)) in items.iter().enumerate() {
        if kinds::is_crd(r) {
            let spec = r.body.get("spec");
            let g = spec.and_then(|s| s.get("group")).and_then(Value::as_str);
            let k = spec.and_then(|s| s.pointer("/names/kind")).and_then(Value::as_str);
            if let (Some(g), Some(k)) = (g, k) {
                crd_of.entry((g, k)).or_default().push(i);
            }
        }
    }
    crd_of
}

/// `r` (in wave `wave`) would apply before `other`, `what` it needs (in `other_wave`).
fn earlier_wave_than(
    environment: &str,
    r: &Resource,
    other: &Resource,
    what: &str,
    wave: Wave,
    other_wave: Wave,
) -> Diagnostic {
    Diagnostic::error(format!(
        "`{}` ({}) would apply before {what} `{}` ({}) in environment `{environment}`",
        r.id,
        wave.describe(),
        other.id,
        other_wave.describe()
    ))
    .at(r.source.template.to_string())
    .note(format!("`{}` comes from {}", other.id, other.source.template))
    .hint(format!("give `{}` wave {} or later, or move `{}` to an earlier wave", r.id, other_wave.value, other.id))
}

fn self_dependency(r: &Resource) -> Diagnostic {
    Diagnostic::error(format!("`{}` depends on itself in `{}`", r.id, annotations::DEPENDS_ON))
        .at(r.source.template.to_string())
        .hint("remove the object's own reference from the annotation")
}

fn missing_dependency(environment: &str, r: &Resource, id: &ResId, items: &[(&Target, &Resource)]) -> Diagnostic {
    let mut d = Diagnostic::error(format!(
        "`{}` depends on `{}`, which is not in environment `{environment}`",
        r.id,
        annotations::reference(id)
    ))
    .at(r.source.template.to_string())
    .note(format!("named in annotation `{}`", annotations::DEPENDS_ON));
    // The same object elsewhere: usually a missing or extra namespace.
    let near: Vec<String> = items
        .iter()
        .filter(|(_, o)| o.id.group == id.group && o.id.kind == id.kind && o.id.name == id.name)
        .map(|(_, o)| format!("`{}`", annotations::reference(&o.id)))
        .collect();
    if !near.is_empty() {
        d = d.hint(format!("did you mean {}?", near.join(" or ")));
    } else {
        d = d.hint(
            "an object may only depend on objects of the same environment; check the group, kind, namespace and name",
        );
    }
    d
}

fn later_phase_dependency(a: &Resource, b: &Resource, pa: Phase, pb: Phase, wa: Wave, wb: Wave) -> Diagnostic {
    let (why, hint) = if pb.wave > pa.wave {
        (
            format!("it is in {}, after {}", wb.describe(), wa.describe()),
            format!("move `{}` to wave {} or later, or `{}` to an earlier wave", a.id, pb.wave, b.id),
        )
    } else {
        (
            format!("{} apply after {}", pb.describe(), pa.describe()),
            "a CustomResourceDefinition or Namespace cannot wait for the objects of a later phase; remove the reference".to_string(),
        )
    };
    Diagnostic::error(format!("`{}` depends on `{}`, which applies later: {why}", a.id, b.id))
        .at(a.source.template.to_string())
        .note(format!("named in annotation `{}`", annotations::DEPENDS_ON))
        .hint(hint)
}
