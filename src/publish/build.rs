//! Bundles → artifacts: the files of `strata bundle` collected in memory and cut
//! into one artifact per environment.
//!
//! In: a [`Repo`], its selected targets, compile [`Options`] and the directory
//! of the repository (for the commit's time and `origin`). Out: [`Built`]: per
//! environment (sorted) an [`Artifact`] whose layer holds the environment's
//! files and an `index.json` naming only that environment, the bytes
//! `strata bundle @ENV` writes; the [`Provenance`] they were built from.
//!
//! A work tree with uncommitted changes is refused: an artifact names a commit,
//! and its digest must be the one any clone of that commit gives.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;

use super::artifact::{self, Artifact, Provenance};
use crate::bundle::{self, BundleOptions, Sink};
use crate::diag::{Diagnostic, Error};
use crate::pipeline::Options;
use crate::repo::{Repo, Target, waves};
use crate::source::{SourceInfo, commit_facts};

/// What [`build`] made.
#[derive(Debug)]
pub struct Built {
    pub artifacts: Vec<Artifact>,
    pub provenance: Provenance,
    pub warnings: Vec<Diagnostic>,
}

/// A bundle in memory.
#[derive(Debug, Default)]
struct Files(BTreeMap<String, Vec<u8>>);

impl Sink for Files {
    fn file(&mut self, path: &str, bytes: &[u8]) -> Result<(), Error> {
        self.0.insert(path.to_string(), bytes.to_vec());
        Ok(())
    }
}

/// Compiles `targets`, bundles them and makes each environment's artifact.
/// `source` overrides the `org.opencontainers.image.source` found in `origin`.
pub fn build(
    root: &Path,
    repo: &Repo,
    targets: &[&Target],
    opts: &Options,
    source: Option<&str>,
) -> Result<Built, Error> {
    let mut files = Files::default();
    let made = bundle::produce(repo, targets, opts, BundleOptions::default(), &mut files)?;
    let index: serde_json::Value = serde_json::from_slice(&files.0[bundle::INDEX]).unwrap_or_default();
    let recorded = &index["source"];
    let info = SourceInfo {
        commit: recorded["commit"].as_str().map(str::to_string),
        reference: recorded["ref"].as_str().map(str::to_string),
        dirty: recorded["dirty"].as_bool().unwrap_or(true),
    };
    let provenance = provenance(root, &info, source)?;
    let waves = waves::resolve(repo)?;
    let wave_of = |env: &str| {
        waves.iter().find(|w| w.environments.iter().any(|e| e == env)).map_or(String::new(), |w| w.name.clone())
    };
    // Compressing is most of an artifact's cost: environments in parallel, in order.
    let artifacts = split(&files.0)?
        .into_par_iter()
        .map(|(env, env_files)| artifact::build(&env, &wave_of(&env), &env_files, &provenance))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Built { artifacts, provenance, warnings: made.warnings })
}

/// Per environment, its files and an `index.json` naming it alone (the
/// environment's entry and every other field as the whole index has them).
pub fn split(files: &BTreeMap<String, Vec<u8>>) -> Result<BTreeMap<String, BTreeMap<String, Vec<u8>>>, Error> {
    let bug = |m: String| Error { kind: crate::diag::ErrorKind::Bug, diagnostics: vec![Diagnostic::error(m)] };
    let index: serde_json::Value = files
        .get(bundle::INDEX)
        .and_then(|b| serde_json::from_slice(b).ok())
        .ok_or_else(|| bug(format!("the bundle has no readable `{}`", bundle::INDEX)))?;
    let Some(environments) = index["environments"].as_object() else {
        return Err(bug(format!("`{}` has no `environments`", bundle::INDEX)));
    };
    let mut out = BTreeMap::new();
    for (env, entry) in environments {
        let mut env_files = BTreeMap::new();
        for f in entry["files"].as_array().into_iter().flatten() {
            let path = f["path"].as_str().unwrap_or_default();
            let bytes = files.get(path).ok_or_else(|| bug(format!("`{path}` is in the index but not the bundle")))?;
            env_files.insert(path.to_string(), bytes.clone());
        }
        let mut one = index.clone();
        one["environments"] = serde_json::Value::Object([(env.clone(), entry.clone())].into_iter().collect());
        let mut json = serde_json::to_string_pretty(&one).map_err(|e| bug(e.to_string()))?;
        json.push('\n');
        env_files.insert(bundle::INDEX.to_string(), json.into_bytes());
        out.insert(env.clone(), env_files);
    }
    Ok(out)
}

/// The provenance of a clean commit: revision `BRANCH@sha1:COMMIT`, the
/// commit's time, the source URL (`source`, else `origin` without credentials).
fn provenance(root: &Path, info: &SourceInfo, source: Option<&str>) -> Result<Provenance, Error> {
    let Some(commit) = &info.commit else {
        return Err(Diagnostic::error("cannot publish: the repository is not in git, so there is no commit to name")
            .hint("an artifact names the commit it was built from: commit the repository, then publish")
            .into());
    };
    if info.dirty {
        return Err(Diagnostic::error("cannot publish: the work tree has uncommitted changes")
            .note(format!("an artifact names commit {commit}, and its files must be that commit's"))
            .hint("commit the changes, or publish a revision with `--ref REV` (read from git, the work tree ignored)")
            .into());
    }
    let (seconds, origin) = commit_facts(root, commit)
        .ok_or_else(|| Diagnostic::error(format!("cannot read commit {commit} of `{}`", root.display())))?;
    let name = info
        .reference
        .as_deref()
        .and_then(|r| r.strip_prefix("refs/heads/").or_else(|| r.strip_prefix("refs/tags/")).filter(|n| !n.is_empty()));
    let revision = match name {
        Some(n) => format!("{n}@sha1:{commit}"),
        None => format!("sha1:{commit}"),
    };
    let source = source.map(str::to_string).or_else(|| origin.map(|u| without_credentials(&u)));
    Ok(Provenance { source, revision, created: rfc3339(seconds) })
}

/// `https://user:token@host/x.git` → `https://host/x.git`.
pub fn without_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if path.is_empty() && !rest.contains('/') {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        None => url.to_string(),
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC, proleptic Gregorian).
pub fn rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_rfc3339() {
        for (s, want) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_796_620_245, "2026-12-07T05:10:45Z"),
            (-1, "1969-12-31T23:59:59Z"),
        ] {
            assert_eq!(rfc3339(s), want, "{s}");
        }
    }

    #[test]
    fn credentials_are_dropped_from_source_urls() {
        for (url, want) in [
            ("https://user:secret@git.example.com/shop.git", "https://git.example.com/shop.git"),
            ("https://git.example.com/shop.git", "https://git.example.com/shop.git"),
            ("git@github.com:shop/config.git", "git@github.com:shop/config.git"),
            ("ssh://git@host:22/x", "ssh://host:22/x"),
        ] {
            assert_eq!(without_credentials(url), want);
        }
    }

    #[test]
    fn each_environment_gets_its_files_and_an_index_of_its_own() {
        let index = serde_json::json!({
            "format": 1, "strata": "0", "source": {"commit": null, "ref": null, "dirty": false},
            "environments": {
                "eastus": {"dir": "eastus", "files": [{"path": "eastus/00-a.yaml"}]},
                "prod/westus": {"dir": "prod/westus", "files": [{"path": "prod/westus/00-a.yaml"}]},
            }
        });
        let files: BTreeMap<String, Vec<u8>> = [
            ("index.json".to_string(), serde_json::to_vec_pretty(&index).unwrap()),
            ("eastus/00-a.yaml".to_string(), b"a".to_vec()),
            ("prod/westus/00-a.yaml".to_string(), b"b".to_vec()),
        ]
        .into_iter()
        .collect();
        let split = split(&files).unwrap();
        assert_eq!(split.keys().collect::<Vec<_>>(), ["eastus", "prod/westus"]);
        let west = &split["prod/westus"];
        assert_eq!(west.keys().collect::<Vec<_>>(), ["index.json", "prod/westus/00-a.yaml"]);
        let one: serde_json::Value = serde_json::from_slice(&west["index.json"]).unwrap();
        assert_eq!(one["environments"].as_object().unwrap().keys().collect::<Vec<_>>(), ["prod/westus"]);
        assert_eq!(one["format"], 1);
    }
}
