//! `apply` (spec §5, §6): plan an update and write it, in place with a
//! history record and an undo bundle, or to a new file with `-o`; the
//! preconditions (expected digest, strict, free space: `preconditions.rs`)
//! are checked first.
//!
//! An operation combines the layers (plan, write, state); it holds no
//! format or layout knowledge of its own.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::approval::{Approval, check_approved, source_sha256};
use super::content;
use super::preconditions::{check_expected, check_space, check_strict};
use super::recover::{Recovery, ensure_not_interrupted, settle, state_of};
use crate::clock::UtcTime;
use crate::error::{Error, Result};
use crate::fs::{check_output, fail_point};
use crate::model::index::ScanStart;
use crate::model::{Application, Digest, Form, Inventory, ScanStats, Scope};
use crate::plan::{Op, Plan, PlanOptions};
use crate::progress::{Meter, Progress};
use crate::state::undo::write_undo;
use crate::state::{RECORD_SCHEMA, Record, StateDir, Status};
use crate::update::Update;
use crate::write::expanded;
use crate::write::{ChangeSet, predict, write_application};

/// Options for [`apply`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// Planning options (settings).
    pub plan: PlanOptions,
    /// Write the result here and leave the application untouched (no history).
    pub output: Option<PathBuf>,
    /// Where state is kept (default `<app>.earpatch/`).
    pub state_dir: Option<PathBuf>,
    /// Refuse unless the application's digest is this one.
    pub expect_digest: Option<Digest>,
    /// Stop after planning.
    pub dry_run: bool,
    /// Refuse when the plan has warnings.
    pub strict: bool,
    /// Free bytes to assume instead of asking the file system (for tests and
    /// for operators who want a safety margin).
    pub available_space: Option<u64>,
    /// Apply only what was reviewed: see [`Approval`].
    pub approved: Option<Approval>,
    /// Progress reports while the application's content is read and while
    /// the undo bundle and the new application are written, and
    /// cancellation (honoured until the application starts to change: see
    /// [`crate::progress`]).
    pub progress: Option<Progress>,
}

impl ApplyOptions {
    /// Sets the planning options.
    #[must_use]
    pub fn plan(mut self, plan: PlanOptions) -> Self {
        self.plan = plan;
        self
    }
    /// Writes to `out` instead of in place.
    #[must_use]
    pub fn output(mut self, out: impl Into<PathBuf>) -> Self {
        self.output = Some(out.into());
        self
    }
    /// Keeps state in `dir`.
    #[must_use]
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }
    /// Requires this content digest.
    #[must_use]
    pub fn expect_digest(mut self, digest: Digest) -> Self {
        self.expect_digest = Some(digest);
        self
    }
    /// Plans only.
    #[must_use]
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }
    /// Refuses plans with warnings.
    #[must_use]
    pub fn strict(mut self, yes: bool) -> Self {
        self.strict = yes;
        self
    }
    /// Assumes this much free space.
    #[must_use]
    pub fn available_space(mut self, bytes: u64) -> Self {
        self.available_space = Some(bytes);
        self
    }
    /// Applies only the plan `approval` was made of (approve, then apply).
    ///
    /// ```
    /// # fn main() -> ear_core::Result<()> {
    /// # let dir = tempfile::tempdir().map_err(|e| ear_core::Error::Io { action: "tmp", path: ".".into(), source: e })?;
    /// # let ear = dir.path().join("shop.ear");
    /// # let zip = dir.path().join("shop-fix.zip");
    /// # std::fs::write(&ear, ear_fixtures::sample::shop_ear()).map_err(|e| ear_core::Error::Io { action: "w", path: ear.clone(), source: e })?;
    /// # std::fs::write(&zip, ear_fixtures::sample::shop_fix_zip()).map_err(|e| ear_core::Error::Io { action: "w", path: zip.clone(), source: e })?;
    /// use ear_core::{apply, Application, Approval, ApplyOptions, Outcome, Plan, PlanOptions, Update};
    /// let update = Update::infer(&zip)?;
    /// let plan = Plan::new(&Application::open(&ear)?, &update, &PlanOptions::default())?;
    /// // ... a reviewer reads the plan and its impact, then approves it:
    /// let approval = Approval::of(&plan, &update)?;
    /// let report = apply(&ear, &update, &ApplyOptions::default().approved(approval.clone()))?;
    /// assert_eq!(report.outcome, Outcome::Applied);
    /// // The application has changed since: the same approval is refused.
    /// assert!(apply(&ear, &update, &ApplyOptions::default().approved(approval)).is_err());
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn approved(mut self, approval: Approval) -> Self {
        self.approved = Some(approval);
        self
    }
    /// Reports progress to `progress`.
    #[must_use]
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The update was applied.
    Applied,
    /// Every file already had the update's bytes: nothing was written.
    UpToDate,
    /// `dry_run`: nothing was written.
    DryRun,
}

/// The result of [`apply`] or of one step of [`crate::rollback`].
#[derive(Debug, Clone)]
pub struct ApplyReport {
    /// The plan that was executed.
    pub plan: Plan,
    /// What happened.
    pub outcome: Outcome,
    /// Where the result was written.
    pub output: PathBuf,
    /// The record, for in-place applies.
    pub record: Option<Record>,
    /// The digest after.
    pub digest_after: Option<Digest>,
    /// An interrupted earlier apply that was settled first.
    pub recovered: Option<Recovery>,
    /// The state folder given instead of the default `APP.earpatch/` (so
    /// that hints name it).
    pub state_dir: Option<PathBuf>,
    /// A rollback step forced over changes made outside earpatch: the
    /// application is not exactly as it was before the undone update.
    pub forced_over_drift: bool,
    /// What reading the application's content cost (when its digest was
    /// computed): with a warm content index, only what changed is read.
    pub scanned: Option<ScanStats>,
}

/// Plans `update` against the application at `app_path` and applies it:
/// in place with history (the default), or to `options.output`.
///
/// ```
/// # fn main() -> ear_core::Result<()> {
/// # let dir = tempfile::tempdir().map_err(|e| ear_core::Error::Io { action: "tmp", path: ".".into(), source: e })?;
/// # let ear = dir.path().join("shop.ear");
/// # let zip = dir.path().join("shop-fix.zip");
/// # std::fs::write(&ear, ear_fixtures::sample::shop_ear()).map_err(|e| ear_core::Error::Io { action: "w", path: ear.clone(), source: e })?;
/// # std::fs::write(&zip, ear_fixtures::sample::shop_fix_zip()).map_err(|e| ear_core::Error::Io { action: "w", path: zip.clone(), source: e })?;
/// use ear_core::{apply, rollback, ApplyOptions, Outcome, RollbackOptions};
/// use ear_core::Update;
/// let before = ear_core::Application::open(&ear)?.digest()?;
/// let report = apply(&ear, &Update::infer(&zip)?, &ApplyOptions::default())?;
/// assert_eq!(report.outcome, Outcome::Applied);
/// let again = apply(&ear, &Update::infer(&zip)?, &ApplyOptions::default())?;
/// assert_eq!(again.outcome, Outcome::UpToDate);
/// rollback(&ear, &RollbackOptions::default())?;
/// assert_eq!(ear_core::Application::open(&ear)?.digest()?, before);
/// # Ok(()) }
/// ```
///
/// # Errors
/// The plan is refused, a precondition fails (`expect_digest`, free space,
/// lock, strict), or writing fails; the application is then unchanged.
pub fn apply(app_path: &Path, update: &Update, options: &ApplyOptions) -> Result<ApplyReport> {
    if let Some(out) = &options.output {
        check_output(out, &[app_path, update.source()])?;
        return apply_to_output(app_path, update, options, out);
    }
    let state = state_of(app_path, options.state_dir.as_deref())?;
    if options.dry_run {
        // Planning only: no lock, no state folder, no recovery, nothing
        // written; a pending recovery is refused as reading commands do.
        ensure_not_interrupted(app_path, options.state_dir.as_deref())?;
        return apply_to_output(app_path, update, options, app_path);
    }
    let created = !state.path().exists();
    let result = state.lock(app_path).and_then(|_lock| {
        let recovered = settle(app_path, &state)?;
        let mut report = apply_locked(app_path, update, options, &state, None)?;
        report.recovered = recovered.filter(|r| *r != Recovery::Clean);
        Ok(report)
    });
    if result.is_err() && created && !state.history().exists() {
        // A refused first apply leaves no state folder behind.
        let _ = std::fs::remove_dir_all(state.path());
    }
    result
}

fn apply_to_output(
    app_path: &Path,
    update: &Update,
    options: &ApplyOptions,
    out: &Path,
) -> Result<ApplyReport> {
    let app = Application::open_with(app_path, &options.plan.limits)?;
    // Without history the digest is needed only to check --expect-digest:
    // computing it reads every file (less what the content index vouches
    // for; the index is read, never written here), so it is skipped otherwise.
    let inventory = if options.expect_digest.is_some()
        || options.approved.is_some()
        || (options.dry_run && options.plan.digest)
    {
        Some(content::inventory(&app, options.state_dir.as_deref())?)
    } else {
        None
    };
    if let Some(inv) = &inventory {
        check_expected(app_path, inv.digest(), options)?;
    }
    let mut plan = Plan::build(
        &app,
        update,
        &options.plan.digest(false),
        inventory.as_ref(),
    )?;
    plan.application.digest = inventory.as_ref().map(Inventory::digest);
    check_strict(&plan, options)?;
    if let Some(inv) = &inventory {
        check_approved(
            app_path,
            update,
            &plan,
            inv.digest(),
            options.approved.as_ref(),
        )?;
    }
    if options.dry_run {
        return Ok(ApplyReport {
            plan,
            outcome: Outcome::DryRun,
            output: out.to_path_buf(),
            record: None,
            digest_after: None,
            recovered: None,
            state_dir: options.state_dir.clone(),
            forced_over_drift: false,
            scanned: None,
        });
    }
    let mut set = ChangeSet::build(&app, update, &plan)?;
    set.meter = Meter::new(options.progress.as_ref());
    check_space(&app, &set, &plan, options, out, None)?;
    let after = match inventory {
        Some(inv) => Some(predict(inv, &set)?.digest),
        None => None,
    };
    write_application(&app, &set, out, None)?;
    let outcome = if plan.is_noop() {
        Outcome::UpToDate
    } else {
        Outcome::Applied
    };
    Ok(ApplyReport {
        plan,
        outcome,
        output: out.to_path_buf(),
        record: None,
        digest_after: after,
        recovered: None,
        state_dir: options.state_dir.clone(),
        forced_over_drift: false,
        scanned: None,
    })
}

fn update_name(update: &Update) -> String {
    let stem = update
        .source()
        .file_stem()
        .map_or_else(|| "update".into(), |s| s.to_string_lossy().into_owned());
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    clean.chars().take(48).collect()
}

/// Removes the folder of a record whose apply changed nothing, and the
/// history folder if it was the only record (a first apply then leaves no
/// state folder: see [`apply`]).
fn forget_record(state: &StateDir, record_dir: &Path) {
    let _ = std::fs::remove_dir_all(record_dir);
    let _ = std::fs::remove_dir(state.history());
}

/// The record a rollback step undoes, and whether drift is ignored.
#[derive(Debug, Clone, Copy)]
pub(super) struct Undoing<'a> {
    pub(super) record: &'a Record,
    pub(super) force: bool,
}

pub(super) fn apply_locked(
    app_path: &Path,
    update: &Update,
    options: &ApplyOptions,
    state: &StateDir,
    undoing: Option<Undoing<'_>>,
) -> Result<ApplyReport> {
    let app = Application::open_with(app_path, &options.plan.limits)?;
    let start = ScanStart::now();
    let mut scan = content::scan(&app, state, start, options.progress.as_ref())?;
    let inventory = &scan.inventory;
    let digest = inventory.digest();
    check_expected(app_path, digest, options)?;
    if let Some(undo) = undoing.filter(|u| !u.force && digest != u.record.digest_after) {
        return Err(Error::Refused {
            location: app_path.display().to_string(),
            message: format!(
                "the application changed outside earpatch since update {} (digest {digest}, recorded {}); \
                 someone may have hot-deployed files. Use --force to roll back anyway",
                undo.record.id, undo.record.digest_after
            ),
        });
    }
    let rolls_back = undoing.map(|u| u.record.id.as_str());
    let forced_over_drift = undoing.is_some_and(|u| digest != u.record.digest_after);
    let mut plan = Plan::build(&app, update, &options.plan.digest(false), Some(inventory))?;
    plan.application.digest = Some(digest);
    check_strict(&plan, options)?;
    check_approved(app_path, update, &plan, digest, options.approved.as_ref())?;
    let output = app_path.to_path_buf();
    if options.dry_run {
        return Ok(ApplyReport {
            plan,
            outcome: Outcome::DryRun,
            output,
            record: None,
            digest_after: None,
            recovered: None,
            state_dir: options.state_dir.clone(),
            forced_over_drift: false,
            scanned: Some(scan.stats),
        });
    }
    if plan.is_noop() {
        let scanned = Some(scan.stats);
        content::keep_index(state, scan);
        state.event("up-to-date", None, &update.source().display().to_string());
        return Ok(ApplyReport {
            plan,
            outcome: Outcome::UpToDate,
            output,
            record: None,
            digest_after: Some(digest),
            recovered: None,
            state_dir: options.state_dir.clone(),
            forced_over_drift: false,
            scanned,
        });
    }
    let mut set = ChangeSet::build(&app, update, &plan)?;
    set.meter = Meter::new(options.progress.as_ref());
    let backups: u64 = plan
        .effective_changes()
        .filter(|c| matches!(c.op, Op::Replace | Op::Delete))
        .filter_map(|c| {
            let rel = match &c.scope {
                Scope::Application => c.path.clone(),
                Scope::Module(uri) => c.path.strip_dir(uri)?,
            };
            let files = &inventory.scope(&c.scope)?.files;
            files
                .binary_search_by(|f| f.path.cmp(&rel))
                .ok()
                .map(|i| files[i].size)
        })
        .sum();
    check_space(&app, &set, &plan, options, &output, Some((state, backups)))?;
    // The inventory moves into the prediction, which moves into the new
    // index: the file list is held once.
    let predicted = predict(scan.take_inventory(), &set)?;
    let digest_after = predicted.digest;

    let now = UtcTime::now();
    let records = state.records()?;
    let name = match rolls_back {
        Some(_) => "rollback".to_owned(),
        None => update_name(update),
    };
    let (id, record_dir) = state.new_record_dir(&now, &name)?;
    let undo = write_undo(&app, &plan, &set, &record_dir).inspect_err(|_| {
        // Nothing was changed and no record written: the folder goes.
        forget_record(state, &record_dir);
    })?;
    let mut record = Record {
        schema: RECORD_SCHEMA.into(),
        id: id.clone(),
        seq: records.iter().map(|r| r.seq).max().map_or(1, |s| s + 1),
        kind: update.kind(),
        source: update.source().display().to_string(),
        source_sha256: source_sha256(update)?,
        applied_at: now.rfc3339(),
        status: Status::Applying,
        digest_before: digest,
        digest_after,
        impact: plan.impact.clone(),
        plan: serde_json::value::to_raw_value(&plan)
            .map_err(|e| Error::io("cannot write", &record_dir, e.into()))?,
        undo,
        rolls_back: rolls_back.map(str::to_owned),
        pruned_at: None,
    };
    state.write_record(&record)?;
    fail_point("after-record");
    let journal = state.journal();
    if let Err(err) = write_application(&app, &set, &output, Some(&journal)) {
        // Put back what was changed, then say why it failed.
        if app.form() == Form::Expanded {
            let _ = expanded::recover(app_path, &journal);
        }
        if matches!(err, Error::Cancelled) {
            // Cancelled before the application changed (see `crate::progress`):
            // nothing happened, so nothing is recorded.
            forget_record(state, &record_dir);
            state.event("cancelled", None, &update.source().display().to_string());
            return Err(err);
        }
        record.status = Status::Failed;
        let _ = state.write_record(&record);
        state.event("failed", Some(&id), &err.to_string());
        return Err(err);
    }
    content::index_written(&app, &mut scan, &set, state, predicted, start);
    record.status = Status::Applied;
    if let Err(err) = state.write_record(&record) {
        // The application is the new version; only its record lags behind.
        return Err(Error::Refused {
            location: app_path.display().to_string(),
            message: format!(
                "the update was applied (digest {} -> {}) but its history record could not be completed ({}); \
                 the next earpatch command on this application settles it, e.g. `earpatch recover {}{}`",
                record.digest_before,
                record.digest_after,
                crate::model::inventory::error_chain(&err),
                app_path.display(),
                options
                    .state_dir
                    .as_ref()
                    .map_or_else(String::new, |d| format!(" --state-dir {}", d.display()))
            ),
        });
    }
    let mut lines = vec![
        format!(
            "{} {} {} update {}",
            record.applied_at,
            if rolls_back.is_some() {
                "rollback"
            } else {
                "apply"
            },
            record.kind,
            record.source
        ),
        format!("digest before {}", record.digest_before),
        format!("digest after  {}", record.digest_after),
        format!("impact {}", record.impact.effect),
    ];
    lines.extend(plan.effective_changes().map(|c| {
        format!(
            "{:<9} {} {} {}",
            c.op.to_string(),
            c.path,
            c.rule.map(|r| r.to_string()).unwrap_or_default(),
            c.effect
        )
    }));
    state.log(&id, &lines);
    state.event(
        if rolls_back.is_some() {
            "rollback"
        } else {
            "apply"
        },
        Some(&id),
        &record.source,
    );
    Ok(ApplyReport {
        plan,
        outcome: Outcome::Applied,
        output,
        record: Some(record),
        digest_after: Some(digest_after),
        recovered: None,
        state_dir: options.state_dir.clone(),
        forced_over_drift,
        scanned: Some(scan.stats),
    })
}
