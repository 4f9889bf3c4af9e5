//! Git revisions read with gix: sources, links, caching, errors.

use super::*;
use crate::fixtures::{git, link};
use crate::source::Fs;

fn write(root: &Path, path: &str, content: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// A project with the configuration in `conf/`: commit 1 points `app/east` at v1,
/// commit 2 (tagged `v2`) at v2 and changes a file; the work tree then differs again.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    write(root, "README", "not configuration\n");
    write(root, "conf/app/v1/cm.yaml", "v: 1\n");
    write(root, "conf/app/v2/cm.yaml", "v: 2\n");
    link(root, "conf/app/east/templates", "../v1");
    write(root, "conf/app/east/parameters.yaml", "a: 1\n");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "one"]);
    git(root, &["tag", "v1"]);
    link(root, "conf/app/east/templates", "../v2");
    write(root, "conf/app/east/parameters.yaml", "a: 2\n");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "two"]);
    git(root, &["tag", "-a", "-m", "annotated", "v2"]);
    write(root, "conf/app/east/parameters.yaml", "a: work\n");
    dir
}

#[test]
fn reads_a_subdirectory_at_each_revision() {
    let dir = fixture();
    let git_repo = GitRepo::discover(&dir.path().join("conf")).unwrap();
    assert_eq!(git_repo.prefix(), "conf");
    for (rev, version, param) in [
        ("v1", "app/v1", "a: 1\n"),
        ("v2", "app/v2", "a: 2\n"),
        ("HEAD~1", "app/v1", "a: 1\n"),
        ("main", "app/v2", "a: 2\n"),
    ] {
        let r = git_repo.resolve(rev).unwrap();
        let fs = Fs::new(Arc::new(git_repo.source(&r).unwrap()));
        assert_eq!(fs.resolve("app/east/templates").unwrap(), version, "{rev}");
        assert_eq!(fs.read_string("app/east/parameters.yaml").unwrap(), param, "{rev}");
        assert_eq!(fs.entry_kind("app/east/templates").unwrap(), Some(EntryKind::Link));
        let names: Vec<String> = fs.read_dir("").unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["app"], "{rev}: the root is `conf`, not the work tree");
        assert_eq!(fs.kind("app/east/nothing").unwrap(), None);
        assert_eq!(fs.kind("app/east/parameters.yaml/below").unwrap(), None);
    }
}

#[test]
fn records_commit_and_reference() {
    let dir = fixture();
    let g = GitRepo::discover(dir.path()).unwrap();
    let head = git(dir.path(), &["rev-parse", "HEAD"]);
    let tagged = g.resolve("v2").unwrap();
    assert_eq!(tagged.commit.to_string(), head, "an annotated tag peels to its commit");
    let info = g.source(&tagged).unwrap().info();
    assert_eq!(info, SourceInfo { commit: Some(head.clone()), reference: Some("refs/tags/v2".into()), dirty: false });
    assert_eq!(g.source(&g.resolve("HEAD").unwrap()).unwrap().info().reference.as_deref(), Some("refs/heads/main"));
    assert_eq!(g.source(&g.resolve("HEAD~1").unwrap()).unwrap().info().reference.as_deref(), Some("HEAD~1"));
    let base = g.merge_base(&g.resolve("v1").unwrap(), &g.resolve("HEAD").unwrap()).unwrap();
    assert_eq!(base.commit.to_string(), git(dir.path(), &["rev-parse", "v1"]));
}

#[test]
fn identical_objects_are_read_once() {
    let dir = fixture();
    let g = GitRepo::discover(&dir.path().join("conf")).unwrap();
    let one = Fs::new(Arc::new(g.source(&g.resolve("v1").unwrap()).unwrap()));
    let two = Fs::new(Arc::new(g.source(&g.resolve("v2").unwrap()).unwrap()));
    let a = one.read("app/v2/cm.yaml").unwrap();
    let b = two.read("app/v2/cm.yaml").unwrap();
    assert!(Arc::ptr_eq(&a, &b), "the same blob is shared between revisions");
    // `app/v1` and `app/v2` are unchanged subtrees: one listing each for both revisions.
    one.read_dir("app/v1").unwrap();
    two.read_dir("app/v1").unwrap();
    let trees = g.objects.trees.read().unwrap().len();
    // Per side its own root and `app` (they changed); `app/v1` and `app/v2` once for both.
    assert_eq!(trees, 2 + 2 + 2, "trees cached: {trees}");
}

#[test]
fn errors_name_the_revision() {
    let dir = fixture();
    let g = GitRepo::discover(&dir.path().join("conf")).unwrap();
    let e = g.resolve("v9").unwrap_err();
    assert!(e.message.contains("unknown revision `v9`"), "{}", e.render());
    assert!(e.render().contains("git fetch"), "{}", e.render());
    // A root missing at a revision, e.g. a directory added later.
    write(dir.path(), "later/x/v1/a.yaml", "");
    let g = GitRepo::discover(&dir.path().join("later")).unwrap();
    let e = g.source(&g.resolve("v1").unwrap()).err().unwrap();
    assert!(e.message.contains("`later` does not exist at revision `v1`"), "{}", e.render());
    // Outside any repository.
    let plain = tempfile::tempdir().unwrap();
    let e = GitRepo::discover(plain.path()).err().unwrap();
    assert!(e.message.contains("not inside a git repository"), "{}", e.render());
}

#[test]
fn a_root_deleted_from_the_work_tree_is_still_readable_at_a_revision() {
    let dir = fixture();
    std::fs::remove_dir_all(dir.path().join("conf")).unwrap();
    let g = GitRepo::discover(&dir.path().join("conf")).unwrap();
    assert_eq!(g.prefix(), "conf");
    let fs = Fs::new(Arc::new(g.source(&g.resolve("v1").unwrap()).unwrap()));
    assert_eq!(fs.read_string("app/v1/cm.yaml").unwrap(), "v: 1\n");
}

#[test]
fn worktree_dirty_flag_looks_below_the_root_only() {
    let dir = fixture();
    let root = dir.path();
    let index = root.join(".git/index");
    let mtime = || std::fs::metadata(&index).unwrap().modified().unwrap();
    let before = mtime();
    let head = git(root, &["rev-parse", "HEAD"]);
    // The fixture leaves `conf/app/east/parameters.yaml` modified.
    let info = worktree_info(&root.join("conf"));
    assert_eq!(info, SourceInfo { commit: Some(head.clone()), reference: Some("refs/heads/main".into()), dirty: true });
    git(root, &["checkout", "-q", "--", "conf"]);
    type Case = (&'static str, fn(&Path), bool);
    let cases: [Case; 6] = [
        ("clean", |_| {}, false),
        ("change outside the root", |r| write(r, "README", "changed\n"), false),
        ("untracked outside the root", |r| write(r, "notes/x.txt", "x"), false),
        (
            "ignored below the root",
            |r| {
                write(r, ".gitignore", "*.bak\n");
                write(r, "conf/app/x.bak", "x");
            },
            false,
        ),
        ("untracked below the root", |r| write(r, "conf/app/v3/new.yaml", "x"), true),
        (
            "staged below the root",
            |r| {
                std::fs::remove_dir_all(r.join("conf/app/v3")).unwrap();
                write(r, "conf/app/v1/cm.yaml", "v: staged\n");
                git(r, &["add", "conf/app/v1/cm.yaml"]);
                write(r, "conf/app/v1/cm.yaml", "v: 1\n");
            },
            true,
        ),
    ];
    for (what, change, dirty) in cases {
        change(root);
        assert_eq!(worktree_info(&root.join("conf")).dirty, dirty, "{what}");
    }
    assert!(worktree_info(root).dirty, "the whole work tree has changes");
    assert_eq!(git(root, &["rev-parse", "HEAD"]), head);
    // Only `git add` above touched the index; status itself never writes it.
    let after_add = mtime();
    assert!(after_add >= before);
    worktree_info(&root.join("conf"));
    assert_eq!(mtime(), after_add, "computing the dirty flag leaves the index alone");
    let outside = tempfile::tempdir().unwrap();
    assert_eq!(worktree_info(outside.path()), SourceInfo::default());
}
