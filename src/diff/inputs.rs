//! Which targets a diff need not render: those whose every input is the same
//! on both sides, so that the work of a diff follows the change, not the size
//! of the repository.
//!
//! In: the two [`Repo`]s and their selected targets. Out: the addresses of the
//! targets present on both sides whose inputs are byte-identical. A target's
//! inputs are `strata.yaml`, its component directory (`component.yaml`, the
//! `parameters.yaml` chain, the target directory with its `kustomization.yaml`
//! and patch files, and the version directories inside the component) and its
//! version directory when that lies elsewhere.
//!
//! Invariant (soundness): a target is reported only when rendering it on both
//! sides must give the same objects. Anything that could make two identical
//! trees render differently disqualifies it: a link from the compared trees to
//! a file outside them, a `kustomization.yaml` path that could leave the
//! component, or a mention of `Repo` in any input (templates may print
//! `Repo.Commit`, which differs between revisions, also through `tpl`).
//! Comparing is reading: for two git revisions each blob is read once and
//! shared, so equal files are usually the same bytes in memory.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::repo::mentions::{mentions_repo, read_file};
use crate::repo::{self, Repo, Target};
use crate::source::{self, EntryKind, Fs};

/// What comparing one directory on both sides found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tree {
    /// Identical, self-contained, and no file mentions `Repo`.
    Same,
    /// Different, or not safe to skip.
    Differs,
}

/// The addresses of targets on both sides whose inputs are identical.
pub fn identical_targets(before: &Repo, bt: &[&Target], after: &Repo, at: &[&Target]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match (read_file(&before.fs, repo::REPO_CONFIG), read_file(&after.fs, repo::REPO_CONFIG)) {
        (Ok(b), Ok(a)) if b == a && !b.as_deref().is_some_and(mentions_repo) => {}
        _ => return out,
    }
    let a_by: HashMap<String, &Target> = at.iter().map(|t| (t.address(), *t)).collect();
    let pairs: Vec<(&Target, &Target)> = bt.iter().filter_map(|b| a_by.get(&b.address()).map(|a| (*b, *a))).collect();

    // Every directory to compare (components, and versions outside them), once, in parallel.
    let mut dirs: BTreeSet<&str> = BTreeSet::new();
    for (b, a) in &pairs {
        if b.version_dir != a.version_dir || b.component != a.component {
            continue;
        }
        dirs.insert(&b.component);
        if !inside(&b.version_dir, &b.component) {
            dirs.insert(&b.version_dir);
        }
    }
    let compared: BTreeMap<&str, Tree> =
        dirs.into_par_iter().map(|d| (d, compare_dir(&before.fs, &after.fs, d))).collect();

    let cache = Mutex::new(HashMap::new());
    for (b, a) in pairs {
        let same = b.version_dir == a.version_dir
            && b.component == a.component
            && compared.get(b.component.as_str()) == Some(&Tree::Same)
            && (inside(&b.version_dir, &b.component) || compared.get(b.version_dir.as_str()) == Some(&Tree::Same))
            && kustomization_stays_inside(&after.fs, b, &cache);
        if same {
            out.insert(b.address());
        }
    }
    out
}

fn inside(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// Compares `dir` on both sides, entry by entry, without following links out of it.
fn compare_dir(before: &Fs, after: &Fs, dir: &str) -> Tree {
    fn walk(before: &Fs, after: &Fs, root: &str, dir: &str) -> Result<(), ()> {
        let (b, a) = (before.read_dir(dir).map_err(|_| ())?, after.read_dir(dir).map_err(|_| ())?);
        if b != a {
            return Err(());
        }
        for e in b {
            let path = source::join(dir, &e.name);
            match e.kind {
                EntryKind::Dir => walk(before, after, root, &path)?,
                EntryKind::File => {
                    let (x, y) = (before.read(&path).map_err(|_| ())?, after.read(&path).map_err(|_| ())?);
                    if !(std::sync::Arc::ptr_eq(&x, &y) || x == y) || mentions_repo(&x) {
                        return Err(());
                    }
                }
                EntryKind::Link => {
                    // Same text, and it must stay inside `root`, whose content is compared here.
                    if before.read_link(&path).map_err(|_| ())? != after.read_link(&path).map_err(|_| ())? {
                        return Err(());
                    }
                    // A target's `templates` link may point at a version elsewhere:
                    // that version directory is compared on its own.
                    let resolved = after.resolve(&path).map_err(|_| ())?;
                    if !inside(&resolved, root) && e.name != repo::TEMPLATES_LINK {
                        return Err(());
                    }
                }
            }
        }
        Ok(())
    }
    match walk(before, after, dir, dir) {
        Ok(()) => Tree::Same,
        Err(()) => Tree::Differs,
    }
}

/// Paths in a `kustomization.yaml` are relative to the target directory; with no
/// more `..` segments than the target sits below its component, none can leave it.
fn kustomization_stays_inside(fs: &Fs, t: &Target, cache: &Mutex<HashMap<String, bool>>) -> bool {
    let path = source::join(&t.dir, repo::KUSTOMIZATION);
    if let Some(v) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&path) {
        return *v;
    }
    let ok = match read_file(fs, &path) {
        Ok(None) => true,
        Ok(Some(text)) => {
            let depth = t.dir.split('/').count() - 1;
            let ups = text.windows(2).filter(|w| w == b"..").count();
            ups <= depth
        }
        Err(()) => false,
    };
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert(path, ok);
    ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;
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
        ("api/prod/p.yaml", "[]\n"),
        ("web/v1/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: w\n"),
        ("web/east/templates", "-> ../v1"),
        ("shared/v9/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n"),
        ("db/east/templates", "-> ../../shared/v9"),
    ];

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
        let (b, a) = (with(&[]), with(changes));
        let (bt, at): (Vec<&Target>, Vec<&Target>) = (b.targets().collect(), a.targets().collect());
        identical_targets(&b, &bt, &a, &at).into_iter().collect()
    }

    #[test]
    fn the_work_follows_the_change() {
        let all = ["api/east", "api/prod/west", "db/east", "web/east"];
        for (changes, expect, why) in [
            (vec![], &all[..], "nothing changed"),
            (vec![("web/v1/cm.yaml", "x: 1\n")], &["api/east", "api/prod/west", "db/east"][..], "a template of web"),
            (vec![("api/east/parameters.yaml", "a: 2\n")], &["db/east", "web/east"][..], "a parameter file of api"),
            (vec![("api/prod/p.yaml", "[{}]\n")], &["db/east", "web/east"][..], "a patch file inside api"),
            (
                vec![("shared/v9/cm.yaml", "x: 1\n")],
                &["api/east", "api/prod/west", "web/east"][..],
                "a version outside its component",
            ),
            (vec![("strata.yaml", "values:\n  a: 2\n")], &[][..], "strata.yaml"),
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
        let b = with(&[("web/v1/cm.yaml", "data:\n  commit: {{ Repo.Commit }}\n")]);
        let (bt, at): (Vec<&Target>, Vec<&Target>) = (b.targets().collect(), b.targets().collect());
        assert!(!identical_targets(&b, &bt, &b, &at).contains("web/east"));
        // A file linked from outside the component may have changed unseen.
        let b = with(&[("web/v1/helpers.j2", "-> ../../shared/v9/cm.yaml")]);
        let (bt, at): (Vec<&Target>, Vec<&Target>) = (b.targets().collect(), b.targets().collect());
        assert!(!identical_targets(&b, &bt, &b, &at).contains("web/east"));
        // A kustomization path with enough `..` to leave the component.
        let b = with(&[("api/prod/west/kustomization.yaml", "patches:\n  - path: ../../../web/p.yaml\n")]);
        let (bt, at): (Vec<&Target>, Vec<&Target>) = (b.targets().collect(), b.targets().collect());
        let same = identical_targets(&b, &bt, &b, &at);
        assert!(!same.contains("api/prod/west") && same.contains("api/east"), "{same:?}");
    }
}
