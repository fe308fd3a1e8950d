//! The content index: the SHA-256 of every file of an application, keyed
//! by validators that cost nothing to read ([`Stamp`]s: what the outer zip's
//! central directory holds, or a file's size, times and inode), so that a
//! digest, a drift check or a plan re-hashes only what changed.
//!
//! - **Archive form**: one item per outer entry, validated by its name,
//!   CRC-32, sizes, compression method and local header offset. A nested
//!   module's item holds the path, size and SHA-256 of each of its files, so
//!   an untouched module is not even opened.
//! - **Expanded form**: one item per file (a nested module archive on disk
//!   holds its files as above), validated by size, modification and change
//!   times in nanoseconds, inode and device, with git's "racy" rule: a file
//!   whose modification or change time is not before the moment the index's
//!   scan started (less a margin for the file system's coarse clock) is read
//!   again, since a change within the same clock tick would not show.
//!
//! Items whose reading produced a warning are kept unstamped: described
//! (for drift reports) but read again next time, to warn again. A missing, stale or corrupt index is never trusted: an item
//! whose stamp differs is simply read again, and a file that fails its
//! checksum or its format is ignored as a whole. The CRC-32 of an archive
//! entry is not a cryptographic check: `verify` re-hashes everything.
//!
//! It owns the index's format ([`ContentIndex::encode`],
//! [`ContentIndex::decode`]) and its lookups. It never decides where the
//! index is kept or when it is written: that is `state` and `ops`.

// Paths are hashed with foldhash, randomly seeded (entry names come from
// hostile archives, so the hash must resist flooding): SipHash cost a third
// of a warm lookup.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

mod format;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::inventory::FileInfo;
use super::{Application, Digest, Form, Inventory, ModuleData, Scope};
use crate::path::EntryPath;
use crate::source::{RawFile, Stamp};

/// The first line of an index file; the number is the format version.
const MAGIC: &str = "earpatch-index 1";

/// How far before the start of a scan a file's times must lie for its stamp
/// to be trusted later: file systems stamp times from a clock that lags the
/// system clock by up to a tick.
const RACY_MARGIN: Duration = Duration::from_secs(2);

/// Index files larger than this are not read (an index holds about 100
/// bytes per file).
const MAX_INDEX_BYTES: u64 = 1 << 30;

/// What an item holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Content {
    /// A plain file: its size and SHA-256.
    File { size: u64, sha256: [u8; 32] },
    /// A nested module archive: its files, sorted by path.
    Module(Vec<FileInfo>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    stamp: Stamp,
    content: Content,
}

/// What [`ContentIndex::compare_stamps`] found, counted by index item (a
/// nested module archive is one item).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StampCheck {
    /// Items whose stamp differs from the one the index holds.
    pub(crate) changed: u64,
    /// Files the index does not describe.
    pub(crate) added: u64,
    /// Items the index describes that are gone.
    pub(crate) removed: u64,
    /// Items the index keeps without a stamp (their reading warned): they
    /// cannot be checked without reading them.
    pub(crate) unstamped: u64,
}

/// Per-file hashes of one application, keyed by stamps (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContentIndex {
    form: Form,
    /// Nanoseconds since the epoch: files with a later time are racy.
    taken_at_ns: i64,
    /// The digest of the content the index describes.
    digest: Digest,
    /// By path from the application root (a module's URI for its archive),
    /// sorted, one item per path (a sorted list, not a map: it takes half
    /// the memory, and the index is written in this order).
    items: Vec<(EntryPath, Item)>,
}

/// The start of a scan, as the racy rule needs it: now, less the margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanStart(i64);

impl ScanStart {
    /// The moment a scan starts.
    pub(crate) fn now() -> ScanStart {
        let at = SystemTime::now()
            .checked_sub(RACY_MARGIN)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        ScanStart(at)
    }
}

/// What a builder holds for one item until the scan is done.
#[derive(Debug)]
enum Pending {
    File {
        size: u64,
        sha256: [u8; 32],
    },
    /// A nested module: its files, or `None` to take them from the
    /// inventory at the end (no second copy while the scan runs).
    Module(Option<Vec<FileInfo>>),
}

/// Builds an index while an application is read.
#[derive(Debug)]
pub(crate) struct IndexBuilder {
    taken_at_ns: i64,
    items: Vec<(EntryPath, Stamp, Pending)>,
}

impl IndexBuilder {
    pub(crate) fn new(start: ScanStart) -> IndexBuilder {
        IndexBuilder {
            taken_at_ns: start.0,
            items: Vec::new(),
        }
    }

    /// Records the size and hash of the file at `full` from the root, with
    /// `stamp` ([`Stamp::None`]: described, but read again next time; for a
    /// file whose reading warned, so that it warns again).
    pub(crate) fn file(&mut self, stamp: Stamp, full: &EntryPath, size: u64, sha256: [u8; 32]) {
        self.items
            .push((full.clone(), stamp, Pending::File { size, sha256 }));
    }

    /// Records the nested module archive at `uri`, whose files the inventory
    /// will hold.
    pub(crate) fn module(&mut self, stamp: Stamp, uri: &EntryPath) {
        self.items.push((uri.clone(), stamp, Pending::Module(None)));
    }

    /// Sorts the items by path, for [`IndexBuilder::stamp_of`].
    pub(crate) fn sort(&mut self) {
        self.items.sort_by(|a, b| a.0.cmp(&b.0));
    }

    /// The stamp taken of the item at `full` from the root (the items must
    /// be sorted: [`IndexBuilder::sort`]).
    pub(crate) fn stamp_of(&self, full: &EntryPath) -> Option<Stamp> {
        let at = self.items.partition_point(|item| &item.0 < full);
        // Of items with one path, the last taken counts, as in the index.
        self.items[at..]
            .iter()
            .take_while(|item| &item.0 == full)
            .last()
            .map(|item| item.1)
    }

    /// The stamps taken, by path from the root.
    pub(crate) fn stamps(&self) -> HashMap<EntryPath, Stamp> {
        self.items
            .iter()
            .map(|(path, stamp, _)| (path.clone(), *stamp))
            .collect()
    }

    /// Adds what another builder (one per hashing thread) collected.
    pub(crate) fn extend(&mut self, other: IndexBuilder) {
        self.items.extend(other.items);
    }

    /// The index of the application read: its files as `inventory` holds
    /// them (moved into the index, not copied).
    pub(crate) fn finish(self, form: Form, inventory: Inventory) -> ContentIndex {
        let digest = inventory.digest();
        let mut modules: HashMap<EntryPath, Vec<FileInfo>> = inventory
            .scopes
            .into_iter()
            .filter_map(|s| match s.scope {
                Scope::Module(uri) => Some((uri, s.files)),
                Scope::Application => None,
            })
            .collect();
        self.build(form, digest, &mut |uri| modules.remove(uri))
    }

    /// The index, taking the files of modules recorded without them from
    /// `module_files`.
    fn build(
        self,
        form: Form,
        digest: Digest,
        module_files: &mut dyn FnMut(&EntryPath) -> Option<Vec<FileInfo>>,
    ) -> ContentIndex {
        let items = self
            .items
            .into_iter()
            .filter_map(|(path, stamp, pending)| {
                let content = match pending {
                    Pending::File { size, sha256 } => Content::File { size, sha256 },
                    Pending::Module(Some(files)) => Content::Module(files),
                    Pending::Module(None) => Content::Module(module_files(&path)?),
                };
                Some((path, Item { stamp, content }))
            })
            .collect();
        ContentIndex {
            form,
            taken_at_ns: self.taken_at_ns,
            digest,
            items: sorted_items(items),
        }
    }
}

impl ContentIndex {
    /// The digest of the content it describes (the application as the last
    /// operation that wrote the index left it).
    pub(crate) fn digest(&self) -> Digest {
        self.digest
    }

    /// What the index holds for `raw` at `full`, if its stamp still matches
    /// and is not racy.
    pub(crate) fn lookup(&self, raw: &RawFile, full: &EntryPath) -> Option<&Content> {
        let item = self.item(full)?;
        self.vouches(item, raw.stamp).then_some(&item.content)
    }

    /// Takes out the files of the nested module archive `raw` (its path is
    /// the module URI), if the index vouches for them: they move into the
    /// new inventory instead of being copied.
    pub(crate) fn take_module(&mut self, raw: &RawFile) -> Option<Vec<FileInfo>> {
        let at = self.at(&raw.path)?;
        let item = &self.items[at].1;
        if !self.vouches(item, raw.stamp) || !matches!(item.content, Content::Module(_)) {
            return None;
        }
        // What is left no longer vouches for anything.
        let taken = std::mem::replace(
            &mut self.items[at].1,
            Item {
                stamp: Stamp::None,
                content: Content::Module(Vec::new()),
            },
        );
        match taken.content {
            Content::Module(files) => Some(files),
            Content::File { .. } => None,
        }
    }

    /// Where the item at `full` lies in the sorted items.
    fn at(&self, full: &EntryPath) -> Option<usize> {
        self.items.binary_search_by(|(p, _)| p.cmp(full)).ok()
    }

    /// The item at `full`.
    fn item(&self, full: &EntryPath) -> Option<&Item> {
        self.at(full).map(|at| &self.items[at].1)
    }

    /// Whether `item` still describes a file whose stamp is now `stamp`.
    fn vouches(&self, item: &Item, stamp: Stamp) -> bool {
        if item.stamp != stamp {
            return false;
        }
        match stamp {
            Stamp::None => false,
            Stamp::Disk {
                mtime_ns, ctime_ns, ..
            } => mtime_ns.max(ctime_ns) < self.taken_at_ns,
            Stamp::Entry { .. } => true,
        }
    }

    /// Every file the index describes, by path from the root, sorted: what
    /// the application held when the index was written.
    pub(crate) fn files(&self) -> Vec<(EntryPath, u64, [u8; 32])> {
        let mut out = Vec::new();
        for (path, item) in &self.items {
            match &item.content {
                Content::File { size, sha256 } => out.push((path.clone(), *size, *sha256)),
                Content::Module(files) => {
                    out.extend(files.iter().map(|f| (path.join(&f.path), f.size, f.sha256)));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Describes `app` (just written) whose files are `files` (consumed:
    /// a module's files move into the index): the content an operation
    /// predicted, with the stamps `app` has now. `start` is when the
    /// operation began reading, so every file it wrote is racy and read
    /// again next time.
    pub(crate) fn describe(
        app: &Application,
        mut files: Inventory,
        digest: Digest,
        start: ScanStart,
    ) -> crate::error::Result<ContentIndex> {
        let find = |files: &Inventory, full: &EntryPath| {
            files.find(full.as_str()).map(|f| (f.size, f.sha256))
        };
        let mut builder = IndexBuilder::new(start);
        for raw in &app.app_files {
            if let Some((size, sha)) = find(&files, &raw.path) {
                builder.file(raw.stamp, &raw.path, size, sha);
            }
        }
        let root = app
            .module_data
            .values()
            .any(|d| matches!(d, ModuleData::Root));
        for module in &app.modules {
            match app.module_data.get(&module.uri) {
                Some(ModuleData::Nested(raw)) => {
                    if let Some((size, sha)) = find(&files, &raw.path) {
                        // A module that cannot be read, kept as a plain file.
                        builder.file(Stamp::None, &raw.path, size, sha);
                        continue;
                    }
                    // Its files move out unless another module overlaps
                    // its directory (and so reads them too).
                    let alone = !root
                        && app
                            .modules
                            .iter()
                            .filter(|m| {
                                m.uri == module.uri
                                    || m.uri.is_inside(&module.uri)
                                    || module.uri.is_inside(&m.uri)
                            })
                            .count()
                            == 1;
                    let inside = files.files_under(&module.uri, alone);
                    builder.items.push((
                        raw.path.clone(),
                        raw.stamp,
                        Pending::Module(Some(inside)),
                    ));
                }
                Some(ModuleData::Dir(dir)) => {
                    for raw in app.source.list_dir(dir)? {
                        let full = dir.join(&raw.path);
                        if let Some((size, sha)) = find(&files, &full) {
                            builder.file(raw.stamp, &full, size, sha);
                        }
                    }
                }
                Some(ModuleData::Root) => {
                    for raw in app.source.list(&|_| false)?.files {
                        if let Some((size, sha)) = find(&files, &raw.path) {
                            builder.file(raw.stamp, &raw.path, size, sha);
                        }
                    }
                }
                Some(ModuleData::Missing) | None => {}
            }
        }
        drop(files);
        Ok(builder.build(app.form(), digest, &mut |_| None))
    }

    /// Describes the expanded application `app` just changed in place (its
    /// module layout unchanged): every file holds what `files` says
    /// (consumed: its files move into the index); a file `written` gets the
    /// stamp it has now, every other one keeps the stamp `before` gives, the
    /// one a scan of this very operation took while reading it, so nothing
    /// is walked again.
    pub(crate) fn describe_written(
        app: &Application,
        before: &dyn Fn(&EntryPath) -> Option<Stamp>,
        written: &dyn Fn(&EntryPath) -> bool,
        files: Inventory,
        digest: Digest,
        start: ScanStart,
    ) -> ContentIndex {
        let stamp = |full: &EntryPath| {
            if written(full) {
                match std::fs::symlink_metadata(app.path().join(full.as_str())) {
                    Ok(meta) if meta.is_file() => Stamp::of_disk(&meta),
                    _ => Stamp::None,
                }
            } else {
                before(full).unwrap_or(Stamp::None)
            }
        };
        // The nested module archive holding a full path, as `app.locate`
        // finds it, and the path inside it.
        let nested = |full: &str| -> Option<(EntryPath, usize)> {
            for module in &app.modules {
                if module.uri.as_str() == full {
                    return None;
                }
                if full
                    .strip_prefix(module.uri.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
                {
                    return matches!(
                        app.module_data.get(&module.uri),
                        Some(ModuleData::Nested(_))
                    )
                    .then(|| (module.uri.clone(), module.uri.as_str().len() + 1));
                }
            }
            None
        };
        let mut builder = IndexBuilder::new(start);
        // At most one item per file and module: no growth past it.
        builder.items.reserve_exact(
            files.scopes.iter().map(|s| s.files.len()).sum::<usize>() + app.modules.len(),
        );
        let mut modules: HashMap<EntryPath, Vec<FileInfo>> = HashMap::default();
        let mut full_buf = String::new();
        for scope in files.scopes {
            for file in scope.files {
                full_buf.clear();
                if let Scope::Module(uri) = &scope.scope {
                    full_buf.push_str(uri.as_str());
                    full_buf.push('/');
                }
                full_buf.push_str(file.path.as_str());
                if let Some((uri, cut)) = nested(&full_buf) {
                    let path = if scope.scope == Scope::Module(uri.clone()) {
                        Some(file.path)
                    } else {
                        full_buf.get(cut..).and_then(|rel| EntryPath::new(rel).ok())
                    };
                    if let Some(path) = path {
                        modules.entry(uri).or_default().push(FileInfo {
                            path,
                            size: file.size,
                            sha256: file.sha256,
                        });
                    }
                    continue;
                }
                let full = match &scope.scope {
                    Scope::Application => file.path,
                    Scope::Module(uri) => uri.join(&file.path),
                };
                builder.file(stamp(&full), &full, file.size, file.sha256);
            }
        }
        for module in &app.modules {
            if let Some(ModuleData::Nested(raw)) = app.module_data.get(&module.uri) {
                let mut inside = modules.remove(&module.uri).unwrap_or_default();
                if !inside.is_sorted_by(|a, b| a.path <= b.path) {
                    inside.sort_by(|a, b| a.path.cmp(&b.path));
                }
                builder.items.push((
                    raw.path.clone(),
                    stamp(&raw.path),
                    Pending::Module(Some(inside)),
                ));
            }
        }
        builder.build(app.form(), digest, &mut |_| None)
    }

    /// The stamp of every item, by path from the root (what
    /// [`ContentIndex::compare_stamps`] compares).
    pub(crate) fn stamps(&self) -> HashMap<EntryPath, Stamp> {
        self.items
            .iter()
            .map(|(path, item)| (path.clone(), item.stamp))
            .collect()
    }

    /// Compares the stamps an index held (`indexed`, from
    /// [`ContentIndex::stamps`]) with the stamps the application's files
    /// have `now` (those a scan took: the central directory, the directory
    /// listings and file metadata; no file's bytes): the cheap drift check.
    /// A stamp that differs says a file may have changed, not that it did;
    /// an equal stamp says nothing changed as far as stamps can tell (a
    /// change within the same clock tick keeps a disk stamp: `verify`
    /// re-reads everything).
    pub(crate) fn compare_stamps(
        indexed: &HashMap<EntryPath, Stamp>,
        now: &HashMap<EntryPath, Stamp>,
    ) -> StampCheck {
        let mut check = StampCheck::default();
        let mut seen = 0usize;
        for (path, stamp) in now {
            match indexed.get(path) {
                None => check.added += 1,
                Some(old) => {
                    seen += 1;
                    if *old == Stamp::None {
                        check.unstamped += 1;
                    } else if old != stamp {
                        check.changed += 1;
                    }
                }
            }
        }
        check.removed = indexed.len().saturating_sub(seen) as u64;
        check
    }

    /// Whether the index describes an application of this form.
    pub(crate) fn form(&self) -> Form {
        self.form
    }

    /// The largest index file that is read.
    pub(crate) const MAX_BYTES: u64 = MAX_INDEX_BYTES;
}

/// `items` sorted by path, of items with one path the last one (as a map
/// would keep it).
fn sorted_items(mut items: Vec<(EntryPath, Item)>) -> Vec<(EntryPath, Item)> {
    if !items.is_sorted_by(|a, b| a.0 < b.0) {
        items.sort_by(|a, b| a.0.cmp(&b.0));
        items.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
    }
    items.shrink_to_fit();
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> EntryPath {
        EntryPath::new(s).unwrap_or_else(|p| panic!("{s}: {p}"))
    }

    fn sample() -> ContentIndex {
        let items = vec![
            (
                path("a b/x\ty.txt"),
                Item {
                    stamp: Stamp::Disk {
                        size: 3,
                        mtime_ns: 1,
                        ctime_ns: -2,
                        inode: 4,
                        device: 5,
                    },
                    content: Content::File {
                        size: 3,
                        sha256: [7; 32],
                    },
                },
            ),
            (
                path("shop.war"),
                Item {
                    stamp: Stamp::Entry {
                        crc32: 9,
                        packed: 10,
                        size: 11,
                        method: 8,
                        offset: 12,
                    },
                    content: Content::Module(vec![FileInfo {
                        path: path("WEB-INF/web.xml"),
                        size: 13,
                        sha256: [1; 32],
                    }]),
                },
            ),
        ];
        ContentIndex {
            form: Form::Expanded,
            taken_at_ns: 42,
            digest: Digest([3; 32]),
            items,
        }
    }

    #[test]
    fn round_trips() {
        let index = sample();
        let mut bytes = Vec::new();
        index.encode(&mut bytes).unwrap_or_else(|e| panic!("{e}"));
        let back = ContentIndex::decode(&mut &bytes[..]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, index);
    }

    #[test]
    fn items_are_sorted_and_the_last_of_one_path_counts() {
        let item = |n: u8| Item {
            stamp: Stamp::None,
            content: Content::File {
                size: u64::from(n),
                sha256: [n; 32],
            },
        };
        let items = sorted_items(vec![
            (path("b"), item(1)),
            (path("a"), item(2)),
            (path("b"), item(3)),
            (path("c"), item(4)),
        ]);
        let got: Vec<(&str, &Content)> = items
            .iter()
            .map(|(p, i)| (p.as_str(), &i.content))
            .collect();
        assert_eq!(
            got,
            [
                ("a", &item(2).content),
                ("b", &item(3).content),
                ("c", &item(4).content)
            ]
        );
    }

    #[test]
    fn a_taken_module_no_longer_vouches() {
        let mut index = sample();
        let stamp = Stamp::Entry {
            crc32: 9,
            packed: 10,
            size: 11,
            method: 8,
            offset: 12,
        };
        let raw = RawFile {
            path: path("shop.war"),
            size: 11,
            locator: crate::source::Locator::Zip(0),
            stamp,
        };
        let files = index.take_module(&raw).map(|f| f.len());
        assert_eq!(files, Some(1));
        assert!(index.take_module(&raw).is_none());
        assert!(index.lookup(&raw, &path("shop.war")).is_none());
    }

    #[test]
    fn any_damage_is_refused() {
        let mut bytes = Vec::new();
        sample()
            .encode(&mut bytes)
            .unwrap_or_else(|e| panic!("{e}"));
        // Every truncation and every single flipped byte is refused.
        for cut in 0..bytes.len() - 1 {
            assert!(
                ContentIndex::decode(&mut &bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        for at in 0..bytes.len() - 1 {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x20;
            assert!(
                ContentIndex::decode(&mut &damaged[..]).is_err(),
                "flip at {at}"
            );
        }
    }

    #[test]
    fn racy_and_changed_stamps_are_not_trusted() {
        let index = sample();
        let raw = |stamp| RawFile {
            path: path("a b/x\ty.txt"),
            size: 3,
            locator: crate::source::Locator::Disk(std::path::Path::new("x").into()),
            stamp,
        };
        let full = path("a b/x\ty.txt");
        let same = Stamp::Disk {
            size: 3,
            mtime_ns: 1,
            ctime_ns: -2,
            inode: 4,
            device: 5,
        };
        assert!(index.lookup(&raw(same), &full).is_some());
        let moved = Stamp::Disk {
            size: 3,
            mtime_ns: 1,
            ctime_ns: -2,
            inode: 6,
            device: 5,
        };
        assert!(index.lookup(&raw(moved), &full).is_none());
        let mut racy = index.clone();
        racy.taken_at_ns = 1;
        assert!(racy.lookup(&raw(same), &full).is_none());
        assert!(index.lookup(&raw(Stamp::None), &full).is_none());
    }
}
