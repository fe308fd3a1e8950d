//! `earpatch verify`: its texts and JSON on a clean, a drifted and a new
//! application, and its exit codes (0 clean, 1 drifted or error).

mod common;

use common::{root, run, scrub};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// An expanded copy of the sample (modules as directories) in `dir`.
fn expanded_sample(
    dir: &std::path::Path,
) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let app = dir.join("shop");
    let bytes = std::fs::read(root().join("testdata/shop.ear"))?;
    ear_fixtures::write_expanded(&bytes, &app, &["catalog.war", "storefront.war"])?;
    Ok(app)
}

#[test]
fn verify_texts_clean_drifted_and_without_baseline() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = expanded_sample(dir.path())?;
    let app_arg = app.display().to_string();
    let mut shots = String::new();

    let (code, out, err) = run(&["verify", &app_arg]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    shots.push_str(&format!("$ earpatch verify APP (no history)\n{out}\n"));

    let (code, _, err) = run(&["apply", &app_arg, "testdata/shop-fix.zip"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&["verify", &app_arg]);
    assert_eq!(code, 0, "{out}");
    shots.push_str(&format!("$ earpatch verify APP (after apply)\n{out}\n"));

    std::fs::write(app.join("storefront.war/welcome.jsp"), "<p>hot fix</p>\n")?;
    std::fs::write(app.join("catalog.war/catalog/extra.jsp"), "<p>new</p>\n")?;
    let (code, out, err) = run(&["verify", &app_arg]);
    assert_eq!(code, 1, "drift exits 1: {out}{err}");
    assert_eq!(err, "", "drift is a result, not an error");
    shots.push_str(&format!(
        "$ earpatch verify APP (hot-deployed files)\n{out}\n"
    ));

    let (code, out, _) = run(&["verify", &app_arg, "--format", "markdown"]);
    assert_eq!(code, 1);
    shots.push_str(&format!("$ earpatch verify APP --format markdown\n{out}"));
    insta::assert_snapshot!(scrub(&shots, dir.path()));
    Ok(())
}

#[test]
fn verify_json_names_the_drifted_files() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = expanded_sample(dir.path())?;
    let app_arg = app.display().to_string();
    let (code, _, err) = run(&["apply", &app_arg, "testdata/shop-fix.zip"]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_file(app.join("META-INF/MANIFEST.MF"))?;
    let (code, out, _) = run(&["verify", &app_arg, "--format", "json"]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(doc["schema"], "earpatch.verify/v1");
    assert_eq!(doc["clean"], false);
    assert_eq!(doc["baseline"], "record");
    assert_eq!(
        doc["drifted"],
        serde_json::json!([{ "path": "META-INF/MANIFEST.MF", "change": "deleted" }])
    );
    assert_eq!(doc["drifted_known"], true);
    assert_ne!(doc["digest"], doc["expected"]);

    // Against another digest: the master copy's, given on the command line.
    let (_, master, _) = run(&["inspect", "testdata/shop.ear", "--format", "json"]);
    let master: serde_json::Value = serde_json::from_str(&master)?;
    let digest = master["application"]["digest"]
        .as_str()
        .ok_or("no digest")?;
    let (code, out, _) = run(&[
        "verify",
        &app_arg,
        "--expect-digest",
        digest,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(
        (doc["baseline"].as_str(), doc["expected"].as_str()),
        (Some("option"), Some(digest))
    );
    Ok(())
}

#[test]
fn verify_refuses_bad_input_with_one_line() -> TestResult {
    let (code, out, err) = run(&["verify", "testdata/does-not-exist.ear"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with("error: ") && err.contains("does-not-exist.ear"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "verify",
        "testdata/shop.ear",
        "--expect-digest",
        "sha256:12",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("--expect-digest"), "{err}");
    Ok(())
}
