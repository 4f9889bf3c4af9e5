//! `cargo +nightly fuzz run values_merge`: the property is [`strata::fuzzing::values_merge`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::values_merge(data));
