//! Deterministic builders for test and sample archives.
//!
//! Everything here produces the same bytes on every run (fixed timestamps,
//! fixed permissions, fixed entry order), so fixtures committed under
//! `testdata/` can be checked against the code that made them.

#![allow(clippy::missing_panics_doc)]

pub mod hostile;
pub mod random;
pub mod sample;

use std::io::{Cursor, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// How an entry is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Deflated.
    Deflate,
    /// Stored (no compression).
    Store,
}

/// Builds a zip in memory, deterministically.
#[derive(Debug)]
pub struct ZipBuilder {
    writer: ZipWriter<Cursor<Vec<u8>>>,
}

impl Default for ZipBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ZipBuilder {
    /// An empty zip.
    #[must_use]
    pub fn new() -> Self {
        ZipBuilder {
            writer: ZipWriter::new(Cursor::new(Vec::new())),
        }
    }

    fn options(method: Method) -> SimpleFileOptions {
        SimpleFileOptions::default()
            .compression_method(match method {
                Method::Deflate => CompressionMethod::Deflated,
                Method::Store => CompressionMethod::Stored,
            })
            .last_modified_time(DateTime::default())
            .unix_permissions(0o644)
    }

    /// Adds a deflated file.
    #[must_use]
    pub fn file(self, name: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.file_with(name, bytes, Method::Deflate)
    }

    /// Adds a file stored with `method`.
    #[must_use]
    pub fn file_with(mut self, name: &str, bytes: impl AsRef<[u8]>, method: Method) -> Self {
        self.writer
            .start_file(name, Self::options(method))
            .expect("in-memory zip entry");
        self.writer
            .write_all(bytes.as_ref())
            .expect("in-memory zip write");
        self
    }

    /// Adds a directory entry.
    #[must_use]
    pub fn dir(mut self, name: &str) -> Self {
        self.writer
            .add_directory(name, Self::options(Method::Store))
            .expect("in-memory zip dir");
        self
    }

    /// The zip's bytes.
    #[must_use]
    pub fn finish(self) -> Vec<u8> {
        self.writer
            .finish()
            .expect("in-memory zip finish")
            .into_inner()
    }
}

/// A zip of `(name, bytes)` pairs, all deflated.
#[must_use]
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    entries
        .iter()
        .fold(ZipBuilder::new(), |b, (n, d)| b.file(n, d))
        .finish()
}

/// A fake but well-formed-looking class file for `name`.
#[must_use]
pub fn class_bytes(name: &str) -> Vec<u8> {
    let mut v = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52];
    v.extend_from_slice(name.as_bytes());
    v
}

/// Unpacks `ear` into `dir` (the expanded form): every entry becomes a file,
/// and every entry named in `modules` is itself unpacked into a directory of
/// that name, as application servers install applications.
pub fn write_expanded(ear: &[u8], dir: &Path, modules: &[&str]) -> std::io::Result<()> {
    let mut zip = zip::ZipArchive::new(Cursor::new(ear)).map_err(std::io::Error::other)?;
    std::fs::create_dir_all(dir)?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(std::io::Error::other)?;
        let name = entry.name().map_err(std::io::Error::other)?.into_owned();
        if name.ends_with('/') {
            std::fs::create_dir_all(dir.join(&name))?;
            continue;
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes)?;
        let target = dir.join(&name);
        if modules.contains(&name.as_str()) {
            write_expanded(&bytes, &target, &[])?;
        } else {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(target, bytes)?;
        }
    }
    Ok(())
}
