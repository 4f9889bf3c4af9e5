//! The version matrix: which version each target of each component runs.
//!
//! In: a [`Repo`] (the work tree or a git revision) and its selected targets.
//! Out: a [`Matrix`]: environments as columns (in `rollout:` wave order when
//! `strata.yaml` declares waves, then the others sorted), one row per
//! component with its cells, its versions in [`compare_versions`] order, the
//! versions no target uses, its newest version and the environments behind it.
//! Two matrices give the [`Move`]s between them (`--from REV --to REV`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::diag::Error;
use crate::repo::{Repo, Target, waves};
use crate::source::{self, EntryKind};

/// The matrix component × environment → version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Matrix {
    /// Every environment of a selected target, in column order.
    pub environments: Vec<String>,
    /// The `rollout:` waves of `strata.yaml`, with the environments each holds here.
    pub waves: Vec<WaveColumns>,
    pub components: Vec<ComponentRow>,
}

/// A rollout wave and the matrix's environments in it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WaveColumns {
    pub name: String,
    pub environments: Vec<String>,
}

/// One component's row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ComponentRow {
    pub name: String,
    /// Every version of the component (used or not), oldest first.
    pub versions: Vec<String>,
    /// The last of `versions`.
    pub newest: Option<String>,
    /// Versions no target of the component uses.
    pub unused: Vec<String>,
    /// Environment → version, for the component's selected targets.
    pub targets: BTreeMap<String, String>,
    /// Environments whose version is not `newest`, in column order.
    pub behind: Vec<String>,
}

impl ComponentRow {
    pub fn version_in(&self, environment: &str) -> Option<&str> {
        self.targets.get(environment).map(String::as_str)
    }
}

/// One cell that differs between two matrices.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Move {
    pub component: String,
    pub environment: String,
    /// `None`: the target does not exist on that side.
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Move {
    /// `v1 → v2`, `(none) → v2`.
    pub fn describe(&self) -> String {
        let side = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_string());
        format!("{} → {}", side(&self.from), side(&self.to))
    }
}

/// Builds the matrix of `targets` (all from `repo`).
pub fn matrix(repo: &Repo, targets: &[&Target]) -> Result<Matrix, Error> {
    let environments: BTreeSet<&str> = targets.iter().map(|t| t.environment.as_str()).collect();
    let (environments, waves) = columns(repo, &environments)?;
    let mut components = Vec::new();
    for component in &repo.components {
        let mine: Vec<&&Target> = targets.iter().filter(|t| t.component == component.name).collect();
        if mine.is_empty() {
            continue;
        }
        let cells: BTreeMap<String, String> = mine.iter().map(|t| (t.environment.clone(), t.version.clone())).collect();
        let used: BTreeSet<String> = component.targets.iter().map(|t| t.version.clone()).collect();
        let versions = component_versions(repo, &component.name)?;
        let unused = versions.iter().filter(|v| !used.contains(*v)).cloned().collect();
        let newest = versions.last().cloned();
        let behind = environments
            .iter()
            .filter(|e| cells.get(*e).is_some_and(|v| Some(v) != newest.as_ref()))
            .cloned()
            .collect();
        components.push(ComponentRow {
            name: component.name.clone(),
            versions,
            newest,
            unused,
            targets: cells,
            behind,
        });
    }
    Ok(Matrix { environments, waves, components })
}

/// The cells that differ between `before` and `after`, by component then column.
pub fn moves(before: &Matrix, after: &Matrix) -> Vec<Move> {
    let mut columns: Vec<String> = after.environments.clone();
    let mut extra: Vec<String> =
        before.environments.iter().filter(|e| !after.environments.contains(e)).cloned().collect();
    extra.sort();
    columns.extend(extra);
    let names: BTreeSet<&str> = before.components.iter().chain(&after.components).map(|c| c.name.as_str()).collect();
    let row = |m: &Matrix, name: &str, env: &str| {
        m.components.iter().find(|c| c.name == name).and_then(|c| c.version_in(env)).map(str::to_string)
    };
    let mut out = Vec::new();
    for name in names {
        for env in &columns {
            let (from, to) = (row(before, name, env), row(after, name, env));
            if from != to {
                out.push(Move { component: name.to_string(), environment: env.clone(), from, to });
            }
        }
    }
    out
}

/// The environments in column order: each wave's (its patterns in order,
/// matches sorted), then those in no wave (there are some only without
/// `rollout:`), sorted. The waves are checked as `rollout plan` checks them
/// ([`waves::declared`]), each problem an error at its line of `strata.yaml`.
fn columns(repo: &Repo, environments: &BTreeSet<&str>) -> Result<(Vec<String>, Vec<WaveColumns>), Error> {
    let candidates: Vec<&str> = environments.iter().copied().collect();
    let mut placed: Vec<String> = Vec::new();
    let mut columns = Vec::new();
    for wave in waves::declared(repo)? {
        let mine: Vec<String> = wave
            .matching(&candidates)
            .into_iter()
            .filter(|e| !placed.iter().any(|p| p == e))
            .map(String::from)
            .collect();
        placed.extend(mine.iter().cloned());
        columns.push(WaveColumns { name: wave.name, environments: mine });
    }
    placed.extend(
        environments.iter().filter(|e| !placed.iter().any(|p| p == *e)).map(|e| e.to_string()).collect::<Vec<_>>(),
    );
    Ok((placed, columns))
}

/// Every version of `component`, oldest first: those its targets use and the
/// version directories no target uses.
pub fn component_versions(repo: &Repo, component: &str) -> Result<Vec<String>, Error> {
    let used = repo.targets().filter(|t| t.component == component).map(|t| t.version.clone());
    let mut versions: Vec<String> = version_dirs(repo, component)?.into_iter().chain(used).collect();
    versions.sort_by(|a, b| compare_versions(a, b));
    versions.dedup();
    Ok(versions)
}

/// The directories directly inside a component that are versions: neither a
/// target nor a directory holding targets (`prod/`), nor hidden (`.x`, `_x`).
fn version_dirs(repo: &Repo, component: &str) -> Result<Vec<String>, Error> {
    let Some(c) = repo.component(component) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for entry in repo.fs.read_dir(component)? {
        if entry.kind != EntryKind::Dir || entry.name.starts_with(['.', '_']) {
            continue;
        }
        let dir = source::join(component, &entry.name);
        let holds_target = c.targets.iter().any(|t| t.dir == dir || t.dir.starts_with(&format!("{dir}/")));
        if !holds_target {
            out.push(entry.name);
        }
    }
    Ok(out)
}

/// The order of version names, oldest first.
///
/// Version-like names (`v9`, `v10`, `1.2.0`, `v1.10`, `2.0.0-rc.1`: an optional
/// `v`, dot-separated numbers, an optional `-pre-release`) compare as versions:
/// number by number, a release after its pre-releases. Other names (`canary`,
/// `next`) compare by name and come before every version-like name, so that
/// the newest version is the greatest version-like one.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (VersionKey::parse(a), VersionKey::parse(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => a.cmp(b),
    }
}

#[derive(Debug, PartialEq, Eq)]
struct VersionKey<'a> {
    numbers: Vec<u64>,
    pre: Option<&'a str>,
}

impl<'a> VersionKey<'a> {
    fn parse(name: &'a str) -> Option<Self> {
        let rest = name.strip_prefix(['v', 'V']).unwrap_or(name);
        let (core, pre) = match rest.split_once('-') {
            Some((core, pre)) if !pre.is_empty() => (core, Some(pre)),
            Some(_) => return None,
            None => (rest, None),
        };
        let numbers = core
            .split('.')
            .map(|n| if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) { n.parse().ok() } else { None })
            .collect::<Option<Vec<u64>>>()?;
        Some(VersionKey { numbers, pre })
    }
}

impl Ord for VersionKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.numbers.len().max(other.numbers.len());
        for i in 0..len {
            let (x, y) = (self.numbers.get(i).unwrap_or(&0), other.numbers.get(i).unwrap_or(&0));
            if x != y {
                return x.cmp(y);
            }
        }
        match (self.pre, other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => compare_pre(x, y),
        }
    }
}

impl PartialOrd for VersionKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Semver's pre-release order: dot-separated identifiers, numeric ones as numbers
/// and before alphanumeric ones.
fn compare_pre(a: &str, b: &str) -> Ordering {
    let (mut xs, mut ys) = (a.split('.'), b.split('.'));
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Fs, MemorySource};
    use std::sync::Arc;

    #[test]
    fn versions_sort_as_versions_and_other_names_by_name() {
        let mut names =
            vec!["v10", "v9", "1.2.0", "v1.10", "v1.9", "canary", "2.0.0-rc.1", "2.0.0", "v2", "beta", "v1"];
        names.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(names, ["beta", "canary", "v1", "1.2.0", "v1.9", "v1.10", "2.0.0-rc.1", "2.0.0", "v2", "v9", "v10"]);
        for (a, b) in [("v1.0", "v1"), ("2.0.0-rc.2", "2.0.0-rc.10"), ("1-alpha", "1-beta"), ("v-1", "v1")] {
            assert_eq!(compare_versions(a, b).reverse(), compare_versions(b, a), "{a} {b}");
        }
        assert_eq!(compare_versions("2.0.0-rc.2", "2.0.0-rc.10"), Ordering::Less);
        assert_eq!(compare_versions("v1.0", "v1"), Ordering::Greater, "equal versions fall back to the name");
    }

    fn repo(entries: &[(&str, &str)]) -> Repo {
        Repo::load(Fs::new(Arc::new(MemorySource::from_entries(entries)))).unwrap()
    }

    #[test]
    fn matrix_in_wave_order_with_unused_and_behind() {
        let r = repo(&[
            (
                "strata.yaml",
                "rollout:\n  - name: first\n    environments: [staging]\n  - name: rest\n    environments: [\"prod/*\", eastus]\n",
            ),
            ("web/v1/d.yaml", ""),
            ("web/v2/d.yaml", ""),
            ("web/v10/d.yaml", ""),
            ("web/v9/d.yaml", ""),
            ("web/eastus/templates", "-> ../v1"),
            ("web/prod/westus/templates", "-> ../../v2"),
            ("web/prod/parameters.yaml", ""),
            ("web/staging/templates", "../v10\n"),
        ]);
        let targets: Vec<&Target> = r.targets().collect();
        let m = matrix(&r, &targets).unwrap();
        assert_eq!(m.environments, ["staging", "prod/westus", "eastus"]);
        assert_eq!(m.waves[1].environments, ["prod/westus", "eastus"]);
        let web = &m.components[0];
        assert_eq!(web.versions, ["v1", "v2", "v9", "v10"]);
        assert_eq!(web.unused, ["v9"]);
        assert_eq!(web.newest.as_deref(), Some("v10"));
        assert_eq!(web.behind, ["prod/westus", "eastus"]);
    }

    #[test]
    fn environments_in_no_wave_come_last_without_rollout() {
        let r = repo(&[("web/v1/d.yaml", ""), ("web/b/templates", "-> ../v1"), ("web/a/templates", "-> ../v1")]);
        let m = matrix(&r, &r.targets().collect::<Vec<_>>()).unwrap();
        assert_eq!(m.environments, ["a", "b"]);
        assert!(m.waves.is_empty());
    }

    #[test]
    fn bad_waves_are_errors_at_their_line() {
        let cases: &[(&str, &str, usize)] = &[
            (
                "rollout:\n  - name: all\n    environments:\n      - staging\n      - \"prod/[\"\n",
                "invalid environment pattern `prod/[`",
                5,
            ),
            (
                "rollout:\n  - name: first\n    environments: [staging]\n",
                "environment `eastus` is in no rollout wave",
                1,
            ),
        ];
        for (config, message, line) in cases {
            let r = repo(&[
                ("strata.yaml", config),
                ("web/v1/d.yaml", ""),
                ("web/staging/templates", "-> ../v1"),
                ("web/eastus/templates", "-> ../v1"),
            ]);
            let e = matrix(&r, &r.targets().collect::<Vec<_>>()).unwrap_err();
            let d = &e.diagnostics[0];
            assert!(d.message.starts_with(message), "{}", e.messages());
            assert_eq!((d.path.as_deref(), d.pos.map(|p| p.line)), (Some("strata.yaml"), Some(*line)), "{message}");
        }
    }

    #[test]
    fn moves_between_matrices() {
        let before =
            repo(&[("a/v1/x", ""), ("a/v2/x", ""), ("a/e/templates", "-> ../v1"), ("a/w/templates", "-> ../v1")]);
        let after =
            repo(&[("a/v1/x", ""), ("a/v2/x", ""), ("a/e/templates", "-> ../v2"), ("a/n/templates", "-> ../v2")]);
        let m = |r: &Repo| matrix(r, &r.targets().collect::<Vec<_>>()).unwrap();
        let moved: Vec<String> = moves(&m(&before), &m(&after))
            .iter()
            .map(|m| format!("{}/{} {}", m.component, m.environment, m.describe()))
            .collect();
        assert_eq!(moved, ["a/e v1 → v2", "a/n (none) → v2", "a/w v1 → (none)"]);
    }
}
