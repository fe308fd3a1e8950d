//! [`status`]: one view of an application updated in place, in the spirit
//! of WebSphere's `versionInfo`/`historyInfo`: its digest (read through the
//! content index), the updates in force, an interrupted operation, whether
//! files changed since the last operation (a cheap stamp comparison, no
//! hashing: `verify` is the certain check) and what the state folder holds.
//!
//! Reads only: it takes no lock, recovers nothing and writes nothing, not
//! even the content index (spec §9.9). One scan gives both the digest and
//! the current stamps, as `inventory` reads (the index read once).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::recover::{interrupted, state_of};
use super::verify::Baseline;
use crate::error::Result;
use crate::impact::Impact;
use crate::limits::Limits;
use crate::model::index::{ContentIndex, ScanStart};
use crate::model::{Application, Digest, Form};
use crate::state::{Record, StateDir, Status, tree_bytes};
use crate::update::UpdateKind;

/// Options for [`status`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct StatusOptions {
    /// Where state is kept (default `<app>.earpatch/`).
    pub state_dir: Option<PathBuf>,
    /// Bounds on reading the application.
    pub limits: Limits,
}

impl StatusOptions {
    /// Keeps state in `dir`.
    #[must_use]
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }
    /// Reads the application under `limits`.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// One update in force: applied in place and not rolled back.
#[derive(Debug, Clone, Serialize)]
pub struct InForce {
    /// The record's id.
    pub id: String,
    /// When it was applied (RFC 3339, UTC).
    pub applied_at: String,
    /// The update kind.
    pub kind: UpdateKind,
    /// The update file as given.
    pub source: String,
    /// Its restart impact.
    pub impact: Impact,
    /// Whether `rollback` can still undo it (its undo bundle is there).
    pub can_roll_back: bool,
    /// When `prune` removed its undo bundle, if it did.
    pub pruned_at: Option<String>,
}

/// What the stamp comparison says about files changed since the last
/// operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeVerdict {
    /// Every file has the stamp the last operation left.
    NoChangeSeen,
    /// Some files' stamps differ: they may have changed (`verify` tells).
    MaybeDrifted,
    /// Nothing to compare with (no content index, or an interrupted
    /// operation).
    Unknown,
}

/// The cheap drift check: stamps compared, no file read.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeCheck {
    /// The verdict.
    pub verdict: ChangeVerdict,
    /// Files (a nested module archive counts as one) whose stamp differs.
    pub changed: u64,
    /// Files the last operation did not leave.
    pub added: u64,
    /// Files the last operation left that are gone.
    pub removed: u64,
    /// Files whose reading warned: kept without a stamp, not checked.
    pub unchecked: u64,
    /// Why the verdict is unknown, when it is.
    pub reason: Option<String>,
}

impl ChangeCheck {
    /// `changed + added + removed`.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.changed + self.added + self.removed
    }

    fn unknown(reason: String) -> ChangeCheck {
        ChangeCheck {
            verdict: ChangeVerdict::Unknown,
            changed: 0,
            added: 0,
            removed: 0,
            unchecked: 0,
            reason: Some(reason),
        }
    }
}

/// What the state folder holds.
#[derive(Debug, Clone, Serialize)]
pub struct StateUsage {
    /// The folder.
    pub path: PathBuf,
    /// Whether it exists (it does once an update was applied in place or
    /// `verify` ran).
    pub exists: bool,
    /// The bytes of every file in it.
    pub bytes: u64,
    /// History records.
    pub records: usize,
    /// Undo bundles still there.
    pub undo_bundles: usize,
    /// Their bytes.
    pub undo_bytes: u64,
}

/// What [`status`] found.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// The application.
    pub application: PathBuf,
    /// Its form.
    pub form: Form,
    /// Its content digest, read through the content index (files whose
    /// stamps the index vouches for are not read); `None` while an operation
    /// is interrupted (the application may hold a mix of old and new files).
    pub digest: Option<Digest>,
    /// The digest the last operation left, if known.
    pub expected: Option<Digest>,
    /// Where `expected` comes from (`record`, `index` or `none`).
    pub baseline: Baseline,
    /// The updates in force, oldest first.
    pub in_force: Vec<InForce>,
    /// Whether an operation was interrupted (run `recover`).
    pub interrupted: bool,
    /// Files changed since the last operation, by their stamps.
    pub changes: ChangeCheck,
    /// The state folder.
    pub state: StateUsage,
}

impl StatusReport {
    /// Whether the digest is the one the last operation left (`None` when
    /// either is unknown).
    #[must_use]
    pub fn digest_matches(&self) -> Option<bool> {
        Some(self.digest? == self.expected?)
    }
}

/// Whether `record` is an update in force: applied and not rolled back
/// (a rollback's own record is not an update).
pub(super) fn in_force(record: &Record) -> bool {
    record.status == Status::Applied && record.rolls_back.is_none()
}

/// Describes the application at `app_path` and its state (see the module
/// docs). Reads only.
///
/// ```
/// # fn main() -> ear_core::Result<()> {
/// # let dir = tempfile::tempdir().map_err(|e| ear_core::Error::Io { action: "tmp", path: ".".into(), source: e })?;
/// # let ear = dir.path().join("shop.ear");
/// # let zip = dir.path().join("shop-fix.zip");
/// # std::fs::write(&ear, ear_fixtures::sample::shop_ear()).map_err(|e| ear_core::Error::Io { action: "w", path: ear.clone(), source: e })?;
/// # std::fs::write(&zip, ear_fixtures::sample::shop_fix_zip()).map_err(|e| ear_core::Error::Io { action: "w", path: zip.clone(), source: e })?;
/// use ear_core::{apply, status, ApplyOptions, ChangeVerdict, StatusOptions, Update};
/// apply(&ear, &Update::infer(&zip)?, &ApplyOptions::default())?;
/// let report = status(&ear, &StatusOptions::default())?;
/// assert_eq!(report.in_force.len(), 1);
/// assert_eq!(report.changes.verdict, ChangeVerdict::NoChangeSeen);
/// assert_eq!(report.digest_matches(), Some(true));
/// # Ok(()) }
/// ```
///
/// # Errors
/// The application cannot be read, or a history record is not one earpatch
/// wrote.
pub fn status(app_path: &Path, options: &StatusOptions) -> Result<StatusReport> {
    let state_dir = options.state_dir.as_deref();
    let state = state_of(app_path, state_dir)?;
    let records = state.records()?;
    let usage = usage(&state, &records);
    let is_interrupted =
        interrupted(app_path, state_dir) || records.iter().any(|r| r.status == Status::Applying);
    let last = records.iter().rev().find(|r| r.status == Status::Applied);
    let in_force_list = records
        .iter()
        .filter(|r| in_force(r))
        .map(|r| InForce {
            id: r.id.clone(),
            applied_at: r.applied_at.clone(),
            kind: r.kind,
            source: r.source.clone(),
            impact: r.impact.clone(),
            can_roll_back: r.pruned_at.is_none()
                && std::fs::symlink_metadata(state.undo_bundle(r)).is_ok_and(|m| m.is_file()),
            pruned_at: r.pruned_at.clone(),
        })
        .collect();
    let form = if app_path.is_dir() {
        Form::Expanded
    } else {
        Form::Archive
    };
    let mut report = StatusReport {
        application: app_path.to_path_buf(),
        form,
        digest: None,
        expected: last.map(|r| r.digest_after),
        baseline: if last.is_some() {
            Baseline::Record
        } else {
            Baseline::None
        },
        in_force: in_force_list,
        interrupted: is_interrupted,
        changes: ChangeCheck::unknown(
            "an operation was interrupted: run `earpatch recover` first".into(),
        ),
        state: usage,
    };
    if is_interrupted {
        return Ok(report);
    }
    let app = Application::open_with(app_path, &options.limits)?;
    report.form = app.form();
    let (index, problem) = state.read_index();
    let index = index.filter(|i| i.form() == app.form());
    // One scan: the digest through the index (files whose stamps changed are
    // read again), and the stamps it took compared with the index's.
    let indexed = index.as_ref().map(|i| (i.stamps(), i.digest()));
    let scan = app.scan(index, ScanStart::now(), None)?;
    report.digest = Some(scan.inventory.digest());
    report.changes = match &indexed {
        Some((stamps, _)) => {
            let check = ContentIndex::compare_stamps(stamps, &scan.stamps());
            let seen = check.changed + check.added + check.removed;
            ChangeCheck {
                verdict: if seen == 0 {
                    ChangeVerdict::NoChangeSeen
                } else {
                    ChangeVerdict::MaybeDrifted
                },
                changed: check.changed,
                added: check.added,
                removed: check.removed,
                unchecked: check.unstamped,
                reason: None,
            }
        }
        None => ChangeCheck::unknown(problem.unwrap_or_else(|| {
            "no content index: no operation has recorded the content yet".into()
        })),
    };
    if report.expected.is_none()
        && let Some((_, digest)) = indexed
    {
        report.expected = Some(digest);
        report.baseline = Baseline::Index;
    }
    Ok(report)
}

/// The size of the state folder and what it holds.
fn usage(state: &StateDir, records: &[Record]) -> StateUsage {
    let mut undo_bundles = 0;
    let mut undo_bytes = 0u64;
    for r in records {
        if let Ok(meta) = std::fs::symlink_metadata(state.undo_bundle(r))
            && meta.is_file()
        {
            undo_bundles += 1;
            undo_bytes += meta.len();
        }
    }
    StateUsage {
        path: state.path().to_path_buf(),
        exists: state.path().is_dir(),
        bytes: tree_bytes(state.path()),
        records: records.len(),
        undo_bundles,
        undo_bytes,
    }
}
