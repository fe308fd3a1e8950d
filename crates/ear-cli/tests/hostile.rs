//! Careless and hostile invocations of the real binary (issue "hostile
//! input"): each builds its input by code, asserts the refusal and its
//! message, and that nothing was written where it must not be.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{root, run};
use ear_fixtures::{sample, write_expanded};

type Error = Box<dyn std::error::Error>;
type TestResult = Result<(), Error>;

fn s(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

/// A folder holding `app.ear` (the sample) and `fix.zip` (its fix).
fn sample_dir() -> Result<(tempfile::TempDir, PathBuf, PathBuf), Error> {
    let dir = tempfile::tempdir()?;
    let ear = dir.path().join("app.ear");
    std::fs::write(&ear, sample::shop_ear())?;
    let fix = dir.path().join("fix.zip");
    std::fs::write(&fix, sample::shop_fix_zip())?;
    Ok((dir, ear, fix))
}

/// Every name under `dir` with its bytes (folders with none), sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for item in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        let name = item.path().display().to_string();
        let bytes = if item.file_type().is_file() {
            std::fs::read(item.path()).unwrap_or_default()
        } else {
            Vec::new()
        };
        out.push((name, bytes));
    }
    out
}

fn mkfifo(path: &Path) -> TestResult {
    let status = std::process::Command::new("mkfifo").arg(path).status()?;
    assert!(status.success(), "mkfifo {}", path.display());
    Ok(())
}

/// The warning codes of `earpatch plan APP UPDATE --format json`.
fn plan_warnings(app: &Path, update: &Path) -> Result<Vec<String>, Error> {
    let (code, out, err) = run(&["plan", s(app), s(update), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out)?;
    Ok(v["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|w| w["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

fn refused(args: &[&str], expect: &str) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 1, "earpatch {args:?} should fail:\n{out}\n{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains(expect),
        "earpatch {args:?}: expected {expect:?} in\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn a_closed_stdout_ends_quietly() -> TestResult {
    let (reader, writer) = std::io::pipe()?;
    drop(reader);
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("earpatch"))
        .current_dir(root())
        .args(["plan", "testdata/shop.ear", "testdata/shop-fix.zip"])
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "nothing on stderr, got {err}");
    Ok(())
}

#[test]
fn output_never_replaces_a_special_file_a_link_or_an_input() -> TestResult {
    let (dir, ear, fix) = sample_dir()?;
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo)?;
    let link = dir.path().join("link.ear");
    std::os::unix::fs::symlink(dir.path().join("elsewhere.ear"), &link)?;
    let before = tree(dir.path());
    refused(
        &["apply", s(&ear), s(&fix), "-o", s(&fifo)],
        "a FIFO (named pipe), not a regular file",
    );
    refused(
        &["apply", s(&ear), s(&fix), "-o", s(&link)],
        "a symbolic link, not a regular file",
    );
    refused(
        &["apply", s(&ear), s(&fix), "-o", s(dir.path())],
        "a folder, not a regular file",
    );
    // The application itself, spelled differently: no write without lock and history.
    let spelled = dir.path().join(".").join("app.ear");
    refused(&["apply", s(&ear), s(&fix), "-o", s(&spelled)], "is ");
    // diff never overwrites one of its inputs.
    let new = dir.path().join("new.ear");
    std::fs::copy(&ear, &new)?;
    let before_new = std::fs::read(&new)?;
    refused(&["diff", s(&ear), s(&new), "-o", s(&new)], "itself");
    assert_eq!(std::fs::read(&new)?, before_new);
    std::fs::remove_file(&new)?;
    assert_eq!(tree(dir.path()), before, "nothing was written");
    use std::os::unix::fs::FileTypeExt as _;
    assert!(std::fs::symlink_metadata(&fifo)?.file_type().is_fifo());
    Ok(())
}

#[test]
fn outputs_get_the_umask_mode() -> TestResult {
    let (dir, ear, fix) = sample_dir()?;
    let out = dir.path().join("out.ear");
    let zip = dir.path().join("u.zip");
    let script = format!(
        "umask 022 && {bin} apply {ear} {fix} -o {out} >/dev/null && {bin} diff {ear} {out} -o {zip} >/dev/null",
        bin = assert_cmd::cargo::cargo_bin("earpatch").display(),
        ear = s(&ear),
        fix = s(&fix),
        out = s(&out),
        zip = s(&zip),
    );
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .status()?;
    assert!(status.success());
    use std::os::unix::fs::PermissionsExt as _;
    for file in [&out, &zip] {
        let mode = std::fs::metadata(file)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{}", file.display());
    }
    Ok(())
}

#[test]
fn swapped_arguments_are_refused_with_a_hint() -> TestResult {
    let (dir, ear, fix) = sample_dir()?;
    let before = tree(dir.path());
    refused(&["apply", s(&fix), s(&ear)], "did you swap APP and UPDATE");
    refused(&["plan", s(&fix), s(&ear)], "did you swap APP and UPDATE");
    assert_eq!(tree(dir.path()), before);
    Ok(())
}

#[test]
fn missing_applications_and_state_folders_create_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let missing = dir.path().join("nosuch.ear");
    refused(&["history", s(&missing)], "cannot open");
    refused(&["recover", s(&missing)], "cannot open");
    refused(&["rollback", s(&missing)], "cannot open");
    assert!(
        tree(dir.path()).len() == 1,
        "only the folder itself: {:?}",
        tree(dir.path())
    );
    // --state-dir never creates its parents.
    let (dir, ear, fix) = sample_dir()?;
    let nested = dir.path().join("no").join("such").join("state");
    refused(
        &["apply", s(&ear), s(&fix), "--state-dir", s(&nested)],
        "cannot create the state folder",
    );
    assert!(!dir.path().join("no").exists());
    assert_eq!(std::fs::read(&ear)?, sample::shop_ear());
    Ok(())
}

#[test]
fn the_state_folder_may_not_be_inside_the_application() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = dir.path().join("app");
    write_expanded(&sample::shop_ear(), &app, &sample::SHOP_MODULES)?;
    let before = tree(&app);
    let inside = app.join("state");
    let fix = root().join("testdata/shop-fix.zip");
    refused(
        &["apply", s(&app), s(&fix), "--state-dir", s(&inside)],
        "the state folder is inside the application",
    );
    assert_eq!(tree(&app), before);
    Ok(())
}

#[test]
fn hints_carry_the_state_dir() -> TestResult {
    let (dir, ear, fix) = sample_dir()?;
    let state = dir.path().join("state");
    let (code, out, err) = run(&["apply", s(&ear), s(&fix), "--state-dir", s(&state)]);
    assert_eq!(code, 0, "{err}");
    let hint = format!(
        "undo with: earpatch rollback {} --state-dir {}",
        s(&ear),
        s(&state)
    );
    assert!(out.contains(&hint), "{out}");
    Ok(())
}

/// An expanded sample whose apply was interrupted: a journal in `state`.
fn interrupted(state: Option<&Path>) -> Result<(tempfile::TempDir, PathBuf, PathBuf), Error> {
    let dir = tempfile::tempdir()?;
    let app = dir.path().join("app");
    write_expanded(&sample::shop_ear(), &app, &sample::SHOP_MODULES)?;
    let state = state.map_or_else(|| dir.path().join("app.earpatch"), |s| dir.path().join(s));
    let journal = state.join("journal");
    std::fs::create_dir_all(&journal)?;
    std::fs::write(
        journal.join("journal.json"),
        r#"{"state":"staging","ops":[]}"#,
    )?;
    Ok((dir, app, state))
}

#[test]
fn dry_runs_and_reading_commands_never_recover_and_honour_state_dir() -> TestResult {
    let fix = root().join("testdata/shop-fix.zip");
    let (dir, app, state) = interrupted(Some(Path::new("elsewhere")))?;
    let before = tree(dir.path());
    let flag = ["--state-dir", s(&state)];
    for args in [
        vec!["inspect", s(&app)],
        vec!["plan", s(&app), s(&fix)],
        vec!["impact", s(&app), s(&fix)],
        vec!["apply", s(&app), s(&fix), "--dry-run"],
        vec!["rollback", s(&app), "--dry-run"],
    ] {
        let mut args = args.clone();
        args.extend(flag);
        let err = refused(&args, "was interrupted");
        assert!(
            err.contains(&format!(
                "earpatch recover {} --state-dir {}",
                s(&app),
                s(&state)
            )),
            "{err}"
        );
    }
    assert_eq!(
        tree(dir.path()),
        before,
        "no lock, no recovery, nothing written"
    );
    Ok(())
}

#[test]
fn special_files_are_refused_before_they_are_read() -> TestResult {
    let (dir, ear, _fix) = sample_dir()?;
    let fifo = dir.path().join("fix.zip.fifo");
    mkfifo(&fifo)?;
    let fix_fifo = dir.path().join("pipe.zip");
    mkfifo(&fix_fifo)?;
    // Each would wait forever on a FIFO nobody writes.
    refused(
        &["plan", s(&ear), s(&fix_fifo)],
        "must be a regular file, and this is a FIFO",
    );
    refused(
        &[
            "plan",
            s(&ear),
            "testdata/shop-fix.zip",
            "--deployment-xml",
            s(&fifo),
        ],
        "must be a regular file, and this is a FIFO",
    );
    refused(&["inspect", s(&fifo)], "it is a FIFO");
    refused(
        &[
            "plan",
            s(&ear),
            "testdata/shop-fix.zip",
            "--deployment-xml",
            "/dev/zero",
        ],
        "a character device",
    );
    Ok(())
}

#[test]
fn no_digest_cannot_be_used_for_an_apply_in_place() -> TestResult {
    let (_dir, ear, fix) = sample_dir()?;
    refused(&["apply", s(&ear), s(&fix), "--no-digest"], "--no-digest");
    assert_eq!(std::fs::read(&ear)?, sample::shop_ear());
    Ok(())
}

#[test]
fn an_update_for_another_application_is_warned_about() -> TestResult {
    let (dir, ear, _fix) = sample_dir()?;
    let other = dir.path().join("pbw-fix.zip");
    std::fs::write(
        &other,
        ear_fixtures::zip_of(&[("pbw-web.war/index.jsp", b"<html/>")]),
    )?;
    assert!(plan_warnings(&ear, &other)?.contains(&"not-a-module".to_owned()));
    refused(&["plan", s(&ear), s(&other), "--strict"], "--strict");
    Ok(())
}

#[test]
fn tampered_records_are_refused_and_nothing_outside_changes() -> TestResult {
    let (dir, ear, fix) = sample_dir()?;
    let (code, _, err) = run(&["apply", s(&ear), s(&fix)]);
    assert_eq!(code, 0, "{err}");
    let history = dir.path().join("app.ear.earpatch").join("history");
    let record_dir = std::fs::read_dir(&history)?
        .next()
        .ok_or("no record")??
        .path();
    let record_path = record_dir.join("record.json");
    let original = std::fs::read_to_string(&record_path)?;
    let mut record: serde_json::Value = serde_json::from_str(&original)?;
    let outside = dir.path().join("outside");
    // An id that climbs out of the history, left `applying` so recovery acts on it.
    record["id"] = "../../outside".into();
    record["status"] = "applying".into();
    std::fs::write(&record_path, serde_json::to_vec(&record)?)?;
    let err = refused(
        &["recover", s(&ear)],
        "is not of the form YYYYMMDD_HHMMSS_<name>",
    );
    assert!(err.contains(s(&record_path)), "names the record: {err}");
    assert!(!outside.exists());
    // An undo bundle elsewhere.
    let mut record: serde_json::Value = serde_json::from_str(&original)?;
    record["undo"] = "../../../evil.zip".into();
    std::fs::write(&record_path, serde_json::to_vec(&record)?)?;
    refused(&["rollback", s(&ear)], "is not undo.zip or previous.ear");
    let before = std::fs::read(&ear)?;
    std::fs::write(&record_path, &original)?;
    assert_eq!(std::fs::read(&ear)?, before);
    Ok(())
}

#[test]
fn recovery_removes_orphan_undo_folders() -> TestResult {
    let (dir, ear, _fix) = sample_dir()?;
    // What a kill -9 between saving the undo bundle and writing the record leaves.
    let orphan = dir
        .path()
        .join("app.ear.earpatch/history/20261130_020000_fix");
    std::fs::create_dir_all(&orphan)?;
    std::fs::write(orphan.join("undo.zip"), b"PK")?;
    let (code, out, err) = run(&["recover", s(&ear)]);
    assert_eq!(code, 0, "{err}");
    assert!(!orphan.exists(), "{out}");
    let events = std::fs::read_to_string(dir.path().join("app.ear.earpatch/events.jsonl"))?;
    assert!(events.contains("\"detail\":\"discarded\""), "{events}");
    assert!(
        !events.contains("Discarded"),
        "no Rust debug names: {events}"
    );
    Ok(())
}

#[test]
fn a_forced_rollback_over_drift_does_not_claim_the_original_is_back() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = dir.path().join("app");
    write_expanded(&sample::shop_ear(), &app, &sample::SHOP_MODULES)?;
    let fix = root().join("testdata/shop-fix.zip");
    let (code, _, err) = run(&["apply", s(&app), s(&fix)]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(app.join("hot-deployed.txt"), "changed on the node")?;
    let (code, out, err) = run(&["rollback", s(&app), "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("over changes made outside earpatch"), "{out}");
    assert!(!out.contains("is as it was before"), "{out}");
    Ok(())
}

/// A 256 KiB tmpfs, unmounted when dropped; `None` (with a notice) where
/// this test may not mount (not root, no CAP_SYS_ADMIN).
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path) -> Option<SmallDisk> {
        let point = dir.join("small");
        std::fs::create_dir_all(&point).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
            .arg(&point)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("notice: cannot mount a small tmpfs here; the full-disk test is skipped");
            return None;
        }
        Some(SmallDisk(point))
    }

    /// Fills the disk but for about `free` bytes.
    fn fill_leaving(&self, free: u64) -> TestResult {
        let filler = self.0.join("filler");
        let _ = std::fs::remove_file(&filler);
        let total = 256 * 1024u64;
        std::fs::write(
            &filler,
            vec![0u8; usize::try_from(total - free).unwrap_or(0)],
        )
        .or_else(|e| {
            if e.kind() == std::io::ErrorKind::StorageFull {
                Ok(())
            } else {
                Err(e)
            }
        })?;
        Ok(())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_an_error_line_and_nothing_half_written() -> TestResult {
    let dir = tempfile::tempdir()?;
    let Some(disk) = SmallDisk::mount(dir.path()) else {
        return Ok(());
    };
    let ear = disk.0.join("app.ear");
    std::fs::write(&ear, sample::shop_ear())?;
    let fix = root().join("testdata/shop-fix.zip");
    for free in [0, 8 << 10, 16 << 10, 32 << 10] {
        disk.fill_leaving(free)?;
        for args in [
            vec!["apply", s(&ear), s(&fix)],
            vec!["apply", s(&ear), s(&fix), "-o", s(&disk.0.join("out.ear"))],
        ] {
            let (code, out, err) = run(&args);
            assert_eq!(code, 1, "{free} free: {args:?}\n{out}{err}");
            assert!(err.starts_with("error: "), "{free} free: {err}");
            assert_eq!(
                err.lines().count(),
                1,
                "one line, nothing from the zip library: {err}"
            );
            assert_eq!(
                std::fs::read(&ear)?,
                sample::shop_ear(),
                "{free} free: the application changed"
            );
            let left: Vec<String> = std::fs::read_dir(&disk.0)?
                .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect::<Result<_, _>>()?;
            assert!(
                left.iter().all(|n| n == "app.ear" || n == "filler"),
                "{free} free: left behind {left:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn a_plain_library_added_as_a_module_is_said_aloud() -> TestResult {
    let (dir, ear, _fix) = sample_dir()?;
    let jar = dir.path().join("util2.jar");
    std::fs::write(
        &jar,
        ear_fixtures::zip_of(&[("com/acme/Util.class", b"\xCA\xFE\xBA\xBE")]),
    )?;
    assert!(plan_warnings(&ear, &jar)?.contains(&"plain-jar-as-module".to_owned()));
    refused(&["apply", s(&ear), s(&jar), "--strict"], "warning");
    assert_eq!(std::fs::read(&ear)?, sample::shop_ear());
    Ok(())
}
