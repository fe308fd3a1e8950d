//! The one writer of zips that earpatch builds from scratch: undo bundles,
//! `diff` output, exported EARs and module archives packed from folders.
//! Entries are written in the order given, stamped either with a fixed time
//! (deterministic output) or with now; delete lists are written one way.
//!
//! It never decides what goes into a zip (callers do) and never rewrites an
//! existing archive (that is [`super::archive`], which copies records as
//! they are through [`super::assemble`]).

use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use crate::clock::UtcTime;
use crate::error::{Error, Result};
use crate::model::{Application, Files, Form, Scope, Storage};
use crate::path::EntryPath;
use crate::progress::Meter;
use crate::update::DELETE_LIST_PATH;

/// How entries are stamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// The zip epoch and mode 0644: the same input gives the same bytes.
    Fixed,
    /// The current time (history bundles and exports).
    Now,
}

/// The file under a zip writer. The zip crate finalizes an unfinished
/// writer when it is dropped and prints to stderr when that fails (a full
/// disk); the library never prints. So the first failed write latches the
/// gate, and an abandoned writer ([`ZipFile::abandon`] on every error path)
/// latches it too: from then on writes are dropped, the finalizing succeeds
/// into nothing, and the temporary file is removed by its owner.
pub(crate) struct Gate {
    file: File,
    closed: Arc<AtomicBool>,
}

impl Write for Gate {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        self.file
            .write(buf)
            .inspect_err(|_| self.closed.store(true, Ordering::Relaxed))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed.load(Ordering::Relaxed) {
            return Ok(());
        }
        self.file
            .flush()
            .inspect_err(|_| self.closed.store(true, Ordering::Relaxed))
    }
}

impl Seek for Gate {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.file.seek(pos)
    }
}

/// A zip writer over a file, that never prints when it fails.
pub(crate) struct ZipFile {
    writer: Option<ZipWriter<BufWriter<Gate>>>,
    closed: Arc<AtomicBool>,
}

impl ZipFile {
    /// Writes a zip into `file` through a buffer of `capacity` bytes.
    pub(crate) fn new(file: File, capacity: usize) -> Self {
        let closed = Arc::new(AtomicBool::new(false));
        let gate = Gate {
            file,
            closed: Arc::clone(&closed),
        };
        ZipFile {
            writer: Some(ZipWriter::new(BufWriter::with_capacity(capacity, gate))),
            closed,
        }
    }

    /// The zip writer.
    pub(crate) fn writer(&mut self) -> &mut ZipWriter<BufWriter<Gate>> {
        self.writer
            .as_mut()
            .unwrap_or_else(|| unreachable!("a ZipFile is used until finished"))
    }

    /// `err` as what it is when a write to the file failed (a full disk):
    /// a write error naming `location`, not a read error of the input.
    pub(crate) fn explain(&self, err: Error, location: &str) -> Error {
        if !self.closed.load(Ordering::Relaxed) {
            return err;
        }
        let cause = crate::model::inventory::error_chain(&err);
        Error::io("cannot write", location, std::io::Error::other(cause))
    }

    /// Finishes the zip and returns its file.
    pub(crate) fn finish(mut self, location: &str) -> Result<File> {
        let Some(writer) = self.writer.take() else {
            unreachable!("a ZipFile is finished once")
        };
        let buffered = writer.finish().map_err(|e| Error::zip(location, e))?;
        let gate = buffered
            .into_inner()
            .map_err(|e| Error::io("cannot write", location, e.into_error()))?;
        Ok(gate.file)
    }
}

impl Drop for ZipFile {
    /// An unfinished zip is abandoned: see [`Gate`].
    fn drop(&mut self) {
        self.closed.store(true, Ordering::Relaxed);
    }
}

/// A zip being written from scratch.
pub(crate) struct ZipOut {
    zip: ZipFile,
    options: SimpleFileOptions,
    location: String,
}

impl ZipOut {
    /// Writes into `file`; `location` names it in errors.
    pub(crate) fn to_file(file: File, location: &Path, stamp: Stamp) -> Self {
        ZipOut::new(file, location.display().to_string(), stamp)
    }

    /// Finishes the zip and syncs the file.
    pub(crate) fn finish_synced(self) -> Result<File> {
        let file = self.zip.finish(&self.location)?;
        file.sync_all()
            .map_err(|e| Error::io("cannot sync", &self.location, e))?;
        Ok(file)
    }

    fn new(file: File, location: String, stamp: Stamp) -> Self {
        let options = match stamp {
            Stamp::Fixed => SimpleFileOptions::default()
                .last_modified_time(zip::DateTime::default())
                .unix_permissions(0o644),
            Stamp::Now => {
                SimpleFileOptions::default().last_modified_time(UtcTime::now().zip_time())
            }
        };
        ZipOut {
            zip: ZipFile::new(file, 64 * 1024),
            options,
            location,
        }
    }

    /// Adds one entry.
    pub(crate) fn add(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.add_with(name, Some(bytes.len() as u64), |w, location| {
            w.write_all(bytes)
                .map_err(|e| Error::io("cannot write", location, e))
        })
    }

    /// Adds one entry whose bytes `fill` streams into the zip; `size` (when
    /// known) decides whether the entry needs zip64 (unknown: it gets it).
    pub(crate) fn add_with(
        &mut self,
        name: &str,
        size: Option<u64>,
        fill: impl FnOnce(&mut dyn Write, &str) -> Result<()>,
    ) -> Result<()> {
        let large = size.is_none_or(|n| n >= u64::from(u32::MAX));
        let writer = self.zip.writer();
        writer
            .start_file(name, self.options.large_file(large))
            .map_err(|e| Error::zip(&self.location, e))?;
        fill(writer, &self.location)
    }
}

/// A delete list for `scope` (`""`: the application scope) deleting exactly
/// the files in `escaped` (regex-escaped paths relative to the scope), under
/// a `# header` comment: the entry name and its text.
pub(crate) fn delete_list(scope: &str, header: &str, escaped: &[String]) -> (String, Vec<u8>) {
    let name = if scope.is_empty() {
        DELETE_LIST_PATH.to_owned()
    } else {
        format!("{scope}/{DELETE_LIST_PATH}")
    };
    let mut text = format!("# {header}\n");
    for line in escaped {
        text.push_str(line);
        text.push('\n');
    }
    (name, text.into_bytes())
}

/// Streams a module's content as an archive into `out`: its own bytes when
/// stored as one, else a zip of its files (deterministic: sorted, fixed
/// timestamps) built in a temporary file. Never whole in memory.
pub(crate) fn copy_module_archive(
    files: &Files<'_>,
    uri: &EntryPath,
    out: &mut dyn Write,
    location: &str,
) -> Result<()> {
    let copy = |r: &mut dyn std::io::Read, w: &mut dyn Write, at: &str| {
        std::io::copy(r, w).map_err(|e| Error::io("cannot write", at, e))
    };
    if files.with_file(uri, |r| copy(r, out, location))?.is_some() {
        return Ok(());
    }
    let app = files.app();
    let at = format!("{}!{uri}", app.path().display());
    let tmp = tempfile::tempfile()
        .map_err(|e| Error::io("cannot create a temporary file for", &at, e))?;
    let mut nested = ZipOut::new(tmp, at.clone(), Stamp::Fixed);
    for (rel, size) in app.scope_files(&Scope::Module(uri.clone()))? {
        let full = uri.join(&rel);
        nested.add_with(rel.as_str(), Some(size), |w, location| {
            files.with_file(&full, |r| copy(r, w, location))?;
            Ok(())
        })?;
    }
    let mut file = nested.zip.finish(&at)?;
    file.seek(std::io::SeekFrom::Start(0))
        .map_err(|e| Error::io("cannot read", &at, e))?;
    copy(&mut file, out, location)?;
    Ok(())
}

/// Writes the whole application as an EAR at `out` (the previous application
/// of a full update's undo). An archive is hard-linked or copied as it is;
/// the files of an expanded one are reported to `meter` as they are packed.
///
/// # Errors
/// Reading the application or writing `out` fails, or `meter` was cancelled.
pub(crate) fn export_ear(app: &Application, out: &Path, meter: &Meter) -> Result<()> {
    if app.form() == Form::Archive {
        if std::fs::hard_link(app.path(), out).is_ok() {
            return Ok(());
        }
        std::fs::copy(app.path(), out).map_err(|e| Error::io("cannot copy to", out, e))?;
        return Ok(());
    }
    let file = File::create(out).map_err(|e| Error::io("cannot create", out, e))?;
    let mut zip = ZipOut::to_file(file, out, Stamp::Now);
    let files = Files::new(app);
    for (path, size) in app.application_files() {
        zip.add_with(path.as_str(), Some(size), |w, location| {
            files.with_file(path, |r| {
                std::io::copy(r, w).map_err(|e| Error::io("cannot write", location, e))
            })?;
            Ok(())
        })?;
        meter.wrote(size, 1)?;
    }
    for module in app.modules() {
        if module.storage == Storage::Missing {
            continue;
        }
        let size = files.size(&module.uri);
        zip.add_with(module.uri.as_str(), size, |w, location| {
            copy_module_archive(&files, &module.uri, w, location)
        })?;
        meter.wrote(size.unwrap_or(0), 1)?;
    }
    zip.finish_synced()?;
    Ok(())
}
