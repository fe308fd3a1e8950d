//! The nested module archives an operation opened, kept so that the plan,
//! the undo bundle and the writer read one copy: [`OpenedModule`] and the
//! bounded [`OpenedModules`] cache. It holds what was read; it never writes
//! an application and never decides what a module is.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::path::EntryPath;
use crate::source::{Bytes, EntryIndex, NestedZip};

/// A nested module archive, opened (inflated, when its entry is deflated)
/// once and shared by whoever reads it during one operation: the plan, the
/// undo bundle and the writer read the same copy.
pub(crate) struct OpenedModule {
    /// The module's zip; clones are cheap and read independently.
    pub zip: NestedZip,
    /// The module's bytes (a window of the application for a STORED entry).
    pub bytes: Bytes,
    /// Its file entries, checked.
    pub entries: Arc<EntryIndex>,
    /// Set when its central directory repeats a name.
    pub duplicates: Vec<String>,
    /// `app.ear!module.war`, for messages.
    pub location: String,
}

impl fmt::Debug for OpenedModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedModule")
            .field("location", &self.location)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// The modules kept opened, least recently used first. Bounded, so that an
/// operation reading every module (a digest, a full update) holds at most a
/// few: [`OpenedModules::KEEP`] modules, [`OpenedModules::RESIDENT`] bytes in
/// memory, [`OpenedModules::SPILLED`] bytes of temporary files. A module
/// pushed out is opened again when it is read again.
#[derive(Debug, Default)]
pub(super) struct OpenedModules(Mutex<Vec<(EntryPath, Arc<OpenedModule>)>>);

impl OpenedModules {
    pub(super) const KEEP: usize = 16;
    const RESIDENT: u64 = 8 * 1024 * 1024;
    const SPILLED: u64 = 256 * 1024 * 1024;

    pub(super) fn get(&self, uri: &EntryPath) -> Option<Arc<OpenedModule>> {
        let mut kept = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = kept.iter().position(|(u, _)| u == uri)?;
        let entry = kept.remove(at);
        let module = Arc::clone(&entry.1);
        kept.push(entry);
        Some(module)
    }

    /// Bytes of memory the kept modules may still take.
    pub(super) fn memory_left(&self) -> u64 {
        let kept = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let resident: u64 = kept.iter().map(|(_, m)| m.bytes.resident()).sum();
        Self::RESIDENT.saturating_sub(resident)
    }

    pub(super) fn keep(&self, uri: &EntryPath, module: &Arc<OpenedModule>) {
        let mut kept = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.iter().any(|(u, _)| u == uri) {
            return; // another thread opened it meanwhile
        }
        kept.push((uri.clone(), Arc::clone(module)));
        loop {
            let resident: u64 = kept.iter().map(|(_, m)| m.bytes.resident()).sum();
            let spilled: u64 = kept.iter().map(|(_, m)| m.bytes.spilled()).sum();
            if kept.len() > 1
                && (kept.len() > Self::KEEP || resident > Self::RESIDENT || spilled > Self::SPILLED)
            {
                kept.remove(0);
            } else {
                break;
            }
        }
    }
}
