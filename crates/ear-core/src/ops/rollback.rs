//! `rollback` (spec §6): undo the newest applied update, or every update
//! after one, newest first, by applying their undo bundles; each step is
//! itself recorded. Drift (the application changed outside earpatch) is
//! refused unless forced. Also [`history`], the records of an application.

use std::path::{Path, PathBuf};

use super::apply::{ApplyOptions, ApplyReport, Outcome, Undoing, apply_locked};
use super::recover::{ensure_not_interrupted, settle, state_of};
use crate::error::{Error, Result};
use crate::plan::PlanOptions;
use crate::state::{Record, Status};
use crate::update::Update;

/// Options for [`rollback`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RollbackOptions {
    /// Roll back every update applied after this id (default: the newest one).
    pub to: Option<String>,
    /// Roll back even when the application changed outside earpatch.
    pub force: bool,
    /// Where state is kept.
    pub state_dir: Option<PathBuf>,
    /// Planning options for the undo bundles.
    pub plan: PlanOptions,
    /// Plan only.
    pub dry_run: bool,
    /// Progress reports while the application's content is read and each
    /// step is written, and cancellation (honoured until the application
    /// starts to change: see [`crate::progress`]; a cancelled step leaves
    /// the steps before it done).
    pub progress: Option<crate::Progress>,
}

impl RollbackOptions {
    /// Rolls back everything after `id`.
    #[must_use]
    pub fn to(mut self, id: impl Into<String>) -> Self {
        self.to = Some(id.into());
        self
    }
    /// Ignores drift.
    #[must_use]
    pub fn force(mut self, yes: bool) -> Self {
        self.force = yes;
        self
    }
    /// Keeps state in `dir`.
    #[must_use]
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }
}

/// Rolls back the newest applied update, or with `to` every update after it,
/// newest first (spec §6). Each rollback is itself applied and recorded, and
/// its report carries its own restart impact.
///
/// # Errors
/// Nothing to roll back, an unknown id, drift without `force`, or a failed apply.
pub fn rollback(app_path: &Path, options: &RollbackOptions) -> Result<Vec<ApplyReport>> {
    let state = state_of(app_path, options.state_dir.as_deref())?;
    // A dry run writes nothing: no lock, no recovery (a pending one is refused).
    let _lock = if options.dry_run {
        ensure_not_interrupted(app_path, options.state_dir.as_deref())?;
        None
    } else {
        let lock = state.lock(app_path)?;
        settle(app_path, &state)?;
        Some(lock)
    };
    // The records are moved into the targets, not cloned: a full update's
    // record holds one change per file of the application.
    let records = state.records()?;
    let undoable = |r: &Record| r.status == Status::Applied && r.rolls_back.is_none();
    let targets: Vec<Record> = match &options.to {
        Some(to) => {
            let Some(pos) = records.iter().position(|r| &r.id == to) else {
                return Err(Error::refused(
                    format!("--to {to}"),
                    "no such update in the history; see `earpatch history`",
                ));
            };
            let mut after: Vec<Record> = records
                .into_iter()
                .skip(pos + 1)
                .filter(|r| undoable(r))
                .collect();
            after.reverse();
            after
        }
        None => records
            .into_iter()
            .rfind(|r| undoable(r))
            .into_iter()
            .collect(),
    };
    if targets.is_empty() {
        return Err(Error::refused(
            app_path.display().to_string(),
            match &options.to {
                Some(to) => format!(
                    "nothing to roll back: no update applied after {to} is still in force (see `earpatch history`)"
                ),
                None => "nothing to roll back: no applied update in the history".to_owned(),
            },
        ));
    }
    // Every step is checked before the first runs: an update whose undo
    // bundle was pruned stops the whole rollback, not half of it.
    if let Some(pruned) = targets.iter().find(|t| t.pruned_at.is_some()) {
        return Err(Error::refused(
            pruned.id.clone(),
            format!(
                "this update can no longer be rolled back: `earpatch prune` removed its undo bundle on {}; \
                 nothing was rolled back{}",
                pruned.pruned_at.as_deref().unwrap_or("an earlier run"),
                if targets.len() > 1 {
                    " (roll back to a later update with --to, or apply the earlier build as a full update)"
                } else {
                    " (apply the earlier build as a full update instead)"
                }
            ),
        ));
    }
    if let Some(missing) = targets
        .iter()
        .find(|t| !std::fs::symlink_metadata(state.undo_bundle(t)).is_ok_and(|m| m.is_file()))
    {
        return Err(Error::refused(
            state.undo_bundle(missing).display().to_string(),
            format!(
                "the undo bundle of update {} is missing or not a regular file; it cannot be rolled back, \
                 and nothing was rolled back",
                missing.id
            ),
        ));
    }
    let mut reports = Vec::new();
    for mut target in targets {
        let bundle = state.undo_bundle(&target);
        if !std::fs::symlink_metadata(&bundle).is_ok_and(|m| m.is_file()) {
            return Err(Error::refused(
                bundle.display().to_string(),
                format!(
                    "the undo bundle of update {} is missing or not a regular file; it cannot be rolled back",
                    target.id
                ),
            ));
        }
        let update = if target.undo.ends_with(".ear") {
            Update::full(&bundle)?
        } else {
            Update::partial(&bundle)?
        };
        let apply_options = ApplyOptions {
            plan: options.plan,
            dry_run: options.dry_run,
            state_dir: options.state_dir.clone(),
            progress: options.progress.clone(),
            ..ApplyOptions::default()
        };
        let undo = Undoing {
            record: &target,
            force: options.force,
        };
        let report = apply_locked(app_path, &update, &apply_options, &state, Some(undo))?;
        if (report.outcome == Outcome::Applied || report.outcome == Outcome::UpToDate)
            && !options.dry_run
        {
            target.status = Status::RolledBack;
            state.write_record(&target)?;
        }
        reports.push(report);
    }
    Ok(reports)
}

/// The history of the application at `app_path`, oldest first.
///
/// # Errors
/// A record cannot be read.
pub fn history(app_path: &Path, state_dir: Option<&Path>) -> Result<Vec<Record>> {
    state_of(app_path, state_dir)?.records()
}
