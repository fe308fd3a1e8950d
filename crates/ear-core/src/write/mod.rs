//! Writing a plan (spec §5): the [`ChangeSet`] (the bytes each change
//! writes), archives rewritten to a temporary file and renamed over the
//! target ([`archive`]), expanded applications changed through a journal
//! ([`expanded`]), module registration in the descriptor
//! ([`descriptor_edit`]), and the zips earpatch builds from scratch
//! ([`zipout`]).
//!
//! `write` executes a plan; it never decides what changes (that is
//! [`crate::plan`]) and keeps no history (that is [`crate::state`]).

pub(crate) mod archive;
pub(crate) mod descriptor_edit;
pub(crate) mod expanded;
pub(crate) mod zipout;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::fs::{parent_dir, sync_dir, temp_prefix};
use crate::model::inventory::{full_path_bytes, hash_path, sha256_of};
use crate::model::{Application, DESCRIPTOR_PATH, Digest, Form, Inventory, Scope, Storage};
use crate::path::EntryPath;
use crate::plan::{Op, Origin, Plan};
use crate::update::{Payload, Update};

/// New content for one path: bytes, or deletion.
pub(crate) type Action = Option<Vec<u8>>;

/// What to write, per scope, with the bytes loaded.
#[derive(Debug, Default)]
pub(crate) struct ChangeSet {
    /// Application-scope files by full path.
    pub app: BTreeMap<EntryPath, Action>,
    /// Files inside existing or new modules: URI → path in module → action.
    pub module_files: BTreeMap<EntryPath, BTreeMap<EntryPath, Action>>,
    /// Whole modules: URI → new archive bytes, or `None` to remove the module.
    pub whole: BTreeMap<EntryPath, Action>,
}

impl ChangeSet {
    /// Loads the bytes of every change of `plan`.
    pub fn build(app: &Application, update: &Update, plan: &Plan) -> Result<ChangeSet> {
        let mut set = ChangeSet::default();
        let new_app = match &update.payload {
            Payload::Full(new_app) => Some(new_app.as_ref()),
            _ => None,
        };
        for change in plan.effective_changes() {
            let bytes = match (&change.origin, change.op) {
                (_, Op::Delete) | (Origin::None, _) => None,
                (origin, _) => Some(origin.read(update)?),
            };
            if change.module.is_some() {
                set.whole.insert(change.path.clone(), bytes);
                continue;
            }
            match &change.scope {
                Scope::Application => {
                    set.app.insert(change.path.clone(), bytes);
                }
                Scope::Module(uri) => {
                    let rel = change.path.strip_dir(uri).ok_or_else(|| {
                        Error::refused(
                            change.path.to_string(),
                            "internal error: change outside its scope",
                        )
                    })?;
                    set.module_files
                        .entry(uri.clone())
                        .or_default()
                        .insert(rel, bytes);
                }
            }
        }
        // A full update removes the modules the new application lacks.
        if let Some(new_app) = new_app {
            for module in app.modules() {
                if module.storage != Storage::Missing && new_app.module(&module.uri).is_none() {
                    set.module_files.remove(&module.uri);
                    set.whole.insert(module.uri.clone(), None);
                }
            }
        }
        set.register_modules(app, plan)?;
        Ok(set)
    }

    /// Registers modules that a module update adds in `META-INF/application.xml`.
    fn register_modules(&mut self, app: &Application, plan: &Plan) -> Result<()> {
        let descriptor = EntryPath::new(DESCRIPTOR_PATH).unwrap_or_else(|_| unreachable!());
        for change in plan.effective_changes() {
            let Some(m) = change.module.as_ref().filter(|m| m.registers_in_descriptor) else {
                continue;
            };
            let current = match self.app.get(&descriptor) {
                Some(Some(bytes)) => bytes.clone(),
                _ => app.read(&descriptor)?.ok_or_else(|| {
                    Error::refused(
                        DESCRIPTOR_PATH,
                        "the descriptor vanished while the update was being applied",
                    )
                })?,
            };
            let location = format!("{}!{DESCRIPTOR_PATH}", app.path().display());
            let edited = descriptor_edit::register_module(
                &current,
                &location,
                change.path.as_str(),
                m.kind,
                m.context_root.as_deref(),
            )?;
            self.app.insert(descriptor.clone(), Some(edited));
        }
        Ok(())
    }

    /// Bytes that will be written, for the free-space check.
    pub fn bytes_written(&self) -> u64 {
        let len = |a: &Action| a.as_ref().map_or(0, |b| b.len() as u64);
        self.app.values().map(len).sum::<u64>()
            + self
                .module_files
                .values()
                .flat_map(BTreeMap::values)
                .map(len)
                .sum::<u64>()
            + self.whole.values().map(len).sum::<u64>()
    }
}

/// Writes the changed application: for the archive form a new archive at
/// `out` (which may be the application itself: temporary file + rename); for
/// the expanded form through the journal in `journal_dir`.
pub(crate) fn write_application(
    app: &Application,
    set: &ChangeSet,
    out: &Path,
    journal_dir: Option<&Path>,
) -> Result<()> {
    match (app.form(), journal_dir) {
        (Form::Archive, _) => archive::write(app, set, out),
        (Form::Expanded, Some(journal)) if out == app.path() => {
            expanded::apply_in_place(app, set, journal)
        }
        (Form::Expanded, _)
            if out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("ear")) =>
        {
            // An expanded application written as an archive: an expanded copy
            // beside OUT, packed into OUT, then removed.
            let dir = parent_dir(out);
            let staging = tempfile::Builder::new()
                .prefix(&temp_prefix(out))
                .tempdir_in(&dir)
                .map_err(|e| Error::io("cannot create a temporary directory in", &dir, e))?;
            let copy = staging.path().join("app");
            expanded::write_copy(app, set, &copy)?;
            let packed = staging.path().join("app.ear");
            zipout::export_ear(&Application::open(&copy)?, &packed)?;
            std::fs::rename(&packed, out)
                .map_err(|e| Error::io("cannot rename the new archive to", out, e))?;
            sync_dir(&dir)
        }
        (Form::Expanded, _) => expanded::write_copy(app, set, out),
    }
}

/// Modules whose storage is an archive file and that have file changes.
pub(crate) fn rebuilt_modules(app: &Application, set: &ChangeSet) -> BTreeSet<EntryPath> {
    set.module_files
        .keys()
        .filter(|uri| {
            app.module(uri)
                .is_some_and(|m| m.storage == Storage::Archive)
        })
        .cloned()
        .collect()
}

/// The digest the application will have once `set` is written.
pub(crate) fn predict_digest(
    app: &Application,
    before: &Inventory,
    set: &ChangeSet,
) -> Result<Digest> {
    // What changes, by full path (small); everything else streams from `before`.
    let mut changed: BTreeMap<EntryPath, Option<[u8; 32]>> = BTreeMap::new();
    let hash = |b: &[u8]| -> Result<[u8; 32]> { sha256_of(&mut &b[..], "memory") };
    for (path, action) in &set.app {
        changed.insert(path.clone(), action.as_deref().map(hash).transpose()?);
    }
    for (uri, actions) in &set.module_files {
        for (rel, action) in actions {
            changed.insert(uri.join(rel), action.as_deref().map(hash).transpose()?);
        }
    }
    let replaced_modules: Vec<&EntryPath> = set.whole.keys().collect();
    for (uri, action) in &set.whole {
        if let Some(archive) = action {
            let location = format!("{}!{uri}", app.path().display());
            let (mut zip, entries) =
                crate::source::open_in_memory(archive, &location, app.limits())?;
            for (rel, (index, _)) in entries {
                let mut entry = zip.by_index(index).map_err(|e| Error::zip(&location, e))?;
                changed.insert(uri.join(&rel), Some(sha256_of(&mut entry, &location)?));
            }
        }
    }
    let in_replaced = |scope: &Scope, rel: &EntryPath| match scope {
        Scope::Module(uri) => replaced_modules.contains(&uri),
        Scope::Application => replaced_modules
            .iter()
            .any(|m| rel.is_inside(m) || &rel == m),
    };
    // Merge the sorted files of `before` with the sorted changes.
    let mut hasher = Sha256::new();
    let mut pending = changed.iter().peekable();
    let emit = |hasher: &mut Sha256, path: &EntryPath, sha: &Option<[u8; 32]>| {
        if let Some(sha) = sha {
            hash_path(hasher, &Scope::Application, path);
            hasher.update(sha);
        }
    };
    for (scope, file) in before.sorted_files() {
        let key: Vec<u8> = full_path_bytes(scope, &file.path).collect();
        while let Some((path, sha)) = pending.peek() {
            if path.as_str().as_bytes() < key.as_slice() {
                emit(&mut hasher, path, sha);
                pending.next();
            } else {
                break;
            }
        }
        if pending
            .peek()
            .is_some_and(|(p, _)| p.as_str().as_bytes() == key.as_slice())
        {
            if let Some((path, sha)) = pending.next() {
                emit(&mut hasher, path, sha);
            }
            continue;
        }
        if in_replaced(scope, &file.path) {
            continue;
        }
        hash_path(&mut hasher, scope, &file.path);
        hasher.update(file.sha256);
    }
    for (path, sha) in pending {
        emit(&mut hasher, path, sha);
    }
    Ok(Digest(hasher.finalize().into()))
}
