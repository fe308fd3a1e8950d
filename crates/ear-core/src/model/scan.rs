//! Reading an application's content: [`Application::inventory`] and the
//! crate's [`Scan`], which hashes every file of every scope (modules on two
//! threads) except those whose stamps the content index still vouches for,
//! reports progress, and takes the stamps a fresh index is made of.
//!
//! It reads; it never writes the index (that is `state`, driven by `ops`).

use std::io::Read;

use serde::Serialize;

use super::index::{Content, ContentIndex, IndexBuilder, ScanStart};
use super::inventory::{FileInfo, Inventory, ScopeInventory, error_chain, sha256_of};
use super::{Application, Digest, ModuleData, Scope, ScopeReader, Warning, WarningCode};
use crate::error::{Error, Result};
use crate::path::EntryPath;
use crate::progress::Progress;
use crate::source::{RawFile, Stamp};

const ARCHIVE_EXTENSIONS: [&str; 5] = ["jar", "war", "rar", "sar", "ear"];

/// How much reading an application's content cost: files read and hashed,
/// and files whose hash the content index vouched for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScanStats {
    /// Files whose bytes were read and hashed.
    pub files_hashed: u64,
    /// Their bytes.
    pub bytes_hashed: u64,
    /// Files whose hash came from the index.
    pub files_indexed: u64,
}

impl ScanStats {
    fn add(&mut self, other: ScanStats) {
        self.files_hashed += other.files_hashed;
        self.bytes_hashed += other.bytes_hashed;
        self.files_indexed += other.files_indexed;
    }
}

/// What a scan of an application gives: its inventory, what was read, and
/// the stamps to make a fresh index of it ([`Scan::index`]) when wanted.
#[derive(Debug)]
pub(crate) struct Scan {
    pub inventory: Inventory,
    pub stats: ScanStats,
    form: super::Form,
    stamps: IndexBuilder,
}

impl Scan {
    /// Makes [`Scan::stamp_of`] ready (sorts the stamps by path).
    pub(crate) fn sort_stamps(&mut self) {
        self.stamps.sort();
    }

    /// The stamp taken while reading the item at `full` from the root
    /// ([`Scan::sort_stamps`] first).
    pub(crate) fn stamp_of(&self, full: &EntryPath) -> Option<Stamp> {
        self.stamps.stamp_of(full)
    }

    /// The stamps taken while reading, by path from the root.
    pub(crate) fn stamps(
        &self,
    ) -> std::collections::HashMap<EntryPath, Stamp, foldhash::fast::RandomState> {
        self.stamps.stamps()
    }

    /// Takes the inventory out (the scan keeps its stamps and stats).
    pub(crate) fn take_inventory(&mut self) -> Inventory {
        std::mem::replace(
            &mut self.inventory,
            Inventory {
                scopes: Vec::new(),
                warnings: Vec::new(),
            },
        )
    }

    /// A fresh content index of what was read (the inventory's files move
    /// into it).
    pub(crate) fn index(self) -> ContentIndex {
        self.stamps.finish(self.form, self.inventory)
    }
}

/// What hashing one scope gives.
struct ScopeScan {
    result: Result<ScopeInventory>,
    warnings: Vec<Warning>,
    stamps: IndexBuilder,
    stats: ScanStats,
}

impl Application {
    /// Reads every file of every scope and hashes it.
    ///
    /// A declared module whose archive cannot be read is reported as a
    /// warning and counted as one application-scope file (its raw bytes), so
    /// the digest still covers it.
    ///
    /// # Errors
    /// A file cannot be read.
    pub fn inventory(&self) -> Result<Inventory> {
        Ok(self.scan(None, ScanStart::now(), None)?.inventory)
    }

    /// [`Application::inventory`], taking from `index` the hashes of files
    /// whose stamps it still vouches for (a vouched module's files move out
    /// of it, so they are never held twice).
    pub(crate) fn scan(
        &self,
        index: Option<ContentIndex>,
        start: ScanStart,
        progress: Option<&Progress>,
    ) -> Result<Scan> {
        let mut index = index.filter(|i| i.form() == self.form());
        let taken: Vec<Option<Vec<FileInfo>>> = self
            .modules
            .iter()
            .map(|m| match (&mut index, self.module_data.get(&m.uri)) {
                (Some(index), Some(ModuleData::Nested(raw))) => index.take_module(raw),
                _ => None,
            })
            .collect();
        let index = index.as_ref();
        let mut warnings = Vec::new();
        let mut stamps = IndexBuilder::new(start);
        let mut stats = ScanStats::default();
        let app = self.hash_scope(&Scope::Application, index, start, None, progress);
        warnings.extend(app.warnings);
        stamps.extend(app.stamps);
        stats.add(app.stats);
        let mut app_scope = app.result?;
        let mut scopes = Vec::with_capacity(self.modules.len() + 1);
        // Modules are hashed on two threads (inflating and hashing dominate).
        let mut work: Vec<(usize, &super::Module, Option<Vec<FileInfo>>)> = self
            .modules
            .iter()
            .zip(taken)
            .enumerate()
            .map(|(i, (m, t))| (i, m, t))
            .collect();
        let mut halves: [Vec<_>; 2] = [Vec::new(), Vec::new()];
        for (n, item) in work.drain(..).enumerate() {
            halves[n % 2].push(item);
        }
        let hashed: Vec<ScopeScan> = std::thread::scope(|s| {
            let workers: Vec<_> = halves
                .into_iter()
                .map(|half| {
                    s.spawn(move || {
                        half.into_iter()
                            .map(|(i, m, taken)| {
                                let scope = Scope::Module(m.uri.clone());
                                (i, self.hash_scope(&scope, index, start, taken, progress))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut all: Vec<_> = workers
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect();
            all.sort_by_key(|(i, _)| *i);
            all.into_iter().map(|(_, r)| r).collect()
        });
        if hashed.len() != self.modules.len() {
            return Err(Error::io(
                "cannot read",
                self.path(),
                std::io::Error::other("a hashing thread panicked"),
            ));
        }
        for (module, scanned) in self.modules.iter().zip(hashed) {
            warnings.extend(scanned.warnings);
            stamps.extend(scanned.stamps);
            stats.add(scanned.stats);
            let scope = Scope::Module(module.uri.clone());
            match scanned.result {
                Ok(inv) => scopes.push(inv),
                Err(err @ Error::Cancelled) => return Err(err),
                Err(err) => {
                    let Some(ModuleData::Nested(raw)) = self.module_data.get(&module.uri) else {
                        return Err(err);
                    };
                    warnings.push(Warning::new(
                        if raw.size == 0 {
                            WarningCode::EmptyArchive
                        } else {
                            WarningCode::ModuleUnreadable
                        },
                        format!(
                            "module {} cannot be read ({}); it is kept as a plain file",
                            module.uri,
                            error_chain(&err)
                        ),
                    ));
                    let location = self.source.location_of(&raw.path);
                    let sha = self.source.with_reader(raw, |r| sha256_of(r, &location))?;
                    stats.files_hashed += 1;
                    stats.bytes_hashed += raw.size;
                    stamps.file(Stamp::None, &raw.path, raw.size, sha);
                    app_scope.files.push(FileInfo {
                        path: raw.path.clone(),
                        size: raw.size,
                        sha256: sha,
                    });
                    app_scope.files.sort_by(|a, b| a.path.cmp(&b.path));
                    scopes.push(ScopeInventory {
                        scope,
                        files: Vec::new(),
                    });
                }
            }
        }
        scopes.insert(0, app_scope);
        Ok(Scan {
            inventory: Inventory { scopes, warnings },
            stats,
            form: self.form(),
            stamps,
        })
    }

    /// The content digest (reads the whole application).
    ///
    /// # Errors
    /// A file cannot be read.
    pub fn digest(&self) -> Result<Digest> {
        Ok(self.inventory()?.digest())
    }

    /// Hashes one scope; `taken` holds its files when the index vouched for
    /// its nested archive (which is then not even opened).
    fn hash_scope(
        &self,
        scope: &Scope,
        index: Option<&ContentIndex>,
        start: ScanStart,
        taken: Option<Vec<FileInfo>>,
        progress: Option<&Progress>,
    ) -> ScopeScan {
        let mut out = ScopeScan {
            result: Ok(ScopeInventory {
                scope: scope.clone(),
                files: Vec::new(),
            }),
            warnings: Vec::new(),
            stamps: IndexBuilder::new(start),
            stats: ScanStats::default(),
        };
        if let (Scope::Module(uri), Some(files)) = (scope, taken)
            && let Some(ModuleData::Nested(raw)) = self.module_data.get(uri)
        {
            out.stats.files_indexed += files.len() as u64;
            out.stamps.module(raw.stamp, uri);
            out.result = Ok(ScopeInventory {
                scope: scope.clone(),
                files,
            });
            return out;
        }
        out.result = self.hash_scope_files(scope, index, &mut out, progress);
        out
    }

    fn hash_scope_files(
        &self,
        scope: &Scope,
        index: Option<&ContentIndex>,
        out: &mut ScopeScan,
        progress: Option<&Progress>,
    ) -> Result<ScopeInventory> {
        let reader = self.open_scope(scope)?;
        let warnings = &mut out.warnings;
        let warned_before = warnings.len();
        warnings.extend(reader.links().iter().map(super::detect::link_warning));
        for name in reader.duplicates() {
            warnings.push(Warning::new(
                WarningCode::DuplicateEntry,
                format!("{name} has duplicate entry names; for each name the last entry is used, as the zip reader sees it"),
            ));
        }
        // Files of the outer source carry stamps, each its own index item.
        let outer: Option<&[RawFile]> = match &reader {
            ScopeReader::Outer { files, .. } => Some(&files.0),
            ScopeReader::Nested { .. } => None,
        };
        let listed = reader.files();
        let mut files = Vec::with_capacity(listed.len());
        for (i, (path, size)) in listed.into_iter().enumerate() {
            let full = scope.full_path(&path);
            let raw = outer.and_then(|o| o.get(i));
            if let (Some(raw), Some(index)) = (raw, index)
                && let Some(&Content::File { size, sha256 }) = index.lookup(raw, &full)
            {
                out.stats.files_indexed += 1;
                out.stamps.file(raw.stamp, &full, size, sha256);
                files.push(FileInfo { path, size, sha256 });
                continue;
            }
            let is_archive = path
                .extension()
                .is_some_and(|e| ARCHIVE_EXTENSIONS.contains(&e.as_str()));
            let mut sha = None;
            let warned = warnings.len();
            reader.with_reader(&path, &mut |r| {
                if is_archive {
                    let mut head = [0u8; 4];
                    let n = read_up_to(r, &mut head)
                        .map_err(|e| Error::io("cannot read", full.as_str(), e))?;
                    if n == 0 {
                        warnings.push(Warning::new(
                            WarningCode::EmptyArchive,
                            format!("{full} is a 0-byte file; it is not a valid archive"),
                        ));
                    } else if head[..n] != *b"PK\x03\x04" && head[..n] != *b"PK\x05\x06" {
                        warnings.push(Warning::new(
                            WarningCode::NestedArchiveNotZip,
                            format!("{full} is named like an archive but is not a zip file"),
                        ));
                    }
                    let mut chained = std::io::Read::chain(&head[..n], r);
                    sha = Some(sha256_of(&mut chained, full.as_str())?);
                } else {
                    sha = Some(sha256_of(r, full.as_str())?);
                }
                Ok(())
            })?;
            if let Some(sha256) = sha {
                out.stats.files_hashed += 1;
                out.stats.bytes_hashed += size;
                if let Some(progress) = progress {
                    progress.read(size)?;
                }
                if let Some(raw) = raw {
                    // A file that warned is read again next time, to warn again.
                    let stamp = if warnings.len() == warned {
                        raw.stamp
                    } else {
                        Stamp::None
                    };
                    out.stamps.file(stamp, &full, size, sha256);
                }
                files.push(FileInfo { path, size, sha256 });
            }
        }
        if let (Scope::Module(uri), ScopeReader::Nested { .. }) = (scope, &reader)
            && let Some(ModuleData::Nested(raw)) = self.module_data.get(uri)
        {
            let stamp = if warnings.len() == warned_before {
                raw.stamp
            } else {
                Stamp::None
            };
            out.stamps.module(stamp, uri);
        }
        Ok(ScopeInventory {
            scope: scope.clone(),
            files,
        })
    }
}

fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
