//! Hostile and careless input (issue "hostile input"): each test builds the
//! input by code, asserts the refusal names what is wrong, and that nothing
//! was written, neither in the application nor outside it.

use std::path::Path;

use ear_core::{Application, ApplyOptions, Plan, PlanOptions, Update, WarningCode, apply};
use ear_fixtures::sample;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Every file under `dir` with its bytes, sorted (links are listed as links).
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for item in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let Ok(item) = item else { continue };
        let rel = item.path().strip_prefix(dir).unwrap_or(item.path());
        let name = rel.display().to_string();
        let ty = item.file_type();
        if ty.is_symlink() {
            let target = std::fs::read_link(item.path()).unwrap_or_default();
            out.push((format!("{name} -> {}", target.display()), Vec::new()));
        } else if ty.is_file() {
            out.push((name, std::fs::read(item.path()).unwrap_or_default()));
        } else {
            out.push((format!("{name}/"), Vec::new()));
        }
    }
    out
}

/// A folder, the expanded sample in it (`app`), and an empty `outside` beside it.
type Sample = (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf);

fn expanded_sample() -> Result<Sample, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let app = dir.path().join("app");
    ear_fixtures::write_expanded(&sample::shop_ear(), &app, &sample::SHOP_MODULES)?;
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside)?;
    Ok((dir, app, outside))
}

/// The sample application, expanded, with `linked` (a folder of it) moved
/// outside and replaced by a symbolic link to it: the layout of installed
/// applications that share a folder with another application.
#[cfg(unix)]
fn linked_sample(linked: &str) -> Result<Sample, Box<dyn std::error::Error>> {
    let (dir, app, outside) = expanded_sample()?;
    let target = outside.join(linked.replace('/', "_"));
    std::fs::rename(app.join(linked), &target)?;
    std::os::unix::fs::symlink(&target, app.join(linked))?;
    Ok((dir, app, outside))
}

#[cfg(unix)]
#[test]
fn writes_never_go_through_a_linked_folder() -> TestResult {
    for linked in ["lib", "storefront.war", "META-INF"] {
        let (dir, app, outside) = linked_sample(linked)?;
        let fix = dir.path().join("shop-fix.zip");
        std::fs::write(&fix, sample::shop_fix_zip())?;
        let manifest = dir.path().join("MANIFEST.MF");
        std::fs::write(&manifest, "Manifest-Version: 1.0\n")?;
        let before_app = snapshot(&app);
        let before_outside = snapshot(&outside);
        // The bundled fix writes lib/ and storefront.war/; a file update writes META-INF/.
        let war = dir.path().join("storefront.war");
        std::fs::write(&war, ear_fixtures::zip_of(&[("index.jsp", b"<html/>")]))?;
        let update = match linked {
            "META-INF" => Update::file(&manifest, "META-INF/MANIFEST.MF")?,
            // A module replacement of the linked module folder.
            "storefront.war" => Update::module(&war, "storefront.war")?,
            _ => Update::partial(&fix)?,
        };
        let err = apply(&app, &update, &ApplyOptions::default())
            .err()
            .ok_or("an update through a linked folder was applied")?;
        let message = err.to_string();
        assert!(
            message.contains(&format!("{linked} is a symbolic link")),
            "{linked}: {message}"
        );
        assert_eq!(
            snapshot(&outside),
            before_outside,
            "{linked}: outside changed"
        );
        assert_eq!(
            snapshot(&app),
            before_app,
            "{linked}: the application changed"
        );
        // Planning alone refuses the same way (so `plan` shows it first).
        let app_model = Application::open(&app)?;
        assert!(Plan::new(&app_model, &update, &PlanOptions::default()).is_err());
    }
    Ok(())
}

#[cfg(unix)]
#[test]
fn links_are_reported_and_never_read_through() -> TestResult {
    let (_dir, app, _outside) = linked_sample("lib")?;
    let model = Application::open(&app)?;
    let warned: Vec<_> = model
        .warnings()
        .iter()
        .filter(|w| w.code == WarningCode::SymbolicLink)
        .collect();
    assert_eq!(warned.len(), 1, "{:?}", model.warnings());
    assert!(warned[0].message.starts_with("lib is a symbolic link"));
    // Files behind the link are not part of the application.
    assert!(
        model
            .read(&ear_core::EntryPath::new("lib/util.jar")?)?
            .is_none()
    );
    Ok(())
}

#[cfg(unix)]
#[test]
fn a_tampered_journal_cannot_move_files_outside() -> TestResult {
    let (dir, app, outside) = expanded_sample()?;
    std::fs::write(outside.join("victim"), "keep me")?;
    // A journal that claims an apply was interrupted while committing, with
    // targets that climb out of the application.
    let journal = dir.path().join("app.earpatch").join("journal");
    std::fs::create_dir_all(journal.join("old"))?;
    std::fs::create_dir_all(journal.join("new"))?;
    std::fs::write(journal.join("old").join("0"), "planted")?;
    std::fs::write(
        journal.join("journal.json"),
        r#"{"state":"committing","ops":[
            {"target":"../outside/victim","write":false,"had_old":true},
            {"target":"../outside/victim","write":true,"had_old":false}]}"#,
    )?;
    let before = snapshot(&outside);
    let result = ear_core::recover(&app, None);
    assert!(
        result.is_err(),
        "recover followed a journal outside the application"
    );
    assert_eq!(snapshot(&outside), before);
    Ok(())
}
