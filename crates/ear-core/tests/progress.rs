//! Progress reports while an application's content is read and while it is
//! written, and cancellation: honoured until the application starts to
//! change (nothing left behind), ignored after.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ear_core::{
    Application, ApplyOptions, Error, Event, Flow, Outcome, Phase, Progress, Status, Update,
    VerifyOptions, apply, history, verify,
};
use ear_fixtures::{Method, ZipBuilder, write_expanded, zip_of};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// An application with 12 MiB of content in a web module, and a file update.
fn big_app(dir: &std::path::Path) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let mut war = ZipBuilder::new().file("WEB-INF/web.xml", "<web-app/>");
    for i in 0..12 {
        let bytes: Vec<u8> = (0..1 << 20)
            .map(|n: u32| (n.wrapping_mul(2654435761) >> (i + 7)) as u8)
            .collect();
        war = war.file(&format!("data/blob{i}.bin"), bytes);
    }
    let ear = ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        .file("web.war", war.finish())
        .finish();
    let path = dir.join("big.ear");
    std::fs::write(&path, ear)?;
    Ok(path)
}

#[test]
fn progress_is_reported_while_reading() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ear = big_app(dir.path())?;
    let events = Arc::new(AtomicU64::new(0));
    let last = Arc::new(AtomicU64::new(0));
    let (e, l) = (events.clone(), last.clone());
    let progress = Progress::new(move |event| {
        e.fetch_add(1, Ordering::Relaxed);
        l.store(event.bytes, Ordering::Relaxed);
        Flow::Continue
    });
    let report = verify(&ear, &VerifyOptions::default().progress(progress))?;
    assert!(events.load(Ordering::Relaxed) >= 2, "one call per 4 MiB");
    assert!(last.load(Ordering::Relaxed) <= report.bytes);
    assert!(last.load(Ordering::Relaxed) >= 8 << 20);
    Ok(())
}

#[test]
fn cancelling_stops_before_anything_is_written() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ear = big_app(dir.path())?;
    let before = std::fs::read(&ear)?;
    let fix = dir.path().join("fix.zip");
    std::fs::write(&fix, zip_of(&[("web.war/index.jsp", b"<p>new</p>")]))?;
    let cancel = Progress::new(|_| Flow::Cancel);
    let err = apply(
        &ear,
        &Update::infer(&fix)?,
        &ApplyOptions::default().progress(cancel),
    )
    .err()
    .ok_or("the apply was not cancelled")?;
    assert!(matches!(err, Error::Cancelled), "{err}");
    assert_eq!(std::fs::read(&ear)?, before);
    assert!(
        !ear.with_file_name("big.ear.earpatch")
            .join("history")
            .exists()
    );
    // Cancelled from outside, through the handle, before it starts.
    let handle = Progress::new(|_| Flow::Continue);
    handle.cancel();
    let err = verify(&ear, &VerifyOptions::default().progress(handle))
        .err()
        .ok_or("verify was not cancelled")?;
    assert!(matches!(err, Error::Cancelled), "{err}");
    // Without a handle it goes through.
    assert_eq!(
        apply(&ear, &Update::infer(&fix)?, &ApplyOptions::default())?.outcome,
        ear_core::Outcome::Applied
    );
    assert_eq!(
        Application::open(&ear)?.digest()?,
        verify(&ear, &VerifyOptions::default())?.digest
    );
    Ok(())
}

/// `len` bytes that do not compress (xorshift).
fn incompressible(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// An application of known sizes: a web module of 12 MiB of incompressible
/// files and an 8 MiB library, all stored. An archive rewrite touching the
/// module writes about 12 MiB (the module rebuilt) then 20 MiB (the archive).
fn write_app(dir: &Path) -> Result<PathBuf, std::io::Error> {
    let mut war = ZipBuilder::new().file("WEB-INF/web.xml", "<web-app/>");
    for i in 0..12 {
        war = war.file_with(
            &format!("data/blob{i}.bin"),
            incompressible(1 << 20, i + 1),
            Method::Store,
        );
    }
    let ear = ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        .file_with("web.war", war.finish(), Method::Store)
        .file_with("lib/blob.jar", incompressible(8 << 20, 99), Method::Store)
        .finish();
    let path = dir.join("big.ear");
    std::fs::write(&path, ear)?;
    Ok(path)
}

/// A progress handle that keeps every event and answers with `answer`.
fn recorder(
    answer: impl Fn(&Event) -> Flow + Send + Sync + 'static,
) -> (Progress, Arc<Mutex<Vec<Event>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&events);
    let progress = Progress::new(move |event| {
        if let Ok(mut log) = log.lock() {
            log.push(event);
        }
        answer(&event)
    });
    (progress, events)
}

fn seen(events: &Arc<Mutex<Vec<Event>>>) -> Vec<Event> {
    events.lock().map(|v| v.clone()).unwrap_or_default()
}

/// Cancels at the first report of `phase` that counts `at` bytes written or more.
fn cancel_mid(phase: Phase, at: u64) -> impl Fn(&Event) -> Flow + Send + Sync + 'static {
    move |e| {
        if e.phase == phase && e.written >= at.max(1) {
            Flow::Cancel
        } else {
            Flow::Continue
        }
    }
}

/// Files of the folder `dir` (not recursing), by name.
fn names_in(dir: &Path) -> Result<Vec<String>, std::io::Error> {
    let mut names = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    names.sort();
    Ok(names)
}

/// Files with their bytes.
type Tree = Vec<(PathBuf, Vec<u8>)>;

/// Every file under `dir` with its bytes.
fn tree(dir: &Path) -> Result<Tree, Box<dyn std::error::Error>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry?;
        if entry.file_type().is_file() {
            files.push((entry.path().to_path_buf(), std::fs::read(entry.path())?));
        }
    }
    Ok(files)
}

/// A partial update touching the big web module: the archive rewrite
/// rebuilds it (12 MiB) and copies the rest.
fn small_fix(dir: &Path) -> Result<PathBuf, std::io::Error> {
    let fix = dir.join("fix.zip");
    std::fs::write(&fix, zip_of(&[("web.war/index.jsp", b"<p>new</p>")]))?;
    Ok(fix)
}

#[test]
fn progress_is_reported_while_writing_an_archive() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ear = write_app(dir.path())?;
    let fix = small_fix(dir.path())?;
    // In place: the undo bundle, then the new archive.
    let (progress, events) = recorder(|_| Flow::Continue);
    let report = apply(
        &ear,
        &Update::infer(&fix)?,
        &ApplyOptions::default().progress(progress),
    )?;
    assert_eq!(report.outcome, Outcome::Applied);
    let events = seen(&events);
    assert!(events.iter().any(|e| e.phase == Phase::SavingUndo));
    let writing: Vec<&Event> = events
        .iter()
        .filter(|e| e.phase == Phase::Writing)
        .collect();
    // The start, then one report per 4 MiB of 12 MiB rebuilt and 20 MiB
    // copied, out of the sizes before (archive and module): about 32 MiB.
    assert!(writing.len() >= 6, "{writing:?}");
    assert!(writing.windows(2).all(|w| w[0].written <= w[1].written));
    let total = writing[0].total.ok_or("no total")?;
    assert!((32 << 20..33 << 20).contains(&total), "{total}");
    let last = writing.last().ok_or("no event")?.written;
    assert!(
        last >= 28 << 20 && last <= total + (1 << 20),
        "{last} of {total}"
    );
    // Writing comes after reading and saving the undo bundle.
    let first_write = events.iter().position(|e| e.phase == Phase::Writing);
    assert!(first_write > events.iter().position(|e| e.phase == Phase::SavingUndo));
    assert!(!events.iter().any(|e| e.phase == Phase::Committing));

    // With -o: writing only.
    let (progress, events) = recorder(|_| Flow::Continue);
    let out = dir.path().join("out.ear");
    let other = dir.path().join("other.zip");
    std::fs::write(&other, zip_of(&[("web.war/other.jsp", b"<p>other</p>")]))?;
    apply(
        &ear,
        &Update::infer(&other)?,
        &ApplyOptions::default().output(&out).progress(progress),
    )?;
    let events = seen(&events);
    assert!(events.len() >= 6, "{events:?}");
    assert!(
        events.iter().all(|e| e.phase == Phase::Writing),
        "{events:?}"
    );
    assert!(events.iter().any(|e| e.written >= 28 << 20), "{events:?}");
    let other_jsp = ear_core::EntryPath::new("web.war/other.jsp")?;
    assert!(Application::open(&out)?.read(&other_jsp)?.is_some());
    Ok(())
}

#[test]
fn a_cancel_while_writing_an_archive_leaves_it_untouched() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ear = write_app(dir.path())?;
    let fix = small_fix(dir.path())?;
    let before = std::fs::read(&ear)?;
    let names = names_in(dir.path())?;
    // While the module is rebuilt (before the temporary archive exists),
    // and while the archive is copied (into the temporary file).
    for (in_place, at) in [(true, 0), (true, 16 << 20), (false, 0), (false, 16 << 20)] {
        let (progress, events) = recorder(cancel_mid(Phase::Writing, at));
        let out = dir.path().join("out.ear");
        let mut options = ApplyOptions::default().progress(progress);
        if !in_place {
            options = options.output(&out);
        }
        let err = apply(&ear, &Update::infer(&fix)?, &options)
            .err()
            .ok_or("the apply was not cancelled")?;
        assert!(matches!(err, Error::Cancelled), "{err}");
        // It was cancelled while writing, not before.
        assert!(
            seen(&events)
                .iter()
                .any(|e| e.phase == Phase::Writing && e.written >= at.max(1))
        );
        assert_eq!(std::fs::read(&ear)?, before, "in place: {in_place}");
        // No temporary file, no output, no record or undo bundle.
        assert_eq!(names_in(dir.path())?, names, "in place: {in_place}");
        assert!(history(&ear, None)?.is_empty());
    }
    // A first apply cancelled leaves no state folder.
    assert!(!dir.path().join("big.ear.earpatch").exists());
    // Without a cancel it goes through, to the digest it predicted.
    let report = apply(&ear, &Update::infer(&fix)?, &ApplyOptions::default())?;
    assert_eq!(
        Some(verify(&ear, &VerifyOptions::default())?.digest),
        report.digest_after
    );
    Ok(())
}

/// The application of [`write_app`] expanded (its web module a folder).
fn big_expanded(dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let ear = write_app(dir)?;
    let app = dir.join("big");
    write_expanded(&std::fs::read(&ear)?, &app, &["web.war"])?;
    std::fs::remove_file(ear)?;
    Ok(app)
}

/// A partial update writing 6 MiB and about 1,100 small files into the web module.
fn wide_fix(dir: &Path) -> Result<PathBuf, std::io::Error> {
    let blob: Vec<u8> = (0..3u32 << 20)
        .map(|n| (n.wrapping_mul(40503) >> 9) as u8)
        .collect();
    let mut fix = ZipBuilder::new()
        .file("web.war/data/new1.bin", &blob)
        .file("web.war/data/new2.bin", &blob[1..]);
    for i in 0..1100 {
        fix = fix.file(&format!("web.war/pages/p{i}.jsp"), format!("<p>{i}</p>"));
    }
    let path = dir.join("wide.zip");
    std::fs::write(&path, fix.finish())?;
    Ok(path)
}

#[test]
fn a_cancel_while_staging_an_expanded_apply_leaves_it_untouched() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = big_expanded(dir.path())?;
    let fix = wide_fix(dir.path())?;
    let before = tree(&app)?;
    let digest = verify(&app, &VerifyOptions::default())?.digest;
    let (progress, events) = recorder(cancel_mid(Phase::Writing, 0));
    let err = apply(
        &app,
        &Update::infer(&fix)?,
        &ApplyOptions::default().progress(progress),
    )
    .err()
    .ok_or("the apply was not cancelled")?;
    assert!(matches!(err, Error::Cancelled), "{err}");
    let events = seen(&events);
    assert!(
        events
            .iter()
            .any(|e| e.phase == Phase::Writing && e.written > 0)
    );
    assert!(!events.iter().any(|e| e.phase == Phase::Committing));
    assert_eq!(tree(&app)?, before);
    assert_eq!(verify(&app, &VerifyOptions::default())?.digest, digest);
    // No journal, no record (the state folder holds what verify left).
    let state = dir.path().join("big.earpatch");
    assert!(!state.join("journal").exists());
    assert!(!state.join("history").exists());
    assert!(history(&app, None)?.is_empty());
    Ok(())
}

#[test]
fn a_cancel_while_an_expanded_apply_commits_is_ignored() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = big_expanded(dir.path())?;
    let fix = wide_fix(dir.path())?;
    // Asks to cancel at every report once files are put in place, and from
    // outside through the handle too.
    let handle: Arc<Mutex<Option<Progress>>> = Arc::new(Mutex::new(None));
    let outside = Arc::clone(&handle);
    let (progress, events) = recorder(move |e| {
        if e.phase == Phase::Committing {
            if let Some(p) = outside.lock().ok().and_then(|h| h.clone()) {
                p.cancel();
            }
            Flow::Cancel
        } else {
            Flow::Continue
        }
    });
    *handle.lock().map_err(|_| "poisoned")? = Some(progress.clone());
    let report = apply(
        &app,
        &Update::infer(&fix)?,
        &ApplyOptions::default().progress(progress),
    )?;
    assert_eq!(report.outcome, Outcome::Applied);
    let events = seen(&events);
    // Staged bytes first, then files put in place: the start and one per 1,024.
    let staged = events.iter().filter(|e| e.phase == Phase::Writing).count();
    let committing: Vec<&Event> = events
        .iter()
        .filter(|e| e.phase == Phase::Committing)
        .collect();
    assert!(staged >= 2, "{events:?}");
    assert!(committing.len() >= 2, "{committing:?}");
    assert_eq!(committing[0].total, Some(1102));
    assert_eq!(committing[1].entries, 1024);
    // Complete and as predicted: the cancel changed nothing.
    assert_eq!(
        Some(verify(&app, &VerifyOptions::default())?.digest),
        report.digest_after
    );
    assert!(app.join("web.war/pages/p1099.jsp").is_file());
    let records = history(&app, None)?;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].status, Status::Applied);
    Ok(())
}
