//! Partial updates with many entries into one module, for timing `plan`
//! against the number of update entries.
//!
//! [`write_entries`] writes a partial update zip of `count` new files under
//! one module URI: `URI/gen/dNNNN/fNNNNNNN.txt`, 1,000 files per directory,
//! each a short line naming its number, deflated at level 1 with fixed
//! timestamps and permissions, so the same arguments give byte-identical
//! output on every run. Memory stays bounded: one entry is written at a time.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! let dir = tempfile::tempdir()?;
//! let out = dir.path().join("entries.zip");
//! ear_bench::entries::write_entries("w1.war", 3, &out)?;
//! let zip = zip::ZipArchive::new(std::fs::File::open(&out)?).map_err(std::io::Error::other)?;
//! assert_eq!(zip.len(), 3);
//! # Ok(()) }
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use zip::ZipWriter;

/// Files per generated directory.
const PER_DIRECTORY: usize = 1000;

/// The most entries [`write_entries`] writes: earpatch's default entry limit.
pub const MAX_ENTRIES: usize = 1_000_000;

/// The full path of generated entry `index` under `module`.
#[must_use]
pub fn entry_name(module: &str, index: usize) -> String {
    format!("{module}/gen/d{:04}/f{index:07}.txt", index / PER_DIRECTORY)
}

/// Checks that `module` is one plain file name (a module URI at the top of
/// the application): not empty, not `.` or `..`, no `/`, `\` or NUL.
///
/// # Errors
/// The name is not a plain file name.
pub fn check_module(module: &str) -> io::Result<()> {
    if module.is_empty() || module == "." || module == ".." || module.contains(['/', '\\', '\0']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("module URI {module:?} must be one file name such as w1.war"),
        ));
    }
    Ok(())
}

/// Writes at `out` (overwriting it) a partial update zip of `count` new
/// files under `module` (see the module docs for the names and bytes).
///
/// # Errors
/// `module` is not a plain file name, `count` is 0 or above
/// [`MAX_ENTRIES`], or writing `out` fails.
pub fn write_entries(module: &str, count: usize, out: &Path) -> io::Result<()> {
    check_module(module)?;
    if count == 0 || count > MAX_ENTRIES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("entry count {count} must be between 1 and {MAX_ENTRIES}"),
        ));
    }
    let mut zip = ZipWriter::new(BufWriter::new(File::create(out)?));
    let options = crate::large::entry_options(false);
    for index in 0..count {
        zip.start_file(entry_name(module, index), options)?;
        writeln!(zip, "generated entry {index} of {count}")?;
    }
    zip.finish()?.flush()
}
