//! Writing the archive form: unchanged entries are copied as they are (their
//! local records byte for byte, by the kernel: [`super::assemble`]), touched
//! nested modules are rebuilt the same way, the result goes to a temporary
//! file beside the target, is synced and renamed. It never edits an archive
//! in place and never decides what changes.
//!
//! A touched module is read from the opening the plan made of it (inflated
//! once per operation, or read in place when STORED: see
//! [`crate::model::Application`]); two threads rebuild and compress the
//! touched modules, largest first. A rebuilt module is written STORED when
//! its original entry compressed to 90 % of its size or more, else deflated
//! at level 1. Measured on the medium bench EAR (`apply -o`, three rebuilt
//! modules, 28.3 MB, whose entries compressed to 88 %): deflating them costs
//! about 0.2 s of CPU (zlib-rs level 1, ~145 MB/s on already deflated
//! content, half the command's CPU; 0.33 s against 0.20 s all STORED) and
//! saves 3.4 MB of 98.1; STORED also lets the next operation read the module
//! in place instead of inflating it. Modules of already deflated entries
//! typically compress to 97-99.5 %: there, deflating again saves under 3 %
//! for the same cost, hence the threshold.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::assemble::{Assembler, Input, Record, Scanner, check_disjoint};
use super::zipout::ZipFile;
use super::{Action, ChangeSet, New, rebuilt_modules};
use crate::clock::UtcTime;
use crate::error::{Error, Result};
use crate::fs::{AtomicFile, fail_point};
use crate::model::{Application, Storage};
use crate::path::EntryPath;
use crate::progress::{Meter, Phase};
use crate::source::{Bytes, NestedZip};

/// Deflate level for module archives rewritten into the EAR: their content is
/// mostly compressed already, so a fast level loses little.
const MODULE_LEVEL: i64 = 1;
/// A rebuilt module whose original entry compressed to this fraction of its
/// size or more (numerator, denominator) is written STORED: see [`Wrapper::method`].
const STORE_AT: (u128, u128) = (9, 10);
/// Deflate level for new individual files.
const FILE_LEVEL: i64 = 6;

/// New content for one outer entry.
enum Content<'a> {
    /// Streamed from the update (or an edited descriptor).
    New(&'a New),
    /// A rebuilt module, in a temporary file.
    File(File),
}

struct Write1<'a> {
    content: Content<'a>,
    /// Compression of the entry it replaces, if any.
    method: Option<CompressionMethod>,
    level: i64,
}

fn options(
    method: CompressionMethod,
    level: i64,
    size: u64,
    mode: Option<u32>,
) -> SimpleFileOptions {
    let mut o = SimpleFileOptions::default()
        .compression_method(method)
        .last_modified_time(UtcTime::now().zip_time())
        .large_file(size >= u64::from(u32::MAX));
    if method == CompressionMethod::Deflated {
        o = o.compression_level(Some(level));
    }
    o.unix_permissions(mode.unwrap_or(0o644) & 0o7777)
}

fn write_entry<W: Write + Seek>(
    writer: &mut ZipWriter<W>,
    name: &str,
    content: &mut Content<'_>,
    opts: SimpleFileOptions,
    (set, location): (&ChangeSet<'_>, &str),
) -> Result<()> {
    writer
        .start_file(name, opts)
        .map_err(|e| Error::zip(location, e))?;
    match content {
        Content::New(new) => {
            set.copy_to(new, writer, location)?;
        }
        Content::File(f) => {
            f.seek(SeekFrom::Start(0))
                .map_err(|e| Error::io("cannot read", location, e))?;
            std::io::copy(&mut BufReader::new(f), writer)
                .map_err(|e| Error::io("cannot write", location, e))?;
        }
    }
    Ok(())
}

fn content_len(content: &mut Content<'_>, set: &ChangeSet<'_>) -> u64 {
    match content {
        Content::New(new) => set.size_of(new),
        Content::File(f) => f.metadata().map_or(0, |m| m.len()),
    }
}

/// What takes an entry's place in a rewritten zip.
enum Put<'a> {
    /// Content the zip writer writes.
    Write(Write1<'a>),
    /// An entry already written: the only entry of this temporary zip (a
    /// rebuilt module, compressed by the thread that rebuilt it).
    Ready(File),
}

/// One entry of a rewritten zip, in order.
enum Item<'a> {
    /// Entry `.1` of the source, its local record copied as it is.
    Keep(Record, usize),
    /// An entry of the source whose data descriptor or central record this
    /// does not copy verbatim: raw-copied by the zip writer, which rewrites
    /// its headers.
    Normalize(usize),
    /// New content, written by the zip writer.
    Write {
        name: String,
        w: Write1<'a>,
        method: CompressionMethod,
        mode: Option<u32>,
    },
    /// A ready entry.
    Ready(File),
}

/// Rewrites the zip `source` into `out`: entries named in `changes` are
/// replaced (`Some`) or dropped (`None`), the others copied as they are, in
/// their order (with what precedes the first entry, as in a self-extracting
/// archive); new names are appended. Entries under a prefix of
/// `drop_prefixes` are dropped.
///
/// The unchanged entries' local records are copied byte for byte, in runs,
/// by the kernel ([`super::assemble`]); new content is written by the zip
/// writer into a temporary zip whose records are copied the same way; then
/// one central directory is written. What is copied into `out` is reported
/// to `meter`.
fn rewrite(
    source: Input<'_>,
    mut changes: BTreeMap<String, Option<Put<'_>>>,
    drop_prefixes: &[String],
    (out, meter): (File, &Meter),
    (set, out_location): (&ChangeSet<'_>, &str),
) -> Result<File> {
    let location = source.location;
    let zip = source.zip;
    let mut items = Vec::new();
    let mut others = Vec::new();
    let mut scanner = Scanner::new(source);
    // What precedes the first local header (self-extracting archives).
    let mut prefix = zip.central_directory_start();
    for index in 0..zip.len() {
        let entry = zip
            .by_index_data(index)
            .map_err(|e| Error::zip(location, e))?;
        prefix = prefix.min(entry.header_start());
        let name = entry
            .name()
            .map_err(|e| Error::zip(location, e))?
            .into_owned();
        let dropped = drop_prefixes.iter().any(|p| name.starts_with(p.as_str()));
        let change = if dropped {
            Some(None)
        } else {
            changes.remove(&name)
        };
        if change.is_some() {
            // Not copied, but its record must not share bytes with one that
            // is (checked as far as it can be read).
            if let Ok(Some(record)) = scanner.record(index) {
                others.push((record.span(), Some(index)));
            }
        }
        match change {
            Some(None) => {}
            Some(Some(Put::Write(w))) => {
                let method = if entry.compression() == CompressionMethod::Stored {
                    CompressionMethod::Stored
                } else {
                    CompressionMethod::Deflated
                };
                let mode = entry.unix_mode();
                items.push(Item::Write {
                    name,
                    w,
                    method,
                    mode,
                });
            }
            Some(Some(Put::Ready(file))) => items.push(Item::Ready(file)),
            None => items.push(match scanner.record(index)? {
                Some(record) => Item::Keep(record, index),
                None => Item::Normalize(index),
            }),
        }
    }
    for (name, put) in changes {
        match put {
            None => {}
            Some(Put::Write(w)) => {
                let method = w.method.unwrap_or(CompressionMethod::Deflated);
                items.push(Item::Write {
                    name,
                    w,
                    method,
                    mode: None,
                });
            }
            Some(Put::Ready(file)) => items.push(Item::Ready(file)),
        }
    }
    let mut spans: Vec<((u64, u64), Option<usize>)> = items
        .iter()
        .filter_map(|item| match item {
            Item::Keep(record, index) => Some((record.span(), Some(*index))),
            _ => None,
        })
        .collect();
    spans.push(((0, prefix), None));
    spans.extend(others);
    check_disjoint(spans, source)?;

    // New content, and entries to normalize, into one temporary zip.
    let mut written = None;
    if items
        .iter()
        .any(|i| matches!(i, Item::Write { .. } | Item::Normalize(_)))
    {
        let tmp = tempfile::tempfile()
            .map_err(|e| Error::io("cannot create a temporary file for", out_location, e))?;
        let mut temp = ZipFile::new(tmp, 256 * 1024);
        let at = format!("a temporary zip for {out_location}");
        write_items(&mut items, zip, temp.writer(), (set, location))
            .map_err(|e| temp.explain(e, &at))?;
        written = Some(opened(temp.finish(&at)?, &at)?);
    }
    let mut ready = Vec::new();
    for item in &mut items {
        if let Item::Ready(file) = item {
            let file = file
                .try_clone()
                .map_err(|e| Error::io("cannot read", "a rebuilt module", e))?;
            ready.push(opened(file, "a rebuilt module")?);
        }
    }

    let mut inputs = vec![source];
    let written_input = written.as_ref().map(|(zip, bytes, at)| {
        inputs.push(Input {
            zip,
            bytes,
            location: at,
        });
        inputs.len() - 1
    });
    let ready_first = inputs.len();
    for (zip, bytes, at) in &ready {
        inputs.push(Input {
            zip,
            bytes,
            location: at,
        });
    }
    let mut scanners: Vec<Scanner> = inputs.iter().map(|i| Scanner::new(*i)).collect();
    let mut order = Vec::with_capacity(items.len());
    let (mut next_written, mut next_ready) = (0, ready_first);
    for item in &items {
        match item {
            Item::Keep(record, _) => order.push((0, *record)),
            Item::Write { .. } | Item::Normalize(_) => {
                let i = written_input.ok_or_else(|| internal(out_location))?;
                let record = scanners[i]
                    .record(next_written)?
                    .ok_or_else(|| internal(out_location))?;
                next_written += 1;
                order.push((i, record));
            }
            Item::Ready(_) => {
                let record = scanners[next_ready]
                    .record(0)?
                    .ok_or_else(|| internal(out_location))?;
                next_ready += 1;
                order.push((next_ready - 1, record));
            }
        }
    }
    drop(scanners);
    let mut assembler = Assembler::new(inputs, out, out_location).metered(meter);
    assembler.prefix(0, prefix)?;
    for (input, record) in order {
        assembler.record(input, record)?;
    }
    assembler.finish(zip.comment())
}

fn internal(location: &str) -> Error {
    Error::refused(
        location,
        "internal error: a temporary zip does not hold what was written",
    )
}

/// Reads back a temporary zip just written.
fn opened(file: File, location: &str) -> Result<(NestedZip, Bytes, String)> {
    let bytes = Bytes::file(file);
    let zip = ZipArchive::new(bytes.clone()).map_err(|e| Error::zip(location, e))?;
    Ok((zip, bytes, location.to_owned()))
}

/// Writes the new and normalized entries of `items`, in order.
fn write_items<W: Write + Seek>(
    items: &mut [Item<'_>],
    source: &NestedZip,
    writer: &mut ZipWriter<W>,
    (set, location): (&ChangeSet<'_>, &str),
) -> Result<()> {
    let mut source = source.clone();
    for item in items {
        match item {
            Item::Write {
                name,
                w,
                method,
                mode,
            } => {
                let size = content_len(&mut w.content, set);
                write_entry(
                    writer,
                    name,
                    &mut w.content,
                    options(*method, w.level, size, *mode),
                    (set, location),
                )?;
            }
            Item::Normalize(index) => {
                let entry = source
                    .by_index_raw(*index)
                    .map_err(|e| Error::zip(location, e))?;
                let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
                writer
                    .raw_copy_file(entry)
                    .map_err(|e| Error::zip(format!("{location}!{name}"), e))?;
            }
            Item::Keep(..) | Item::Ready(_) => {}
        }
    }
    Ok(())
}

fn file_changes<'a>(
    actions: &'a BTreeMap<EntryPath, Action>,
    prefix: &str,
) -> BTreeMap<String, Option<Put<'a>>> {
    actions
        .iter()
        .map(|(rel, action)| {
            let w = action.as_ref().map(|new| {
                Put::Write(Write1 {
                    content: Content::New(new),
                    method: None,
                    level: FILE_LEVEL,
                })
            });
            (format!("{prefix}{rel}"), w)
        })
        .collect()
}

/// Rebuilds one nested module archive into a temporary file, from the
/// opening the plan made of it (read once per operation).
pub(crate) fn rebuild_module(
    app: &Application,
    uri: &EntryPath,
    actions: &BTreeMap<EntryPath, Action>,
    set: &ChangeSet<'_>,
) -> Result<File> {
    let module = app.module_archive(uri)?.ok_or_else(|| {
        Error::refused(uri.to_string(), "internal error: module is not an archive")
    })?;
    let out = tempfile::tempfile()
        .map_err(|e| Error::io("cannot create a temporary file for", uri.as_str(), e))?;
    let input = Input {
        zip: &module.zip,
        bytes: &module.bytes,
        location: &module.location,
    };
    let at = format!("a temporary copy of {}", module.location);
    let unmetered = Meter::default();
    rewrite(
        input,
        file_changes(actions, ""),
        &[],
        (out, &unmetered),
        (set, &at),
    )
}

/// How the outer entry holding a module was stored: compressed and
/// uncompressed sizes, Unix mode.
#[derive(Debug, Clone, Copy)]
struct Wrapper {
    compressed: u64,
    size: u64,
    mode: Option<u32>,
}

impl Wrapper {
    /// An entry not found: deflated, mode 0644.
    const UNKNOWN: Wrapper = Wrapper {
        compressed: 0,
        size: 1,
        mode: None,
    };

    /// How to store the rebuilt module: STORED when the original entry
    /// compressed to [`STORE_AT`] or more of its size (a module of already
    /// deflated files, where deflating again costs time and saves little),
    /// else deflated.
    fn method(self) -> CompressionMethod {
        let (packed, size) = (u128::from(self.compressed), u128::from(self.size));
        if packed * STORE_AT.1 >= size * STORE_AT.0 {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        }
    }
}

/// Rebuilds one nested module and writes it, compressed as [`Wrapper::method`]
/// says, as the only entry of a temporary zip named by its URI.
fn rebuild_wrapped(
    app: &Application,
    uri: &EntryPath,
    wrapper: Wrapper,
    set: &ChangeSet<'_>,
) -> Result<File> {
    let mut module = rebuild_module(app, uri, &set.module_files[uri], set)?;
    let size = module
        .metadata()
        .map_err(|e| Error::io("cannot read", uri.as_str(), e))?
        .len();
    let out = tempfile::tempfile()
        .map_err(|e| Error::io("cannot create a temporary file for", uri.as_str(), e))?;
    let mut zip = ZipFile::new(out, 256 * 1024);
    let at = format!("{}!{uri}", app.path().display());
    let opts = options(wrapper.method(), MODULE_LEVEL, size, wrapper.mode);
    module
        .seek(SeekFrom::Start(0))
        .map_err(|e| Error::io("cannot read", &at, e))?;
    let copy = zip
        .writer()
        .start_file(uri.as_str(), opts)
        .map_err(|e| Error::zip(&at, e))
        .and_then(|()| {
            // What goes into the compressor is what the progress counts.
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = module
                    .read(&mut buf)
                    .map_err(|e| Error::io("cannot read", &at, e))?;
                if n == 0 {
                    return Ok(());
                }
                zip.writer()
                    .write_all(&buf[..n])
                    .map_err(|e| Error::io("cannot write", &at, e))?;
                set.meter.wrote(n as u64, 0)?;
            }
        });
    copy.map_err(|e| zip.explain(e, &format!("a temporary copy of {at}")))?;
    zip.finish(&at)
}

/// Builds a new module archive from files (a module a full update creates).
pub(crate) fn build_module(
    files: &BTreeMap<EntryPath, Action>,
    location: &str,
    set: &ChangeSet<'_>,
) -> Result<File> {
    let out = tempfile::tempfile()
        .map_err(|e| Error::io("cannot create a temporary file for", location, e))?;
    let mut zip = ZipFile::new(out, 64 * 1024);
    let writer = zip.writer();
    for (rel, new) in files {
        let Some(new) = new else { continue };
        let size = set.size_of(new);
        write_entry(
            writer,
            rel.as_str(),
            &mut Content::New(new),
            options(CompressionMethod::Deflated, FILE_LEVEL, size, None),
            (set, location),
        )?;
    }
    zip.finish(location)
}

/// Rebuilds and compresses the touched nested modules on both cores: two
/// threads take the modules one after the other, largest first.
fn rebuild_all(
    app: &Application,
    set: &ChangeSet,
    wrappers: &BTreeMap<EntryPath, Wrapper>,
) -> Result<BTreeMap<EntryPath, File>> {
    let mut uris: Vec<(EntryPath, Wrapper)> = rebuilt_modules(app, set)
        .into_iter()
        .map(|uri| {
            let wrapper = wrappers.get(&uri).copied().unwrap_or(Wrapper::UNKNOWN);
            (uri, wrapper)
        })
        .collect();
    uris.sort_by_key(|(_, w)| std::cmp::Reverse(w.size));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some((uri, wrapper)) = uris.get(i) else {
                return done;
            };
            let result = rebuild_wrapped(app, uri, *wrapper, set);
            let failed = result.is_err();
            done.push((uri.clone(), result));
            if failed {
                next.store(uris.len(), std::sync::atomic::Ordering::Relaxed);
                return done;
            }
        }
    };
    let threads = uris.len().min(2);
    let results: Vec<Vec<(EntryPath, Result<File>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    if results.len() != threads {
        return Err(Error::refused(
            app.path().display().to_string(),
            "a module rebuild thread panicked",
        ));
    }
    let mut out = BTreeMap::new();
    for (uri, file) in results.into_iter().flatten() {
        out.insert(uri, file?);
    }
    Ok(out)
}

/// Writes the new archive to `out` atomically. Progress counts the rebuilt
/// modules' bytes as they are compressed and the new archive's bytes as
/// they are copied, out of the sizes of the archive and of the rebuilt
/// modules before; a cancel stops it before the rename.
pub(crate) fn write(app: &Application, set: &ChangeSet, out: &Path) -> Result<()> {
    let location = app.path().display().to_string();
    let source = app.archive_zip().ok_or_else(|| {
        Error::refused(
            &location,
            "internal error: the application is not an archive",
        )
    })?;
    let bytes = source.clone().into_inner();
    let mut wrappers = BTreeMap::new();
    for uri in rebuilt_modules(app, set) {
        if let Some(index) = source.index_for_name(uri.as_str()) {
            let entry = source
                .by_index_data(index)
                .map_err(|e| Error::zip(&location, e))?;
            let wrapper = Wrapper {
                compressed: entry.compressed_size(),
                size: entry.size(),
                mode: entry.unix_mode(),
            };
            wrappers.insert(uri, wrapper);
        }
    }
    let archive_size = bytes.len();
    let module_sizes: u64 = wrappers.values().map(|w| w.size).sum();
    set.meter.begin(
        Phase::Writing,
        Some(archive_size.saturating_add(module_sizes)),
    )?;
    let mut rebuilt = rebuild_all(app, set, &wrappers)?;
    let mut changes: BTreeMap<String, Option<Put>> = file_changes(&set.app, "");
    let mut drop_prefixes = Vec::new();
    for (uri, actions) in &set.module_files {
        let put = match app.module(uri).map(|m| m.storage) {
            Some(Storage::Archive) => Put::Ready(rebuilt.remove(uri).ok_or_else(|| {
                Error::refused(uri.to_string(), "internal error: module not rebuilt")
            })?),
            Some(Storage::Directory) => {
                changes.extend(file_changes(actions, &format!("{uri}/")));
                continue;
            }
            // A module that a full update creates.
            Some(Storage::Missing) | None => Put::Write(Write1 {
                content: Content::File(build_module(actions, &format!("{location}!{uri}"), set)?),
                method: None,
                level: MODULE_LEVEL,
            }),
        };
        changes.insert(uri.to_string(), Some(put));
    }
    for (uri, action) in &set.whole {
        if app
            .module(uri)
            .is_some_and(|m| m.storage == Storage::Directory)
        {
            drop_prefixes.push(format!("{uri}/"));
        }
        let w = action.as_ref().map(|new| {
            Put::Write(Write1 {
                content: Content::New(new),
                method: None,
                level: MODULE_LEVEL,
            })
        });
        changes.insert(uri.to_string(), w);
    }
    let tmp = AtomicFile::beside(out)?;
    tmp.keep_mode_of(out);
    let written = tmp.path().display().to_string();
    let input = Input {
        zip: &source,
        bytes: &bytes,
        location: &location,
    };
    rewrite(
        input,
        changes,
        &drop_prefixes,
        (tmp.handle()?, &set.meter),
        (set, &written),
    )?;
    set.meter.check()?;
    tmp.commit_with(|| fail_point("archive-before-rename"))?;
    fail_point("archive-after-rename");
    Ok(())
}
