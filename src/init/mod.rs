//! `strata init`: a new configuration repository, ready to render.
//!
//! In: the directory, a component name and the environments. Out: the files of
//! a repository in the layout of PRODUCT.md section 1, written at once
//! ([`atomic::create_dir`]):
//!
//! - `strata.yaml`: repo-wide values, one `environments:` entry and one rollout
//!   wave per environment, in the order given;
//! - `schemas/`: the JSON Schemas the files' `yaml-language-server` modelines name;
//! - `<component>/component.yaml` and `<component>/v1/`: a Deployment and a
//!   Service following the example's practices (pinned image, probes, requests
//!   and limits, a non-root, read-only container);
//! - `<component>/<environment>/templates -> ../v1` (a relative link) and a
//!   `parameters.yaml` per environment.
//!
//! The file texts are data (`src/init/files/`); `__COMPONENT__`-style
//! placeholders are the only substitution. A directory that exists and is not
//! empty is refused: init never mixes its files with others.

use std::path::Path;

use crate::atomic::{self, Entry};
use crate::diag::{Diagnostic, Error};
use crate::repo::config;

/// The environments `strata init` creates when none are given.
pub const DEFAULT_ENVIRONMENTS: &[&str] = &["staging", "production"];
/// The component `strata init` creates when none is named.
pub const DEFAULT_COMPONENT: &str = "app";

const STRATA_YAML: &str = include_str!("files/strata.yaml");
const COMPONENT_YAML: &str = include_str!("files/component.yaml");
const VERSION_FILES: &[(&str, &str)] = &[
    ("values.yaml", include_str!("files/values.yaml")),
    ("_helpers.j2", include_str!("files/_helpers.j2")),
    ("deployment.yaml", include_str!("files/deployment.yaml")),
    ("service.yaml", include_str!("files/service.yaml")),
    ("namespace.yaml", include_str!("files/namespace.yaml")),
];
const PARAMETERS_YAML: &str = include_str!("files/parameters.yaml");

/// The files of a new repository: (relative path, content or link target).
pub fn scaffold(component: &str, environments: &[String]) -> Result<Vec<(String, Content)>, Error> {
    use crate::repo::arguments::{self, NameKind};
    arguments::check_name(NameKind::Component, "--component", component)?;
    check_name(component, "component")?;
    if environments.is_empty() {
        return Err(Diagnostic::error("no environments given").hint("pass `--environments staging,production`").into());
    }
    for (i, env) in environments.iter().enumerate() {
        arguments::check_name(NameKind::Environment, "--environments", env)?;
        for part in env.split('/') {
            check_name(part, "environment")?;
            if part == "v1" {
                return Err(Diagnostic::error(format!("environment `{env}` would clash with the version `v1`")).into());
            }
        }
        if environments[..i].iter().any(|e| e == env || env.starts_with(&format!("{e}/"))) {
            return Err(Diagnostic::error(format!("environment `{env}` is given twice or nests in another")).into());
        }
    }
    let fill = |text: &str| text.replace("__COMPONENT__", component);
    let mut envs = String::new();
    let mut rollout = String::new();
    for env in environments {
        envs.push_str(&format!("  {env}:\n    values:\n      global:\n        environment: {env}\n"));
        rollout.push_str(&format!("  - name: {}\n    environments: [{env}]\n", env.replace('/', "-")));
    }
    let strata = fill(STRATA_YAML).replace("__ENVIRONMENTS__\n", &envs).replace("__ROLLOUT__\n", &rollout);
    let mut files = vec![("strata.yaml".to_string(), Content::File(strata))];
    for (name, text) in config::schemas() {
        files.push((format!("schemas/{name}"), Content::File(text)));
    }
    files.push((format!("{component}/component.yaml"), Content::File(fill(COMPONENT_YAML))));
    for (name, text) in VERSION_FILES {
        files.push((format!("{component}/v1/{name}"), Content::File(fill(text))));
    }
    for (i, env) in environments.iter().enumerate() {
        let up = "../".repeat(env.split('/').count());
        files.push((format!("{component}/{env}/templates"), Content::Link(format!("{up}v1"))));
        // The first environment (staging, say) runs one replica, the others two.
        let replicas = if i == 0 { "1" } else { "2" };
        let params = fill(PARAMETERS_YAML).replace("__ENVIRONMENT__", env).replace("__REPLICAS__", replicas);
        files.push((format!("{component}/{env}/parameters.yaml"), Content::File(params)));
    }
    Ok(files)
}

/// A file's text or a link's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    File(String),
    Link(String),
}

/// Writes a new repository into `dir` (created; or empty) and returns the paths written.
pub fn init(dir: &Path, component: &str, environments: &[String]) -> Result<Vec<String>, Error> {
    let files = scaffold(component, environments)?;
    if let Ok(mut entries) = std::fs::read_dir(dir)
        && entries.next().is_some()
    {
        return Err(Diagnostic::error(format!("`{}` is not empty", dir.display()))
            .hint("`strata init` creates a new repository: name a new or empty directory")
            .into());
    }
    if dir.exists() && !dir.is_dir() {
        return Err(Diagnostic::error(format!("`{}` exists and is not a directory", dir.display())).into());
    }
    let entries: Vec<(String, Entry)> = files
        .iter()
        .map(|(path, c)| match c {
            Content::File(text) => (path.clone(), Entry::File(text.as_bytes().to_vec())),
            Content::Link(to) => (path.clone(), Entry::Symlink(to.clone())),
        })
        .collect();
    atomic::create_dir(dir, &entries, "repository")?;
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

fn check_name(name: &str, what: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && !name.starts_with(['.', '_', '-'])
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name != "templates";
    if ok {
        return Ok(());
    }
    Err(Diagnostic::error(format!("invalid {what} name `{name}`"))
        .hint("use letters, digits, `-`, `_` and `.`, not starting with `.`, `_` or `-`")
        .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn links_point_at_v1_from_any_depth() {
        let files = scaffold("web", &envs(&["staging", "prod/westus"])).unwrap();
        let link = |p: &str| files.iter().find(|(f, _)| f == p).map(|(_, c)| c.clone());
        assert_eq!(link("web/staging/templates"), Some(Content::Link("../v1".into())));
        assert_eq!(link("web/prod/westus/templates"), Some(Content::Link("../../v1".into())));
        let Some(Content::File(strata)) = link("strata.yaml") else { panic!("no strata.yaml") };
        let config: config::RepoConfig = config::parse_config(&strata, "strata.yaml").unwrap();
        assert_eq!(config.rollout.len(), 2);
        assert_eq!(config.rollout[1].environments, ["prod/westus"]);
        assert!(config.environments.contains_key("prod/westus"));
        assert!(!files.iter().any(|(_, c)| matches!(c, Content::File(t) if t.contains("__"))));
    }

    #[test]
    fn bad_names_and_non_empty_directories() {
        for (c, e) in [("../x", "staging"), ("web", "a/../b"), ("web", ""), ("web", "v1"), ("web", ".hidden")] {
            assert!(scaffold(c, &envs(&[e])).is_err(), "{c} {e}");
        }
        assert!(scaffold("web", &envs(&["prod", "prod/eu"])).is_err());
        assert!(scaffold("web", &[]).is_err());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x"), "").unwrap();
        let e = init(dir.path(), "web", &envs(&["staging"])).unwrap_err();
        assert!(e.to_string().contains("is not empty"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        init(empty.path(), "web", &envs(&["staging"])).unwrap();
        assert!(empty.path().join("web/v1/deployment.yaml").is_file());
        assert!(
            !std::fs::read_dir(empty.path()).unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.'))
        );
    }
}
