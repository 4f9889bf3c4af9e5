//! The live diff report: what applying each environment's bundle would do.
//!
//! In: the entries [`super::live`] computed. Out: text (colour only when asked),
//! markdown (a pull-request comment kept under 60,000 characters) or JSON.
//! Invariants: byte-stable (entries keep render order, prunes sorted by
//! identity); Secret values never appear (they were masked before this stage).

use std::fmt::Write as _;

use serde::Serialize;

use super::connect::Conflict;
use crate::manifest::ResId;

/// What applying would do to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The object does not exist: it would be created.
    Create,
    /// It exists and applying would change it.
    Update,
    /// It exists and applying would change nothing.
    Unchanged,
    /// Tracked as this target's but no longer rendered: pruning would delete it.
    Prune,
    /// Another field manager owns fields the render sets: applying would fail.
    Conflict,
}

impl Status {
    pub const ALL: [Status; 5] = [Status::Create, Status::Update, Status::Unchanged, Status::Prune, Status::Conflict];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Create => "create",
            Status::Update => "update",
            Status::Unchanged => "unchanged",
            Status::Prune => "prune",
            Status::Conflict => "conflict",
        }
    }
}

/// One object of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
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
    /// Unified diff, live (`-`) → after apply (`+`), normalized and masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// One environment's bundle against the cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvironmentReport {
    pub environment: String,
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
}

fn summary(env: &EnvironmentReport) -> String {
    let parts: Vec<String> = Status::ALL
        .iter()
        .filter(|s| env.count(**s) > 0)
        .map(|s| format!("{} {}", env.count(*s), s.as_str()))
        .collect();
    if parts.is_empty() { "no objects".to_string() } else { parts.join(", ") }
}

fn object_name(id: &ResId) -> String {
    let kind = if id.group.is_empty() { id.kind.clone() } else { format!("{}.{}", id.kind, id.group) };
    match &id.namespace {
        Some(ns) => format!("{kind} {ns}/{}", id.name),
        None => format!("{kind} {}", id.name),
    }
}

fn detail_line(e: &Entry) -> Option<String> {
    if let Some(c) = &e.conflict {
        let owners = c.managers.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
        let fields = c.fields.join(", ");
        return Some(format!("owned by {owners}: {fields}"));
    }
    e.note.clone()
}

/// Plain text; `color` adds ANSI colours (the caller decides: a terminal and no `NO_COLOR`).
pub fn to_text(report: &LiveReport, color: bool) -> String {
    let paint = |code: &str, s: &str| if color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() };
    let mut out = String::new();
    for env in &report.environments {
        let _ = writeln!(out, "{}", paint("1", &format!("environment {} (context {}): {}", env.environment, report.context, summary(env))));
        for e in &env.entries {
            let status = match e.status {
                Status::Create => paint("32", "create   "),
                Status::Update => paint("33", "update   "),
                Status::Unchanged => "unchanged".to_string(),
                Status::Prune => paint("31", "prune    "),
                Status::Conflict => paint("1;31", "conflict "),
            };
            let from = match &e.template {
                Some(t) => format!("{}, {t}", e.target),
                None => e.target.clone(),
            };
            let _ = writeln!(out, "  {status} {}  ({from})", object_name(&e.id));
            if let Some(d) = detail_line(e) {
                let _ = writeln!(out, "            {d}");
            }
        }
        for e in env.entries.iter().filter(|e| e.diff.is_some()) {
            out.push('\n');
            for line in e.diff.as_deref().unwrap_or_default().lines() {
                let painted = if line.starts_with("+++") || line.starts_with("---") {
                    paint("1", line)
                } else if line.starts_with('+') {
                    paint("32", line)
                } else if line.starts_with('-') {
                    paint("31", line)
                } else if line.starts_with("@@") {
                    paint("36", line)
                } else {
                    line.to_string()
                };
                out.push_str(&painted);
                out.push('\n');
            }
        }
    }
    out
}

/// The largest markdown report, under GitHub's 65,536-character comment limit.
pub const MARKDOWN_LIMIT: usize = 60_000;

/// A pull-request comment: a summary table, then one collapsible section per target.
pub fn to_markdown(report: &LiveReport) -> String {
    let mut head = String::new();
    let _ = writeln!(head, "### strata live diff (context `{}`)\n", report.context);
    let _ = writeln!(head, "| environment | create | update | unchanged | prune | conflict |");
    let _ = writeln!(head, "|---|---:|---:|---:|---:|---:|");
    for env in &report.environments {
        let n: Vec<String> = Status::ALL.iter().map(|s| env.count(*s).to_string()).collect();
        let _ = writeln!(head, "| `{}` | {} |", env.environment, n.join(" | "));
    }
    let mut sections = Vec::new();
    for env in &report.environments {
        let mut targets: Vec<&str> = env.entries.iter().map(|e| e.target.as_str()).collect();
        targets.dedup();
        let mut seen = std::collections::BTreeSet::new();
        targets.retain(|t| seen.insert(*t));
        for t in targets {
            let entries: Vec<&Entry> = env.entries.iter().filter(|e| e.target == t && e.status != Status::Unchanged).collect();
            if entries.is_empty() {
                continue;
            }
            let mut s = String::new();
            let _ = writeln!(s, "\n<details><summary><code>{t}</code> in <code>{}</code>: {} changes</summary>\n", env.environment, entries.len());
            for e in entries {
                let _ = write!(s, "- **{}** `{}`", e.status.as_str(), object_name(&e.id));
                match detail_line(e) {
                    Some(d) => {
                        let _ = writeln!(s, " — {d}");
                    }
                    None => s.push('\n'),
                }
                if let Some(d) = &e.diff {
                    let _ = writeln!(s, "\n```diff\n{}```\n", d);
                }
            }
            s.push_str("\n</details>\n");
            sections.push(s);
        }
    }
    let mut out = head;
    let total = sections.len();
    for (i, s) in sections.into_iter().enumerate() {
        let note = format!("\n_{} more targets not shown: the comment would exceed {MARKDOWN_LIMIT} characters; run `strata diff --live` locally for the rest._\n", total - i);
        if out.len() + s.len() + note.len() > MARKDOWN_LIMIT {
            out.push_str(&note);
            break;
        }
        out.push_str(&s);
    }
    out
}

/// Pretty JSON with a per-environment summary.
pub fn to_json(report: &LiveReport) -> String {
    #[derive(Serialize)]
    struct Env<'a> {
        environment: &'a str,
        summary: std::collections::BTreeMap<&'static str, usize>,
        objects: &'a [Entry],
    }
    #[derive(Serialize)]
    struct Out<'a> {
        context: &'a str,
        server: &'a str,
        changed: bool,
        environments: Vec<Env<'a>>,
    }
    let out = Out {
        context: &report.context,
        server: &report.server,
        changed: report.has_changes(),
        environments: report
            .environments
            .iter()
            .map(|e| Env {
                environment: &e.environment,
                summary: Status::ALL.iter().map(|s| (s.as_str(), e.count(*s))).collect(),
                objects: &e.entries,
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&out).expect("reports serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: Status, name: &str, diff: Option<&str>) -> Entry {
        Entry {
            status,
            id: ResId { group: String::new(), kind: "ConfigMap".into(), namespace: Some("shop".into()), name: name.into() },
            api_version: "v1".into(),
            target: "shop/eastus".into(),
            template: Some("shop/v1/cm.yaml".into()),
            note: None,
            conflict: None,
            diff: diff.map(str::to_string),
        }
    }

    fn report(entries: Vec<Entry>) -> LiveReport {
        LiveReport { context: "kind".into(), server: "https://x".into(), environments: vec![EnvironmentReport { environment: "eastus".into(), entries }] }
    }

    #[test]
    fn text_lists_every_object_then_the_diffs() {
        let r = report(vec![
            entry(Status::Unchanged, "a", None),
            entry(Status::Update, "b", Some("--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n")),
        ]);
        let t = to_text(&r, false);
        assert_eq!(
            t,
            "environment eastus (context kind): 1 update, 1 unchanged\n  unchanged ConfigMap shop/a  (shop/eastus, shop/v1/cm.yaml)\n  update    ConfigMap shop/b  (shop/eastus, shop/v1/cm.yaml)\n\n--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n"
        );
        assert!(!t.contains('\x1b'));
        assert!(to_text(&r, true).contains("\x1b[32m+y\x1b[0m"));
        assert!(!r.environments[0].entries.is_empty() && r.has_changes());
        assert!(!report(vec![entry(Status::Unchanged, "a", None)]).has_changes());
    }

    #[test]
    fn markdown_stays_under_the_limit() {
        let big = format!("--- a\n+++ b\n{}", "+line\n".repeat(2_000));
        let mut envs = Vec::new();
        for i in 0..20 {
            let mut e = entry(Status::Update, "b", Some(&big));
            e.target = format!("c{i}/eastus");
            envs.push(e);
        }
        let md = to_markdown(&report(envs));
        assert!(md.len() <= MARKDOWN_LIMIT, "{}", md.len());
        assert!(md.contains("more targets not shown"));
        assert!(md.starts_with("### strata live diff (context `kind`)\n\n| environment | create | update | unchanged | prune | conflict |"));
    }

    #[test]
    fn json_has_a_summary_per_environment() {
        let j: serde_json::Value = serde_json::from_str(&to_json(&report(vec![entry(Status::Prune, "old", None)]))).unwrap();
        assert_eq!(j["changed"], true);
        assert_eq!(j["environments"][0]["summary"]["prune"], 1);
        assert_eq!(j["environments"][0]["objects"][0]["status"], "prune");
        assert_eq!(j["environments"][0]["objects"][0]["id"]["name"], "old");
    }
}
