//! `earpatch status` and `earpatch prune`: their texts and JSON
//! (`earpatch.status/v1`, `earpatch.prune/v1`) through the real binary, and
//! rollback after a prune.

mod common;

use common::{root, run, scrub};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Times, record ids and byte counts vary from run to run (the state
/// folder holds pids); the snapshots hide them.
fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"\d{8}_\d{6}", "[ID]"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]"),
        (r"\d+ bytes", "[N] bytes"),
        (r"\(\d+(\.\d)? [KMGT]?B\)", "([SIZE])"),
    ]
}

/// An expanded copy of the sample in `dir`, and two one-file updates.
fn setup(dir: &std::path::Path) -> Result<String, Box<dyn std::error::Error>> {
    let app = dir.join("shop");
    let bytes = std::fs::read(root().join("testdata/shop.ear"))?;
    ear_fixtures::write_expanded(&bytes, &app, &["catalog.war", "storefront.war"])?;
    std::fs::write(dir.join("notes-1.txt"), "first\n")?;
    std::fs::write(dir.join("notes-2.txt"), "second, longer\n")?;
    Ok(app.display().to_string())
}

/// Applies the sample fix, then notes-1 and notes-2 as `lib/notes.txt`.
fn three_updates(dir: &std::path::Path, app: &str) -> TestResult {
    let (code, _, err) = run(&["apply", app, "testdata/shop-fix.zip"]);
    assert_eq!(code, 0, "{err}");
    for n in [1, 2] {
        let notes = dir.join(format!("notes-{n}.txt")).display().to_string();
        let (code, _, err) = run(&["apply", app, &notes, "--file", "lib/notes.txt"]);
        assert_eq!(code, 0, "{err}");
    }
    Ok(())
}

#[test]
fn status_and_prune_texts() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = setup(dir.path())?;
    let mut shots = String::new();

    let (code, out, err) = run(&["status", &app]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    shots.push_str(&format!("$ earpatch status APP (nothing applied)\n{out}\n"));

    three_updates(dir.path(), &app)?;
    let (code, _, err) = run(&["rollback", &app]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&["status", &app]);
    assert_eq!(code, 0);
    assert!(out.contains("no change seen"), "{out}");
    shots.push_str(&format!("$ earpatch status APP (two in force)\n{out}\n"));

    std::fs::write(
        std::path::Path::new(&app).join("storefront.war/welcome.jsp"),
        "<p>hot fix</p>\n",
    )?;
    let (code, out, _) = run(&["status", &app]);
    assert_eq!(code, 0, "status reports drift but does not fail on it");
    assert!(out.contains("maybe drifted: 1 file changed"), "{out}");
    shots.push_str(&format!("$ earpatch status APP (a file edited)\n{out}\n"));

    let (code, out, _) = run(&["prune", &app, "--keep", "1", "--dry-run"]);
    assert_eq!(code, 0);
    shots.push_str(&format!("$ earpatch prune APP --keep 1 --dry-run\n{out}\n"));
    let (code, out, _) = run(&["prune", &app, "--keep", "1"]);
    assert_eq!(code, 0);
    shots.push_str(&format!("$ earpatch prune APP --keep 1\n{out}\n"));
    let (code, out, _) = run(&["prune", &app, "--keep", "1"]);
    assert_eq!(code, 0);
    shots.push_str(&format!("$ earpatch prune APP --keep 1 (again)\n{out}\n"));

    let (code, out, _) = run(&["status", &app, "--format", "markdown"]);
    assert_eq!(code, 0);
    shots.push_str(&format!("$ earpatch status APP --format markdown\n{out}\n"));

    let (code, out, err) = run(&["rollback", &app, "--force"]);
    assert_eq!((code, out.as_str()), (1, ""));
    shots.push_str(&format!(
        "$ earpatch rollback APP --force (after prune)\n{err}"
    ));

    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(scrub(&shots, dir.path()));
    });
    Ok(())
}

#[test]
fn status_and_prune_json() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = setup(dir.path())?;
    three_updates(dir.path(), &app)?;

    let (code, out, _) = run(&["status", &app, "--format", "json"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(doc["schema"], "earpatch.status/v1");
    assert_eq!(doc["form"], "expanded");
    assert_eq!(doc["interrupted"], false);
    assert_eq!(doc["digest_matches"], true);
    assert_eq!(doc["changes"]["verdict"], "no-change-seen");
    assert_eq!(doc["in_force"].as_array().map(Vec::len), Some(3));
    assert_eq!(doc["in_force"][0]["source"], "testdata/shop-fix.zip");
    assert_eq!(doc["in_force"][0]["can_roll_back"], true);
    assert_eq!(doc["state"]["records"], 3);
    assert_eq!(doc["state"]["undo_bundles"], 3);
    let ids: Vec<String> = doc["in_force"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["id"].as_str().map(str::to_owned))
        .collect();

    let (code, out, _) = run(&["prune", &app, "--keep", "1", "--format", "json"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(doc["schema"], "earpatch.prune/v1");
    assert_eq!(doc["dry_run"], false);
    assert_eq!(doc["keep"], 1);
    assert_eq!(doc["records_before"], 3);
    assert_eq!(
        doc["no_longer_undoable"],
        serde_json::json!([ids[0], ids[1]])
    );
    let pruned = doc["pruned"].as_array().ok_or("no pruned")?;
    assert_eq!(pruned.len(), 2);
    assert!(pruned.iter().all(|p| p["action"] == "undo-removed"));
    let sum: u64 = pruned.iter().filter_map(|p| p["bytes"].as_u64()).sum();
    assert_eq!(doc["bytes_freed"].as_u64(), Some(sum));
    assert!(sum > 0);

    let (_, out, _) = run(&["status", &app, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(doc["state"]["undo_bundles"], 1);
    assert_eq!(doc["in_force"][0]["can_roll_back"], false);
    assert!(doc["in_force"][0]["pruned_at"].is_string());
    assert_eq!(doc["in_force"][2]["can_roll_back"], true);

    let (_, out, _) = run(&["history", &app, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out)?;
    assert!(doc["records"][0]["pruned_at"].is_string());
    assert!(doc["records"][2].get("pruned_at").is_none());
    Ok(())
}

#[test]
fn prune_needs_keep_and_refuses_a_missing_application() -> TestResult {
    let (code, _, err) = run(&["prune", "testdata/shop.ear"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--keep"), "{err}");
    let (code, out, err) = run(&["status", "testdata/does-not-exist.ear"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with("error: ") && err.contains("does-not-exist.ear"),
        "{err}"
    );
    Ok(())
}
