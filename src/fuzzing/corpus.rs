//! The fuzz corpora, replayed on stable: every file of `fuzz/corpus/<target>/`
//! goes through the property its fuzz target checks (`super::TARGETS`), so the
//! seeds and every input a fuzzer once found failing stay checked in CI, which
//! has no nightly toolchain. Fuzzing itself: docs/development.md.

use std::path::Path;

use super::TARGETS;

#[test]
fn every_corpus_file_keeps_its_property() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (name, property) in TARGETS {
        let dir = corpus.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        files.sort();
        assert!(files.len() >= 5, "fuzz/corpus/{name} has {} seeds; keep a few meaningful ones", files.len());
        for file in files {
            let data = std::fs::read(&file).expect("a corpus file");
            let shown = file.strip_prefix(&corpus).unwrap_or(&file).display().to_string();
            if let Err(e) = std::panic::catch_unwind(|| property(&data)) {
                let message =
                    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
                panic!("fuzz/corpus/{shown}: {}", message.unwrap_or_default());
            }
        }
    }
}

#[test]
fn every_fuzz_target_has_a_corpus_and_a_property() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut targets: Vec<String> = std::fs::read_dir(root.join("fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .map(|e| e.expect("a directory entry").file_name().to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    targets.sort();
    let mut named: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    named.sort();
    assert_eq!(targets, named, "fuzz/fuzz_targets/ and strata::fuzzing::TARGETS differ");
}
