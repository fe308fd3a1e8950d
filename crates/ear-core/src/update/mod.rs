//! The four update kinds (spec §2): full, module, file and partial, read
//! from disk and checked; and the delete lists partial updates carry.
//!
//! An [`Update`] knows its own bytes only: it never looks at the
//! application it will be applied to (that is the planner's job) and never
//! writes.

pub mod delete_list;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde::Serialize;
use zip::ZipArchive;

use crate::error::{Error, Result};
use crate::fs::check_regular;
use crate::limits::Limits;
use crate::model::{Application, FileInfo, Inventory, is_module_extension};
use crate::path::EntryPath;
use crate::source::EntryIndex;

pub use delete_list::{DELETE_LIST_PATH, DeleteList, DeletePattern, escape_path};

/// The kind of an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum UpdateKind {
    /// A whole new application.
    Full,
    /// One module archive, at a URI.
    Module,
    /// One file, at a full path.
    File,
    /// A zip of files at their full paths, with delete lists.
    Partial,
}

impl std::fmt::Display for UpdateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UpdateKind::Full => "full",
            UpdateKind::Module => "module",
            UpdateKind::File => "file",
            UpdateKind::Partial => "partial",
        })
    }
}

/// An update, read from disk and checked, ready to be planned.
///
/// ```
/// # fn main() -> ear_core::Result<()> {
/// # let dir = tempfile::tempdir().map_err(|e| ear_core::Error::Io { action: "tmp", path: ".".into(), source: e })?;
/// # let zip = dir.path().join("fix.zip");
/// # std::fs::write(&zip, ear_fixtures::sample::shop_fix_zip()).map_err(|e| ear_core::Error::Io { action: "w", path: zip.clone(), source: e })?;
/// use ear_core::{Update, UpdateKind};
/// let update = Update::infer(&zip)?; // a .zip is a partial update
/// assert_eq!(update.kind(), UpdateKind::Partial);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Update {
    kind: UpdateKind,
    source: PathBuf,
    limits: Limits,
    pub(crate) payload: Payload,
    /// The new application's inventory (full updates): read once per update,
    /// then its sizes and hashes are looked up instead of reopening modules.
    new_inventory: OnceLock<Inventory>,
}

#[derive(Debug)]
pub(crate) enum Payload {
    Full(Box<Application>),
    Module {
        uri: EntryPath,
        context_root: Option<String>,
    },
    File {
        path: EntryPath,
    },
    Partial(PartialZip),
}

/// An opened partial-update zip.
#[derive(Debug)]
pub(crate) struct PartialZip {
    pub zip: Mutex<ZipArchive<BufReader<File>>>,
    pub entries: EntryIndex,
}

impl Update {
    /// A partial update: a zip of files at their full paths.
    ///
    /// # Errors
    /// The file is missing, not a zip, or has an unsafe entry name.
    pub fn partial(path: impl AsRef<Path>) -> Result<Update> {
        Update::partial_with(path, &Limits::default())
    }

    /// [`Update::partial`] with other [`Limits`] than the defaults.
    ///
    /// # Errors
    /// As [`Update::partial`], and a zip over a limit.
    pub fn partial_with(path: impl AsRef<Path>, limits: &Limits) -> Result<Update> {
        let path = path.as_ref();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("ear"))
        {
            return Err(Error::refused(
                path.display().to_string(),
                "an .ear is a whole application, not a partial update; ship it as a full update \
                 (--full), or give the .zip of changed files",
            ));
        }
        check_regular(path, "a partial update")?;
        let file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
        if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
            return Err(Error::refused(
                path.display().to_string(),
                "the update is empty (0 bytes), not a zip",
            ));
        }
        let zip = ZipArchive::new(BufReader::new(file))
            .map_err(|e| Error::zip(path.display().to_string(), e))?;
        let (entries, duplicates) =
            crate::source::index_entries(&zip, &path.display().to_string(), limits)?;
        if !duplicates.is_empty() {
            return Err(Error::refused(
                path.display().to_string(),
                "the update zip has duplicate entry names; which one wins is ambiguous, so rebuild the zip",
            ));
        }
        Ok(Update {
            limits: *limits,
            kind: UpdateKind::Partial,
            source: path.to_path_buf(),
            payload: Payload::Partial(PartialZip {
                zip: Mutex::new(zip),
                entries,
            }),
            new_inventory: OnceLock::new(),
        })
    }

    /// A full update: a new `.ear` or expanded application.
    ///
    /// # Errors
    /// The new application cannot be opened.
    pub fn full(path: impl AsRef<Path>) -> Result<Update> {
        Update::full_with(path, &Limits::default())
    }

    /// [`Update::full`] with other [`Limits`] than the defaults.
    ///
    /// # Errors
    /// As [`Update::full`], and an archive over a limit.
    pub fn full_with(path: impl AsRef<Path>, limits: &Limits) -> Result<Update> {
        let path = path.as_ref();
        let app = Application::open_with(path, limits)?;
        Ok(Update {
            limits: *limits,
            kind: UpdateKind::Full,
            source: path.to_path_buf(),
            payload: Payload::Full(Box::new(app)),
            new_inventory: OnceLock::new(),
        })
    }

    /// A module update: the archive at `path` replaces or adds the module at `uri`.
    ///
    /// # Errors
    /// `uri` is not a safe path, or the archive cannot be read.
    pub fn module(path: impl AsRef<Path>, uri: &str) -> Result<Update> {
        let path = path.as_ref();
        let uri = EntryPath::new(uri)
            .map_err(|p| Error::refused(format!("module URI {uri:?}"), p.to_string()))?;
        check_readable_file(path)?;
        Ok(Update {
            limits: Limits::default(),
            kind: UpdateKind::Module,
            source: path.to_path_buf(),
            payload: Payload::Module {
                uri,
                context_root: None,
            },
            new_inventory: OnceLock::new(),
        })
    }

    /// Sets the context root of a web module that this module update adds (spec §9.4).
    #[must_use]
    pub fn context_root(mut self, root: impl Into<String>) -> Self {
        if let Payload::Module { context_root, .. } = &mut self.payload {
            *context_root = Some(root.into());
        }
        self
    }

    /// A file update: the file at `path` replaces or adds the file at `full_path`.
    ///
    /// # Errors
    /// `full_path` is unsafe, names an `.ear`, or the file cannot be read.
    pub fn file(path: impl AsRef<Path>, full_path: &str) -> Result<Update> {
        let path = path.as_ref();
        let target = EntryPath::new(full_path)
            .map_err(|p| Error::refused(format!("file path {full_path:?}"), p.to_string()))?;
        if target.extension().as_deref() == Some("ear") {
            return Err(Error::refused(
                format!("file path {full_path:?}"),
                "an .ear is a whole application; use a full update (--full)",
            ));
        }
        check_readable_file(path)?;
        Ok(Update {
            limits: Limits::default(),
            kind: UpdateKind::File,
            source: path.to_path_buf(),
            payload: Payload::File { path: target },
            new_inventory: OnceLock::new(),
        })
    }

    /// Infers the kind from the name (spec §8): a directory or `.ear` is a full
    /// update, a `.zip` a partial update, a `.war/.jar/.rar/.sar` a module
    /// update of the module with that file name.
    ///
    /// # Errors
    /// The kind cannot be inferred, or the update cannot be read.
    pub fn infer(path: impl AsRef<Path>) -> Result<Update> {
        Update::infer_with(path, &Limits::default())
    }

    /// [`Update::infer`] with other [`Limits`] than the defaults.
    ///
    /// # Errors
    /// As [`Update::infer`], and an archive over a limit.
    pub fn infer_with(path: impl AsRef<Path>, limits: &Limits) -> Result<Update> {
        let path = path.as_ref();
        if path.is_dir() {
            return Update::full_with(path, limits);
        }
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("zip") => Update::partial_with(path, limits),
            Some("ear") => Update::full_with(path, limits),
            Some(ext) if is_module_extension(ext) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Update::module(path, &name)
            }
            _ => Err(Error::refused(
                path.display().to_string(),
                "cannot tell the update kind from the name; use --full, --module URI or --file PATH \
                 (a .zip is a partial update, an .ear a full update, a .war/.jar/.rar/.sar a module update)",
            )),
        }
    }

    /// The limits it is read under.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Reads these limits from now on (module and file updates, whose
    /// archives are opened when planned).
    #[must_use]
    pub fn with_limits(mut self, limits: &Limits) -> Self {
        self.limits = *limits;
        self
    }

    /// The kind.
    #[must_use]
    pub fn kind(&self) -> UpdateKind {
        self.kind
    }

    /// Where the update was read from.
    #[must_use]
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The inventory of a full update's new application, read on first use
    /// and kept: a full update reads each version once per operation
    /// (`None` for the other kinds).
    pub(crate) fn new_inventory(&self) -> Result<Option<&Inventory>> {
        let Payload::Full(new_app) = &self.payload else {
            return Ok(None);
        };
        if let Some(inventory) = self.new_inventory.get() {
            return Ok(Some(inventory));
        }
        let inventory = new_app.inventory()?;
        Ok(Some(self.new_inventory.get_or_init(|| inventory)))
    }

    /// The file at `full` in a full update's new application, from its
    /// inventory once read (`None` before, and for a module URI).
    pub(crate) fn new_file(&self, full: &EntryPath) -> Option<&FileInfo> {
        let Payload::Full(new_app) = &self.payload else {
            return None;
        };
        let (scope, rel) = new_app.locate(full)?;
        let files = &self.new_inventory.get()?.scope(&scope)?.files;
        let i = files.binary_search_by(|f| f.path.cmp(&rel)).ok()?;
        Some(&files[i])
    }

    /// The size of the file at `full` in a full update's new application:
    /// from its inventory once read (no module is reopened per file), else
    /// from its listing.
    pub(crate) fn new_file_size(&self, full: &EntryPath) -> Option<u64> {
        let Payload::Full(new_app) = &self.payload else {
            return None;
        };
        match self.new_file(full) {
            Some(file) => Some(file.size),
            None => new_app.file_size(full),
        }
    }
}

impl PartialZip {
    /// Runs `f` over a reader of one entry (inflating as it is read; the
    /// reader fails past the entry's declared size).
    pub(crate) fn with_entry<T>(
        &self,
        path: &EntryPath,
        source: &Path,
        f: impl FnOnce(&mut dyn Read) -> Result<T>,
    ) -> Result<T> {
        let location = || format!("{}!{path}", source.display());
        let Some(&(index, _)) = self.entries.get(path) else {
            return Err(Error::refused(location(), "no such entry"));
        };
        let mut zip = self
            .zip
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut entry = zip.by_index(index).map_err(|e| Error::zip(location(), e))?;
        f(&mut entry)
    }

    /// The declared inflated size of one entry.
    pub(crate) fn size(&self, path: &EntryPath) -> Option<u64> {
        self.entries.get(path).map(|&(_, size)| size)
    }
}

fn check_readable_file(path: &Path) -> Result<()> {
    check_regular(path, "an update")
}
