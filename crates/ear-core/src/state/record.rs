//! History records (`history/<id>/record.json`, schema
//! `earpatch.record/v1`): what was applied, when, with which impact and
//! digests, and its status, and the typed view of the plan a record keeps
//! ([`RecordedPlan`], parsed on demand by [`Record::plan`]). Data only:
//! reading and writing them is [`super::StateDir`]'s job.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::impact::{Effect, Escalation, Impact, Rule};
use crate::model::{Digest, Scope, Warning};
use crate::path::EntryPath;
use crate::plan::{ModuleChange, Op, PLAN_SCHEMA, PlannedApplication, PlannedUpdate};
use crate::update::UpdateKind;

/// The schema name of a history record.
pub const RECORD_SCHEMA: &str = "earpatch.record/v1";

/// The status of a history record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Being applied (seen only after a crash; `recover` settles it).
    Applying,
    /// Applied.
    Applied,
    /// Undone by a rollback.
    RolledBack,
    /// Interrupted and undone.
    Failed,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Applying => "applying",
            Status::Applied => "applied",
            Status::RolledBack => "rolled-back",
            Status::Failed => "failed",
        })
    }
}

/// One applied update (spec §6).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// `earpatch.record/v1`.
    pub schema: String,
    /// `YYYYMMDD_HHMMSS_<name>` in UTC.
    pub id: String,
    /// Order of application (ids of one second share a timestamp).
    pub seq: u64,
    /// The update kind (`partial`, `module`, `file`, `full`).
    pub kind: UpdateKind,
    /// The update file as given.
    pub source: String,
    /// SHA-256 of the update file (for a directory: its content digest).
    pub source_sha256: String,
    /// When it was applied (RFC 3339, UTC).
    pub applied_at: String,
    /// The status.
    pub status: Status,
    /// Content digest before.
    pub digest_before: Digest,
    /// Content digest after.
    pub digest_after: Digest,
    /// The restart impact.
    pub impact: Impact,
    /// The plan (spec §8 JSON), kept as its JSON text: records are listed
    /// often and a full update's plan lists every file (tens of MB as a
    /// parsed tree). [`Record::plan`] parses it, when asked, into a
    /// [`RecordedPlan`].
    pub plan: Box<serde_json::value::RawValue>,
    /// File name of the undo bundle in the record's folder.
    pub undo: String,
    /// For a rollback: the id of the record it undid.
    pub rolls_back: Option<String>,
    /// When `earpatch prune` removed the undo bundle of this update, still
    /// in force, and kept the record as a summary (RFC 3339, UTC): it can no
    /// longer be rolled back. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruned_at: Option<String>,
}

/// The undo bundle file names a record may name.
pub(crate) const UNDO_NAMES: [&str; 2] = ["undo.zip", "previous.ear"];

/// Whether `id` has the documented form `YYYYMMDD_HHMMSS_<name>`: one path
/// component of ASCII letters, digits, `-`, `.` and `_`, never `.` or `..`.
pub(crate) fn is_record_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() > 16
        && bytes.len() <= 80
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[8] == b'_'
        && bytes[9..15].iter().all(u8::is_ascii_digit)
        && bytes[15] == b'_'
        && bytes[16..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !id[16..].starts_with('.')
}

impl Record {
    /// The plan this record keeps, parsed now (records hold it as JSON
    /// text: listing records never parses plans).
    ///
    /// ```
    /// # fn main() -> ear_core::Result<()> {
    /// # let io = |e| ear_core::Error::Io { action: "tmp", path: ".".into(), source: e };
    /// # let dir = tempfile::tempdir().map_err(io)?;
    /// # let ear = dir.path().join("shop.ear");
    /// # let zip = dir.path().join("shop-fix.zip");
    /// # std::fs::write(&ear, ear_fixtures::sample::shop_ear()).map_err(io)?;
    /// # std::fs::write(&zip, ear_fixtures::sample::shop_fix_zip()).map_err(io)?;
    /// use ear_core::{ApplyOptions, Op, Update, apply, history};
    /// apply(&ear, &Update::infer(&zip)?, &ApplyOptions::default())?;
    /// let records = history(&ear, None)?;
    /// let plan = records[0].plan()?;
    /// assert_eq!(plan.application.digest, Some(records[0].digest_before));
    /// assert!(plan.changes.iter().any(|c| c.op == Op::Replace));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The plan is not an `earpatch.plan/v1` object as earpatch writes it
    /// (the record was damaged or edited); the error names the record.
    pub fn plan(&self) -> Result<RecordedPlan> {
        let unreadable = |why: String| {
            Error::refused(
                format!("history/{}/record.json", self.id),
                format!(
                    "the plan of history record {} cannot be read: {why}; the record was damaged or edited \
                     (restore it from a backup)",
                    self.id
                ),
            )
        };
        let plan: RecordedPlan =
            serde_json::from_str(self.plan.get()).map_err(|e| unreadable(e.to_string()))?;
        if plan.schema != PLAN_SCHEMA {
            return Err(unreadable(format!(
                "its schema {:?} is not {PLAN_SCHEMA}",
                plan.schema
            )));
        }
        Ok(plan)
    }

    /// Records are data read from disk: checks that this one is what
    /// earpatch writes, found in the folder `folder` of the history.
    pub(crate) fn check(&self, folder: &str) -> std::result::Result<(), String> {
        if self.schema != RECORD_SCHEMA {
            return Err(format!("schema {:?} is not {RECORD_SCHEMA}", self.schema));
        }
        if !is_record_id(&self.id) {
            return Err(format!(
                "id {:?} is not of the form YYYYMMDD_HHMMSS_<name>",
                self.id
            ));
        }
        if self.id != folder {
            return Err(format!(
                "id {:?} is not its folder's name {folder:?}",
                self.id
            ));
        }
        if !UNDO_NAMES.contains(&self.undo.as_str()) {
            return Err(format!(
                "undo bundle {:?} is not undo.zip or previous.ear in the record's folder",
                self.undo
            ));
        }
        if let Some(other) = self.rolls_back.as_deref().filter(|r| !is_record_id(r)) {
            return Err(format!("rolls_back {other:?} is not a record id"));
        }
        Ok(())
    }
}

/// A plan as a history record keeps it: the `earpatch.plan/v1` JSON of the
/// [`crate::Plan`] that was applied (spec §8), read back by [`Record::plan`].
/// It holds what the JSON holds: not the settings, nor the module list, nor
/// where each change's new bytes came from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RecordedPlan {
    /// `earpatch.plan/v1`.
    pub schema: String,
    /// The application the plan was computed against (its digest is the
    /// digest before the update).
    pub application: PlannedApplication,
    /// The update.
    pub update: PlannedUpdate,
    /// Every change, sorted by path.
    pub changes: Vec<RecordedChange>,
    /// The strongest effect and the module actions.
    pub impact: Impact,
    /// The warnings the plan had.
    pub warnings: Vec<Warning>,
}

/// One change of a [`RecordedPlan`]: the JSON fields of a [`crate::Change`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RecordedChange {
    /// The full path (for a whole-module change, the module URI).
    pub path: EntryPath,
    /// The scope: the application, or the module holding the file.
    pub scope: Scope,
    /// What happened.
    pub op: Op,
    /// The rule that classified it; `None` when unchanged.
    pub rule: Option<Rule>,
    /// The rule's own effect, or the escalated one when `escalated_by` is set.
    pub effect: Effect,
    /// The setting that escalated the effect to restart-application.
    pub escalated_by: Option<Escalation>,
    /// For a whole-module change: what changed inside the module.
    #[serde(default)]
    pub module: Option<ModuleChange>,
}
