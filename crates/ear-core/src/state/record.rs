//! History records (`history/<id>/record.json`, schema
//! `earpatch.record/v1`): what was applied, when, with which impact and
//! digests, and its status. Data only: reading and writing them is
//! [`super::StateDir`]'s job.

use serde::{Deserialize, Serialize};

use crate::impact::Impact;
use crate::model::Digest;
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
    /// parsed tree). `serde_json::from_str(record.plan.get())` parses it.
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
