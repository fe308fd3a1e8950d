//! Writing a plan (spec §5): the [`ChangeSet`] (the bytes each change
//! writes), archives rewritten to a temporary file and renamed over the
//! target ([`archive`]), or for a full update of an archive by an archive
//! the new archive copied whole ([`full`]), expanded applications changed
//! through a journal ([`expanded`]), module registration in the descriptor
//! ([`descriptor_edit`]), and the zips earpatch builds from scratch
//! ([`zipout`]).
//!
//! `write` executes a plan; it never decides what changes (that is
//! [`crate::plan`]) and keeps no history (that is [`crate::state`]).

pub(crate) mod archive;
pub(crate) mod assemble;
pub(crate) mod descriptor_edit;
pub(crate) mod expanded;
pub(crate) mod full;
pub(crate) mod zipout;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::fs::{parent_dir, sync_dir, temp_prefix};
use crate::model::ScopeReader;
use crate::model::inventory::{FileInfo, ScopeInventory, rel_in, sha256_of};
use crate::model::{Application, DESCRIPTOR_PATH, Digest, Form, Inventory, Scope, Storage};
use crate::path::EntryPath;
use crate::plan::{Op, Origin, Plan};
use crate::progress::Meter;
use crate::source::{DynZip, ReadSeek};
use crate::update::{Payload, Update};

/// Bytes copied by the kernel between two progress reports and cancel
/// checks (copying a chunk at a time costs one more system call per 8 MiB).
pub(crate) const COPY_CHUNK: u64 = 8 << 20;

/// New content for one path, read when it is written: nothing holds a
/// whole file, module or change set in memory.
#[derive(Debug, Clone)]
pub(crate) enum New {
    /// Streamed from the update.
    Update(Origin),
    /// Made here: an edited descriptor (a small text).
    Bytes(Vec<u8>),
}

/// New content for one path, or its deletion (`None`).
pub(crate) type Action = Option<New>;

/// What to write, per scope, and where each new content is read from.
pub(crate) struct ChangeSet<'u> {
    update: &'u Update,
    /// Application-scope files by full path.
    pub app: BTreeMap<EntryPath, Action>,
    /// Files inside existing or new modules: URI → path in module → action.
    pub module_files: BTreeMap<EntryPath, BTreeMap<EntryPath, Action>>,
    /// Whole modules: URI → the new archive, or `None` to remove the module.
    pub whole: BTreeMap<EntryPath, Action>,
    /// Readers of the new application's scopes (full updates), each opened
    /// once: a nested module is never reopened per file.
    new_scopes: BTreeMap<Scope, ScopeReader<'u>>,
    /// Where the writers report what they wrote (and learn of a cancel).
    pub meter: Meter,
}

impl std::fmt::Debug for ChangeSet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeSet")
            .field("app", &self.app)
            .field("module_files", &self.module_files)
            .field("whole", &self.whole)
            .finish_non_exhaustive()
    }
}

impl<'u> ChangeSet<'u> {
    /// Where every change of `plan` reads its new content from.
    pub fn build(app: &Application, update: &'u Update, plan: &Plan) -> Result<ChangeSet<'u>> {
        let mut set = ChangeSet {
            update,
            app: BTreeMap::new(),
            module_files: BTreeMap::new(),
            whole: BTreeMap::new(),
            new_scopes: BTreeMap::new(),
            meter: Meter::default(),
        };
        let new_app = match &update.payload {
            Payload::Full(new_app) => Some(new_app.as_ref()),
            _ => None,
        };
        // A copied archive reads no file of the new application.
        let reads_new = full::copied_archive(app, update).is_none();
        for change in plan.effective_changes() {
            let action = match (&change.origin, change.op) {
                (_, Op::Delete) | (Origin::None, _) => None,
                (origin, _) => Some(New::Update(origin.clone())),
            };
            if reads_new
                && let (Some(new_app), Origin::NewApplication(path)) = (new_app, &change.origin)
                && let Some((scope, _)) = new_app.locate(path)
                && !set.new_scopes.contains_key(&scope)
            {
                set.new_scopes
                    .insert(scope.clone(), new_app.open_scope(&scope)?);
            }
            if change.module.is_some() {
                set.whole.insert(change.path.clone(), action);
                continue;
            }
            match &change.scope {
                Scope::Application => {
                    set.app.insert(change.path.clone(), action);
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
                        .insert(rel, action);
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

    /// Where the update comes from (for messages).
    pub(crate) fn update_source(&self) -> &Path {
        self.update.source()
    }

    /// Runs `f` over a reader of `new`.
    pub(crate) fn with_reader<T>(
        &self,
        new: &New,
        f: impl FnOnce(&mut dyn Read) -> Result<T>,
    ) -> Result<T> {
        match new {
            New::Bytes(bytes) => f(&mut &bytes[..]),
            New::Update(Origin::NewApplication(path)) => {
                let cached = match &self.update.payload {
                    Payload::Full(new_app) => new_app
                        .locate(path)
                        .and_then(|(scope, rel)| Some((self.new_scopes.get(&scope)?, rel))),
                    _ => None,
                };
                match cached {
                    Some((reader, rel)) => reader.with_file(&rel, f)?.ok_or_else(|| {
                        Error::refused(
                            format!("{}!{path}", self.update.source().display()),
                            "the file vanished",
                        )
                    }),
                    None => Origin::NewApplication(path.clone()).with_reader(self.update, f),
                }
            }
            New::Update(origin) => origin.with_reader(self.update, f),
        }
    }

    /// Copies `new` into `out`; returns the bytes copied.
    pub(crate) fn copy_to(
        &self,
        new: &New,
        out: &mut dyn std::io::Write,
        location: &str,
    ) -> Result<u64> {
        let from = self.origin_of(new);
        self.with_reader(new, |r| {
            let mut buf = vec![0u8; 64 * 1024];
            let mut total = 0;
            loop {
                let n = r
                    .read(&mut buf)
                    .map_err(|e| Error::io("cannot read", &from, e))?;
                if n == 0 {
                    return Ok(total);
                }
                out.write_all(&buf[..n])
                    .map_err(|e| Error::io("cannot write", location, e))?;
                total += n as u64;
            }
        })
    }

    /// Where `new` is read from, for messages (`fix.zip!shop.war/x.jsp`).
    fn origin_of(&self, new: &New) -> String {
        let source = self.update.source().display();
        match new {
            New::Update(Origin::ZipEntry(path) | Origin::NewApplication(path)) => {
                format!("{source}!{path}")
            }
            New::Update(_) => source.to_string(),
            New::Bytes(_) => "the edited descriptor".to_owned(),
        }
    }

    /// The size of `new` (declared, or on disk), for the free-space check
    /// and the zip64 decision; 0 when unknown.
    pub(crate) fn size_of(&self, new: &New) -> u64 {
        match new {
            New::Bytes(bytes) => bytes.len() as u64,
            New::Update(origin) => origin.size(self.update).unwrap_or(0),
        }
    }

    /// Opens `new` (a module archive) as a zip, spilled to disk when large.
    pub(crate) fn open_zip(&self, new: &New, location: &str) -> Result<DynZip> {
        match new {
            New::Update(origin) => origin.open_zip(self.update, location),
            New::Bytes(bytes) => {
                let reader: Box<dyn ReadSeek> = Box::new(std::io::Cursor::new(bytes.clone()));
                zip::ZipArchive::new(reader).map_err(|e| Error::zip(location, e))
            }
        }
    }

    /// Registers modules that a module update adds in `META-INF/application.xml`.
    fn register_modules(&mut self, app: &Application, plan: &Plan) -> Result<()> {
        let descriptor = EntryPath::new(DESCRIPTOR_PATH).unwrap_or_else(|_| unreachable!());
        for change in plan.effective_changes() {
            let Some(m) = change.module.as_ref().filter(|m| m.registers_in_descriptor) else {
                continue;
            };
            let current = match self.app.get(&descriptor) {
                Some(Some(New::Bytes(bytes))) => bytes.clone(),
                Some(Some(New::Update(origin))) => origin.read(self.update)?,
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
            self.app
                .insert(descriptor.clone(), Some(New::Bytes(edited)));
        }
        Ok(())
    }

    /// Files that will be written, for the free-space check.
    pub fn files_written(&self) -> u64 {
        let count =
            |m: &BTreeMap<EntryPath, Action>| m.values().filter(|a| a.is_some()).count() as u64;
        count(&self.app) + self.module_files.values().map(count).sum::<u64>() + count(&self.whole)
    }

    /// Bytes that will be written, for the free-space check.
    pub fn bytes_written(&self) -> u64 {
        let len = |a: &Action| a.as_ref().map_or(0, |new| self.size_of(new));
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
/// the expanded form through the journal in `journal_dir`. Reports to
/// `set.meter` ([`Phase::Writing`](crate::progress::Phase::Writing), then
/// [`Phase::Committing`](crate::progress::Phase::Committing) for an
/// expanded application changed in place); a cancel stops it only before
/// the application changes, leaving no temporary file.
pub(crate) fn write_application(
    app: &Application,
    set: &ChangeSet,
    out: &Path,
    journal_dir: Option<&Path>,
) -> Result<()> {
    match (app.form(), journal_dir) {
        (Form::Archive, _) => match full::new_archive(app, set) {
            Some(new) => full::copy_archive(new, out, &set.meter),
            None => archive::write(app, set, out),
        },
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
            zipout::export_ear(&Application::open(&copy)?, &packed, &set.meter)?;
            set.meter.check()?;
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

/// A file's size and SHA-256 after a change, `None` when it is deleted.
type NewFile = Option<(u64, [u8; 32])>;

/// What the application will hold once a change set is written.
#[derive(Debug)]
pub(crate) struct Predicted {
    /// Its content digest.
    pub digest: Digest,
    /// Every file with its size and SHA-256 (what the content index will
    /// say of it), by the scopes of the application before: a new file lies
    /// in the scope where a file of its path was, else in the first module
    /// scope whose directory holds it, else in the application scope. Only
    /// the full paths count; the files of an unchanged scope are those of
    /// the inventory before, moved, not copied.
    pub content: Inventory,
}

/// The content the application will have once `set` is written: the files
/// of `before` (consumed: its files move into the prediction) merged with
/// the hashes of what the set writes (new content is read once, streamed).
pub(crate) fn predict(before: Inventory, set: &ChangeSet) -> Result<Predicted> {
    // What changes, by full path (small); everything else moves from `before`.
    let mut changed: BTreeMap<EntryPath, NewFile> = BTreeMap::new();
    let location = |path: &EntryPath| format!("{}!{path}", set.update.source().display());
    let hash = |path: &EntryPath, action: &Action| -> Result<NewFile> {
        action
            .as_ref()
            .map(|new| {
                // A file of a full update's new application: its inventory says.
                if let New::Update(origin) = new
                    && let Some(known) = origin.known_file(set.update)
                {
                    return Ok(known);
                }
                set.with_reader(new, |r| sized_sha256(r, &location(path)))
            })
            .transpose()
    };
    for (path, action) in &set.app {
        changed.insert(path.clone(), hash(path, action)?);
    }
    for (uri, actions) in &set.module_files {
        for (rel, action) in actions {
            let full = uri.join(rel);
            changed.insert(full.clone(), hash(&full, action)?);
        }
    }
    let replaced_modules: Vec<&EntryPath> = set.whole.keys().collect();
    for (uri, action) in &set.whole {
        if let Some(archive) = action {
            let at = location(uri);
            let mut zip = set.open_zip(archive, &at)?;
            let (entries, _) = crate::source::index_entries(&zip, &at, set.update.limits())?;
            for (rel, (index, _)) in entries {
                let mut entry = zip.by_index(index).map_err(|e| Error::zip(&at, e))?;
                changed.insert(uri.join(&rel), Some(sized_sha256(&mut entry, &at)?));
            }
        }
    }
    let in_replaced = |scope: &Scope, rel: &EntryPath| match scope {
        Scope::Module(uri) => replaced_modules.contains(&uri),
        Scope::Application => replaced_modules
            .iter()
            .any(|m| rel.is_inside(m) || &rel == m),
    };
    let Inventory {
        mut scopes,
        warnings,
    } = before;
    if !scopes.iter().any(|s| s.scope == Scope::Application) {
        scopes.insert(
            0,
            ScopeInventory {
                scope: Scope::Application,
                files: Vec::new(),
            },
        );
    }
    // Each change goes to the scope that holds its path (the first, as the
    // digest's order meets them), else the first module scope whose
    // directory holds it, else the application scope; in path order, so
    // each scope's changes are sorted.
    let mut changes: Vec<Vec<(EntryPath, NewFile)>> = vec![Vec::new(); scopes.len()];
    for (full, new) in changed {
        let held = scopes.iter().position(|s| {
            rel_in(&s.scope, full.as_str()).is_some_and(|rel| {
                s.files
                    .binary_search_by(|f| f.path.as_str().cmp(rel))
                    .is_ok()
            })
        });
        let at = held
            .or_else(|| {
                scopes.iter().position(|s| {
                    matches!(s.scope, Scope::Module(_)) && rel_in(&s.scope, full.as_str()).is_some()
                })
            })
            .or_else(|| scopes.iter().position(|s| s.scope == Scope::Application))
            .unwrap_or(0);
        let rel = match &scopes[at].scope {
            Scope::Application => Some(full),
            Scope::Module(uri) => full.strip_dir(uri),
        };
        if let (Some(rel), Some(slot)) = (rel, changes.get_mut(at)) {
            slot.push((rel, new));
        }
    }
    // Merge each scope's sorted files with its sorted changes.
    let mut merged = Vec::with_capacity(scopes.len());
    for (ScopeInventory { scope, files }, scope_changes) in scopes.into_iter().zip(changes) {
        let mut out = Vec::with_capacity(files.len() + scope_changes.len());
        let mut pending = scope_changes.into_iter().peekable();
        let keep = |out: &mut Vec<FileInfo>, path: EntryPath, new: NewFile| {
            if let Some((size, sha256)) = new {
                out.push(FileInfo { path, size, sha256 });
            }
        };
        for file in files {
            while let Some((path, _)) = pending.peek() {
                if path < &file.path {
                    if let Some((path, new)) = pending.next() {
                        keep(&mut out, path, new);
                    }
                } else {
                    break;
                }
            }
            if pending.peek().is_some_and(|(p, _)| p == &file.path) {
                if let Some((_, new)) = pending.next() {
                    keep(&mut out, file.path, new);
                }
                continue;
            }
            if in_replaced(&scope, &file.path) {
                continue;
            }
            out.push(file);
        }
        for (path, new) in pending {
            keep(&mut out, path, new);
        }
        out.shrink_to_fit();
        merged.push(ScopeInventory { scope, files: out });
    }
    let content = Inventory {
        scopes: merged,
        warnings,
    };
    Ok(Predicted {
        digest: content.digest(),
        content,
    })
}

/// SHA-256 and length of everything `reader` yields.
fn sized_sha256(reader: &mut dyn Read, location: &str) -> Result<(u64, [u8; 32])> {
    let mut counted = Counted {
        inner: reader,
        n: 0,
    };
    let sha = sha256_of(&mut counted, location)?;
    Ok((counted.n, sha))
}

struct Counted<'a> {
    inner: &'a mut dyn Read,
    n: u64,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}
