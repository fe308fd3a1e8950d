//! Recovery (spec §5): an interrupted apply is settled before anything else
//! touches the application: an expanded journal is replayed backwards,
//! leftover temporary archives are removed and records left `applying` are
//! settled by the digest. Reading commands use [`ensure_not_interrupted`]
//! instead, and never recover.

use std::path::Path;

use crate::error::{Error, Result};
use crate::fs::{parent_dir, temp_prefix};
use crate::model::Application;
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
    let mut pending: Vec<Record> = state
        .records()?
        .into_iter()
        .filter(|r| r.status == Status::Applying)
        .collect();
    let settled_records = !pending.is_empty();
    if !pending.is_empty() {
        let digest = Application::open(app_path)?.digest()?;
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
        state.event("recover", None, &format!("{recovery:?}"));
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

/// Refuses to read an application whose apply was interrupted.
///
/// # Errors
/// [`Error::Refused`] saying to run `earpatch recover` first.
pub fn ensure_not_interrupted(app_path: &Path) -> Result<()> {
    if interrupted(app_path, None) {
        return Err(Error::Refused {
            location: app_path.display().to_string(),
            message: format!(
                "an earlier apply to this application was interrupted and may have left a mix of old and new files; run `earpatch recover {}` first, which rolls it back",
                app_path.display()
            ),
        });
    }
    Ok(())
}

/// Rolls back or finishes an interrupted apply explicitly (`earpatch recover`).
///
/// # Errors
/// The state cannot be read or the lock is held.
pub fn recover(app_path: &Path, state_dir: Option<&Path>) -> Result<Recovery> {
    let state = StateDir::for_app(app_path, state_dir);
    let _lock = state.lock(app_path)?;
    Ok(settle(app_path, &state)?.unwrap_or(Recovery::Clean))
}
