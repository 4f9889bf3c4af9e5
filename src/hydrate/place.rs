//! Where each environment's bundle goes: `--branch` and `--path` templates
//! (`{environment}` replaced) → [`Place`]s, each a branch and a path on it
//! holding the bundle of one or more environments.
//!
//! Invariants: paths are relative, `/`-separated, without `.` or `..` parts
//! (`""` is the branch's root); on one branch no hydrated path lies inside
//! another (each path is strata's alone, so removing stale files there can
//! never touch another path's files); places are sorted by branch, then path.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Error};

/// One hydrated path on one branch, and the environments whose bundle it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The branch's short name (`env/eastus`).
    pub branch: String,
    /// `""` for the branch's root, else `deploy/eastus`.
    pub path: String,
    /// Sorted.
    pub environments: Vec<String>,
}

/// `template` with `{environment}` replaced.
pub fn fill(template: &str, environment: &str) -> String {
    template.replace("{environment}", environment)
}

/// The places of `environments` (sorted, unique) under the two templates.
pub fn places(environments: &[String], branch: &str, path: &str, next: bool) -> Result<Vec<Place>, Error> {
    let mut by_place: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for env in environments {
        let mut b = fill(branch, env);
        if next {
            b.push_str("-next");
        }
        let p = normalize(&fill(path, env)).map_err(|d| Error::from(d.note(format!("for environment `{env}`"))))?;
        by_place.entry((b, p)).or_default().push(env.clone());
    }
    let places: Vec<Place> =
        by_place.into_iter().map(|((branch, path), environments)| Place { branch, path, environments }).collect();
    check_nesting(&places)?;
    Ok(places)
}

/// `./a//b/` → `a/b`; `.` → `""`; `..` or an absolute path is refused.
fn normalize(path: &str) -> Result<String, Diagnostic> {
    if path.starts_with('/') {
        return Err(Diagnostic::error(format!("`--path {path}` is absolute"))
            .hint("give a path relative to the branch's root, like `--path deploy/{environment}`"));
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(Diagnostic::error(format!("`--path {path}` leaves the branch's tree with `..`"))
                    .hint("give a path inside the branch, like `--path deploy/{environment}`"));
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// On one branch, no hydrated path may contain another: the outer one's stale
/// files would include the inner one's.
fn check_nesting(places: &[Place]) -> Result<(), Error> {
    let mut problems = Vec::new();
    for (i, a) in places.iter().enumerate() {
        for b in &places[i + 1..] {
            let inside = |outer: &str, inner: &str| outer.is_empty() || inner.starts_with(&format!("{outer}/"));
            if b.branch.starts_with(&format!("{}/", a.branch)) {
                problems.push(
                    Diagnostic::error(format!("branches `{}` and `{}` cannot both exist in git", a.branch, b.branch))
                        .note("a branch name cannot also be the directory of another branch's name")
                        .hint("choose a `--branch` template that does not nest, like `--branch env/{environment}` with environments that do not nest"),
                );
            }
            if a.branch == b.branch && (inside(&a.path, &b.path) || inside(&b.path, &a.path)) {
                let shown =
                    |p: &Place| if p.path.is_empty() { "the root".to_string() } else { format!("`{}`", p.path) };
                problems.push(
                    Diagnostic::error(format!(
                        "on branch `{}`, {} (environment `{}`) and {} (environment `{}`) overlap",
                        a.branch,
                        shown(a),
                        a.environments.join("`, `"),
                        shown(b),
                        b.environments.join("`, `"),
                    ))
                    .note("each hydrated path is replaced whole, so one cannot hold another")
                    .hint("put `{environment}` in `--branch` or `--path`: `--path deploy/{environment}`"),
                );
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(Error::many(problems)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn templates_place_environments() {
        let got = places(&envs(&["eastus", "prod/westus"]), "env/{environment}", "", false).unwrap();
        assert_eq!(
            got.iter().map(|p| (p.branch.as_str(), p.path.as_str())).collect::<Vec<_>>(),
            [("env/eastus", ""), ("env/prod/westus", "")]
        );
        let got = places(&envs(&["a", "b"]), "deploy", "./out//{environment}/", true).unwrap();
        assert_eq!(
            got.iter().map(|p| (p.branch.as_str(), p.path.as_str())).collect::<Vec<_>>(),
            [("deploy-next", "out/a"), ("deploy-next", "out/b")]
        );
        // One place may hold several environments: their bundle together.
        let got = places(&envs(&["a", "b"]), "deploy", "all", false).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].environments, ["a", "b"]);
    }

    #[test]
    fn overlapping_or_escaping_paths_are_refused() {
        for (list, branch, path, want) in [
            (&["a", "a/b"][..], "deploy", "{environment}", "`a` (environment `a`) and `a/b`"),
            (&["a", "b"], "deploy", "x/{environment}/../..", "leaves the branch's tree"),
            (&["a"], "env/{environment}", "/abs", "is absolute"),
        ] {
            let e = places(&envs(list), branch, path, false).unwrap_err();
            assert!(e.messages().contains(want), "{}", e.messages());
        }
        let e = places(&envs(&["prod", "prod/west"]), "env/{environment}", "", false).unwrap_err();
        assert!(e.messages().contains("branches `env/prod` and `env/prod/west` cannot both exist"), "{}", e.messages());
        assert!(places(&envs(&["a", "b"]), "deploy", "{environment}", false).is_ok());
    }
}
