//! Full updates of an archive by an archive (spec §2: the whole application
//! is replaced): the result is the new archive itself, copied as it is
//! (`copy_file_range` where the kernel offers it, a plain copy where it
//! refuses) to a temporary file beside the target, synced and renamed. So a
//! full update costs a copy of the new version, however many modules changed,
//! instead of rebuilding every changed module.
//!
//! It never decides what changes (the plan listed every file) and keeps no
//! history; the other form pairs are written file by file by [`super::archive`]
//! and [`super::expanded`].

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

use super::{COPY_CHUNK, ChangeSet};
use crate::error::{Error, Result};
use crate::fs::{AtomicFile, fail_point};
use crate::model::{Application, Form};
use crate::progress::{Meter, Phase};
use crate::update::{Payload, Update};

/// The new archive that becomes the result, when `set` is a full update of
/// the archive form `app` by an archive.
pub(crate) fn new_archive<'a>(app: &Application, set: &'a ChangeSet<'_>) -> Option<&'a Path> {
    copied_archive(app, set.update)
}

/// [`new_archive`] before the change set is built: then no reader of the
/// new application's modules is needed (hashes and sizes come from its
/// inventory, which the plan read).
pub(crate) fn copied_archive<'a>(app: &Application, update: &'a Update) -> Option<&'a Path> {
    match &update.payload {
        Payload::Full(new_app)
            if app.form() == Form::Archive && new_app.form() == Form::Archive =>
        {
            Some(new_app.path())
        }
        _ => None,
    }
}

/// Writes a copy of the archive `new` to `out` atomically (the mode of a
/// replaced `out` is kept), reporting each [`COPY_CHUNK`] to `meter`; a
/// cancel before the rename removes the temporary file.
pub(crate) fn copy_archive(new: &Path, out: &Path, meter: &Meter) -> Result<()> {
    let tmp = AtomicFile::beside(out)?;
    tmp.keep_mode_of(out);
    let from = File::open(new).map_err(|e| Error::io("cannot read", new, e))?;
    let size = from.metadata().map(|m| m.len()).ok();
    meter.begin(Phase::Writing, size)?;
    let mut to = tmp.handle()?;
    // `std::io::copy` between two files uses `copy_file_range` on Linux and
    // falls back to reading and writing where the kernel refuses; a chunk
    // at a time, to report and to stop when asked.
    loop {
        let n = std::io::copy(&mut (&from).take(COPY_CHUNK), &mut to)
            .map_err(|e| Error::io("cannot copy the new application to", out, e))?;
        if n == 0 {
            break;
        }
        meter.wrote(n, 0)?;
    }
    drop(to);
    meter.check()?;
    tmp.commit_with(|| fail_point("archive-before-rename"))?;
    fail_point("archive-after-rename");
    Ok(())
}
