//! Progress reports while an application's content is read, and
//! cancellation before anything is written.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ear_core::{
    Application, ApplyOptions, Error, Flow, Progress, Update, VerifyOptions, apply, verify,
};
use ear_fixtures::{ZipBuilder, zip_of};

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
