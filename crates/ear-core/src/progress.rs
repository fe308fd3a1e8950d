//! Progress reports and cancellation for the long step of an operation:
//! reading and hashing the application's content (a cold in-place apply,
//! `verify`, a rollback). A [`Progress`] handle calls back with the bytes
//! read so far; its owner can ask to cancel, which stops the operation
//! before anything is written.
//!
//! It only counts and relays; it never prints (a front end draws what it
//! wants) and it never decides what an operation does.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::error::{Error, Result};

/// What a progress callback says back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop before writing anything: the operation fails with
    /// [`Error::Cancelled`].
    Cancel,
}

/// A report: bytes of content read and hashed so far, in this operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// Bytes read so far.
    pub bytes: u64,
    /// Files read so far.
    pub files: u64,
}

/// A handle for progress reports and cancellation; clones share it. The
/// callback runs on the reading threads (two), at most once per 4 MiB read.
///
/// ```
/// use ear_core::{Flow, Progress};
/// let progress = Progress::new(|event| {
///     eprintln!("read {} bytes", event.bytes);
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
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("bytes", &self.inner.bytes.load(Ordering::Relaxed))
            .field("cancelled", &self.inner.cancelled.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Bytes between two calls of the callback.
const STEP: u64 = 4 << 20;

impl Progress {
    /// A handle that calls `callback` as content is read.
    pub fn new(callback: impl Fn(Event) -> Flow + Send + Sync + 'static) -> Progress {
        Progress {
            inner: Arc::new(Inner {
                callback: Box::new(callback),
                bytes: AtomicU64::new(0),
                files: AtomicU64::new(0),
                reported: AtomicU64::new(0),
                cancelled: AtomicBool::new(false),
            }),
        }
    }

    /// Asks the operation to stop before it writes anything.
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
        let last = inner.reported.load(Ordering::Relaxed);
        if total >= last + STEP
            && inner
                .reported
                .compare_exchange(last, total, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            && (inner.callback)(Event {
                bytes: total,
                files,
            }) == Flow::Cancel
        {
            inner.cancelled.store(true, Ordering::Relaxed);
        }
        self.check()
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
