//! The one writer of zips that earpatch builds from scratch: undo bundles,
//! `diff` output, exported EARs and module archives packed from folders.
//! Entries are written in the order given, stamped either with a fixed time
//! (deterministic output) or with now; delete lists are written one way.
//!
//! It never decides what goes into a zip (callers do) and never rewrites an
//! existing archive (that is [`super::archive`], which raw-copies).

use std::fs::File;
use std::io::{BufWriter, Cursor, Seek, Write};
use std::path::Path;

use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use crate::clock::UtcTime;
use crate::error::{Error, Result};
use crate::model::{Application, Form, Scope, Storage};
use crate::path::EntryPath;
use crate::update::DELETE_LIST_PATH;

/// How entries are stamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// The zip epoch and mode 0644: the same input gives the same bytes.
    Fixed,
    /// The current time (history bundles and exports).
    Now,
}

/// A zip being written.
pub(crate) struct ZipOut<W: Write + Seek> {
    writer: ZipWriter<W>,
    options: SimpleFileOptions,
    location: String,
}

impl ZipOut<BufWriter<File>> {
    /// Writes into `file`; `location` names it in errors.
    pub(crate) fn to_file(file: File, location: &Path, stamp: Stamp) -> Self {
        ZipOut::new(BufWriter::new(file), location.display().to_string(), stamp)
    }

    /// Finishes the zip and syncs the file.
    pub(crate) fn finish_synced(self) -> Result<File> {
        let location = self.location.clone();
        let file = finish_file(self.writer, &location)?;
        file.sync_all()
            .map_err(|e| Error::io("cannot sync", &location, e))?;
        Ok(file)
    }
}

impl ZipOut<Cursor<Vec<u8>>> {
    /// Writes into memory.
    pub(crate) fn in_memory(location: String, stamp: Stamp) -> Self {
        ZipOut::new(Cursor::new(Vec::new()), location, stamp)
    }

    /// Finishes the zip and returns its bytes.
    pub(crate) fn into_bytes(self) -> Result<Vec<u8>> {
        let location = self.location;
        Ok(self
            .writer
            .finish()
            .map_err(|e| Error::zip(&location, e))?
            .into_inner())
    }
}

impl<W: Write + Seek> ZipOut<W> {
    fn new(inner: W, location: String, stamp: Stamp) -> Self {
        let options = match stamp {
            Stamp::Fixed => SimpleFileOptions::default()
                .last_modified_time(zip::DateTime::default())
                .unix_permissions(0o644),
            Stamp::Now => {
                SimpleFileOptions::default().last_modified_time(UtcTime::now().zip_time())
            }
        };
        ZipOut {
            writer: ZipWriter::new(inner),
            options,
            location,
        }
    }

    /// Adds one entry.
    pub(crate) fn add(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.writer
            .start_file(name, self.options)
            .map_err(|e| Error::zip(&self.location, e))?;
        self.writer
            .write_all(bytes)
            .map_err(|e| Error::io("cannot write", &self.location, e))
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

/// Finishes a zip written through a buffered file.
pub(crate) fn finish_file(writer: ZipWriter<BufWriter<File>>, location: &str) -> Result<File> {
    let buffered = writer.finish().map_err(|e| Error::zip(location, e))?;
    buffered
        .into_inner()
        .map_err(|e| Error::io("cannot write", location, e.into_error()))
}

/// A module's content as an archive: its own bytes when stored as one, else
/// a zip of its files (deterministic: sorted, fixed timestamps).
pub(crate) fn module_as_archive(app: &Application, uri: &EntryPath) -> Result<Vec<u8>> {
    if let Some(bytes) = app.read(uri)? {
        return Ok(bytes);
    }
    let mut nested = ZipOut::in_memory(format!("{}!{uri}", app.path().display()), Stamp::Fixed);
    for (rel, _) in app.scope_files(&Scope::Module(uri.clone()))? {
        let bytes = app.read(&uri.join(&rel))?.unwrap_or_default();
        nested.add(rel.as_str(), &bytes)?;
    }
    nested.into_bytes()
}

/// Writes the whole application as an EAR at `out` (the previous application
/// of a full update's undo). An archive is hard-linked or copied as it is.
///
/// # Errors
/// Reading the application or writing `out` fails.
pub(crate) fn export_ear(app: &Application, out: &Path) -> Result<()> {
    if app.form() == Form::Archive {
        if std::fs::hard_link(app.path(), out).is_ok() {
            return Ok(());
        }
        std::fs::copy(app.path(), out).map_err(|e| Error::io("cannot copy to", out, e))?;
        return Ok(());
    }
    let file = File::create(out).map_err(|e| Error::io("cannot create", out, e))?;
    let mut zip = ZipOut::to_file(file, out, Stamp::Now);
    for (path, _) in app.application_files() {
        let bytes = app.read(path)?.unwrap_or_default();
        zip.add(path.as_str(), &bytes)?;
    }
    for module in app.modules() {
        if module.storage == Storage::Missing {
            continue;
        }
        zip.add(module.uri.as_str(), &module_as_archive(app, &module.uri)?)?;
    }
    zip.finish_synced()?;
    Ok(())
}
