//! Applying in place with history and rollback (spec §5, §6, §7).
//!
//! State lives outside the application, by default in a sibling folder
//! `<app>.earpatch/`:
//!
//! ```text
//! <app>.earpatch/
//!   lock                    one writer at a time (an OS lock; holds the pid)
//!   journal/                an expanded apply in progress
//!   history/<id>/record.json
//!   history/<id>/undo.zip   or previous.ear (full updates, module additions)
//!   logs/<id>.log           what one operation did
//!   events.jsonl            append-only event history
//! ```

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use crate::apply::expanded::{self, Recovery};
use crate::apply::{self, ChangeSet};
use crate::clock::UtcTime;
use crate::error::{Error, Result};
use crate::impact::Impact;
use crate::model::inventory::{full_path_bytes, hash_path, hex, sha256_of};
use crate::model::{Application, Digest, Form, Inventory, Scope};
use crate::path::EntryPath;
use crate::plan::{Op, Plan, PlanOptions};
use crate::update::{DELETE_LIST_PATH, Update, UpdateKind, escape_path};
use sha2::{Digest as _, Sha256};

pub use crate::apply::expanded::Recovery as RecoveryOutcome;

/// The schema name of a history record.
pub const RECORD_SCHEMA: &str = "earpatch.record/v1";

/// Where an application's state is kept.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// `<app>.earpatch/` beside the application, or `dir` when given.
    #[must_use]
    pub fn for_app(app: &Path, dir: Option<&Path>) -> StateDir {
        let root = match dir {
            Some(d) => d.to_path_buf(),
            None => {
                let name = app
                    .file_name()
                    .map_or_else(|| "app".into(), |n| n.to_string_lossy().into_owned());
                apply::parent_dir(app).join(format!("{name}.earpatch"))
            }
        };
        StateDir { root }
    }

    /// The folder.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.root
    }

    fn journal(&self) -> PathBuf {
        self.root.join("journal")
    }

    fn history(&self) -> PathBuf {
        self.root.join("history")
    }

    fn create(&self) -> Result<()> {
        std::fs::create_dir_all(&self.root).map_err(|e| Error::io("cannot create", &self.root, e))
    }

    /// Takes the one-writer lock, or fails at once naming the holder's pid.
    fn lock(&self, app: &Path) -> Result<Lock> {
        self.create()?;
        let path = self.root.join("lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("cannot open", &path, e))?;
        if file.try_lock().is_err() {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            return Err(Error::Refused {
                location: app.display().to_string(),
                message: format!(
                    "another earpatch (pid {}) is changing this application (lock {}); wait for it to finish",
                    pid.trim(),
                    path.display()
                ),
            });
        }
        file.set_len(0)
            .map_err(|e| Error::io("cannot write", &path, e))?;
        write!(file, "{}", std::process::id()).map_err(|e| Error::io("cannot write", &path, e))?;
        Ok(Lock { _file: file })
    }

    /// Every record, oldest first.
    ///
    /// # Errors
    /// A record cannot be read.
    pub fn records(&self) -> Result<Vec<Record>> {
        let dir = self.history();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut records = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("cannot list", &dir, e))?;
            let path = entry.path().join("record.json");
            if !path.exists() {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|e| Error::io("cannot read", &path, e))?;
            let record: Record = serde_json::from_slice(&bytes).map_err(|e| Error::Refused {
                location: path.display().to_string(),
                message: format!("unreadable history record: {e}"),
            })?;
            records.push(record);
        }
        records.sort_by(|a, b| a.seq.cmp(&b.seq).then(a.id.cmp(&b.id)));
        Ok(records)
    }

    fn write_record(&self, record: &Record) -> Result<()> {
        let dir = self.history().join(&record.id);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
        apply::write_json_atomic(&dir, "record.json", record)
    }

    fn event(&self, event: &str, id: Option<&str>, detail: &str) {
        let line = serde_json::json!({
            "time": UtcTime::now().rfc3339(),
            "event": event,
            "id": id,
            "detail": detail,
            "pid": std::process::id(),
        });
        let path = self.root.join("events.jsonl");
        if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{line}");
            let _ = f.sync_data();
        }
    }

    fn log(&self, name: &str, lines: &[String]) {
        let _ = std::fs::create_dir_all(self.root.join("logs"));
        let path = self.root.join("logs").join(format!("{name}.log"));
        if let Ok(mut f) = File::create(path) {
            for l in lines {
                let _ = writeln!(f, "{l}");
            }
        }
    }
}

/// Held while changing an application; released when dropped (or when the
/// process dies: it is an OS lock).
#[derive(Debug)]
struct Lock {
    _file: File,
}

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
    /// The plan (spec §8 JSON).
    pub plan: serde_json::Value,
    /// File name of the undo bundle in the record's folder.
    pub undo: String,
    /// For a rollback: the id of the record it undid.
    pub rolls_back: Option<String>,
}

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

/// The result of [`apply`] or of one step of [`rollback`].
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
    match &options.output {
        Some(out) if out != app_path => apply_to_output(app_path, update, options, out),
        _ => {
            let state = StateDir::for_app(app_path, options.state_dir.as_deref());
            if options.dry_run && !interrupted(app_path, options.state_dir.as_deref()) {
                // Planning only: no lock, no state folder, nothing written.
                return apply_to_output(app_path, update, options, app_path);
            }
            let created = !state.root.exists();
            let result = {
                let _lock = state.lock(app_path)?;
                settle(app_path, &state).and_then(|recovered| {
                    let mut report = apply_locked(app_path, update, options, &state, None)?;
                    report.recovered = recovered.filter(|r| *r != Recovery::Clean);
                    Ok(report)
                })
            };
            if result.is_err() && created && !state.history().exists() {
                // A refused first apply leaves no state folder behind.
                let _ = std::fs::remove_dir_all(&state.root);
            }
            result
        }
    }
}

fn apply_to_output(
    app_path: &Path,
    update: &Update,
    options: &ApplyOptions,
    out: &Path,
) -> Result<ApplyReport> {
    let app = Application::open(app_path)?;
    // Without history the digest is needed only to check --expect-digest:
    // computing it reads every file, so it is skipped otherwise.
    let inventory = if options.expect_digest.is_some() || (options.dry_run && options.plan.digest) {
        Some(app.inventory()?)
    } else {
        None
    };
    if let Some(inv) = &inventory {
        check_expected(app_path, inv.digest(), options)?;
    }
    let mut plan = Plan::new(&app, update, &options.plan.digest(false))?;
    plan.application.digest = inventory.as_ref().map(Inventory::digest);
    check_strict(&plan, options)?;
    if options.dry_run {
        return Ok(ApplyReport {
            plan,
            outcome: Outcome::DryRun,
            output: out.to_path_buf(),
            record: None,
            digest_after: None,
            recovered: None,
        });
    }
    let set = ChangeSet::build(&app, update, &plan)?;
    check_space(&app, &set, 0, options, out)?;
    let after = match &inventory {
        Some(inv) => Some(predict_digest(&app, inv, &set)?),
        None => None,
    };
    apply::write_application(&app, &set, out, None)?;
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
    })
}

fn check_expected(app_path: &Path, digest: Digest, options: &ApplyOptions) -> Result<()> {
    match options.expect_digest {
        Some(expected) if expected != digest => Err(Error::Refused {
            location: app_path.display().to_string(),
            message: format!(
                "--expect-digest {expected} does not match the application's digest {digest}; nothing was written"
            ),
        }),
        _ => Ok(()),
    }
}

fn check_strict(plan: &Plan, options: &ApplyOptions) -> Result<()> {
    if options.strict && !plan.warnings.is_empty() {
        let first = &plan.warnings[0].message;
        return Err(Error::Refused {
            location: "--strict".into(),
            message: format!(
                "the plan has {} warning(s), the first: {first}; nothing was written",
                plan.warnings.len()
            ),
        });
    }
    Ok(())
}

fn check_space(
    app: &Application,
    set: &ChangeSet,
    backups: u64,
    options: &ApplyOptions,
    out: &Path,
) -> Result<()> {
    let dir = apply::parent_dir(out);
    let new_archive = match app.form() {
        Form::Archive => std::fs::metadata(app.path()).map_or(0, |m| m.len()),
        Form::Expanded => 0,
    };
    let needed = new_archive + set.bytes_written() + backups;
    let available = match options.available_space {
        Some(n) => n,
        None => fs4::available_space(&dir)
            .map_err(|e| Error::io("cannot measure the free space of", &dir, e))?,
    };
    if needed > available {
        return Err(Error::Refused {
            location: dir.display().to_string(),
            message: format!(
                "not enough free space: the update needs about {needed} bytes (new archive {new_archive}, new files {}, backups {backups}) and {available} are free; nothing was written",
                set.bytes_written()
            ),
        });
    }
    Ok(())
}

/// Settles an interrupted earlier operation: rolls back an expanded journal,
/// removes leftover temporary archives, and fixes records left `applying`.
fn settle(app_path: &Path, state: &StateDir) -> Result<Option<Recovery>> {
    let recovery = if app_path.is_dir() {
        expanded::recover(app_path, &state.journal())?
    } else {
        let dir = apply::parent_dir(app_path);
        let prefix = apply::temp_prefix(app_path);
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

fn source_sha256(update: &Update) -> Result<String> {
    let path = update.source();
    if path.is_dir() {
        return Ok(Application::open(path)?.digest()?.to_string());
    }
    let mut f = File::open(path).map_err(|e| Error::io("cannot read", path, e))?;
    Ok(format!(
        "sha256:{}",
        hex(&sha256_of(&mut f, &path.display().to_string())?)
    ))
}

/// The record a rollback step undoes, and whether drift is ignored.
#[derive(Debug, Clone, Copy)]
struct Undoing<'a> {
    record: &'a Record,
    force: bool,
}

fn apply_locked(
    app_path: &Path,
    update: &Update,
    options: &ApplyOptions,
    state: &StateDir,
    undoing: Option<Undoing<'_>>,
) -> Result<ApplyReport> {
    let app = Application::open(app_path)?;
    let inventory = app.inventory()?;
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
    let mut plan = Plan::new(&app, update, &options.plan.digest(false))?;
    plan.application.digest = Some(digest);
    check_strict(&plan, options)?;
    let output = app_path.to_path_buf();
    if options.dry_run {
        return Ok(ApplyReport {
            plan,
            outcome: Outcome::DryRun,
            output,
            record: None,
            digest_after: None,
            recovered: None,
        });
    }
    if plan.is_noop() {
        state.event("up-to-date", None, &update.source().display().to_string());
        return Ok(ApplyReport {
            plan,
            outcome: Outcome::UpToDate,
            output,
            record: None,
            digest_after: Some(digest),
            recovered: None,
        });
    }
    let set = ChangeSet::build(&app, update, &plan)?;
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
    check_space(&app, &set, backups, options, &output)?;
    let digest_after = predict_digest(&app, &inventory, &set)?;

    let now = UtcTime::now();
    let records = state.records()?;
    let name = match rolls_back {
        Some(_) => "rollback".to_owned(),
        None => update_name(update),
    };
    let mut id = format!("{}_{name}", now.compact());
    let mut n = 2;
    while state.history().join(&id).exists() {
        id = format!("{}_{name}-{n}", now.compact());
        n += 1;
    }
    let record_dir = state.history().join(&id);
    std::fs::create_dir_all(&record_dir).map_err(|e| Error::io("cannot create", &record_dir, e))?;
    let undo = write_undo(&app, &plan, &set, &record_dir)?;
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
        plan: serde_json::to_value(&plan)
            .map_err(|e| Error::io("cannot write", &record_dir, e.into()))?,
        undo,
        rolls_back: rolls_back.map(str::to_owned),
    };
    state.write_record(&record)?;
    apply::fail_point("after-record");
    let journal = state.journal();
    if let Err(err) = apply::write_application(&app, &set, &output, Some(&journal)) {
        // Put back what was changed, then say why it failed.
        if app.form() == Form::Expanded {
            let _ = expanded::recover(app_path, &journal);
        }
        record.status = Status::Failed;
        let _ = state.write_record(&record);
        state.event("failed", Some(&id), &err.to_string());
        return Err(err);
    }
    record.status = Status::Applied;
    state.write_record(&record)?;
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
    })
}

/// The digest the application will have once `set` is written.
fn predict_digest(app: &Application, before: &Inventory, set: &ChangeSet) -> Result<Digest> {
    // What changes, by full path (small); everything else streams from `before`.
    let mut changed: BTreeMap<EntryPath, Option<[u8; 32]>> = BTreeMap::new();
    let hash = |b: &[u8]| -> Result<[u8; 32]> { sha256_of(&mut &b[..], "memory") };
    for (path, action) in &set.app {
        changed.insert(path.clone(), action.as_deref().map(hash).transpose()?);
    }
    for (uri, actions) in &set.module_files {
        for (rel, action) in actions {
            changed.insert(uri.join(rel), action.as_deref().map(hash).transpose()?);
        }
    }
    let replaced_modules: Vec<&EntryPath> = set.whole.keys().collect();
    for (uri, action) in &set.whole {
        if let Some(archive) = action {
            let location = format!("{}!{uri}", app.path().display());
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&archive[..]))
                .map_err(|e| Error::zip(&location, e))?;
            let (entries, _) = crate::source::index_entries(&zip, &location)?;
            for (rel, (index, _)) in entries {
                let mut entry = zip.by_index(index).map_err(|e| Error::zip(&location, e))?;
                changed.insert(uri.join(&rel), Some(sha256_of(&mut entry, &location)?));
            }
        }
    }
    let in_replaced = |scope: &Scope, rel: &EntryPath| match scope {
        Scope::Module(uri) => replaced_modules.contains(&uri),
        Scope::Application => replaced_modules
            .iter()
            .any(|m| rel.is_inside(m) || &rel == m),
    };
    // Merge the sorted files of `before` with the sorted changes.
    let mut hasher = Sha256::new();
    let mut pending = changed.iter().peekable();
    let emit = |hasher: &mut Sha256, path: &EntryPath, sha: &Option<[u8; 32]>| {
        if let Some(sha) = sha {
            hash_path(hasher, &Scope::Application, path);
            hasher.update(sha);
        }
    };
    for (scope, file) in before.sorted_files() {
        let key: Vec<u8> = full_path_bytes(scope, &file.path).collect();
        while let Some((path, sha)) = pending.peek() {
            if path.as_str().as_bytes() < key.as_slice() {
                emit(&mut hasher, path, sha);
                pending.next();
            } else {
                break;
            }
        }
        if pending
            .peek()
            .is_some_and(|(p, _)| p.as_str().as_bytes() == key.as_slice())
        {
            if let Some((path, sha)) = pending.next() {
                emit(&mut hasher, path, sha);
            }
            continue;
        }
        if in_replaced(scope, &file.path) {
            continue;
        }
        hash_path(&mut hasher, scope, &file.path);
        hasher.update(file.sha256);
    }
    for (path, sha) in pending {
        emit(&mut hasher, path, sha);
    }
    Ok(Digest(hasher.finalize().into()))
}

/// Writes the undo bundle into `dir`; returns its file name.
fn write_undo(app: &Application, plan: &Plan, set: &ChangeSet, dir: &Path) -> Result<String> {
    let adds_modules = plan
        .effective_changes()
        .any(|c| c.module.is_some() && c.op == Op::Add);
    if plan.update.kind == UpdateKind::Full
        || adds_modules
        || set.whole.values().any(Option::is_none)
    {
        let name = "previous.ear";
        export_ear(app, &dir.join(name))?;
        return Ok(name.into());
    }
    let name = "undo.zip";
    let path = dir.join(name);
    let file = File::create(&path).map_err(|e| Error::io("cannot create", &path, e))?;
    let mut writer = ZipWriter::new(BufWriter::new(file));
    let opts = SimpleFileOptions::default().last_modified_time(UtcTime::now().zip_time());
    let mut delete_lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let location = path.display().to_string();
    let mut restored: Vec<&EntryPath> = Vec::new();
    for change in plan.effective_changes() {
        match change.op {
            Op::Replace | Op::Delete => restored.push(&change.path),
            Op::Add => {
                let (scope, rel) = match &change.scope {
                    Scope::Application => (String::new(), change.path.to_string()),
                    Scope::Module(uri) => (
                        uri.to_string(),
                        change
                            .path
                            .strip_dir(uri)
                            .map_or_else(|| change.path.to_string(), |r| r.to_string()),
                    ),
                };
                delete_lists
                    .entry(scope)
                    .or_default()
                    .push(escape_path(&rel));
            }
            Op::Unchanged => {}
        }
    }
    // The descriptor a module registration edits is restored too.
    let descriptor =
        EntryPath::new(crate::model::DESCRIPTOR_PATH).unwrap_or_else(|_| unreachable!());
    let edits_descriptor = set.app.contains_key(&descriptor) && !restored.contains(&&descriptor);
    if edits_descriptor {
        restored.push(&descriptor);
    }
    for path in restored {
        let old = match app.module(path) {
            Some(_) => module_as_archive(app, path)?,
            None => app.read(path)?.ok_or_else(|| {
                Error::refused(
                    path.to_string(),
                    "cannot save the old bytes: the file vanished",
                )
            })?,
        };
        writer
            .start_file(path.as_str(), opts)
            .map_err(|e| Error::zip(&location, e))?;
        writer
            .write_all(&old)
            .map_err(|e| Error::io("cannot write", &location, e))?;
    }
    for (scope, lines) in delete_lists {
        let name = if scope.is_empty() {
            DELETE_LIST_PATH.to_owned()
        } else {
            format!("{scope}/{DELETE_LIST_PATH}")
        };
        writer
            .start_file(name, opts)
            .map_err(|e| Error::zip(&location, e))?;
        let mut text = String::from("# files added by the update this bundle undoes\n");
        for l in lines {
            text.push_str(&l);
            text.push('\n');
        }
        writer
            .write_all(text.as_bytes())
            .map_err(|e| Error::io("cannot write", &path, e))?;
    }
    let buffered = writer.finish().map_err(|e| Error::zip(&location, e))?;
    let file = buffered
        .into_inner()
        .map_err(|e| Error::io("cannot write", &path, e.into_error()))?;
    file.sync_all()
        .map_err(|e| Error::io("cannot sync", &path, e))?;
    Ok(name.into())
}

/// A module's content as an archive: its own bytes when stored as one, else
/// a zip of its files (deterministic: sorted, fixed timestamps).
pub(crate) fn module_as_archive(app: &Application, uri: &EntryPath) -> Result<Vec<u8>> {
    if let Some(bytes) = app.read(uri)? {
        return Ok(bytes);
    }
    let location = format!("{}!{uri}", app.path().display());
    let opts = SimpleFileOptions::default()
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut nested = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (rel, _) in app.scope_files(&Scope::Module(uri.clone()))? {
        let bytes = app.read(&uri.join(&rel))?.unwrap_or_default();
        nested
            .start_file(rel.as_str(), opts)
            .map_err(|e| Error::zip(&location, e))?;
        nested
            .write_all(&bytes)
            .map_err(|e| Error::io("cannot write", &location, e))?;
    }
    Ok(nested
        .finish()
        .map_err(|e| Error::zip(&location, e))?
        .into_inner())
}

/// Writes the whole application as an EAR at `out` (the previous application
/// of a full update's undo). An archive is hard-linked or copied as it is.
///
/// # Errors
/// Reading the application or writing `out` fails.
pub fn export_ear(app: &Application, out: &Path) -> Result<()> {
    if app.form() == Form::Archive {
        if std::fs::hard_link(app.path(), out).is_ok() {
            return Ok(());
        }
        std::fs::copy(app.path(), out).map_err(|e| Error::io("cannot copy to", out, e))?;
        return Ok(());
    }
    let file = File::create(out).map_err(|e| Error::io("cannot create", out, e))?;
    let mut writer = ZipWriter::new(BufWriter::new(file));
    let location = out.display().to_string();
    let opts = SimpleFileOptions::default().last_modified_time(UtcTime::now().zip_time());
    for (path, _) in app.application_files() {
        let bytes = app.read(path)?.unwrap_or_default();
        writer
            .start_file(path.as_str(), opts)
            .map_err(|e| Error::zip(&location, e))?;
        writer
            .write_all(&bytes)
            .map_err(|e| Error::io("cannot write", out, e))?;
    }
    for module in app.modules() {
        if module.storage == crate::model::Storage::Missing {
            continue;
        }
        let bytes = module_as_archive(app, &module.uri)?;
        writer
            .start_file(module.uri.as_str(), opts)
            .map_err(|e| Error::zip(&location, e))?;
        writer
            .write_all(&bytes)
            .map_err(|e| Error::io("cannot write", out, e))?;
    }
    let buffered = writer.finish().map_err(|e| Error::zip(&location, e))?;
    let file = buffered
        .into_inner()
        .map_err(|e| Error::io("cannot write", out, e.into_error()))?;
    file.sync_all()
        .map_err(|e| Error::io("cannot sync", out, e))
}

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
    let state = StateDir::for_app(app_path, options.state_dir.as_deref());
    let _lock = state.lock(app_path)?;
    settle(app_path, &state)?;
    let records = state.records()?;
    let undoable = |r: &&Record| r.status == Status::Applied && r.rolls_back.is_none();
    let targets: Vec<Record> = match &options.to {
        Some(to) => {
            let Some(pos) = records.iter().position(|r| &r.id == to) else {
                return Err(Error::refused(
                    format!("--to {to}"),
                    "no such update in the history; see `earpatch history`",
                ));
            };
            records[pos + 1..]
                .iter()
                .filter(undoable)
                .rev()
                .cloned()
                .collect()
        }
        None => records
            .iter()
            .rfind(undoable)
            .cloned()
            .into_iter()
            .collect(),
    };
    if targets.is_empty() {
        return Err(Error::refused(
            app_path.display().to_string(),
            "nothing to roll back: no applied update in the history",
        ));
    }
    let mut reports = Vec::new();
    for mut target in targets {
        let bundle = state.history().join(&target.id).join(&target.undo);
        let update = if target.undo.ends_with(".ear") {
            Update::full(&bundle)?
        } else {
            Update::partial(&bundle)?
        };
        let apply_options = ApplyOptions {
            plan: options.plan,
            dry_run: options.dry_run,
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
    StateDir::for_app(app_path, state_dir).records()
}
