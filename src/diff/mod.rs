//! Diffs: what changes between two renders, environment by environment.
//!
//! In: two [`Compiled`] renders (two git revisions, or a revision and the work
//! tree; the `live` comparison feeds a render and a cluster's objects through the
//! same [`Report`]). Out: a [`Report`] per environment and target, with counts and
//! a unified diff of each resource that is not unchanged, and renderers for it
//! ([`text`], [`markdown`], [`json`]; chosen by [`output`]). [`compare_revisions`] runs the pipeline on
//! both sides of a diff between revisions and compares them.
//!
//! Each changed resource also carries its structural changes ([`structural`]:
//! fields compared one by one, lists matched by their merge keys), which every
//! format summarizes above the unified diff; [`groups`] finds the same change in
//! several environments. `strata.yaml` `diff.ignore` ([`ignore`]) hides fields
//! from every format, which say how many they hid.
//!
//! Invariants:
//! - Resources are matched by identity ([`ResId`]: group, kind, namespace, name)
//!   inside a target; targets by address (`component/environment`). A target on one
//!   side only is all added or all removed.
//! - Bodies are compared on canonical YAML: mapping keys sorted at every level, so
//!   reordered keys are not a change.
//! - Secret values never reach a report unless asked: [`mask_secret`] replaces
//!   them before any text is made; a changed key shows `*** (before)` / `*** (after)`.
//! - The same inputs give the same report: environments, targets and resources are
//!   sorted, and nothing depends on time or map iteration order.

pub mod groups;
pub mod ignore;
pub mod inputs;
pub mod json;
pub mod markdown;
mod normalize;
pub mod output;
pub mod revisions;
pub mod structural;
pub mod text;

use std::collections::{BTreeMap, BTreeSet};

use crate::compiled::{Compiled, CompiledTarget};
use crate::manifest::{ResId, Resource};
use crate::source::SourceInfo;
use crate::yaml;

pub use normalize::{canonical, mask_secret};
pub use revisions::{RevisionDiff, RevisionSide, compare_revisions};
pub use structural::FieldChange;

/// What happened to one resource. The first four are what a diff between two
/// renders finds; [`Status::Conflict`] is for comparisons with a cluster, where
/// an object can be changed by someone else in a way strata cannot apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Added,
    Removed,
    Changed,
    Unchanged,
    Conflict,
}

/// The words a report uses for statuses: a diff between revisions says
/// "added / removed / changed", a plan against a cluster says
/// "create / prune / update".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Vocabulary {
    #[default]
    Revisions,
    Cluster,
}

impl Vocabulary {
    pub fn word(self, status: Status) -> &'static str {
        match (self, status) {
            (Vocabulary::Revisions, Status::Added) => "added",
            (Vocabulary::Revisions, Status::Removed) => "removed",
            (Vocabulary::Revisions, Status::Changed) => "changed",
            (Vocabulary::Cluster, Status::Added) => "create",
            (Vocabulary::Cluster, Status::Removed) => "prune",
            (Vocabulary::Cluster, Status::Changed) => "update",
            (_, Status::Unchanged) => "unchanged",
            (_, Status::Conflict) => "conflict",
        }
    }
}

impl Status {
    /// Every status, in the order reports list them.
    pub const ALL: [Status; 5] = [Status::Added, Status::Removed, Status::Changed, Status::Conflict, Status::Unchanged];

    /// The one-character marker of text reports (`+`, `-`, `~`, `!`, ` `).
    pub fn marker(self) -> char {
        match self {
            Status::Added => '+',
            Status::Removed => '-',
            Status::Changed => '~',
            Status::Conflict => '!',
            Status::Unchanged => ' ',
        }
    }
}

/// How many resources have each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub conflict: usize,
}

impl Counts {
    pub fn get(&self, s: Status) -> usize {
        match s {
            Status::Added => self.added,
            Status::Removed => self.removed,
            Status::Changed => self.changed,
            Status::Unchanged => self.unchanged,
            Status::Conflict => self.conflict,
        }
    }

    pub fn bump(&mut self, s: Status) {
        match s {
            Status::Added => self.added += 1,
            Status::Removed => self.removed += 1,
            Status::Changed => self.changed += 1,
            Status::Unchanged => self.unchanged += 1,
            Status::Conflict => self.conflict += 1,
        }
    }

    pub fn add(&mut self, o: &Counts) {
        self.added += o.added;
        self.removed += o.removed;
        self.changed += o.changed;
        self.unchanged += o.unchanged;
        self.conflict += o.conflict;
    }

    /// True when anything is other than unchanged.
    pub fn differs(&self) -> bool {
        self.added + self.removed + self.changed + self.conflict > 0
    }

    /// `1 changed, 2 added, 5 unchanged`: non-zero counts in report order
    /// (`no resources` when all are zero).
    pub fn describe(&self, words: Vocabulary) -> String {
        let parts: Vec<String> = Status::ALL
            .iter()
            .filter(|s| self.get(**s) > 0)
            .map(|s| format!("{} {}", self.get(*s), words.word(*s)))
            .collect();
        if parts.is_empty() { "no resources".to_string() } else { parts.join(", ") }
    }
}

/// One resource that is not unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceChange {
    pub id: ResId,
    pub status: Status,
    /// The template that produced it (the after side's when it exists).
    pub source: Option<String>,
    /// Unified diff (3 lines of context) of the masked canonical YAML, with a
    /// `---` / `+++` header naming the resource; empty when there is nothing to show.
    pub diff: String,
    /// Why, for statuses that need a word (a conflict's field manager).
    pub note: Option<String>,
    /// The structural changes of a changed resource ([`structural`]), on the same
    /// masked bodies as `diff`; empty for added and removed resources.
    pub fields: Vec<FieldChange>,
}

/// One target on either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetReport {
    /// `component/environment`.
    pub address: String,
    pub component: String,
    pub environment: String,
    /// The version its `templates` pointed at on each side; `None` where it does not exist.
    pub before_version: Option<String>,
    pub after_version: Option<String>,
    pub counts: Counts,
    /// Resources that are not unchanged, sorted by identity.
    pub changes: Vec<ResourceChange>,
    /// Fields that differed but are hidden by `strata.yaml` `diff.ignore`.
    pub hidden: usize,
}

impl TargetReport {
    /// `added` / `removed` when the whole target exists on one side only.
    pub fn presence(&self) -> Option<Status> {
        match (&self.before_version, &self.after_version) {
            (None, Some(_)) => Some(Status::Added),
            (Some(_), None) => Some(Status::Removed),
            _ => None,
        }
    }

    /// `v1 → v2`, `v2`, `(new) v2`: the versions, for headings.
    pub fn versions(&self) -> String {
        match (&self.before_version, &self.after_version) {
            (Some(a), Some(b)) if a == b => a.clone(),
            (Some(a), Some(b)) => format!("{a} → {b}"),
            (None, Some(b)) => b.clone(),
            (Some(a), None) => a.clone(),
            (None, None) => String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentReport {
    pub environment: String,
    pub counts: Counts,
    /// Sorted by address.
    pub targets: Vec<TargetReport>,
    /// Targets not rendered because every input is identical on both sides
    /// ([`inputs::identical_targets`]); their resources are in no count.
    pub identical: usize,
}

impl EnvironmentReport {
    /// `1 changed, 4 unchanged; 49 targets with identical inputs`.
    pub fn describe(&self, words: Vocabulary) -> String {
        describe_with_identical(&self.counts, self.identical, words)
    }
}

/// Resource counts, then the targets skipped for identical inputs, if any.
pub fn describe_with_identical(counts: &Counts, identical: usize, words: Vocabulary) -> String {
    let skipped = format!("{identical} target{} with identical inputs", if identical == 1 { "" } else { "s" });
    match (counts.describe(words), identical) {
        (_, 0) => counts.describe(words),
        (c, _) if c == "no resources" => skipped,
        (c, _) => format!("{c}; {skipped}"),
    }
}

/// One side of a comparison, for headings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Side {
    /// What the user named: `v1.0`, `work tree`, a context name.
    pub label: String,
    pub commit: Option<String>,
    pub dirty: bool,
}

impl Side {
    /// A side named by its source information: the ref, else the short commit.
    pub fn from_info(info: &SourceInfo) -> Side {
        let label = info
            .reference
            .clone()
            .or_else(|| info.commit.as_ref().map(|c| c.chars().take(12).collect()))
            .unwrap_or_else(|| "work tree".to_string());
        Side { label, commit: info.commit.clone(), dirty: info.dirty }
    }

    /// `v1.0 (0123abcd4567)`, `work tree (0123abcd4567, uncommitted changes)`.
    pub fn describe(&self) -> String {
        let short: Option<String> = self.commit.as_ref().map(|c| c.chars().take(12).collect());
        match (short, self.dirty) {
            (Some(c), false) if c == self.label || self.commit.as_deref() == Some(self.label.as_str()) => c,
            (Some(c), false) => format!("{} ({c})", self.label),
            (Some(c), true) => format!("{} ({c}, uncommitted changes)", self.label),
            (None, true) => format!("{} (uncommitted changes)", self.label),
            (None, false) => self.label.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub words: Vocabulary,
    pub before: Side,
    pub after: Side,
    /// Every environment on either side, sorted by name; unchanged ones included.
    pub environments: Vec<EnvironmentReport>,
}

impl Report {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for e in &self.environments {
            c.add(&e.counts);
        }
        c
    }

    /// Fields hidden by `diff.ignore`, in all targets.
    pub fn hidden(&self) -> usize {
        self.environments.iter().flat_map(|e| &e.targets).map(|t| t.hidden).sum()
    }

    /// `3 fields hidden by diff.ignore`, when any were.
    pub fn describe_hidden(&self) -> Option<String> {
        match self.hidden() {
            0 => None,
            n => Some(format!("{n} field{} hidden by diff.ignore", if n == 1 { "" } else { "s" })),
        }
    }

    /// Targets skipped for identical inputs, in all environments.
    pub fn identical(&self) -> usize {
        self.environments.iter().map(|e| e.identical).sum()
    }

    /// Every count of the report: resources, skipped targets, then fields hidden
    /// by `diff.ignore` (when any were).
    pub fn describe(&self) -> String {
        let counts = describe_with_identical(&self.counts(), self.identical(), self.words);
        match self.describe_hidden() {
            Some(hidden) => format!("{counts}; {hidden}"),
            None => counts,
        }
    }

    /// Adds targets that were not rendered because their inputs are identical,
    /// each to its environment (listed even when nothing else is in it).
    pub fn add_identical<'t>(&mut self, targets: impl IntoIterator<Item = &'t crate::repo::Target>) {
        for t in targets {
            match self.environments.iter_mut().find(|e| e.environment == t.environment) {
                Some(e) => e.identical += 1,
                None => self.environments.push(EnvironmentReport {
                    environment: t.environment.clone(),
                    counts: Counts::default(),
                    targets: Vec::new(),
                    identical: 1,
                }),
            }
        }
        self.environments.sort_by(|a, b| a.environment.cmp(&b.environment));
    }

    /// True when anything differs: the exit code 1 of `strata diff`.
    pub fn differs(&self) -> bool {
        self.environments.iter().any(|e| e.counts.differs())
    }

    /// Environments in which something differs, sorted.
    pub fn touched_environments(&self) -> impl Iterator<Item = &EnvironmentReport> {
        self.environments.iter().filter(|e| e.counts.differs())
    }
}

/// `2 of 4 environments differ`, `1 of 4 environments differs`, `0 of 1 environment differ`.
pub fn environments_differ(touched: usize, total: usize) -> String {
    let noun = if total == 1 { "environment" } else { "environments" };
    let verb = if touched == 1 { "differs" } else { "differ" };
    format!("{touched} of {total} {noun} {verb}")
}

/// Knobs of a comparison.
#[derive(Debug, Clone, Default)]
pub struct CompareOptions {
    /// Show Secret `data` / `stringData` values instead of `***`.
    pub show_secrets: bool,
    /// `strata.yaml` `diff.ignore` (checked by [`ignore::check`]).
    pub ignore: Vec<crate::repo::config::IgnoreRule>,
}

/// Unified-diff context lines, as `diff -u`.
pub const CONTEXT_LINES: usize = 3;

/// Compares two renders target by target. Pure: no I/O.
pub fn compare(before: &Compiled, after: &Compiled, opts: &CompareOptions) -> Report {
    let (b, a) = (by_address(before), by_address(after));
    let addresses: BTreeSet<&String> = b.keys().chain(a.keys()).collect();

    let mut envs: BTreeMap<String, EnvironmentReport> = BTreeMap::new();
    for address in addresses {
        let (bt, at) = (b.get(address).copied(), a.get(address).copied());
        let target = bt.or(at).map(|t| &t.target).expect("address comes from one side");
        let report = compare_target(address, bt, at, opts);
        let env = envs.entry(target.environment.clone()).or_insert_with(|| EnvironmentReport {
            environment: target.environment.clone(),
            counts: Counts::default(),
            targets: Vec::new(),
            identical: 0,
        });
        env.counts.add(&report.counts);
        env.targets.push(report);
    }
    Report {
        words: Vocabulary::Revisions,
        before: Side::from_info(&before.info),
        after: Side::from_info(&after.info),
        environments: envs.into_values().collect(),
    }
}

fn by_address(c: &Compiled) -> BTreeMap<String, &CompiledTarget> {
    c.targets.iter().map(|t| (t.target.address(), t)).collect()
}

fn by_id(t: Option<&CompiledTarget>) -> BTreeMap<&ResId, &Resource> {
    t.map(|t| t.resources.iter().map(|r| (&r.id, r)).collect()).unwrap_or_default()
}

fn compare_target(
    address: &str,
    before: Option<&CompiledTarget>,
    after: Option<&CompiledTarget>,
    opts: &CompareOptions,
) -> TargetReport {
    let (b, a) = (by_id(before), by_id(after));
    let ids: BTreeSet<&ResId> = b.keys().chain(a.keys()).copied().collect();
    let target = before.or(after).map(|t| &t.target).expect("one side has the target");
    let mut counts = Counts::default();
    let mut changes = Vec::new();
    let mut hidden = 0;
    for id in ids {
        let (rb, ra) = (b.get(id).copied(), a.get(id).copied());
        let (change, h) = compare_counting(id, rb, ra, opts);
        hidden += h;
        counts.bump(change.as_ref().map_or(Status::Unchanged, |c| c.status));
        changes.extend(change);
    }
    TargetReport {
        address: address.to_string(),
        component: target.component.clone(),
        environment: target.environment.clone(),
        before_version: before.map(|t| t.target.version.clone()),
        after_version: after.map(|t| t.target.version.clone()),
        counts,
        changes,
        hidden,
    }
}

/// Compares one resource's two sides; `None` when unchanged.
pub fn compare_resource(
    id: &ResId,
    before: Option<&Resource>,
    after: Option<&Resource>,
    opts: &CompareOptions,
) -> Option<ResourceChange> {
    compare_counting(id, before, after, opts).0
}

/// [`compare_resource`], and how many fields `diff.ignore` hid.
fn compare_counting(
    id: &ResId,
    before: Option<&Resource>,
    after: Option<&Resource>,
    opts: &CompareOptions,
) -> (Option<ResourceChange>, usize) {
    if let (Some(b), Some(a)) = (before, after)
        && b.body == a.body
    {
        return (None, 0);
    }
    let (bb, ab) = (before.map(|r| &r.body), after.map(|r| &r.body));
    let ignored = ignore::apply(&opts.ignore, id, bb, ab);
    let (bb, ab, hidden) = match &ignored {
        Some((b, a, hidden)) => (b.as_ref(), a.as_ref(), *hidden),
        None => (bb, ab, 0),
    };
    let status = match (bb, ab) {
        (Some(b), Some(a)) if b == a => return (None, hidden),
        (Some(_), Some(_)) => Status::Changed,
        (None, Some(_)) => Status::Added,
        (Some(_), None) => Status::Removed,
        (None, None) => return (None, hidden),
    };
    let (mb, ma) = if opts.show_secrets { (bb.cloned(), ab.cloned()) } else { mask_secret(bb, ab) };
    let change = ResourceChange {
        id: id.clone(),
        status,
        source: after.or(before).map(|r| r.source.template.to_string()),
        diff: diff_text(id, mb.as_ref(), ma.as_ref()),
        note: None,
        fields: structural::compare_bodies(mb.as_ref(), ma.as_ref()),
    };
    (Some(change), hidden)
}

/// The unified diff of two bodies of one resource, on canonical YAML, with Secret
/// values masked unless `show_secrets`. The header names the resource on both sides.
pub fn unified_diff(
    id: &ResId,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
    show_secrets: bool,
) -> String {
    let (b, a) = if show_secrets { (before.cloned(), after.cloned()) } else { mask_secret(before, after) };
    diff_text(id, b.as_ref(), a.as_ref())
}

/// The unified diff of two bodies as they are (masked already, or not to be).
fn diff_text(id: &ResId, before: Option<&serde_json::Value>, after: Option<&serde_json::Value>) -> String {
    let text = |v: Option<&serde_json::Value>| v.map(|v| yaml::to_string(&canonical(v))).unwrap_or_default();
    let (bt, at) = (text(before), text(after));
    // Named like git names files, `/dev/null` for the side that does not exist.
    let name = |side: &str, v: Option<&serde_json::Value>| match v {
        Some(_) => format!("{side}/{id}"),
        None => "/dev/null".to_string(),
    };
    similar::TextDiff::from_lines(&bt, &at)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(&name("a", before), &name("b", after))
        .to_string()
}

#[cfg(test)]
mod tests;
