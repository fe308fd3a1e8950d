//! The tiny preset of the large generator, checked with ear-core.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;

use ear_bench::large::{LargeSpec, update_contents, write_ear, write_expanded, write_update};
use ear_core::{Application, ModuleKind};
use regex::Regex;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Files of a zip or application: (path, bytes).
type Files = Vec<(String, Vec<u8>)>;

/// Every file path of a zip (directories left out) with its bytes.
fn zip_files(bytes: &[u8]) -> TestResult<Files> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))?;
    let mut files = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name()?.into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        files.push((name, data));
    }
    Ok(files)
}

/// Every file of the EAR at `ear` by full path: application-scope entries, and
/// the files of each module in `modules` as `<uri>/<path>`.
fn ear_files(ear: &Path, modules: &[String]) -> TestResult<Files> {
    let mut out = Vec::new();
    for (name, data) in zip_files(&std::fs::read(ear)?)? {
        if modules.contains(&name) {
            for (inner, bytes) in zip_files(&data)? {
                out.push((format!("{name}/{inner}"), bytes));
            }
        } else {
            out.push((name, data));
        }
    }
    Ok(out)
}

#[test]
fn both_forms_open_with_the_same_digest() -> TestResult {
    let spec = LargeSpec::tiny();
    let dir = tempfile::tempdir()?;
    let ear = dir.path().join("app.ear");
    let expanded = dir.path().join("app-expanded");
    let summary = write_ear(&spec, &ear)?;
    write_expanded(&spec, &expanded)?;

    let archive = Application::open(&ear)?;
    let tree = Application::open(&expanded)?;
    let expected_modules = spec.web_modules + spec.ejb_modules;
    assert_eq!(archive.modules().len(), expected_modules);
    assert_eq!(tree.modules().len(), expected_modules);
    assert_eq!(summary.modules.len(), expected_modules);
    let webs: Vec<_> = archive
        .modules()
        .iter()
        .filter(|m| m.kind == ModuleKind::Web)
        .collect();
    assert_eq!(webs.len(), spec.web_modules);
    assert!(
        webs.iter()
            .all(|m| m.context_root.as_deref() == Some(&format!("/{}", m.uri.file_stem()))),
        "context roots are /wN"
    );
    assert!(archive.warnings().is_empty(), "{:?}", archive.warnings());

    let inventory = archive.inventory()?;
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let files: usize = inventory.scopes.iter().map(|s| s.files.len()).sum();
    let bytes: u64 = inventory
        .scopes
        .iter()
        .map(ear_core::ScopeInventory::bytes)
        .sum();
    assert_eq!(files, summary.files);
    assert_eq!(bytes, summary.content_bytes);
    assert!(
        (200..1000).contains(&files),
        "a few hundred files, got {files}"
    );
    assert_eq!(inventory.digest(), tree.digest()?);
    Ok(())
}

#[test]
fn output_is_byte_identical_across_runs() -> TestResult {
    let spec = LargeSpec::tiny();
    let dir = tempfile::tempdir()?;
    for name in ["a", "b"] {
        write_ear(&spec, &dir.path().join(format!("{name}.ear")))?;
        write_update(&spec, &dir.path().join(format!("{name}.zip")))?;
    }
    assert!(std::fs::read(dir.path().join("a.ear"))? == std::fs::read(dir.path().join("b.ear"))?);
    assert!(std::fs::read(dir.path().join("a.zip"))? == std::fs::read(dir.path().join("b.zip"))?);

    let other = LargeSpec {
        seed: 1,
        ..LargeSpec::tiny()
    };
    write_ear(&other, &dir.path().join("c.ear"))?;
    assert!(std::fs::read(dir.path().join("a.ear"))? != std::fs::read(dir.path().join("c.ear"))?);
    Ok(())
}

#[test]
fn update_replaces_existing_files_adds_new_ones_and_deletes_existing_ones() -> TestResult {
    let spec = LargeSpec::tiny();
    let dir = tempfile::tempdir()?;
    let ear = dir.path().join("app.ear");
    let update = dir.path().join("update.zip");
    let summary = write_ear(&spec, &ear)?;
    write_update(&spec, &update)?;
    let contents = update_contents(&spec)?;

    let app: std::collections::BTreeMap<String, Vec<u8>> =
        ear_files(&ear, &summary.modules)?.into_iter().collect();
    let entries = zip_files(&std::fs::read(&update)?)?;

    // 50 files plus the two delete lists, each file a replacement or an addition.
    assert_eq!(contents.replaced.len(), 25);
    assert_eq!(contents.added.len(), 25);
    assert_eq!(contents.delete_lists.len(), 2);
    assert_eq!(entries.len(), 52);
    let props: BTreeSet<String> = contents
        .delete_lists
        .iter()
        .map(|d| d.props_path())
        .collect();
    let mut touched = BTreeSet::new();
    for (name, bytes) in &entries {
        if props.contains(name) {
            continue;
        }
        let scope = summary
            .modules
            .iter()
            .find(|m| name.starts_with(&format!("{m}/")))
            .cloned()
            .unwrap_or_default();
        touched.insert(scope);
        if contents.replaced.contains(name) {
            let old = app
                .get(name)
                .ok_or_else(|| format!("{name} is replaced but not in the EAR"))?;
            assert_ne!(old, bytes, "{name} is replaced with the same bytes");
        } else {
            assert!(
                contents.added.contains(name),
                "{name} is neither replaced nor added"
            );
            assert!(
                !app.contains_key(name),
                "{name} is added but already in the EAR"
            );
        }
    }
    let expected: BTreeSet<String> = ["", "w1.war", "w2.war", "ejb1.jar"]
        .map(String::from)
        .into();
    assert_eq!(touched, expected, "the application scope and three modules");

    for list in &contents.delete_lists {
        let (_, text) = entries
            .iter()
            .find(|(n, _)| *n == list.props_path())
            .ok_or("delete list missing from the zip")?;
        let lines: Vec<&str> = std::str::from_utf8(text)?.lines().collect();
        assert_eq!(lines, list.patterns);
        for pattern in &list.patterns {
            let re = Regex::new(&format!("^(?:{pattern})$"))?;
            let prefix = if list.scope.is_empty() {
                String::new()
            } else {
                format!("{}/", list.scope)
            };
            let matched: Vec<&String> = app
                .keys()
                .filter_map(|full| {
                    let rel = full.strip_prefix(&prefix)?;
                    let in_module = summary
                        .modules
                        .iter()
                        .any(|m| full.starts_with(&format!("{m}/")));
                    (list.scope.is_empty() != in_module && re.is_match(rel)).then_some(full)
                })
                .collect();
            assert!(
                matched.len() >= 2,
                "{pattern} in {:?} matches {matched:?}",
                list.scope
            );
            assert!(
                matched.iter().all(|m| !contents.replaced.contains(m)),
                "{pattern} deletes a replaced file"
            );
        }
    }
    Ok(())
}

#[test]
fn archive_entries_are_deflated_except_nested_jars() -> TestResult {
    let spec = LargeSpec::tiny();
    let dir = tempfile::tempdir()?;
    let ear = dir.path().join("app.ear");
    write_ear(&spec, &ear)?;
    let mut outer = zip::ZipArchive::new(File::open(&ear)?)?;
    for i in 0..outer.len() {
        let mut entry = outer.by_index(i)?;
        assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
        let name = entry.name()?.into_owned();
        if name.ends_with(".war") {
            let mut data = Vec::new();
            entry.read_to_end(&mut data)?;
            let mut war = zip::ZipArchive::new(Cursor::new(data))?;
            for j in 0..war.len() {
                let inner = war.by_index(j)?;
                let nested = inner.name()?.starts_with("WEB-INF/lib/");
                let expected = if nested {
                    zip::CompressionMethod::Stored
                } else {
                    zip::CompressionMethod::Deflated
                };
                assert_eq!(inner.compression(), expected, "{name}/{}", inner.name()?);
            }
        }
    }
    Ok(())
}

#[test]
fn update_needs_two_web_modules() {
    let spec = LargeSpec {
        web_modules: 1,
        ..LargeSpec::tiny()
    };
    assert!(update_contents(&spec).is_err());
}
