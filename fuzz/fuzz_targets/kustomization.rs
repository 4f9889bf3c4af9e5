//! `cargo +nightly fuzz run kustomization`: the property is [`strata::fuzzing::kustomization`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::kustomization(data));
