//! The live diff report: what applying each environment's bundle would do.
//!
//! In: the entries [`super::live`] computed. Out: a [`LiveReport`] (every object,
//! conflicts with their owners, for library users and tests) and, through
//! [`LiveReport::to_diff_report`], the [`crate::diff::Report`] that `strata diff`'s
//! text, markdown and JSON renderers print, in the cluster vocabulary
//! (`create` / `update` / `unchanged` / `prune` / `conflict`).
//!
//! Invariants: byte-stable (entries keep render order, prunes sorted by
//! identity; the diff report sorts by identity); Secret values never appear
//! (entries' diffs come from [`crate::diff::unified_diff`], which masks them).

use serde::Serialize;

use super::connect::{Conflict, Forced};
use crate::diff::{self, Counts, ResourceChange, Side, Status, TargetReport, Vocabulary};
use crate::manifest::ResId;
use crate::source::SourceInfo;

/// One object of the report. Statuses in cluster words: `Added` is a creation,
/// `Changed` an update, `Removed` a prune.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    #[serde(serialize_with = "status_word")]
    pub status: Status,
    pub id: ResId,
    pub api_version: String,
    /// The target (`shop/eastus`) that renders it, or whose tracking label it carries.
    pub target: String,
    /// The template that produced it (absent for prunes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Why the entry is special (not dry-run, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<Conflict>,
    /// Unified diff, live (`a/`) → after apply (`b/`), normalized, canonical and masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

fn status_word<S: serde::Serializer>(s: &Status, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(Vocabulary::Cluster.word(*s))
}

/// A target of the environment, for headings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetInfo {
    pub address: String,
    pub component: String,
    pub environment: String,
    pub version: String,
}

/// One environment's bundle against the cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvironmentReport {
    pub environment: String,
    pub targets: Vec<TargetInfo>,
    pub entries: Vec<Entry>,
}

impl EnvironmentReport {
    pub fn count(&self, s: Status) -> usize {
        self.entries.iter().filter(|e| e.status == s).count()
    }

    pub fn has_changes(&self) -> bool {
        self.entries.iter().any(|e| e.status != Status::Unchanged)
    }
}

/// The whole live diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveReport {
    pub context: String,
    pub server: String,
    pub environments: Vec<EnvironmentReport>,
}

impl LiveReport {
    pub fn has_changes(&self) -> bool {
        self.environments.iter().any(EnvironmentReport::has_changes)
    }

    /// The report `strata diff` prints: before is the cluster (`context NAME`),
    /// after is the work tree's render (`render` names its commit, dirty).
    pub fn to_diff_report(&self, render: &SourceInfo) -> diff::Report {
        self.to_diff_report_as(render, "work tree")
    }

    /// [`LiveReport::to_diff_report`] of a render named `label` (`v1.4`, `HEAD~1`).
    pub fn to_diff_report_as(&self, render: &SourceInfo, label: &str) -> diff::Report {
        let environments = self
            .environments
            .iter()
            .map(|env| {
                let mut targets: Vec<TargetReport> = env
                    .targets
                    .iter()
                    .map(|t| TargetReport {
                        address: t.address.clone(),
                        component: t.component.clone(),
                        environment: t.environment.clone(),
                        // The cluster has no version: the same on both sides keeps
                        // headings to the version and never says "(create)" for a target.
                        before_version: Some(t.version.clone()),
                        after_version: Some(t.version.clone()),
                        counts: Counts::default(),
                        changes: Vec::new(),
                        hidden: 0,
                    })
                    .collect();
                for e in &env.entries {
                    let i = match targets.iter().position(|t| t.address == e.target) {
                        Some(i) => i,
                        None => {
                            // A prune whose label names no selected target: shown under its own heading.
                            targets.push(TargetReport {
                                address: e.target.clone(),
                                component: String::new(),
                                environment: env.environment.clone(),
                                before_version: None,
                                after_version: None,
                                counts: Counts::default(),
                                changes: Vec::new(),
                                hidden: 0,
                            });
                            targets.len() - 1
                        }
                    };
                    let t = &mut targets[i];
                    t.counts.bump(e.status);
                    if e.status != Status::Unchanged {
                        t.changes.push(ResourceChange {
                            id: e.id.clone(),
                            status: e.status,
                            source: e.template.clone(),
                            diff: e.diff.clone().unwrap_or_default(),
                            note: note(e),
                            fields: Vec::new(),
                        });
                    }
                }
                let mut counts = Counts::default();
                for t in &mut targets {
                    t.changes.sort_by(|a, b| a.id.cmp(&b.id));
                    counts.add(&t.counts);
                }
                targets.sort_by(|a, b| a.address.cmp(&b.address));
                diff::EnvironmentReport { environment: env.environment.clone(), counts, targets, identical: 0 }
            })
            .collect();
        diff::Report {
            words: Vocabulary::Cluster,
            before: Side { label: format!("context {}", self.context), commit: None, dirty: false },
            after: Side { label: label.to_string(), ..Side::from_info(render) },
            environments,
        }
    }
}

/// A conflict's owners and fields and what forcing would do, or the entry's note.
fn note(e: &Entry) -> Option<String> {
    if let Some(c) = &e.conflict {
        let owners = c.managers.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
        let owners = if owners.is_empty() { "another field manager".to_string() } else { owners };
        let verdict = match c.forced {
            Some(Forced::Identical) => {
                "; values are identical: adopt them with `kubectl apply --server-side --force-conflicts`"
            }
            Some(Forced::Changes) => "; forcing the apply (`--force-conflicts`) would make this change",
            None => "",
        };
        return Some(format!("owned by {owners}: {}{verdict}", c.fields.join(", ")));
    }
    e.note.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: Status, name: &str, target: &str) -> Entry {
        Entry {
            status,
            id: ResId {
                group: String::new(),
                kind: "ConfigMap".into(),
                namespace: Some("shop".into()),
                name: name.into(),
            },
            api_version: "v1".into(),
            target: target.into(),
            template: Some("shop/v1/cm.yaml".into()),
            note: None,
            conflict: None,
            diff: (status != Status::Unchanged).then(|| format!("--- a/{name}\n+++ b/{name}\n")),
        }
    }

    #[test]
    fn the_diff_report_groups_by_target_in_cluster_words() {
        let mut conflict = entry(Status::Conflict, "svc", "shop/eastus");
        conflict.conflict = Some(Conflict {
            managers: vec!["ops".into()],
            fields: vec![".spec.x".into()],
            message: String::new(),
            forced: None,
        });
        let live = LiveReport {
            context: "kind".into(),
            server: "https://x".into(),
            environments: vec![EnvironmentReport {
                environment: "eastus".into(),
                targets: vec![
                    TargetInfo {
                        address: "shop/eastus".into(),
                        component: "shop".into(),
                        environment: "eastus".into(),
                        version: "v1".into(),
                    },
                    TargetInfo {
                        address: "db/eastus".into(),
                        component: "db".into(),
                        environment: "eastus".into(),
                        version: "v2".into(),
                    },
                ],
                entries: vec![
                    entry(Status::Unchanged, "a", "shop/eastus"),
                    entry(Status::Changed, "z", "shop/eastus"),
                    entry(Status::Added, "b", "shop/eastus"),
                    conflict,
                    entry(Status::Removed, "old", "db/eastus"),
                ],
            }],
        };
        let r = live.to_diff_report(&SourceInfo::default());
        assert_eq!(r.words, Vocabulary::Cluster);
        assert_eq!(r.before.describe(), "context kind");
        assert!(r.differs());
        let env = &r.environments[0];
        assert_eq!(env.counts.describe(Vocabulary::Cluster), "1 create, 1 prune, 1 update, 1 conflict, 1 unchanged");
        let addrs: Vec<&str> = env.targets.iter().map(|t| t.address.as_str()).collect();
        assert_eq!(addrs, ["db/eastus", "shop/eastus"]);
        let shop = &env.targets[1];
        assert_eq!(shop.presence(), None);
        assert_eq!(shop.versions(), "v1");
        let names: Vec<&str> = shop.changes.iter().map(|c| c.id.name.as_str()).collect();
        assert_eq!(names, ["b", "svc", "z"], "sorted by identity, unchanged ones only counted");
        assert_eq!(shop.changes[1].note.as_deref(), Some("owned by `ops`: .spec.x"));
        let j = serde_json::to_value(&live.environments[0].entries[3]).unwrap();
        assert_eq!(j["status"], "conflict");
        assert_eq!(j["conflict"]["managers"][0], "ops");
    }
}
