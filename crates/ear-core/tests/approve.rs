//! Approve, then apply: an approved plan is applied only to the content and
//! with the update bytes it was made from, and only if planning again gives
//! the same changes; anything else is refused with nothing written.

use ear_core::{
    Application, ApplyOptions, Approval, ClassLoaderPolicy, Outcome, Plan, PlanOptions, Settings,
    Update, apply,
};
use ear_fixtures::sample;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn only_the_approved_plan_is_applied() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ear = dir.path().join("shop.ear");
    let zip = dir.path().join("fix.zip");
    std::fs::write(&ear, sample::shop_ear())?;
    std::fs::write(&zip, sample::shop_fix_zip())?;
    let update = Update::infer(&zip)?;
    let plan = Plan::new(&Application::open(&ear)?, &update, &PlanOptions::default())?;
    let approval = Approval::of(&plan, &update)?;
    let original = std::fs::read(&ear)?;

    // The update's bytes changed after the review.
    let mut other = sample::shop_fix_zip();
    other.extend_from_slice(b"trailing bytes");
    std::fs::write(&zip, &other)?;
    let err = apply(
        &ear,
        &Update::infer(&zip)?,
        &ApplyOptions::default().approved(approval.clone()),
    )
    .err()
    .ok_or("a changed update was applied")?;
    assert!(
        err.to_string()
            .contains("changed since the plan was approved"),
        "{err}"
    );
    assert_eq!(std::fs::read(&ear)?, original);
    std::fs::write(&zip, sample::shop_fix_zip())?;

    // Other settings give another plan: refused too. (Single class loader
    // turns module restarts into application restarts; here the plan already
    // restarts the application, so take a plan that restarts a module.)
    let web = dir.path().join("web.xml");
    std::fs::write(&web, "<web-app/>")?;
    let file_update = Update::file(&web, "catalog.war/WEB-INF/web.xml")?;
    let module_plan = Plan::new(
        &Application::open(&ear)?,
        &file_update,
        &PlanOptions::default(),
    )?;
    let module_approval = Approval::of(&module_plan, &file_update)?;
    let single = ApplyOptions::default()
        .plan(
            PlanOptions::default()
                .settings(Settings::default().classloader_policy(ClassLoaderPolicy::Single)),
        )
        .approved(module_approval.clone());
    let err = apply(&ear, &file_update, &single)
        .err()
        .ok_or("another plan was applied")?;
    assert!(err.to_string().contains("other changes"), "{err}");
    assert_eq!(std::fs::read(&ear)?, original);

    // The approved plan, as approved: applied, to a new file or in place.
    let out = dir.path().join("out.ear");
    let report = apply(
        &ear,
        &update,
        &ApplyOptions::default()
            .output(&out)
            .approved(approval.clone()),
    )?;
    assert_eq!(report.outcome, Outcome::Applied);
    let report = apply(
        &ear,
        &update,
        &ApplyOptions::default().approved(approval.clone()),
    )?;
    assert_eq!(report.outcome, Outcome::Applied);
    assert_eq!(report.plan.application.digest, Some(approval.digest));
    // Applied once, the application moved on: the approval is spent.
    assert!(apply(&ear, &update, &ApplyOptions::default().approved(approval)).is_err());
    // A plan made without the digest cannot be approved.
    let blind = Plan::new(
        &Application::open(&ear)?,
        &update,
        &PlanOptions::default().digest(false),
    )?;
    assert!(Approval::of(&blind, &update).is_err());
    Ok(())
}
