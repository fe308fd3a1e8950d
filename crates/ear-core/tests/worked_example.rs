//! Spec §4, the worked example, on both forms of the application.

use ear_core::{Application, Effect, Op, Plan, PlanOptions, Rule, Update};
use ear_fixtures::sample;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn plan_both() -> Result<(Plan, Plan), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let ear = dir.path().join("app.ear");
    std::fs::write(&ear, sample::worked_example_ear())?;
    let expanded = dir.path().join("app");
    ear_fixtures::write_expanded(
        &sample::worked_example_ear(),
        &expanded,
        &sample::WORKED_EXAMPLE_MODULES,
    )?;
    let zip = dir.path().join("update.zip");
    std::fs::write(&zip, sample::worked_example_zip())?;
    let options = PlanOptions::default();
    let a = Plan::new(&Application::open(&ear)?, &Update::partial(&zip)?, &options)?;
    let b = Plan::new(
        &Application::open(&expanded)?,
        &Update::partial(&zip)?,
        &options,
    )?;
    Ok((a, b))
}

#[test]
fn worked_example_changes_and_impact() -> TestResult {
    let (plan, expanded) = plan_both()?;
    let got: Vec<(&str, Op, Option<Rule>, Effect)> = plan
        .changes
        .iter()
        .map(|c| (c.path.as_str(), c.op, c.rule, c.effect))
        .collect();
    use Effect::{Hot, RestartApplication as App, RestartModule as Mod};
    assert_eq!(
        got,
        [
            ("a.dat", Op::Delete, Some(Rule::P2), App),
            ("conf/b.dat", Op::Delete, Some(Rule::P2), App),
            ("foo.jar/com/mycomp/xyz.class", Op::Add, Some(Rule::P4), App),
            ("tools/test.jar", Op::Delete, Some(Rule::P2), App),
            ("util.jar", Op::Replace, Some(Rule::P2), App),
            (
                "webmod.war/WEB-INF/test.xmi",
                Op::Delete,
                Some(Rule::P5),
                Mod
            ),
            (
                "webmod.war/com/test/sub/y.jsp",
                Op::Delete,
                Some(Rule::P6),
                Hot
            ),
            ("webmod.war/com/test/x.jsp", Op::Delete, Some(Rule::P6), Hot),
            ("xyz.war/WEB-INF/web.xml", Op::Replace, Some(Rule::P5), Mod),
            ("xyz.war/welcome.jsp", Op::Add, Some(Rule::P6), Hot),
        ]
    );
    assert_eq!(plan.impact.effect, Effect::RestartApplication);
    assert!(plan.impact.restart_application);
    assert!(plan.impact.restart_modules.is_empty() && plan.impact.start_modules.is_empty());
    // Nothing inside a module is deleted by the application-scope ".*.dat".
    assert!(
        !plan
            .changes
            .iter()
            .any(|c| c.path.as_str() == "webmod.war/data/inside.dat")
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    // Both forms plan the same.
    assert_eq!(
        serde_json::to_value(&plan.changes)?,
        serde_json::to_value(&expanded.changes)?
    );
    assert_eq!(plan.impact, expanded.impact);
    assert_eq!(plan.application.digest, expanded.application.digest);
    Ok(())
}

#[test]
fn plan_json_has_the_spec_fields() -> TestResult {
    let (plan, _) = plan_both()?;
    let v = serde_json::to_value(&plan)?;
    assert_eq!(v["schema"], "earpatch.plan/v1");
    assert_eq!(v["application"]["form"], "archive");
    assert!(
        v["application"]["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    assert_eq!(v["update"]["kind"], "partial");
    let first = &v["changes"][0];
    let mut keys: Vec<&str> = first
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["effect", "escalated_by", "op", "path", "rule", "scope"]
    );
    assert_eq!(first["scope"], "");
    assert_eq!(v["changes"][5]["scope"], "webmod.war");
    assert_eq!(v["impact"]["effect"], "restart-application");
    assert_eq!(v["impact"]["restart_application"], true);
    assert_eq!(v["warnings"], serde_json::json!([]));
    Ok(())
}

#[test]
fn planning_writes_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ear = dir.path().join("app.ear");
    let zip = dir.path().join("update.zip");
    std::fs::write(&ear, sample::worked_example_ear())?;
    std::fs::write(&zip, sample::worked_example_zip())?;
    let before: Vec<_> = std::fs::read_dir(dir.path())?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    Plan::new(
        &Application::open(&ear)?,
        &Update::partial(&zip)?,
        &PlanOptions::default(),
    )?;
    let after: Vec<_> = std::fs::read_dir(dir.path())?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    assert_eq!(before, after);
    assert_eq!(std::fs::read(&ear)?, sample::worked_example_ear());
    Ok(())
}
