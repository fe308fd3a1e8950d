//! Writing the archive form: unchanged entries are raw-copied (no inflate,
//! no deflate), touched nested modules are rebuilt the same way, the result
//! goes to a temporary file beside the target, is synced and renamed.
//! It never edits an archive in place and never decides what changes.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::zipout::ZipFile;
use super::{Action, ChangeSet, New, rebuilt_modules};
use crate::clock::UtcTime;
use crate::error::{Error, Result};
use crate::fs::{AtomicFile, fail_point};
use crate::model::{Application, Storage};
use crate::path::EntryPath;

/// Deflate level for module archives rewritten into the EAR: their content is
/// mostly compressed already, so a fast level loses little.
const MODULE_LEVEL: i64 = 1;
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

/// Rewrites a zip: entries named in `changes` are replaced (`Some`) or dropped
/// (`None`), the others raw-copied in their order; new names are appended.
/// Entries under a prefix of `drop_prefixes` are dropped.
fn rewrite<R: Read + Seek, W: Write + Seek>(
    source: &mut ZipArchive<R>,
    mut changes: BTreeMap<String, Option<Write1<'_>>>,
    drop_prefixes: &[String],
    writer: &mut ZipWriter<W>,
    (set, location): (&ChangeSet<'_>, &str),
) -> Result<()> {
    for index in 0..source.len() {
        let entry = source
            .by_index_raw(index)
            .map_err(|e| Error::zip(location, e))?;
        let name = entry
            .name()
            .map_err(|e| Error::zip(location, e))?
            .into_owned();
        if drop_prefixes.iter().any(|p| name.starts_with(p.as_str())) {
            continue;
        }
        match changes.remove(&name) {
            Some(None) => {}
            Some(Some(mut w)) => {
                let method = entry.compression();
                let mode = entry.unix_mode();
                drop(entry);
                let size = content_len(&mut w.content, set);
                let method = if method == CompressionMethod::Stored {
                    method
                } else {
                    CompressionMethod::Deflated
                };
                write_entry(
                    writer,
                    &name,
                    &mut w.content,
                    options(method, w.level, size, mode),
                    (set, location),
                )?;
            }
            None => writer
                .raw_copy_file(entry)
                .map_err(|e| Error::zip(format!("{location}!{name}"), e))?,
        }
    }
    for (name, w) in changes {
        let Some(mut w) = w else { continue };
        let size = content_len(&mut w.content, set);
        let method = w.method.unwrap_or(CompressionMethod::Deflated);
        write_entry(
            writer,
            &name,
            &mut w.content,
            options(method, w.level, size, None),
            (set, location),
        )?;
    }
    let comment: Box<[u8]> = source.comment().into();
    if !comment.is_empty() {
        writer
            .set_raw_comment(comment)
            .map_err(|e| Error::zip(location, e))?;
    }
    Ok(())
}

fn file_changes<'a>(
    actions: &'a BTreeMap<EntryPath, Action>,
    prefix: &str,
) -> BTreeMap<String, Option<Write1<'a>>> {
    actions
        .iter()
        .map(|(rel, action)| {
            let w = action.as_ref().map(|new| Write1 {
                content: Content::New(new),
                method: None,
                level: FILE_LEVEL,
            });
            (format!("{prefix}{rel}"), w)
        })
        .collect()
}

/// Rebuilds one nested module archive into a temporary file.
pub(crate) fn rebuild_module(
    app: &Application,
    uri: &EntryPath,
    actions: &BTreeMap<EntryPath, Action>,
    set: &ChangeSet<'_>,
) -> Result<File> {
    let (mut source, location) = app.module_archive(uri)?.ok_or_else(|| {
        Error::refused(uri.to_string(), "internal error: module is not an archive")
    })?;
    let out = tempfile::tempfile()
        .map_err(|e| Error::io("cannot create a temporary file for", uri.as_str(), e))?;
    let mut zip = ZipFile::new(out, 64 * 1024);
    rewrite(
        &mut source,
        file_changes(actions, ""),
        &[],
        zip.writer(),
        (set, &location),
    )
    .map_err(|e| zip.explain(e, &format!("a temporary copy of {location}")))?;
    zip.finish(&location)
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

/// Rebuilds the touched nested modules, two at a time (both cores).
pub(crate) fn rebuild_all(app: &Application, set: &ChangeSet) -> Result<BTreeMap<EntryPath, File>> {
    let uris: Vec<EntryPath> = rebuilt_modules(app, set).into_iter().collect();
    let mut out = BTreeMap::new();
    for pair in uris.chunks(2) {
        let results: Vec<(EntryPath, Result<File>)> = std::thread::scope(|s| {
            let handles: Vec<_> = pair
                .iter()
                .map(|uri| {
                    let actions = &set.module_files[uri];
                    s.spawn(move || (uri.clone(), rebuild_module(app, uri, actions, set)))
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        if results.len() != pair.len() {
            return Err(Error::refused(
                app.path().display().to_string(),
                "a module rebuild thread panicked",
            ));
        }
        for (uri, file) in results {
            out.insert(uri, file?);
        }
    }
    Ok(out)
}

/// Writes the new archive to `out` atomically.
pub(crate) fn write(app: &Application, set: &ChangeSet, out: &Path) -> Result<()> {
    let location = app.path().display().to_string();
    let mut rebuilt = rebuild_all(app, set)?;
    let mut changes: BTreeMap<String, Option<Write1>> = file_changes(&set.app, "");
    let mut drop_prefixes = Vec::new();
    for (uri, actions) in &set.module_files {
        let file = match app.module(uri).map(|m| m.storage) {
            Some(Storage::Archive) => rebuilt.remove(uri).ok_or_else(|| {
                Error::refused(uri.to_string(), "internal error: module not rebuilt")
            })?,
            Some(Storage::Directory) => {
                changes.extend(file_changes(actions, &format!("{uri}/")));
                continue;
            }
            // A module that a full update creates.
            Some(Storage::Missing) | None => {
                build_module(actions, &format!("{location}!{uri}"), set)?
            }
        };
        changes.insert(
            uri.to_string(),
            Some(Write1 {
                content: Content::File(file),
                method: None,
                level: MODULE_LEVEL,
            }),
        );
    }
    for (uri, action) in &set.whole {
        if app
            .module(uri)
            .is_some_and(|m| m.storage == Storage::Directory)
        {
            drop_prefixes.push(format!("{uri}/"));
        }
        let w = action.as_ref().map(|new| Write1 {
            content: Content::New(new),
            method: None,
            level: MODULE_LEVEL,
        });
        changes.insert(uri.to_string(), w);
    }
    let tmp = AtomicFile::beside(out)?;
    tmp.keep_mode_of(out);
    let source_file =
        File::open(app.path()).map_err(|e| Error::io("cannot open", app.path(), e))?;
    let mut source =
        ZipArchive::new(BufReader::new(source_file)).map_err(|e| Error::zip(&location, e))?;
    let mut zip = ZipFile::new(tmp.handle()?, 1 << 20);
    let written = tmp.path().display().to_string();
    rewrite(
        &mut source,
        changes,
        &drop_prefixes,
        zip.writer(),
        (set, &location),
    )
    .map_err(|e| zip.explain(e, &written))?;
    zip.finish(&written)?;
    tmp.commit_with(|| fail_point("archive-before-rename"))?;
    fail_point("archive-after-rename");
    Ok(())
}
