//! [`Bytes`]: a reader by position over a file, a window of one (a STORED
//! archive nested in another, read in place) or memory, with cheap clones.
//! It reads; it never writes and knows nothing of zips beyond offsets.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

/// Bytes read by position: a whole file, a window of one (a STORED archive
/// nested in another, read in place), or memory. Clones share the storage
/// and each keeps its own position and read-ahead buffer, so independent
/// readers of one archive need no lock (`pread`, never the file offset).
#[derive(Debug)]
pub(crate) struct Bytes {
    store: Store,
    pos: u64,
    len: u64,
    /// Read-ahead of a file (small reads of a zip's headers become one
    /// `pread` per [`READ_AHEAD`] bytes), made on the first read.
    ahead: Option<Box<Ahead>>,
}

/// Bytes read ahead: `bytes` are those from `at` on.
#[derive(Debug, Default)]
struct Ahead {
    bytes: Vec<u8>,
    at: u64,
}

/// Reads of fewer bytes than this fill the read-ahead buffer.
const READ_AHEAD: usize = 64 * 1024;

#[derive(Debug, Clone)]
enum Store {
    Memory { bytes: Arc<Vec<u8>>, base: usize },
    File { file: Arc<Handle>, base: u64 },
}

/// One open file shared by [`Bytes`] clones. Reads never use its offset;
/// [`Bytes::with_region`] lends the offset to one caller at a time.
#[derive(Debug)]
struct Handle {
    file: File,
    offset: Mutex<()>,
    /// A temporary copy (a spilled nested archive), not the application's.
    temporary: bool,
}

/// Where a range of [`Bytes`] lies, for copying it without reading it here.
#[derive(Debug)]
pub(crate) enum Region<'a> {
    /// In memory.
    Memory(&'a [u8]),
    /// In a file, from byte `base` on; the file's offset is the caller's
    /// (nobody else moves it) for as long as it holds the region.
    File { file: &'a File, base: u64 },
}

impl Clone for Bytes {
    fn clone(&self) -> Self {
        Bytes {
            store: self.store.clone(),
            pos: self.pos,
            len: self.len,
            ahead: None,
        }
    }
}

impl Bytes {
    /// The whole of `file`.
    pub(crate) fn file(file: File) -> Bytes {
        Bytes::of_file(file, false)
    }

    /// The whole of `file`, a temporary copy.
    pub(super) fn temporary(file: File) -> Bytes {
        Bytes::of_file(file, true)
    }

    fn of_file(file: File, temporary: bool) -> Bytes {
        let len = file.metadata().map_or(0, |m| m.len());
        let handle = Handle {
            file,
            offset: Mutex::new(()),
            temporary,
        };
        Bytes::new(
            Store::File {
                file: Arc::new(handle),
                base: 0,
            },
            len,
        )
    }

    /// Bytes in memory.
    pub(crate) fn memory(bytes: Vec<u8>) -> Bytes {
        let len = bytes.len() as u64;
        Bytes::new(
            Store::Memory {
                bytes: Arc::new(bytes),
                base: 0,
            },
            len,
        )
    }

    fn new(store: Store, len: u64) -> Bytes {
        Bytes {
            store,
            pos: 0,
            len,
            ahead: None,
        }
    }

    /// Bytes `start..start + len` of these, sharing the storage; `None`
    /// when the range is not inside.
    pub(crate) fn window(&self, start: u64, len: u64) -> Option<Bytes> {
        if start.checked_add(len)? > self.len {
            return None;
        }
        let store = match &self.store {
            Store::Memory { bytes, base } => Store::Memory {
                bytes: Arc::clone(bytes),
                base: base.checked_add(usize::try_from(start).ok()?)?,
            },
            Store::File { file, base } => Store::File {
                file: Arc::clone(file),
                base: base.checked_add(start)?,
            },
        };
        Some(Bytes::new(store, len))
    }

    /// The number of bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Whether these bytes are held in memory (and how many), for budgets.
    pub(crate) fn resident(&self) -> u64 {
        match self.store {
            Store::Memory { .. } => self.len,
            Store::File { .. } => 0,
        }
    }

    /// Whether these bytes are a temporary file's (not a window of the
    /// application), and how many: disk a cache holds on to.
    pub(crate) fn spilled(&self) -> u64 {
        match &self.store {
            Store::File { file, .. } if file.temporary => self.len,
            _ => 0,
        }
    }

    /// Runs `f` over where these bytes lie, holding the file's offset for it.
    pub(crate) fn with_region<T>(&self, f: impl FnOnce(Region<'_>) -> T) -> T {
        match &self.store {
            Store::Memory { bytes, base } => {
                let len = usize::try_from(self.len).unwrap_or(usize::MAX);
                f(Region::Memory(
                    bytes
                        .get(*base..base.saturating_add(len))
                        .unwrap_or_default(),
                ))
            }
            Store::File { file, base } => {
                let _offset = file
                    .offset
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                f(Region::File {
                    file: &file.file,
                    base: *base,
                })
            }
        }
    }
}

fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    #[cfg(unix)]
    return std::os::unix::fs::FileExt::read_at(file, buf, at);
    #[cfg(windows)]
    return std::os::windows::fs::FileExt::seek_read(file, buf, at);
}

impl Read for Bytes {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = match &self.store {
            Store::Memory { bytes, base } => {
                let from = usize::try_from(self.pos)
                    .unwrap_or(usize::MAX)
                    .saturating_add(*base);
                let src = bytes
                    .get(from..from.saturating_add(want))
                    .unwrap_or_default();
                buf[..src.len()].copy_from_slice(src);
                src.len()
            }
            Store::File { file, base } => {
                let ahead = self.ahead.get_or_insert_with(Box::default);
                let buffered = self
                    .pos
                    .checked_sub(ahead.at)
                    .and_then(|skip| usize::try_from(skip).ok())
                    .filter(|&skip| skip < ahead.bytes.len());
                if let Some(skip) = buffered {
                    let n = want.min(ahead.bytes.len() - skip);
                    buf[..n].copy_from_slice(&ahead.bytes[skip..skip + n]);
                    n
                } else if want >= READ_AHEAD {
                    read_at(&file.file, &mut buf[..want], base + self.pos)?
                } else {
                    let fill = READ_AHEAD.min(usize::try_from(left).unwrap_or(usize::MAX));
                    ahead.bytes.resize(fill, 0);
                    let got = read_at(&file.file, &mut ahead.bytes, base + self.pos)?;
                    ahead.bytes.truncate(got);
                    ahead.at = self.pos;
                    let n = want.min(got);
                    buf[..n].copy_from_slice(&ahead.bytes[..n]);
                    n
                }
            }
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Bytes {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}
