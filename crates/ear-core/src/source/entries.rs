//! [`index_entries`]: a zip's file entries by checked path, after its
//! central directory is checked against the [`Limits`] (entry count,
//! declared ratios and total, overlapping entries) before anything is
//! inflated. It reads the central directory only.

use std::collections::BTreeMap;
use std::io::{Read, Seek};

use zip::ZipArchive;

use super::EntryIndex;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::path::EntryPath;

/// Indexes the file entries of a zip by checked path. The second value names
/// the archive when its central directory has duplicate names (the zip reader
/// keeps the last entry of each name).
///
/// The central directory is checked against `limits` first, before any entry
/// is inflated: the number of entries, each entry's declared ratio, the sum
/// of declared sizes, and overlapping entries (the zip bombs that reuse one
/// compressed stream for many entries). Declared sizes are then enforced
/// while reading: the zip reader fails an entry that inflates past its size.
pub(crate) fn index_entries<R: Read + Seek>(
    zip: &ZipArchive<R>,
    container: &str,
    limits: &Limits,
) -> Result<(EntryIndex, Vec<String>)> {
    let refuse = |entry: Option<&str>, message: String| Error::Refused {
        location: entry.map_or_else(|| container.to_owned(), |e| format!("{container}!{e}")),
        message,
    };
    if zip.len() as u64 > limits.max_entries {
        return Err(refuse(
            None,
            format!(
                "the archive has {} entries, over the limit of {} (--max-entries)",
                zip.len(),
                limits.max_entries
            ),
        ));
    }
    let mut entries = BTreeMap::new();
    let mut duplicates = Vec::new();
    let mut total: u64 = 0;
    let mut extents: Vec<(u64, u64, usize)> = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let entry = zip
            .by_index_data(index)
            .map_err(|e| Error::zip(container, e))?;
        let name = entry.name().map_err(|e| Error::zip(container, e))?;
        let (size, packed) = (entry.size(), entry.compressed_size());
        if size > Limits::RATIO_FLOOR && size / packed.max(1) >= limits.max_ratio {
            return Err(refuse(
                Some(&name),
                format!(
                    "the entry declares {size} bytes inflated from {packed} (a ratio over {}:1, the limit, \
                     --max-ratio); that is what zip bombs look like, so it is not read",
                    limits.max_ratio
                ),
            ));
        }
        total = total
            .checked_add(size)
            .filter(|t| *t <= limits.max_inflated)
            .ok_or_else(|| {
                refuse(
                    None,
                    format!(
                        "its entries declare more than {} bytes in all (the limit, --max-inflated)",
                        limits.max_inflated
                    ),
                )
            })?;
        extents.push((entry.header_start(), packed, index));
        if name.ends_with('/') {
            continue;
        }
        let path = EntryPath::new(&name).map_err(|problem| Error::UnsafePath {
            container: container.to_owned(),
            entry: name.clone().into_owned(),
            problem,
        })?;
        entries.insert(path, (index, size));
    }
    // Entries lie one after the other: each one's data ends before the next
    // local header. Overlapping entries share compressed bytes.
    extents.sort_unstable();
    for pair in extents.windows(2) {
        let ((start, packed, index), (next, _, _)) = (pair[0], pair[1]);
        if start.saturating_add(packed) > next || start == next {
            let name = zip
                .by_index_data(index)
                .ok()
                .and_then(|e| e.name().ok().map(std::borrow::Cow::into_owned))
                .unwrap_or_default();
            return Err(refuse(
                Some(&name),
                "the entry overlaps the next one in the archive (entries that share compressed bytes are \
                 a zip bomb); rebuild the archive"
                    .into(),
            ));
        }
    }
    if zip.has_duplicate_names() {
        duplicates.push(container.to_owned());
    }
    Ok((entries, duplicates))
}
