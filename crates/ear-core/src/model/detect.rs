//! Which archives and folders of an application are modules (spec §1,
//! §9.6): from `META-INF/application.xml` when there is one, else by
//! convention, or the whole archive when it is a standalone module.
//!
//! [`by_convention`] is the one convention test: opening an application
//! uses it for what is deployed, planning uses it for what an update ships.
//! Detection reads names, descriptors and manifests only; it never hashes
//! file contents and never writes.

use std::collections::BTreeSet;

use super::kind::{JarNature, is_module_extension, kind_from_extension};
use super::{
    Application, DESCRIPTOR_PATH, Descriptor, LibraryDirectory, Module, ModuleData, ModuleKind,
    Storage, Warning, WarningCode,
};
use crate::error::{Error, Result};
use crate::path::EntryPath;
use crate::source::RawFile;

/// What the conventions (spec §1) make of an archive or folder at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Convention {
    /// Not named like a module archive (`.war`, `.jar`, `.rar`, `.sar`).
    NotModuleName,
    /// In the library directory, which holds libraries, never modules.
    InLibrary,
    /// A module of this kind.
    Module(ModuleKind),
    /// A jar that is a plain library.
    PlainJar,
    /// A jar that cannot be read as a zip.
    Unreadable,
}

/// Whether `path` is named like a module archive and lies outside the
/// library directory: a candidate module.
pub(crate) fn is_candidate(path: &EntryPath, lib: &LibraryDirectory) -> bool {
    path.extension().is_some_and(|e| is_module_extension(&e))
        && !lib.contains(path)
        && !lib.holds(path)
}

/// The one convention test: the extension decides `.war`, `.rar` and `.sar`;
/// a `.jar` is probed (`probe` is called only then; `None`: not a zip).
pub(crate) fn by_convention(
    path: &EntryPath,
    lib: &LibraryDirectory,
    probe: impl FnOnce() -> Result<Option<JarNature>>,
) -> Result<Convention> {
    let Some(ext) = path.extension().filter(|e| is_module_extension(e)) else {
        return Ok(Convention::NotModuleName);
    };
    if !is_candidate(path, lib) {
        return Ok(Convention::InLibrary);
    }
    if let Some(kind) = kind_from_extension(&ext) {
        return Ok(Convention::Module(kind));
    }
    Ok(match probe()? {
        Some(nature) => nature
            .module_kind()
            .map_or(Convention::PlainJar, Convention::Module),
        None => Convention::Unreadable,
    })
}

/// The warning for a symbolic link inside an expanded application.
pub(crate) fn link_warning(link: &EntryPath) -> Warning {
    Warning::new(
        WarningCode::SymbolicLink,
        format!(
            "{link} is a symbolic link; links are not part of the application: earpatch does not read \
             through them, and refuses an update that would write through one"
        ),
    )
}

/// Refuses a module set in which one module lies inside another (spec §1).
pub(crate) fn check_not_nested<'a>(uris: impl IntoIterator<Item = &'a EntryPath>) -> Result<()> {
    let uris: Vec<&EntryPath> = uris.into_iter().collect();
    for outer in &uris {
        if let Some(inner) = uris.iter().find(|inner| inner.is_inside(outer)) {
            return Err(Error::NestedModule {
                outer: outer.to_string(),
                inner: inner.to_string(),
            });
        }
    }
    Ok(())
}

impl Application {
    pub(super) fn standalone_kind(&self) -> Result<Option<ModuleKind>> {
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
            Some("jar") => Some(
                self.probe_jar(&Prefix::Root)?
                    .module_kind()
                    .ok_or_else(|| Error::NotAnApplication {
                        path: self.path.clone(),
                        reason: "it is a plain Java library (no META-INF/ejb-jar.xml, no \
                         META-INF/application-client.xml, no Main-Class in its manifest); \
                         give the EAR that contains it"
                            .into(),
                    })?,
            ),
            _ => None,
        })
    }

    pub(super) fn open_standalone(&mut self, kind: ModuleKind) -> Result<()> {
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

    /// Warns about the symbolic links met while listing.
    pub(super) fn push_link_warnings(&mut self, links: &[EntryPath]) {
        for link in links {
            self.warnings.push(link_warning(link));
        }
    }

    fn push_duplicate_warnings(&mut self, duplicates: &[String]) {
        for name in duplicates {
            self.warnings.push(Warning::new(
                WarningCode::DuplicateEntry,
                format!("{name} has duplicate entry names; for each name the last entry is used, as the zip reader sees it"),
            ));
        }
    }

    pub(super) fn detect_modules(&mut self) -> Result<()> {
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
            if raw.size > self.limits.max_text {
                return Err(Error::NotAnApplication {
                    path: self.path.clone(),
                    reason: format!(
                        "{DESCRIPTOR_PATH} is {} bytes, over the limit of {} (--max-text)",
                        raw.size, self.limits.max_text
                    ),
                });
            }
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
        check_not_nested(&declared)?;
        let listing = self.source.list(&|dir| declared.contains(dir))?;
        let dirs: BTreeSet<EntryPath> = listing.dirs.iter().cloned().collect();
        self.push_duplicate_warnings(&listing.duplicates);
        self.push_link_warnings(&listing.links);
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
        let listing = self.source.list(&|p| is_candidate(p, &lib))?;
        self.push_duplicate_warnings(&listing.duplicates);
        self.push_link_warnings(&listing.links);
        let mut app_files = Vec::with_capacity(listing.files.len());
        for raw in listing.files {
            // A jar that is not a zip is a plain file; the inventory reports it.
            let found = by_convention(&raw.path, &lib, || {
                Ok(self.probe_jar(&Prefix::Nested(&raw)).ok())
            })?;
            match found {
                Convention::Module(kind) => {
                    self.add_conventional(raw.path.clone(), kind, ModuleData::Nested(raw));
                }
                _ => app_files.push(raw),
            }
        }
        for dir in listing.dirs {
            match by_convention(&dir, &lib, || Ok(Some(self.probe_jar(&Prefix::Dir(&dir))?)))? {
                Convention::Module(kind) => {
                    self.add_conventional(dir.clone(), kind, ModuleData::Dir(dir));
                }
                _ => {
                    for raw in self.source.list_dir(&dir)? {
                        app_files.push(raw.under(&dir));
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
    fn probe_jar(&self, at: &Prefix<'_>) -> Result<JarNature> {
        let under = match at {
            Prefix::Nested(raw) => {
                let mut zip = self.source.open_nested(raw)?;
                return Ok(JarNature::of_zip(&mut zip));
            }
            Prefix::Root => None,
            Prefix::Dir(dir) => Some(*dir),
        };
        let find = |n: &str| {
            let p = EntryPath::new(n).ok()?;
            let p = under.map_or_else(|| p.clone(), |d| d.join(&p));
            self.source.find(&p).ok().flatten()
        };
        Ok(JarNature::probe(
            |n| find(n).is_some(),
            || {
                find("META-INF/MANIFEST.MF")
                    .filter(|raw| raw.size <= self.limits.max_text)
                    .and_then(|raw| self.source.read(&raw).ok())
            },
        ))
    }
}

/// Where a jar being probed is.
enum Prefix<'a> {
    Nested(&'a RawFile),
    Dir(&'a EntryPath),
    Root,
}

pub(super) fn storage_of(data: &ModuleData) -> Storage {
    match data {
        ModuleData::Nested(_) | ModuleData::Root => Storage::Archive,
        ModuleData::Dir(_) => Storage::Directory,
        ModuleData::Missing => Storage::Missing,
    }
}
