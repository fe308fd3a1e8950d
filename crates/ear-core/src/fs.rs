//! File-system primitives every writer shares: the one atomic-write helper
//! (temporary file beside the target, sync, rename, sync of the folder),
//! [`Confined`] access to an application folder (nothing resolves outside
//! it), the link test, folder syncing and the naming of temporary files.
//!
//! This module knows nothing of applications, zips or plans; it must not
//! decide what to write, only how a file lands on disk durably.

use std::fs::File;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// A file being written beside its target: created under a temporary name in
/// the target's folder, it replaces the target only at [`AtomicFile::commit`],
/// after its bytes are synced; dropping it unfinished removes it. Readers see
/// the old file or the new one, never a part.
///
/// New files get the mode a plain `create` would (0666 less the umask);
/// [`AtomicFile::keep_mode_of`] keeps a replaced file's mode instead.
#[derive(Debug)]
pub(crate) struct AtomicFile {
    tmp: NamedTempFile,
    target: PathBuf,
    dir: PathBuf,
}

impl AtomicFile {
    /// Starts writing a replacement for `target`.
    pub(crate) fn beside(target: &Path) -> Result<AtomicFile> {
        let dir = parent_dir(target);
        let prefix = temp_prefix(target);
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder
            .tempfile_in(&dir)
            .map_err(|e| Error::io("cannot create a temporary file in", &dir, e))?;
        Ok(AtomicFile {
            tmp,
            target: target.to_path_buf(),
            dir,
        })
    }

    /// Gives the new file the permissions of the file it replaces, if any.
    pub(crate) fn keep_mode_of(&self, old: &Path) {
        if let Ok(meta) = std::fs::metadata(old) {
            let _ = std::fs::set_permissions(self.tmp.path(), meta.permissions());
        }
    }

    /// The open temporary file.
    pub(crate) fn file(&self) -> &File {
        self.tmp.as_file()
    }

    /// A second handle on the temporary file (for buffered writers that own theirs).
    pub(crate) fn handle(&self) -> Result<File> {
        self.tmp
            .as_file()
            .try_clone()
            .map_err(|e| Error::io("cannot write", self.tmp.path(), e))
    }

    /// Where the temporary file is.
    pub(crate) fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Syncs the new bytes and renames them over the target (`before_rename`
    /// runs between the two: the crash tests' fail point), then syncs the folder.
    pub(crate) fn commit_with(self, before_rename: impl FnOnce()) -> Result<()> {
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io("cannot sync", self.tmp.path(), e))?;
        before_rename();
        self.tmp
            .persist(&self.target)
            .map_err(|e| Error::io("cannot rename the new file to", &self.target, e.error))?;
        sync_dir(&self.dir)
    }

    /// [`AtomicFile::commit_with`] without a fail point.
    pub(crate) fn commit(self) -> Result<()> {
        self.commit_with(|| {})
    }
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub(crate) fn write_json_atomic(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    use std::io::Write as _;
    let bytes =
        serde_json::to_vec_pretty(value).map_err(|e| Error::io("cannot write", path, e.into()))?;
    let out = AtomicFile::beside(path)?;
    out.file()
        .write_all(&bytes)
        .map_err(|e| Error::io("cannot write", out.path(), e))?;
    out.commit()
}

/// The prefix of the temporary files written beside `target`:
/// `.earpatch-<file name>-`, so that cleaning up after one application never
/// touches another one's files.
pub(crate) fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    format!(".earpatch-{name}-")
}

/// Syncs a directory so that renames in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let handle = File::open(dir).map_err(|e| Error::io("cannot open", dir, e))?;
        handle
            .sync_all()
            .map_err(|e| Error::io("cannot sync", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// `dir` for a path's parent, `.` when it has none.
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates the folder that will hold `path`.
pub(crate) fn ensure_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, e))?;
    }
    Ok(())
}

/// A test-only fail point: when the environment variable
/// `EARPATCH_FAILPOINT` names `point`, the process aborts right there, as a
/// crash or `kill -9` would. Used by the crash-safety tests; compiled only
/// into debug builds (what `cargo test` runs), never into a release binary.
pub(crate) fn fail_point(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("EARPATCH_FAILPOINT").is_ok_and(|v| v == point) {
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}

/// The first component of `rel` (a `/`-separated path below `root`), as a
/// path from `root`, that is a symbolic link; `None` when no existing
/// component is one. earpatch never reads or writes through a link inside an
/// application.
pub(crate) fn linked_component(root: &Path, rel: &str) -> Option<String> {
    let mut disk = root.to_path_buf();
    let mut end = 0;
    for component in rel.split('/') {
        disk.push(component);
        end += component.len();
        match std::fs::symlink_metadata(&disk) {
            Ok(meta) if meta.file_type().is_symlink() => return Some(rel[..end].to_owned()),
            Ok(_) => end += 1,
            Err(_) => return None,
        }
    }
    None
}

/// An application folder opened so that no path used through it can resolve
/// outside it, whatever links or `..` it meets (cap-std: every lookup is
/// made beneath the opened folder, with `openat2(RESOLVE_BENEATH)` where the
/// kernel has it). The planner refuses changes under links in the first
/// place; this is the guarantee that a link planted in between, or a
/// tampered journal, still cannot redirect a write elsewhere.
#[derive(Debug)]
pub(crate) struct Confined {
    dir: cap_std::fs::Dir,
    root: PathBuf,
}

impl Confined {
    /// Opens `root`.
    pub(crate) fn open(root: &Path) -> Result<Confined> {
        let dir = cap_std::fs::Dir::open_ambient_dir(root, cap_std::ambient_authority())
            .map_err(|e| Error::io("cannot open", root, e))?;
        Ok(Confined {
            dir,
            root: root.to_path_buf(),
        })
    }

    /// `root/rel`, for messages.
    pub(crate) fn display(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Whether `rel` is a regular file (a link is not).
    pub(crate) fn is_file(&self, rel: &str) -> bool {
        self.dir
            .symlink_metadata(rel)
            .is_ok_and(|m| m.file_type().is_file())
    }

    /// Whether anything (file, folder, link) is at `rel`.
    pub(crate) fn exists(&self, rel: &str) -> bool {
        self.dir.symlink_metadata(rel).is_ok()
    }

    /// The permissions of the file at `rel`.
    pub(crate) fn permissions(&self, rel: &str) -> Option<std::fs::Permissions> {
        let meta = self.dir.symlink_metadata(rel).ok()?;
        #[cfg(unix)]
        {
            use cap_std::fs::PermissionsExt as _;
            use std::os::unix::fs::PermissionsExt as _;
            Some(std::fs::Permissions::from_mode(meta.permissions().mode()))
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }

    /// Renames `from` (below this folder) to `to` below `other`.
    pub(crate) fn rename(&self, from: &str, other: &Confined, to: &str) -> std::io::Result<()> {
        self.dir.rename(from, &other.dir, to)
    }

    /// Creates the folders that will hold `rel`.
    pub(crate) fn ensure_parent(&self, rel: &str) -> Result<()> {
        if let Some((parent, _)) = rel.rsplit_once('/') {
            self.dir
                .create_dir_all(parent)
                .map_err(|e| Error::io("cannot create", self.display(parent), e))?;
        }
        Ok(())
    }

    /// Removes the file at `rel`.
    pub(crate) fn remove_file(&self, rel: &str) -> Result<()> {
        self.dir
            .remove_file(rel)
            .map_err(|e| Error::io("cannot remove", self.display(rel), e))
    }

    /// Removes the folders of the file `rel` that became empty, innermost
    /// first, never one of `keep` (paths from the root) nor the root itself.
    pub(crate) fn remove_empty_parents(&self, rel: &str, keep: &[&str]) {
        let mut dir = rel;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            if keep.contains(&parent) || self.dir.remove_dir(parent).is_err() {
                break;
            }
            dir = parent;
        }
    }

    /// Syncs the folder holding `rel` (the root for a top-level file).
    pub(crate) fn sync_parent(&self, rel: &str) -> Result<()> {
        let parent = rel.rsplit_once('/').map_or(".", |(p, _)| p);
        let mut read = cap_std::fs::OpenOptions::new();
        read.read(true);
        let Ok(dir) = self.dir.open_with(parent, &read) else {
            return Ok(()); // removed with its last file
        };
        dir.into_std()
            .sync_all()
            .map_err(|e| Error::io("cannot sync", self.display(parent), e))
    }
}

/// Refuses an output path (`-o`) that exists and is not a regular file (a
/// device such as `/dev/null`, a FIFO, a folder, a symbolic link), or that
/// is one of `inputs` (compared by device and inode, never by spelling).
/// Nothing is read or written here.
pub(crate) fn check_output(out: &Path, inputs: &[&Path]) -> Result<()> {
    let refuse = |why: String| Error::Refused {
        location: out.display().to_string(),
        message: why,
    };
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("cannot inspect the output", out, e)),
        Ok(meta) if !meta.file_type().is_file() => {
            let kind = file_kind(&meta);
            return Err(refuse(format!(
                "the output is {kind}, not a regular file; earpatch writes a new file there (replacing \
                 only a regular file), so give another path"
            )));
        }
        Ok(_) => {}
    }
    for input in inputs {
        if same_file(out, input) {
            return Err(refuse(format!(
                "the output is {} itself; write to another path (to update an application in place, leave out -o)",
                input.display()
            )));
        }
    }
    Ok(())
}

/// Whether two paths name the same file (device and inode; links followed).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
    }
}

/// "a folder", "a symbolic link", "a character device", ... for messages.
pub(crate) fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a folder"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// Reads a whole input file that must be a regular file of at most `max`
/// bytes: a FIFO, a device (`/dev/zero`) or a folder is refused before it is
/// opened for reading, so nothing hangs and nothing grows without bound.
pub(crate) fn read_bounded(path: &Path, max: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read as _;
    check_regular(path, what)?;
    let file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("cannot read", path, e))?;
    if bytes.len() as u64 > max {
        return Err(Error::Refused {
            location: path.display().to_string(),
            message: format!("{what} is larger than {max} bytes; that is not one"),
        });
    }
    Ok(bytes)
}

/// Refuses `path` unless it is a regular file (links followed): opening a
/// FIFO for reading would wait forever, a device never ends.
pub(crate) fn check_regular(path: &Path, what: &str) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io("cannot open", path, e))?;
    if meta.is_file() {
        return Ok(());
    }
    Err(Error::Refused {
        location: path.display().to_string(),
        message: format!(
            "{what} must be a regular file, and this is {}",
            file_kind(&meta)
        ),
    })
}
