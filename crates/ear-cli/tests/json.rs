//! One JSON document per command, each valid against its schema in
//! `schemas/` (checked by `common::run` for every `--format json` run of the
//! CLI tests): rollback over several steps, history with and without plans,
//! recover, and errors.

mod common;

use common::{root, run};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn json(out: &str) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_str(out)
}

#[test]
fn rollback_over_several_steps_is_one_document() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = dir.path().join("shop.ear");
    std::fs::copy(root().join("testdata/shop.ear"), &app)?;
    let app = app.display().to_string();
    let (code, first, err) = run(&["apply", &app, "testdata/shop-fix.zip", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let first = json(&first)?;
    assert_eq!(first["schema"], "earpatch.apply/v1");
    assert_eq!(first["outcome"], "applied");
    assert_eq!(
        first["digest_before"],
        first["plan"]["application"]["digest"]
    );
    let id = first["record"]["id"]
        .as_str()
        .ok_or("no record id")?
        .to_owned();
    let file = dir.path().join("notice.txt");
    std::fs::write(&file, "new notice\n")?;
    let (code, _, err) = run(&[
        "apply",
        &app,
        &file.display().to_string(),
        "--file",
        "legal/NOTICE.txt",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");

    // History: summaries by default, plans with --full.
    let (_, out, _) = run(&["history", &app, "--format", "json"]);
    let history = json(&out)?;
    assert_eq!(history["records"].as_array().map(Vec::len), Some(2));
    assert!(history["records"][0].get("plan").is_none());
    let (_, out, _) = run(&["history", &app, "--format", "json", "--full"]);
    let full = json(&out)?;
    assert_eq!(full["records"][0]["plan"]["schema"], "earpatch.plan/v1");

    // Both updates rolled back at once: --to the state before the first is
    // not expressible, so roll back to the first, then the first.
    let (code, out, err) = run(&["rollback", &app, "--to", &id, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc = json(&out)?;
    assert_eq!(doc["schema"], "earpatch.rollback/v1");
    assert_eq!(doc["steps"].as_array().map(Vec::len), Some(1));
    assert!(doc["steps"][0]["record"]["rolls_back"].is_string());
    let (code, out, err) = run(&["rollback", &app, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc = json(&out)?;
    assert_eq!(doc["steps"][0]["record"]["rolls_back"], id.as_str());
    assert_eq!(doc["steps"][0]["digest_after"], first["digest_before"]);

    let (code, out, _) = run(&["recover", &app, "--format", "json"]);
    assert_eq!(code, 0);
    let doc = json(&out)?;
    assert_eq!(
        (doc["schema"].as_str(), doc["outcome"].as_str()),
        (Some("earpatch.recover/v1"), Some("clean"))
    );
    Ok(())
}

#[test]
fn errors_are_a_document_on_stdout_and_a_line_on_stderr() -> TestResult {
    for args in [
        vec!["inspect", "testdata/missing.ear", "--format", "json"],
        vec![
            "plan",
            "testdata/shop.ear",
            "testdata/missing.zip",
            "--format",
            "json",
        ],
        vec![
            "apply",
            "testdata/shop-fix.zip",
            "testdata/shop.ear",
            "--dry-run",
            "--format",
            "json",
        ],
        vec!["history", "testdata/missing.ear", "--format", "json"],
        vec!["verify", "testdata/missing.ear", "--format", "json"],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 1, "{args:?}");
        let doc = json(&out)?;
        assert_eq!(doc["schema"], "earpatch.error/v1");
        assert_eq!(doc["command"], args[0]);
        assert_eq!(doc["exit_code"], 1);
        let message = doc["message"].as_str().ok_or("no message")?;
        assert_eq!(err.trim_end(), format!("error: {message}"), "{args:?}");
    }
    Ok(())
}

#[test]
fn the_schemas_refuse_what_they_do_not_document() -> TestResult {
    let (_, out, _) = run(&[
        "plan",
        "testdata/shop.ear",
        "testdata/shop-fix.zip",
        "--format",
        "json",
    ]);
    let plan = json(&out)?;
    assert!(common::validate(&plan).is_ok());
    let mut extra = plan.clone();
    extra["outcome"] = "applied".into(); // the undocumented key plan/v1 once had
    assert!(common::validate(&extra).is_err());
    let mut missing = plan.clone();
    missing.as_object_mut().map(|o| o.remove("impact"));
    assert!(common::validate(&missing).is_err());
    let mut wrong = plan;
    wrong["changes"][0]["op"] = "rename".into();
    assert!(common::validate(&wrong).is_err());
    Ok(())
}
