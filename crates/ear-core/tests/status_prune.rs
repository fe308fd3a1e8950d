//! `status` (the view of what is in force, the cheap change check, the
//! state folder's size) and `prune` (retention): what each reports, what
//! prune removes and keeps, rollback after a prune, and that neither
//! touches anything outside the state folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ear_core::{
    ApplyOptions, Baseline, ChangeVerdict, Error, Form, PruneAction, PruneOptions, RollbackOptions,
    Status, StatusOptions, Update, apply, history, prune, rollback, status,
};
use ear_fixtures::sample;

type TestResult = Result<(), Box<dyn std::error::Error>>;
type Files = BTreeMap<PathBuf, Vec<u8>>;

/// Every regular file under `dir` (outside `skip`), with its bytes.
fn files_under(dir: &Path, skip: &Path) -> Files {
    let mut out = Files::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.starts_with(skip) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            for e in std::fs::read_dir(&p).into_iter().flatten().flatten() {
                stack.push(e.path());
            }
        } else if meta.is_file() {
            out.insert(p.clone(), std::fs::read(&p).unwrap_or_default());
        }
    }
    out
}

/// An application (`shop.ear`, or expanded `shop/`) in a temporary
/// directory, and two file updates beside it.
struct Setup {
    dir: tempfile::TempDir,
    app: PathBuf,
}

impl Setup {
    fn new(expanded: bool) -> Result<Setup, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let app = if expanded {
            let app = dir.path().join("shop");
            ear_fixtures::write_expanded(
                &sample::shop_ear(),
                &app,
                &["catalog.war", "storefront.war"],
            )?;
            app
        } else {
            let app = dir.path().join("shop.ear");
            std::fs::write(&app, sample::shop_ear())?;
            app
        };
        std::fs::write(dir.path().join("shop-fix.zip"), sample::shop_fix_zip())?;
        std::fs::write(dir.path().join("notes-1.txt"), "first\n")?;
        std::fs::write(dir.path().join("notes-2.txt"), "second, longer\n")?;
        Ok(Setup { dir, app })
    }

    fn state(&self) -> PathBuf {
        let name = self
            .app
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        self.dir
            .path()
            .join(format!("{}.earpatch", name.unwrap_or_default()))
    }

    fn apply_fix(&self) -> ear_core::Result<()> {
        let update = Update::partial(self.dir.path().join("shop-fix.zip"))?;
        apply(&self.app, &update, &ApplyOptions::default()).map(drop)
    }

    fn apply_notes(&self, n: u32) -> ear_core::Result<()> {
        let update = Update::file(
            self.dir.path().join(format!("notes-{n}.txt")),
            "lib/notes.txt",
        )?;
        apply(&self.app, &update, &ApplyOptions::default()).map(drop)
    }

    /// Four records: shop-fix and notes-1 in force, notes-2 rolled back, and
    /// the rollback's own record.
    fn four_records(&self) -> ear_core::Result<()> {
        self.apply_fix()?;
        self.apply_notes(1)?;
        self.apply_notes(2)?;
        rollback(&self.app, &RollbackOptions::default()).map(drop)
    }

    fn outside_state(&self) -> Files {
        files_under(self.dir.path(), &self.state())
    }
}

#[test]
fn status_without_state_reads_only() -> TestResult {
    let s = Setup::new(false)?;
    let report = status(&s.app, &StatusOptions::default())?;
    assert_eq!(report.form, Form::Archive);
    assert!(report.in_force.is_empty() && !report.interrupted);
    assert_eq!(report.baseline, Baseline::None);
    assert_eq!(report.expected, None);
    assert_eq!(report.digest_matches(), None);
    assert_eq!(report.changes.verdict, ChangeVerdict::Unknown);
    assert!(!report.state.exists && report.state.bytes == 0 && report.state.records == 0);
    assert!(
        !s.state().exists(),
        "status must not create the state folder"
    );
    assert_eq!(
        report.digest,
        Some(ear_core::Application::open(&s.app)?.digest()?)
    );
    Ok(())
}

#[test]
fn status_lists_updates_in_force_oldest_first() -> TestResult {
    let s = Setup::new(false)?;
    s.four_records()?;
    let report = status(&s.app, &StatusOptions::default())?;
    let records = history(&s.app, None)?;
    let ids: Vec<&str> = report.in_force.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, [records[0].id.as_str(), records[1].id.as_str()]);
    assert!(report.in_force.iter().all(|u| u.can_roll_back));
    assert_eq!(
        report.in_force[0].source,
        s.dir.path().join("shop-fix.zip").display().to_string()
    );
    assert_eq!(report.baseline, Baseline::Record);
    assert_eq!(report.expected, Some(records[3].digest_after));
    assert_eq!(report.digest_matches(), Some(true));
    assert_eq!(report.changes.verdict, ChangeVerdict::NoChangeSeen);
    assert_eq!((report.state.records, report.state.undo_bundles), (4, 4));
    let undo: u64 = records
        .iter()
        .map(|r| {
            std::fs::metadata(s.state().join("history").join(&r.id).join(&r.undo))
                .map_or(0, |m| m.len())
        })
        .sum();
    assert_eq!(report.state.undo_bytes, undo);
    assert!(report.state.bytes > undo);
    Ok(())
}

#[test]
fn status_sees_changed_stamps_on_an_expanded_application() -> TestResult {
    let s = Setup::new(true)?;
    s.apply_fix()?;
    let before = s.outside_state();
    let state_before = files_under(&s.state(), Path::new("/nonexistent"));
    let clean = status(&s.app, &StatusOptions::default())?;
    assert_eq!(
        clean.changes.verdict,
        ChangeVerdict::NoChangeSeen,
        "{clean:?}"
    );
    assert_eq!(s.outside_state(), before, "status changes nothing");
    assert_eq!(
        files_under(&s.state(), Path::new("/nonexistent")),
        state_before,
        "status writes nothing in the state folder either (index, events, lock)"
    );

    std::fs::write(s.app.join("storefront.war/welcome.jsp"), "<p>hot fix</p>\n")?;
    std::fs::write(s.app.join("catalog.war/extra.jsp"), "<p>new</p>\n")?;
    std::fs::remove_file(s.app.join("META-INF/MANIFEST.MF"))?;
    let report = status(&s.app, &StatusOptions::default())?;
    assert_eq!(report.changes.verdict, ChangeVerdict::MaybeDrifted);
    assert_eq!(
        (
            report.changes.changed,
            report.changes.added,
            report.changes.removed
        ),
        (1, 1, 1)
    );
    assert_eq!(report.digest_matches(), Some(false));
    assert_eq!(
        report.digest,
        Some(ear_core::Application::open(&s.app)?.digest()?),
        "the digest read through the index re-reads the changed files"
    );
    Ok(())
}

#[test]
fn status_sees_a_rewritten_archive() -> TestResult {
    let s = Setup::new(false)?;
    s.apply_fix()?;
    std::fs::write(&s.app, sample::shop_ear())?;
    let report = status(&s.app, &StatusOptions::default())?;
    assert_eq!(report.changes.verdict, ChangeVerdict::MaybeDrifted);
    assert!(report.changes.total() > 0);
    assert_eq!(report.digest_matches(), Some(false));
    Ok(())
}

#[test]
fn status_reports_an_interrupted_operation_without_reading() -> TestResult {
    let s = Setup::new(true)?;
    s.apply_fix()?;
    std::fs::create_dir_all(s.state().join("journal"))?;
    std::fs::write(s.state().join("journal/journal.json"), "{}")?;
    let report = status(&s.app, &StatusOptions::default())?;
    assert!(report.interrupted);
    assert_eq!(report.digest, None);
    assert_eq!(report.changes.verdict, ChangeVerdict::Unknown);
    assert!(
        report
            .changes
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("recover"))
    );
    assert_eq!(report.in_force.len(), 1);
    Ok(())
}

#[test]
fn prune_dry_run_changes_nothing() -> TestResult {
    let s = Setup::new(false)?;
    s.four_records()?;
    let everything = files_under(s.dir.path(), Path::new("/nonexistent"));
    let report = prune(&s.app, &PruneOptions::default().keep(1).dry_run(true))?;
    assert!(report.dry_run);
    assert_eq!(report.pruned.len(), 3);
    assert!(report.bytes_freed > 0);
    assert_eq!(
        files_under(s.dir.path(), Path::new("/nonexistent")),
        everything
    );
    Ok(())
}

#[test]
fn prune_keeps_updates_in_force_as_summaries() -> TestResult {
    let s = Setup::new(false)?;
    s.four_records()?;
    let before = history(&s.app, None)?;
    let outside = s.outside_state();
    let undo_of = |i: usize| {
        s.state()
            .join("history")
            .join(&before[i].id)
            .join(&before[i].undo)
    };
    let sizes: u64 = [0, 1]
        .iter()
        .map(|&i| std::fs::metadata(undo_of(i)).map_or(0, |m| m.len()))
        .sum();
    let rolled_back_dir = s.state().join("history").join(&before[2].id);
    let removed_bytes = files_under(&rolled_back_dir, Path::new("/nonexistent"))
        .values()
        .map(|b| b.len() as u64)
        .sum::<u64>()
        + std::fs::metadata(s.state().join("logs").join(format!("{}.log", before[2].id)))?.len();

    let report = prune(&s.app, &PruneOptions::default().keep(1))?;
    let actions: Vec<(&str, PruneAction)> = report
        .pruned
        .iter()
        .map(|p| (p.id.as_str(), p.action))
        .collect();
    assert_eq!(
        actions,
        [
            (before[0].id.as_str(), PruneAction::UndoRemoved),
            (before[1].id.as_str(), PruneAction::UndoRemoved),
            (before[2].id.as_str(), PruneAction::Removed),
        ]
    );
    assert_eq!(
        report.no_longer_undoable,
        [before[0].id.clone(), before[1].id.clone()]
    );
    assert_eq!(report.bytes_freed, sizes + removed_bytes);
    assert!(!undo_of(0).exists() && !undo_of(1).exists() && !rolled_back_dir.exists());
    assert_eq!(
        s.outside_state(),
        outside,
        "nothing outside the state folder changes"
    );

    let after = history(&s.app, None)?;
    let ids: Vec<&str> = after.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [&before[0].id, &before[1].id, &before[3].id]);
    assert!(after[0].pruned_at.is_some() && after[1].pruned_at.is_some());
    assert_eq!(after[0].status, Status::Applied);
    assert!(
        after[2].pruned_at.is_none(),
        "the newest record is kept whole"
    );

    let report = status(&s.app, &StatusOptions::default())?;
    assert!(
        report
            .in_force
            .iter()
            .all(|u| !u.can_roll_back && u.pruned_at.is_some())
    );
    assert_eq!((report.state.records, report.state.undo_bundles), (3, 1));
    assert_eq!(report.digest_matches(), Some(true));

    // A second prune with the same N has nothing left to do.
    let again = prune(&s.app, &PruneOptions::default().keep(1))?;
    assert!(again.pruned.is_empty() && again.bytes_freed == 0);
    Ok(())
}

#[test]
fn rollback_after_prune_refuses_before_any_step() -> TestResult {
    let s = Setup::new(true)?;
    s.apply_fix()?;
    s.apply_notes(1)?;
    s.apply_notes(2)?;
    let records = history(&s.app, None)?;
    let report = prune(&s.app, &PruneOptions::default().keep(1))?;
    assert_eq!(
        report.no_longer_undoable,
        [records[0].id.clone(), records[1].id.clone()]
    );

    // Rolling back everything after the first update needs the pruned
    // second one: refused, and the newest is not rolled back either.
    let app_before = files_under(&s.app, Path::new("/nonexistent"));
    let err = rollback(
        &s.app,
        &RollbackOptions::default().to(records[0].id.clone()),
    );
    match err {
        Err(Error::Refused { message, .. }) => {
            assert!(
                message.contains("prune") && message.contains("nothing was rolled back"),
                "{message}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(files_under(&s.app, Path::new("/nonexistent")), app_before);
    assert_eq!(history(&s.app, None)?.len(), 3);

    // The newest update kept its undo bundle: it still rolls back.
    rollback(&s.app, &RollbackOptions::default())?;
    // The next one is pruned.
    assert!(matches!(
        rollback(&s.app, &RollbackOptions::default()),
        Err(Error::Refused { .. })
    ));
    let in_force = status(&s.app, &StatusOptions::default())?.in_force;
    assert_eq!(in_force.len(), 2);
    Ok(())
}

#[test]
fn prune_keeps_the_newest_applied_record_as_the_baseline() -> TestResult {
    let s = Setup::new(false)?;
    s.apply_fix()?;
    rollback(&s.app, &RollbackOptions::default())?;
    let report = prune(&s.app, &PruneOptions::default().keep(0))?;
    let actions: Vec<PruneAction> = report.pruned.iter().map(|p| p.action).collect();
    // The update rolled back goes; the rollback's record stays (its digest is
    // what verify compares with); nothing in force.
    assert_eq!(actions, [PruneAction::Removed, PruneAction::UndoRemoved]);
    assert!(report.no_longer_undoable.is_empty());
    let left = history(&s.app, None)?;
    assert_eq!(left.len(), 1);
    assert!(left[0].rolls_back.is_some());
    assert!(ear_core::verify(&s.app, &ear_core::VerifyOptions::default())?.is_clean());
    Ok(())
}

#[test]
fn prune_without_state_creates_nothing() -> TestResult {
    let s = Setup::new(false)?;
    let report = prune(&s.app, &PruneOptions::default().keep(0))?;
    assert!(report.pruned.is_empty() && report.records_before == 0);
    assert!(!s.state().exists());
    Ok(())
}

#[test]
fn prune_refuses_an_interrupted_operation() -> TestResult {
    let s = Setup::new(true)?;
    s.apply_fix()?;
    s.apply_notes(1)?;
    std::fs::create_dir_all(s.state().join("journal"))?;
    std::fs::write(s.state().join("journal/journal.json"), "{}")?;
    let err = prune(&s.app, &PruneOptions::default().keep(0));
    assert!(
        matches!(&err, Err(Error::Refused { message, .. }) if message.contains("recover")),
        "{err:?}"
    );
    std::fs::remove_dir_all(s.state().join("journal"))?;

    // A record left `applying` (an archive apply killed mid-way).
    let records = history(&s.app, None)?;
    let path = s
        .state()
        .join("history")
        .join(&records[1].id)
        .join("record.json");
    let text = std::fs::read_to_string(&path)?.replace("\"applied\"", "\"applying\"");
    std::fs::write(&path, text)?;
    let err = prune(&s.app, &PruneOptions::default().keep(0));
    assert!(
        matches!(&err, Err(Error::Refused { message, .. }) if message.contains("recover")),
        "{err:?}"
    );
    assert!(
        s.state()
            .join("history")
            .join(&records[0].id)
            .join(&records[0].undo)
            .exists()
    );
    Ok(())
}

#[cfg(unix)]
#[test]
fn prune_never_follows_a_linked_record_folder() -> TestResult {
    let s = Setup::new(false)?;
    s.apply_fix()?;
    s.apply_notes(1)?;
    let records = history(&s.app, None)?;
    // The oldest record's folder moved elsewhere and linked back.
    let elsewhere = s.dir.path().join("elsewhere");
    let folder = s.state().join("history").join(&records[0].id);
    std::fs::rename(&folder, &elsewhere)?;
    std::os::unix::fs::symlink(&elsewhere, &folder)?;
    let outside = files_under(&elsewhere, Path::new("/nonexistent"));
    let err = prune(&s.app, &PruneOptions::default().keep(1));
    assert!(matches!(err, Err(Error::Refused { .. })), "{err:?}");
    assert_eq!(files_under(&elsewhere, Path::new("/nonexistent")), outside);
    Ok(())
}

#[test]
fn rollback_checks_every_bundle_before_the_first_step() -> TestResult {
    let s = Setup::new(false)?;
    s.apply_fix()?;
    s.apply_notes(1)?;
    s.apply_notes(2)?;
    let records = history(&s.app, None)?;
    // The middle update's bundle lost by hand (not by prune).
    std::fs::remove_file(
        s.state()
            .join("history")
            .join(&records[1].id)
            .join(&records[1].undo),
    )?;
    let before = std::fs::read(&s.app)?;
    let err = rollback(
        &s.app,
        &RollbackOptions::default().to(records[0].id.clone()),
    );
    assert!(
        matches!(&err, Err(Error::Refused { message, .. }) if message.contains("nothing was rolled back")),
        "{err:?}"
    );
    assert_eq!(
        std::fs::read(&s.app)?,
        before,
        "the newest update was not rolled back either"
    );
    assert_eq!(history(&s.app, None)?.len(), 3);
    Ok(())
}
