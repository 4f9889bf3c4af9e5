//! Rollout waves: `strata.yaml`'s `rollout:` resolved against the environments
//! the repository has.
//!
//! In: a [`Repo`] (its `strata.yaml` and the environments of its targets). Out:
//! the [`Wave`]s in order, each with the environments it holds. Invariants: when
//! `rollout:` is set, every environment is in exactly one wave, every pattern
//! matches some environment and wave names are unique; each problem is an error
//! naming the line of `strata.yaml`, all of them reported together. Without
//! `rollout:`, every environment is in one wave named [`DEFAULT_WAVE`].

use std::collections::{BTreeMap, BTreeSet};

use globset::{GlobBuilder, GlobMatcher};

use super::config::{MaxUpdate, Pause, RolloutWave};
use super::{REPO_CONFIG, Repo};
use crate::diag::{Diagnostic, Error};
use crate::yaml;

/// The one wave of a repository whose `strata.yaml` has no `rollout:`.
pub const DEFAULT_WAVE: &str = "all";

/// One wave with its environments resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Wave {
    pub name: String,
    /// The patterns as written (`prod/*`), to match environments that exist on
    /// another side of a comparison only.
    pub patterns: Vec<String>,
    /// The environments it holds, sorted.
    pub environments: Vec<String>,
    pub pause: Option<Pause>,
    pub max_update: Option<MaxUpdate>,
}

impl Wave {
    /// True when one of the wave's patterns matches `environment`.
    pub fn matches(&self, environment: &str) -> bool {
        self.patterns.iter().any(|p| pattern(p).is_ok_and(|g| g.is_match(environment)))
    }

    /// The environments among `environments` the wave matches, each once:
    /// pattern by pattern in the order written, each pattern's matches in the
    /// order given (the columns of `strata versions`).
    pub fn matching<'e>(&self, environments: &[&'e str]) -> Vec<&'e str> {
        let mut out: Vec<&'e str> = Vec::new();
        for g in self.patterns.iter().filter_map(|p| pattern(p).ok()) {
            for env in environments.iter().copied().filter(|e| g.is_match(e)) {
                if !out.contains(&env) {
                    out.push(env);
                }
            }
        }
        out
    }
}

/// The waves of `repo`, in order; see the module documentation for the rules.
pub fn resolve(repo: &Repo) -> Result<Vec<Wave>, Error> {
    let environments: BTreeSet<String> = repo.targets().map(|t| t.environment.clone()).collect();
    let text = repo.config_text.as_deref().unwrap_or("");
    resolve_environments(&repo.config.rollout, text, &environments)
}

/// The waves `strata.yaml` declares, checked as [`resolve`] does; none when it
/// has no `rollout:` (rather than the one [`DEFAULT_WAVE`]).
pub fn declared(repo: &Repo) -> Result<Vec<Wave>, Error> {
    if repo.config.rollout.is_empty() { Ok(Vec::new()) } else { resolve(repo) }
}

/// [`resolve`] over a list of waves, the text of `strata.yaml` (for positions)
/// and the environments that exist.
pub fn resolve_environments(
    config: &[RolloutWave],
    text: &str,
    environments: &BTreeSet<String>,
) -> Result<Vec<Wave>, Error> {
    if config.is_empty() {
        return Ok(vec![default_wave(environments)]);
    }
    let mut diags = Vec::new();
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    // Environment → (wave index, pattern index) of the first wave holding it.
    let mut owner: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut waves = Vec::new();
    for (i, w) in config.iter().enumerate() {
        if let Some(first) = names.insert(&w.name, i) {
            diags.push(
                at(text, &["rollout", &i.to_string(), "name"], &w.name)
                    .message(format!("duplicate rollout wave name `{}`", w.name))
                    .note(format!("first used by wave {} (line {})", first + 1, line_of(text, first)))
                    .hint("give each wave its own name"),
            );
        }
        check_settings(w, i, text, &mut diags);
        let mut held = BTreeSet::new();
        for (j, p) in w.environments.iter().enumerate() {
            let path = ["rollout".to_string(), i.to_string(), "environments".to_string(), j.to_string()];
            let glob = match pattern(p) {
                Ok(g) => g,
                Err(e) => {
                    diags.push(at_path(text, &path, p).message(format!("invalid environment pattern `{p}`: {e}")));
                    continue;
                }
            };
            let matched: Vec<&String> = environments.iter().filter(|e| glob.is_match(e)).collect();
            if matched.is_empty() {
                diags.push(
                    at_path(text, &path, p)
                        .message(format!("`{p}` in rollout wave `{}` matches no environment", w.name))
                        .note(format!("environments: {}", join(environments.iter())))
                        .hint("name an environment path (`eastus`, `prod/westus`) or a glob (`prod/*`)"),
                );
            }
            for env in matched {
                match owner.get(env.as_str()) {
                    Some(&(k, _)) if k != i => diags.push(
                        at_path(text, &path, p)
                            .message(format!(
                                "environment `{env}` is in two rollout waves: `{}` and `{}`",
                                config[k].name, w.name
                            ))
                            .note(format!("wave `{}` holds it at line {}", config[k].name, line_of(text, k)))
                            .hint("keep each environment in exactly one wave"),
                    ),
                    Some(_) => {}
                    None => {
                        owner.insert(env, (i, j));
                    }
                }
                held.insert(env.clone());
            }
        }
        waves.push(Wave {
            name: w.name.clone(),
            patterns: w.environments.clone(),
            environments: held.into_iter().collect(),
            pause: w.pause.clone(),
            max_update: w.max_update.clone(),
        });
    }
    for env in environments.iter().filter(|e| !owner.contains_key(e.as_str())) {
        diags.push(
            at(text, &["rollout"], "rollout")
                .message(format!("environment `{env}` is in no rollout wave"))
                .hint(format!("add `{env}` (or a glob matching it) to one wave's `environments`")),
        );
    }
    if diags.is_empty() { Ok(waves) } else { Err(Error::many(diags)) }
}

/// The one wave of a repository without `rollout:`: every environment.
fn default_wave(environments: &BTreeSet<String>) -> Wave {
    Wave {
        name: DEFAULT_WAVE.to_string(),
        patterns: vec!["*".to_string()],
        environments: environments.iter().cloned().collect(),
        pause: None,
        max_update: None,
    }
}

/// `pause` must be `true`/`false` or a duration; `maxUpdate` a count or a percentage.
fn check_settings(w: &RolloutWave, i: usize, text: &str, diags: &mut Vec<Diagnostic>) {
    if let Some(Pause::Duration(d)) = &w.pause
        && !is_duration(d)
    {
        diags.push(
            at(text, &["rollout", &i.to_string(), "pause"], "pause")
                .message(format!("invalid `pause` `{d}` in rollout wave `{}`", w.name))
                .hint("use `true` (wait for someone) or a duration like `30m`, `1h30m`, `45s`"),
        );
    }
    if let Some(MaxUpdate::Percent(p)) = &w.max_update
        && !is_percent(p)
    {
        diags.push(
            at(text, &["rollout", &i.to_string(), "maxUpdate"], "maxUpdate")
                .message(format!("invalid `maxUpdate` `{p}` in rollout wave `{}`", w.name))
                .hint("use a count of targets (`2`) or a percentage from 0% to 100% (`\"25%\"`)"),
        );
    }
}

/// `30m`, `1h30m`, `45s`: digits then a unit, repeated.
pub fn is_duration(s: &str) -> bool {
    let mut digits = false;
    for c in s.chars() {
        match c {
            '0'..='9' => digits = true,
            'h' | 'm' | 's' if digits => digits = false,
            _ => return false,
        }
    }
    !s.is_empty() && !digits
}

fn is_percent(s: &str) -> bool {
    s.strip_suffix('%').and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| n <= 100)
}

/// An environment pattern: a glob whose `*` does not cross `/`.
fn pattern(p: &str) -> Result<GlobMatcher, globset::Error> {
    GlobBuilder::new(p).literal_separator(true).build().map(|g| g.compile_matcher())
}

fn join<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = items.map(String::as_str).collect();
    if v.is_empty() { "(none)".to_string() } else { v.join(", ") }
}

/// The 1-based line of wave `i` in `strata.yaml`.
fn line_of(text: &str, i: usize) -> usize {
    yaml::locate(text, &["rollout".to_string(), i.to_string()]).map_or(0, |(l, _)| l)
}

/// A diagnostic placeholder positioned at `path` in `strata.yaml`, with `token` underlined.
fn at(text: &str, path: &[&str], token: &str) -> Positioned {
    let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    at_path(text, &path, token)
}

fn at_path(text: &str, path: &[String], token: &str) -> Positioned {
    Positioned { text: text.to_string(), pos: yaml::locate(text, path), len: token.chars().count() }
}

/// Where a wave problem is; [`Positioned::message`] makes the diagnostic.
struct Positioned {
    text: String,
    pos: Option<(usize, usize)>,
    len: usize,
}

impl Positioned {
    fn message(self, message: String) -> Diagnostic {
        let d = Diagnostic::error(message).at(REPO_CONFIG);
        match self.pos {
            Some((line, col)) => d.with_source_line(&self.text, line, col, self.len, ""),
            None => d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::config::{RepoConfig, parse_config};

    const ENVS: &[&str] = &["eastus", "prod/westus", "staging", "westus"];

    fn run(text: &str) -> Result<Vec<Wave>, Vec<(String, usize)>> {
        let config: RepoConfig = parse_config(text, "strata.yaml")
            .map_err(|d| d.into_iter().map(|d| (d.message, d.pos.map_or(0, |p| p.line))).collect::<Vec<_>>())?;
        let envs = ENVS.iter().map(|s| s.to_string()).collect();
        resolve_environments(&config.rollout, text, &envs)
            .map_err(|e| e.diagnostics.into_iter().map(|d| (d.message, d.pos.map_or(0, |p| p.line))).collect())
    }

    #[test]
    fn waves_covering_every_environment_resolve_in_order() {
        let text = "rollout:\n  - name: staging\n    environments: [staging]\n    pause: 30m\n  - name: rest\n    environments: [eastus, westus, \"prod/*\"]\n    maxUpdate: \"50%\"\n    pause: true\n";
        let waves = run(text).unwrap();
        assert_eq!(waves.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(), ["staging", "rest"]);
        assert_eq!(waves[1].environments, ["eastus", "prod/westus", "westus"]);
        assert_eq!(waves[0].pause, Some(Pause::Duration("30m".into())));
        assert_eq!(waves[1].max_update, Some(MaxUpdate::Percent("50%".into())));
        assert!(waves[1].matches("prod/eastus") && !waves[1].matches("dev/eastus"));
    }

    #[test]
    fn no_rollout_is_one_wave_with_everything() {
        let waves = run("kubeVersion: \"1.33.0\"\n").unwrap();
        assert_eq!(waves.len(), 1);
        assert_eq!(waves[0].name, DEFAULT_WAVE);
        assert_eq!(waves[0].environments.len(), ENVS.len());
    }

    #[test]
    fn bad_waves_name_their_line() {
        let cases: &[(&str, &[(&str, usize)])] = &[
            (
                "rollout:\n  - name: a\n    environments: [staging, eastus]\n  - name: b\n    environments:\n      - \"*\"\n      - prod/*\n",
                &[
                    ("environment `eastus` is in two rollout waves: `a` and `b`", 6),
                    ("environment `staging` is in two rollout waves: `a` and `b`", 6),
                ],
            ),
            (
                "rollout:\n  - name: a\n    environments: [staging, eastus, westus]\n",
                &[("environment `prod/westus` is in no rollout wave", 1)],
            ),
            (
                "rollout:\n  - name: a\n    environments: [\"*\", \"prod/*\", moon]\n",
                &[("`moon` in rollout wave `a` matches no environment", 3)],
            ),
            (
                "rollout:\n  - name: a\n    environments: [\"*\"]\n  - name: a\n    environments: [\"prod/*\"]\n",
                &[("duplicate rollout wave name `a`", 4)],
            ),
            (
                "rollout:\n  - name: a\n    environments: [\"*\", \"prod/*\"]\n    pause: soon\n    maxUpdate: \"150%\"\n",
                &[
                    ("invalid `pause` `soon` in rollout wave `a`", 4),
                    ("invalid `maxUpdate` `150%` in rollout wave `a`", 5),
                ],
            ),
        ];
        for (text, want) in cases {
            let got = run(text).unwrap_err();
            let want: Vec<(String, usize)> = want.iter().map(|(m, l)| (m.to_string(), *l)).collect();
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn durations() {
        for (s, ok) in [("30m", true), ("1h30m", true), ("45s", true), ("", false), ("m", false), ("30", false)] {
            assert_eq!(is_duration(s), ok, "{s}");
        }
    }
}
