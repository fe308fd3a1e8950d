//! Applying updates on both forms: the result is what the plan promised,
//! both forms end equal, rollback restores the original exactly.

use std::path::{Path, PathBuf};

use ear_core::{Application, Digest, Op, Update};
use ear_core::{ApplyOptions, Outcome, RollbackOptions, Status, apply, history, rollback};
use ear_fixtures::{Method, ZipBuilder, sample, zip_of};

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Forms {
    _dir: tempfile::TempDir,
    ear: PathBuf,
    expanded: PathBuf,
    root: PathBuf,
}

fn forms(ear_bytes: &[u8], modules: &[&str]) -> Result<Forms, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let ear = dir.path().join("app.ear");
    std::fs::write(&ear, ear_bytes)?;
    let expanded = dir.path().join("app");
    ear_fixtures::write_expanded(ear_bytes, &expanded, modules)?;
    let root = dir.path().to_path_buf();
    Ok(Forms {
        _dir: dir,
        ear,
        expanded,
        root,
    })
}

fn digest(path: &Path) -> Result<Digest, Box<dyn std::error::Error>> {
    Ok(Application::open(path)?.digest()?)
}

/// The content index left by the last operation agrees with a full read:
/// the digest read through it is the real one, and `verify` (which ignores
/// it) finds the application as the history says.
fn check_index(app: &Path, expected: Digest) -> Result<(), Box<dyn std::error::Error>> {
    let indexed = ear_core::inventory(&Application::open(app)?, None)?.digest();
    assert_eq!(indexed, expected, "indexed digest of {}", app.display());
    let report = ear_core::verify(app, &ear_core::VerifyOptions::default())?;
    assert!(report.is_clean(), "{}: {report:?}", app.display());
    assert_eq!(report.digest, expected);
    Ok(())
}

/// Applies `update` to both forms in place, checks they end equal, equal to
/// the predicted digest, and that rollback restores the original.
fn apply_both(
    f: &Forms,
    make: &dyn Fn() -> ear_core::Result<Update>,
) -> Result<Digest, Box<dyn std::error::Error>> {
    let before = digest(&f.ear)?;
    assert_eq!(before, digest(&f.expanded)?);
    let mut after = Vec::new();
    for app in [&f.ear, &f.expanded] {
        let report = apply(app, &make()?, &ApplyOptions::default())?;
        assert_eq!(report.outcome, Outcome::Applied, "{}", app.display());
        let now = digest(app)?;
        assert_eq!(
            Some(now),
            report.digest_after,
            "the predicted digest is the real one ({})",
            app.display()
        );
        check_index(app, now)?;
        // Planning the same update again finds nothing to do.
        let again = apply(app, &make()?, &ApplyOptions::default())?;
        assert_eq!(again.outcome, Outcome::UpToDate);
        assert!(
            again.plan.changes.iter().all(|c| c.op == Op::Unchanged),
            "{:?}",
            again.plan.changes
        );
        after.push(now);
    }
    assert_eq!(after[0], after[1], "both forms end with the same content");
    for app in [&f.ear, &f.expanded] {
        let reports = rollback(app, &RollbackOptions::default())?;
        assert_eq!(reports.len(), 1);
        assert_eq!(digest(app)?, before, "rollback restores {}", app.display());
        check_index(app, before)?;
        let records = history(app, None)?;
        assert_eq!(records[0].status, Status::RolledBack);
        assert_eq!(
            records[1].rolls_back.as_deref(),
            Some(records[0].id.as_str())
        );
    }
    Ok(after[0])
}

#[test]
fn partial_update_sample() -> TestResult {
    let f = forms(&sample::shop_ear(), &sample::SHOP_MODULES)?;
    let zip = f.root.join("fix.zip");
    std::fs::write(&zip, sample::shop_fix_zip())?;
    let after = apply_both(&f, &|| Update::partial(&zip))?;
    assert_ne!(after, digest(&f.ear)?);
    Ok(())
}

#[test]
fn worked_example() -> TestResult {
    let f = forms(
        &sample::worked_example_ear(),
        &sample::WORKED_EXAMPLE_MODULES,
    )?;
    let zip = f.root.join("u.zip");
    std::fs::write(&zip, sample::worked_example_zip())?;
    apply_both(&f, &|| Update::partial(&zip))?;
    Ok(())
}

#[test]
fn file_update() -> TestResult {
    let f = forms(&sample::shop_ear(), &sample::SHOP_MODULES)?;
    let file = f.root.join("index.jsp");
    std::fs::write(&file, b"<html>new index</html>")?;
    apply_both(&f, &|| Update::file(&file, "storefront.war/index.jsp"))?;
    let conf = f.root.join("new.properties");
    std::fs::write(&conf, b"a=b")?;
    apply_both(&f, &|| Update::file(&conf, "config/deep/new.properties"))?;
    Ok(())
}

#[test]
fn module_updates_replace_and_add() -> TestResult {
    let f = forms(&sample::shop_ear(), &sample::SHOP_MODULES)?;
    let war = f.root.join("catalog.war");
    std::fs::write(
        &war,
        zip_of(&[
            ("WEB-INF/web.xml", b"<web-app/>"),
            ("catalog/new.jsp", b"new"),
        ]),
    )?;
    apply_both(&f, &|| Update::module(&war, "catalog.war"))?;
    let new = f.root.join("reports.war");
    std::fs::write(
        &new,
        zip_of(&[
            ("WEB-INF/web.xml", b"<web-app/>"),
            ("index.jsp", b"reports"),
        ]),
    )?;
    let before = digest(&f.ear)?;
    for app in [&f.ear, &f.expanded] {
        let report = apply(
            app,
            &Update::module(&new, "reports.war")?.context_root("/reports"),
            &ApplyOptions::default(),
        )?;
        assert_eq!(report.outcome, Outcome::Applied);
        let opened = Application::open(app)?;
        let m = opened
            .module(&ear_core::EntryPath::new("reports.war")?)
            .ok_or("module not registered")?;
        assert_eq!(m.context_root.as_deref(), Some("/reports"));
        assert!(m.declared);
        let xml = String::from_utf8(
            opened
                .read(&ear_core::EntryPath::new("META-INF/application.xml")?)?
                .ok_or("dd")?,
        )?;
        assert!(xml.contains("<web-uri>reports.war</web-uri>"), "{xml}");
        assert!(
            xml.contains("<!-- the customer-facing store -->"),
            "the rest of the descriptor is kept"
        );
        rollback(app, &RollbackOptions::default())?;
        assert_eq!(digest(app)?, before);
    }
    Ok(())
}

#[test]
fn full_update_both_ways() -> TestResult {
    let f = forms(&sample::shop_ear(), &sample::SHOP_MODULES)?;
    let other = f.root.join("other.ear");
    let other_bytes = ZipBuilder::new()
        .file("META-INF/application.xml", br#"<application version="7"><module><web><web-uri>only.war</web-uri><context-root>/only</context-root></web></module></application>"#)
        .file("only.war", zip_of(&[("index.jsp", b"only")]))
        .file("lib/util.jar", zip_of(&[("x.class", b"x")]))
        .finish();
    std::fs::write(&other, &other_bytes)?;
    let after = apply_both(&f, &|| Update::full(&other))?;
    assert_eq!(
        after,
        digest(&other)?,
        "a full update makes the application equal to the new one"
    );
    Ok(())
}

#[test]
fn output_leaves_the_application_untouched() -> TestResult {
    let f = forms(&sample::shop_ear(), &sample::SHOP_MODULES)?;
    let zip = f.root.join("fix.zip");
    std::fs::write(&zip, sample::shop_fix_zip())?;
    let out = f.root.join("out.ear");
    let before = digest(&f.ear)?;
    let report = apply(
        &f.ear,
        &Update::partial(&zip)?,
        &ApplyOptions::default().output(&out).expect_digest(before),
    )?;
    assert_eq!(std::fs::read(&f.ear)?, sample::shop_ear());
    assert_eq!(Some(digest(&out)?), report.digest_after);
    // Without --expect-digest the digest (a read of every file) is skipped.
    let out2 = f.root.join("out2.ear");
    let report2 = apply(
        &f.ear,
        &Update::partial(&zip)?,
        &ApplyOptions::default().output(&out2),
    )?;
    assert_eq!(report2.digest_after, None);
    assert_eq!(digest(&out2)?, digest(&out)?);
    assert!(
        !f.root.join("app.ear.earpatch").exists(),
        "no history for -o"
    );
    let out_dir = f.root.join("out-dir");
    let report = apply(
        &f.expanded,
        &Update::partial(&zip)?,
        &ApplyOptions::default()
            .output(&out_dir)
            .expect_digest(before),
    )?;
    assert_eq!(Some(digest(&out_dir)?), report.digest_after);
    assert_eq!(digest(&f.expanded)?, digest(&f.ear)?);
    Ok(())
}

#[test]
fn unchanged_entries_are_copied_raw() -> TestResult {
    let f = forms(&sample::shop_ear(), &sample::SHOP_MODULES)?;
    let file = f.root.join("x.jsp");
    std::fs::write(&file, b"x")?;
    apply(
        &f.ear,
        &Update::file(&file, "storefront.war/x.jsp")?,
        &ApplyOptions::default(),
    )?;
    let old = zip::ZipArchive::new(std::io::Cursor::new(sample::shop_ear()))?;
    let mut new = zip::ZipArchive::new(std::fs::File::open(&f.ear)?)?;
    let mut old = old;
    let names: Vec<String> = old
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .collect();
    let new_names: Vec<String> = new
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .collect();
    assert_eq!(names, new_names, "entry order is kept");
    for name in &names {
        let a = old.by_name(name)?;
        let (a_crc, a_method, a_time, a_csize, a_mode) = (
            a.crc32(),
            a.compression(),
            a.last_modified(),
            a.compressed_size(),
            a.unix_mode(),
        );
        drop(a);
        let b = new.by_name(name)?;
        if name == "storefront.war" {
            assert_ne!(b.crc32(), a_crc);
            assert_eq!(
                b.compression(),
                a_method,
                "a rebuilt module keeps its compression method"
            );
            continue;
        }
        assert_eq!(
            (
                b.crc32(),
                b.compression(),
                b.last_modified(),
                b.compressed_size(),
                b.unix_mode()
            ),
            (a_crc, a_method, a_time, a_csize, a_mode),
            "{name}"
        );
    }
    // Inside the rebuilt module too, unchanged entries keep their metadata.
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(inner(&mut old)?))?;
    let mut b = zip::ZipArchive::new(std::io::Cursor::new(inner(&mut new)?))?;
    let ea = a.by_name("WEB-INF/lib/shop-taglib.jar")?;
    let (crc, method) = (ea.crc32(), ea.compression());
    drop(ea);
    let eb = b.by_name("WEB-INF/lib/shop-taglib.jar")?;
    assert_eq!((eb.crc32(), eb.compression()), (crc, method));
    assert_eq!(method, zip::CompressionMethod::Stored);
    drop(eb);
    assert!(b.by_name("x.jsp").is_ok());
    Ok(())
}

fn inner<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut e = zip.by_name("storefront.war")?;
    let mut v = Vec::new();
    std::io::Read::read_to_end(&mut e, &mut v)?;
    Ok(v)
}

#[test]
fn preconditions_refuse_and_write_nothing() -> TestResult {
    let f = forms(&sample::shop_ear(), &sample::SHOP_MODULES)?;
    let zip = f.root.join("fix.zip");
    std::fs::write(&zip, sample::shop_fix_zip())?;
    for app in [&f.ear, &f.expanded] {
        let before = digest(app)?;
        let wrong: Digest = format!("sha256:{}", "0".repeat(64)).parse()?;
        let err = apply(
            app,
            &Update::partial(&zip)?,
            &ApplyOptions::default().expect_digest(wrong),
        )
        .err()
        .ok_or("applied")?;
        assert!(err.to_string().contains("does not match"), "{err}");
        let err = apply(
            app,
            &Update::partial(&zip)?,
            &ApplyOptions::default().available_space(100),
        )
        .err()
        .ok_or("applied")?;
        assert!(
            err.to_string().contains("not enough free space")
                && err.to_string().contains("100 are free"),
            "{err}"
        );
        let err = apply(
            app,
            &Update::partial(&zip)?,
            &ApplyOptions::default().dry_run(true).strict(true),
        );
        assert!(err.is_ok(), "the sample plan has no warnings");
        assert_eq!(digest(app)?, before);
        assert!(
            history(app, None)?.is_empty(),
            "refused applies leave no record"
        );
        let ok = apply(
            app,
            &Update::partial(&zip)?,
            &ApplyOptions::default().expect_digest(before),
        )?;
        assert_eq!(ok.outcome, Outcome::Applied);
    }
    assert_eq!(
        std::fs::read_dir(&f.root)?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .count(),
        0
    );
    Ok(())
}

#[test]
fn rollback_refuses_drift_unless_forced() -> TestResult {
    let f = forms(&sample::shop_ear(), &sample::SHOP_MODULES)?;
    let zip = f.root.join("fix.zip");
    std::fs::write(&zip, sample::shop_fix_zip())?;
    let before = digest(&f.expanded)?;
    apply(
        &f.expanded,
        &Update::partial(&zip)?,
        &ApplyOptions::default(),
    )?;
    std::fs::write(
        f.expanded.join("storefront.war/hotfix.jsp"),
        b"hot deployed",
    )?;
    let err = rollback(&f.expanded, &RollbackOptions::default())
        .err()
        .ok_or("rolled back")?;
    assert!(
        err.to_string().contains("changed outside earpatch"),
        "{err}"
    );
    rollback(&f.expanded, &RollbackOptions::default().force(true))?;
    // The hot-deployed file is not part of the undo: it stays.
    assert!(f.expanded.join("storefront.war/hotfix.jsp").exists());
    std::fs::remove_file(f.expanded.join("storefront.war/hotfix.jsp"))?;
    assert_eq!(digest(&f.expanded)?, before);
    Ok(())
}

#[test]
fn rollback_to_rolls_back_everything_after() -> TestResult {
    let f = forms(&sample::shop_ear(), &sample::SHOP_MODULES)?;
    let (a, b, c) = (
        f.root.join("a.zip"),
        f.root.join("b.zip"),
        f.root.join("c.zip"),
    );
    std::fs::write(&a, zip_of(&[("storefront.war/a.html", b"a")]))?;
    std::fs::write(
        &b,
        zip_of(&[("storefront.war/a.html", b"b"), ("config/b.dat", b"b")]),
    )?;
    std::fs::write(&c, zip_of(&[("catalog.war/c.html", b"c")]))?;
    let d0 = digest(&f.ear)?;
    apply(&f.ear, &Update::partial(&a)?, &ApplyOptions::default())?;
    let d1 = digest(&f.ear)?;
    apply(&f.ear, &Update::partial(&b)?, &ApplyOptions::default())?;
    apply(&f.ear, &Update::partial(&c)?, &ApplyOptions::default())?;
    let first = history(&f.ear, None)?[0].id.clone();
    let reports = rollback(&f.ear, &RollbackOptions::default().to(first.clone()))?;
    assert_eq!(reports.len(), 2, "b and c, newest first");
    let again = rollback(&f.ear, &RollbackOptions::default().to(first.clone()))
        .err()
        .ok_or("nothing after the first")?;
    assert!(
        again.to_string().contains(&format!(
            "no update applied after {first} is still in force"
        )),
        "{again}"
    );
    assert_eq!(digest(&f.ear)?, d1);
    rollback(&f.ear, &RollbackOptions::default())?;
    assert_eq!(digest(&f.ear)?, d0);
    let err = rollback(&f.ear, &RollbackOptions::default())
        .err()
        .ok_or("nothing left")?;
    assert!(err.to_string().contains("nothing to roll back"), "{err}");
    let unknown = rollback(&f.ear, &RollbackOptions::default().to("20000101_000000_x"))
        .err()
        .ok_or("unknown id")?;
    assert!(unknown.to_string().contains("no such update"), "{unknown}");
    Ok(())
}

#[test]
fn modules_stored_in_either_way_are_rebuilt_the_same() -> TestResult {
    // A module stored (not deflated) in the EAR keeps that method when rebuilt.
    let ear = ZipBuilder::new()
        .file("META-INF/application.xml", br#"<application><module><web><web-uri>w.war</web-uri><context-root>/w</context-root></web></module></application>"#)
        .file_with("w.war", zip_of(&[("index.jsp", b"i"), ("WEB-INF/web.xml", b"<web-app/>")]), Method::Store)
        .finish();
    let f = forms(&ear, &["w.war"])?;
    let zip = f.root.join("u.zip");
    std::fs::write(
        &zip,
        zip_of(&[
            ("w.war/index.jsp", b"new"),
            ("META-INF/ibm-partialapp-delete.props", b"nothing\n"),
            (
                "w.war/META-INF/ibm-partialapp-delete.props",
                b"WEB-INF/web\\.xml\n",
            ),
        ]),
    )?;
    apply_both(&f, &|| Update::partial(&zip))?;
    Ok(())
}

#[test]
fn expanded_application_written_as_an_archive() -> TestResult {
    let f = forms(&sample::shop_ear(), &sample::SHOP_MODULES)?;
    let zip = f.root.join("fix.zip");
    std::fs::write(&zip, sample::shop_fix_zip())?;
    let (from_archive, from_expanded) = (f.root.join("a.ear"), f.root.join("b.ear"));
    apply(
        &f.ear,
        &Update::partial(&zip)?,
        &ApplyOptions::default().output(&from_archive),
    )?;
    apply(
        &f.expanded,
        &Update::partial(&zip)?,
        &ApplyOptions::default().output(&from_expanded),
    )?;
    assert!(from_expanded.is_file(), "an .ear output is an archive");
    assert_eq!(digest(&from_expanded)?, digest(&from_archive)?);
    assert_eq!(
        std::fs::read_dir(&f.root)?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".earpatch-"))
            .count(),
        0
    );
    Ok(())
}
