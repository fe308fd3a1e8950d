//! Property test: for random applications and partial updates, applying in
//! place gives the same content in the archive and the expanded form, the
//! content the plan predicted, and rollback returns exactly the original.

use ear_core::{Application, Update};
use ear_core::{ApplyOptions, Outcome, RollbackOptions, apply, rollback};
use ear_fixtures::random::{app_spec, build_ear, build_update};
use proptest::prelude::*;

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn both_forms_agree_and_rollback_restores(
        spec in app_spec(),
        choices in prop::collection::vec(any::<u8>(), 0..40),
        new_files in prop::collection::vec((0usize..4, "n[a-c]{1,2}\\.(jsp|class|xml)"), 0..4),
    ) {
        let dir = tempfile::tempdir().map_err(fail)?;
        let ear_bytes = build_ear(&spec);
        let ear = dir.path().join("app.ear");
        std::fs::write(&ear, &ear_bytes).map_err(fail)?;
        let expanded = dir.path().join("app");
        let uris: Vec<&str> = spec.modules.keys().map(String::as_str).collect();
        ear_fixtures::write_expanded(&ear_bytes, &expanded, &uris).map_err(fail)?;
        let zip = dir.path().join("u.zip");
        std::fs::write(&zip, build_update(&spec, &choices, &new_files)).map_err(fail)?;

        let original = Application::open(&ear).map_err(fail)?.digest().map_err(fail)?;
        let mut results = Vec::new();
        for app in [&ear, &expanded] {
            let report = apply(app, &Update::partial(&zip).map_err(fail)?, &ApplyOptions::default()).map_err(fail)?;
            let now = Application::open(app).map_err(fail)?.digest().map_err(fail)?;
            // Read through the content index the apply left, the digest is the same.
            let indexed = ear_core::inventory(&Application::open(app).map_err(fail)?, None).map_err(fail)?;
            prop_assert_eq!(indexed.digest(), now);
            if report.outcome == Outcome::Applied {
                prop_assert_eq!(Some(now), report.digest_after);
            } else {
                prop_assert_eq!(now, original);
            }
            results.push((report.outcome, now));
        }
        prop_assert_eq!(results[0], results[1]);
        if results[0].0 == Outcome::Applied {
            for app in [&ear, &expanded] {
                rollback(app, &RollbackOptions::default()).map_err(fail)?;
                let back = Application::open(app).map_err(fail)?.digest().map_err(fail)?;
                prop_assert_eq!(back, original);
                let indexed = ear_core::inventory(&Application::open(app).map_err(fail)?, None).map_err(fail)?;
                prop_assert_eq!(indexed.digest(), original);
            }
        }
    }
}
