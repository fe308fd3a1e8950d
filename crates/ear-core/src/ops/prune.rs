//! [`prune`]: retention for the state folder. Keeps the newest N history
//! records whole; of the older ones it removes the record folder (record,
//! undo bundle, log), except for a record that must stay: an update still
//! in force (applied, not rolled back), and the newest applied record (the
//! digest `verify` and `status` compare with). Those keep their record,
//! marked `pruned_at`, and lose only their undo bundle: an update in force
//! pruned so can no longer be rolled back, and the report says which.
//!
//! It takes the lock, refuses while an operation is interrupted, and
//! removes nothing outside `history/` and `logs/` of the state folder (a
//! record folder that is a symbolic link is refused, never followed).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::recover::{ensure_not_interrupted, state_of};
use super::status::in_force;
use crate::clock::UtcTime;
use crate::error::{Error, Result};
use crate::state::{Record, StateDir, Status, tree_bytes};
use crate::update::UpdateKind;

/// Options for [`prune`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PruneOptions {
    /// How many of the newest records to keep whole.
    pub keep: usize,
    /// Where state is kept (default `<app>.earpatch/`).
    pub state_dir: Option<PathBuf>,
    /// Say what would be removed; remove nothing.
    pub dry_run: bool,
}

impl PruneOptions {
    /// Keeps the newest `n` records whole.
    #[must_use]
    pub fn keep(mut self, n: usize) -> Self {
        self.keep = n;
        self
    }
    /// Keeps state in `dir`.
    #[must_use]
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }
    /// Removes nothing.
    #[must_use]
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }
}

/// What pruning does to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PruneAction {
    /// The record folder is removed (record, undo bundle, log).
    Removed,
    /// Only the undo bundle is removed; the record stays, marked pruned.
    UndoRemoved,
}

/// One record pruning touched.
#[derive(Debug, Clone, Serialize)]
pub struct PrunedRecord {
    /// Its id.
    pub id: String,
    /// Its status.
    pub status: Status,
    /// The update kind.
    pub kind: UpdateKind,
    /// For a rollback's record: the id it rolled back.
    pub rolls_back: Option<String>,
    /// The update file as given.
    pub source: String,
    /// What was done.
    pub action: PruneAction,
    /// Bytes freed.
    pub bytes: u64,
}

/// What [`prune`] did (or, dry, would do).
#[derive(Debug, Clone, Serialize)]
pub struct PruneReport {
    /// The application.
    pub application: PathBuf,
    /// Its state folder.
    pub state_dir: PathBuf,
    /// The records kept whole.
    pub keep: usize,
    /// Nothing was removed.
    pub dry_run: bool,
    /// Records before pruning.
    pub records_before: usize,
    /// The records touched, oldest first.
    pub pruned: Vec<PrunedRecord>,
    /// Updates still in force whose undo bundle was removed by this run:
    /// they can no longer be rolled back (nor can anything applied before
    /// them, past them).
    pub no_longer_undoable: Vec<String>,
    /// Bytes freed (or, dry, that would be).
    pub bytes_freed: u64,
}

/// Removes the records and undo bundles beyond the newest
/// `options.keep` (see the module docs for what is kept).
///
/// ```
/// # fn main() -> ear_core::Result<()> {
/// # let dir = tempfile::tempdir().map_err(|e| ear_core::Error::Io { action: "tmp", path: ".".into(), source: e })?;
/// # let ear = dir.path().join("shop.ear");
/// # let zip = dir.path().join("shop-fix.zip");
/// # std::fs::write(&ear, ear_fixtures::sample::shop_ear()).map_err(|e| ear_core::Error::Io { action: "w", path: ear.clone(), source: e })?;
/// # std::fs::write(&zip, ear_fixtures::sample::shop_fix_zip()).map_err(|e| ear_core::Error::Io { action: "w", path: zip.clone(), source: e })?;
/// use ear_core::{apply, prune, ApplyOptions, PruneOptions, Update};
/// apply(&ear, &Update::infer(&zip)?, &ApplyOptions::default())?;
/// let report = prune(&ear, &PruneOptions::default().keep(0))?;
/// // The update stays in force, its record kept; its undo bundle is gone.
/// assert_eq!(report.no_longer_undoable.len(), 1);
/// assert!(report.bytes_freed > 0);
/// # Ok(()) }
/// ```
///
/// # Errors
/// An operation is interrupted (run `recover`), the lock is held, a record
/// folder is a symbolic link, or removing a file fails.
pub fn prune(app_path: &Path, options: &PruneOptions) -> Result<PruneReport> {
    let state_dir = options.state_dir.as_deref();
    let state = state_of(app_path, state_dir)?;
    let mut report = PruneReport {
        application: app_path.to_path_buf(),
        state_dir: state.path().to_path_buf(),
        keep: options.keep,
        dry_run: options.dry_run,
        records_before: 0,
        pruned: Vec::new(),
        no_longer_undoable: Vec::new(),
        bytes_freed: 0,
    };
    if !state.path().is_dir() {
        return Ok(report); // nothing applied in place: nothing to prune, nothing created
    }
    ensure_not_interrupted(app_path, state_dir)?;
    let _lock = if options.dry_run {
        None
    } else {
        Some(state.lock(app_path)?)
    };
    let records = state.records()?;
    let unsettled = records.iter().any(|r| r.status == Status::Applying);
    if unsettled || !state.orphans().is_empty() {
        return Err(Error::refused(
            app_path.display().to_string(),
            format!(
                "an earlier apply was interrupted (its history in {} is unsettled); run `earpatch recover {}` first",
                state.path().display(),
                app_path.display()
            ),
        ));
    }
    report.records_before = records.len();
    let baseline = records
        .iter()
        .rposition(|r| r.status == Status::Applied)
        .map(|i| records[i].id.clone());
    let older = records.len().saturating_sub(options.keep);
    // Everything is checked before anything is removed.
    let mut work: Vec<(Record, PruneAction)> = Vec::new();
    for record in records.into_iter().take(older) {
        let dir = state.record_dir(&record.id);
        if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            return Err(Error::refused(
                dir.display().to_string(),
                "this history record's folder is not a plain folder (a symbolic link?); earpatch removes only \
                 what it wrote: move it out of the history, then prune again",
            ));
        }
        let keep_record = in_force(&record) || baseline.as_deref() == Some(record.id.as_str());
        if keep_record {
            let bundle = state.undo_bundle(&record);
            if std::fs::symlink_metadata(&bundle).is_err() && record.pruned_at.is_some() {
                continue; // pruned before
            }
            work.push((record, PruneAction::UndoRemoved));
        } else {
            work.push((record, PruneAction::Removed));
        }
    }
    let now = UtcTime::now().rfc3339();
    for (mut record, action) in work {
        let bytes = match action {
            PruneAction::Removed => {
                let log = state.log_path(&record.id);
                tree_bytes(&state.record_dir(&record.id)) + tree_bytes(&log)
            }
            PruneAction::UndoRemoved => tree_bytes(&state.undo_bundle(&record)),
        };
        if !options.dry_run {
            match action {
                PruneAction::Removed => remove_record(&state, &record)?,
                PruneAction::UndoRemoved => {
                    // The mark first: a prune killed between the two leaves a
                    // bundle the next prune removes, never a record that
                    // promises an undo it no longer has.
                    if record.pruned_at.is_none() {
                        record.pruned_at = Some(now.clone());
                        state.write_record(&record)?;
                    }
                    let bundle = state.undo_bundle(&record);
                    match std::fs::remove_file(&bundle) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(Error::io("cannot remove", &bundle, e));
                        }
                        _ => {}
                    }
                }
            }
            state.event(
                "prune",
                Some(&record.id),
                match action {
                    PruneAction::Removed => "record and undo bundle removed",
                    PruneAction::UndoRemoved => "undo bundle removed; record kept",
                },
            );
        }
        if action == PruneAction::UndoRemoved && in_force(&record) {
            report.no_longer_undoable.push(record.id.clone());
        }
        report.bytes_freed += bytes;
        report.pruned.push(PrunedRecord {
            id: record.id,
            status: record.status,
            kind: record.kind,
            rolls_back: record.rolls_back,
            source: record.source,
            action,
            bytes,
        });
    }
    Ok(report)
}

/// Removes the folder of `record` and its log. The record file goes first
/// (one unlink): a prune killed later leaves a folder without a record,
/// which no command reads and `recover` removes.
fn remove_record(state: &StateDir, record: &Record) -> Result<()> {
    let dir = state.record_dir(&record.id);
    let file = dir.join("record.json");
    std::fs::remove_file(&file).map_err(|e| Error::io("cannot remove", &file, e))?;
    std::fs::remove_dir_all(&dir).map_err(|e| Error::io("cannot remove", &dir, e))?;
    let log = state.log_path(&record.id);
    match std::fs::remove_file(&log) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io("cannot remove", &log, e))
        }
        _ => Ok(()),
    }
}
