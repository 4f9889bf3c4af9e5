//! A published artifact read back, as what `strata diff` compares.
//!
//! In: an `oci://HOST/REPOSITORY:TAG` (or `@DIGEST`) of an artifact `strata
//! publish` pushed. Out: its bundle files ([`fetch`]), then a [`Compiled`]
//! ([`compiled`]): each document of the phase files under the target its
//! `# Target:` comment names, the target's version from `index.json`. The
//! inventory (`inventory.yaml`) is not an object of any target and is left out,
//! as a render has none.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use super::artifact::{self, CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, Manifest};
use super::credentials::Credential;
use super::reference::OciRef;
use super::registry::Registry;
use crate::bundle::INDEX;
use crate::compiled::{Batch, Compiled, CompiledTarget};
use crate::diag::{Diagnostic, Error};
use crate::diff::{self, CompareOptions, Report, Side};
use crate::manifest::{Resource, TemplateOrigin};
use crate::pipeline::{self, Options};
use crate::repo::Target;
use crate::repo::open;
use crate::source::SourceInfo;
use crate::yaml;

/// An artifact's files and what its manifest says of them.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub digest: String,
    /// `dev.strata.environment`.
    pub environment: Option<String>,
    /// `org.opencontainers.image.revision`.
    pub revision: Option<String>,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Downloads the artifact at `at` and unpacks its layer.
pub fn fetch(at: &OciRef, insecure: bool, credential: Credential) -> Result<Fetched, Error> {
    let registry = Registry::new(at, credential, insecure)?;
    registry.login(at, false)?;
    let (bytes, digest) = super::pull_manifest(&registry, at)?;
    let not_ours = |why: String| {
        Diagnostic::error(format!("`{at}` is not a Flux artifact of `strata publish`: {why}"))
            .hint("compare with a tag `strata publish` pushed (`--tag '{environment}'` by default)")
    };
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| not_ours(format!("its manifest does not read ({e})")))?;
    if manifest.media_type != MANIFEST_MEDIA_TYPE && !manifest.media_type.is_empty() {
        return Err(not_ours(format!("its manifest is a `{}`", manifest.media_type)).into());
    }
    if manifest.config.media_type != CONFIG_MEDIA_TYPE {
        return Err(not_ours(format!("its config is a `{}`", manifest.config.media_type)).into());
    }
    let [layer] = manifest.layers.as_slice() else {
        return Err(not_ours(format!("it has {} layers, not one", manifest.layers.len())).into());
    };
    if layer.media_type != LAYER_MEDIA_TYPE {
        return Err(not_ours(format!("its layer is a `{}`", layer.media_type)).into());
    }
    let blob = registry.pull_blob(at, &layer.digest)?;
    let files = artifact::unpack(&blob).map_err(|e| not_ours(format!("its layer does not unpack ({e})")))?;
    if !files.contains_key(INDEX) {
        return Err(not_ours(format!("its layer has no `{INDEX}`")).into());
    }
    Ok(Fetched {
        digest,
        environment: manifest.annotations.get(artifact::ENVIRONMENT).cloned(),
        revision: manifest.annotations.get(artifact::REVISION).cloned(),
        files,
    })
}

/// The objects of `fetched`'s bundle files, by target, as a render gives them.
pub fn compiled(fetched: &Fetched, shown: &str) -> Result<Compiled, Error> {
    let bad = |path: &str, why: String| -> Error {
        Diagnostic::error(format!("`{path}` of `{shown}` does not read as a strata bundle file: {why}")).into()
    };
    let index: serde_json::Value =
        serde_json::from_slice(&fetched.files[INDEX]).map_err(|e| bad(INDEX, e.to_string()))?;
    let mut targets: BTreeMap<String, CompiledTarget> = BTreeMap::new();
    for (env, entry) in index["environments"].as_object().into_iter().flatten() {
        for (component, c) in entry["components"].as_object().into_iter().flatten() {
            let target = Target {
                component: component.clone(),
                environment: env.clone(),
                dir: format!("{component}/{env}"),
                version_dir: String::new(),
                version: c["version"].as_str().unwrap_or_default().to_string(),
            };
            targets.insert(target.address(), CompiledTarget { target, resources: Vec::new() });
        }
        for f in entry["files"].as_array().into_iter().flatten() {
            let path = f["path"].as_str().unwrap_or_default();
            if f["phase"] == "inventory" {
                continue;
            }
            let bytes = fetched.files.get(path).ok_or_else(|| bad(path, "missing from the layer".into()))?;
            let text = std::str::from_utf8(bytes).map_err(|_| bad(path, "not UTF-8".into()))?;
            for (target, source, body) in documents(text).map_err(|why| bad(path, why))? {
                let t = targets
                    .get_mut(&target)
                    .ok_or_else(|| bad(path, format!("target `{target}` is not in the index")))?;
                let doc = t.resources.len();
                let resource = Resource::new(body, TemplateOrigin { template: Arc::from(source.as_str()), doc })
                    .map_err(|d| bad(path, d.message))?;
                t.resources.push(resource);
            }
        }
    }
    let commit = fetched.revision.as_deref().and_then(|r| r.rsplit_once("sha1:").map(|(_, c)| c.to_string()));
    let info = SourceInfo { commit, reference: Some(shown.to_string()), dirty: false };
    Ok(Compiled {
        batch: Batch { targets: targets.into_values().collect(), info, tracking: None },
        warnings: Vec::new(),
    })
}

/// The published side of `strata diff --from oci://…`: where, and how to reach it.
#[derive(Debug)]
pub struct PublishedSide {
    pub at: OciRef,
    pub insecure: bool,
    pub credential: Credential,
}

/// `strata diff --from oci://…[--to REV]`: the published bundle against the work
/// tree (or `to`), compared as every diff. Without selectors, the artifact's
/// environment is compared; with them, the targets they pick on the other side.
/// Returns the report and the other side's warnings.
pub fn compare_published(
    root: &Path,
    from: &PublishedSide,
    to: Option<&str>,
    selectors: &[String],
    opts: &Options,
    compare: &CompareOptions,
) -> Result<(Report, Vec<Diagnostic>), Error> {
    let fetched = fetch(&from.at, from.insecure, from.credential.clone())?;
    // The label names the digest compared: a tag may move after the diff.
    let short = fetched.digest.get(..19).unwrap_or(&fetched.digest);
    let shown = format!("{} ({short})", from.at);
    let mut before = compiled(&fetched, &shown)?;
    let selected: Vec<String> = match (&fetched.environment, selectors.is_empty()) {
        (Some(env), true) => vec![format!("@{env}")],
        _ => selectors.to_vec(),
    };
    let opened = open::open_at(root, "--to", to, &selected)?;
    let targets = opened.repo.select(&selected)?;
    let mut after = pipeline::compile(&opened.repo, &targets, opts).map_err(|e| open::on_side(e, &opened.name))?;
    if !selectors.is_empty() {
        let picked: BTreeSet<String> = targets.iter().map(|t| t.address()).collect();
        before.batch.targets.retain(|t| picked.contains(&t.target.address()));
    }
    let mut report = diff::compare(&before, &after, compare);
    report.before = Side { label: shown, commit: before.info.commit.clone(), dirty: false };
    report.after = Side { label: opened.label.clone(), ..Side::from_info(&after.info) };
    Ok((report, std::mem::take(&mut after.warnings)))
}

/// Each document of a phase file with its `# Target:` and `# Source:` comments.
fn documents(text: &str) -> Result<Vec<(String, String, serde_json::Value)>, String> {
    let mut heads = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line != "---" {
            continue;
        }
        let source = lines.next().and_then(|l| l.strip_prefix("# Source: ")).map(str::to_string);
        let target = lines.next().and_then(|l| l.strip_prefix("# Target: ")).map(str::to_string);
        match (source, target) {
            (Some(s), Some(t)) => heads.push((t, s)),
            _ => return Err(format!("document {} lacks its `# Source:` / `# Target:` comments", heads.len() + 1)),
        }
    }
    let bodies = yaml::parse_documents(text).map_err(|e| e.to_string())?;
    if bodies.len() != heads.len() {
        return Err(format!("{} documents but {} `# Target:` comments", bodies.len(), heads.len()));
    }
    Ok(heads.into_iter().zip(bodies).map(|((t, s), b)| (t, s, b)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_targets() {
        let text = "---\n# Source: api/v1/a.yaml\n# Target: api/eastus\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n\
                    ---\n# Source: db/v1/b.yaml\n# Target: db/eastus\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n";
        let docs = documents(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!((docs[0].0.as_str(), docs[0].1.as_str()), ("api/eastus", "api/v1/a.yaml"));
        assert_eq!(docs[1].2["kind"], "Secret");
        assert!(documents("---\napiVersion: v1\n").unwrap_err().contains("lacks"));
    }
}
