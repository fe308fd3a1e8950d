//! Property tests: for random applications and updates, every change is
//! classified by exactly one rule, the aggregate is the strongest effect, and
//! both forms of the application give the same plan.

use ear_core::{Application, ClassLoaderPolicy, Effect, Op, Plan, PlanOptions, Settings, Update};
use ear_fixtures::random::{app_spec, build_ear, build_update};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn plans_classify_every_change_once(
        spec in app_spec(),
        choices in prop::collection::vec(any::<u8>(), 0..40),
        new_files in prop::collection::vec((0usize..4, "n[a-c]{1,2}\\.(jsp|class|xml)"), 0..4),
        single in any::<bool>(),
        nosec in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ear_bytes = build_ear(&spec);
        let ear = dir.path().join("app.ear");
        std::fs::write(&ear, &ear_bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expanded = dir.path().join("app");
        let uris: Vec<&str> = spec.modules.keys().map(String::as_str).collect();
        ear_fixtures::write_expanded(&ear_bytes, &expanded, &uris).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let zip = dir.path().join("u.zip");
        std::fs::write(&zip, build_update(&spec, &choices, &new_files)).map_err(|e| TestCaseError::fail(e.to_string()))?;

        let policy = if single { ClassLoaderPolicy::Single } else { ClassLoaderPolicy::Multiple };
        let settings = Settings::default().classloader_policy(policy).dynamic_security(!nosec);
        let options = PlanOptions::default().settings(settings).digest(false);
        let plan_of = |path: &std::path::Path| -> Result<Plan, TestCaseError> {
            let app = Application::open(path).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let update = Update::partial(&zip).map_err(|e| TestCaseError::fail(e.to_string()))?;
            Plan::new(&app, &update, &options).map_err(|e| TestCaseError::fail(e.to_string()))
        };
        let plan = plan_of(&ear)?;
        let other = plan_of(&expanded)?;

        let mut strongest = Effect::None;
        for c in &plan.changes {
            if c.op == Op::Unchanged {
                prop_assert!(c.rule.is_none() && c.effect == Effect::None && c.escalated_by.is_none());
            } else {
                let rule = c.rule.ok_or_else(|| TestCaseError::fail(format!("{} has no rule", c.path)))?;
                let (effect, by) = settings.escalate(rule.effect());
                prop_assert_eq!((c.effect, c.escalated_by), (effect, by), "{}", c.path);
            }
            strongest = strongest.max(c.effect);
        }
        prop_assert_eq!(plan.impact.effect, strongest);
        prop_assert_eq!(plan.impact.restart_application, strongest == Effect::RestartApplication);
        if plan.impact.restart_application {
            prop_assert!(plan.impact.restart_modules.is_empty() && plan.impact.start_modules.is_empty());
        }
        // Sorted by path, one change per path.
        prop_assert!(plan.changes.windows(2).all(|w| w[0].path < w[1].path));
        prop_assert_eq!(
            serde_json::to_value(&plan.changes).map_err(|e| TestCaseError::fail(e.to_string()))?,
            serde_json::to_value(&other.changes).map_err(|e| TestCaseError::fail(e.to_string()))?
        );
        prop_assert_eq!(&plan.impact, &other.impact);
    }
}
