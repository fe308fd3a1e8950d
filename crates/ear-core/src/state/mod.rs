//! The state folder of an application updated in place (spec §6), by
//! default `APP.earpatch/` beside it:
//!
//! ```text
//! APP.earpatch/
//!   lock                    one writer at a time (an OS lock; holds the pid)
//!   journal/                an expanded apply in progress
//!   history/<id>/record.json
//!   history/<id>/undo.zip   or previous.ear (full updates, module additions)
//!   logs/<id>.log           what one operation did
//!   events.jsonl            append-only event history
//!   index                   the content index (a cache: `model::index`)
//! ```
//!
//! It owns the folder's layout, the lock, records, undo bundles, events and
//! logs. It never changes the application itself (that is `write`,
//! driven by [`crate::ops`]).

mod lock;
mod record;
pub(crate) mod undo;

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use record::is_record_id;
pub use record::{RECORD_SCHEMA, Record, RecordedChange, RecordedPlan, Status};

/// Records earpatch writes are a few KiB to a few MiB (they hold the plan);
/// anything far larger is not one of them.
const MAX_RECORD_BYTES: u64 = 256 * 1024 * 1024;

use crate::clock::UtcTime;
use crate::error::{Error, Result};
use crate::fs::{AtomicFile, parent_dir, write_json_atomic};
use crate::model::index::ContentIndex;

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
                parent_dir(app).join(format!("{name}.earpatch"))
            }
        };
        StateDir { root }
    }

    /// The folder.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.root
    }

    pub(crate) fn journal(&self) -> PathBuf {
        self.root.join("journal")
    }

    pub(crate) fn history(&self) -> PathBuf {
        self.root.join("history")
    }

    /// Creates the folder (never its parents: a mistyped `--state-dir`
    /// fails instead of growing a tree somewhere).
    pub(crate) fn create(&self) -> Result<()> {
        match std::fs::create_dir(&self.root) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                Err(Error::io("cannot create the state folder", &self.root, e))
            }
            _ => Ok(()),
        }
    }

    /// Creates the folder of a new record, `history/<YYYYMMDD_HHMMSS>_<name>`
    /// (`-2`, `-3`, ... when that id is taken); returns its id and folder.
    pub(crate) fn new_record_dir(&self, now: &UtcTime, name: &str) -> Result<(String, PathBuf)> {
        let mut id = format!("{}_{name}", now.compact());
        let mut n = 2;
        while self.history().join(&id).exists() {
            id = format!("{}_{name}-{n}", now.compact());
            n += 1;
        }
        let dir = self.history().join(&id);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
        Ok((id, dir))
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
                continue; // an orphan: see `orphans`
            }
            let tampered = |why: String| Error::Refused {
                location: path.display().to_string(),
                message: format!(
                    "{why}; earpatch does not act on a history record it did not write: move the folder out of \
                     {} (or restore it from a backup)",
                    dir.display()
                ),
            };
            let size = path.metadata().map_or(0, |m| m.len());
            if size > MAX_RECORD_BYTES {
                return Err(tampered(format!(
                    "the record is {size} bytes, over {MAX_RECORD_BYTES}"
                )));
            }
            let bytes = std::fs::read(&path).map_err(|e| Error::io("cannot read", &path, e))?;
            let record: Record = serde_json::from_slice(&bytes)
                .map_err(|e| tampered(format!("unreadable history record: {e}")))?;
            let folder = entry.file_name().to_string_lossy().into_owned();
            record.check(&folder).map_err(tampered)?;
            records.push(record);
        }
        records.sort_by(|a, b| a.seq.cmp(&b.seq).then(a.id.cmp(&b.id)));
        Ok(records)
    }

    /// Record folders without a `record.json`: left by an apply killed
    /// after it saved the undo bundle and before it wrote the record (the
    /// application was not touched yet).
    pub(crate) fn orphans(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.history()) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| {
                e.file_name().to_str().is_some_and(is_record_id)
                    && e.file_type().is_ok_and(|t| t.is_dir())
                    && !e.path().join("record.json").exists()
            })
            .map(|e| e.path())
            .collect()
    }

    /// The undo bundle of `record`, inside its folder.
    pub(crate) fn undo_bundle(&self, record: &Record) -> PathBuf {
        self.history().join(&record.id).join(&record.undo)
    }

    /// The folder of the record `id`, `history/<id>`.
    pub(crate) fn record_dir(&self, id: &str) -> PathBuf {
        self.history().join(id)
    }

    /// The log of the operation that wrote the record `id`.
    pub(crate) fn log_path(&self, id: &str) -> PathBuf {
        self.root.join("logs").join(format!("{id}.log"))
    }

    pub(crate) fn write_record(&self, record: &Record) -> Result<()> {
        let dir = self.history().join(&record.id);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
        write_json_atomic(&dir.join("record.json"), record)
    }

    /// Where the content index is kept.
    pub(crate) fn index_path(&self) -> PathBuf {
        self.root.join("index")
    }

    /// The content index, when there is a readable one. A missing or damaged
    /// index is not an error: the application is then read in full, and
    /// `why` says what was wrong with it (for `verify`'s report).
    pub(crate) fn read_index(&self) -> (Option<ContentIndex>, Option<String>) {
        let path = self.index_path();
        let file = match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (None, None),
            Err(e) => return (None, Some(format!("cannot read {}: {e}", path.display()))),
            Ok(m) if !m.is_file() => {
                return (
                    None,
                    Some(format!("{} is not a regular file", path.display())),
                );
            }
            Ok(m) if m.len() > ContentIndex::MAX_BYTES => {
                return (
                    None,
                    Some(format!("{} is too large to be an index", path.display())),
                );
            }
            Ok(_) => File::open(&path),
        };
        let decoded = file
            .map_err(|e| e.to_string())
            .and_then(|f| ContentIndex::decode(&mut std::io::BufReader::new(f)));
        match decoded {
            Ok(index) => (Some(index), None),
            Err(why) => (
                None,
                Some(format!("the index {} was ignored: {why}", path.display())),
            ),
        }
    }

    /// Replaces the content index (atomically). Failing to write it costs
    /// speed, never correctness, so callers may ignore the error.
    pub(crate) fn write_index(&self, index: &ContentIndex) -> Result<()> {
        let path = self.index_path();
        let tmp = AtomicFile::beside(&path)?;
        let mut out = std::io::BufWriter::new(tmp.file());
        index
            .encode(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| Error::io("cannot write", tmp.path(), e))?;
        drop(out);
        tmp.commit()
    }

    /// Removes the content index (after an operation that could not
    /// describe what it left).
    pub(crate) fn drop_index(&self) {
        let _ = std::fs::remove_file(self.index_path());
    }

    pub(crate) fn event(&self, event: &str, id: Option<&str>, detail: &str) {
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

    pub(crate) fn log(&self, name: &str, lines: &[String]) {
        let _ = std::fs::create_dir_all(self.root.join("logs"));
        let path = self.root.join("logs").join(format!("{name}.log"));
        if let Ok(mut f) = File::create(path) {
            for l in lines {
                let _ = writeln!(f, "{l}");
            }
        }
    }
}

/// The bytes of the regular files under `path` (or of `path` itself when it
/// is a file); symbolic links are not followed and count nothing, and what
/// cannot be read counts nothing.
pub(crate) fn tree_bytes(path: &Path) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_file() {
            total = total.saturating_add(meta.len());
        } else if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&p)
        {
            stack.extend(entries.flatten().map(|e| e.path()));
        }
    }
    total
}
