//! Hostile archives, built by code for the adversarial tests: zip bombs
//! (zeros deflated), entries whose declared size lies, overlapping entries.
//! Nothing here is committed as a file; every test makes its own.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// A zip of one deflated entry `name` holding `size` zero bytes, written in
/// chunks (memory stays small whatever `size`). Deflate packs zeros about
/// 1,030:1, past every sane ratio limit.
#[must_use]
pub fn zeros_bomb(name: &str, size: u64) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::default())
        .large_file(size >= u64::from(u32::MAX));
    writer.start_file(name, options).expect("bomb entry");
    let chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = usize::try_from(left.min(chunk.len() as u64)).unwrap_or(chunk.len());
        writer.write_all(&chunk[..n]).expect("bomb write");
        left -= n as u64;
    }
    writer.finish().expect("bomb finish").into_inner()
}

/// `zip` with the declared inflated size of every entry (local header and
/// central directory) set to `declared`: a zip whose sizes lie.
#[must_use]
pub fn lie_about_sizes(mut zip: Vec<u8>, declared: u32) -> Vec<u8> {
    let bytes = declared.to_le_bytes();
    let mut i = 0;
    while i + 46 <= zip.len() {
        match &zip[i..i + 4] {
            // Local file header: uncompressed size at 22.
            [0x50, 0x4b, 0x03, 0x04] => zip[i + 22..i + 26].copy_from_slice(&bytes),
            // Central directory header: uncompressed size at 24.
            [0x50, 0x4b, 0x01, 0x02] => zip[i + 24..i + 28].copy_from_slice(&bytes),
            _ => {}
        }
        i += 1;
    }
    zip
}

/// A zip of `copies` entries `f0`, `f1`, ... that all point at the same
/// local header and compressed stream (`size` zeros): David Fifield's
/// overlapping zip bomb, in its simplest form. Each entry's ratio looks
/// modest when `size` is small; together they inflate `copies` times.
#[must_use]
pub fn overlapping_bomb(copies: u16, size: u64) -> Vec<u8> {
    let one = zeros_bomb("f0", size);
    // Locate the one central directory record and the end record.
    let cd = find(&one, &[0x50, 0x4b, 0x01, 0x02]).expect("central directory");
    let eocd = find(&one, &[0x50, 0x4b, 0x05, 0x06]).expect("end of central directory");
    let record = &one[cd..eocd];
    let mut out = one[..cd].to_vec();
    let cd_start = out.len();
    for n in 0..copies {
        let mut r = record.to_vec();
        let name = format!("f{n}");
        // Names of equal length keep every offset valid: pad to 6 characters.
        let padded = format!("{name:0<6}");
        let name_len = usize::from(u16::from_le_bytes([r[28], r[29]]));
        let mut fixed = r[..46].to_vec();
        fixed[28..30].copy_from_slice(&u16::try_from(padded.len()).unwrap_or(6).to_le_bytes());
        fixed.extend_from_slice(padded.as_bytes());
        fixed.extend_from_slice(&r[46 + name_len..]);
        r = fixed;
        out.extend_from_slice(&r);
    }
    let cd_size = out.len() - cd_start;
    let mut end = one[eocd..].to_vec();
    end[8..10].copy_from_slice(&copies.to_le_bytes());
    end[10..12].copy_from_slice(&copies.to_le_bytes());
    end[12..16].copy_from_slice(&u32::try_from(cd_size).unwrap_or(u32::MAX).to_le_bytes());
    end[16..20].copy_from_slice(&u32::try_from(cd_start).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&end);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// A zip of `count` tiny entries `d/NNNNNNN.txt` (each one byte), for the
/// bounds on entry counts and the linear-time tests.
#[must_use]
pub fn many_entries(count: u32) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(DateTime::default());
    for n in 0..count {
        writer
            .start_file(format!("d/{n:07}.txt"), options)
            .expect("entry");
        writer.write_all(b"x").expect("write");
    }
    writer.finish().expect("finish").into_inner()
}
