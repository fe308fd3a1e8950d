//! [`verify`]: re-hash everything, ignoring the content index, compare
//! with what the last operation left, name the files that drifted, and
//! refresh the index. It never changes the application.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::recover::{ensure_not_interrupted, state_of};
use crate::error::Result;
use crate::model::index::ScanStart;
use crate::model::scan::ScanStats;
use crate::model::{Application, Digest, Form};
use crate::path::EntryPath;
use crate::progress::Progress;
use crate::state::{StateDir, Status};

/// Options for [`verify`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Where state is kept (default `<app>.earpatch/`).
    pub state_dir: Option<PathBuf>,
    /// Compare with this digest instead of the one the last operation
    /// recorded (e.g. the master copy's, across a fleet).
    pub expect_digest: Option<Digest>,
    /// Progress reports while every file is read, and cancellation.
    pub progress: Option<Progress>,
}

impl VerifyOptions {
    /// Keeps state in `dir`.
    #[must_use]
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }
    /// Compares with `digest`.
    #[must_use]
    pub fn expect_digest(mut self, digest: Digest) -> Self {
        self.expect_digest = Some(digest);
        self
    }
    /// Reports progress to `progress`.
    #[must_use]
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }
}

/// Where the digest [`verify`] compares with comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Baseline {
    /// `--expect-digest`.
    Option,
    /// The digest after the last update or rollback in the history.
    Record,
    /// The content index (written by an earlier `verify`, with no history).
    Index,
    /// Nothing to compare with: the application has no earpatch state.
    None,
}

/// How a drifted file differs from what the last operation left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Drift {
    /// Its bytes differ.
    Modified,
    /// It was not there.
    Added,
    /// It is gone.
    Deleted,
}

/// One file that drifted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftedFile {
    /// The path from the application root.
    pub path: EntryPath,
    /// How it differs.
    pub change: Drift,
}

/// What [`verify`] found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The application.
    pub application: PathBuf,
    /// Its form.
    pub form: Form,
    /// The digest of what is there now (every file read).
    pub digest: Digest,
    /// The digest it should have, if known.
    pub expected: Option<Digest>,
    /// Where `expected` comes from.
    pub baseline: Baseline,
    /// The files that differ from the last known content, when the index
    /// holds it (it does unless it was lost or damaged); sorted.
    pub drifted: Vec<DriftedFile>,
    /// Whether `drifted` is the complete list (false when the application
    /// drifted but the index that would name the files was missing,
    /// damaged, or describes other content than `expected`).
    pub drifted_known: bool,
    /// Files read and hashed.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// What happened to the content index: `refreshed` (the application is
    /// as expected, or had no baseline), `kept` (it drifted: the index keeps
    /// describing the expected content, so later runs still name the files).
    pub index: &'static str,
    /// Why the index was ignored, if it was.
    pub index_problem: Option<String>,
}

impl VerifyReport {
    /// Whether the application is what it should be (or nothing says what
    /// it should be).
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.expected.is_none_or(|e| e == self.digest)
    }
}

/// Re-reads every file of the application at `app_path` (ignoring the
/// content index), compares its digest with the one the last operation
/// recorded (or `options.expect_digest`), lists the files that drifted, and
/// refreshes the index. The application is never changed; an interrupted
/// operation is refused as reading commands refuse it (run `recover`).
///
/// ```
/// # fn main() -> ear_core::Result<()> {
/// # let dir = tempfile::tempdir().map_err(|e| ear_core::Error::Io { action: "tmp", path: ".".into(), source: e })?;
/// # let ear = dir.path().join("shop.ear");
/// # let zip = dir.path().join("shop-fix.zip");
/// # std::fs::write(&ear, ear_fixtures::sample::shop_ear()).map_err(|e| ear_core::Error::Io { action: "w", path: ear.clone(), source: e })?;
/// # std::fs::write(&zip, ear_fixtures::sample::shop_fix_zip()).map_err(|e| ear_core::Error::Io { action: "w", path: zip.clone(), source: e })?;
/// use ear_core::{apply, verify, ApplyOptions, Update, VerifyOptions};
/// apply(&ear, &Update::infer(&zip)?, &ApplyOptions::default())?;
/// let report = verify(&ear, &VerifyOptions::default())?;
/// assert!(report.is_clean() && report.drifted.is_empty());
/// # Ok(()) }
/// ```
///
/// # Errors
/// The application cannot be read, an operation is interrupted, or the
/// state folder is locked by a running operation.
pub fn verify(app_path: &Path, options: &VerifyOptions) -> Result<VerifyReport> {
    let state = state_of(app_path, options.state_dir.as_deref())?;
    ensure_not_interrupted(app_path, options.state_dir.as_deref())?;
    state
        .lock(app_path)
        .and_then(|_lock| verify_locked(app_path, &state, options))
}

fn verify_locked(
    app_path: &Path,
    state: &StateDir,
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    let app = Application::open(app_path)?;
    // The index is read first only for what it says of itself (its form and
    // digest), and dropped: it is not held while the application is read. It
    // is read again only when the application drifted, to name the files.
    let (index, index_problem) = state.read_index();
    let index_digest = index.filter(|i| i.form() == app.form()).map(|i| i.digest());
    let start = ScanStart::now();
    let fresh = app.scan(None, start, options.progress.as_ref())?;
    let digest = fresh.inventory.digest();
    let ScanStats {
        files_hashed,
        bytes_hashed,
        ..
    } = fresh.stats;
    let fresh = fresh.index();
    let last_record = state
        .records()?
        .into_iter()
        .rev()
        .find(|r| r.status == Status::Applied);
    let (expected, baseline) = match (options.expect_digest, &last_record, index_digest) {
        (Some(d), _, _) => (Some(d), Baseline::Option),
        (None, Some(r), _) => (Some(r.digest_after), Baseline::Record),
        (None, None, Some(i)) => (Some(i), Baseline::Index),
        (None, None, None) => (None, Baseline::None),
    };
    let index_knows = index_digest.is_some() && index_digest == expected;
    let mut drifted = Vec::new();
    let clean = expected.is_none_or(|e| e == digest);
    if !clean
        && index_knows
        && let (Some(known), _) = state.read_index()
        && known.form() == app.form()
        && Some(known.digest()) == expected
    {
        drifted = compare(&known.files(), &fresh.files());
    }
    let drifted_known = clean || index_knows;
    // A clean application gets a fresh index; a drifted one keeps the index
    // of its expected content, so that the files stay named until the next
    // apply or rollback (which reads the drifted files again by their stamps).
    let kept = if clean || index_digest.is_none() {
        state.write_index(&fresh)?;
        "refreshed"
    } else {
        "kept"
    };
    Ok(VerifyReport {
        application: app_path.to_path_buf(),
        form: app.form(),
        digest,
        expected,
        baseline,
        drifted,
        drifted_known,
        files: files_hashed,
        bytes: bytes_hashed,
        index: kept,
        index_problem,
    })
}

/// The files that differ between two sorted listings.
fn compare(
    known: &[(EntryPath, u64, [u8; 32])],
    now: &[(EntryPath, u64, [u8; 32])],
) -> Vec<DriftedFile> {
    let mut out = Vec::new();
    let (mut a, mut b) = (known.iter().peekable(), now.iter().peekable());
    loop {
        let change = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(x), Some(y)) if x.0 == y.0 => {
                let modified = x.2 != y.2;
                let path = x.0.clone();
                a.next();
                b.next();
                if !modified {
                    continue;
                }
                (path, Drift::Modified)
            }
            (Some(x), Some(y)) if x.0 < y.0 => {
                let path = x.0.clone();
                a.next();
                (path, Drift::Deleted)
            }
            (Some(x), None) => {
                let path = x.0.clone();
                a.next();
                (path, Drift::Deleted)
            }
            (_, Some(y)) => {
                let path = y.0.clone();
                b.next();
                (path, Drift::Added)
            }
        };
        out.push(DriftedFile {
            path: change.0,
            change: change.1,
        });
    }
    out
}
