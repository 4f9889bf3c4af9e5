use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::*;
use crate::repo::Repo;
use crate::source::{Fs, MemorySource};

const BASE: &[(&str, &str)] = &[
    ("strata.yaml", "values:\n  a: 1\n"),
    ("api/component.yaml", "namespace: shop\n"),
    ("api/v1/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"),
    ("api/east/templates", "-> ../v1"),
    ("api/west/templates", "-> ../v1"),
    ("api/west/kustomization.yaml", "patches:\n  - path: p.yaml\n"),
    ("api/west/p.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n"),
];

fn repo(changes: &[(&str, &str)]) -> Repo {
    let mut files: std::collections::BTreeMap<&str, &str> = BASE.iter().copied().collect();
    files.extend(changes.iter().copied());
    let entries: Vec<(&str, &str)> = files.into_iter().collect();
    Repo::load(Fs::new(Arc::new(MemorySource::from_entries(&entries)))).unwrap()
}

fn opts(dir: &std::path::Path) -> CacheOptions {
    CacheOptions { dir: dir.to_path_buf(), max_bytes: DEFAULT_MAX_BYTES }
}

/// The keys of `api/east` and `api/west` in `repo(changes)`, compiled with `options`.
fn keys(changes: &[(&str, &str)], options: &[u8]) -> [Option<Key>; 2] {
    let r = repo(changes);
    let tmp = tempfile::tempdir().unwrap();
    let cache = Cache::new(&opts(tmp.path()), &r.fs, options);
    let t: Vec<&Target> = r.targets().collect();
    [cache.key(t[0]), cache.key(t[1])]
}

#[test]
fn a_key_changes_with_what_its_target_reads_and_nothing_else() {
    let [east, west] = keys(&[], b"");
    assert!(east.is_some() && west.is_some() && east != west);
    for (changes, options, same_east, same_west, why) in [
        (&[][..], &b""[..], true, true, "nothing changed"),
        (&[][..], &b"--set a=2"[..], false, false, "the compile options"),
        (&[("strata.yaml", "values:\n  a: 2\n")][..], &b""[..], false, false, "strata.yaml"),
        (&[("api/v1/cm.yaml", "kind: x\n")][..], &b""[..], false, false, "a template of the version"),
        (&[("api/v1/_helpers.j2", "{# new #}")][..], &b""[..], false, false, "a new file in the version"),
        (&[("api/east/parameters.yaml", "a: 2\n")][..], &b""[..], false, true, "a parameter file of east"),
        (&[("api/parameters.yaml", "a: 2\n")][..], &b""[..], false, false, "the component's parameters"),
        (&[("api/west/p.yaml", "kind: y\n")][..], &b""[..], true, false, "a patch of west"),
        (&[("api/component.yaml", "namespace: x\n")][..], &b""[..], false, false, "component.yaml"),
        (
            &[("web/v1/cm.yaml", "x: 1\n"), ("web/e/templates", "-> ../v1")][..],
            &b""[..],
            true,
            true,
            "another component",
        ),
    ] {
        let [e, w] = keys(changes, options);
        assert_eq!((e == east, w == west), (same_east, same_west), "{why}");
    }
}

#[test]
fn what_the_files_do_not_fix_is_never_cached() {
    // `Repo.Commit` differs between revisions whose files are the same.
    let [east, west] = keys(&[("api/v1/cm.yaml", "data:\n  c: \"{{ Repo.Commit }}\"\n")], b"");
    assert_eq!((east, west), (None, None));
    let [east, west] = keys(&[("api/west/parameters.yaml", "c: Repo\n")], b"");
    assert!(east.is_some() && west.is_none());
    let [east, west] = keys(&[("strata.yaml", "# Repo\n")], b"");
    assert_eq!((east, west), (None, None));
}

fn resources() -> Vec<Resource> {
    let body = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "shop"},
        "data": {"z": "1", "a": 0.1, "n": -3, "big": 18446744073709551615u64, "list": [true, null]},
    });
    let origin = TemplateOrigin { template: Arc::from("api/v1/cm.yaml"), doc: 2 };
    vec![Resource::new(body, origin).unwrap()]
}

#[test]
fn an_entry_comes_back_whole_or_not_at_all() {
    let leaves = vec![vec!["a".to_string(), "b".to_string()]];
    let bytes = seal(FORMAT, &[&encode(&resources(), &leaves)]);
    let opened = |b: &[u8]| unseal(FORMAT, b).and_then(decode);
    let back = opened(&bytes).unwrap();
    assert_eq!(back, Entry { resources: resources(), read_leaves: leaves });
    // Keys keep their order (the output's bytes depend on it).
    let keys: Vec<&String> = back.resources[0].body["data"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["z", "a", "n", "big", "list"]);
    // Any damage is a miss: a flipped byte, a cut, another format, nothing.
    let mut flipped = bytes.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 1;
    for (damaged, why) in [
        (flipped, "a flipped byte"),
        (bytes[..bytes.len() - 1].to_vec(), "cut short"),
        ([b"strata-cache 0".as_slice(), &bytes[14..]].concat(), "another format"),
        (Vec::new(), "empty"),
    ] {
        assert_eq!(opened(&damaged), None, "{why}");
    }
}

#[test]
fn entries_are_stored_read_and_repaired() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(&[]);
    let cache = Cache::new(&opts(tmp.path()), &r.fs, b"");
    let key = cache.key(r.targets().next().unwrap()).unwrap();
    assert_eq!(cache.get(&key), None);
    cache.put(&key, &resources(), &[]);
    assert_eq!(cache.get(&key).map(|e| e.resources), Some(resources()));
    // A corrupt entry is a miss; the next put replaces it.
    let path = store_path(tmp.path(), &key);
    std::fs::write(&path, b"strata-cache 1 0000\n{}").unwrap();
    assert_eq!(cache.get(&key), None);
    cache.put(&key, &resources(), &[]);
    assert!(cache.get(&key).is_some());
}

fn store_path(dir: &std::path::Path, key: &Key) -> std::path::PathBuf {
    dir.join("v1").join(&key.0[..2]).join(&key.0)
}

#[test]
fn the_least_recently_used_entries_go_first() {
    let tmp = tempfile::tempdir().unwrap();
    let entry = seal(FORMAT, &[&encode(&resources(), &[])]);
    let size = entry.len() as u64;
    let keys: Vec<Key> = (0..4).map(|i| Key(format!("{i:02}{}", "ab".repeat(31)))).collect();
    let cache = Cache::new(&CacheOptions { dir: tmp.path().to_path_buf(), max_bytes: 2 * size }, &repo(&[]).fs, b"");
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for (i, k) in keys.iter().enumerate() {
        cache.put(k, &resources(), &[]);
        // Written in order, an hour apart…
        let f = std::fs::File::options().write(true).open(store_path(tmp.path(), k)).unwrap();
        f.set_modified(hour_ago + Duration::from_secs(60 * i as u64)).unwrap();
    }
    // …and the oldest used since: it stays, the next two go.
    assert!(cache.get(&keys[0]).is_some());
    cache.finish();
    let kept: Vec<bool> = keys.iter().map(|k| store_path(tmp.path(), k).exists()).collect();
    assert_eq!(kept, [true, false, false, true]);
}

#[test]
fn sizes() {
    for (text, want) in [
        ("1024", Some(1024)),
        ("500M", Some(500 << 20)),
        ("2G", Some(2 << 30)),
        ("2GiB", Some(2 << 30)),
        ("16kb", Some(16 << 10)),
        ("", None),
        ("G", None),
        ("2X", None),
        ("-1", None),
    ] {
        assert_eq!(parse_size(text).ok(), want, "{text}");
    }
}
