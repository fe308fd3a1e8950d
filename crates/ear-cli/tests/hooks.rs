//! The configuration file and its hooks, through the real binary and real
//! shell scripts: what a hook reads (the plan or the report on stdin, the
//! impact in `EARPATCH_*`), a failing pre-hook that leaves the application
//! and its state byte-identical, a failing post-hook that exits 4 with the
//! change kept, settings and limits taken from the file and overridden by
//! flags, and a file with a mistake named by line.

mod common;

use std::path::{Path, PathBuf};

use common::{root, run, scrub, validate};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A copy of the sample archive in `dir` and its state folder (holding
/// `config`, when given).
fn setup(dir: &Path, config: Option<&str>) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let app = dir.join("shop.ear");
    std::fs::copy(root().join("testdata/shop.ear"), &app)?;
    if let Some(text) = config {
        std::fs::create_dir(dir.join("shop.ear.earpatch"))?;
        write_config(&dir.join("shop.ear.earpatch/config.toml"), text)?;
    }
    Ok(app)
}

/// Writes a configuration file writable by its owner only (a file with
/// hooks that others may write is refused, whatever the umask).
fn write_config(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
}

/// An executable shell script at `dir/name`.
fn script(dir: &Path, name: &str, body: &str) -> Result<String, Box<dyn std::error::Error>> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n"))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(path.display().to_string())
}

/// Every file under `dir` (path and bytes), sorted: two snapshots are
/// equal when nothing was written, renamed or deleted.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.expect("walk"))
        .map(|e| {
            let bytes = if e.file_type().is_file() {
                std::fs::read(e.path()).expect("read")
            } else {
                Vec::new()
            };
            (e.path().to_path_buf(), bytes)
        })
        .collect();
    files.sort();
    files
}

/// A script that saves its stdin and environment under `dir/NAME.*`, then
/// exits with `code`.
fn recorder(dir: &Path, name: &str, code: i32) -> Result<String, Box<dyn std::error::Error>> {
    let out = dir.join(name).display().to_string();
    script(
        dir,
        &format!("{name}.sh"),
        &format!(
            "cat > '{out}.json'\nenv | grep '^EARPATCH_' | sort > '{out}.env'\n\
             echo 'hook chatter on stdout'\nexit {code}"
        ),
    )
}

/// The content digest of the application at `app`, as inspect prints it.
fn digest(app: &str) -> String {
    let (code, stdout, stderr) = run(&["inspect", app, "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let digest = doc["application"]["digest"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(digest.starts_with("sha256:"), "{stdout}");
    digest
}

fn env_of(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.env"))).unwrap_or_default()
}

fn json_of(dir: &Path, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("hook stdin saved");
    serde_json::from_str(&text).expect("a hook reads one JSON document")
}

#[test]
fn hooks_read_the_plan_and_the_report_and_the_impact() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (pre, post) = (
        recorder(dir.path(), "pre", 0)?,
        recorder(dir.path(), "post", 0)?,
    );
    let config = format!("[hooks]\npre-apply = \"{pre}\"\npost-apply = [\"{post}\"]\n");
    let app = setup(dir.path(), Some(&config))?;
    let app = app.display().to_string();

    let (code, stdout, stderr) = run(&["apply", &app, "testdata/shop-fix.zip", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    // The hooks' own stdout went to stderr: stdout is the one document.
    assert!(stderr.contains("hook chatter on stdout"), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout)?;
    let hooks = report["hooks"].as_array().expect("hooks listed");
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[0]["hook"], "pre-apply");
    assert_eq!(hooks[1]["hook"], "post-apply");
    assert!(hooks.iter().all(|h| h["ok"] == true && h["exit_code"] == 0));

    // pre-apply read the plan (spec §8), with the digest it was made against.
    let plan = json_of(dir.path(), "pre");
    assert_eq!(plan["schema"], "earpatch.plan/v1");
    validate(&plan)?;
    assert_eq!(plan["application"]["digest"], report["digest_before"]);
    assert_eq!(plan["changes"], report["plan"]["changes"]);
    let env = env_of(dir.path(), "pre");
    assert!(env.contains("EARPATCH_HOOK=pre-apply\n"), "{env}");
    assert!(
        env.contains("EARPATCH_EFFECT=restart-application\n"),
        "{env}"
    );
    assert!(env.contains("EARPATCH_RESTART_APPLICATION=true\n"), "{env}");
    assert!(env.contains(&format!("EARPATCH_APP={app}\n")), "{env}");
    assert!(env.contains("EARPATCH_DIGEST_AFTER=\n"), "{env}");

    // post-apply read the apply's report, and knows the record and digest.
    let applied = json_of(dir.path(), "post");
    assert_eq!(applied["schema"], "earpatch.apply/v1");
    validate(&applied)?;
    assert_eq!(applied["record"]["id"], report["record"]["id"]);
    let env = env_of(dir.path(), "post");
    let record = report["record"]["id"].as_str().unwrap_or_default();
    assert!(
        env.contains(&format!("EARPATCH_RECORDS={record}\n")),
        "{env}"
    );
    let after = report["digest_after"].as_str().unwrap_or_default();
    assert!(
        env.contains(&format!("EARPATCH_DIGEST_AFTER={after}\n")),
        "{env}"
    );

    // Applied again: nothing changes, so no hook runs.
    std::fs::remove_file(dir.path().join("pre.json"))?;
    std::fs::remove_file(dir.path().join("post.json"))?;
    let (code, stdout, stderr) = run(&["apply", &app, "testdata/shop-fix.zip", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let again: serde_json::Value = serde_json::from_str(&stdout)?;
    assert_eq!(again["outcome"], "up-to-date");
    assert_eq!(again["hooks"], serde_json::json!([]));
    assert!(!dir.path().join("pre.json").exists());
    assert!(!dir.path().join("post.json").exists());

    // status names the file and its hooks.
    let (code, stdout, _) = run(&["status", &app, "--format", "json"]);
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&stdout)?;
    assert_eq!(
        status["configuration"]["hooks"],
        serde_json::json!(["pre-apply", "post-apply"])
    );
    let (_, text, _) = run(&["status", &app]);
    assert!(
        text.contains("config.toml (hooks: pre-apply, post-apply)"),
        "{text}"
    );
    Ok(())
}

#[test]
fn a_failing_pre_apply_hook_leaves_everything_byte_identical() -> TestResult {
    let dir = tempfile::tempdir()?;
    let pre = recorder(dir.path(), "pre", 3)?;
    let app = setup(
        dir.path(),
        Some(&format!("[hooks]\npre-apply = \"{pre}\"\n")),
    )?;
    let app = app.display().to_string();
    let before = tree(dir.path());
    let (code, stdout, stderr) = run(&["apply", &app, "testdata/shop-fix.zip", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the pre-apply hook")
            && stderr.contains("exited with status 3")
            && stderr.contains("nothing was written"),
        "{stderr}"
    );
    let error: serde_json::Value = serde_json::from_str(&stdout)?;
    assert_eq!(error["schema"], "earpatch.error/v1");
    // The hook ran (it saved the plan), and nothing else moved.
    assert_eq!(json_of(dir.path(), "pre")["schema"], "earpatch.plan/v1");
    std::fs::remove_file(dir.path().join("pre.json"))?;
    std::fs::remove_file(dir.path().join("pre.env"))?;
    assert!(
        tree(dir.path()) == before,
        "a failed pre-apply hook must leave every byte as it was"
    );

    // --no-hooks skips it.
    let (code, _, stderr) = run(&["apply", &app, "testdata/shop-fix.zip", "--no-hooks"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!dir.path().join("pre.json").exists());
    Ok(())
}

#[test]
fn a_failing_post_apply_hook_exits_4_and_the_update_stays() -> TestResult {
    let dir = tempfile::tempdir()?;
    let post = recorder(dir.path(), "post", 2)?;
    let app = setup(
        dir.path(),
        Some(&format!("[hooks]\npost-apply = \"{post}\"\n")),
    )?;
    let app = app.display().to_string();
    let (code, stdout, stderr) = run(&["apply", &app, "testdata/shop-fix.zip"]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stdout.contains("applied as "), "{stdout}");
    assert!(
        stdout.contains("hooks: post-apply exited with status 2"),
        "{stdout}"
    );
    assert!(
        stderr.contains("error: the post-apply hook")
            && stderr.contains("the update is applied as ")
            && stderr.contains("stays so")
            && stderr.contains(&format!("earpatch rollback {app}")),
        "{stderr}"
    );
    let (code, history, _) = run(&["history", &app, "--format", "json"]);
    assert_eq!(code, 0);
    let history: serde_json::Value = serde_json::from_str(&history)?;
    assert_eq!(history["records"].as_array().map(Vec::len), Some(1));
    assert_eq!(history["records"][0]["status"], "applied");

    // The same in JSON: the report lists the failed hook.
    let (code, _, _) = run(&["rollback", &app, "--no-hooks"]);
    assert_eq!(code, 0);
    let (code, stdout, _) = run(&["apply", &app, "testdata/shop-fix.zip", "--format", "json"]);
    assert_eq!(code, 4);
    let report: serde_json::Value = serde_json::from_str(&stdout)?;
    assert_eq!(report["outcome"], "applied");
    assert_eq!(report["hooks"][0]["ok"], false);
    assert_eq!(report["hooks"][0]["exit_code"], 2);
    Ok(())
}

#[test]
fn a_pre_apply_hook_that_changes_the_application_is_caught() -> TestResult {
    // The apply is bound to the plan the hook read: a hook (or anyone)
    // changing the application in between makes the apply refuse.
    let dir = tempfile::tempdir()?;
    let app = dir.path().join("shop");
    ear_fixtures::write_expanded(
        &std::fs::read(root().join("testdata/shop.ear"))?,
        &app,
        &["catalog.war", "storefront.war"],
    )?;
    let meddler = script(
        dir.path(),
        "meddle.sh",
        &format!(
            "echo hot-deployed > '{}/storefront.war/extra.jsp'",
            app.display()
        ),
    )?;
    std::fs::create_dir(dir.path().join("shop.earpatch"))?;
    write_config(
        &dir.path().join("shop.earpatch/config.toml"),
        &format!("[hooks]\npre-apply = \"{meddler}\"\n"),
    )?;
    let app = app.display().to_string();
    let (code, _, stderr) = run(&["apply", &app, "testdata/shop-fix.zip"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("changed since the plan was approved"),
        "{stderr}"
    );
    let (_, history, _) = run(&["history", &app, "--format", "json"]);
    let history: serde_json::Value = serde_json::from_str(&history)?;
    assert_eq!(history["records"], serde_json::json!([]));
    Ok(())
}

#[test]
fn rollback_hooks_read_the_rollback_and_a_failing_pre_hook_stops_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (pre, post) = (
        recorder(dir.path(), "pre", 0)?,
        recorder(dir.path(), "post", 0)?,
    );
    let failing = recorder(dir.path(), "veto", 1)?;
    let app = setup(dir.path(), None)?;
    let app = app.display().to_string();
    let (code, _, stderr) = run(&["apply", &app, "testdata/shop-fix.zip"]);
    assert_eq!(code, 0, "{stderr}");
    let config = dir.path().join("shop.ear.earpatch/config.toml");

    write_config(&config, &format!("[hooks]\npre-rollback = \"{failing}\"\n"))?;
    let before = tree(&dir.path().join("shop.ear.earpatch"));
    let app_before = std::fs::read(&app)?;
    let (code, _, stderr) = run(&["rollback", &app]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("the pre-rollback hook"), "{stderr}");
    assert!(
        std::fs::read(&app)? == app_before,
        "the application changed"
    );
    assert!(
        tree(&dir.path().join("shop.ear.earpatch")) == before,
        "the state changed"
    );

    write_config(
        &config,
        &format!("[hooks]\npre-rollback = \"{pre}\"\npost-rollback = \"{post}\"\n"),
    )?;
    let (code, stdout, stderr) = run(&["rollback", &app, "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout)?;
    let planned = json_of(dir.path(), "pre");
    assert_eq!(planned["schema"], "earpatch.rollback/v1");
    assert_eq!(planned["steps"][0]["outcome"], "dry-run");
    validate(&planned)?;
    let done = json_of(dir.path(), "post");
    assert_eq!(done["steps"][0]["outcome"], "applied");
    assert_eq!(done["steps"][0]["record"], report["steps"][0]["record"]);
    let env = env_of(dir.path(), "post");
    assert!(env.contains("EARPATCH_HOOK=post-rollback\n"), "{env}");
    assert!(
        env.contains("EARPATCH_EFFECT=restart-application\n"),
        "{env}"
    );
    assert_eq!(digest(&app), digest("testdata/shop.ear"));
    Ok(())
}

/// A one-file update of a web module's `WEB-INF/web.xml`: P5, a module
/// restart, unless the class loader policy is single (E1).
fn web_xml_update(dir: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let path = dir.join("web.xml");
    std::fs::write(&path, "<web-app/>\n")?;
    Ok(path.display().to_string())
}

fn effect(stdout: &str) -> String {
    let plan: serde_json::Value = serde_json::from_str(stdout).expect("json");
    plan["impact"]["effect"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn settings_and_limits_come_from_the_file_and_flags_override_them() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = setup(
        dir.path(),
        Some("[deployment]\nclassloader-policy = \"single\"\n\n[limits]\nmax-entries = 3\n"),
    )?;
    let app = app.display().to_string();
    let update = web_xml_update(dir.path())?;
    let plan = |extra: &[&str]| {
        let mut args = vec![
            "plan",
            &app,
            &update,
            "--file",
            "storefront.war/WEB-INF/web.xml",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    // max-entries = 3 refuses the sample (more entries than that).
    let (code, _, stderr) = plan(&[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("entries"), "{stderr}");
    // The flag overrides the file's limit; the file's policy applies.
    let (code, stdout, stderr) = plan(&["--max-entries", "1000"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(effect(&stdout), "restart-application");
    // The flag overrides the file's policy.
    let (code, stdout, _) = plan(&["--max-entries", "1000", "--classloader-policy", "multiple"]);
    assert_eq!(code, 0);
    assert_eq!(effect(&stdout), "restart-module");

    // --config names another file; the one beside the state is then unread.
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "[deployment]\ndynamic-security = false\n")?;
    let other = other.display().to_string();
    let (code, stdout, stderr) = plan(&["--config", &other]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(effect(&stdout), "restart-application");
    let (code, stdout, _) = plan(&["--config", &other, "--dynamic-security"]);
    assert_eq!(code, 0);
    assert_eq!(effect(&stdout), "restart-module");
    Ok(())
}

#[test]
fn a_mistake_in_the_file_is_named_with_its_line() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = setup(
        dir.path(),
        Some("[hooks]\npre-apply = \"true\"\npost-aply = \"true\"\n"),
    )?;
    let app = app.display().to_string();
    let before = std::fs::read(&app)?;
    let (code, stdout, stderr) = run(&["apply", &app, "testdata/shop-fix.zip", "--format", "json"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("config.toml") && stderr.contains("line 3") && stderr.contains("post-aply"),
        "{stderr}"
    );
    let error: serde_json::Value = serde_json::from_str(&stdout)?;
    assert_eq!(error["schema"], "earpatch.error/v1");
    assert!(std::fs::read(&app)? == before, "the application changed");

    let missing = dir.path().join("missing.toml").display().to_string();
    let (code, _, stderr) = run(&["inspect", &app, "--config", &missing]);
    assert_eq!(code, 1);
    assert!(stderr.contains("missing.toml"), "{stderr}");
    Ok(())
}

#[test]
fn what_an_operator_reads_when_hooks_fail() -> TestResult {
    let dir = tempfile::tempdir()?;
    let pre = script(dir.path(), "drain.sh", "echo draining; exit 3")?;
    let post = script(
        dir.path(),
        "restart.sh",
        "echo restarting $EARPATCH_EFFECT; exit 2",
    )?;
    let app = setup(
        dir.path(),
        Some(&format!("[hooks]\npre-apply = \"{pre}\"\n")),
    )?;
    let app = app.display().to_string();
    let mut transcript = String::new();
    let mut record = |args: &[&str]| {
        let (code, stdout, stderr) = run(args);
        let tail: Vec<&str> = stdout.lines().rev().take(6).collect();
        transcript.push_str(&format!(
            "$ earpatch {} (exit {code})\n[stdout, last lines]\n{}\n[stderr]\n{stderr}\n",
            args.join(" "),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    };
    record(&["apply", &app, "testdata/shop-fix.zip"]);
    write_config(
        &dir.path().join("shop.ear.earpatch/config.toml"),
        &format!("[hooks]\npost-apply = \"{post}\"\n"),
    )?;
    record(&["apply", &app, "testdata/shop-fix.zip"]);
    write_config(
        &dir.path().join("shop.ear.earpatch/config.toml"),
        "[hooks]\npost-aply = \"x\"\n",
    )?;
    record(&["status", &app]);
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{8}_\d{6}", "[ID]");
    settings.bind(|| insta::assert_snapshot!(scrub(&transcript, dir.path())));
    Ok(())
}
