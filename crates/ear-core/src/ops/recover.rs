//! Recovery (spec §5): an interrupted apply is settled before anything else
//! touches the application: an expanded journal is replayed backwards,
//! leftover temporary archives are removed and records left `applying` are
//! settled by the digest. Reading commands use [`ensure_not_interrupted`]
//! instead, and never recover.

use std::path::Path;

use crate::error::{Error, Result};
use crate::fs::{parent_dir, temp_prefix};
use crate::model::Application;
use crate::model::index::ScanStart;
use crate::state::{Record, StateDir, Status};
use crate::write::expanded::{self, Replay};

/// What recovering an interrupted apply found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// No unfinished journal.
    Clean,
    /// An apply was interrupted before changing anything; its staging was discarded.
    Discarded,
    /// An apply was interrupted while changing files; they were restored.
    RolledBack,
    /// An apply had finished but not cleaned up; it was cleaned up.
    Finished,
    /// An apply was interrupted before changing anything; its history record
    /// was settled (marked failed, or applied when the new content is in place).
    RecordSettled,
}

impl std::fmt::Display for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Recovery::Clean => "clean",
            Recovery::Discarded => "discarded",
            Recovery::RolledBack => "rolled-back",
            Recovery::Finished => "finished",
            Recovery::RecordSettled => "record-settled",
        })
    }
}

/// Settles an interrupted earlier operation: rolls back an expanded journal,
/// removes leftover temporary archives, and fixes records left `applying`.
pub(super) fn settle(app_path: &Path, state: &StateDir) -> Result<Option<Recovery>> {
    let recovery = if app_path.is_dir() {
        match expanded::recover(app_path, &state.journal())? {
            Replay::Clean => Recovery::Clean,
            Replay::Discarded => Recovery::Discarded,
            Replay::RolledBack => Recovery::RolledBack,
            Replay::Finished => Recovery::Finished,
        }
    } else {
        let dir = parent_dir(app_path);
        let prefix = temp_prefix(app_path);
        let mut removed = false;
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(&prefix) && name.ends_with(".tmp") {
                    removed |= std::fs::remove_file(e.path()).is_ok();
                }
            }
        }
        if removed {
            Recovery::Discarded
        } else {
            Recovery::Clean
        }
    };
    // Undo bundles saved by an apply killed before it wrote its record: the
    // application was not touched, so they undo nothing.
    let mut recovery = recovery;
    for orphan in state.orphans() {
        std::fs::remove_dir_all(&orphan).map_err(|e| Error::io("cannot remove", &orphan, e))?;
        state.event(
            "recover",
            None,
            &format!(
                "removed {}: an interrupted apply saved it but never started",
                orphan.display()
            ),
        );
        if recovery == Recovery::Clean {
            recovery = Recovery::Discarded;
        }
    }
    let mut pending: Vec<Record> = state
        .records()?
        .into_iter()
        .filter(|r| r.status == Status::Applying)
        .collect();
    let settled_records = !pending.is_empty();
    if !pending.is_empty() {
        let app = Application::open(app_path)?;
        let digest = super::content::scan(&app, state, ScanStart::now(), None)?
            .inventory
            .digest();
        for record in &mut pending {
            record.status = if digest == record.digest_after {
                Status::Applied
            } else {
                Status::Failed
            };
            state.write_record(record)?;
            state.event(
                "recover",
                Some(&record.id),
                &format!("interrupted apply settled as {}", record.status),
            );
        }
    }
    let recovery = if recovery == Recovery::Clean && settled_records {
        Recovery::RecordSettled
    } else {
        recovery
    };
    if recovery != Recovery::Clean {
        state.event("recover", None, &recovery.to_string());
    }
    Ok(Some(recovery))
}

/// Whether an apply to the expanded application at `app_path` was
/// interrupted and not yet recovered (its journal is still there). Until
/// [`recover`] runs, the application may hold a mix of old and new files.
#[must_use]
pub fn interrupted(app_path: &Path, state_dir: Option<&Path>) -> bool {
    StateDir::for_app(app_path, state_dir)
        .journal()
        .join("journal.json")
        .exists()
}

/// Refuses to read an application whose apply was interrupted (its state in
/// `state_dir`, default `APP.earpatch/`). Reading commands call this; they
/// never recover (they write nothing).
///
/// # Errors
/// [`Error::Refused`] saying to run `earpatch recover` first.
pub fn ensure_not_interrupted(app_path: &Path, state_dir: Option<&Path>) -> Result<()> {
    if interrupted(app_path, state_dir) {
        let flag = state_dir.map_or_else(String::new, |d| format!(" --state-dir {}", d.display()));
        return Err(Error::Refused {
            location: app_path.display().to_string(),
            message: format!(
                "an earlier apply to this application was interrupted and may have left a mix of old and new files; run `earpatch recover {}{flag}` first, which rolls it back",
                app_path.display()
            ),
        });
    }
    Ok(())
}

/// The state folder of the application at `app_path` (which must exist),
/// refusing a `state_dir` inside the application: its files would count as
/// application content, and rollback would see them as drift.
pub(crate) fn state_of(app_path: &Path, state_dir: Option<&Path>) -> Result<StateDir> {
    let meta = std::fs::metadata(app_path).map_err(|e| Error::io("cannot open", app_path, e))?;
    let state = StateDir::for_app(app_path, state_dir);
    if meta.is_dir() && inside(state.path(), app_path) {
        return Err(Error::refused(
            format!("--state-dir {}", state.path().display()),
            "the state folder is inside the application: its files would become part of the application; \
             keep it beside the application (the default) or anywhere outside it",
        ));
    }
    Ok(state)
}

/// Whether `path` (which may not exist yet) lies in the folder `dir`, links resolved.
fn inside(path: &Path, dir: &Path) -> bool {
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    let resolved = path.canonicalize().or_else(|_| {
        let name = path.file_name().unwrap_or_default();
        parent_dir(path).canonicalize().map(|p| p.join(name))
    });
    resolved.is_ok_and(|p| p.starts_with(dir))
}

/// Rolls back or finishes an interrupted apply explicitly (`earpatch recover`).
/// When something was settled, the content index is brought up to date
/// (reading only the files whose stamps changed).
///
/// # Errors
/// The state cannot be read or the lock is held.
pub fn recover(app_path: &Path, state_dir: Option<&Path>) -> Result<Recovery> {
    let state = state_of(app_path, state_dir)?;
    let _lock = state.lock(app_path)?;
    let recovery = settle(app_path, &state)?.unwrap_or(Recovery::Clean);
    if recovery != Recovery::Clean {
        let app = Application::open(app_path)?;
        let scan = super::content::scan(&app, &state, ScanStart::now(), None)?;
        super::content::keep_index(&state, scan);
    }
    Ok(recovery)
}
