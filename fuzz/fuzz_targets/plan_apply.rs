//! Arbitrary bytes as a partial update (`fix.zip`), planned and applied
//! with `-o` to both forms of the sample; see `src/plan_apply.rs` for the
//! checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| earpatch_fuzz::plan_apply::run(data));
