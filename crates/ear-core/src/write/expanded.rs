//! Changing an expanded application through a journal, so that an
//! interrupted apply is rolled back on the next run (spec §5); and writing a
//! changed copy of one. It writes only inside the application, its journal
//! folder and a new output folder; it keeps no history.
//!
//! 1. every new file is staged in `journal/new/`, synced; the journal is
//!    written with state `committing` (atomically: temporary file + rename);
//! 2. each target is moved to `journal/old/` (when it exists), then the
//!    staged file is moved into place: renames on one file system;
//! 3. the journal state becomes `committed`, then the journal is removed.
//!
//! [`recover`] rolls a `committing` journal back using the saved files, and
//! discards a `staging` one: the application is exactly the old version.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::archive::rebuild_module;
use super::{Action, ChangeSet, New};
use crate::error::{Error, Result};
use crate::fs::{
    Confined, ensure_parent, fail_point, linked_component, parent_dir, sync_dir, temp_prefix,
    write_json_atomic,
};
use crate::model::inventory::sha256_of;
use crate::model::{Application, Scope, Storage};
use crate::path::EntryPath;
use crate::progress::Phase;

const JOURNAL: &str = "journal.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum State {
    Staging,
    Committing,
    Committed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct JournalOp {
    /// Path relative to the application root.
    target: String,
    /// Whether a new file is moved into place (else the target is deleted).
    write: bool,
    /// Whether the target existed (and is saved in `old/`).
    had_old: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    state: State,
    ops: Vec<JournalOp>,
}

/// New content of one file on disk.
enum Staged<'a> {
    /// Streamed from the update (or an edited descriptor).
    New(&'a New),
    /// Already in a temporary file (a rebuilt module, a file of an unpacked one).
    File(File),
}

/// The file operations a change set makes on an expanded application.
fn disk_ops<'a>(
    app: &Application,
    set: &'a ChangeSet<'_>,
) -> Result<BTreeMap<String, Option<Staged<'a>>>> {
    let mut ops: BTreeMap<String, Option<Staged<'a>>> = BTreeMap::new();
    let staged = |a: &'a Action| a.as_ref().map(Staged::New);
    for (path, action) in &set.app {
        ops.insert(path.to_string(), staged(action));
    }
    for (uri, actions) in &set.module_files {
        match app.module(uri).map(|m| m.storage) {
            Some(Storage::Archive) => {
                ops.insert(
                    uri.to_string(),
                    Some(Staged::File(rebuild_module(app, uri, actions, set)?)),
                );
            }
            _ => {
                for (rel, action) in actions {
                    ops.insert(format!("{uri}/{rel}"), staged(action));
                }
            }
        }
    }
    for (uri, action) in &set.whole {
        let storage = app.module(uri).map(|m| m.storage);
        let old_files: Vec<EntryPath> = match storage {
            Some(Storage::Directory) => app
                .scope_files(&Scope::Module(uri.clone()))?
                .into_iter()
                .map(|(p, _)| p)
                .collect(),
            _ => Vec::new(),
        };
        match (action, storage) {
            (None, Some(Storage::Directory)) => {
                for rel in old_files {
                    ops.insert(format!("{uri}/{rel}"), None);
                }
            }
            (None, _) => {
                ops.insert(uri.to_string(), None);
            }
            (Some(archive), Some(Storage::Archive)) => {
                ops.insert(uri.to_string(), Some(Staged::New(archive)));
            }
            // Installed applications hold modules unpacked: a new or replaced
            // directory module is written as its files.
            (Some(archive), _) => {
                let location = format!("{}!{uri}", set.update_source().display());
                let files = unpack(app, uri, set, archive, &location)?;
                for rel in old_files {
                    if !files.contains_key(&rel) {
                        ops.insert(format!("{uri}/{rel}"), None);
                    }
                }
                for (rel, file) in files {
                    if let Some(file) = file {
                        ops.insert(format!("{uri}/{rel}"), Some(Staged::File(file)));
                    }
                }
            }
        }
    }
    Ok(ops)
}

/// The files of a module archive that differ from the deployed module
/// `uri`, each copied to a temporary file (`None`: the same bytes).
fn unpack(
    app: &Application,
    uri: &EntryPath,
    set: &ChangeSet<'_>,
    archive: &New,
    location: &str,
) -> Result<BTreeMap<EntryPath, Option<File>>> {
    let mut zip = set.open_zip(archive, location)?;
    let (entries, _) = crate::source::index_entries(&zip, location, app.limits())?;
    let mut out = BTreeMap::new();
    for (path, (index, _)) in entries {
        let at = format!("{location}!{path}");
        let mut entry = zip.by_index(index).map_err(|e| Error::zip(&at, e))?;
        let mut copy = tempfile::tempfile()
            .map_err(|e| Error::io("cannot create a temporary file for", &at, e))?;
        let new = copy_hashing(&mut entry, &mut copy, &at)?;
        let old = app.with_file_reader(&uri.join(&path), |r| sha256_of(r, &at))?;
        out.insert(path, (old != Some(new)).then_some(copy));
    }
    Ok(out)
}

/// Copies `from` into `to`, returning the SHA-256 of what was copied.
fn copy_hashing(from: &mut dyn Read, to: &mut dyn Write, location: &str) -> Result<[u8; 32]> {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from
            .read(&mut buf)
            .map_err(|e| Error::io("cannot read", location, e))?;
        if n == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])
            .map_err(|e| Error::io("cannot write", location, e))?;
    }
}

fn write_journal(dir: &Path, journal: &Journal) -> Result<()> {
    write_json_atomic(&dir.join(JOURNAL), journal)
}

/// Writes `content` to the new file `path` and syncs it; reports it.
fn stage(path: &Path, content: Staged<'_>, set: &ChangeSet<'_>) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io("cannot create", path, e))?;
    let location = path.display().to_string();
    let written = match content {
        Staged::New(new) => set.copy_to(new, &mut f, &location)?,
        Staged::File(mut src) => {
            use std::io::Seek;
            src.seek(std::io::SeekFrom::Start(0))
                .map_err(|e| Error::io("cannot read", path, e))?;
            std::io::copy(&mut src, &mut f).map_err(|e| Error::io("cannot write", path, e))?
        }
    };
    f.sync_all()
        .map_err(|e| Error::io("cannot sync", path, e))?;
    set.meter.wrote(written, 1)
}

/// The bytes `ops` write, from declared sizes and temporary files (no read).
fn staged_bytes(ops: &BTreeMap<String, Option<Staged<'_>>>, set: &ChangeSet<'_>) -> u64 {
    ops.values()
        .map(|op| match op {
            Some(Staged::New(new)) => set.size_of(new),
            Some(Staged::File(f)) => f.metadata().map_or(0, |m| m.len()),
            None => 0,
        })
        .fold(0, u64::saturating_add)
}

/// Applies `set` to the expanded application in place, through `journal_dir`
/// (which must not hold an unfinished journal: call [`recover`] first).
/// Every access to the application goes through [`Confined`]: nothing
/// resolves outside it.
///
/// Progress: the staging reports [`Phase::Writing`] (a cancel there stops
/// with the journal in state `staging`, which [`recover`] discards: the
/// application is untouched); moving the files into place reports
/// [`Phase::Committing`], where a cancel is ignored.
pub(crate) fn apply_in_place(app: &Application, set: &ChangeSet, journal_dir: &Path) -> Result<()> {
    let root = Confined::open(app.path())?;
    let module_roots: Vec<&str> = app.modules().iter().map(|m| m.uri.as_str()).collect();
    let ops = disk_ops(app, set)?;
    // The planner refused changes under links; a whole module written as
    // files can still meet one deeper down: refuse before anything is written.
    for target in ops.keys() {
        if let Some(link) = linked_component(app.path(), target) {
            return Err(Error::refused(
                app.path().join(&link).display().to_string(),
                format!(
                    "{link} is a symbolic link and the update writes {target}; earpatch never writes through a link inside an application"
                ),
            ));
        }
    }
    if journal_dir.exists() {
        std::fs::remove_dir_all(journal_dir)
            .map_err(|e| Error::io("cannot remove", journal_dir, e))?;
    }
    let (new_dir, old_dir) = (journal_dir.join("new"), journal_dir.join("old"));
    for d in [&new_dir, &old_dir] {
        std::fs::create_dir_all(d).map_err(|e| Error::io("cannot create", d, e))?;
    }
    let (staged, saved) = (Confined::open(&new_dir)?, Confined::open(&old_dir)?);
    let total = set.meter.active().then(|| staged_bytes(&ops, set));
    set.meter.begin(Phase::Writing, total)?;
    let mut journal = Journal {
        state: State::Staging,
        ops: Vec::with_capacity(ops.len()),
    };
    write_journal(journal_dir, &journal)?;
    for (i, (target, content)) in ops.into_iter().enumerate() {
        let had_old = root.is_file(&target);
        let write = content.is_some();
        if let Some(content) = content {
            let staged = new_dir.join(i.to_string());
            stage(&staged, content, set)?;
            if let Some(mode) = root.permissions(&target).filter(|_| had_old) {
                let _ = std::fs::set_permissions(&staged, mode);
            }
        }
        journal.ops.push(JournalOp {
            target,
            write,
            had_old,
        });
    }
    sync_dir(&new_dir)?;
    fail_point("expanded-staged");
    // The last point where a cancel is honoured: from here the application changes.
    set.meter.check()?;
    set.meter
        .begin(Phase::Committing, Some(journal.ops.len() as u64))?;
    journal.state = State::Committing;
    write_journal(journal_dir, &journal)?;
    for (i, op) in journal.ops.iter().enumerate() {
        let target = op.target.as_str();
        if op.had_old {
            root.rename(target, &saved, &i.to_string())
                .map_err(|e| Error::io("cannot move aside", root.display(target), e))?;
        }
        if i == journal.ops.len() / 2 {
            fail_point("expanded-half-committed");
        }
        if op.write {
            root.ensure_parent(target)?;
            staged
                .rename(&i.to_string(), &root, target)
                .map_err(|e| Error::io("cannot move into place", root.display(target), e))?;
        } else if !removes_module(set, target) {
            // A module's own directory stays even when its last file goes.
            root.remove_empty_parents(target, &module_roots);
        } else {
            root.remove_empty_parents(target, &[]);
        }
        set.meter.moved();
    }
    for op in &journal.ops {
        root.sync_parent(&op.target)?;
    }
    fail_point("expanded-before-committed");
    journal.state = State::Committed;
    write_journal(journal_dir, &journal)?;
    std::fs::remove_dir_all(journal_dir).map_err(|e| Error::io("cannot remove", journal_dir, e))?;
    Ok(())
}

/// Whether `target` (a path from the root) lies in a module the change set removes.
fn removes_module(set: &ChangeSet, target: &str) -> bool {
    set.whole.iter().any(|(uri, action)| {
        action.is_none()
            && target
                .strip_prefix(uri.as_str())
                .is_some_and(|r| r.starts_with('/'))
    })
}

/// What replaying an unfinished journal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// No unfinished journal.
    Clean,
    /// The apply was interrupted before changing anything; its staging was discarded.
    Discarded,
    /// The apply was interrupted while changing files; they were restored.
    RolledBack,
    /// The apply had finished but not cleaned up; it was cleaned up.
    Finished,
}

/// Finishes or rolls back an interrupted journal in `journal_dir` for the
/// expanded application at `root`.
pub(crate) fn recover(root: &Path, journal_dir: &Path) -> Result<Replay> {
    let path = journal_dir.join(JOURNAL);
    if !path.exists() {
        if journal_dir.exists() {
            std::fs::remove_dir_all(journal_dir)
                .map_err(|e| Error::io("cannot remove", journal_dir, e))?;
            return Ok(Replay::Discarded);
        }
        return Ok(Replay::Clean);
    }
    let text = std::fs::read(&path).map_err(|e| Error::io("cannot read", &path, e))?;
    let journal: Journal = serde_json::from_slice(&text).map_err(|e| Error::Refused {
        location: path.display().to_string(),
        message: format!(
            "the journal is unreadable ({e}); inspect {} by hand",
            journal_dir.display()
        ),
    })?;
    let outcome = match journal.state {
        State::Staging => Replay::Discarded,
        State::Committed => Replay::Finished,
        State::Committing => {
            let root = Confined::open(root)?;
            let (new_dir, old_dir) = (journal_dir.join("new"), journal_dir.join("old"));
            std::fs::create_dir_all(&old_dir)
                .map_err(|e| Error::io("cannot create", &old_dir, e))?;
            let saved = Confined::open(&old_dir)?;
            for (i, op) in journal.ops.iter().enumerate().rev() {
                let target = op.target.as_str();
                let name = i.to_string();
                if op.had_old {
                    if saved.exists(&name) {
                        root.ensure_parent(target)?;
                        saved
                            .rename(&name, &root, target)
                            .map_err(|e| Error::io("cannot restore", root.display(target), e))?;
                    }
                } else if op.write && !new_dir.join(&name).exists() && root.exists(target) {
                    root.remove_file(target)?;
                    root.remove_empty_parents(target, &[]);
                }
            }
            root.sync_parent(".")?;
            Replay::RolledBack
        }
    };
    std::fs::remove_dir_all(journal_dir).map_err(|e| Error::io("cannot remove", journal_dir, e))?;
    Ok(outcome)
}

/// Writes a changed copy of an expanded application to `out` (a new
/// directory), leaving the application untouched. Progress counts the bytes
/// copied and written (no total: that would take a pass over the
/// application); a cancel removes the temporary copy.
pub(crate) fn write_copy(app: &Application, set: &ChangeSet, out: &Path) -> Result<()> {
    if out.exists() {
        return Err(Error::refused(
            out.display().to_string(),
            "the output already exists; give a new directory (or an .ear path for an archive)",
        ));
    }
    let parent = parent_dir(out);
    let tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(out))
        .tempdir_in(&parent)
        .map_err(|e| Error::io("cannot create a temporary directory in", &parent, e))?;
    set.meter.begin(Phase::Writing, None)?;
    for item in walkdir::WalkDir::new(app.path()).min_depth(1) {
        let item = item.map_err(|e| Error::io("cannot list", app.path(), e.into()))?;
        let rel = item.path().strip_prefix(app.path()).unwrap_or(item.path());
        let target = tmp.path().join(rel);
        if item.file_type().is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| Error::io("cannot create", &target, e))?;
        } else if item.file_type().is_file() {
            let copied = std::fs::copy(item.path(), &target)
                .map_err(|e| Error::io("cannot copy to", &target, e))?;
            set.meter.wrote(copied, 1)?;
        }
    }
    for (target, content) in disk_ops(app, set)? {
        let disk = tmp.path().join(&target);
        match content {
            Some(content) => {
                ensure_parent(&disk)?;
                stage(&disk, content, set)?;
            }
            None => {
                let _ = std::fs::remove_file(&disk);
            }
        }
    }
    set.meter.check()?;
    let tmp_path = tmp.keep();
    std::fs::rename(&tmp_path, out)
        .map_err(|e| Error::io("cannot rename the new application to", out, e))?;
    sync_dir(&parent)
}
