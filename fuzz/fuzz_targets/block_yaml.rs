//! `cargo +nightly fuzz run block_yaml`: the property is [`strata::fuzzing::block_yaml`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::block_yaml(data));
