//! `strata promote`: which link changes, what that does to the rendered
//! output, and the write.
//!
//! In: the work tree's [`Repo`], the selectors (and `--wave`), the version to
//! move to (`--to VERSION`, or `--like ENV`). Out: a [`Promotion`]: each
//! target's old and new link, the targets already there, and the diff
//! [`Report`] of work tree before vs after, compiled over an [`OverlaySource`] that
//! answers the new links, so nothing is written before everything renders.
//! [`apply`] then writes every link, all or none ([`atomic::replace_entries`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::links::{Link, LinkForm};
use super::versions;
use crate::atomic::{self, Entry, Replacement};
use crate::diag::{Diagnostic, Error};
use crate::diff::{self, CompareOptions, Report, RevisionSide};
use crate::pipeline::Options;
use crate::repo::{Repo, Target, waves};
use crate::source::{self, Fs, OverlaySource};

/// Which version the selected targets move to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `--to VERSION`: a version of each target's component.
    Version(String),
    /// `--like ENV`: the version the component's target in ENV runs.
    Like(String),
}

/// What to promote.
#[derive(Debug, Clone)]
pub struct PromoteRequest {
    pub selectors: Vec<String>,
    /// `--wave NAME`: only the environments of this `rollout:` wave.
    pub wave: Option<String>,
    pub destination: Destination,
}

/// One target whose link changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkChange {
    pub address: String,
    pub from_version: String,
    pub to_version: String,
    pub old: Link,
    pub new: Link,
}

/// A promotion, rendered and compared, not yet written.
#[derive(Debug)]
pub struct Promotion {
    pub changes: Vec<LinkChange>,
    /// Targets already on their destination: (address, version).
    pub unchanged: Vec<(String, String)>,
    /// Work tree → promoted; `None` when nothing changes.
    pub report: Option<Report>,
    /// The promoted side's warnings.
    pub warnings: Vec<Diagnostic>,
}

impl Promotion {
    /// The targets already on their destination, for stderr, one a line:
    /// `frontend/eastus: already on v2`.
    pub fn unchanged_summary(&self) -> String {
        self.unchanged.iter().map(|(address, version)| format!("{address}: already on {version}\n")).collect()
    }

    /// Each link repointed (with `dry_run`, to be), for stderr, one a line:
    /// `frontend/eastus: v1 → v2 (repointed frontend/eastus/templates -> ../v2)`.
    pub fn changes_summary(&self, dry_run: bool) -> String {
        let verb = if dry_run { "would repoint" } else { "repointed" };
        let mut out: String = self
            .changes
            .iter()
            .map(|c| {
                let (path, target) = (&c.new.path, c.new.relative());
                format!("{}: {} → {} ({verb} {path} -> {target})\n", c.address, c.from_version, c.to_version)
            })
            .collect();
        if dry_run {
            out.push_str("dry run: nothing written\n");
        }
        out
    }
}

/// Finds each selected target's new link, compiles the affected targets with
/// it and compares them with the work tree. Any error (no such version, a
/// template or schema error in the new version, ...) is returned and nothing
/// is written.
pub fn plan(repo: &Repo, req: &PromoteRequest, opts: &Options, compare: &CompareOptions) -> Result<Promotion, Error> {
    let targets = select(repo, req)?;
    let mut changes = Vec::new();
    let mut unchanged = Vec::new();
    for t in targets {
        let (version_dir, version) = destination(repo, t, &req.destination)?;
        if version_dir == t.version_dir {
            unchanged.push((t.address(), t.version.clone()));
            continue;
        }
        let old = Link::read(&repo.fs, t)?;
        let new = old.repoint(&t.dir, &version_dir);
        changes.push(LinkChange {
            address: t.address(),
            from_version: t.version.clone(),
            to_version: version,
            old,
            new,
        });
    }
    if changes.is_empty() {
        return Ok(Promotion { changes, unchanged, report: None, warnings: Vec::new() });
    }
    let overlay =
        changes.iter().fold(OverlaySource::new(repo.fs.source().clone(), BTreeMap::new()), |o, c| match c.new.form {
            LinkForm::Symlink => o.with_link(c.new.path.clone(), c.new.raw.clone()),
            LinkForm::File => o.with_file(c.new.path.clone(), c.new.raw.as_bytes()),
        });
    let side = "the promotion";
    let after = Repo::load(Fs::new(Arc::new(overlay))).map_err(|e| crate::repo::open::on_side(e, side))?;
    let addresses: Vec<&str> = changes.iter().map(|c| c.address.as_str()).collect();
    let (bt, at) = (picked(repo, &addresses), picked(&after, &addresses));
    let before = RevisionSide { repo, targets: &bt, name: "the work tree", label: "work tree" };
    let after = RevisionSide { repo: &after, targets: &at, name: side, label: "promoted" };
    let diff = diff::compare_revisions(before, after, opts, compare)?;
    Ok(Promotion { changes, unchanged, report: Some(diff.report), warnings: diff.warnings })
}

/// Writes every changed link under `root` (the work tree the plan was made
/// from): all of them, or none.
pub fn apply(root: &Path, promotion: &Promotion) -> Result<(), Error> {
    let entry = |l: &Link| match l.form {
        LinkForm::Symlink => Entry::Symlink(l.raw.clone()),
        LinkForm::File => Entry::File(l.raw.clone().into_bytes()),
    };
    let replacements = promotion
        .changes
        .iter()
        .map(|c| Ok(Replacement { path: atomic::confined(root, &c.old.path)?, old: entry(&c.old), new: entry(&c.new) }))
        .collect::<Result<Vec<_>, Error>>()?;
    atomic::replace_entries(&replacements)
}

fn picked<'r>(repo: &'r Repo, addresses: &[&str]) -> Vec<&'r Target> {
    repo.targets().filter(|t| addresses.contains(&t.address().as_str())).collect()
}

/// The targets the selectors pick, kept to the environments of `--wave`.
fn select<'r>(repo: &'r Repo, req: &PromoteRequest) -> Result<Vec<&'r Target>, Error> {
    if req.selectors.is_empty() && req.wave.is_none() {
        return Err(Diagnostic::error("`strata promote` needs the targets to promote")
            .hint("name them: `strata promote frontend/eastus --to v2`, `strata promote @eastus --like staging`")
            .hint("or pass `--wave NAME` to promote the environments of one `rollout:` wave")
            .into());
    }
    let targets = repo.select(&req.selectors)?;
    let Some(name) = &req.wave else { return Ok(targets) };
    let waves = waves::declared(repo)?;
    let Some(wave) = waves.iter().find(|w| &w.name == name) else {
        let names: Vec<&str> = waves.iter().map(|w| w.name.as_str()).collect();
        let d = Diagnostic::error(format!("no rollout wave named `{name}`")).at(crate::repo::REPO_CONFIG);
        return Err(if names.is_empty() {
            d.hint("declare waves under `rollout:` in strata.yaml").into()
        } else {
            d.note(format!("waves: {}", names.join(", "))).into()
        });
    };
    let in_wave: Vec<&Target> = targets.into_iter().filter(|t| wave.environments.contains(&t.environment)).collect();
    if in_wave.is_empty() {
        return Err(Diagnostic::error(format!("no selected target is in wave `{name}`"))
            .note(format!("wave `{name}` holds: {}", wave.patterns.join(", ")))
            .into());
    }
    Ok(in_wave)
}

/// The version directory (repository-relative) and version name `t` moves to.
fn destination(repo: &Repo, t: &Target, dest: &Destination) -> Result<(String, String), Error> {
    match dest {
        Destination::Version(v) => {
            let known = versions::component_versions(repo, &t.component)?;
            if !known.contains(v) {
                return Err(Diagnostic::error(format!("component `{}` has no version `{v}`", t.component))
                    .at(t.component.clone())
                    .note(format!("versions of `{}`: {}", t.component, known.join(", ")))
                    .hint(format!("start one with `strata version new {} {v} --from VERSION`", t.component))
                    .into());
            }
            let dir =
                repo.targets().find(|o| o.component == t.component && &o.version == v).map(|o| o.version_dir.clone());
            Ok((dir.unwrap_or_else(|| source::join(&t.component, v)), v.clone()))
        }
        Destination::Like(env) => {
            let twin = repo.targets().find(|o| o.component == t.component && &o.environment == env);
            let Some(twin) = twin else {
                let envs: Vec<&str> =
                    repo.targets().filter(|o| o.component == t.component).map(|o| o.environment.as_str()).collect();
                return Err(Diagnostic::error(format!(
                    "component `{}` has no target in environment `{env}` to take the version of",
                    t.component
                ))
                .note(format!("environments of `{}`: {}", t.component, envs.join(", ")))
                .into());
            };
            Ok((twin.version_dir.clone(), twin.version.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;

    fn repo() -> Repo {
        let cm = |v: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  v: {v}\n");
        let m = MemorySource::from_entries(&[
            ("web/v1/cm.yaml", &cm("one")),
            ("web/v2/cm.yaml", &cm("two")),
            ("web/v3/cm.yaml", "kind: [\n"),
            ("web/east/templates", "-> ../v1"),
            ("web/prod/west/templates", "../../v1\n"),
            ("web/north/templates", "-> ../v2"),
        ]);
        Repo::load(Fs::new(Arc::new(m))).unwrap()
    }

    fn request(selectors: &[&str], to: &str) -> PromoteRequest {
        let selectors = selectors.iter().map(|s| s.to_string()).collect();
        PromoteRequest { selectors, wave: None, destination: Destination::Version(to.to_string()) }
    }

    #[test]
    fn plans_new_links_and_diffs_them_in_memory() {
        let r = repo();
        let p = plan(&r, &request(&["web"], "v2"), &Options::default(), &CompareOptions::default()).unwrap();
        let links: Vec<(&str, &str)> = p.changes.iter().map(|c| (c.new.path.as_str(), c.new.raw.as_str())).collect();
        assert_eq!(links, [("web/east/templates", "../v2"), ("web/prod/west/templates", "../../v2\n")]);
        assert_eq!(p.unchanged, [("web/north".to_string(), "v2".to_string())]);
        let report = p.report.unwrap();
        assert!(report.differs());
        assert_eq!(report.counts().changed, 2);
    }

    #[test]
    fn wave_patterns_are_checked_and_resolved_by_repo_waves() {
        let with = |rollout: &str| {
            let m = MemorySource::from_entries(&[
                ("strata.yaml", rollout),
                ("web/v1/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"),
                ("web/v2/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web2\n"),
                ("web/east/templates", "-> ../v1"),
                ("web/prod/west/templates", "-> ../../v1"),
            ]);
            Repo::load(Fs::new(Arc::new(m))).unwrap()
        };
        let promote = |r: &Repo, wave: &str| {
            let req = PromoteRequest { wave: Some(wave.to_string()), ..request(&["web"], "v2") };
            plan(r, &req, &Options::default(), &CompareOptions::default())
        };
        // A bad glob is an error at its line, not a literal environment name.
        let bad = with("rollout:\n  - name: a\n    environments:\n      - east\n      - \"prod/[\"\n");
        let e = promote(&bad, "a").unwrap_err();
        let d = &e.diagnostics[0];
        assert!(d.message.starts_with("invalid environment pattern `prod/[`"), "{}", e.messages());
        assert_eq!((d.path.as_deref(), d.pos.map(|p| p.line)), (Some("strata.yaml"), Some(5)));
        let good =
            with("rollout:\n  - name: a\n    environments: [east]\n  - name: b\n    environments: [\"prod/*\"]\n");
        let p = promote(&good, "b").unwrap();
        let links: Vec<&str> = p.changes.iter().map(|c| c.new.path.as_str()).collect();
        assert_eq!(links, ["web/prod/west/templates"]);
        let e = promote(&good, "c").unwrap_err();
        assert_eq!(e.messages(), "no rollout wave named `c`");
    }

    #[test]
    fn render_errors_and_unknown_versions_are_errors() {
        let r = repo();
        let e = plan(&r, &request(&["web/east"], "v3"), &Options::default(), &CompareOptions::default()).unwrap_err();
        assert!(e.messages().contains("while rendering the promotion"), "{}", e.messages());
        let e = plan(&r, &request(&["web/east"], "v7"), &Options::default(), &CompareOptions::default()).unwrap_err();
        assert!(e.messages().contains("component `web` has no version `v7`"), "{}", e.messages());
    }
}
