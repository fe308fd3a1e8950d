//! Extra, structure-aware variant of `plan_apply`: the input is a list of
//! zip entries, built into a well-formed `fix.zip` (valid CRCs, so entry
//! contents such as delete lists, descriptors and nested module archives
//! reach the planner instead of failing the CRC check). Same checks as
//! `plan_apply`.
//!
//! Input format, repeated until the input ends: `name_len: u8`,
//! `flags: u8` (bit 0: stored instead of deflated), `content_len: u32 LE`,
//! the name (lossy UTF-8), the content (cut short at the end of the input).
//! A name ending with `/` is a directory entry.
#![no_main]

use ear_fixtures::{Method, ZipBuilder};
use libfuzzer_sys::fuzz_target;

fn build(mut data: &[u8]) -> Vec<u8> {
    let mut seen = std::collections::HashSet::new();
    let mut b = ZipBuilder::new();
    while data.len() >= 6 {
        let name_len = usize::from(data[0]);
        let flags = data[1];
        let content_len = u32::from_le_bytes([data[2], data[3], data[4], data[5]]) as usize;
        data = &data[6..];
        let name = &data[..name_len.min(data.len())];
        data = &data[name.len()..];
        let content = &data[..content_len.min(data.len())];
        data = &data[content.len()..];
        let name = String::from_utf8_lossy(name).into_owned();
        let method = if flags & 1 == 1 { Method::Store } else { Method::Deflate };
        // The zip writer refuses duplicate and empty names (ZipBuilder
        // would panic): skip them.
        if name.is_empty() || !seen.insert(name.clone()) {
            continue;
        }
        b = if name.ends_with('/') {
            b.dir(&name)
        } else {
            b.file_with(&name, content, method)
        };
    }
    b.finish()
}

fuzz_target!(|data: &[u8]| {
    earpatch_fuzz::plan_apply::run(&build(data));
});
