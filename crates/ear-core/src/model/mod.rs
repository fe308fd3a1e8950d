//! The application model (spec §1): an application in either form, its
//! scopes and modules, and what opening it warns about.
//!
//! It owns [`Application`] (open, look up, read), [`Scope`], [`Module`] and
//! the warnings; [`kind`] decides module kinds, `detect` which archives are
//! modules, [`descriptor`] reads `application.xml`, `inventory` hashes the
//! content. The model reads; it never writes and knows nothing of updates.

pub mod descriptor;
pub(crate) mod detect;
pub(crate) mod index;
pub(crate) mod inventory;
pub mod kind;
mod opened;
pub(crate) mod scan;
pub(crate) mod scope;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

pub use descriptor::{DESCRIPTOR_PATH, DeclaredModule, Descriptor, LibraryDirectory};
pub use inventory::{Digest, FileInfo, Inventory, ScopeInventory};
pub use kind::{MODULE_EXTENSIONS, ModuleKind, is_module_extension};
pub(crate) use opened::OpenedModule;
use opened::OpenedModules;
pub use scan::ScanStats;
pub(crate) use scope::{Files, ScopeReader};

use crate::error::Result;
use crate::limits::Limits;
use crate::path::EntryPath;
use crate::source::{NestedZip, RawFile, Source};

/// The two forms of a deployed application (spec §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Form {
    /// One zip file.
    Archive,
    /// A directory (the EAR unpacked).
    Expanded,
}

impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Form::Archive => "archive",
            Form::Expanded => "expanded",
        })
    }
}

/// How a module is stored in the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Storage {
    /// A nested archive file at the module URI.
    Archive,
    /// A directory named by the module URI.
    Directory,
    /// Declared by the descriptor but absent.
    Missing,
}

/// One module of the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Module {
    /// The URI: the module's path from the EAR root.
    pub uri: EntryPath,
    /// The kind.
    pub kind: ModuleKind,
    /// The context root of a web module.
    pub context_root: Option<String>,
    /// `<alt-dd>` from the descriptor.
    pub alt_dd: Option<String>,
    /// How the module is stored.
    pub storage: Storage,
    /// Whether the descriptor declares it (false: found by convention).
    pub declared: bool,
}

/// A scope: the application itself, or one module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Every file of the EAR that is not inside a module.
    Application,
    /// The files of the module with this URI.
    Module(EntryPath),
}

impl Scope {
    /// `""` for the application scope, the URI for a module (spec §8).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Scope::Application => "",
            Scope::Module(uri) => uri.as_str(),
        }
    }

    /// The full path of `rel`, a path inside this scope.
    #[must_use]
    pub fn full_path(&self, rel: &EntryPath) -> EntryPath {
        match self {
            Scope::Application => rel.clone(),
            Scope::Module(uri) => uri.join(rel),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Application => f.write_str("application scope"),
            Scope::Module(uri) => write!(f, "module {uri}"),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The inverse of [`Scope`]'s `Serialize`: `""` is the application scope,
/// anything else a module URI (checked as an [`EntryPath`]).
impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Ok(Scope::Application);
        }
        EntryPath::new(&s)
            .map(Scope::Module)
            .map_err(|e| serde::de::Error::custom(format!("scope {s:?}: {e}")))
    }
}

/// What a warning is about; stable codes for machine readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WarningCode {
    /// A module declared in the descriptor is not in the application.
    ModuleMissing,
    /// A nested `.jar/.war/.rar/.sar/.ear` is not a valid zip archive.
    NestedArchiveNotZip,
    /// A nested archive is a 0-byte file.
    EmptyArchive,
    /// The same entry name occurs more than once in a zip.
    DuplicateEntry,
    /// The application has no modules at all.
    NoModules,
    /// The file name does not end in `.ear` but was read as an EAR.
    NotEarExtension,
    /// The application was given as a standalone module archive.
    StandaloneModule,
    /// A declared module archive cannot be read, so its content is unknown.
    ModuleUnreadable,
    /// A symbolic link in an expanded application: not part of it, never followed.
    SymbolicLink,
    /// A delete-list pattern matches no file of its scope.
    DeletePatternMatchesNothing,
    /// A delete-list pattern matches only files that the same update writes.
    DeletePatternDeletesNothing,
    /// A delete-list pattern would delete other files under substring (`find()`) semantics.
    DeletePatternSubstringDiffers,
    /// A jar added to the library directory is seen only after the next application restart.
    LibraryJarNeedsRestart,
    /// An archive added by a partial update looks like a module the descriptor does not declare.
    UndeclaredModuleArchive,
    /// An update path lies in a folder named like a module (`x.war/…`) that
    /// is no module of the application.
    NotAModule,
    /// A module update adds a jar that the conventions call a plain library.
    PlainJarAsModule,
}

/// A problem worth telling, that does not stop the operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Warning {
    /// Stable code.
    pub code: WarningCode,
    /// What happened, naming the file or module.
    pub message: String,
}

impl Warning {
    pub(crate) fn new(code: WarningCode, message: impl Into<String>) -> Self {
        Warning {
            code,
            message: message.into(),
        }
    }
}

/// Where a module's bytes are.
#[derive(Debug, Clone)]
enum ModuleData {
    /// A nested archive file.
    Nested(RawFile),
    /// A directory (prefix) of the source.
    Dir(EntryPath),
    /// The source itself: a standalone module archive.
    Root,
    /// Absent.
    Missing,
}

/// A deployed enterprise application, opened for reading.
///
/// Opening reads the directory (or central directory), the descriptor and,
/// without a descriptor, just enough of each candidate `.jar` to tell an EJB
/// or client module from a utility jar. Module contents are read only when
/// asked for ([`Application::scope_files`], [`Application::inventory`]).
///
/// ```
/// # fn main() -> ear_core::Result<()> {
/// # let dir = tempfile::tempdir().map_err(|e| ear_core::Error::Io { action: "tmp", path: ".".into(), source: e })?;
/// # let ear = dir.path().join("shop.ear");
/// # std::fs::write(&ear, ear_fixtures::sample::shop_ear()).map_err(|e| ear_core::Error::Io { action: "w", path: ear.clone(), source: e })?;
/// use ear_core::{Application, ModuleKind};
/// let app = Application::open(&ear)?;
/// let roots: Vec<_> = app
///     .modules()
///     .iter()
///     .filter(|m| m.kind == ModuleKind::Web)
///     .filter_map(|m| m.context_root.as_deref())
///     .collect();
/// assert_eq!(roots, ["/catalog", "/shop"]);
/// println!("{}", app.digest()?);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Application {
    limits: Limits,
    path: PathBuf,
    source: Source,
    descriptor: Option<Descriptor>,
    library_directory: LibraryDirectory,
    modules: Vec<Module>,
    module_data: BTreeMap<EntryPath, ModuleData>,
    app_files: Vec<RawFile>,
    warnings: Vec<Warning>,
    /// What was read of it, kept for the operation's other readers (boxed:
    /// an application is moved by value, so it stays small).
    kept: Box<Kept>,
}

/// What an operation read of an application, for its other readers.
#[derive(Debug, Default)]
struct Kept {
    /// Nested module archives opened (inflated) once.
    opened: OpenedModules,
    /// Listings of module directories, each walked once per opening (the
    /// scan, the plan and the writer all read them).
    listings: std::sync::Mutex<BTreeMap<EntryPath, Listed>>,
}

/// A module directory's files and the links met there.
type Listed = std::sync::Arc<(Vec<RawFile>, Vec<EntryPath>)>;

impl Application {
    /// Opens an application: an `.ear` file, an expanded directory, or a
    /// standalone module archive (`.war`, `.rar`, `.sar`, or a `.jar` holding an
    /// EJB or client module), which is shown as an application of that one
    /// module, as application servers wrap it on installation.
    ///
    /// # Errors
    /// The path cannot be read, is not a zip archive or directory, has an
    /// unsafe entry name, a malformed descriptor or nested modules.
    pub fn open(path: impl AsRef<Path>) -> Result<Application> {
        Application::open_with(path, &Limits::default())
    }

    /// [`Application::open`] with other [`Limits`] than the defaults.
    ///
    /// # Errors
    /// As [`Application::open`], and an archive over a limit.
    pub fn open_with(path: impl AsRef<Path>, limits: &Limits) -> Result<Application> {
        let path = path.as_ref();
        let source = Source::open(path, limits)?;
        let mut app = Application {
            limits: *limits,
            path: path.to_path_buf(),
            source,
            descriptor: None,
            library_directory: LibraryDirectory::default_lib(),
            modules: Vec::new(),
            module_data: BTreeMap::new(),
            app_files: Vec::new(),
            warnings: Vec::new(),
            kept: Box::default(),
        };
        let standalone_kind = app.standalone_kind()?;
        if let Some(kind) = standalone_kind {
            app.open_standalone(kind)?;
        } else {
            app.detect_modules()?;
        }
        app.modules.sort_by(|a, b| a.uri.cmp(&b.uri));
        Ok(app)
    }

    /// The limits it was opened with (they apply to its nested modules too).
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The path the application was opened from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Archive or expanded.
    #[must_use]
    pub fn form(&self) -> Form {
        if self.source.is_archive() {
            Form::Archive
        } else {
            Form::Expanded
        }
    }

    /// The parsed `META-INF/application.xml`, if the application has one.
    #[must_use]
    pub fn descriptor(&self) -> Option<&Descriptor> {
        self.descriptor.as_ref()
    }

    /// The library directory in force.
    #[must_use]
    pub fn library_directory(&self) -> &LibraryDirectory {
        &self.library_directory
    }

    /// The modules, sorted by URI.
    #[must_use]
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// The module with this URI.
    #[must_use]
    pub fn module(&self, uri: &EntryPath) -> Option<&Module> {
        self.modules.iter().find(|m| &m.uri == uri)
    }

    /// Whether the application was opened from a standalone module archive.
    #[must_use]
    pub fn is_standalone_module(&self) -> bool {
        self.module_data
            .values()
            .any(|d| matches!(d, ModuleData::Root))
    }

    /// Warnings found while opening (more are found by [`Application::inventory`]).
    #[must_use]
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The scope that holds the file at `full` and its path inside that scope.
    /// A path equal to a module URI is the module archive itself and belongs to
    /// no scope: `None`.
    #[must_use]
    pub fn locate(&self, full: &EntryPath) -> Option<(Scope, EntryPath)> {
        for module in &self.modules {
            if &module.uri == full {
                return None;
            }
            if let Some(rel) = full.strip_dir(&module.uri) {
                return Some((Scope::Module(module.uri.clone()), rel));
            }
        }
        Some((Scope::Application, full.clone()))
    }

    /// The application-scope files with their sizes, sorted by path, without reading them.
    pub fn application_files(&self) -> impl Iterator<Item = (&EntryPath, u64)> {
        self.app_files.iter().map(|f| (&f.path, f.size))
    }

    /// Opens one scope for reading.
    pub(crate) fn open_scope(&self, scope: &Scope) -> Result<ScopeReader<'_>> {
        match scope {
            Scope::Application => Ok(ScopeReader::Outer {
                app: self,
                files: std::sync::Arc::new((self.app_files.clone(), Vec::new())),
            }),
            Scope::Module(uri) => match self.module_data.get(uri) {
                None | Some(ModuleData::Missing) => Ok(ScopeReader::Outer {
                    app: self,
                    files: std::sync::Arc::default(),
                }),
                Some(ModuleData::Dir(dir)) => Ok(ScopeReader::Outer {
                    app: self,
                    files: self.listing(dir)?,
                }),
                Some(ModuleData::Root) => Ok(ScopeReader::Outer {
                    app: self,
                    files: std::sync::Arc::new((self.source.list(&|_| false)?.files, Vec::new())),
                }),
                Some(ModuleData::Nested(raw)) => {
                    let module = self.open_module(uri, raw)?;
                    Ok(ScopeReader::Nested {
                        zip: Mutex::new(module.zip.clone()),
                        entries: Arc::clone(&module.entries),
                        duplicates: module.duplicates.clone(),
                        location: module.location.clone(),
                    })
                }
            },
        }
    }

    /// The files under module directory `dir` and the links met there,
    /// walked on first use.
    fn listing(&self, dir: &EntryPath) -> Result<Listed> {
        let cached = self
            .kept
            .listings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(dir)
            .cloned();
        if let Some(listed) = cached {
            return Ok(listed);
        }
        let listed: Listed = std::sync::Arc::new(self.source.list_dir_with_links(dir)?);
        self.kept
            .listings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(dir.clone(), listed.clone());
        Ok(listed)
    }

    /// The files of one scope with their sizes (paths relative to the scope),
    /// sorted. For a module this reads the module's directory, not its files.
    ///
    /// # Errors
    /// The module archive cannot be read.
    pub fn scope_files(&self, scope: &Scope) -> Result<Vec<(EntryPath, u64)>> {
        Ok(self.open_scope(scope)?.files())
    }

    /// Reads one file by its full path; `None` when there is no such file.
    ///
    /// # Errors
    /// The file or its module archive cannot be read.
    pub fn read(&self, full: &EntryPath) -> Result<Option<Vec<u8>>> {
        match self.locate(full) {
            None => match self.module_data.get(full) {
                Some(ModuleData::Nested(raw)) => self.source.read(raw).map(Some),
                _ => Ok(None),
            },
            Some((scope, rel)) => self.open_scope(&scope)?.read(&rel),
        }
    }

    /// The first component of `path` that is a symbolic link in an expanded
    /// application (a path from the root), if any: nothing under it is part
    /// of the application, and nothing is written through it.
    #[must_use]
    pub fn linked_component(&self, path: &EntryPath) -> Option<String> {
        self.source.link_in(path)
    }

    /// Runs `f` over a reader of the file at `full` (a module URI: the module
    /// archive's raw bytes); `None` when there is no such file.
    ///
    /// # Errors
    /// The file or its module archive cannot be read, or `f` fails.
    pub fn with_file_reader<T>(
        &self,
        full: &EntryPath,
        f: impl FnOnce(&mut dyn std::io::Read) -> Result<T>,
    ) -> Result<Option<T>> {
        match self.locate(full) {
            None => match self.module_data.get(full) {
                Some(ModuleData::Nested(raw)) => self.source.with_reader(raw, f).map(Some),
                _ => Ok(None),
            },
            Some((scope, rel)) => self.open_scope(&scope)?.with_file(&rel, f),
        }
    }

    /// The size of the file at `full`, from the listing (nothing is read
    /// but a nested module's directory).
    #[must_use]
    pub fn file_size(&self, full: &EntryPath) -> Option<u64> {
        match self.locate(full) {
            None => match self.module_data.get(full) {
                Some(ModuleData::Nested(raw)) => Some(raw.size),
                _ => None,
            },
            Some((scope, rel)) => {
                let files = self.open_scope(&scope).ok()?.files();
                files
                    .binary_search_by(|(p, _)| p.cmp(&rel))
                    .ok()
                    .map(|i| files[i].1)
            }
        }
    }

    /// Whether `path` (a `/`-separated path from the root) is itself a
    /// symbolic link in an expanded application.
    pub(crate) fn is_link(&self, path: &str) -> bool {
        self.source.is_link(path)
    }

    /// The zip of the archive form, read from the file opened by
    /// [`Application::open`] (what was planned is what is copied, even if
    /// the path is replaced meanwhile).
    pub(crate) fn archive_zip(&self) -> Option<NestedZip> {
        self.source.archive_zip()
    }

    /// The nested archive of a module stored as an archive file, opened;
    /// the same opening as the plan's when it is still kept.
    pub(crate) fn module_archive(&self, uri: &EntryPath) -> Result<Option<Arc<OpenedModule>>> {
        match self.module_data.get(uri) {
            Some(ModuleData::Nested(raw)) => self.open_module(uri, raw).map(Some),
            _ => Ok(None),
        }
    }

    /// Opens the nested archives of the modules `uris` that are not opened
    /// yet, two at a time (both cores), and keeps them for the readers that
    /// follow (the plan, the undo bundle, the writer). At most as many as
    /// are kept; a module that fails to open is left for its reader to
    /// report.
    pub(crate) fn open_modules(&self, uris: &[EntryPath]) {
        let todo: Vec<(&EntryPath, &RawFile)> = uris
            .iter()
            .filter_map(|uri| match self.module_data.get(uri) {
                Some(ModuleData::Nested(raw)) => Some((uri, raw)),
                _ => None,
            })
            .take(OpenedModules::KEEP)
            .collect();
        if todo.len() < 2 {
            return; // nothing to overlap: opened when read
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let work = || {
            while let Some((uri, raw)) =
                todo.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
            {
                let _ = self.open_module(uri, raw);
            }
        };
        std::thread::scope(|s| {
            let threads = [s.spawn(work), s.spawn(work)];
            for thread in threads {
                let _ = thread.join(); // a failure shows when the module is read
            }
        });
    }

    /// Opens the nested archive of module `uri`, or finds it opened.
    fn open_module(&self, uri: &EntryPath, raw: &RawFile) -> Result<Arc<OpenedModule>> {
        if let Some(module) = self.kept.opened.get(uri) {
            return Ok(module);
        }
        // Held in memory while the budget allows, else in a temporary file.
        let zip = self
            .source
            .open_nested_within(raw, self.kept.opened.memory_left())?;
        let location = self.source.location_of(&raw.path);
        let (entries, duplicates) = crate::source::index_entries(&zip, &location, &self.limits)?;
        let module = Arc::new(OpenedModule {
            bytes: zip.clone().into_inner(),
            zip,
            entries: Arc::new(entries),
            duplicates,
            location,
        });
        self.kept.opened.keep(uri, &module);
        Ok(module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Bytes;
    use ear_fixtures::{Method, ZipBuilder, zip_of};

    fn ear() -> Vec<u8> {
        let war = zip_of(&[
            ("WEB-INF/web.xml", b"<web-app/>"),
            ("index.jsp", b"<p>hi</p>"),
        ]);
        ZipBuilder::new()
            .file("deflated.war", &war)
            .file_with("stored.war", &war, Method::Store)
            .finish()
    }

    #[test]
    fn a_module_is_opened_once_and_shared() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| crate::Error::io("tmp", ".", e))?;
        let path = dir.path().join("app.ear");
        std::fs::write(&path, ear()).map_err(|e| crate::Error::io("write", &path, e))?;
        let app = Application::open(&path)?;
        for uri in ["deflated.war", "stored.war"] {
            let uri = EntryPath::new(uri).map_err(|_| crate::Error::refused(uri, "path"))?;
            let ScopeReader::Nested { entries, .. } =
                app.open_scope(&Scope::Module(uri.clone()))?
            else {
                panic!("{uri} is a nested archive");
            };
            let module = app
                .module_archive(&uri)?
                .ok_or_else(|| crate::Error::refused(uri.as_str(), "no module"))?;
            assert!(
                Arc::ptr_eq(&entries, &module.entries),
                "{uri}: the scope's opening is the writer's"
            );
            let again = app
                .module_archive(&uri)?
                .ok_or_else(|| crate::Error::refused(uri.as_str(), "no module"))?;
            assert!(Arc::ptr_eq(&module, &again), "{uri}");
        }
        let stored = EntryPath::new("stored.war")
            .map_err(|_| crate::Error::refused("stored.war", "path"))?;
        let module = app
            .module_archive(&stored)?
            .ok_or_else(|| crate::Error::refused("stored.war", "no module"))?;
        assert_eq!(
            (module.bytes.resident(), module.bytes.spilled()),
            (0, 0),
            "a STORED module is read in place, not copied"
        );
        let deflated = EntryPath::new("deflated.war")
            .map_err(|_| crate::Error::refused("deflated.war", "path"))?;
        let module = app
            .module_archive(&deflated)?
            .ok_or_else(|| crate::Error::refused("deflated.war", "no module"))?;
        assert!(
            module.bytes.resident() > 0,
            "a deflated module is inflated into memory"
        );
        Ok(())
    }

    #[test]
    fn the_opened_modules_are_bounded() -> Result<()> {
        let kept = OpenedModules::default();
        let module = |n: usize| -> Result<Arc<OpenedModule>> {
            let zip = zip_of(&[("a", b"a")]);
            Ok(Arc::new(OpenedModule {
                zip: zip::ZipArchive::new(Bytes::memory(zip))
                    .map_err(|e| crate::Error::zip("a", e))?,
                bytes: Bytes::memory(vec![0u8; n]),
                entries: Arc::default(),
                duplicates: Vec::new(),
                location: String::new(),
            }))
        };
        let uri = |i: usize| {
            let name = format!("m{i}.war");
            EntryPath::new(&name).map_err(|_| crate::Error::refused(name, "path"))
        };
        for i in 0..40 {
            kept.keep(&uri(i)?, &module(1024)?);
        }
        assert!(kept.get(&uri(0)?).is_none(), "the oldest are let go");
        assert!(kept.get(&uri(39)?).is_some());
        // Memory: two modules of 6 MiB do not stay together.
        kept.keep(&uri(100)?, &module(6 << 20)?);
        kept.keep(&uri(101)?, &module(6 << 20)?);
        assert!(kept.get(&uri(100)?).is_none());
        assert!(kept.get(&uri(101)?).is_some());
        Ok(())
    }
}
