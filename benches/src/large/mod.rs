//! A deterministic generator of large synthetic enterprise applications.
//!
//! [`write_ear`] writes an `.ear` of web modules (`w1.war`, `w2.war`, ...
//! with context roots `/w1`, `/w2`, ...), EJB modules (`ejb1.jar`, ... with
//! `META-INF/ejb-jar.xml`), utility jars under `lib/` and `.dat` files under
//! `config/`, declared by a `META-INF/application.xml`.
//! [`write_expanded`] writes the same application as a directory, and
//! [`write_update`] a partial update against it (see [`update_contents`]).
//!
//! Everything is a function of the [`LargeSpec`]: file bytes come from a
//! xorshift generator seeded from [`LargeSpec::seed`] and the file's path,
//! zip entries have fixed timestamps and permissions, so the same spec gives
//! byte-identical output on every run. Memory stays bounded whatever the
//! size: each module is built into a temporary file beside the output and
//! streamed into the EAR, so no module and no EAR is ever held in memory.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use ear_bench::large::{LargeSpec, write_ear};
//! let dir = tempfile::tempdir()?;
//! let summary = write_ear(&LargeSpec::tiny(), &dir.path().join("app.ear"))?;
//! assert_eq!(summary.modules[0], "w1.war");
//! # Ok(()) }
//! ```

mod content;
mod layout;
mod update;

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use layout::{FileEntry, ModuleEntry, application_files, modules, render};
pub use update::{DeleteList, UpdateContents, update_contents, write_update};

/// The shape of a generated application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargeSpec {
    /// Web modules, `w1.war ..`.
    pub web_modules: usize,
    /// EJB modules, `ejb1.jar ..`.
    pub ejb_modules: usize,
    /// Utility jars, `lib/util0.jar ..`; the application scope also gets four
    /// `config/appN.dat` files per jar and a few `config/legacy/oldN.dat`.
    pub lib_jars: usize,
    /// Files in each web module (counting each nested jar as one file).
    pub files_per_web_module: usize,
    /// Files in each EJB module.
    pub files_per_ejb: usize,
    /// Average size of a generated file, in bytes.
    pub file_bytes: usize,
    /// Seed of the content generator.
    pub seed: u64,
}

impl LargeSpec {
    /// About 1 GB of EAR: 300,000 files in 24 web modules and 6 EJB modules,
    /// 2.2 GB before compression. Takes about 15 s to write on two cores.
    #[must_use]
    pub fn full() -> LargeSpec {
        LargeSpec {
            web_modules: 24,
            ejb_modules: 6,
            lib_jars: 40,
            files_per_web_module: 11_100,
            files_per_ejb: 5_500,
            file_bytes: 7_400,
            seed: 0x00EA_4BEE_F001,
        }
    }

    /// About 100 MB of EAR and 40,000 files (200 MB before compression).
    #[must_use]
    pub fn medium() -> LargeSpec {
        LargeSpec {
            web_modules: 8,
            ejb_modules: 3,
            lib_jars: 12,
            files_per_web_module: 4_000,
            files_per_ejb: 2_500,
            file_bytes: 5_000,
            seed: 0x00EA_4BEE_F001,
        }
    }

    /// A few hundred small files, for tests.
    #[must_use]
    pub fn tiny() -> LargeSpec {
        LargeSpec {
            web_modules: 3,
            ejb_modules: 2,
            lib_jars: 2,
            files_per_web_module: 80,
            files_per_ejb: 40,
            file_bytes: 600,
            seed: 0x00EA_4BEE_F001,
        }
    }

    /// The preset called `name`: `tiny`, `medium` or `full`.
    #[must_use]
    pub fn preset(name: &str) -> Option<LargeSpec> {
        match name {
            "tiny" => Some(LargeSpec::tiny()),
            "medium" => Some(LargeSpec::medium()),
            "full" => Some(LargeSpec::full()),
            _ => None,
        }
    }
}

/// What [`write_ear`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Entries of the EAR itself (application-scope files and module archives).
    pub entries: usize,
    /// Files of the application as `ear-core` counts them: the
    /// application-scope files plus every module's files (a jar nested in a
    /// module is one file).
    pub files: usize,
    /// Total size of those files, uncompressed.
    pub content_bytes: u64,
    /// Size of the EAR file.
    pub archive_bytes: u64,
    /// The module URIs, as declared in `META-INF/application.xml`.
    pub modules: Vec<String>,
}

/// Zip options of every generated entry: fixed time and permissions, deflated
/// at the fastest level unless `stored`.
pub(crate) fn entry_options(stored: bool) -> SimpleFileOptions {
    let options = SimpleFileOptions::default()
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    if stored {
        options.compression_method(CompressionMethod::Stored)
    } else {
        options
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(1))
    }
}

/// A module archive built into an anonymous temporary file.
struct BuiltModule {
    file: File,
    files: usize,
    content_bytes: u64,
}

/// Running totals of the files written.
#[derive(Default)]
struct Totals {
    files: usize,
    content_bytes: u64,
}

/// Writes the application as an EAR at `out` (overwriting it).
///
/// Modules are built in a background thread, each into an anonymous
/// temporary file in `out`'s directory, while this thread streams the
/// previous one into the EAR; at most three module archives exist at once,
/// on disk.
///
/// # Errors
/// Writing `out` or a temporary file fails.
pub fn write_ear(spec: &LargeSpec, out: &Path) -> io::Result<Summary> {
    let temp_dir = parent_dir(out);
    let modules = modules(spec);
    let mut ear = ZipWriter::new(BufWriter::with_capacity(1 << 20, File::create(out)?));
    let mut totals = Totals::default();
    let mut buf = Vec::new();
    let mut entries = 0;

    std::thread::scope(|scope| -> io::Result<()> {
        let (sender, receiver) = mpsc::sync_channel::<io::Result<BuiltModule>>(1);
        let modules_ref = &modules;
        let temp_dir = &temp_dir;
        scope.spawn(move || {
            for module in modules_ref {
                let built = build_module(spec, module, temp_dir);
                let failed = built.is_err();
                // A closed channel means the writer gave up; stop building.
                if sender.send(built).is_err() || failed {
                    break;
                }
            }
        });

        for file in application_files(spec) {
            render(spec, &file.path, &file.content, 0, &mut buf)?;
            ear.start_file(file.path.as_str(), entry_options(false))?;
            ear.write_all(&buf)?;
            totals.add(buf.len());
            entries += 1;
        }
        for module in &modules {
            let built = receiver
                .recv()
                .map_err(|_| io::Error::other("the module builder stopped early"))??;
            ear.start_file(module.uri.as_str(), entry_options(false))?;
            io::copy(&mut BufReader::with_capacity(1 << 20, built.file), &mut ear)?;
            totals.files += built.files;
            totals.content_bytes += built.content_bytes;
            entries += 1;
        }
        Ok(())
    })?;

    let mut writer = ear.finish()?;
    writer.flush()?;
    let archive_bytes = writer.get_ref().metadata()?.len();
    Ok(Summary {
        entries,
        files: totals.files,
        content_bytes: totals.content_bytes,
        archive_bytes,
        modules: modules.into_iter().map(|m| m.uri).collect(),
    })
}

impl Totals {
    fn add(&mut self, len: usize) {
        self.files += 1;
        self.content_bytes += len as u64;
    }
}

/// The directory holding `path`, for temporary files.
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Builds one module archive into an anonymous temporary file in `temp_dir`,
/// rewound to its start.
fn build_module(
    spec: &LargeSpec,
    module: &ModuleEntry,
    temp_dir: &Path,
) -> io::Result<BuiltModule> {
    let temp = tempfile::tempfile_in(temp_dir)?;
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, temp));
    let mut totals = Totals::default();
    let mut buf = Vec::new();
    for file in module.files(spec) {
        let full = format!("{}/{}", module.uri, file.path);
        render(spec, &full, &file.content, 0, &mut buf)?;
        zip.start_file(file.path.as_str(), entry_options(file.is_nested_jar()))?;
        zip.write_all(&buf)?;
        totals.add(buf.len());
    }
    let mut file = zip
        .finish()?
        .into_inner()
        .map_err(io::IntoInnerError::into_error)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(BuiltModule {
        file,
        files: totals.files,
        content_bytes: totals.content_bytes,
    })
}

/// Writes the application in expanded form into `dir`: application-scope
/// files as files, each module unpacked into a directory named by its URI
/// (jars nested in a module stay jar files). File contents are byte-identical
/// to those [`write_ear`] writes for the same spec.
///
/// # Errors
/// `dir` exists and is not an empty directory, or writing fails.
pub fn write_expanded(spec: &LargeSpec, dir: &Path) -> io::Result<()> {
    if dir.exists() && fs::read_dir(dir)?.next().is_some() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not empty", dir.display()),
        ));
    }
    fs::create_dir_all(dir)?;
    let mut writer = TreeWriter::default();
    for file in application_files(spec) {
        writer.write(spec, dir, "", &file)?;
    }
    for module in modules(spec) {
        let module_dir = dir.join(&module.uri);
        let prefix = format!("{}/", module.uri);
        for file in module.files(spec) {
            writer.write(spec, &module_dir, &prefix, &file)?;
        }
    }
    Ok(())
}

/// Writes files into a directory tree, creating each directory once.
#[derive(Default)]
struct TreeWriter {
    last_dir: Option<PathBuf>,
    buf: Vec<u8>,
}

impl TreeWriter {
    /// Writes `file` of the scope rooted at `root`, whose files have full
    /// paths starting with `prefix`.
    fn write(
        &mut self,
        spec: &LargeSpec,
        root: &Path,
        prefix: &str,
        file: &FileEntry,
    ) -> io::Result<()> {
        let full = format!("{prefix}{}", file.path);
        render(spec, &full, &file.content, 0, &mut self.buf)?;
        let path = root.join(&file.path);
        if let Some(parent) = path.parent()
            && self.last_dir.as_deref() != Some(parent)
        {
            fs::create_dir_all(parent)?;
            self.last_dir = Some(parent.to_path_buf());
        }
        fs::write(&path, &self.buf)
    }
}
