//! Reading the files of one scope, whether they lie in the outer source
//! (application scope, module directories) or in a nested module archive.
//! Read-only; it never decides which scope a path belongs to.

use std::io::Read;

use super::Application;
use crate::error::{Error, Result};
use crate::path::EntryPath;
use crate::source::{NestedZip, RawFile};

/// Reads the files of one scope.
pub(crate) enum ScopeReader<'a> {
    /// Files of the outer source (application scope, directory module, standalone).
    Outer {
        app: &'a Application,
        /// The files, and the symbolic links met in a module directory
        /// (full paths); shared with the application's listing cache.
        files: std::sync::Arc<(Vec<RawFile>, Vec<EntryPath>)>,
    },
    /// A nested module archive.
    Nested {
        zip: std::sync::Mutex<NestedZip>,
        entries: std::sync::Arc<crate::source::EntryIndex>,
        duplicates: Vec<String>,
        location: String,
    },
}

impl ScopeReader<'_> {
    /// Paths (relative to the scope) and sizes, sorted.
    pub fn files(&self) -> Vec<(EntryPath, u64)> {
        match self {
            ScopeReader::Outer { files, .. } => {
                files.0.iter().map(|f| (f.path.clone(), f.size)).collect()
            }
            ScopeReader::Nested { entries, .. } => {
                entries.iter().map(|(p, &(_, s))| (p.clone(), s)).collect()
            }
        }
    }

    /// Symbolic links met in a module directory (full paths).
    pub fn links(&self) -> &[EntryPath] {
        match self {
            ScopeReader::Outer { files, .. } => &files.1,
            ScopeReader::Nested { .. } => &[],
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
            out = Some(crate::source::read_all(r, rel.as_str())?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs `f` once over a reader of `rel`; `None` when absent.
    pub fn with_file<T>(
        &self,
        rel: &EntryPath,
        f: impl FnOnce(&mut dyn Read) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.with_reader(rel, &mut |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// SHA-256 and size of `rel`, streamed; `None` when absent.
    pub fn sha256(&self, rel: &EntryPath) -> Result<Option<[u8; 32]>> {
        self.with_file(rel, |r| super::inventory::sha256_of(r, rel.as_str()))
    }

    /// Runs `f` over a reader of `rel`; does nothing when absent.
    pub fn with_reader(
        &self,
        rel: &EntryPath,
        f: &mut dyn FnMut(&mut dyn Read) -> Result<()>,
    ) -> Result<()> {
        match self {
            ScopeReader::Outer { app, files, .. } => {
                let files = &files.0;
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

/// Reads files of an application by full path, opening each scope once (a
/// nested module is not reopened, nor a scope listed again, per file).
pub(crate) struct Files<'a> {
    app: &'a Application,
    scopes:
        std::cell::RefCell<std::collections::BTreeMap<super::Scope, std::rc::Rc<ScopeReader<'a>>>>,
}

impl<'a> Files<'a> {
    /// Reads the files of `app`.
    pub(crate) fn new(app: &'a Application) -> Self {
        Files {
            app,
            scopes: std::cell::RefCell::default(),
        }
    }

    /// The application read.
    pub(crate) fn app(&self) -> &'a Application {
        self.app
    }

    fn scope(&self, scope: &super::Scope) -> Result<std::rc::Rc<ScopeReader<'a>>> {
        if let Some(reader) = self.scopes.borrow().get(scope) {
            return Ok(reader.clone());
        }
        let reader = std::rc::Rc::new(self.app.open_scope(scope)?);
        self.scopes
            .borrow_mut()
            .insert(scope.clone(), reader.clone());
        Ok(reader)
    }

    /// Runs `f` over a reader of the file at `full` (a module URI: the
    /// module archive's bytes); `None` when there is no such file.
    pub(crate) fn with_file<T>(
        &self,
        full: &EntryPath,
        f: impl FnOnce(&mut dyn Read) -> Result<T>,
    ) -> Result<Option<T>> {
        match self.app.locate(full) {
            None => self.app.with_file_reader(full, f),
            Some((scope, rel)) => self.scope(&scope)?.with_file(&rel, f),
        }
    }

    /// The size of the file at `full`, from the listing.
    pub(crate) fn size(&self, full: &EntryPath) -> Option<u64> {
        match self.app.locate(full) {
            None => self.app.file_size(full),
            Some((scope, rel)) => {
                let reader = self.scope(&scope).ok()?;
                match &*reader {
                    ScopeReader::Outer { files, .. } => files
                        .0
                        .binary_search_by(|f| f.path.cmp(&rel))
                        .ok()
                        .map(|i| files.0[i].size),
                    ScopeReader::Nested { entries, .. } => entries.get(&rel).map(|&(_, s)| s),
                }
            }
        }
    }
}
