//! [`Stamp`]: what identifies a file's bytes without reading them, taken
//! while listing (the content index's validators). It reads metadata only.

use std::io::{Read, Seek};

use zip::ZipArchive;

/// What identifies a file's bytes without reading them: the validators of
/// the content index (`model::index`). Taken while listing, at no extra cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// An entry of the outer archive, from its central directory record.
    Entry {
        crc32: u32,
        packed: u64,
        size: u64,
        method: u16,
        offset: u64,
    },
    /// A file on disk (expanded form): times in nanoseconds since the epoch.
    Disk {
        size: u64,
        mtime_ns: i64,
        ctime_ns: i64,
        inode: u64,
        device: u64,
    },
    /// Nothing that identifies the bytes: never trusted.
    None,
}

impl Stamp {
    /// The stamp of an outer archive entry.
    pub(super) fn of_entry<R: Read + Seek>(zip: &ZipArchive<R>, index: usize) -> Stamp {
        match zip.by_index_data(index) {
            Ok(e) => Stamp::Entry {
                crc32: e.crc32(),
                packed: e.compressed_size(),
                size: e.size(),
                method: match e.compression() {
                    zip::CompressionMethod::Stored => 0,
                    zip::CompressionMethod::Deflated => 8,
                    _ => u16::MAX,
                },
                offset: e.header_start(),
            },
            Err(_) => Stamp::None,
        }
    }

    /// The stamp of a file on disk, from its metadata.
    pub(crate) fn of_disk(meta: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            let ns =
                |secs: i64, nanos: i64| secs.saturating_mul(1_000_000_000).saturating_add(nanos);
            Stamp::Disk {
                size: meta.len(),
                mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
                ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
                inode: meta.ino(),
                device: meta.dev(),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            Stamp::None
        }
    }
}
