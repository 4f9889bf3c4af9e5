//! `cargo +nightly fuzz run set_expr`: the property is [`strata::fuzzing::set_expr`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::set_expr(data));
