//! The content index (`APP.earpatch/index`) and `verify`: a warm index spares
//! reading what did not change, a stale, damaged or fooled one never makes an
//! operation wrong where a full read would be right, reading commands never
//! write it, and `verify` (which ignores it) names what drifted.

use std::path::{Path, PathBuf};

use ear_core::{
    Application, ApplyOptions, Baseline, Digest, Drift, Outcome, RollbackOptions, Update,
    VerifyOptions, apply, rollback, verify,
};
use ear_fixtures::sample;

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Forms {
    _dir: tempfile::TempDir,
    ear: PathBuf,
    expanded: PathBuf,
    fix: PathBuf,
}

fn forms() -> Result<Forms, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let bytes = sample::shop_ear();
    let ear = dir.path().join("shop.ear");
    std::fs::write(&ear, &bytes)?;
    let expanded = dir.path().join("shop");
    ear_fixtures::write_expanded(&bytes, &expanded, &["catalog.war", "storefront.war"])?;
    let fix = dir.path().join("shop-fix.zip");
    std::fs::write(&fix, sample::shop_fix_zip())?;
    Ok(Forms {
        _dir: dir,
        ear,
        expanded,
        fix,
    })
}

fn fresh(app: &Path) -> Result<Digest, Box<dyn std::error::Error>> {
    Ok(Application::open(app)?.digest()?)
}

fn index_of(app: &Path) -> PathBuf {
    let name = app.file_name().map(|n| n.to_string_lossy().into_owned());
    app.with_file_name(format!("{}.earpatch", name.unwrap_or_default()))
        .join("index")
}

/// Every file under `dir`, with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (e.path().to_path_buf(), bytes)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_warm_index_spares_reading_what_did_not_change() -> TestResult {
    let f = forms()?;
    // Archive form: stamps come from the central directory, so everything
    // the apply wrote is vouched for at once.
    let first = apply(&f.ear, &Update::infer(&f.fix)?, &ApplyOptions::default())?;
    assert_eq!(first.outcome, Outcome::Applied);
    let cold = first.scanned.ok_or("no scan")?;
    assert!(cold.files_hashed > 20, "{cold:?}");
    assert_eq!(cold.files_indexed, 0, "no index yet: {cold:?}");
    let again = apply(&f.ear, &Update::infer(&f.fix)?, &ApplyOptions::default())?;
    assert_eq!(again.outcome, Outcome::UpToDate);
    let warm = again.scanned.ok_or("no scan")?;
    assert_eq!(warm.files_hashed, 0, "{warm:?}");
    assert!(warm.files_indexed > 20, "{warm:?}");
    assert_eq!(again.digest_after, first.digest_after);

    // Expanded form: a file changed less than 2 s (the racy margin) before
    // an operation began is read again by the next one; so the files an
    // apply wrote are read once more, and then come from the index too.
    let dir = tempfile::tempdir()?;
    let other = dir.path().join("shop");
    ear_fixtures::write_expanded(
        &sample::shop_ear(),
        &other,
        &["catalog.war", "storefront.war"],
    )?;
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let applied = apply(&other, &Update::infer(&f.fix)?, &ApplyOptions::default())?;
    let cold = applied.scanned.ok_or("no scan")?;
    assert_eq!(cold.files_indexed, 0, "{cold:?}");
    let racy = apply(&other, &Update::infer(&f.fix)?, &ApplyOptions::default())?;
    assert_eq!(racy.outcome, Outcome::UpToDate);
    let racy = racy.scanned.ok_or("no scan")?;
    assert!(racy.files_hashed > 0 && racy.files_indexed > 0, "{racy:?}");
    assert!(racy.files_hashed < cold.files_hashed / 2, "{racy:?}");
    // The first operation that starts 2 s after the writes reads them once
    // more (the index it found was taken too close to them) and vouches for
    // them; from then on nothing is read.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let settling = apply(&other, &Update::infer(&f.fix)?, &ApplyOptions::default())?;
    let settling = settling.scanned.ok_or("no scan")?;
    assert!(settling.files_hashed <= racy.files_hashed, "{settling:?}");
    let warm = apply(&other, &Update::infer(&f.fix)?, &ApplyOptions::default())?;
    let stats = warm.scanned.ok_or("no scan")?;
    assert_eq!(stats.files_hashed, 0, "{stats:?}");
    assert_eq!(warm.digest_after, applied.digest_after);
    assert_eq!(Some(fresh(&other)?), warm.digest_after);
    assert_eq!(fresh(&other)?, fresh(&f.ear)?);
    Ok(())
}

#[test]
fn a_hot_deployed_file_of_the_same_size_and_time_is_still_seen() -> TestResult {
    let f = forms()?;
    apply(
        &f.expanded,
        &Update::infer(&f.fix)?,
        &ApplyOptions::default(),
    )?;
    std::thread::sleep(std::time::Duration::from_millis(2100));
    // Warm the index past the racy margin.
    verify(&f.expanded, &VerifyOptions::default())?;
    // Same size, and the modification time put back: only the change time
    // (which no user can set) and the bytes differ.
    let jsp = f.expanded.join("storefront.war/welcome.jsp");
    let old = std::fs::read(&jsp)?;
    let mtime = std::fs::metadata(&jsp)?.modified()?;
    let mut new = old.clone();
    new[0] ^= 1;
    std::fs::write(&jsp, &new)?;
    std::fs::File::options()
        .write(true)
        .open(&jsp)?
        .set_modified(mtime)?;
    let tampered = fresh(&f.expanded)?;
    let report = apply(
        &f.expanded,
        &Update::infer(&f.fix)?,
        &ApplyOptions::default(),
    )?;
    assert_eq!(
        report.outcome,
        Outcome::Applied,
        "the update puts the file back"
    );
    assert_eq!(report.plan.application.digest, Some(tampered));
    assert_ne!(report.plan.application.digest, report.digest_after);
    assert_eq!(std::fs::read(&jsp)?, old);
    assert_eq!(Some(fresh(&f.expanded)?), report.digest_after);
    Ok(())
}

/// Four bytes that, appended to `data`, give the whole the CRC-32 `target`
/// (CRC-32 is linear: its last four steps can be run backwards).
fn forge_crc(data: &[u8], target: u32) -> [u8; 4] {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    let state = !crc32fast::hash(data);
    let mut reg = !target;
    for _ in 0..4 {
        let i = table.iter().position(|t| t >> 24 == reg >> 24).unwrap_or(0);
        reg = ((reg ^ table[i]) << 8) | i as u32;
    }
    (reg ^ state).to_le_bytes()
}

#[test]
fn the_index_trusts_the_central_directory_and_verify_does_not() -> TestResult {
    // A stored application-scope file; its bytes are then changed in place
    // under the very same central directory record (same size, offset and
    // a forged CRC-32). Only a tool editing bytes on purpose does that.
    let original = b"price=10\n-------------".to_vec();
    let mut forged = b"price=99\n---------".to_vec();
    let patch = forge_crc(&forged, crc32fast::hash(&original));
    forged.extend_from_slice(&patch);
    assert_eq!(forged.len(), original.len());
    assert_eq!(crc32fast::hash(&forged), crc32fast::hash(&original));
    let dir = tempfile::tempdir()?;
    let ear = dir.path().join("app.ear");
    let bytes = ear_fixtures::ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        .file_with("config/prices.txt", &original, ear_fixtures::Method::Store)
        .file(
            "web.war",
            ear_fixtures::zip_of(&[("index.jsp", b"<p>hi</p>")]),
        )
        .finish();
    std::fs::write(&ear, &bytes)?;
    let before = verify(&ear, &VerifyOptions::default())?; // records the baseline and the index
    assert_eq!(before.baseline, Baseline::None);
    let at = bytes
        .windows(original.len())
        .position(|w| w == original.as_slice())
        .ok_or("stored bytes not found")?;
    let mut tampered = bytes.clone();
    tampered[at..at + forged.len()].copy_from_slice(&forged);
    std::fs::write(&ear, &tampered)?;

    // Through the index: the old hash (that is what the index is for).
    let indexed = ear_core::inventory(&Application::open(&ear)?, None)?;
    assert_eq!(indexed.digest(), before.digest);
    // verify reads everything: it sees the change and names the file.
    let after = verify(&ear, &VerifyOptions::default())?;
    assert!(!after.is_clean());
    assert_eq!(after.baseline, Baseline::Index);
    assert_eq!(after.digest, fresh(&ear)?);
    assert_eq!(after.drifted.len(), 1, "{:?}", after.drifted);
    assert_eq!(after.drifted[0].path.as_str(), "config/prices.txt");
    assert_eq!(after.drifted[0].change, Drift::Modified);
    Ok(())
}

#[test]
fn a_damaged_index_is_ignored_and_replaced() -> TestResult {
    let f = forms()?;
    for app in [&f.ear, &f.expanded] {
        let first = apply(app, &Update::infer(&f.fix)?, &ApplyOptions::default())?;
        let index = index_of(app);
        let bytes = std::fs::read(&index)?;
        for damage in [
            bytes[..bytes.len() / 2].to_vec(),
            bytes
                .iter()
                .map(|b| if *b == b'e' { b'f' } else { *b })
                .collect(),
            b"garbage".to_vec(),
            Vec::new(),
        ] {
            std::fs::write(&index, &damage)?;
            let report = verify(app, &VerifyOptions::default())?;
            assert!(report.is_clean(), "{report:?}");
            assert_eq!(report.baseline, Baseline::Record);
            assert!(report.index_problem.is_some(), "{report:?}");
            assert_eq!(report.index, "refreshed");
            // And applying with a damaged index is as right as without one.
            std::fs::write(&index, &damage)?;
            let back = rollback(app, &RollbackOptions::default())?;
            assert_eq!(Some(fresh(app)?), back[0].digest_after);
            std::fs::write(&index, &damage)?;
            let again = apply(app, &Update::infer(&f.fix)?, &ApplyOptions::default())?;
            assert_eq!(again.digest_after, first.digest_after);
            assert_eq!(Some(fresh(app)?), again.digest_after);
        }
    }
    // An index of the other form (the application replaced by its expanded
    // copy, or back) is not used: same content, other stamps.
    std::fs::copy(index_of(&f.ear), index_of(&f.expanded))?;
    let inventory = ear_core::inventory(&Application::open(&f.expanded)?, None)?;
    assert_eq!(inventory.digest(), fresh(&f.expanded)?);
    assert!(verify(&f.expanded, &VerifyOptions::default())?.is_clean());
    Ok(())
}

#[test]
fn reading_never_writes_the_index() -> TestResult {
    let f = forms()?;
    for app in [&f.ear, &f.expanded] {
        let state = index_of(app).with_file_name("");
        // No state yet: reading creates none.
        ear_core::inventory(&Application::open(app)?, None)?;
        let dry = ApplyOptions::default().dry_run(true);
        apply(app, &Update::infer(&f.fix)?, &dry)?;
        assert!(!state.exists(), "{} was created", state.display());
        // With state: reading leaves it byte for byte.
        apply(app, &Update::infer(&f.fix)?, &ApplyOptions::default())?;
        rollback(app, &RollbackOptions::default())?;
        let before = snapshot(&state);
        ear_core::inventory(&Application::open(app)?, None)?;
        apply(app, &Update::infer(&f.fix)?, &dry)?;
        assert!(
            before == snapshot(&state),
            "the state folder of {} changed",
            app.display()
        );
    }
    Ok(())
}

#[test]
fn verify_names_what_drifted_until_the_next_operation() -> TestResult {
    let f = forms()?;
    let app = &f.expanded;
    // No history and no index: nothing to compare with; the content becomes
    // the baseline.
    let first = verify(app, &VerifyOptions::default())?;
    assert_eq!((first.baseline, first.expected), (Baseline::None, None));
    assert!(first.is_clean());
    let second = verify(app, &VerifyOptions::default())?;
    assert_eq!(second.baseline, Baseline::Index);
    assert!(second.is_clean() && second.drifted.is_empty());

    let applied = apply(app, &Update::infer(&f.fix)?, &ApplyOptions::default())?;
    let clean = verify(app, &VerifyOptions::default())?;
    assert_eq!(clean.baseline, Baseline::Record);
    assert_eq!(clean.expected, applied.digest_after);
    assert!(clean.is_clean());

    // Hot deployment: one file changed, one added, one removed.
    std::fs::write(app.join("catalog.war/catalog/new.jsp"), "<p>hot</p>")?;
    std::fs::write(app.join("storefront.war/welcome.jsp"), "<p>edited</p>")?;
    std::fs::remove_file(app.join("META-INF/MANIFEST.MF"))?;
    for _ in 0..2 {
        // Twice: the index keeps describing the expected content.
        let drifted = verify(app, &VerifyOptions::default())?;
        assert!(!drifted.is_clean());
        assert!(drifted.drifted_known);
        assert_eq!(drifted.index, "kept");
        let listed: Vec<(&str, Drift)> = drifted
            .drifted
            .iter()
            .map(|d| (d.path.as_str(), d.change))
            .collect();
        assert_eq!(
            listed,
            [
                ("META-INF/MANIFEST.MF", Drift::Deleted),
                ("catalog.war/catalog/new.jsp", Drift::Added),
                ("storefront.war/welcome.jsp", Drift::Modified),
            ]
        );
        assert_eq!(drifted.digest, fresh(app)?);
    }
    // Compared with another digest (a fleet's master copy).
    let master = fresh(&f.ear)?;
    let against = verify(app, &VerifyOptions::default().expect_digest(master))?;
    assert_eq!(
        (against.baseline, against.expected),
        (Baseline::Option, Some(master))
    );
    assert!(!against.is_clean());
    // The next rollback refuses the drift unless forced; forced, it restores
    // what the update replaced and the index follows the new content.
    assert!(rollback(app, &RollbackOptions::default()).is_err());
    let back = rollback(app, &RollbackOptions::default().force(true))?;
    assert!(back[0].forced_over_drift);
    let after = verify(app, &VerifyOptions::default())?;
    assert!(after.is_clean(), "{after:?}");
    assert_eq!(
        ear_core::inventory(&Application::open(app)?, None)?.digest(),
        fresh(app)?
    );
    Ok(())
}
