//! The application model (spec §1): scopes, modules, module detection.

pub mod descriptor;
pub(crate) mod inventory;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use descriptor::{DESCRIPTOR_PATH, DeclaredModule, Descriptor, LibraryDirectory};
pub use inventory::{Digest, FileInfo, Inventory, ScopeInventory};

use crate::error::{Error, Result};
use crate::path::EntryPath;
use crate::source::{DynZip, RawFile, Source};

/// The two forms of a deployed application (spec §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// The kind of a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ModuleKind {
    /// A web module (`.war`), with a context root.
    Web,
    /// An EJB module (`.jar`).
    Ejb,
    /// A resource adapter (`.rar`).
    Connector,
    /// An application client (`.jar`).
    Client,
    /// A SIP module (`.sar`).
    Sip,
}

impl fmt::Display for ModuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModuleKind::Web => "web",
            ModuleKind::Ejb => "ejb",
            ModuleKind::Connector => "connector",
            ModuleKind::Client => "client",
            ModuleKind::Sip => "sip",
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

/// What a warning is about; stable codes for machine readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
}

/// A problem worth telling, that does not stop the operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

/// Extensions of archives that can be modules.
pub(crate) const MODULE_EXTENSIONS: [&str; 4] = ["war", "rar", "sar", "jar"];

/// The module kind an extension alone decides (`.jar` needs its content).
pub(crate) fn kind_from_extension(ext: &str) -> Option<ModuleKind> {
    match ext {
        "war" => Some(ModuleKind::Web),
        "rar" => Some(ModuleKind::Connector),
        "sar" => Some(ModuleKind::Sip),
        _ => None,
    }
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
    path: PathBuf,
    source: Source,
    descriptor: Option<Descriptor>,
    library_directory: LibraryDirectory,
    modules: Vec<Module>,
    module_data: BTreeMap<EntryPath, ModuleData>,
    app_files: Vec<RawFile>,
    warnings: Vec<Warning>,
}

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
        let path = path.as_ref();
        let source = Source::open(path)?;
        let mut app = Application {
            path: path.to_path_buf(),
            source,
            descriptor: None,
            library_directory: LibraryDirectory::default_lib(),
            modules: Vec::new(),
            module_data: BTreeMap::new(),
            app_files: Vec::new(),
            warnings: Vec::new(),
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
                files: self.app_files.clone(),
            }),
            Scope::Module(uri) => match self.module_data.get(uri) {
                None | Some(ModuleData::Missing) => Ok(ScopeReader::Outer {
                    app: self,
                    files: Vec::new(),
                }),
                Some(ModuleData::Dir(dir)) => Ok(ScopeReader::Outer {
                    app: self,
                    files: self.source.list_dir(dir)?,
                }),
                Some(ModuleData::Root) => Ok(ScopeReader::Outer {
                    app: self,
                    files: self.source.list(&|_| false)?.files,
                }),
                Some(ModuleData::Nested(raw)) => {
                    let zip = self.source.open_nested(raw)?;
                    let location = self.source.location_of(&raw.path);
                    let (entries, duplicates) = crate::source::index_entries(&zip, &location)?;
                    Ok(ScopeReader::Nested {
                        zip: std::sync::Mutex::new(zip),
                        entries,
                        duplicates,
                        location,
                    })
                }
            },
        }
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

    /// The nested archive of a module stored as an archive file, opened.
    pub(crate) fn module_archive(&self, uri: &EntryPath) -> Result<Option<(DynZip, String)>> {
        match self.module_data.get(uri) {
            Some(ModuleData::Nested(raw)) => Ok(Some((
                self.source.open_nested(raw)?,
                self.source.location_of(&raw.path),
            ))),
            _ => Ok(None),
        }
    }

    fn standalone_kind(&self) -> Result<Option<ModuleKind>> {
        if !self.source.is_archive() {
            return Ok(None);
        }
        let ext = self
            .path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if let Some(kind) = ext.as_deref().and_then(kind_from_extension) {
            return Ok(Some(kind));
        }
        Ok(match ext.as_deref() {
            Some("jar") => Some(self.probe_jar(&Prefix::Root)?.ok_or_else(|| {
                Error::NotAnApplication {
                    path: self.path.clone(),
                    reason: "it is a plain Java library (no META-INF/ejb-jar.xml, no \
                         META-INF/application-client.xml, no Main-Class in its manifest); \
                         give the EAR that contains it"
                        .into(),
                }
            })?),
            _ => None,
        })
    }

    fn open_standalone(&mut self, kind: ModuleKind) -> Result<()> {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let uri = EntryPath::new(&name).map_err(|problem| Error::UnsafePath {
            container: self.path.display().to_string(),
            entry: name.clone(),
            problem,
        })?;
        self.warnings.push(Warning::new(
            WarningCode::StandaloneModule,
            format!("{name} is a standalone {kind} module, not an EAR; it is shown as an application holding that one module"),
        ));
        self.modules.push(Module {
            context_root: (kind == ModuleKind::Web).then(|| format!("/{}", uri.file_stem())),
            uri: uri.clone(),
            kind,
            alt_dd: None,
            storage: Storage::Archive,
            declared: false,
        });
        self.module_data.insert(uri, ModuleData::Root);
        self.library_directory = LibraryDirectory::None;
        let duplicates = self.source.list(&|_| false)?.duplicates;
        self.push_duplicate_warnings(&duplicates);
        Ok(())
    }

    fn push_duplicate_warnings(&mut self, duplicates: &[String]) {
        for name in duplicates {
            self.warnings.push(Warning::new(
                WarningCode::DuplicateEntry,
                format!("{name} has duplicate entry names; for each name the last entry is used, as the zip reader sees it"),
            ));
        }
    }

    fn detect_modules(&mut self) -> Result<()> {
        let ext = self
            .path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if self.source.is_archive() && ext.as_deref() != Some("ear") {
            self.warnings.push(Warning::new(
                WarningCode::NotEarExtension,
                format!(
                    "{} does not end in .ear; it was read as an EAR",
                    self.path.display()
                ),
            ));
        }
        let descriptor_path = EntryPath::new(DESCRIPTOR_PATH).unwrap_or_else(|_| unreachable!());
        if let Some(raw) = self.source.find(&descriptor_path)? {
            let bytes = self.source.read(&raw)?;
            let descriptor = Descriptor::parse(&bytes, &self.source.location_of(&descriptor_path))?;
            self.library_directory = descriptor.library_directory.clone();
            self.descriptor = Some(descriptor);
        }
        match self.descriptor.clone() {
            Some(d) => self.modules_from_descriptor(&d)?,
            None => self.modules_by_convention()?,
        }
        if self.modules.is_empty() {
            self.warnings.push(Warning::new(
                WarningCode::NoModules,
                "the application has no modules",
            ));
        }
        Ok(())
    }

    fn modules_from_descriptor(&mut self, descriptor: &Descriptor) -> Result<()> {
        let declared: BTreeSet<EntryPath> =
            descriptor.modules.iter().map(|m| m.uri.clone()).collect();
        for outer in &declared {
            if let Some(inner) = declared.iter().find(|inner| inner.is_inside(outer)) {
                return Err(Error::NestedModule {
                    outer: outer.to_string(),
                    inner: inner.to_string(),
                });
            }
        }
        let listing = self.source.list(&|dir| declared.contains(dir))?;
        let dirs: BTreeSet<EntryPath> = listing.dirs.iter().cloned().collect();
        self.push_duplicate_warnings(&listing.duplicates);
        let mut files = listing.files;
        for declared_module in &descriptor.modules {
            let uri = &declared_module.uri;
            if self.module_data.contains_key(uri) {
                continue; // declared twice: the first declaration wins
            }
            let file_pos = files.iter().position(|f| &f.path == uri);
            let data = match (file_pos, dirs.contains(uri)) {
                (Some(_), true) => {
                    return Err(Error::NotAnApplication {
                        path: self.path.clone(),
                        reason: format!(
                            "module {uri} is both a file and a directory; remove one of them"
                        ),
                    });
                }
                (Some(i), false) => ModuleData::Nested(files.remove(i)),
                (None, true) => ModuleData::Dir(uri.clone()),
                (None, false) => {
                    self.warnings.push(Warning::new(
                        WarningCode::ModuleMissing,
                        format!(
                            "module {uri} is declared in {DESCRIPTOR_PATH} but is not in the application"
                        ),
                    ));
                    ModuleData::Missing
                }
            };
            let storage = storage_of(&data);
            self.module_data.insert(uri.clone(), data);
            self.modules.push(Module {
                uri: uri.clone(),
                kind: declared_module.kind,
                context_root: declared_module.context_root.clone(),
                alt_dd: declared_module.alt_dd.clone(),
                storage,
                declared: true,
            });
        }
        self.app_files = files;
        Ok(())
    }

    fn modules_by_convention(&mut self) -> Result<()> {
        let lib = self.library_directory.clone();
        let candidate = |p: &EntryPath| {
            p.extension()
                .is_some_and(|e| MODULE_EXTENSIONS.contains(&e.as_str()))
                && !lib.contains(p)
                && !lib.holds(p)
        };
        let listing = self.source.list(&candidate)?;
        self.push_duplicate_warnings(&listing.duplicates);
        let mut app_files = Vec::with_capacity(listing.files.len());
        for raw in listing.files {
            if !candidate(&raw.path) {
                app_files.push(raw);
                continue;
            }
            let kind = match raw
                .path
                .extension()
                .as_deref()
                .and_then(kind_from_extension)
            {
                Some(kind) => Some(kind),
                // A jar that is not a zip is a plain file; the inventory reports it.
                None => self.probe_jar(&Prefix::Nested(&raw)).unwrap_or_default(),
            };
            match kind {
                Some(kind) => {
                    self.add_conventional(raw.path.clone(), kind, ModuleData::Nested(raw))
                }
                None => app_files.push(raw),
            }
        }
        for dir in listing.dirs {
            let kind = match dir.extension().as_deref().and_then(kind_from_extension) {
                Some(kind) => Some(kind),
                None => self.probe_jar(&Prefix::Dir(&dir))?,
            };
            match kind {
                Some(kind) => self.add_conventional(dir.clone(), kind, ModuleData::Dir(dir)),
                None => {
                    for mut raw in self.source.list_dir(&dir)? {
                        raw.path = dir.join(&raw.path);
                        app_files.push(raw);
                    }
                }
            }
        }
        app_files.sort_by(|a, b| a.path.cmp(&b.path));
        self.app_files = app_files;
        Ok(())
    }

    fn add_conventional(&mut self, uri: EntryPath, kind: ModuleKind, data: ModuleData) {
        self.modules.push(Module {
            context_root: (kind == ModuleKind::Web).then(|| format!("/{}", uri.file_stem())),
            uri: uri.clone(),
            kind,
            alt_dd: None,
            storage: storage_of(&data),
            declared: false,
        });
        self.module_data.insert(uri, data);
    }

    /// Tells an EJB jar or a client jar from a utility jar (spec §1 conventions).
    fn probe_jar(&self, at: &Prefix<'_>) -> Result<Option<ModuleKind>> {
        let (has, manifest): (EntryTest<'_>, Option<Vec<u8>>) = match at {
            Prefix::Nested(raw) => {
                let zip = self.source.open_nested(raw)?;
                let names: BTreeSet<String> = zip
                    .file_names()
                    .filter_map(|n| n.ok().map(std::borrow::Cow::into_owned))
                    .collect();
                let manifest = read_zip_entry(zip, "META-INF/MANIFEST.MF");
                (Box::new(move |n: &str| names.contains(n)), manifest)
            }
            Prefix::Root => {
                let find = |n: &str| {
                    EntryPath::new(n)
                        .ok()
                        .and_then(|p| self.source.find(&p).ok().flatten())
                };
                let manifest =
                    find("META-INF/MANIFEST.MF").and_then(|raw| self.source.read(&raw).ok());
                (Box::new(move |n: &str| find(n).is_some()), manifest)
            }
            Prefix::Dir(dir) => {
                let find = |n: &str| {
                    EntryPath::new(n)
                        .ok()
                        .and_then(|p| self.source.find(&dir.join(&p)).ok().flatten())
                };
                let manifest =
                    find("META-INF/MANIFEST.MF").and_then(|raw| self.source.read(&raw).ok());
                (Box::new(move |n: &str| find(n).is_some()), manifest)
            }
        };
        if has("META-INF/ejb-jar.xml") {
            return Ok(Some(ModuleKind::Ejb));
        }
        if has("META-INF/application-client.xml")
            || manifest.is_some_and(|m| manifest_has_main_class(&m))
        {
            return Ok(Some(ModuleKind::Client));
        }
        Ok(None)
    }
}

/// Tells whether an entry name exists in the archive or directory being probed.
type EntryTest<'a> = Box<dyn Fn(&str) -> bool + 'a>;

enum Prefix<'a> {
    Nested(&'a RawFile),
    Dir(&'a EntryPath),
    Root,
}

fn storage_of(data: &ModuleData) -> Storage {
    match data {
        ModuleData::Nested(_) | ModuleData::Root => Storage::Archive,
        ModuleData::Dir(_) => Storage::Directory,
        ModuleData::Missing => Storage::Missing,
    }
}

fn read_zip_entry(mut zip: DynZip, name: &str) -> Option<Vec<u8>> {
    let mut entry = zip.by_name(name).ok()?;
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Whether a JAR manifest has a main section `Main-Class` attribute.
pub(crate) fn manifest_has_main_class(manifest: &[u8]) -> bool {
    String::from_utf8_lossy(manifest)
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .any(|l| {
            l.split_once(':').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("Main-Class") && !v.trim().is_empty()
            })
        })
}

/// Reads the files of one scope.
pub(crate) enum ScopeReader<'a> {
    /// Files of the outer source (application scope, directory module, standalone).
    Outer {
        app: &'a Application,
        files: Vec<RawFile>,
    },
    /// A nested module archive.
    Nested {
        zip: std::sync::Mutex<DynZip>,
        entries: crate::source::EntryIndex,
        duplicates: Vec<String>,
        location: String,
    },
}

impl ScopeReader<'_> {
    /// Paths (relative to the scope) and sizes, sorted.
    pub fn files(&self) -> Vec<(EntryPath, u64)> {
        match self {
            ScopeReader::Outer { files, .. } => {
                files.iter().map(|f| (f.path.clone(), f.size)).collect()
            }
            ScopeReader::Nested { entries, .. } => {
                entries.iter().map(|(p, &(_, s))| (p.clone(), s)).collect()
            }
        }
    }

    /// Entry names that occur twice in a nested module archive.
    pub fn duplicates(&self) -> &[String] {
        match self {
            ScopeReader::Outer { .. } => &[],
            ScopeReader::Nested { duplicates, .. } => duplicates,
        }
    }

    /// Reads one file; `None` when absent.
    pub fn read(&self, rel: &EntryPath) -> Result<Option<Vec<u8>>> {
        let mut out = None;
        self.with_reader(rel, &mut |r| {
            let mut bytes = Vec::new();
            r.read_to_end(&mut bytes)
                .map_err(|e| Error::io("cannot read", rel.as_str(), e))?;
            out = Some(bytes);
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs `f` over a reader of `rel`; does nothing when absent.
    pub fn with_reader(
        &self,
        rel: &EntryPath,
        f: &mut dyn FnMut(&mut dyn Read) -> Result<()>,
    ) -> Result<()> {
        match self {
            ScopeReader::Outer { app, files } => {
                if let Ok(i) = files.binary_search_by(|f| f.path.cmp(rel)) {
                    app.source.with_reader(&files[i], |r| f(r))?;
                }
                Ok(())
            }
            ScopeReader::Nested {
                zip,
                entries,
                location,
                ..
            } => {
                let Some(&(index, _)) = entries.get(rel) else {
                    return Ok(());
                };
                let mut zip = zip
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let mut entry = zip
                    .by_index(index)
                    .map_err(|e| Error::zip(format!("{location}!{rel}"), e))?;
                f(&mut entry)
            }
        }
    }
}
