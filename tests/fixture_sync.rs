//! Two parts of `tests/fixtures/apiserver/` are committed copies of `../shared/fixtures/apiserver/`
//! (kept beside the clone), so that a clone anywhere runs every test that reads them: the server's
//! OpenAPI definitions and the `validation/` verdicts ([`COPIED`]). The rest of the folder is the
//! repository's own recordings, made by its `record.py` from a real server. When `../shared` is
//! beside the clone, this test checks that every copied file there is in the copy with the same
//! bytes; `STRATA_REGENERATE=1` copies them over instead. Without `../shared` there is nothing to
//! compare with, and it says so.

mod support;

use std::io::Write as _;

/// The parts of `../shared/fixtures/apiserver/` the repository keeps a copy of (a path or a folder).
const COPIED: &[&str] = &["openapi-v2-definitions.json", "validation/"];

#[test]
fn apiserver_fixtures_match_the_shared_ones() {
    let shared = support::project_root().join("../shared/fixtures/apiserver");
    if !shared.is_dir() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: apiserver_fixtures_match_the_shared_ones (no ../shared/fixtures/apiserver beside the clone to \
             compare tests/fixtures/apiserver with; the committed copy is used as it is)"
        );
        return;
    }
    let committed = support::fixture("apiserver");
    let (mut theirs, ours) = (support::files_under(&shared), support::files_under(&committed));
    theirs.retain(|rel, _| COPIED.iter().any(|c| rel == c || (c.ends_with('/') && rel.starts_with(c))));
    assert!(theirs.contains_key("openapi-v2-definitions.json"), "{} is not the fixture directory", shared.display());
    let stale: Vec<&String> =
        theirs.iter().filter(|(rel, bytes)| ours.get(*rel) != Some(*bytes)).map(|(r, _)| r).collect();
    if std::env::var("STRATA_REGENERATE").as_deref() == Ok("1") {
        for rel in &stale {
            let to = committed.join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            // Not `fs::copy`: the shared files are read-only, and the copy must stay writable.
            std::fs::write(&to, &theirs[*rel]).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
        }
        return;
    }
    assert!(
        stale.is_empty(),
        "tests/fixtures/apiserver differs from ../shared/fixtures/apiserver in {} files: {stale:?}\n\
         (`STRATA_REGENERATE=1 cargo test --test fixture_sync` copies them; commit the result)",
        stale.len()
    );
}
