//! Typed records: the plan a history record keeps reads back, through
//! `Record::plan`, as what the applied `Plan` said, field by field; a
//! damaged plan is an error naming the record.

use std::path::{Path, PathBuf};

use ear_core::{
    ApplyOptions, ClassLoaderPolicy, Error, Plan, PlanOptions, RecordedPlan, RollbackOptions,
    Settings, Update, apply, history, rollback,
};
use ear_fixtures::random::{app_spec, build_ear, build_update};
use ear_fixtures::sample::{shop_ear, shop_fix_zip, worked_example_ear, worked_example_zip};
use ear_fixtures::{ZipBuilder, write_expanded};
use proptest::prelude::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Checks that `recorded` says what `plan` says, on every field its JSON has.
fn agrees(recorded: &RecordedPlan, plan: &Plan) -> Result<(), String> {
    fn same<T: PartialEq + std::fmt::Debug>(what: &str, a: &T, b: &T) -> Result<(), String> {
        if a == b {
            Ok(())
        } else {
            Err(format!("{what}: {a:?} != {b:?}"))
        }
    }
    same("schema", &recorded.schema.as_str(), &plan.schema)?;
    same("application", &recorded.application, &plan.application)?;
    same("update", &recorded.update, &plan.update)?;
    same("changes", &recorded.changes.len(), &plan.changes.len())?;
    for (r, c) in recorded.changes.iter().zip(&plan.changes) {
        same(
            "change",
            &(
                &r.path,
                &r.scope,
                r.op,
                r.rule,
                r.effect,
                r.escalated_by,
                &r.module,
            ),
            &(
                &c.path,
                &c.scope,
                c.op,
                c.rule,
                c.effect,
                c.escalated_by,
                &c.module,
            ),
        )?;
    }
    same("impact", &recorded.impact, &plan.impact)?;
    same("warnings", &recorded.warnings, &plan.warnings)
}

/// Writes `bytes` to `dir/name`.
fn put(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, std::io::Error> {
    let path = dir.join(name);
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// Applies `update` in place and checks the record's plan against the report's.
fn apply_and_check(app: &Path, update: &Update, settings: Settings) -> TestResult {
    let options = ApplyOptions::default().plan(PlanOptions::default().settings(settings));
    let report = apply(app, update, &options)?;
    let record = report.record.ok_or("the apply wrote no record")?;
    agrees(&record.plan()?, &report.plan)?;
    // What the history reads back from disk says the same.
    let read = history(app, None)?
        .into_iter()
        .find(|r| r.id == record.id)
        .ok_or("the record is not in the history")?;
    agrees(&read.plan()?, &report.plan)?;
    Ok(())
}

/// A sample: name, application, partial update, module URIs.
type Sample = (&'static str, Vec<u8>, Vec<u8>, &'static [&'static str]);

#[test]
fn every_sample_run_records_a_plan_that_reads_back() -> TestResult {
    let dir = tempfile::tempdir()?;
    let settings = [
        Settings::default(),
        Settings::default()
            .classloader_policy(ClassLoaderPolicy::Single)
            .dynamic_security(false),
    ];
    let samples: [Sample; 2] = [
        (
            "shop",
            shop_ear(),
            shop_fix_zip(),
            &[
                "storefront.war",
                "catalog.war",
                "shop-ejb.jar",
                "payments.rar",
            ],
        ),
        (
            "worked",
            worked_example_ear(),
            worked_example_zip(),
            &["foo.jar", "xyz.war", "webmod.war"],
        ),
    ];
    let mut records = 0;
    for (name, ear, fix, modules) in &samples {
        for (i, settings) in settings.iter().enumerate() {
            let work = dir.path().join(format!("{name}-{i}"));
            std::fs::create_dir(&work)?;
            let archive = put(&work, "app.ear", ear)?;
            let expanded = work.join("app");
            write_expanded(ear, &expanded, modules)?;
            let fix = put(&work, "fix.zip", fix)?;
            // The full update: the partial one applied to a copy, with -o.
            let new_ear = work.join("new.ear");
            apply(
                &archive,
                &Update::partial(&fix)?,
                &ApplyOptions::default().output(&new_ear),
            )?;
            // A module update that adds a module (whole-module change, M1).
            let war = ZipBuilder::new()
                .file("WEB-INF/web.xml", "<web-app/>")
                .file("index.jsp", "<p>new</p>")
                .finish();
            let war = put(&work, "extra.war", &war)?;
            for app in [&archive, &expanded] {
                apply_and_check(app, &Update::partial(&fix)?, *settings)?;
                apply_and_check(app, &Update::module(&war, "extra.war")?, *settings)?;
                apply_and_check(app, &Update::full(&new_ear)?, *settings)?;
                // Rollbacks are records too; their plans are the undo bundles'.
                for report in rollback(app, &RollbackOptions::default())? {
                    let record = report.record.ok_or("the rollback wrote no record")?;
                    agrees(&record.plan()?, &report.plan)?;
                }
                let all = history(app, None)?;
                assert_eq!(all.len(), 4, "{}", app.display());
                for record in &all {
                    let plan = record.plan()?;
                    assert_eq!(plan.application.digest, Some(record.digest_before));
                    assert_eq!(plan.impact, record.impact);
                    assert_eq!(plan.update.kind, record.kind);
                    records += 1;
                }
            }
        }
    }
    assert_eq!(records, 2 * 2 * 2 * 4);
    Ok(())
}

#[test]
fn a_damaged_plan_is_an_error_naming_the_record() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ear = put(dir.path(), "shop.ear", &shop_ear())?;
    let fix = put(dir.path(), "fix.zip", &shop_fix_zip())?;
    let record = apply(&ear, &Update::partial(&fix)?, &ApplyOptions::default())?
        .record
        .ok_or("no record")?;
    let text = record.plan.get();
    let damaged = [
        // Not an op earpatch writes.
        text.replacen("\"op\":\"replace\"", "\"op\":\"rewrite\"", 1),
        // A scope that is no entry path.
        text.replacen("\"scope\":\"\"", "\"scope\":\"../up\"", 1),
        // Another schema.
        text.replacen("earpatch.plan/v1", "earpatch.plan/v9", 1),
        // A required field gone.
        text.replacen("\"impact\":", "\"impacts\":", 1),
    ];
    for bad in damaged {
        assert_ne!(bad, text, "the damage did not apply");
        let mut broken = record.clone();
        broken.plan = serde_json::value::RawValue::from_string(bad)?;
        let err = broken.plan().err().ok_or("a damaged plan was read")?;
        let Error::Refused { location, message } = &err else {
            return Err(format!("not a refusal: {err}").into());
        };
        assert_eq!(location, &format!("history/{}/record.json", record.id));
        assert!(message.contains(&record.id), "{message}");
        assert!(message.contains("restore it from a backup"), "{message}");
    }
    // The intact one reads.
    assert_eq!(record.plan()?.changes.len(), {
        let v: serde_json::Value = serde_json::from_str(text)?;
        v["changes"].as_array().map_or(0, Vec::len)
    });
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// For random applications, updates and settings, in both forms, the
    /// plan's JSON parses back into a `RecordedPlan` that agrees with it.
    #[test]
    fn recorded_plans_agree_with_their_plan(
        spec in app_spec(),
        choices in prop::collection::vec(any::<u8>(), 0..40),
        new_files in prop::collection::vec((0usize..4, "n[a-c]{1,2}\\.(jsp|class|xml)"), 0..4),
        single in any::<bool>(),
        nosec in any::<bool>(),
        digest in any::<bool>(),
    ) {
        let fail = |e: &dyn std::fmt::Display| TestCaseError::fail(e.to_string());
        let dir = tempfile::tempdir().map_err(|e| fail(&e))?;
        let ear_bytes = build_ear(&spec);
        let ear = put(dir.path(), "app.ear", &ear_bytes).map_err(|e| fail(&e))?;
        let expanded = dir.path().join("app");
        let uris: Vec<&str> = spec.modules.keys().map(String::as_str).collect();
        write_expanded(&ear_bytes, &expanded, &uris).map_err(|e| fail(&e))?;
        let zip = put(dir.path(), "u.zip", &build_update(&spec, &choices, &new_files))
            .map_err(|e| fail(&e))?;
        let policy = if single { ClassLoaderPolicy::Single } else { ClassLoaderPolicy::Multiple };
        let settings = Settings::default().classloader_policy(policy).dynamic_security(!nosec);
        let options = PlanOptions::default().settings(settings).digest(digest);
        for app in [&ear, &expanded] {
            let app = ear_core::Application::open(app).map_err(|e| fail(&e))?;
            let update = Update::partial(&zip).map_err(|e| fail(&e))?;
            let plan = Plan::new(&app, &update, &options).map_err(|e| fail(&e))?;
            let text = serde_json::to_string(&plan).map_err(|e| fail(&e))?;
            let recorded: RecordedPlan = serde_json::from_str(&text).map_err(|e| fail(&e))?;
            agrees(&recorded, &plan).map_err(|e| fail(&e))?;
        }
    }
}
