//! `earpatch apply`, `history`, `rollback` and `recover` through the real
//! binary, on both forms of the sample (spec §5-§7): crash safety at every
//! fail point and under SIGKILL, `-o`, `--dry-run`, idempotence,
//! `--expect-digest`, the lock, rollback (`--to`, drift, `--force`), module
//! additions and full updates.

mod common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::{earpatch, root, run};
use ear_fixtures::{ZipBuilder, sample, write_expanded, zip_of};
use serde_json::Value;

type Error = Box<dyn std::error::Error>;
type TestResult = Result<(), Error>;

/// The two forms of a deployed application (spec §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Archive,
    Expanded,
}

const FORMS: [Form; 2] = [Form::Archive, Form::Expanded];

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// `testdata/shop-fix.zip`.
fn fix_zip() -> PathBuf {
    root().join("testdata/shop-fix.zip")
}

/// The sample in `dir`: a copy of `testdata/shop.ear`, or the sample unpacked
/// into `dir/shop/` with its modules as directories.
fn shop(dir: &Path, form: Form) -> std::io::Result<PathBuf> {
    match form {
        Form::Archive => {
            let app = dir.join("shop.ear");
            std::fs::copy(root().join("testdata/shop.ear"), &app)?;
            Ok(app)
        }
        Form::Expanded => {
            let app = dir.join("shop");
            write_expanded(&sample::shop_ear(), &app, &sample::SHOP_MODULES)?;
            Ok(app)
        }
    }
}

/// Runs `earpatch args`, asserts exit 0, returns stdout.
fn ok(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "earpatch {args:?} failed:\n{err}\n{out}");
    out
}

/// The content digest, from `earpatch inspect APP --format json`.
fn digest(app: &Path) -> Result<String, Error> {
    let (code, out, err) = run(&["inspect", s(app), "--format", "json"]);
    if code != 0 {
        return Err(format!("inspect {} exited {code}: {err}", app.display()).into());
    }
    let v: Value = serde_json::from_str(&out)?;
    let d = v["application"]["digest"]
        .as_str()
        .ok_or_else(|| format!("no digest in {out}"))?;
    assert!(d.starts_with("sha256:") && d.len() == 71, "{d}");
    Ok(d.to_owned())
}

/// `earpatch inspect APP --format json`.
fn inspect(app: &Path) -> Result<Value, Error> {
    Ok(serde_json::from_str(&ok(&[
        "inspect",
        s(app),
        "--format",
        "json",
    ]))?)
}

/// The records of `earpatch history APP --format json`, oldest first.
fn records(app: &Path) -> Result<Vec<Value>, Error> {
    let v: Value = serde_json::from_str(&ok(&["history", s(app), "--format", "json"]))?;
    assert_eq!(v["schema"], "earpatch.history/v1");
    Ok(v["records"].as_array().cloned().unwrap_or_default())
}

fn statuses(records: &[Value]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r["status"].as_str().unwrap_or("?"))
        .collect()
}

/// `<app>.earpatch/` beside the application.
fn state_dir(app: &Path) -> PathBuf {
    let name = app.file_name().expect("app name").to_string_lossy();
    app.with_file_name(format!("{name}.earpatch"))
}

/// The folder that holds the application.
fn parent(app: &Path) -> &Path {
    app.parent().expect("app parent")
}

/// Names of `.earpatch-*` temporaries (archives, output folders) in `dir`.
fn temporaries(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let name = e?.file_name().to_string_lossy().into_owned();
        if name.starts_with(".earpatch-") {
            out.push(name);
        }
    }
    Ok(out)
}

/// Names in `dir`, sorted.
fn names(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out: Vec<String> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    out.sort();
    Ok(out)
}

/// Every file and folder at or under `path`: bytes (None for a folder) and
/// modification time. Equal snapshots mean nothing was written.
type Snapshot = BTreeMap<PathBuf, (Option<Vec<u8>>, SystemTime)>;

fn snapshot(path: &Path) -> std::io::Result<Snapshot> {
    let mut out = BTreeMap::new();
    snap(path, &mut out)?;
    Ok(out)
}

fn snap(path: &Path, out: &mut Snapshot) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        out.insert(path.to_path_buf(), (None, meta.modified()?));
        for e in std::fs::read_dir(path)? {
            snap(&e?.path(), out)?;
        }
    } else {
        out.insert(
            path.to_path_buf(),
            (Some(std::fs::read(path)?), meta.modified()?),
        );
    }
    Ok(())
}

/// A zip of the files under `dir` (sorted); the folders named in `modules`
/// become nested archives.
fn zip_dir(dir: &Path, modules: &[&str]) -> std::io::Result<Vec<u8>> {
    let mut entries = Vec::new();
    collect(dir, "", modules, &mut entries)?;
    Ok(entries
        .iter()
        .fold(ZipBuilder::new(), |b, (n, d)| b.file(n, d))
        .finish())
}

fn collect(
    root: &Path,
    rel: &str,
    modules: &[&str],
    out: &mut Vec<(String, Vec<u8>)>,
) -> std::io::Result<()> {
    let mut entries: Vec<std::fs::DirEntry> =
        std::fs::read_dir(root.join(rel))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        let name = e
            .file_name()
            .into_string()
            .map_err(|_| std::io::Error::other("non-UTF-8 name"))?;
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if e.file_type()?.is_dir() {
            if modules.contains(&path.as_str()) {
                let nested = zip_dir(&e.path(), &[])?;
                out.push((path, nested));
            } else {
                collect(root, &path, modules, out)?;
            }
        } else {
            out.push((path, std::fs::read(e.path())?));
        }
    }
    Ok(())
}

/// The archive at `ear` re-zipped with one more file (someone hot-deploying
/// outside earpatch).
fn rezip_with_extra(ear: &[u8], scratch: &Path, name: &str, bytes: &[u8]) -> TestResult {
    let _ = std::fs::remove_dir_all(scratch);
    write_expanded(ear, scratch, &[])?;
    let extra = scratch.join(name);
    std::fs::create_dir_all(parent(&extra))?;
    std::fs::write(extra, bytes)?;
    Ok(())
}

/// What changes outside earpatch after an update: the archive is replaced by
/// a re-zipped variant with one more file; an expanded application gets a
/// new file in `storefront.war/`.
fn drift(app: &Path, form: Form, scratch: &Path) -> TestResult {
    match form {
        Form::Archive => {
            rezip_with_extra(&std::fs::read(app)?, scratch, "hotfix.txt", b"hot\n")?;
            std::fs::write(app, zip_dir(scratch, &[])?)?;
        }
        Form::Expanded => {
            std::fs::write(app.join("storefront.war/hotfix.jsp"), b"hot\n")?;
        }
    }
    Ok(())
}

/// The same outside change made to the original sample: what a forced
/// rollback must give.
fn drifted_original(dir: &Path, form: Form) -> Result<String, Error> {
    let app = shop(dir, form)?;
    drift(&app, form, &dir.join("scratch"))?;
    digest(&app)
}

/// A small web module that a module update adds.
fn new_war() -> Vec<u8> {
    zip_of(&[
        (
            "WEB-INF/web.xml",
            b"<web-app xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"3.1\"/>\n",
        ),
        ("index.jsp", b"<html><body>new</body></html>\n"),
    ])
}

/// A second, hot-only update.
fn promo_zip() -> Vec<u8> {
    zip_of(&[("storefront.war/promo.html", b"<p>sale</p>\n")])
}

/// `META-INF/application.xml` of an application in either form.
fn descriptor(app: &Path, scratch: &Path) -> Result<Vec<u8>, Error> {
    if app.is_dir() {
        return Ok(std::fs::read(app.join("META-INF/application.xml"))?);
    }
    let _ = std::fs::remove_dir_all(scratch);
    write_expanded(&std::fs::read(app)?, scratch, &[])?;
    Ok(std::fs::read(scratch.join("META-INF/application.xml"))?)
}

/// Whether the process died of a signal (the fail point's abort, a kill).
fn killed(status: ExitStatus) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal().is_some()
    }
    #[cfg(not(unix))]
    {
        !status.success()
    }
}

/// The updates of the crash tests: the sample partial update, and a module
/// addition (new files, a descriptor edit, a `previous.ear` undo bundle).
fn crash_updates(dir: &Path) -> std::io::Result<Vec<Vec<String>>> {
    let war = dir.join("new.war");
    std::fs::write(&war, new_war())?;
    Ok(vec![
        vec![s(&fix_zip()).to_owned()],
        vec![
            s(&war).to_owned(),
            "--module".into(),
            "new.war".into(),
            "--context-root".into(),
            "/new".into(),
        ],
    ])
}

/// Which content an application holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    Old,
    New,
}

/// What is checked right after the crash, before anything settles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AtCrash {
    /// Exactly this content.
    Exactly(After),
    /// The old or the new content, never a mix.
    OldOrNew,
    /// Not checked (see the ignored half-committed test).
    Unchecked,
}

/// One fail point on the way of an in-place apply.
#[derive(Debug, Clone, Copy)]
struct Point {
    name: &'static str,
    at_crash: AtCrash,
    /// The content once `recover` ran.
    at_recover: After,
    /// The start of what `recover` prints, when it says what it did.
    recover_says: Option<&'static str>,
}

const fn point(
    name: &'static str,
    at_crash: AtCrash,
    at_recover: After,
    recover_says: Option<&'static str>,
) -> Point {
    Point {
        name,
        at_crash,
        at_recover,
        recover_says,
    }
}

const DISCARDED: &str = "an apply was interrupted before changing the application";
const ROLLED_BACK: &str = "an interrupted apply was rolled back";

/// The fail points an in-place apply of each form passes.
fn fail_points(form: Form) -> Vec<Point> {
    use After::{New, Old};
    use AtCrash::{Exactly, Unchecked};
    match form {
        Form::Archive => vec![
            point("after-record", Exactly(Old), Old, None),
            point("archive-before-rename", Exactly(Old), Old, Some(DISCARDED)),
            point("archive-after-rename", Exactly(New), New, None),
        ],
        Form::Expanded => vec![
            point("after-record", Exactly(Old), Old, None),
            point("expanded-staged", Exactly(Old), Old, Some(DISCARDED)),
            // The files on disk are mixed until the journal is settled: see
            // expanded_half_committed_crash_never_shows_a_mixed_application.
            point("expanded-half-committed", Unchecked, Old, Some(ROLLED_BACK)),
            point(
                "expanded-before-committed",
                Exactly(New),
                Old,
                Some(ROLLED_BACK),
            ),
        ],
    }
}

/// One crash at `p` and everything after it: the content right after the
/// abort, `recover`, the state it leaves, and a normal apply of the same
/// update.
fn crash_and_recover(form: Form, update: &[String], p: Point, old: &str, new: &str) -> TestResult {
    let point = p.name;
    let at_recover = p.at_recover;
    let dir = tempfile::tempdir()?;
    let app = shop(dir.path(), form)?;
    assert_eq!(digest(&app)?, old);
    let what = format!("{form:?} {update:?} at {point}");

    let mut args = vec!["apply".to_owned(), s(&app).to_owned()];
    args.extend(update.iter().cloned());
    let out = earpatch()
        .env("EARPATCH_FAILPOINT", point)
        .args(&args)
        .output()?;
    assert!(!out.status.success(), "{what}: the apply must abort");
    assert!(
        killed(out.status),
        "{what}: the fail point did not fire: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    // The record was written before anything else, and is still pending.
    let recs = records(&app)?;
    assert_eq!(statuses(&recs), ["applying"], "{what}: {recs:#?}");
    match point {
        "archive-before-rename" => assert_eq!(
            temporaries(parent(&app))?.len(),
            1,
            "{what}: the synced new archive is left beside the target"
        ),
        p if p.starts_with("expanded-") => assert!(
            state_dir(&app).join("journal").is_dir(),
            "{what}: the journal is left"
        ),
        _ => {}
    }
    let expected = |a: After| if a == After::Old { old } else { new };
    if p.at_crash != AtCrash::Unchecked {
        match digest(&app) {
            Ok(d) => {
                assert!(
                    d == old || d == new,
                    "{what}: after the crash the digest is {d}, neither old {old} nor new {new}"
                );
                if let AtCrash::Exactly(a) = p.at_crash {
                    assert_eq!(d, expected(a), "{what}: right after the crash");
                }
            }
            // While a journal is pending, reading commands refuse rather than
            // show a half-applied application.
            Err(e) if state_dir(&app).join("journal").is_dir() => {
                assert!(
                    e.to_string().contains("run `earpatch recover"),
                    "{what}: {e}"
                );
            }
            Err(e) => return Err(e),
        }
    }

    let (code, stdout, err) = run(&["recover", s(&app)]);
    assert_eq!(code, 0, "{what}: recover: {err}");
    if let Some(says) = p.recover_says {
        assert!(stdout.starts_with(says), "{what}: {stdout}");
    }
    let d = digest(&app)?;
    assert!(
        d == old || d == new,
        "{what}: after recover the digest is {d}, neither old nor new"
    );
    assert_eq!(d, expected(at_recover), "{what}: after recover: {stdout}");
    assert!(
        !state_dir(&app).join("journal").exists(),
        "{what}: no journal after recover"
    );
    assert_eq!(
        temporaries(parent(&app))?,
        Vec::<String>::new(),
        "{what}: no temporary archive after recover"
    );
    let recs = records(&app)?;
    let settled = if at_recover == After::New {
        "applied"
    } else {
        "failed"
    };
    assert_eq!(statuses(&recs), [settled], "{what}: {recs:#?}");

    // Recovering twice is harmless.
    let (code, stdout, err) = run(&["recover", s(&app)]);
    assert_eq!(code, 0, "{what}: second recover: {err}");
    assert!(stdout.starts_with("nothing to recover"), "{what}: {stdout}");
    assert_eq!(digest(&app)?, expected(at_recover));

    // A normal apply of the same update then gives the new content. When
    // the module addition is already in place, the module exists and
    // --context-root is refused (spec §9.4), so it is left out then.
    let reapply: Vec<&str> = if at_recover == After::New {
        let mut v: Vec<&str> = Vec::new();
        let mut it = args.iter().map(String::as_str);
        while let Some(a) = it.next() {
            if a == "--context-root" {
                it.next();
            } else {
                v.push(a);
            }
        }
        v
    } else {
        args.iter().map(String::as_str).collect()
    };
    let out = ok(&reapply);
    if at_recover == After::New {
        assert!(out.contains("already up to date"), "{what}: {out}");
    }
    assert_eq!(digest(&app)?, new, "{what}: re-apply: {out}");
    let recs = records(&app)?;
    assert!(!statuses(&recs).contains(&"applying"), "{what}: {recs:#?}");
    assert_eq!(
        statuses(&recs).last(),
        Some(&"applied"),
        "{what}: {recs:#?}"
    );
    assert_eq!(
        recs.len(),
        if at_recover == After::New { 1 } else { 2 },
        "{what}: {recs:#?}"
    );
    Ok(())
}

/// Old and new digests of an update on a fresh copy of the sample.
fn old_and_new(form: Form, update: &[String]) -> Result<(String, String), Error> {
    let dir = tempfile::tempdir()?;
    let app = shop(dir.path(), form)?;
    let old = digest(&app)?;
    let mut args = vec!["apply", s(&app)];
    args.extend(update.iter().map(String::as_str));
    ok(&args);
    let new = digest(&app)?;
    assert_ne!(old, new, "{form:?} {update:?} changes something");
    Ok((old, new))
}

fn crash_safety(form: Form) -> TestResult {
    let updates_dir = tempfile::tempdir()?;
    for update in crash_updates(updates_dir.path())? {
        let (old, new) = old_and_new(form, &update)?;
        for p in fail_points(form) {
            crash_and_recover(form, &update, p, &old, &new)?;
        }
    }
    Ok(())
}

#[test]
fn crash_at_every_fail_point_of_an_archive_leaves_old_or_new() -> TestResult {
    crash_safety(Form::Archive)
}

#[test]
fn crash_at_every_fail_point_of_an_expanded_application_is_rolled_back() -> TestResult {
    crash_safety(Form::Expanded)
}

#[test]
fn expanded_half_committed_crash_never_shows_a_mixed_application() -> TestResult {
    let updates_dir = tempfile::tempdir()?;
    for update in crash_updates(updates_dir.path())? {
        let (old, new) = old_and_new(Form::Expanded, &update)?;
        let p = point(
            "expanded-half-committed",
            AtCrash::OldOrNew,
            After::Old,
            Some(ROLLED_BACK),
        );
        crash_and_recover(Form::Expanded, &update, p, &old, &new)?;
    }
    Ok(())
}

#[test]
fn the_next_apply_settles_an_interrupted_one_by_itself() -> TestResult {
    for (form, point) in [
        (Form::Archive, "archive-before-rename"),
        (Form::Expanded, "expanded-half-committed"),
    ] {
        let dir = tempfile::tempdir()?;
        let app = shop(dir.path(), form)?;
        let old = digest(&app)?;
        let out = earpatch()
            .env("EARPATCH_FAILPOINT", point)
            .args(["apply", s(&app), s(&fix_zip())])
            .output()?;
        assert!(killed(out.status), "{form:?}: {:?}", out.status);
        let (code, stdout, err) = run(&["apply", s(&app), s(&fix_zip())]);
        assert_eq!(code, 0, "{form:?}: {err}");
        assert!(
            stdout.contains("an interrupted earlier apply was settled first"),
            "{form:?}: {stdout}"
        );
        let new = digest(&app)?;
        assert_ne!(new, old);
        assert_eq!(statuses(&records(&app)?), ["failed", "applied"]);
        assert!(!state_dir(&app).join("journal").exists());
        assert_eq!(temporaries(parent(&app))?, Vec::<String>::new());
        // The failed record is not undoable: one rollback gets back to the start.
        ok(&["rollback", s(&app)]);
        assert_eq!(digest(&app)?, old, "{form:?}");
    }
    Ok(())
}

const BIG_MODULES: [&str; 1] = ["big.war"];

fn page(i: usize, revision: u32) -> String {
    format!("<html><body>page {i} revision {revision}</body></html>\n").repeat(16)
}

/// An application with one web module of 2000 files.
fn big_ear() -> Vec<u8> {
    let mut war = ZipBuilder::new().file(
        "WEB-INF/web.xml",
        "<web-app xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"3.1\"/>\n",
    );
    for i in 0..2000 {
        war = war.file(&format!("pages/d{:02}/p{i:04}.html", i % 20), page(i, 1));
    }
    ZipBuilder::new()
        .file(
            "META-INF/application.xml",
            "<application xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"7\">\n  \
             <module><web><web-uri>big.war</web-uri><context-root>/big</context-root></web></module>\n\
             </application>\n",
        )
        .file("big.war", war.finish())
        .file("config/app.properties", "a=1\n")
        .finish()
}

/// Replaces 400 files of `big.war`, adds 100, deletes 100.
fn big_update() -> Vec<u8> {
    let mut zip = ZipBuilder::new();
    for i in (0..2000).step_by(5) {
        zip = zip.file(
            &format!("big.war/pages/d{:02}/p{i:04}.html", i % 20),
            page(i, 2),
        );
    }
    for i in 0..100 {
        zip = zip.file(&format!("big.war/pages/new/n{i:03}.html"), page(i, 3));
    }
    zip.file(
        "big.war/META-INF/ibm-partialapp-delete.props",
        "pages/d01/.*\\.html\n",
    )
    .finish()
}

/// When the SIGKILL test kills `earpatch apply`.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// This long after the start.
    After(Duration),
    /// As soon as its history record exists.
    OnRecord,
    /// This long after its journal reaches this state.
    OnJournal(&'static str, Duration),
}

fn has_record(state: &Path) -> bool {
    std::fs::read_dir(state.join("history")).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().join("record.json").is_file())
    })
}

/// The state of the expanded-apply journal in `state`, if any.
fn journal_state(state: &Path) -> Option<String> {
    let bytes = std::fs::read(state.join("journal/journal.json")).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v["state"].as_str().map(str::to_owned)
}

#[test]
fn sigkill_during_a_big_expanded_apply_is_recovered() -> TestResult {
    let dir = tempfile::tempdir()?;
    let update = dir.path().join("big-update.zip");
    std::fs::write(&update, big_update())?;
    let ear = big_ear();
    let reference = dir.path().join("reference");
    write_expanded(&ear, &reference, &BIG_MODULES)?;
    let old = digest(&reference)?;
    let started = Instant::now();
    ok(&["apply", s(&reference), s(&update)]);
    println!("a whole apply takes {:?}", started.elapsed());
    let new = digest(&reference)?;
    assert_ne!(old, new);

    // A few fixed delays, then kills timed on the apply's own progress, so
    // that some land while files are staged and while they are moved.
    let mut kills: Vec<Kill> = [0, 5, 20, 50]
        .into_iter()
        .map(|ms| Kill::After(Duration::from_millis(ms)))
        .collect();
    kills.extend([
        Kill::OnRecord,
        Kill::OnJournal("staging", Duration::ZERO),
        Kill::OnJournal("staging", Duration::from_millis(20)),
        Kill::OnJournal("committing", Duration::ZERO),
        Kill::OnJournal("committing", Duration::from_millis(2)),
    ]);
    let mut mixed = Vec::new();
    for (n, kill) in kills.into_iter().enumerate() {
        let app = dir.path().join(format!("big{n}"));
        write_expanded(&ear, &app, &BIG_MODULES)?;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_earpatch"))
            .args(["apply", s(&app), s(&update)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let state = state_dir(&app);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if child.try_wait()?.is_some() || Instant::now() > deadline {
                break;
            }
            let (due, wait) = match kill {
                Kill::After(d) => (true, d),
                Kill::OnRecord => (has_record(&state), Duration::ZERO),
                Kill::OnJournal(phase, d) => (journal_state(&state).as_deref() == Some(phase), d),
            };
            if due {
                std::thread::sleep(wait);
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let _ = child.kill();
        let status = child.wait()?;
        println!(
            "{kill:?}: {status:?}, records {:?}, journal {:?}",
            statuses(&records(&app)?),
            journal_state(&state)
        );

        let pending = state_dir(&app).join("journal/journal.json").is_file();
        match digest(&app) {
            Ok(crashed) => assert!(
                crashed == old || crashed == new,
                "{kill:?}: readable but neither old nor new: {crashed}"
            ),
            // While a journal is pending, reading commands refuse rather than
            // show what may be a half-applied application.
            Err(e) if pending => {
                assert!(
                    e.to_string().contains("run `earpatch recover"),
                    "{kill:?}: {e}"
                );
                mixed.push(kill);
            }
            Err(e) => return Err(e),
        }
        let (code, stdout, err) = run(&["recover", s(&app)]);
        assert_eq!(code, 0, "{kill:?}: recover: {err}");
        let recovered = digest(&app)?;
        assert!(
            recovered == old || recovered == new,
            "{kill:?}: after recover the digest is {recovered}: {stdout}"
        );
        if status.success() {
            assert_eq!(recovered, new, "the apply had finished");
        }
        assert!(!state_dir(&app).join("journal").exists());
        let recs = records(&app)?;
        assert!(
            !statuses(&recs).contains(&"applying"),
            "{kill:?}: {recs:#?}"
        );
        for r in &recs {
            let expected = if recovered == new {
                "applied"
            } else {
                "failed"
            };
            assert_eq!(r["status"], expected, "{kill:?}: {r:#}");
        }
        if recs.is_empty() {
            assert_eq!(recovered, old, "{kill:?}: killed before the record");
        }
        // Applying again after a kill in the middle of the moves finishes the job.
        if matches!(kill, Kill::OnJournal("committing", _)) {
            ok(&["apply", s(&app), s(&update)]);
            assert_eq!(digest(&app)?, new, "{kill:?}: re-apply");
        }
    }
    if !mixed.is_empty() {
        println!("mixed content seen before recover after {mixed:?}");
    }
    Ok(())
}

/// A tiny deterministic generator (xorshift64*), so that a failing moment
/// can be replayed from the printed seed.
struct Moments(u64);

impl Moments {
    fn next_below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound.max(1)
    }
}

#[test]
fn sigkill_at_100_random_moments_leaves_old_or_new_on_both_forms() -> TestResult {
    let dir = tempfile::tempdir()?;
    let update = dir.path().join("big-update.zip");
    std::fs::write(&update, big_update())?;
    let ear = big_ear();
    let seed = 0x5eed_u64 ^ u64::from(std::process::id());
    println!("seed {seed:#x}");
    let mut moments = Moments(seed | 1);
    for form in FORMS {
        // The whole apply's duration on this form bounds the moments.
        let make = |n: usize| -> Result<PathBuf, Error> {
            let app = match form {
                Form::Archive => {
                    let app = dir.path().join(format!("{form:?}{n}.ear"));
                    std::fs::write(&app, &ear)?;
                    app
                }
                Form::Expanded => {
                    let app = dir.path().join(format!("{form:?}{n}"));
                    write_expanded(&ear, &app, &BIG_MODULES)?;
                    app
                }
            };
            Ok(app)
        };
        let reference = make(usize::MAX)?;
        let old = digest(&reference)?;
        let started = Instant::now();
        ok(&["apply", s(&reference), s(&update)]);
        let whole = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let new = digest(&reference)?;
        let (mut saw_old, mut saw_new) = (0, 0);
        for n in 0..100 {
            let app = make(n)?;
            let at = Duration::from_micros(moments.next_below(whole + whole / 4));
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_earpatch"))
                .args(["apply", s(&app), s(&update)])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            std::thread::sleep(at);
            let _ = child.kill();
            let status = child.wait()?;
            // The next command settles whatever the kill left.
            let (code, _, err) = run(&["recover", s(&app)]);
            assert_eq!(code, 0, "{form:?} killed at {at:?}: recover: {err}");
            let now = digest(&app)?;
            assert!(
                now == old || now == new,
                "{form:?} killed at {at:?} ({status:?}): neither old nor new"
            );
            if status.success() {
                assert_eq!(now, new, "{form:?}: the apply had finished");
            }
            // `inspect` read through the content index; `verify` reads every
            // file: the index the kill left behind told the truth.
            let (_, out, err) = run(&["verify", s(&app), "--format", "json"]);
            let report: Value = serde_json::from_str(&out).map_err(|e| format!("{e}: {err}"))?;
            assert_eq!(
                report["digest"].as_str(),
                Some(now.as_str()),
                "{form:?} at {at:?}"
            );
            if now == old {
                saw_old += 1;
            } else {
                saw_new += 1;
            }
            assert!(!statuses(&records(&app)?).contains(&"applying"));
            assert!(!state_dir(&app).join("journal").exists());
            assert_eq!(
                temporaries(parent(&app))?,
                Vec::<String>::new(),
                "{form:?} at {at:?}"
            );
            match form {
                Form::Archive => std::fs::remove_file(&app)?,
                Form::Expanded => std::fs::remove_dir_all(&app)?,
            }
            std::fs::remove_dir_all(state_dir(&app))?;
        }
        println!("{form:?}: whole apply {whole} µs; after 100 kills: {saw_old} old, {saw_new} new");
    }
    Ok(())
}

#[test]
fn output_leaves_the_application_untouched() -> TestResult {
    for form in FORMS {
        // The in-place result, for comparison.
        let reference = tempfile::tempdir()?;
        let in_place = shop(reference.path(), form)?;
        ok(&["apply", s(&in_place), s(&fix_zip())]);
        let expected = digest(&in_place)?;

        let dir = tempfile::tempdir()?;
        let app = shop(dir.path(), form)?;
        let old = digest(&app)?;
        let before = snapshot(&app)?;
        let out = dir.path().join(match form {
            Form::Archive => "out.ear",
            Form::Expanded => "out",
        });
        let stdout = ok(&["apply", s(&app), s(&fix_zip()), "-o", s(&out)]);
        assert!(
            stdout.contains(&format!("\nwrote {}", out.display())),
            "{form:?}: {stdout}"
        );
        assert!(
            !stdout.contains("applied as"),
            "no history record: {stdout}"
        );
        assert_eq!(snapshot(&app)?, before, "{form:?}: APP untouched");
        assert_eq!(digest(&app)?, old);
        assert_eq!(
            digest(&out)?,
            expected,
            "{form:?}: OUT is the update applied"
        );
        assert_eq!(inspect(&out)?["application"]["form"], inspect_form(form));
        // No history, no state, no temporaries.
        let app_name = app
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let out_name = out
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let mut want = vec![app_name, out_name];
        want.sort();
        assert_eq!(names(dir.path())?, want, "{form:?}");
        assert!(!state_dir(&app).exists());

        if form == Form::Archive {
            check_with_unzip_and_jar(&out)?;
        }

        // With nothing to change, OUT is still written.
        let same = dir.path().join("same.zip");
        std::fs::write(
            &same,
            zip_of(&[(
                "legal/NOTICE.txt",
                b"Shop sample, made by earpatch's generator.\n",
            )]),
        )?;
        let out2 = dir.path().join(match form {
            Form::Archive => "same.ear",
            Form::Expanded => "same",
        });
        let stdout = ok(&["apply", s(&app), s(&same), "-o", s(&out2)]);
        assert!(
            stdout.contains("nothing changes; wrote"),
            "{form:?}: {stdout}"
        );
        assert!(
            out2.exists(),
            "{form:?}: OUT written even when nothing changes"
        );
        assert_eq!(digest(&out2)?, old);
        assert_eq!(snapshot(&app)?, before, "{form:?}: APP untouched");
        assert!(!state_dir(&app).exists());
        assert_eq!(temporaries(dir.path())?, Vec::<String>::new());
    }
    Ok(())
}

fn check_with_unzip_and_jar(ear: &Path) -> TestResult {
    match std::process::Command::new("unzip")
        .arg("-t")
        .arg(ear)
        .output()
    {
        Ok(o) => assert!(
            o.status.success(),
            "unzip -t {}: {}{}",
            ear.display(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(_) => println!("notice: no `unzip` binary, skipped unzip -t"),
    }
    match std::process::Command::new("jar")
        .arg("tf")
        .arg(ear)
        .output()
    {
        Ok(o) => {
            let listing = String::from_utf8_lossy(&o.stdout);
            assert!(
                o.status.success() && o.stderr.is_empty(),
                "jar tf {}: {}",
                ear.display(),
                String::from_utf8_lossy(&o.stderr)
            );
            for name in ["META-INF/application.xml", "storefront.war", "lib/util.jar"] {
                assert!(listing.lines().any(|l| l == name), "{name} in {listing}");
            }
            assert!(!listing.lines().any(|l| l == "a.dat"), "{listing}");
        }
        Err(_) => println!("notice: no `jar` binary, skipped jar tf"),
    }
    Ok(())
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() -> TestResult {
    for form in FORMS {
        let dir = tempfile::tempdir()?;
        let app = shop(dir.path(), form)?;
        let before = snapshot(&app)?;
        let stdout = ok(&["apply", s(&app), s(&fix_zip()), "--dry-run"]);
        assert!(
            stdout.starts_with("restart the application (P2 ×5, P4 ×1)"),
            "{form:?}: {stdout}"
        );
        assert!(stdout.contains("dry run: nothing was written"), "{stdout}");
        assert!(
            stdout.contains("lib/util.jar"),
            "the changes are listed: {stdout}"
        );
        let json: Value = serde_json::from_str(&ok(&[
            "apply",
            s(&app),
            s(&fix_zip()),
            "--dry-run",
            "--format",
            "json",
        ]))?;
        // Spec §8: `apply --dry-run` prints the plan object itself.
        assert_eq!(json["schema"], "earpatch.plan/v1");
        assert_eq!(json.get("outcome"), None);
        assert_eq!(json.get("record"), None);
        assert_eq!(json["impact"]["effect"], "restart-application");
        assert_eq!(json["application"]["digest"], digest(&app)?);
        assert!(
            json["changes"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["op"] == "delete")),
            "{json:#}"
        );
        // With -o too: OUT is not written.
        let out = dir.path().join("out.ear");
        ok(&["apply", s(&app), s(&fix_zip()), "--dry-run", "-o", s(&out)]);
        assert!(!out.exists());
        assert_eq!(snapshot(&app)?, before, "{form:?}: nothing written");
        assert_eq!(temporaries(dir.path())?, Vec::<String>::new());
    }
    Ok(())
}

#[test]
fn dry_run_creates_no_state_dir() -> TestResult {
    for form in FORMS {
        let dir = tempfile::tempdir()?;
        let app = shop(dir.path(), form)?;
        ok(&["apply", s(&app), s(&fix_zip()), "--dry-run"]);
        assert!(
            !state_dir(&app).exists(),
            "{form:?}: {} exists after a dry run: {:?}",
            state_dir(&app).display(),
            names(&state_dir(&app))
        );
    }
    Ok(())
}

#[test]
fn applying_twice_is_up_to_date_the_second_time() -> TestResult {
    for form in FORMS {
        let dir = tempfile::tempdir()?;
        let app = shop(dir.path(), form)?;
        let stdout = ok(&["apply", s(&app), s(&fix_zip())]);
        assert!(stdout.contains("applied as "), "{stdout}");
        let after = digest(&app)?;
        let before = snapshot(&app)?;
        let (code, stdout, err) = run(&["apply", s(&app), s(&fix_zip())]);
        assert_eq!(code, 0, "{err}");
        assert!(
            stdout.contains("already up to date: nothing was written, no history record"),
            "{form:?}: {stdout}"
        );
        assert_eq!(digest(&app)?, after);
        assert_eq!(snapshot(&app)?, before, "{form:?}: nothing rewritten");
        let json: Value =
            serde_json::from_str(&ok(&["apply", s(&app), s(&fix_zip()), "--format", "json"]))?;
        assert_eq!(json["outcome"], "up-to-date");
        assert_eq!(json["plan"]["impact"]["effect"], "none");
        assert_eq!(json["record"], Value::Null);
        assert!(
            json["plan"]["changes"]
                .as_array()
                .is_some_and(|c| c.iter().all(|c| c["op"] == "unchanged")),
            "{json:#}"
        );
        let recs = records(&app)?;
        assert_eq!(statuses(&recs), ["applied"], "{form:?}: one record");
        assert_eq!(recs[0]["digest_after"], after);
    }
    Ok(())
}

#[test]
fn expect_digest_guards_the_apply() -> TestResult {
    for form in FORMS {
        let dir = tempfile::tempdir()?;
        let app = shop(dir.path(), form)?;
        let old = digest(&app)?;
        let before = snapshot(&app)?;
        for malformed in ["sha256:1234", "md5:abc", "not-a-digest"] {
            let (code, out, err) = run(&[
                "apply",
                s(&app),
                s(&fix_zip()),
                "--expect-digest",
                malformed,
            ]);
            assert_eq!(code, 1, "{malformed}: {out}");
            assert!(
                err.starts_with("error: --expect-digest:")
                    && err.contains("is not a digest: expected sha256: followed by 64 hex digits"),
                "{malformed}: {err}"
            );
        }
        assert_eq!(snapshot(&app)?, before);
        assert!(!state_dir(&app).exists(), "a bad flag writes no state");

        let wrong = format!("sha256:{}", "0".repeat(64));
        assert_ne!(wrong, old);
        let (code, out, err) = run(&["apply", s(&app), s(&fix_zip()), "--expect-digest", &wrong]);
        assert_eq!(code, 1, "{form:?}: {out}");
        assert!(err.contains(&wrong) && err.contains(&old), "{err}");
        assert!(err.contains("does not match"), "{err}");
        assert_eq!(snapshot(&app)?, before, "{form:?}: byte-identical");
        assert!(records(&app)?.is_empty(), "{form:?}: no record");
        // With -o too: OUT is not written.
        let out = dir.path().join("out.ear");
        let (code, _, err) = run(&[
            "apply",
            s(&app),
            s(&fix_zip()),
            "-o",
            s(&out),
            "--expect-digest",
            &wrong,
        ]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("does not match"), "{err}");
        assert!(!out.exists());
        assert_eq!(temporaries(dir.path())?, Vec::<String>::new());
        // The right digest, even as bare hex, lets -o write.
        let bare = old.trim_start_matches("sha256:").to_owned();
        ok(&[
            "apply",
            s(&app),
            s(&fix_zip()),
            "-o",
            s(&out),
            "--expect-digest",
            &bare,
        ]);
        assert!(out.exists());
        assert_eq!(snapshot(&app)?, before, "{form:?}: -o leaves APP alone");

        ok(&["apply", s(&app), s(&fix_zip()), "--expect-digest", &old]);
        let new = digest(&app)?;
        assert_eq!(digest(&out)?, new);
        assert_ne!(new, old);
        assert_eq!(statuses(&records(&app)?), ["applied"]);
        // A node that has moved on refuses an update meant for the old content.
        let promo = dir.path().join("promo.zip");
        std::fs::write(&promo, promo_zip())?;
        let (code, _, err) = run(&["apply", s(&app), s(&promo), "--expect-digest", &old]);
        assert_eq!(code, 1);
        assert!(err.contains("does not match"), "{err}");
        assert_eq!(digest(&app)?, new);
    }
    Ok(())
}

#[test]
fn a_held_lock_refuses_at_once() -> TestResult {
    for form in FORMS {
        let dir = tempfile::tempdir()?;
        let app = shop(dir.path(), form)?;
        let state = state_dir(&app);
        std::fs::create_dir_all(&state)?;
        let mut lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(state.join("lock"))?;
        lock.try_lock()
            .map_err(|e| format!("cannot take the lock: {e:?}"))?;
        lock.set_len(0)?;
        write!(lock, "{}", std::process::id())?;
        lock.flush()?;
        let before = snapshot(&app)?;
        let needle = format!("another earpatch (pid {})", std::process::id());

        let started = Instant::now();
        let (code, out, err) = run(&["apply", s(&app), s(&fix_zip())]);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "refused at once, not after waiting"
        );
        assert_eq!(code, 1, "{form:?}: {out}");
        assert!(err.contains(&needle), "{form:?}: {err}");
        assert!(err.contains("wait for it to finish"), "{err}");
        for args in [vec!["rollback", s(&app)], vec!["recover", s(&app)]] {
            let (code, _, err) = run(&args);
            assert_eq!(code, 1, "{args:?}");
            assert!(err.contains(&needle), "{args:?}: {err}");
        }
        assert_eq!(snapshot(&app)?, before, "{form:?}: untouched");
        assert!(records(&app)?.is_empty());

        // Released: the apply goes through.
        drop(lock);
        ok(&["apply", s(&app), s(&fix_zip())]);
        assert_eq!(statuses(&records(&app)?), ["applied"]);
    }
    Ok(())
}

#[test]
fn rollback_restores_the_original_and_records_it() -> TestResult {
    for form in FORMS {
        let dir = tempfile::tempdir()?;
        let app = shop(dir.path(), form)?;
        let old = digest(&app)?;
        ok(&["apply", s(&app), s(&fix_zip())]);
        let new = digest(&app)?;
        let recs = records(&app)?;
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0]["kind"], "partial");
        assert_eq!(recs[0]["digest_before"], old);
        assert_eq!(recs[0]["digest_after"], new);
        let id = recs[0]["id"].as_str().ok_or("id")?.to_owned();
        assert!(id.ends_with("_shop-fix"), "{id}");
        assert!(
            state_dir(&app)
                .join("history")
                .join(&id)
                .join("undo.zip")
                .is_file(),
            "the undo bundle is kept"
        );

        let stdout = ok(&["rollback", s(&app)]);
        assert!(stdout.contains("rolled back as "), "{form:?}: {stdout}");
        assert!(
            stdout.contains(&format!("as it was before {id}")),
            "{stdout}"
        );
        assert_eq!(digest(&app)?, old, "{form:?}: back to the original");

        let recs = records(&app)?;
        assert_eq!(statuses(&recs), ["rolled-back", "applied"], "{recs:#?}");
        assert_eq!(recs[0]["rolls_back"], Value::Null);
        assert_eq!(recs[1]["rolls_back"], id.as_str());
        assert_eq!(recs[1]["digest_before"], new);
        assert_eq!(recs[1]["digest_after"], old);

        // The rollback itself is not undoable.
        let (code, _, err) = run(&["rollback", s(&app)]);
        assert_eq!(code, 1, "{form:?}");
        assert!(err.contains("nothing to roll back"), "{err}");
        assert_eq!(digest(&app)?, old);
        assert_eq!(records(&app)?.len(), 2);
        let (code, _, err) = run(&["rollback", s(&app), "--to", "20000101_000000_nope"]);
        assert_eq!(code, 1);
        assert!(err.contains("no such update"), "{err}");
    }
    Ok(())
}

#[test]
fn rollback_goes_newest_first_and_to_stops_at_an_id() -> TestResult {
    for form in FORMS {
        let dir = tempfile::tempdir()?;
        let promo = dir.path().join("promo.zip");
        std::fs::write(&promo, promo_zip())?;

        // --to ID rolls back only what came after ID.
        let app = shop(dir.path(), form)?;
        let old = digest(&app)?;
        ok(&["apply", s(&app), s(&fix_zip())]);
        let d1 = digest(&app)?;
        ok(&["apply", s(&app), s(&promo)]);
        let d2 = digest(&app)?;
        assert_ne!(d1, d2);
        let recs = records(&app)?;
        let (id1, id2) = (
            recs[0]["id"].as_str().ok_or("id")?.to_owned(),
            recs[1]["id"].as_str().ok_or("id")?.to_owned(),
        );
        let (code, _, err) = run(&["rollback", s(&app), "--to", &id2]);
        assert_eq!(code, 1, "nothing after the newest");
        assert!(err.contains("nothing to roll back"), "{err}");
        ok(&["rollback", s(&app), "--to", &id1]);
        assert_eq!(digest(&app)?, d1, "{form:?}: only the second is undone");
        let recs = records(&app)?;
        assert_eq!(statuses(&recs), ["applied", "rolled-back", "applied"]);
        assert_eq!(recs[2]["rolls_back"], id2.as_str());
        ok(&["rollback", s(&app)]);
        assert_eq!(digest(&app)?, old);
        assert_eq!(
            statuses(&records(&app)?),
            ["rolled-back", "rolled-back", "applied", "applied"]
        );

        // Without --to, twice: newest first, then the older one.
        let dir2 = tempfile::tempdir()?;
        let app = shop(dir2.path(), form)?;
        ok(&["apply", s(&app), s(&fix_zip())]);
        ok(&["apply", s(&app), s(&promo)]);
        assert_eq!(digest(&app)?, d2);
        assert!(app_has(&app, "storefront.war/promo.html")?, "{form:?}");
        ok(&["rollback", s(&app)]);
        assert_eq!(digest(&app)?, d1, "{form:?}: the newest first");
        assert!(
            !app_has(&app, "storefront.war/promo.html")?,
            "{form:?}: promo.html is gone"
        );
        ok(&["rollback", s(&app)]);
        assert_eq!(digest(&app)?, old, "{form:?}: then the older one");
        let (code, _, err) = run(&["rollback", s(&app)]);
        assert_eq!(code, 1);
        assert!(err.contains("nothing to roll back"), "{err}");

        // --to the first of two, in one go with a third update.
        let dir3 = tempfile::tempdir()?;
        let app = shop(dir3.path(), form)?;
        ok(&["apply", s(&app), s(&fix_zip())]);
        let first = records(&app)?[0]["id"].as_str().ok_or("id")?.to_owned();
        ok(&["apply", s(&app), s(&promo)]);
        let war = dir3.path().join("new.war");
        std::fs::write(&war, new_war())?;
        ok(&["apply", s(&app), s(&war)]);
        let stdout = ok(&["rollback", s(&app), "--to", &first]);
        assert_eq!(stdout.matches("rolled back as ").count(), 2, "{stdout}");
        assert_eq!(digest(&app)?, d1, "{form:?}: both later updates undone");
    }
    Ok(())
}

/// Whether the application holds `path` (a full path), in either form.
fn app_has(app: &Path, path: &str) -> Result<bool, Error> {
    if app.is_dir() {
        return Ok(app.join(path).is_file());
    }
    let dir = tempfile::tempdir()?;
    write_expanded(&std::fs::read(app)?, dir.path(), &sample::SHOP_MODULES)?;
    Ok(dir.path().join(path).is_file())
}

#[test]
fn rollback_refuses_drift_unless_forced() -> TestResult {
    for form in FORMS {
        let dir = tempfile::tempdir()?;
        let app = shop(dir.path(), form)?;
        ok(&["apply", s(&app), s(&fix_zip())]);
        let new = digest(&app)?;
        drift(&app, form, &dir.path().join("scratch"))?;
        let drifted = digest(&app)?;
        assert_ne!(drifted, new);
        let before = snapshot(&app)?;

        let (code, out, err) = run(&["rollback", s(&app)]);
        assert_eq!(code, 1, "{form:?}: {out}");
        assert!(err.contains("changed outside earpatch"), "{err}");
        assert!(err.contains(&drifted) && err.contains(&new), "{err}");
        assert!(err.contains("--force"), "{err}");
        assert_eq!(
            snapshot(&app)?,
            before,
            "{form:?}: a refused rollback writes nothing"
        );
        assert_eq!(statuses(&records(&app)?), ["applied"]);

        ok(&["rollback", s(&app), "--force"]);
        // The update is undone; the outside change stays.
        let other = tempfile::tempdir()?;
        assert_eq!(
            digest(&app)?,
            drifted_original(other.path(), form)?,
            "{form:?}: forced rollback = original + the outside change"
        );
        assert_eq!(statuses(&records(&app)?), ["rolled-back", "applied"]);
    }
    Ok(())
}

#[test]
fn module_added_in_place_is_registered_and_rolled_back() -> TestResult {
    for form in FORMS {
        let dir = tempfile::tempdir()?;
        let app = shop(dir.path(), form)?;
        let scratch = dir.path().join("scratch");
        let war = dir.path().join("new.war");
        std::fs::write(&war, new_war())?;
        let old = digest(&app)?;
        let original_xml = descriptor(&app, &scratch)?;

        let stdout = ok(&[
            "apply",
            s(&app),
            s(&war),
            "--module",
            "new.war",
            "--context-root",
            "/new",
        ]);
        assert!(stdout.contains("applied as "), "{stdout}");
        let v = inspect(&app)?;
        let modules = v["modules"].as_array().ok_or("modules")?;
        assert_eq!(modules.len(), 5, "{v:#}");
        let m = modules
            .iter()
            .find(|m| m["uri"] == "new.war")
            .ok_or_else(|| format!("{form:?}: no new.war in {v:#}"))?;
        assert_eq!(m["kind"], "web");
        assert_eq!(m["context_root"], "/new");
        assert_eq!(m["declared"], true, "registered in the descriptor");
        assert_eq!(m["files"], 2);
        for uri in sample::SHOP_MODULES {
            assert!(
                modules
                    .iter()
                    .any(|m| m["uri"] == uri && m["declared"] == true)
            );
        }

        // The descriptor: the original bytes with one element inserted.
        let xml = descriptor(&app, &scratch)?;
        assert!(xml.len() > original_xml.len());
        let p = original_xml
            .iter()
            .zip(&xml)
            .take_while(|(a, b)| a == b)
            .count();
        let inserted = xml.len() - original_xml.len();
        assert_eq!(
            xml[p + inserted..],
            original_xml[p..],
            "{form:?}: only an insertion:\n{}",
            String::from_utf8_lossy(&xml)
        );
        let text = String::from_utf8(xml.clone())?;
        assert!(text.contains("<web-uri>new.war</web-uri>"), "{text}");
        assert!(text.contains("<context-root>/new</context-root>"), "{text}");
        assert_eq!(text.matches("<module>").count(), 5, "{text}");
        assert!(
            text.find("new.war") < text.find("<library-directory>"),
            "the module goes before the library directory: {text}"
        );

        let recs = records(&app)?;
        assert_eq!(recs[0]["kind"], "module");
        assert_eq!(recs[0]["impact"]["effect"], "start-module");

        ok(&["rollback", s(&app)]);
        assert_eq!(digest(&app)?, old, "{form:?}: rollback restores");
        assert_eq!(descriptor(&app, &scratch)?, original_xml);
        assert_eq!(inspect(&app)?["modules"].as_array().map(Vec::len), Some(4));
        if form == Form::Expanded {
            assert!(
                !app.join("new.war").exists(),
                "the module folder is removed"
            );
        }
    }
    Ok(())
}

/// The sample with changes everywhere: an application-scope file replaced,
/// one deleted, one added, and a web module's page changed and one added.
fn other_ear(scratch: &Path) -> Result<Vec<u8>, Error> {
    write_expanded(&sample::shop_ear(), scratch, &["storefront.war"])?;
    std::fs::write(scratch.join("legal/NOTICE.txt"), "Shop, version 2.\n")?;
    std::fs::remove_file(scratch.join("a.dat"))?;
    std::fs::write(scratch.join("config/new.properties"), "feature=on\n")?;
    std::fs::write(
        scratch.join("storefront.war/index.jsp"),
        "<html><body>Welcome to the new shop</body></html>\n",
    )?;
    std::fs::write(scratch.join("storefront.war/promo.html"), "<p>sale</p>\n")?;
    Ok(zip_dir(scratch, &["storefront.war"])?)
}

#[test]
fn full_update_in_place_and_rolled_back() -> TestResult {
    for form in FORMS {
        let dir = tempfile::tempdir()?;
        let app = shop(dir.path(), form)?;
        let other = dir.path().join("other.ear");
        std::fs::write(&other, other_ear(&dir.path().join("scratch"))?)?;
        let target = digest(&other)?;
        let old = digest(&app)?;
        assert_ne!(target, old);

        ok(&["apply", s(&app), s(&other), "--full"]);
        assert_eq!(
            digest(&app)?,
            target,
            "{form:?}: the application is other.ear"
        );
        let recs = records(&app)?;
        assert_eq!(recs[0]["kind"], "full");
        assert_eq!(recs[0]["impact"]["effect"], "restart-application");
        assert_eq!(recs[0]["undo"], "previous.ear");
        assert_eq!(inspect(&app)?["application"]["form"], inspect_form(form));

        // Again: up to date.
        let stdout = ok(&["apply", s(&app), s(&other), "--full"]);
        assert!(stdout.contains("already up to date"), "{stdout}");

        ok(&["rollback", s(&app)]);
        assert_eq!(digest(&app)?, old, "{form:?}: rollback restores");
        assert_eq!(statuses(&records(&app)?), ["rolled-back", "applied"]);
    }
    Ok(())
}

fn inspect_form(form: Form) -> &'static str {
    match form {
        Form::Archive => "archive",
        Form::Expanded => "expanded",
    }
}
