//! The plan as text for a terminal: one block per wave, in rollout order.

use std::fmt::Write;

use super::{Plan, WavePlan};
use crate::diff::{Counts, Vocabulary};
use crate::repo::config::{MaxUpdate, Pause};

/// The whole plan.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "rollout plan: {} → {}", plan.before.describe(), plan.after.describe());
    let _ = writeln!(out, "{}", summary(plan));
    for (i, w) in plan.waves.iter().enumerate() {
        out.push('\n');
        wave(&mut out, i, plan.waves.len(), w);
    }
    out
}

/// `3 waves, 4 environments; 2 environments and 9 objects change, 2 risks`.
pub fn summary(plan: &Plan) -> String {
    let touched: usize = plan.waves.iter().map(|w| w.touched.len()).sum();
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{}, {}; {} change, {} objects, {}",
        plural(plan.waves.len(), "wave", "waves"),
        plural(plan.environments, "environment", "environments"),
        plural(touched, "environment", "environments"),
        plan.objects,
        plural(plan.risks(), "risk", "risks"),
    )
}

/// `pause: true, maxUpdate: 25%`, or empty.
pub fn settings(w: &WavePlan) -> String {
    let mut parts = Vec::new();
    match &w.pause {
        Some(Pause::Manual(true)) => parts.push("pause: until resumed".to_string()),
        Some(Pause::Duration(d)) => parts.push(format!("pause: {d}")),
        _ => {}
    }
    match &w.max_update {
        Some(MaxUpdate::Count(n)) => parts.push(format!("maxUpdate: {n}")),
        Some(MaxUpdate::Percent(p)) => parts.push(format!("maxUpdate: {p}")),
        None => {}
    }
    parts.join(", ")
}

/// `1 added, 2 changed, 1 removed`.
pub fn objects(c: &Counts) -> String {
    let d = Counts { unchanged: 0, ..*c };
    d.describe(Vocabulary::Revisions)
}

fn wave(out: &mut String, i: usize, n: usize, w: &WavePlan) {
    let s = settings(w);
    let s = if s.is_empty() { String::new() } else { format!(" ({s})") };
    let _ = writeln!(out, "wave {}/{n}: {}{s}", i + 1, w.name);
    let _ = writeln!(out, "  environments: {}", w.environments.join(", "));
    if !w.changes() {
        let _ = writeln!(out, "  no change ({} targets unchanged)", w.unchanged_targets);
        let _ = writeln!(out, "  blast radius so far: {}", w.cumulative.describe());
        return;
    }
    let _ = writeln!(out, "  targets: {} changed, {} unchanged", w.changed_targets.len(), w.unchanged_targets);
    for (address, versions) in &w.changed_targets {
        let _ = writeln!(out, "    {address} ({versions})");
    }
    let _ = writeln!(out, "  objects: {}", objects(&w.counts));
    for (kind, c) in &w.kinds {
        let _ = writeln!(out, "    {kind}: {}", objects(c));
    }
    if !w.versions.is_empty() {
        let _ = writeln!(out, "  versions:");
        for v in &w.versions {
            let _ = writeln!(out, "    {} {} ({})", v.component, v.describe(), v.environment);
        }
    }
    if !w.images.is_empty() {
        let _ = writeln!(out, "  images:");
        for im in &w.images {
            let from = im.from.as_deref().unwrap_or("(none)");
            let to = im.to.as_deref().unwrap_or("(none)");
            let _ = writeln!(out, "    {} {} container `{}`: {from} → {to}", im.target, im.object, im.container);
        }
    }
    if w.risks.is_empty() {
        let _ = writeln!(out, "  risks: none found");
    } else {
        let _ = writeln!(out, "  risks ({}):", w.risks.len());
        for r in &w.risks {
            let _ = writeln!(out, "    ! {}: {} {} `{}`: {}", r.kind.word(), r.target, r.object, r.field, r.message);
            let _ = writeln!(out, "      remedy: {}", r.remedy);
        }
    }
    let _ = writeln!(out, "  blast radius so far: {}", w.cumulative.describe());
}
