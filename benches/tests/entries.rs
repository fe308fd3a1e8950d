//! The many-entry partial update generator.

use std::fs::File;
use std::io::Read;

use ear_bench::entries::{entry_name, write_entries};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn writes_count_entries_under_the_module_deterministically() -> TestResult {
    let dir = tempfile::tempdir()?;
    let first = dir.path().join("a.zip");
    let second = dir.path().join("b.zip");
    write_entries("w1.war", 2_500, &first)?;
    write_entries("w1.war", 2_500, &second)?;
    assert_eq!(std::fs::read(&first)?, std::fs::read(&second)?);

    let mut zip = zip::ZipArchive::new(File::open(&first)?)?;
    assert_eq!(zip.len(), 2_500);
    let mut names = std::collections::BTreeSet::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let name = entry.name()?.into_owned();
        assert!(name.starts_with("w1.war/gen/d"), "{name}");
        let mut text = String::new();
        entry.read_to_string(&mut text)?;
        assert_eq!(text, format!("generated entry {i} of 2500\n"));
        names.insert(name);
    }
    assert_eq!(names.len(), 2_500, "names are distinct");
    assert!(names.contains("w1.war/gen/d0002/f0002499.txt"));
    assert_eq!(entry_name("w1.war", 999), "w1.war/gen/d0000/f0000999.txt");
    assert_eq!(entry_name("w1.war", 1000), "w1.war/gen/d0001/f0001000.txt");
    Ok(())
}

#[test]
fn refuses_bad_modules_and_counts() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("x.zip");
    for module in ["", ".", "..", "a/b.war", "a\\b.war"] {
        assert!(write_entries(module, 1, &out).is_err(), "{module:?}");
    }
    assert!(write_entries("w1.war", 0, &out).is_err());
    assert!(write_entries("w1.war", 1_000_001, &out).is_err());
    assert!(!out.exists(), "nothing written when refused");
}
