//! Applying a plan (spec §5): archives are rewritten to a temporary file and
//! renamed over the target; expanded applications change through a journal.

pub(crate) mod archive;
pub(crate) mod descriptor_edit;
pub mod expanded;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::{Application, DESCRIPTOR_PATH, Form, Scope, Storage};
use crate::path::EntryPath;
use crate::plan::{Op, Origin, Plan};
use crate::update::{Payload, Update};

/// A test-only fail point: when the environment variable
/// `EARPATCH_FAILPOINT` names `point`, the process aborts right there, as a
/// crash or `kill -9` would. Used by the crash-safety tests.
pub(crate) fn fail_point(point: &str) {
    if std::env::var("EARPATCH_FAILPOINT").is_ok_and(|v| v == point) {
        std::process::abort();
    }
}

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
                (origin, _) => Some(read_origin(update, new_app, origin)?),
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

fn read_origin(update: &Update, new_app: Option<&Application>, origin: &Origin) -> Result<Vec<u8>> {
    match (origin, &update.payload) {
        (Origin::ZipEntry(path), Payload::Partial(zip)) => zip.read(path, update.source()),
        (Origin::SourceFile, _) => update.read_source(),
        (Origin::NewApplication(path), _) => new_app
            .ok_or_else(|| {
                Error::refused(
                    update.source().display().to_string(),
                    "internal error: no new application",
                )
            })?
            .read(path)?
            .ok_or_else(|| {
                Error::refused(
                    format!("{}!{path}", update.source().display()),
                    "the file vanished",
                )
            }),
        _ => Err(Error::refused(
            update.source().display().to_string(),
            "internal error: no bytes for a change",
        )),
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
            crate::history::export_ear(&Application::open(&copy)?, &packed)?;
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

/// The directory that will hold a file: creates it.
pub(crate) fn ensure_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, e))?;
    }
    Ok(())
}

/// Writes `value` as JSON to `dir/name` atomically: temporary file, sync,
/// rename, sync of the folder.
pub(crate) fn write_json_atomic(
    dir: &Path,
    name: &str,
    value: &impl serde::Serialize,
) -> Result<()> {
    use std::io::Write as _;
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let bytes =
        serde_json::to_vec_pretty(value).map_err(|e| Error::io("cannot write", &path, e.into()))?;
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io("cannot create", &tmp, e))?;
    f.write_all(&bytes)
        .map_err(|e| Error::io("cannot write", &tmp, e))?;
    f.sync_all()
        .map_err(|e| Error::io("cannot sync", &tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("cannot write", &path, e))?;
    sync_dir(dir)
}

/// The prefix of the temporary files written beside `target`:
/// `.earpatch-<file name>-`, so that cleaning up after one application never
/// touches another one's files.
pub(crate) fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    format!(".earpatch-{name}-")
}

/// Syncs a directory so that renames in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let handle = std::fs::File::open(dir).map_err(|e| Error::io("cannot open", dir, e))?;
        handle
            .sync_all()
            .map_err(|e| Error::io("cannot sync", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// `dir` for a path's parent, `.` when it has none.
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
