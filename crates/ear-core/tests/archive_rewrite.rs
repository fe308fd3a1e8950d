//! Rewriting the archive form copies unchanged entries verbatim and writes
//! one new central directory: the result is a valid zip (read back by the
//! zip reader and by `unzip -t` when present) with the content digest the
//! expanded form reaches, entries in their original order, whatever the
//! input's shape: data descriptors, zip64 fields and end records, an archive
//! comment, bytes before the first entry. Hostile shapes are refused.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use ear_core::{Application, ApplyOptions, Digest, Update, apply};
use ear_fixtures::zip_of;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

type TestResult = Result<(), Box<dyn std::error::Error>>;
type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

/// What is unusual about an archive.
#[derive(Debug, Clone, Copy, Default)]
struct Shape {
    /// Written by a streaming writer: every file entry has a data descriptor.
    descriptors: bool,
    /// Every entry carries zip64 extra fields.
    zip64: bool,
    /// An archive comment.
    comment: bool,
    /// Bytes before the first entry (a self-extracting stub).
    prefix: bool,
}

const PREFIX: &[u8] = b"#!/bin/sh\necho this is not a zip\nexit 0\n";

/// A zip of `entries` (name, bytes, stored?) in the given shape.
fn zip_shaped(entries: &[(&str, Vec<u8>, bool)], shape: Shape) -> Fallible<Vec<u8>> {
    fn fill<W: Write + std::io::Seek>(
        mut w: ZipWriter<W>,
        entries: &[(&str, Vec<u8>, bool)],
        shape: Shape,
    ) -> Fallible<W> {
        for (name, bytes, stored) in entries {
            let method = if *stored {
                CompressionMethod::Stored
            } else {
                CompressionMethod::Deflated
            };
            let opts = SimpleFileOptions::default()
                .compression_method(method)
                .last_modified_time(DateTime::default())
                .unix_permissions(0o644)
                .large_file(shape.zip64);
            w.start_file(*name, opts)?;
            w.write_all(bytes)?;
        }
        if shape.comment {
            w.set_comment("built for the archive rewrite tests")?;
        }
        Ok(w.finish()?)
    }
    let bytes = if shape.descriptors {
        fill(
            ZipWriter::new_stream(Cursor::new(Vec::new())),
            entries,
            shape,
        )?
        .into_inner()
        .into_inner()
    } else {
        fill(ZipWriter::new(Cursor::new(Vec::new())), entries, shape)?.into_inner()
    };
    if shape.prefix {
        let mut out = PREFIX.to_vec();
        out.extend_from_slice(&bytes);
        return Ok(out);
    }
    Ok(bytes)
}

/// Bytes that do not compress.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[3]
        })
        .collect()
}

fn text(lines: usize, tag: &str) -> Vec<u8> {
    (0..lines)
        .map(|i| format!("<p>line {i} of {tag}: the same words again and again</p>\n"))
        .collect::<String>()
        .into_bytes()
}

const DESCRIPTOR: &str = r#"<?xml version="1.0"?>
<application xmlns="http://xmlns.jcp.org/xml/ns/javaee" version="7">
  <module><web><web-uri>text.war</web-uri><context-root>/text</context-root></web></module>
  <module><web><web-uri>packed.war</web-uri><context-root>/packed</context-root></web></module>
  <module><web><web-uri>stored.war</web-uri><context-root>/stored</context-root></web></module>
</application>
"#;

const MODULES: [&str; 3] = ["text.war", "packed.war", "stored.war"];

/// An EAR in `shape` (its modules too): `text.war` compresses well,
/// `packed.war` holds incompressible files (its entry compresses to ~100%),
/// `stored.war` is STORED in the EAR.
fn ear(shape: Shape) -> Fallible<Vec<u8>> {
    let module = |tag: &str, files: Vec<(String, Vec<u8>, bool)>| -> Fallible<Vec<u8>> {
        let mut entries: Vec<(&str, Vec<u8>, bool)> = vec![(
            "WEB-INF/web.xml",
            format!("<web-app><display-name>{tag}</display-name></web-app>\n").into_bytes(),
            false,
        )];
        entries.extend(files.iter().map(|(n, b, s)| (n.as_str(), b.clone(), *s)));
        zip_shaped(
            &entries,
            Shape {
                prefix: false,
                comment: false,
                ..shape
            },
        )
    };
    let pages = |tag: &str| -> Vec<(String, Vec<u8>, bool)> {
        (0..12)
            .map(|i| (format!("pages/p{i}.jsp"), text(40 + i, tag), false))
            .collect()
    };
    let text_war = module("text", pages("text"))?;
    let packed_war = module(
        "packed",
        (0..12)
            .map(|i| {
                (
                    format!("img/i{i}.png"),
                    noise(3000 + 100 * i, i as u64 + 7),
                    true,
                )
            })
            .collect(),
    )?;
    let stored_war = module("stored", pages("stored"))?;
    zip_shaped(
        &[
            (
                "META-INF/MANIFEST.MF",
                b"Manifest-Version: 1.0\n".to_vec(),
                false,
            ),
            (
                "META-INF/application.xml",
                DESCRIPTOR.as_bytes().to_vec(),
                false,
            ),
            ("text.war", text_war, false),
            (
                "lib/util.jar",
                zip_of(&[("u/U.class", b"\xCA\xFE\xBA\xBEutil")]),
                false,
            ),
            ("packed.war", packed_war, false),
            ("config/a.dat", text(5, "a"), false),
            ("config/b.dat", text(6, "b"), true),
            ("stored.war", stored_war, true),
            ("config/c.dat", text(7, "c"), false),
        ],
        shape,
    )
}

/// A partial update touching every module, the application scope, adding,
/// replacing and deleting.
fn update() -> Vec<u8> {
    zip_of(&[
        ("config/a.dat", &text(9, "a2")),
        ("config/new.dat", b"new\n"),
        ("META-INF/ibm-partialapp-delete.props", b"config/b\\.dat\n"),
        ("text.war/pages/p3.jsp", &text(3, "p3 fixed")),
        ("text.war/pages/added.jsp", b"<p>added</p>\n"),
        ("packed.war/img/i5.png", &noise(2000, 99)),
        ("stored.war/pages/p0.jsp", &text(2, "p0 fixed")),
        (
            "stored.war/META-INF/ibm-partialapp-delete.props",
            b"pages/p1\\.jsp\n",
        ),
    ])
}

struct Case {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Case {
    fn new() -> Fallible<Case> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().to_path_buf();
        std::fs::write(root.join("update.zip"), update())?;
        Ok(Case { _dir: dir, root })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Applies the update to `ear` (bytes) with `-o`; returns the output.
    fn apply_to_output(&self, name: &str, ear: &[u8]) -> Fallible<PathBuf> {
        let app = self.path(name);
        std::fs::write(&app, ear)?;
        let out = self.path(&format!("out-{name}"));
        let update = Update::infer(self.path("update.zip"))?;
        apply(&app, &update, &ApplyOptions::default().output(&out))?;
        Ok(out)
    }

    /// The digest the expanded form of `ear` reaches with the same update
    /// (written by the expanded writer, not the archive one).
    fn expanded_digest(&self, ear: &[u8]) -> Fallible<Digest> {
        let dir = self.path("expanded");
        ear_fixtures::write_expanded(ear, &dir, &MODULES)?;
        let update = Update::infer(self.path("update.zip"))?;
        apply(&dir, &update, &ApplyOptions::default())?;
        Ok(Application::open(&dir)?.digest()?)
    }
}

/// Every entry of `zip` read in full (CRC-32 checked), names in order.
fn read_back(path: &Path) -> Fallible<Vec<(String, Vec<u8>)>> {
    let mut zip = ZipArchive::new(std::fs::File::open(path)?)?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        out.push((entry.name()?.into_owned(), bytes));
    }
    Ok(out)
}

/// `unzip -t` passes on `path` and on each module in it (when unzip is installed).
fn unzip_test(path: &Path) -> TestResult {
    if std::process::Command::new("unzip")
        .arg("-v")
        .output()
        .is_err()
    {
        return Ok(());
    }
    let check = |p: &Path| -> TestResult {
        let out = std::process::Command::new("unzip")
            .arg("-tq")
            .arg(p)
            .output()?;
        assert!(
            out.status.success(),
            "unzip -t {}: {}{}",
            p.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    };
    check(path)?;
    for (name, bytes) in read_back(path)? {
        if MODULES.contains(&name.as_str()) {
            let nested = path.with_extension(format!("{}.zip", name.replace('.', "-")));
            std::fs::write(&nested, bytes)?;
            check(&nested)?;
        }
    }
    Ok(())
}

/// The entry names of the result: the original order, the deleted entry
/// gone, the new one last.
const EXPECTED_ORDER: [&str; 9] = [
    "META-INF/MANIFEST.MF",
    "META-INF/application.xml",
    "text.war",
    "lib/util.jar",
    "packed.war",
    "config/a.dat",
    "stored.war",
    "config/c.dat",
    "config/new.dat",
];

/// The local record of each unchanged entry of `before` is in `after` byte for byte.
fn unchanged_records_are_verbatim(before: &[u8], after: &Path, names: &[&str]) -> TestResult {
    let after = std::fs::read(after)?;
    let mut old = ZipArchive::new(Cursor::new(before))?;
    let mut new = ZipArchive::new(Cursor::new(&after[..]))?;
    for name in names {
        let span = |zip: &mut ZipArchive<Cursor<&[u8]>>| -> Fallible<(usize, usize)> {
            let entry = zip.by_name(name)?;
            let start = usize::try_from(entry.header_start())?;
            drop(entry);
            let entry = zip.by_name(name)?;
            let data = usize::try_from(entry.data_start().ok_or("no data start")?)?;
            Ok((start, data + usize::try_from(entry.compressed_size())?))
        };
        let (a, b) = span(&mut old)?;
        let (c, d) = span(&mut new)?;
        assert_eq!(before[a..b], after[c..d], "{name} is copied verbatim");
    }
    Ok(())
}

fn check_shape(shape: Shape) -> TestResult {
    let case = Case::new()?;
    let plain = ear(Shape::default())?;
    let shaped = ear(shape)?;
    let expected = case.expanded_digest(&plain)?;
    let out = case.apply_to_output("app.ear", &shaped)?;
    assert_eq!(Application::open(&out)?.digest()?, expected, "{shape:?}");
    let entries = read_back(&out)?;
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, EXPECTED_ORDER, "{shape:?}");
    let bytes = std::fs::read(&out)?;
    let zip = ZipArchive::new(Cursor::new(&bytes[..]))?;
    if shape.comment {
        assert_eq!(zip.comment(), b"built for the archive rewrite tests");
    } else {
        assert!(zip.comment().is_empty());
    }
    assert_eq!(bytes.starts_with(PREFIX), shape.prefix, "{shape:?}");
    unchanged_records_are_verbatim(
        &shaped,
        &out,
        &["META-INF/MANIFEST.MF", "lib/util.jar", "config/c.dat"],
    )?;
    unzip_test(&out)
}

#[test]
fn a_plain_archive_is_rewritten_to_the_expanded_forms_digest() -> TestResult {
    check_shape(Shape::default())
}

#[test]
fn entries_with_data_descriptors_are_copied_with_them() -> TestResult {
    check_shape(Shape {
        descriptors: true,
        ..Shape::default()
    })
}

#[test]
fn zip64_entries_are_copied() -> TestResult {
    check_shape(Shape {
        zip64: true,
        ..Shape::default()
    })
}

#[test]
fn zip64_entries_with_data_descriptors_are_copied() -> TestResult {
    check_shape(Shape {
        zip64: true,
        descriptors: true,
        ..Shape::default()
    })
}

#[test]
fn the_archive_comment_is_kept() -> TestResult {
    check_shape(Shape {
        comment: true,
        ..Shape::default()
    })
}

#[test]
fn bytes_before_the_first_entry_are_kept() -> TestResult {
    check_shape(Shape {
        prefix: true,
        comment: true,
        ..Shape::default()
    })
}

/// The outer entry of each module in the result: its compression.
fn methods(path: &Path) -> Fallible<Vec<(String, CompressionMethod)>> {
    let mut zip = ZipArchive::new(std::fs::File::open(path)?)?;
    let mut out = Vec::new();
    for name in MODULES {
        out.push((name.to_owned(), zip.by_name(name)?.compression()));
    }
    Ok(out)
}

#[test]
fn a_rebuilt_module_is_stored_when_its_entry_hardly_compressed() -> TestResult {
    let case = Case::new()?;
    let before = ear(Shape::default())?;
    {
        let mut zip = ZipArchive::new(Cursor::new(&before[..]))?;
        let packed = zip.by_name("packed.war")?;
        assert!(
            packed.compressed_size() * 10 >= packed.size() * 9,
            "the fixture's premise: {} of {}",
            packed.compressed_size(),
            packed.size()
        );
        drop(packed);
        let text = zip.by_name("text.war")?;
        assert!(
            text.compressed_size() * 10 < text.size() * 9,
            "the fixture's premise"
        );
    }
    let out = case.apply_to_output("app.ear", &before)?;
    assert_eq!(
        methods(&out)?,
        [
            ("text.war".to_owned(), CompressionMethod::Deflated),
            ("packed.war".to_owned(), CompressionMethod::Stored),
            ("stored.war".to_owned(), CompressionMethod::Stored),
        ]
    );
    // A second update reads the now STORED modules in place: same result
    // as through the expanded form.
    let again = case.apply_to_output("out-app.ear", &std::fs::read(&out)?)?;
    let twice = case.path("twice");
    ear_fixtures::write_expanded(&std::fs::read(&out)?, &twice, &MODULES)?;
    apply(
        &twice,
        &Update::infer(case.path("update.zip"))?,
        &ApplyOptions::default(),
    )?;
    assert_eq!(
        Application::open(&again)?.digest()?,
        Application::open(&twice)?.digest()?
    );
    unzip_test(&again)
}

#[test]
fn an_archive_of_more_than_65535_entries_gets_zip64_end_records() -> TestResult {
    let case = Case::new()?;
    let base = ear(Shape::default())?;
    let mut zip = zip::ZipWriter::new_append(Cursor::new(base))?;
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(DateTime::default());
    for i in 0..66_000 {
        zip.start_file(format!("many/f{i}"), opts)?;
    }
    let big = zip.finish()?.into_inner();
    let out = case.apply_to_output("big.ear", &big)?;
    let bytes = std::fs::read(&out)?;
    let tail = &bytes[bytes.len().saturating_sub(200)..];
    assert!(
        tail.windows(4).any(|w| w == [0x50, 0x4b, 0x06, 0x06]),
        "a zip64 end of central directory record"
    );
    let zip = ZipArchive::new(Cursor::new(&bytes[..]))?;
    assert_eq!(zip.len(), 66_000 + EXPECTED_ORDER.len());
    // The entries kept in order (config/b.dat deleted), then the new one.
    assert_eq!(
        zip.index_for_name("many/f65999"),
        Some(EXPECTED_ORDER.len() - 1 + 65_999)
    );
    assert_eq!(zip.index_for_name("config/new.dat"), Some(zip.len() - 1));
    unzip_test(&out)
}

/// The offset of the local header of `name` in `zip`.
fn local_header(zip: &[u8], name: &str) -> Fallible<usize> {
    let mut archive = ZipArchive::new(Cursor::new(zip))?;
    Ok(usize::try_from(archive.by_name(name)?.header_start())?)
}

fn refused_without_output(case: &Case, ear: &[u8], expect: &str) -> TestResult {
    let app = case.path("hostile.ear");
    std::fs::write(&app, ear)?;
    let out = case.path("hostile-out.ear");
    let update = Update::infer(case.path("update.zip"))?;
    let err = apply(&app, &update, &ApplyOptions::default().output(&out))
        .err()
        .ok_or("a hostile archive was rewritten")?;
    let message = err.to_string();
    assert!(message.contains(expect), "{message}");
    assert!(
        message.contains("hostile.ear!"),
        "the entry is named: {message}"
    );
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&case.root)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary file is left: {leftovers:?}"
    );
    Ok(())
}

#[test]
fn an_unchanged_entry_without_a_local_header_is_refused() -> TestResult {
    let case = Case::new()?;
    let mut bytes = ear(Shape::default())?;
    let at = local_header(&bytes, "config/c.dat")?;
    bytes[at] = b'X';
    refused_without_output(&case, &bytes, "local header signature")
}

#[test]
fn local_records_that_overlap_are_refused() -> TestResult {
    let case = Case::new()?;
    let mut bytes = ear(Shape::default())?;
    // lib/util.jar's local header claims an extra field reaching into the
    // next record (packed.war's, which the update rebuilds): its record,
    // copied as it is, would carry bytes of another entry.
    let at = local_header(&bytes, "lib/util.jar")?;
    bytes[at + 28..at + 30].copy_from_slice(&4000u16.to_le_bytes());
    refused_without_output(&case, &bytes, "overlap")
}

#[test]
fn a_data_descriptor_that_disagrees_is_rewritten_not_copied() -> TestResult {
    let case = Case::new()?;
    let shape = Shape {
        descriptors: true,
        ..Shape::default()
    };
    let mut bytes = ear(shape)?;
    // Damage config/c.dat's data descriptor (its CRC-32): a streaming reader
    // would stop there, so it is not copied verbatim; the zip writer
    // rewrites the entry's headers from the central directory.
    let start = local_header(&bytes, "config/c.dat")?;
    let sig = bytes[start..]
        .windows(4)
        .position(|w| w == [0x50, 0x4b, 0x07, 0x08])
        .ok_or("a data descriptor")?;
    bytes[start + sig + 4] ^= 0xFF;
    let expected = case.expanded_digest(&ear(Shape::default())?)?;
    let out = case.apply_to_output("app.ear", &bytes)?;
    assert_eq!(Application::open(&out)?.digest()?, expected);
    let written = std::fs::read(&out)?;
    let at = local_header(&written, "config/c.dat")?;
    let flags = u16::from_le_bytes([written[at + 6], written[at + 7]]);
    assert_eq!(flags & 0x8, 0, "rewritten without a data descriptor");
    unzip_test(&out)
}
