//! Which targets a diff need not render: those whose every input is the same
//! on both sides, so that the work of a diff follows the change, not the size
//! of the repository.
//!
//! In: the two [`Repo`]s and their selected targets. Out: the addresses of the
//! targets present on both sides (same version directory, same target
//! directory) whose inputs are identical.
//!
//! A target's inputs are not listed here: they are what its stages read,
//! recorded by [`Fs::recording`] while the after side runs the stages' own
//! loaders, and replayed on the before side ([`Reads::same_on`]): every entry
//! kind, listing, link text and file content, links followed and missing paths
//! included. The loaders: `strata.yaml` and those of [`crate::cache::inputs`]
//! (what compiling a target reads; the render cache's key hashes the same
//! log). Nothing is rendered.
//!
//! Invariant (soundness): a target is reported only when rendering it on both
//! sides must give the same objects: compilation is deterministic and reads only
//! through `Fs`, so identical reads give identical steps. A read that fails,
//! a loader that fails (the render will report it), and any file that mentions
//! `Repo` (templates may print `Repo.Commit`, which differs between revisions,
//! also through `tpl`) disqualify a target. For two git revisions each blob is
//! read once and shared, so equal files are usually the same bytes in memory.

use std::collections::{BTreeSet, HashMap, HashSet};

use rayon::prelude::*;

use crate::cache::inputs::{read_target, read_version};
use crate::repo::mentions::mentions_repo;
use crate::repo::{self, Repo, Target};
use crate::source::{Fs, Reads};

/// The addresses of targets on both sides whose inputs are identical.
pub fn identical_targets(before: &Repo, bt: &[&Target], after: &Repo, at: &[&Target]) -> BTreeSet<String> {
    // Every target reads `strata.yaml`: compared once.
    if !same_reads(&after.fs, &before.fs, |fs| fs.read_optional(repo::REPO_CONFIG).map(drop).map_err(drop)) {
        return BTreeSet::new();
    }
    let b_by: HashMap<String, &Target> = bt.iter().map(|t| (t.address(), *t)).collect();
    let pairs: Vec<&Target> = at
        .iter()
        .filter(|a| {
            b_by.get(&a.address())
                .is_some_and(|b| b.version_dir == a.version_dir && b.component == a.component && b.dir == a.dir)
        })
        .copied()
        .collect();
    // Each version directory once, in parallel.
    let versions: BTreeSet<&str> = pairs.iter().map(|t| t.version_dir.as_str()).collect();
    let same_versions: HashSet<&str> =
        versions.into_par_iter().filter(|v| same_reads(&after.fs, &before.fs, |fs| read_version(fs, v))).collect();
    pairs
        .into_par_iter()
        .filter(|t| same_versions.contains(t.version_dir.as_str()))
        .filter(|t| same_reads(&after.fs, &before.fs, |fs| read_target(fs, t)))
        .map(Target::address)
        .collect()
}

/// Runs `read` over `recorded` with every read logged, then replays the reads
/// on `other`: true when `read` succeeded, every read gives the same on
/// `other`, and no file read mentions `Repo`.
fn same_reads(recorded: &Fs, other: &Fs, read: impl FnOnce(&Fs) -> Result<(), ()>) -> bool {
    let (fs, reads): (Fs, std::sync::Arc<Reads>) = recorded.recording();
    read(&fs).is_ok() && !reads.files().iter().any(|b| mentions_repo(b)) && reads.same_on(other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    fn repo(files: &[(&str, &str)]) -> Repo {
        Repo::load(Fs::new(Arc::new(MemorySource::from_entries(files)))).unwrap()
    }

    const BASE: &[(&str, &str)] = &[
        ("strata.yaml", "values:\n  a: 1\n"),
        ("api/component.yaml", "namespace: shop\n"),
        ("api/v1/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"),
        ("api/v2/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n"),
        ("api/east/templates", "-> ../v1"),
        ("api/prod/west/templates", "-> ../../v2"),
        ("api/prod/west/kustomization.yaml", "patches:\n  - path: ../p.yaml\n"),
        ("api/prod/p.yaml", PATCH),
        ("web/v1/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: w\n"),
        ("web/east/templates", "-> ../v1"),
        ("shared/v9/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n"),
        ("db/east/templates", "-> ../../shared/v9"),
    ];

    const PATCH: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  a: b\n";
    const PATCH2: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  a: c\n";

    /// `BASE` with some files replaced (or added); `""` removes one.
    fn with(changes: &[(&str, &str)]) -> Repo {
        let mut files: BTreeMap<&str, &str> = BASE.iter().copied().collect();
        for (p, c) in changes {
            if c.is_empty() {
                files.remove(p);
            } else {
                files.insert(p, c);
            }
        }
        repo(&files.into_iter().collect::<Vec<_>>())
    }

    fn identical(changes: &[(&str, &str)]) -> Vec<String> {
        identical_between(&[], changes)
    }

    /// The targets identical between `BASE` + `both` and `BASE` + `both` + `after`.
    fn identical_between(both: &[(&str, &str)], after: &[(&str, &str)]) -> Vec<String> {
        let (b, a) = (with(both), with(&[both, after].concat()));
        let (bt, at): (Vec<&Target>, Vec<&Target>) = (b.targets().collect(), a.targets().collect());
        identical_targets(&b, &bt, &a, &at).into_iter().collect()
    }

    #[test]
    fn the_work_follows_the_change() {
        let all = ["api/east", "api/prod/west", "db/east", "web/east"];
        for (changes, expect, why) in [
            (vec![], &all[..], "nothing changed"),
            (vec![("web/v1/cm.yaml", "x: 1\n")], &["api/east", "api/prod/west", "db/east"][..], "a template of web"),
            (
                vec![("api/east/parameters.yaml", "a: 2\n")],
                &["api/prod/west", "db/east", "web/east"][..],
                "a parameter file of api/east",
            ),
            (vec![("api/parameters.yaml", "a: 2\n")], &["db/east", "web/east"][..], "a parameter file of api"),
            (
                vec![("api/prod/p.yaml", PATCH2)],
                &["api/east", "db/east", "web/east"][..],
                "a patch file of api/prod/west",
            ),
            (
                vec![("shared/v9/cm.yaml", "x: 1\n")],
                &["api/east", "api/prod/west", "web/east"][..],
                "a version outside its component",
            ),
            (vec![("strata.yaml", "values:\n  a: 2\n")], &[][..], "strata.yaml"),
            (vec![("api/component.yaml", "namespace: x\n")], &["db/east", "web/east"][..], "component.yaml"),
            (
                vec![("web/east/templates", "-> ../v2"), ("web/v2/cm.yaml", "y: 1\n")],
                &["api/east", "api/prod/west", "db/east"][..],
                "a version link",
            ),
            (vec![("other/v1/cm.yaml", "z: 1\n"), ("other/e/templates", "-> ../v1")], &all[..], "a new component"),
        ] {
            assert_eq!(identical(&changes), expect, "{why}");
        }
    }

    #[test]
    fn the_word_repo_is_found_in_any_use() {
        for (text, found) in [
            ("{{ Repo.Commit }}", true),
            ("{{ Repo['Ref'] }}", true),
            ("{{ Repo | toJson }}", true),
            ("Repo", true),
            ("# Repository-wide settings", false),
            ("MyRepo: x", false),
            ("Repos", false),
        ] {
            assert_eq!(mentions_repo(text.as_bytes()), found, "{text}");
        }
    }

    #[test]
    fn what_could_render_differently_is_never_skipped() {
        // `Repo.Commit` differs between revisions even when files do not.
        let repo_commit = [("web/v1/cm.yaml", "data:\n  commit: {{ Repo.Commit }}\n")];
        assert!(!identical_between(&repo_commit, &[]).contains(&"web/east".to_string()));
        let skipped = |both: &[(&str, &str)], after: &[(&str, &str)], target: &str| {
            identical_between(both, after).contains(&target.to_string())
        };
        // A file linked from another component's version.
        let link = [("web/v1/helpers.j2", "-> ../../shared/v9/cm.yaml")];
        assert!(skipped(&link, &[], "web/east"));
        assert!(!skipped(&link, &[("shared/v9/cm.yaml", "x: 2\n")], "web/east"));
        // A kustomization path that leaves the component.
        let patch =
            [("api/prod/west/kustomization.yaml", "patches:\n  - path: ../../../web/p.yaml\n"), ("web/p.yaml", PATCH)];
        assert!(skipped(&patch, &[], "api/prod/west"));
        assert!(!skipped(&patch, &[("web/p.yaml", PATCH2)], "api/prod/west"));
        assert!(skipped(&patch, &[("web/p.yaml", PATCH2)], "api/east"));
        // A `values.schema.json` `$ref` to a schema shared by components.
        let schema = [
            ("web/v1/values.schema.json", r#"{"properties": {"a": {"$ref": "../../schemas/a.json"}}}"#),
            ("schemas/a.json", r#"{"type": "integer"}"#),
        ];
        assert!(skipped(&schema, &[], "web/east"));
        assert!(!skipped(&schema, &[("schemas/a.json", r#"{"type": "string"}"#)], "web/east"));
        // Reads that fail: rendered, so that the error is reported.
        assert!(!skipped(&[("web/v1/values.schema.json", "{")], &[], "web/east"));
    }
}
