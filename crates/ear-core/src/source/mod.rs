//! The read side of the two forms of an application (spec §1): an `.ear`
//! zip archive, or an expanded directory. Modules may be stored as nested
//! archives or as directories in either form.
//!
//! It owns listing, finding and reading bytes, and checking entry names
//! into [`EntryPath`]s. It never writes, and it does not know what a module
//! is: deciding that is the model's job.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use walkdir::WalkDir;
use zip::ZipArchive;

mod bytes;
mod entries;
mod stamp;

pub(crate) use bytes::{Bytes, Region};
pub(crate) use entries::index_entries;
pub(crate) use stamp::Stamp;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::path::EntryPath;

/// Nested archives larger than this are spilled to a temporary file instead of
/// being held in memory while they are read.
pub(crate) const SPILL_THRESHOLD: u64 = 8 * 1024 * 1024;

/// A reader that can also seek; nested archives are read through it.
pub(crate) trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// The file entries of a zip: checked path → (entry index, uncompressed size).
pub(crate) type EntryIndex = BTreeMap<EntryPath, (usize, u64)>;

/// A zip archive over any seekable reader.
pub(crate) type DynZip = ZipArchive<Box<dyn ReadSeek>>;

/// Where the bytes of one file are.
#[derive(Debug, Clone)]
pub(crate) enum Locator {
    /// Entry index in the outer archive.
    Zip(usize),
    /// A file on disk (expanded form): the folder its path is relative to,
    /// shared by every file of one listing (a path per file would cost
    /// about 100 bytes each).
    Disk(Arc<Path>),
}

/// One file found by a listing.
#[derive(Debug, Clone)]
pub(crate) struct RawFile {
    /// The path relative to what was listed.
    pub path: EntryPath,
    /// Uncompressed size in bytes.
    pub size: u64,
    /// Where the bytes are.
    pub locator: Locator,
    /// What identifies the bytes without reading them (content index).
    pub stamp: Stamp,
}

impl RawFile {
    /// The file listed under the folder `dir` (its path relative to `dir`)
    /// as a listing of `dir`'s parent sees it: `dir/path`.
    pub(crate) fn under(mut self, dir: &EntryPath) -> RawFile {
        if let Locator::Disk(base) = &self.locator {
            // The listing's folder was the parent's folder joined with `dir`.
            let up = dir.as_str().split('/').count();
            if let Some(parent) = base.ancestors().nth(up) {
                self.locator = Locator::Disk(Arc::from(parent));
            }
        }
        self.path = dir.join(&self.path);
        self
    }
}

/// The result of listing the application root.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Files outside the candidate directories.
    pub files: Vec<RawFile>,
    /// Directories the caller asked to keep apart (possible module directories).
    pub dirs: Vec<EntryPath>,
    /// Archives whose central directory repeats an entry name.
    pub duplicates: Vec<String>,
    /// Symbolic links met (expanded form): not part of the application.
    pub links: Vec<EntryPath>,
}

/// The application's bytes, in either form.
#[derive(Debug)]
pub(crate) enum Source {
    /// An `.ear` file.
    Archive {
        path: PathBuf,
        /// Cloned per read (cheap: shared metadata and file), so reads run in parallel.
        zip: ZipArchive<Bytes>,
        /// Every file entry of the archive, by name.
        entries: EntryIndex,
        duplicates: Vec<String>,
    },
    /// An expanded directory.
    Directory { root: PathBuf },
}

impl Source {
    /// Opens `path` as an archive or a directory.
    pub fn open(path: &Path, limits: &Limits) -> Result<Source> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io("cannot open", path, e))?;
        if meta.is_dir() {
            return Ok(Source::Directory {
                root: path.to_path_buf(),
            });
        }
        if !meta.is_file() {
            return Err(Error::NotAnApplication {
                path: path.to_path_buf(),
                reason: format!(
                    "it is {}; an application is an .ear file or a directory",
                    crate::fs::file_kind(&meta)
                ),
            });
        }
        if meta.len() == 0 {
            return Err(Error::NotAnApplication {
                path: path.to_path_buf(),
                reason: "the file is empty (0 bytes), so it is not a zip archive; \
                         check that the upload or copy completed"
                    .into(),
            });
        }
        let file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
        let zip = ZipArchive::new(Bytes::file(file))
            .map_err(|e| Error::zip(path.display().to_string(), e))?;
        let container = path.display().to_string();
        let (entries, duplicates) = index_entries(&zip, &container, limits)?;
        Ok(Source::Archive {
            path: path.to_path_buf(),
            zip,
            entries,
            duplicates,
        })
    }

    /// The stamp of outer archive entry `index` ([`Stamp::None`] in the
    /// expanded form).
    fn stamp_of(&self, index: usize) -> Stamp {
        match self {
            Source::Archive { zip, .. } => Stamp::of_entry(zip, index),
            Source::Directory { .. } => Stamp::None,
        }
    }

    /// Whether this is the archive form.
    pub fn is_archive(&self) -> bool {
        matches!(self, Source::Archive { .. })
    }

    /// Looks up one file by its path from the root.
    pub fn find(&self, path: &EntryPath) -> Result<Option<RawFile>> {
        match self {
            Source::Archive { entries, .. } => {
                Ok(entries.get(path).map(|&(index, size)| RawFile {
                    path: path.clone(),
                    size,
                    locator: Locator::Zip(index),
                    stamp: self.stamp_of(index),
                }))
            }
            Source::Directory { root } => {
                if crate::fs::linked_component(root, path.as_str()).is_some() {
                    return Ok(None); // nothing under a link is part of the application
                }
                let disk = root.join(path.as_str());
                match std::fs::symlink_metadata(&disk) {
                    Ok(m) if m.is_file() => Ok(Some(RawFile {
                        path: path.clone(),
                        size: m.len(),
                        locator: Locator::Disk(Arc::from(root.as_path())),
                        stamp: Stamp::of_disk(&m),
                    })),
                    Ok(_) => Ok(None),
                    Err(e)
                        if e.kind() == io::ErrorKind::NotFound
                            || e.kind() == io::ErrorKind::NotADirectory =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(Error::io("cannot read", disk, e)),
                }
            }
        }
    }

    /// Lists the files of the root. Directories for which `keep_apart` says
    /// yes (outermost first) are not descended into but returned in
    /// [`Listing::dirs`].
    pub fn list(&self, keep_apart: &dyn Fn(&EntryPath) -> bool) -> Result<Listing> {
        let mut listing = Listing::default();
        match self {
            Source::Archive {
                entries,
                duplicates,
                ..
            } => {
                let mut dirs = HashSet::new();
                for (path, &(index, size)) in entries {
                    if let Some(dir) = path
                        .ancestors()
                        .find_map(|a| EntryPath::new(a).ok().filter(|a| keep_apart(a)))
                    {
                        if dirs.insert(dir.clone()) {
                            listing.dirs.push(dir);
                        }
                        continue;
                    }
                    listing.files.push(RawFile {
                        path: path.clone(),
                        size,
                        locator: Locator::Zip(index),
                        stamp: self.stamp_of(index),
                    });
                }
                listing.duplicates.clone_from(duplicates);
            }
            Source::Directory { root } => {
                walk_dir(root, None, keep_apart, &mut listing)?;
            }
        }
        listing.files.sort_by(|a, b| a.path.cmp(&b.path));
        listing.dirs.sort();
        Ok(listing)
    }

    /// Whether `path` itself is a symbolic link (expanded form).
    pub fn is_link(&self, path: &str) -> bool {
        match self {
            Source::Archive { .. } => false,
            Source::Directory { root } => {
                std::fs::symlink_metadata(root.join(path)).is_ok_and(|m| m.file_type().is_symlink())
            }
        }
    }

    /// The first component of `path` that is a symbolic link (expanded form).
    pub fn link_in(&self, path: &EntryPath) -> Option<String> {
        match self {
            Source::Archive { .. } => None,
            Source::Directory { root } => crate::fs::linked_component(root, path.as_str()),
        }
    }

    /// Lists the files under directory `dir`, with paths relative to it, and
    /// the links met there.
    pub fn list_dir_with_links(&self, dir: &EntryPath) -> Result<(Vec<RawFile>, Vec<EntryPath>)> {
        match self {
            Source::Archive { .. } => Ok((self.list_dir(dir)?, Vec::new())),
            Source::Directory { root } => {
                let mut listing = Listing::default();
                walk_dir(&root.join(dir.as_str()), None, &|_| false, &mut listing)?;
                listing.files.sort_by(|a, b| a.path.cmp(&b.path));
                let links = listing.links.iter().map(|l| dir.join(l)).collect();
                Ok((listing.files, links))
            }
        }
    }

    /// Lists the files under directory `dir`, with paths relative to it.
    pub fn list_dir(&self, dir: &EntryPath) -> Result<Vec<RawFile>> {
        let mut files = Vec::new();
        match self {
            Source::Archive { entries, .. } => {
                for (path, &(index, size)) in entries.range(dir.clone()..) {
                    if !path.as_str().starts_with(dir.as_str()) {
                        break;
                    }
                    if let Some(rel) = path.strip_dir(dir) {
                        files.push(RawFile {
                            path: rel,
                            size,
                            locator: Locator::Zip(index),
                            stamp: self.stamp_of(index),
                        });
                    }
                }
            }
            Source::Directory { root } => {
                let mut listing = Listing::default();
                walk_dir(&root.join(dir.as_str()), None, &|_| false, &mut listing)?;
                files = listing.files;
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// Runs `f` with a reader over the bytes of `file`.
    pub fn with_reader<T>(
        &self,
        file: &RawFile,
        f: impl FnOnce(&mut dyn Read) -> Result<T>,
    ) -> Result<T> {
        match (&file.locator, self) {
            (Locator::Zip(index), Source::Archive { path, zip, .. }) => {
                let mut zip = zip.clone();
                let mut entry = zip
                    .by_index(*index)
                    .map_err(|e| Error::zip(format!("{}!{}", path.display(), file.path), e))?;
                f(&mut entry)
            }
            (Locator::Disk(base), _) => {
                let disk = base.join(file.path.as_str());
                let mut handle =
                    File::open(&disk).map_err(|e| Error::io("cannot read", &disk, e))?;
                f(&mut handle)
            }
            (Locator::Zip(_), Source::Directory { root }) => Err(Error::io(
                "cannot read",
                root.join(file.path.as_str()),
                io::Error::other("internal error: zip locator on a directory"),
            )),
        }
    }

    /// Reads the whole of `file` into memory.
    pub fn read(&self, file: &RawFile) -> Result<Vec<u8>> {
        let location = self.location_of(&file.path);
        self.with_reader(file, |r| read_all(r, &location))
    }

    /// `outer.ear!path` for the archive form, `dir/path` for the expanded form.
    pub fn location_of(&self, path: &EntryPath) -> String {
        match self {
            Source::Archive { path: outer, .. } => format!("{}!{path}", outer.display()),
            Source::Directory { root } => root.join(path.as_str()).display().to_string(),
        }
    }

    /// Opens `file` as a nested zip archive. An entry of the archive form
    /// that is STORED is read in place, through a window of the outer file
    /// (nothing is copied); a deflated one is inflated once, into memory when
    /// small, else into a temporary file ([`SPILL_THRESHOLD`]).
    ///
    /// The window does not check the outer entry's CRC-32 (that would read
    /// the whole module): each file read from the module is checked against
    /// its own CRC-32, and bytes copied unread stay as they were, as a raw
    /// copy of the entry would keep them.
    pub fn open_nested(&self, file: &RawFile) -> Result<NestedZip> {
        self.open_nested_within(file, SPILL_THRESHOLD)
    }

    /// [`Source::open_nested`], holding at most `memory` bytes in memory
    /// (more are spilled to a temporary file).
    pub fn open_nested_within(&self, file: &RawFile, memory: u64) -> Result<NestedZip> {
        let location = self.location_of(&file.path);
        if file.size == 0 {
            return Err(Error::zip(
                location,
                zip::result::ZipError::InvalidArchive("the file is empty (0 bytes)".into()),
            ));
        }
        let bytes = match &file.locator {
            Locator::Disk(base) => {
                let disk = base.join(file.path.as_str());
                Bytes::file(File::open(&disk).map_err(|e| Error::io("cannot read", &disk, e))?)
            }
            Locator::Zip(index) => match self.stored_window(*index) {
                Some(window) => window,
                None => spill_within(file.size, memory, &location, |out| {
                    self.with_reader(file, |r| {
                        io::copy(r, out).map_err(|e| Error::io("cannot read", &location, e))?;
                        Ok(())
                    })
                })?,
            },
        };
        ZipArchive::new(bytes).map_err(|e| Error::zip(location, e))
    }

    /// The archive form's zip (a clone: cheap, reads on its own).
    pub fn archive_zip(&self) -> Option<ZipArchive<Bytes>> {
        match self {
            Source::Archive { zip, .. } => Some(zip.clone()),
            Source::Directory { .. } => None,
        }
    }

    /// The bytes of entry `index` of the archive form when they are stored
    /// as they are (method STORED, not encrypted, sizes that agree, inside
    /// the file); `None` otherwise (the entry is then read through the zip
    /// reader, which reports what is wrong with it).
    fn stored_window(&self, index: usize) -> Option<Bytes> {
        let Source::Archive { zip, .. } = self else {
            return None;
        };
        let mut zip = zip.clone();
        let entry = zip.by_index_raw(index).ok()?;
        if entry.compression() != zip::CompressionMethod::Stored
            || entry.encrypted()
            || entry.compressed_size() != entry.size()
        {
            return None;
        }
        let (start, len) = (entry.data_start()?, entry.size());
        drop(entry);
        zip.into_inner().window(start, len)
    }
}

/// A zip archive nested in the application (a module), over its bytes.
pub(crate) type NestedZip = ZipArchive<Bytes>;

/// Reads everything `r` yields, chunk by chunk: memory grows with what is
/// actually read, never with a declared size (the zip reader's own
/// `read_to_end` reserves the declared size up front).
pub(crate) fn read_all(r: &mut dyn Read, location: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match r.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("cannot read", location, e)),
        }
    }
}

/// A seekable copy of `size` bytes that `fill` writes: in memory up to
/// [`SPILL_THRESHOLD`], in a temporary file beyond, so that opening an
/// archive held in another archive never holds more than that in memory.
pub(crate) fn seekable(
    size: u64,
    location: &str,
    fill: impl FnOnce(&mut dyn io::Write) -> Result<()>,
) -> Result<Box<dyn ReadSeek>> {
    Ok(Box::new(spill(size, location, fill)?))
}

/// [`seekable`] as [`Bytes`] (cheap clones over the one copy).
pub(crate) fn spill(
    size: u64,
    location: &str,
    fill: impl FnOnce(&mut dyn io::Write) -> Result<()>,
) -> Result<Bytes> {
    spill_within(size, SPILL_THRESHOLD, location, fill)
}

/// [`spill`] into memory only up to `memory` bytes (and
/// [`SPILL_THRESHOLD`]).
fn spill_within(
    size: u64,
    memory: u64,
    location: &str,
    fill: impl FnOnce(&mut dyn io::Write) -> Result<()>,
) -> Result<Bytes> {
    if size <= SPILL_THRESHOLD.min(memory) {
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        fill(&mut bytes)?;
        return Ok(Bytes::memory(bytes));
    }
    let spill = tempfile::tempfile()
        .map_err(|e| Error::io("cannot create a temporary file for", location, e))?;
    let mut out = io::BufWriter::with_capacity(256 * 1024, spill);
    fill(&mut out)?;
    let spill = out
        .into_inner()
        .map_err(|e| Error::io("cannot write a temporary copy of", location, e.into_error()))?;
    Ok(Bytes::temporary(spill))
}

fn walk_dir(
    root: &Path,
    _prefix: Option<&EntryPath>,
    keep_apart: &dyn Fn(&EntryPath) -> bool,
    listing: &mut Listing,
) -> Result<()> {
    let base: Arc<Path> = Arc::from(root);
    let mut walker = WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    while let Some(item) = walker.next() {
        let item = item.map_err(|e| {
            let path = e.path().unwrap_or(root).to_path_buf();
            Error::io(
                "cannot list",
                path,
                e.into_io_error()
                    .unwrap_or_else(|| io::Error::other("file system loop")),
            )
        })?;
        let rel = item.path().strip_prefix(root).unwrap_or(item.path());
        let Some(rel_str) = rel.to_str() else {
            return Err(Error::UnsafePath {
                container: root.display().to_string(),
                entry: rel.to_string_lossy().into_owned(),
                problem: crate::path::PathProblem::NotUtf8,
            });
        };
        let rel_str = if std::path::MAIN_SEPARATOR == '/' {
            rel_str.to_owned()
        } else {
            rel_str.replace(std::path::MAIN_SEPARATOR, "/")
        };
        let path = EntryPath::new(&rel_str).map_err(|problem| Error::UnsafePath {
            container: root.display().to_string(),
            entry: rel_str.clone(),
            problem,
        })?;
        let file_type = item.file_type();
        if file_type.is_dir() {
            if keep_apart(&path) {
                listing.dirs.push(path);
                walker.skip_current_dir();
            }
        } else if file_type.is_file() {
            let (size, stamp) = item
                .metadata()
                .map_or((0, Stamp::None), |m| (m.len(), Stamp::of_disk(&m)));
            listing.files.push(RawFile {
                path,
                size,
                locator: Locator::Disk(Arc::clone(&base)),
                stamp,
            });
        } else if file_type.is_symlink() {
            listing.links.push(path);
        }
        // Symbolic links and special files are not part of an application.
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_listed_under_a_folder_reads_from_the_root_too() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tmp", ".", e))?;
        let sub = dir.path().join("d.war/sub");
        std::fs::create_dir_all(&sub).map_err(|e| Error::io("mkdir", &sub, e))?;
        let at = sub.join("f.txt");
        std::fs::write(&at, b"hello").map_err(|e| Error::io("write", &at, e))?;
        let source = Source::Directory {
            root: dir.path().to_path_buf(),
        };
        let folder = EntryPath::new("d.war").map_err(|p| Error::UnsafePath {
            container: "test".into(),
            entry: "d.war".into(),
            problem: p,
        })?;
        let listed = source.list_dir(&folder)?;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].path.as_str(), "sub/f.txt");
        assert_eq!(source.read(&listed[0])?, b"hello");
        let from_root = listed[0].clone().under(&folder);
        assert_eq!(from_root.path.as_str(), "d.war/sub/f.txt");
        assert_eq!(source.read(&from_root)?, b"hello");
        Ok(())
    }
}
