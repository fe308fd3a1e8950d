//! Reading the files of one scope, whether they lie in the outer source
//! (application scope, module directories) or in a nested module archive.
//! Read-only; it never decides which scope a path belongs to.

use std::io::Read;

use super::Application;
use crate::error::{Error, Result};
use crate::path::EntryPath;
use crate::source::{DynZip, RawFile};

/// Reads the files of one scope.
pub(crate) enum ScopeReader<'a> {
    /// Files of the outer source (application scope, directory module, standalone).
    Outer {
        app: &'a Application,
        files: Vec<RawFile>,
        /// Symbolic links met in a module directory (full paths).
        links: Vec<EntryPath>,
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

    /// Symbolic links met in a module directory (full paths).
    pub fn links(&self) -> &[EntryPath] {
        match self {
            ScopeReader::Outer { links, .. } => links,
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
            ScopeReader::Outer { app, files, .. } => {
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
