//! `cargo +nightly fuzz run selector`: the property is [`strata::fuzzing::selector`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::selector(data));
