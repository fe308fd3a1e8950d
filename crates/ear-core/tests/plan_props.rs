//! Property tests: for random applications and updates, every change is
//! classified by exactly one rule, the aggregate is the strongest effect, and
//! both forms of the application give the same plan.

use std::collections::BTreeMap;

use ear_core::{Application, ClassLoaderPolicy, Effect, Op, Plan, PlanOptions, Settings, Update};
use ear_fixtures::{ZipBuilder, zip_of};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct AppSpec {
    /// module URI → (is web, files)
    modules: BTreeMap<String, (bool, BTreeMap<String, u8>)>,
    app_files: BTreeMap<String, u8>,
}

const DIRS: [&str; 5] = ["", "WEB-INF/", "META-INF/", "css/", "WEB-INF/classes/"];

fn file_name() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&DIRS[..]),
        "[a-c]{1,2}",
        prop::sample::select(&["jsp", "xml", "class", "dat"][..]),
    )
        .prop_map(|(d, n, e)| format!("{d}{n}.{e}"))
}

fn files() -> impl Strategy<Value = BTreeMap<String, u8>> {
    prop::collection::btree_map(file_name(), 0u8..4, 1..6)
}

fn app_spec() -> impl Strategy<Value = AppSpec> {
    (
        prop::collection::btree_map("[a-c]{1,2}", (any::<bool>(), files()), 1..4),
        prop::collection::btree_map(
            (
                prop::sample::select(&["", "META-INF/", "lib/", "conf/"][..]),
                "[a-c]{1,2}",
            )
                .prop_map(|(d, n)| format!("{d}{n}.dat")),
            0u8..4,
            0..5,
        ),
    )
        .prop_map(|(mods, app_files)| AppSpec {
            modules: mods
                .into_iter()
                .map(|(name, (web, files))| {
                    (
                        format!("{name}.{}", if web { "war" } else { "jar" }),
                        (web, files),
                    )
                })
                .collect(),
            app_files,
        })
}

fn content(tag: u8, path: &str) -> Vec<u8> {
    format!("{path}#{tag}").into_bytes()
}

fn build_ear(spec: &AppSpec) -> Vec<u8> {
    let mut xml = String::from("<application version=\"7\">");
    for (uri, (web, _)) in &spec.modules {
        if *web {
            xml.push_str(&format!("<module><web><web-uri>{uri}</web-uri><context-root>/x</context-root></web></module>"));
        } else {
            xml.push_str(&format!("<module><ejb>{uri}</ejb></module>"));
        }
    }
    xml.push_str("</application>");
    let mut ear = ZipBuilder::new().file("META-INF/application.xml", xml);
    for (uri, (_, files)) in &spec.modules {
        let module = files
            .iter()
            .fold(ZipBuilder::new(), |b, (p, t)| b.file(p, content(*t, p)))
            .finish();
        ear = ear.file(uri, module);
    }
    for (p, t) in &spec.app_files {
        ear = ear.file(p, content(*t, p));
    }
    ear.finish()
}

/// An update derived from the application: for each chosen file, ship the same
/// bytes, new bytes, or delete it via a delete list; plus some new files.
fn build_update(spec: &AppSpec, choices: &[u8], new_files: &[(usize, String)]) -> Vec<u8> {
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut deletes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut all: Vec<(String, String, u8)> = spec
        .app_files
        .iter()
        .map(|(p, t)| (String::new(), p.clone(), *t))
        .collect();
    for (uri, (_, files)) in &spec.modules {
        all.extend(files.iter().map(|(p, t)| (uri.clone(), p.clone(), *t)));
    }
    for (i, (scope, path, tag)) in all.iter().enumerate() {
        let full = if scope.is_empty() {
            path.clone()
        } else {
            format!("{scope}/{path}")
        };
        match choices.get(i).copied().unwrap_or(0) % 4 {
            1 => entries.push((full, content(*tag, path))),
            2 => entries.push((full, content(tag + 10, path))),
            3 if path != "META-INF/application.xml" => deletes
                .entry(scope.clone())
                .or_default()
                .push(regex::escape(path)),
            _ => {}
        }
    }
    let uris: Vec<&String> = spec.modules.keys().collect();
    for (target, name) in new_files {
        let path = match target % (uris.len() + 1) {
            0 => format!("new/{name}"),
            i => format!("{}/{name}", uris[i - 1]),
        };
        entries.push((path, b"new".to_vec()));
    }
    for (scope, lines) in deletes {
        let path = if scope.is_empty() {
            "META-INF/ibm-partialapp-delete.props".to_owned()
        } else {
            format!("{scope}/META-INF/ibm-partialapp-delete.props")
        };
        entries.push((path, lines.join("\n").into_bytes()));
    }
    entries.sort();
    entries.dedup_by(|a, b| a.0 == b.0);
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    zip_of(&refs)
}

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
