//! Progress reports and cancellation for the long steps of an operation:
//! reading and hashing the application's content (a cold in-place apply,
//! `verify`, a rollback), then writing (the undo bundle, the new archive or
//! the new files of an expanded application, an `-o` output), then, for an
//! expanded application changed in place, putting the new files in place.
//! A [`Progress`] handle calls back with what was read or written so far;
//! its owner can ask to cancel.
//!
//! # When cancel is honoured
//!
//! Cancel is honoured until the application itself starts to change, and
//! then ignored, so that a cancelled operation never leaves a half state:
//!
//! - while reading ([`Phase::Reading`]), and while writing the undo bundle
//!   ([`Phase::SavingUndo`]) and the new content ([`Phase::Writing`]): the
//!   operation stops with [`Error::Cancelled`] at the next report (every
//!   file read, every file or run of records written) and removes what it
//!   wrote: the temporary archive beside the application (a new archive is
//!   renamed over it only at the end, after a last check), the expanded
//!   application's staged files (its journal, still in state `staging`), the
//!   temporary output of `apply -o`, the undo bundle and the history record
//!   of the interrupted apply. The application is untouched, byte for byte.
//! - once an archive is being renamed over the application, or an expanded
//!   application's staged files are being moved into place
//!   ([`Phase::Committing`], after its journal said `committing`): a cancel
//!   (from the callback or from [`Progress::cancel`]) is ignored and the
//!   operation completes. Moving files into place is renames, quick next to
//!   the writing before them; stopping half way would leave the files of two
//!   versions, which only a recovery could undo.
//!
//! Reports are rate-limited: at most one call per 4 MiB read or written, or
//! per 1,024 files put in place, plus one when a phase starts. Totals are
//! what is known without an extra pass over the data.
//!
//! It only counts and relays; it never prints (a front end draws what it
//! wants) and it never decides what an operation does.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use crate::error::{Error, Result};

/// What a progress callback says back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop before the application changes: the operation fails with
    /// [`Error::Cancelled`] and removes what it wrote. Ignored once the
    /// application is being changed (see [the module](self)).
    Cancel,
}

/// What an operation is doing when it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Reading and hashing the application's content: [`Event::bytes`] and
    /// [`Event::files`] count.
    Reading,
    /// Saving the old bytes into the undo bundle of an in-place apply or
    /// rollback: [`Event::written`] counts the bytes saved, out of
    /// [`Event::total`] when known.
    SavingUndo,
    /// Writing the new application: the new archive (to a temporary file),
    /// the new files of an expanded application (staged in its journal), or
    /// the `-o` output. [`Event::written`] counts bytes, out of
    /// [`Event::total`] when known (an estimate: the archive written is
    /// about as large as the one it replaces).
    Writing,
    /// Putting the staged files of an expanded application in place:
    /// [`Event::entries`] counts the files moved, out of [`Event::total`].
    /// Cancel is ignored from here on.
    Committing,
}

/// A report of the work done so far, in this operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// What is being done.
    pub phase: Phase,
    /// Bytes read so far.
    pub bytes: u64,
    /// Files read so far.
    pub files: u64,
    /// Bytes written so far in this phase ([`Phase::SavingUndo`],
    /// [`Phase::Writing`]).
    pub written: u64,
    /// Files written ([`Phase::SavingUndo`], [`Phase::Writing`]) or put in
    /// place ([`Phase::Committing`]) so far in this phase.
    pub entries: u64,
    /// What this phase will do in all, when known cheaply: bytes to write
    /// (an estimate that `written` may end a little above or below), or
    /// files to put in place. `None` while reading.
    pub total: Option<u64>,
}

/// A handle for progress reports and cancellation; clones share it. The
/// callback runs on the reading and writing threads (two at most), at most
/// once per 4 MiB read or written.
///
/// ```
/// use ear_core::progress::Phase;
/// use ear_core::{Flow, Progress};
/// let progress = Progress::new(|event| {
///     match event.phase {
///         Phase::Reading => eprintln!("read {} bytes", event.bytes),
///         _ => eprintln!("wrote {} of {:?} bytes", event.written, event.total),
///     }
///     Flow::Continue
/// });
/// # let _ = progress;
/// ```
#[derive(Clone)]
pub struct Progress {
    inner: Arc<Inner>,
}

struct Inner {
    callback: Box<dyn Fn(Event) -> Flow + Send + Sync>,
    bytes: AtomicU64,
    files: AtomicU64,
    reported: AtomicU64,
    cancelled: AtomicBool,
    /// The writing side: the current phase ([`Phase::Reading`] before any
    /// writing), its counters and total (`u64::MAX`: unknown).
    phase: AtomicU8,
    written: AtomicU64,
    entries: AtomicU64,
    total: AtomicU64,
    /// `written` (or `entries` when committing) at the last report.
    write_reported: AtomicU64,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("bytes", &self.inner.bytes.load(Ordering::Relaxed))
            .field("written", &self.inner.written.load(Ordering::Relaxed))
            .field("cancelled", &self.inner.cancelled.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Bytes between two calls of the callback.
const STEP: u64 = 4 << 20;
/// Files put in place between two calls of the callback.
const ENTRY_STEP: u64 = 1024;
/// `total` when unknown.
const UNKNOWN: u64 = u64::MAX;

/// Whether a report is due: `count` is `step` or more past the count of
/// the last report, `reported`, which it then becomes (one thread wins).
fn due(reported: &AtomicU64, count: u64, step: u64) -> bool {
    let last = reported.load(Ordering::Relaxed);
    count >= last.saturating_add(step)
        && reported
            .compare_exchange(last, count, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

impl Phase {
    fn code(self) -> u8 {
        match self {
            Phase::Reading => 0,
            Phase::SavingUndo => 1,
            Phase::Writing => 2,
            Phase::Committing => 3,
        }
    }

    fn from_code(code: u8) -> Phase {
        match code {
            1 => Phase::SavingUndo,
            2 => Phase::Writing,
            3 => Phase::Committing,
            _ => Phase::Reading,
        }
    }
}

impl Progress {
    /// A handle that calls `callback` as content is read and written.
    pub fn new(callback: impl Fn(Event) -> Flow + Send + Sync + 'static) -> Progress {
        Progress {
            inner: Arc::new(Inner {
                callback: Box::new(callback),
                bytes: AtomicU64::new(0),
                files: AtomicU64::new(0),
                reported: AtomicU64::new(0),
                cancelled: AtomicBool::new(false),
                phase: AtomicU8::new(Phase::Reading.code()),
                written: AtomicU64::new(0),
                entries: AtomicU64::new(0),
                total: AtomicU64::new(UNKNOWN),
                write_reported: AtomicU64::new(0),
            }),
        }
    }

    /// Asks the operation to stop before the application changes (ignored
    /// once it is being changed: see [the module](self)).
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Relaxed);
    }

    /// Counts one file of `bytes` read; calls back every [`STEP`] bytes.
    ///
    /// # Errors
    /// [`Error::Cancelled`] when the callback or [`Progress::cancel`] asked.
    pub(crate) fn read(&self, bytes: u64) -> Result<()> {
        let inner = &self.inner;
        let total = inner.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let files = inner.files.fetch_add(1, Ordering::Relaxed) + 1;
        if due(&inner.reported, total, STEP) {
            self.call(Event {
                phase: Phase::Reading,
                bytes: total,
                files,
                written: 0,
                entries: 0,
                total: None,
            });
        }
        self.check()
    }

    /// Calls back with `event`; a [`Flow::Cancel`] is remembered unless the
    /// application is being changed.
    fn call(&self, event: Event) {
        if (self.inner.callback)(event) == Flow::Cancel && event.phase != Phase::Committing {
            self.inner.cancelled.store(true, Ordering::Relaxed);
        }
    }

    /// The current writing-side event.
    fn write_event(&self) -> Event {
        let inner = &self.inner;
        let total = inner.total.load(Ordering::Relaxed);
        Event {
            phase: Phase::from_code(inner.phase.load(Ordering::Relaxed)),
            bytes: inner.bytes.load(Ordering::Relaxed),
            files: inner.files.load(Ordering::Relaxed),
            written: inner.written.load(Ordering::Relaxed),
            entries: inner.entries.load(Ordering::Relaxed),
            total: (total != UNKNOWN).then_some(total),
        }
    }

    /// [`Error::Cancelled`] if cancelling was asked.
    pub(crate) fn check(&self) -> Result<()> {
        if self.inner.cancelled.load(Ordering::Relaxed) {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// The writing side of an optional [`Progress`], as the writers use it: it
/// does nothing without a handle, so writers call it unconditionally.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meter(Option<Progress>);

impl Meter {
    /// Reports to `progress`, if any.
    pub(crate) fn new(progress: Option<&Progress>) -> Meter {
        Meter(progress.cloned())
    }

    /// Whether a handle listens: totals that cost a look-up are computed
    /// only then.
    pub(crate) fn active(&self) -> bool {
        self.0.is_some()
    }

    /// Starts `phase` (a writing one) with `total` bytes or files to go,
    /// when known; calls back once.
    ///
    /// # Errors
    /// [`Error::Cancelled`] when cancelling was asked and `phase` is not
    /// [`Phase::Committing`].
    pub(crate) fn begin(&self, phase: Phase, total: Option<u64>) -> Result<()> {
        let Some(progress) = &self.0 else {
            return Ok(());
        };
        let inner = &progress.inner;
        inner.phase.store(phase.code(), Ordering::Relaxed);
        inner.written.store(0, Ordering::Relaxed);
        inner.entries.store(0, Ordering::Relaxed);
        inner.write_reported.store(0, Ordering::Relaxed);
        inner
            .total
            .store(total.unwrap_or(UNKNOWN).min(UNKNOWN - 1), Ordering::Relaxed);
        progress.call(progress.write_event());
        self.check()
    }

    /// Counts `bytes` and `entries` written in the current phase; calls back
    /// every [`STEP`] bytes.
    ///
    /// # Errors
    /// [`Error::Cancelled`] when cancelling was asked, unless the phase is
    /// [`Phase::Committing`].
    pub(crate) fn wrote(&self, bytes: u64, entries: u64) -> Result<()> {
        let Some(progress) = &self.0 else {
            return Ok(());
        };
        let inner = &progress.inner;
        let written = inner.written.fetch_add(bytes, Ordering::Relaxed) + bytes;
        inner.entries.fetch_add(entries, Ordering::Relaxed);
        if due(&inner.write_reported, written, STEP) {
            progress.call(progress.write_event());
        }
        self.check()
    }

    /// Counts one file put in place ([`Phase::Committing`]); calls back
    /// every [`ENTRY_STEP`] files. Never fails: cancel is ignored here.
    pub(crate) fn moved(&self) {
        let Some(progress) = &self.0 else {
            return;
        };
        let inner = &progress.inner;
        let entries = inner.entries.fetch_add(1, Ordering::Relaxed) + 1;
        if due(&inner.write_reported, entries, ENTRY_STEP) {
            progress.call(progress.write_event());
        }
    }

    /// [`Error::Cancelled`] if cancelling was asked and the application is
    /// not being changed: writers call it last before they change it.
    pub(crate) fn check(&self) -> Result<()> {
        match &self.0 {
            Some(progress)
                if Phase::from_code(progress.inner.phase.load(Ordering::Relaxed))
                    != Phase::Committing =>
            {
                progress.check()
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn recording() -> (Progress, Arc<Mutex<Vec<Event>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let progress = Progress::new(move |e| {
            log.lock().map(|mut v| v.push(e)).ok();
            Flow::Continue
        });
        (progress, seen)
    }

    #[test]
    fn writing_reports_each_phase_start_and_every_step() -> Result<()> {
        let (progress, seen) = recording();
        let meter = Meter::new(Some(&progress));
        meter.begin(Phase::Writing, Some(10 << 20))?;
        for _ in 0..10 {
            meter.wrote(1 << 20, 1)?;
        }
        let events = seen.lock().map(|v| v.clone()).unwrap_or_default();
        let phases: Vec<(u64, Option<u64>)> = events.iter().map(|e| (e.written, e.total)).collect();
        assert_eq!(
            phases,
            [
                (0, Some(10 << 20)),
                (4 << 20, Some(10 << 20)),
                (8 << 20, Some(10 << 20))
            ]
        );
        assert!(events.iter().all(|e| e.phase == Phase::Writing));
        assert_eq!(events[2].entries, 8);
        Ok(())
    }

    #[test]
    fn cancel_is_honoured_while_writing_and_ignored_while_committing() {
        let progress = Progress::new(|_| Flow::Cancel);
        let meter = Meter::new(Some(&progress));
        assert!(matches!(
            meter.begin(Phase::Writing, None),
            Err(Error::Cancelled)
        ));
        let progress = Progress::new(|e| {
            if e.phase == Phase::Committing {
                Flow::Cancel
            } else {
                Flow::Continue
            }
        });
        let meter = Meter::new(Some(&progress));
        assert!(meter.begin(Phase::Committing, Some(3000)).is_ok());
        for _ in 0..3000 {
            meter.moved();
        }
        assert!(meter.check().is_ok());
        // A cancel from outside is ignored too while committing...
        progress.cancel();
        assert!(meter.check().is_ok());
        // ...and honoured by the next phase that may stop.
        assert!(matches!(
            meter.begin(Phase::Writing, None),
            Err(Error::Cancelled)
        ));
        // Without a handle nothing is counted and nothing stops.
        assert!(Meter::default().wrote(1 << 30, 1).is_ok());
    }
}
