//! Rollout plans: what a change does to each wave of a rollout, in order.
//!
//! In: the [`Wave`]s of `strata.yaml` and a [`RevisionDiff`] (the diff engine's
//! report of two revisions, with both renders). Out: a [`Plan`]: per wave its
//! environments, targets changed and unchanged, objects added / changed / removed
//! by kind, component version moves, image changes, [`Risk`]s, and the
//! cumulative blast radius. Renderers: [`text`], [`markdown`], [`json`];
//! [`export`] writes the waves as an Argo CD ApplicationSet or Flux
//! Kustomizations.
//!
//! Invariants: waves keep `strata.yaml`'s order; inside a wave everything is
//! sorted; targets whose inputs are identical were not rendered (the diff engine
//! counts them) and appear as unchanged. An environment that exists only on the
//! before side goes to the first wave whose patterns match it, else to a last
//! wave named [`NO_WAVE`].

pub mod export;
pub mod json;
pub mod markdown;
pub mod risks;
pub mod text;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::compiled::CompiledTarget;
use crate::diag::{Diagnostic, Error};
use crate::diff::output::Format;
use crate::diff::{CompareOptions, Counts, RevisionDiff, RevisionSide, Side, Status, TargetReport, compare_revisions};
use crate::manifest::{ResId, workloads};
use crate::pipeline::Options;
use crate::repo;
use crate::repo::config::{MaxUpdate, Pause};
use crate::repo::open::Sides;
use crate::repo::waves::{self, Wave};
pub use risks::Risk;

/// The wave holding environments that only the before side has and no pattern matches.
pub const NO_WAVE: &str = "(no wave)";

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub before: Side,
    pub after: Side,
    pub waves: Vec<WavePlan>,
    /// Environments in all waves.
    pub environments: usize,
    /// Objects added, changed or removed in all waves.
    pub objects: usize,
}

impl Plan {
    /// True when some wave changes something: exit 1.
    pub fn changes(&self) -> bool {
        self.waves.iter().any(WavePlan::changes)
    }

    pub fn risks(&self) -> usize {
        self.waves.iter().map(|w| w.risks.len()).sum()
    }
}

/// One wave of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct WavePlan {
    pub name: String,
    pub pause: Option<Pause>,
    pub max_update: Option<MaxUpdate>,
    /// The wave's environments, sorted.
    pub environments: Vec<String>,
    /// Environments in which something changes, sorted.
    pub touched: Vec<String>,
    /// Targets in which something changes, with their versions (`v1 → v2`).
    pub changed_targets: Vec<(String, String)>,
    /// Targets of the wave in which nothing changes (rendered or not).
    pub unchanged_targets: usize,
    /// Objects added / changed / removed, per kind.
    pub kinds: BTreeMap<String, Counts>,
    pub counts: Counts,
    pub versions: Vec<VersionMove>,
    pub images: Vec<ImageChange>,
    pub risks: Vec<Risk>,
    pub cumulative: Blast,
}

impl WavePlan {
    pub fn changes(&self) -> bool {
        !self.changed_targets.is_empty()
    }

    /// Objects added, changed or removed in this wave.
    pub fn objects(&self) -> usize {
        self.counts.added + self.counts.changed + self.counts.removed
    }
}

/// A component whose version moves in one environment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VersionMove {
    pub component: String,
    pub environment: String,
    /// `None` where the target does not exist on that side.
    pub from: Option<String>,
    pub to: Option<String>,
}

impl VersionMove {
    /// `v1 → v2`, `(new) → v2`, `v1 → (removed)`.
    pub fn describe(&self) -> String {
        let from = self.from.as_deref().unwrap_or("(new)");
        let to = self.to.as_deref().unwrap_or("(removed)");
        format!("{from} → {to}")
    }
}

/// A container image that changes in one object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageChange {
    pub target: String,
    pub object: String,
    pub container: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// How much of the rollout is done after a wave, counting that wave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Blast {
    pub environments_touched: usize,
    pub environments_total: usize,
    pub objects_touched: usize,
    pub objects_total: usize,
}

/// `3 of 4 environments (75%), 9 of 12 changed objects (75%)`.
impl Blast {
    pub fn describe(&self) -> String {
        format!(
            "{} of {} environments ({}), {} of {} changed objects ({})",
            self.environments_touched,
            self.environments_total,
            percent(self.environments_touched, self.environments_total),
            self.objects_touched,
            self.objects_total,
            percent(self.objects_touched, self.objects_total)
        )
    }
}

/// `75%`, rounded down; `0%` of nothing.
pub fn percent(part: usize, whole: usize) -> String {
    format!("{}%", (part * 100).checked_div(whole).unwrap_or(0))
}

/// Compares two revisions with the diff engine and plans the change over the
/// after side's waves (checked first: bad waves are an error before any render).
/// Returns the plan and the after side's warnings.
pub fn plan_revisions(
    before: RevisionSide<'_>,
    after: RevisionSide<'_>,
    opts: &Options,
) -> Result<(Plan, Vec<Diagnostic>), Error> {
    let waves = waves::resolve(after.repo)?;
    let diff = compare_revisions(before, after, opts, &CompareOptions::default())?;
    Ok((plan(&waves, &diff), diff.warnings))
}

/// `strata rollout plan --from/--to/--base`: [`plan_revisions`] of the
/// targets `selectors` pick on either side of `sides` ([`crate::repo::open::open_range`]).
pub fn plan_sides(sides: &Sides, selectors: &[String], opts: &Options) -> Result<(Plan, Vec<Diagnostic>), Error> {
    let (bt, at) = repo::select_both(&sides.before.repo, &sides.after.repo, selectors)?;
    plan_revisions(RevisionSide::of(&sides.before, &bt), RevisionSide::of(&sides.after, &at), opts)
}

/// The plan in `format`; `command` is the markdown note's way to see it whole.
pub fn render(plan: &Plan, format: Format, command: &str) -> String {
    match format {
        Format::Text => text::render(plan),
        Format::Markdown => markdown::render(plan, markdown::MAX_CHARS, command),
        Format::Json => json::render(plan),
    }
}

/// Builds the plan of `diff` over `waves` (the after side's, from [`crate::repo::waves::resolve`]).
pub fn plan(waves: &[Wave], diff: &RevisionDiff) -> Plan {
    let report = &diff.report;
    let before = by_address(&diff.before.targets);
    let after = by_address(&diff.after.targets);
    // The CRDs of both sides: a custom resource's CRD may live in another target.
    let pins = risks::pins(diff.before.targets.iter().chain(&diff.after.targets));
    let mut slots: Vec<(Wave, Vec<&TargetReport>, usize)> = waves.iter().map(|w| (w.clone(), Vec::new(), 0)).collect();
    for env in &report.environments {
        let i = match slots.iter().position(|(w, _, _)| w.environments.contains(&env.environment)) {
            Some(i) => i,
            None => slot_for(&mut slots, &env.environment),
        };
        let slot = &mut slots[i];
        if !slot.0.environments.contains(&env.environment) {
            slot.0.environments.push(env.environment.clone());
            slot.0.environments.sort();
        }
        slot.1.extend(env.targets.iter());
        slot.2 += env.identical;
    }
    let mut waves: Vec<WavePlan> = slots
        .into_iter()
        .map(|(w, targets, identical)| wave_plan(w, &targets, identical, &before, &after, &pins))
        .collect();
    let environments = waves.iter().map(|w| w.environments.len()).sum();
    let objects = waves.iter().map(WavePlan::objects).sum();
    let (mut envs_so_far, mut objects_so_far) = (0, 0);
    for w in &mut waves {
        envs_so_far += w.touched.len();
        objects_so_far += w.objects();
        w.cumulative = Blast {
            environments_touched: envs_so_far,
            environments_total: environments,
            objects_touched: objects_so_far,
            objects_total: objects,
        };
    }
    Plan { before: report.before.clone(), after: report.after.clone(), waves, environments, objects }
}

/// The wave an environment of the before side only belongs to: the first whose
/// patterns match it, else [`NO_WAVE`] (made at the end when needed).
fn slot_for(slots: &mut Vec<(Wave, Vec<&TargetReport>, usize)>, environment: &str) -> usize {
    if let Some(i) = slots.iter().position(|(w, _, _)| w.matches(environment)) {
        return i;
    }
    if let Some(i) = slots.iter().position(|(w, _, _)| w.name == NO_WAVE) {
        return i;
    }
    let wave = Wave {
        name: NO_WAVE.to_string(),
        patterns: Vec::new(),
        environments: Vec::new(),
        pause: None,
        max_update: None,
    };
    slots.push((wave, Vec::new(), 0));
    slots.len() - 1
}

fn by_address(targets: &[CompiledTarget]) -> BTreeMap<String, &CompiledTarget> {
    targets.iter().map(|t| (t.target.address(), t)).collect()
}

fn wave_plan(
    wave: Wave,
    targets: &[&TargetReport],
    identical: usize,
    before: &BTreeMap<String, &CompiledTarget>,
    after: &BTreeMap<String, &CompiledTarget>,
    pins: &risks::Pins,
) -> WavePlan {
    let mut p = WavePlan {
        name: wave.name,
        pause: wave.pause,
        max_update: wave.max_update,
        environments: wave.environments,
        touched: Vec::new(),
        changed_targets: Vec::new(),
        unchanged_targets: identical,
        kinds: BTreeMap::new(),
        counts: Counts::default(),
        versions: Vec::new(),
        images: Vec::new(),
        risks: Vec::new(),
        cumulative: Blast::default(),
    };
    let mut touched = BTreeSet::new();
    let mut sorted: Vec<&&TargetReport> = targets.iter().collect();
    sorted.sort_by(|a, b| a.address.cmp(&b.address));
    for t in sorted {
        let moved = t.before_version != t.after_version;
        if !t.counts.differs() && !moved {
            p.unchanged_targets += 1;
            continue;
        }
        touched.insert(t.environment.clone());
        p.changed_targets.push((t.address.clone(), t.versions()));
        if moved {
            p.versions.push(VersionMove {
                component: t.component.clone(),
                environment: t.environment.clone(),
                from: t.before_version.clone(),
                to: t.after_version.clone(),
            });
        }
        for c in &t.changes {
            p.kinds.entry(c.id.kind.clone()).or_default().bump(c.status);
            p.counts.bump(c.status);
        }
        let (b, a) = (before.get(&t.address).copied(), after.get(&t.address).copied());
        p.images.extend(image_changes(t, b, a));
        p.risks.extend(risks::of_target(&t.address, b, a, &t.changes, pins));
    }
    p.touched = touched.into_iter().collect();
    p.versions.sort();
    p.images.sort();
    p
}

/// Containers whose image changes in the target's changed objects.
fn image_changes<'a>(
    t: &TargetReport,
    before: Option<&'a CompiledTarget>,
    after: Option<&'a CompiledTarget>,
) -> Vec<ImageChange> {
    let body = |side: Option<&'a CompiledTarget>, id: &ResId| -> Option<&'a Value> {
        side.and_then(|s| s.resources.iter().find(|r| &r.id == id)).map(|r| &r.body)
    };
    let mut out = Vec::new();
    for c in t.changes.iter().filter(|c| c.status == Status::Changed) {
        let (b, a) = (images(&c.id, body(before, &c.id)), images(&c.id, body(after, &c.id)));
        let names: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
        for name in names {
            if b.get(name) != a.get(name) {
                out.push(ImageChange {
                    target: t.address.clone(),
                    object: c.id.to_string(),
                    container: name.clone(),
                    from: b.get(name).cloned(),
                    to: a.get(name).cloned(),
                });
            }
        }
    }
    out
}

/// Container name → image, of the pod spec of a workload ([`workloads`]); for
/// any other kind, of whatever pod spec it holds where a workload would (a
/// custom resource such as an Argo Rollout embeds a pod template the same way).
fn images(id: &ResId, body: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(body) = body else { return out };
    let specs = match workloads::find(&id.group, &id.kind) {
        Some(w) => vec![w.pod_spec()],
        None => workloads::pod_spec_paths(),
    };
    for spec in specs {
        for list in ["containers", "initContainers"] {
            let items = body.pointer(&format!("/{}/{list}", spec.join("/"))).and_then(Value::as_array);
            for c in items.into_iter().flatten() {
                if let (Some(n), Some(i)) =
                    (c.get("name").and_then(Value::as_str), c.get("image").and_then(Value::as_str))
                {
                    out.insert(n.to_string(), i.to_string());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
