//! Restart rules (spec §2, §3, §9): every rule F1, M1-M3, P1-P6, E1-E2, the
//! "unchanged" decision, delete-list warnings and refusals, each checked on
//! both forms of one synthetic application (archive and expanded), which must
//! give the same changes, impact and warnings.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::PathBuf;

use ear_core::{
    Application, ClassLoaderPolicy, Effect, EntryPath, Escalation, Form, ModuleKind, Op, Plan,
    PlanOptions, Rule, Settings, Update, WarningCode,
};
use ear_fixtures::{Method, ZipBuilder, class_bytes, write_expanded, zip_of};

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// The module URIs of the base application.
const URIS: [&str; 5] = ["client.jar", "ejb.jar", "ra.rar", "voice.sar", "web.war"];

const APP_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<application xmlns="https://jakarta.ee/xml/ns/jakartaee" version="10">
  <module><web><web-uri>web.war</web-uri><context-root>/web</context-root></web></module>
  <module><ejb>ejb.jar</ejb></module>
  <module><connector>ra.rar</connector></module>
  <module><java>client.jar</java></module>
  <module><connector>voice.sar</connector></module>
</application>
"#;

/// Every file of the base application by full path, with `set` written over
/// it and `removed` taken out.
fn files(set: &[(&str, &[u8])], removed: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let base: Vec<(&str, Vec<u8>)> = vec![
        ("META-INF/application.xml", APP_XML.into()),
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n".to_vec()),
        (
            "lib/util.jar",
            zip_of(&[("u/U.class", &class_bytes("u/U"))]),
        ),
        ("conf/app.properties", b"mode=prod\n".to_vec()),
        ("web.war/WEB-INF/web.xml", b"<web-app/>".to_vec()),
        ("web.war/WEB-INF/classes/a/B.class", class_bytes("a/B")),
        ("web.war/META-INF/context.xml", b"<Context/>".to_vec()),
        ("web.war/index.jsp", b"<%= 1 %>".to_vec()),
        ("web.war/css/site.css", b"body{}".to_vec()),
        ("ejb.jar/META-INF/ejb-jar.xml", b"<ejb-jar/>".to_vec()),
        ("ejb.jar/com/x/Bean.class", class_bytes("com/x/Bean")),
        ("ejb.jar/com/x/Old.class", class_bytes("com/x/Old")),
        ("ra.rar/META-INF/ra.xml", b"<connector/>".to_vec()),
        ("ra.rar/r/Adapter.class", class_bytes("r/Adapter")),
        (
            "client.jar/META-INF/application-client.xml",
            b"<application-client/>".to_vec(),
        ),
        (
            "client.jar/META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nMain-Class: c.Main\n".to_vec(),
        ),
        ("client.jar/c/Main.class", class_bytes("c/Main")),
        ("voice.sar/WEB-INF/sip.xml", b"<sip-app/>".to_vec()),
        ("voice.sar/s/Servlet.class", class_bytes("s/Servlet")),
        ("voice.sar/index.html", b"<html/>".to_vec()),
    ];
    let mut map: BTreeMap<String, Vec<u8>> =
        base.into_iter().map(|(p, b)| (p.to_owned(), b)).collect();
    for (path, bytes) in set {
        map.insert((*path).to_owned(), bytes.to_vec());
    }
    for path in removed {
        assert!(map.remove(*path).is_some(), "{path} is not a base file");
    }
    map
}

/// The archive of module `uri` made of the files of `all` under it.
fn module_of(all: &BTreeMap<String, Vec<u8>>, uri: &str, method: Method) -> Vec<u8> {
    let prefix = format!("{uri}/");
    all.iter()
        .filter_map(|(p, b)| p.strip_prefix(&prefix).map(|rel| (rel, b)))
        .fold(ZipBuilder::new(), |z, (rel, b)| z.file_with(rel, b, method))
        .finish()
}

/// The EAR bytes of `all` (module files packed into nested module archives).
fn ear_of(all: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut entries: BTreeMap<String, Vec<u8>> = all
        .iter()
        .filter(|(p, _)| !URIS.iter().any(|u| p.starts_with(&format!("{u}/"))))
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect();
    for uri in URIS {
        entries.insert(uri.to_owned(), module_of(all, uri, Method::Deflate));
    }
    entries
        .iter()
        .fold(ZipBuilder::new(), |z, (p, b)| z.file(p, b))
        .finish()
}

/// The base application, edited.
fn ear(set: &[(&str, &[u8])], removed: &[&str]) -> Vec<u8> {
    ear_of(&files(set, removed))
}

/// One application opened in both forms, and a folder for update files.
struct Forms {
    dir: tempfile::TempDir,
    archive: Application,
    expanded: Application,
    count: Cell<usize>,
}

impl Forms {
    fn open(ear_bytes: &[u8]) -> R<Forms> {
        Forms::open_expanding(ear_bytes, &URIS)
    }

    /// Like `open`, unpacking only the modules `expand` in the expanded
    /// form (the others stay archive files, which spec §1 allows).
    fn open_expanding(ear_bytes: &[u8], expand: &[&str]) -> R<Forms> {
        let dir = tempfile::tempdir()?;
        let ear = dir.path().join("app.ear");
        std::fs::write(&ear, ear_bytes)?;
        let expanded = dir.path().join("app");
        write_expanded(ear_bytes, &expanded, expand)?;
        let (archive, expanded) = (Application::open(&ear)?, Application::open(&expanded)?);
        assert_eq!(
            (archive.form(), expanded.form()),
            (Form::Archive, Form::Expanded)
        );
        Ok(Forms {
            archive,
            expanded,
            dir,
            count: Cell::new(0),
        })
    }

    fn base() -> R<Forms> {
        Forms::open(&ear(&[], &[]))
    }

    /// Writes an update file under a fresh sub-folder, keeping `name`.
    fn write(&self, name: &str, bytes: &[u8]) -> R<PathBuf> {
        let n = self.count.get() + 1;
        self.count.set(n);
        let sub = self.dir.path().join(format!("u{n}"));
        std::fs::create_dir_all(&sub)?;
        let path = sub.join(name);
        std::fs::write(&path, bytes)?;
        Ok(path)
    }

    fn partial(&self, entries: &[(&str, &[u8])]) -> R<Update> {
        Ok(Update::partial(
            self.write("update.zip", &zip_of(entries))?,
        )?)
    }

    fn plan(&self, update: &Update) -> R<Plan> {
        self.plan_with(update, Settings::default())
    }

    /// Plans `update` on both forms, checks they agree, returns one plan.
    fn plan_with(&self, update: &Update, settings: Settings) -> R<Plan> {
        let options = PlanOptions::default().settings(settings);
        let a = Plan::new(&self.archive, update, &options)?;
        let b = Plan::new(&self.expanded, update, &options)?;
        use serde_json::to_value as json;
        assert_eq!(json(&a.changes)?, json(&b.changes)?, "changes differ");
        assert_eq!(json(&a.impact)?, json(&b.impact)?, "impact differs");
        assert_eq!(json(&a.warnings)?, json(&b.warnings)?, "warnings differ");
        Ok(a)
    }

    /// Plans `update` on both forms; both must refuse with a one-line
    /// message naming every needle.
    fn refuse(&self, update: &Update, needles: &[&str]) {
        let options = PlanOptions::default();
        for app in [&self.archive, &self.expanded] {
            match Plan::new(app, update, &options) {
                Ok(plan) => panic!(
                    "{:?}: expected a refusal, got {:?}",
                    app.form(),
                    rows(&plan)
                ),
                Err(e) => assert_one_line(&e.to_string(), needles),
            }
        }
    }
}

fn assert_one_line(message: &str, needles: &[&str]) {
    assert!(!message.contains('\n'), "not one line: {message}");
    for needle in needles {
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
}

/// The error of `result`, which must be one.
fn error_of<T: std::fmt::Debug>(result: ear_core::Result<T>) -> String {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

type Row<'a> = (&'a str, Op, Option<Rule>, Effect);

fn rows(plan: &Plan) -> Vec<Row<'_>> {
    plan.changes
        .iter()
        .map(|c| (c.path.as_str(), c.op, c.rule, c.effect))
        .collect()
}

fn names(paths: &[EntryPath]) -> Vec<&str> {
    paths.iter().map(EntryPath::as_str).collect()
}

fn codes(plan: &Plan) -> Vec<WarningCode> {
    plan.warnings.iter().map(|w| w.code).collect()
}

fn single() -> Settings {
    Settings::default().classloader_policy(ClassLoaderPolicy::Single)
}

fn no_dynamic_security() -> Settings {
    Settings::default().dynamic_security(false)
}

const DELETE_LIST: &str = "META-INF/ibm-partialapp-delete.props";

use Effect::{
    Hot, None as NoEffect, RestartApplication as App, RestartModule as Mod, StartModule as Start,
};

// ---------------------------------------------------------------- P1 - P6

#[test]
fn p1_file_added_in_application_meta_inf_restarts_application() -> R {
    let forms = Forms::base()?;
    let plan = forms.plan(&forms.partial(&[("META-INF/new.xml", b"<x/>")])?)?;
    assert_eq!(
        rows(&plan),
        [("META-INF/new.xml", Op::Add, Some(Rule::P1), App)]
    );
    assert_eq!(plan.changes[0].scope.as_str(), "");
    assert_eq!(plan.impact.effect, App);
    assert!(plan.impact.restart_application);
    assert!(plan.impact.restart_modules.is_empty() && plan.impact.start_modules.is_empty());
    Ok(())
}

#[test]
fn p2_application_file_replaced_or_deleted_restarts_application() -> R {
    let forms = Forms::base()?;
    let new_util = zip_of(&[("u/U.class", &class_bytes("u/U2"))]);
    let plan = forms.plan(&forms.partial(&[
        ("lib/util.jar", &new_util),
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\nX: y\n"),
        (DELETE_LIST, b"conf/app\\.properties\n"),
    ])?)?;
    assert_eq!(
        rows(&plan),
        [
            ("META-INF/MANIFEST.MF", Op::Replace, Some(Rule::P2), App),
            ("conf/app.properties", Op::Delete, Some(Rule::P2), App),
            ("lib/util.jar", Op::Replace, Some(Rule::P2), App),
        ]
    );
    assert!(plan.impact.restart_application);
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    Ok(())
}

#[test]
fn p3_file_added_outside_meta_inf_has_no_effect() -> R {
    let forms = Forms::base()?;
    let plan = forms.plan(&forms.partial(&[("conf/new.properties", b"a=b")])?)?;
    assert_eq!(
        rows(&plan),
        [("conf/new.properties", Op::Add, Some(Rule::P3), NoEffect)]
    );
    assert_eq!(plan.impact.effect, NoEffect);
    assert!(!plan.impact.restart_application);
    assert!(plan.impact.restart_modules.is_empty() && plan.impact.start_modules.is_empty());
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    Ok(())
}

#[test]
fn p4_any_change_in_a_non_web_module_restarts_application() -> R {
    let forms = Forms::base()?;
    let plan = forms.plan(&forms.partial(&[
        ("ejb.jar/com/x/New.class", &class_bytes("com/x/New")),
        ("ejb.jar/com/x/Bean.class", &class_bytes("com/x/Bean2")),
        (
            "ejb.jar/META-INF/ibm-partialapp-delete.props",
            b"com/x/Old\\.class",
        ),
        ("ra.rar/META-INF/ra.xml", b"<connector v='2'/>"),
        ("client.jar/c/Extra.class", &class_bytes("c/Extra")),
        // SIP is non-web: even WEB-INF/ of a .sar is P4 (spec §3, §9.5).
        ("voice.sar/WEB-INF/sip.xml", b"<sip-app v='2'/>"),
        (
            "voice.sar/META-INF/ibm-partialapp-delete.props",
            b"index\\.html",
        ),
    ])?)?;
    assert_eq!(
        rows(&plan),
        [
            ("client.jar/c/Extra.class", Op::Add, Some(Rule::P4), App),
            ("ejb.jar/com/x/Bean.class", Op::Replace, Some(Rule::P4), App),
            ("ejb.jar/com/x/New.class", Op::Add, Some(Rule::P4), App),
            ("ejb.jar/com/x/Old.class", Op::Delete, Some(Rule::P4), App),
            ("ra.rar/META-INF/ra.xml", Op::Replace, Some(Rule::P4), App),
            (
                "voice.sar/WEB-INF/sip.xml",
                Op::Replace,
                Some(Rule::P4),
                App
            ),
            ("voice.sar/index.html", Op::Delete, Some(Rule::P4), App),
        ]
    );
    for change in &plan.changes {
        let module = change.path.first_component();
        assert_eq!(change.scope.as_str(), module, "{}", change.path);
    }
    assert!(plan.impact.restart_application);
    assert!(plan.impact.restart_modules.is_empty());
    Ok(())
}

#[test]
fn p5_web_inf_and_meta_inf_of_a_web_module_restart_that_module() -> R {
    let forms = Forms::base()?;
    let plan = forms.plan(&forms.partial(&[
        ("web.war/WEB-INF/web.xml", b"<web-app version='6'/>"),
        ("web.war/META-INF/x.xml", b"<x/>"),
        (
            "web.war/META-INF/ibm-partialapp-delete.props",
            b"WEB-INF/classes/a/B\\.class",
        ),
    ])?)?;
    assert_eq!(
        rows(&plan),
        [
            ("web.war/META-INF/x.xml", Op::Add, Some(Rule::P5), Mod),
            (
                "web.war/WEB-INF/classes/a/B.class",
                Op::Delete,
                Some(Rule::P5),
                Mod
            ),
            ("web.war/WEB-INF/web.xml", Op::Replace, Some(Rule::P5), Mod),
        ]
    );
    assert!(plan.changes.iter().all(|c| c.scope.as_str() == "web.war"));
    assert_eq!(plan.impact.effect, Mod);
    assert!(!plan.impact.restart_application);
    assert_eq!(names(&plan.impact.restart_modules), ["web.war"]);
    assert!(plan.impact.start_modules.is_empty());
    Ok(())
}

#[test]
fn p6_other_web_content_is_hot() -> R {
    let forms = Forms::base()?;
    let plan = forms.plan(&forms.partial(&[
        ("web.war/new.jsp", b"<%= 2 %>"),
        ("web.war/index.jsp", b"<%= 3 %>"),
        ("web.war/META-INF/ibm-partialapp-delete.props", b"css/.*"),
    ])?)?;
    assert_eq!(
        rows(&plan),
        [
            ("web.war/css/site.css", Op::Delete, Some(Rule::P6), Hot),
            ("web.war/index.jsp", Op::Replace, Some(Rule::P6), Hot),
            ("web.war/new.jsp", Op::Add, Some(Rule::P6), Hot),
        ]
    );
    assert_eq!(plan.impact.effect, Hot);
    assert!(!plan.impact.restart_application);
    assert!(plan.impact.restart_modules.is_empty() && plan.impact.start_modules.is_empty());
    Ok(())
}

// ---------------------------------------------------------------- M1 - M3

fn new_war() -> Vec<u8> {
    zip_of(&[("WEB-INF/web.xml", b"<web-app/>"), ("hello.jsp", b"hello")])
}

#[test]
fn m1_module_update_adds_a_web_module_that_starts() -> R {
    let forms = Forms::base()?;
    let war = forms.write("new.war", &new_war())?;
    for (update, root) in [
        (Update::module(&war, "new.war")?, "/new"),
        (Update::module(&war, "new.war")?.context_root("/x"), "/x"),
    ] {
        let plan = forms.plan(&update)?;
        assert_eq!(rows(&plan), [("new.war", Op::Add, Some(Rule::M1), Start)]);
        let change = &plan.changes[0];
        assert_eq!(change.scope.as_str(), "new.war");
        assert_eq!(change.escalated_by, None);
        let module = change.module.as_ref().ok_or("no module details")?;
        assert_eq!(module.kind, ModuleKind::Web);
        assert_eq!(module.context_root.as_deref(), Some(root));
        assert!(module.registers_in_descriptor);
        assert_eq!(module.files_added, 2);
        assert_eq!(plan.impact.effect, Start);
        assert!(!plan.impact.restart_application);
        assert_eq!(names(&plan.impact.start_modules), ["new.war"]);
        assert!(plan.impact.restart_modules.is_empty());
    }
    Ok(())
}

#[test]
fn m2_replacing_a_web_module_restarts_that_module() -> R {
    let forms = Forms::base()?;
    let all = files(
        &[
            ("web.war/index.jsp", b"<%= 9 %>"),
            ("web.war/extra.jsp", b"x"),
        ],
        &["web.war/css/site.css"],
    );
    let war_bytes = module_of(&all, "web.war", Method::Deflate);
    let by_module = Update::module(forms.write("web.war", &war_bytes)?, "web.war")?;
    let by_partial = forms.partial(&[("web.war", &war_bytes)])?;
    for update in [by_module, by_partial] {
        let plan = forms.plan(&update)?;
        assert_eq!(rows(&plan), [("web.war", Op::Replace, Some(Rule::M2), Mod)]);
        let module = plan.changes[0].module.as_ref().ok_or("no module details")?;
        assert_eq!(module.kind, ModuleKind::Web);
        assert!(!module.registers_in_descriptor);
        assert_eq!(
            (
                module.files_added,
                module.files_replaced,
                module.files_deleted,
                module.files_unchanged
            ),
            (1, 1, 1, 3)
        );
        assert_eq!(names(&plan.impact.restart_modules), ["web.war"]);
        assert!(!plan.impact.restart_application);
        assert!(plan.impact.start_modules.is_empty());
    }
    Ok(())
}

#[test]
fn m3_replacing_any_other_module_restarts_application() -> R {
    let forms = Forms::base()?;
    let cases = [
        ("ejb.jar", "ejb.jar/com/x/Bean.class"),
        ("ra.rar", "ra.rar/r/Adapter.class"),
        ("client.jar", "client.jar/c/Main.class"),
        ("voice.sar", "voice.sar/s/Servlet.class"),
    ];
    for (uri, changed) in cases {
        let all = files(&[(changed, b"new bytes")], &[]);
        let path = forms.write(uri, &module_of(&all, uri, Method::Deflate))?;
        let plan = forms.plan(&Update::module(path, uri)?)?;
        assert_eq!(rows(&plan), [(uri, Op::Replace, Some(Rule::M3), App)]);
        let module = plan.changes[0].module.as_ref().ok_or("no module details")?;
        assert_eq!((module.files_replaced, module.files_added), (1, 0), "{uri}");
        assert!(plan.impact.restart_application, "{uri}");
    }
    Ok(())
}

#[test]
fn module_with_the_same_files_in_a_differently_built_archive_is_unchanged() -> R {
    let forms = Forms::base()?;
    let all = files(&[], &[]);
    for uri in ["web.war", "ejb.jar"] {
        let stored = module_of(&all, uri, Method::Store);
        assert_ne!(stored, module_of(&all, uri, Method::Deflate), "same bytes");
        let by_module = Update::module(forms.write(uri, &stored)?, uri)?;
        let by_partial = forms.partial(&[(uri, &stored)])?;
        for update in [by_module, by_partial] {
            let plan = forms.plan(&update)?;
            assert_eq!(rows(&plan), [(uri, Op::Unchanged, None, NoEffect)]);
            assert_eq!(plan.changes[0].escalated_by, None);
            let module = plan.changes[0].module.as_ref().ok_or("no module details")?;
            let in_module = all.keys().filter(|p| p.starts_with(&format!("{uri}/")));
            assert_eq!(module.files_unchanged, in_module.count(), "{uri}");
            assert_eq!(plan.impact.effect, NoEffect);
            assert!(plan.is_noop());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- F1

#[test]
fn f1_full_update_lists_every_file_and_differing_ones_restart_application() -> R {
    let forms = Forms::base()?;
    let new_ear = ear(
        &[
            ("web.war/index.jsp", b"<%= 7 %>"),
            ("conf/app.properties", b"mode=test\n"),
            ("conf/extra.txt", b"extra"),
            ("ejb.jar/com/x/Bean.class", b"changed"),
        ],
        &["web.war/css/site.css"],
    );
    let plan = forms.plan(&Update::full(forms.write("new.ear", &new_ear)?)?)?;
    let differing: BTreeMap<&str, Op> = [
        ("web.war/index.jsp", Op::Replace),
        ("conf/app.properties", Op::Replace),
        ("conf/extra.txt", Op::Add),
        ("ejb.jar/com/x/Bean.class", Op::Replace),
        ("web.war/css/site.css", Op::Delete),
    ]
    .into();
    // One change per file of either application.
    assert_eq!(plan.changes.len(), files(&[], &[]).len() + 1);
    for change in &plan.changes {
        let got = (change.op, change.rule, change.effect, change.escalated_by);
        match differing.get(change.path.as_str()) {
            Some(&op) => assert_eq!(got, (op, Some(Rule::F1), App, None), "{}", change.path),
            None => assert_eq!(
                got,
                (Op::Unchanged, None, NoEffect, None),
                "{}",
                change.path
            ),
        }
    }
    let scope_of = |p: &str| {
        plan.changes
            .iter()
            .find(|c| c.path.as_str() == p)
            .map(|c| c.scope.as_str().to_owned())
    };
    assert_eq!(scope_of("web.war/index.jsp").as_deref(), Some("web.war"));
    assert_eq!(scope_of("conf/extra.txt").as_deref(), Some(""));
    assert!(plan.impact.restart_application);
    Ok(())
}

#[test]
fn f1_identical_full_update_in_either_form_has_no_effect() -> R {
    let forms = Forms::base()?;
    let same = ear(&[], &[]);
    let as_archive = forms.write("same.ear", &same)?;
    let as_dir = forms.dir.path().join("same-expanded");
    write_expanded(&same, &as_dir, &URIS)?;
    for update in [Update::full(&as_archive)?, Update::full(&as_dir)?] {
        let plan = forms.plan(&update)?;
        assert_eq!(plan.changes.len(), files(&[], &[]).len());
        assert!(
            plan.changes
                .iter()
                .all(|c| (c.op, c.rule, c.effect) == (Op::Unchanged, None, NoEffect)),
            "{:?}",
            rows(&plan)
        );
        assert_eq!(plan.impact.effect, NoEffect);
        assert!(!plan.impact.restart_application);
    }
    Ok(())
}

// ---------------------------------------------------------------- E1, E2

/// A P5 change and, separately, an M1 module addition.
fn module_level_updates(forms: &Forms) -> R<Vec<(Update, Rule)>> {
    Ok(vec![
        (
            forms.partial(&[("web.war/WEB-INF/web.xml", b"<web-app v='e'/>")])?,
            Rule::P5,
        ),
        (
            Update::module(forms.write("new.war", &new_war())?, "new.war")?,
            Rule::M1,
        ),
        (
            Update::module(
                forms.write("web.war", &zip_of(&[("index.jsp", b"only")]))?,
                "web.war",
            )?,
            Rule::M2,
        ),
    ])
}

fn assert_escalated(settings: Settings, by: Escalation) -> R {
    let forms = Forms::base()?;
    for (update, rule) in module_level_updates(&forms)? {
        let plan = forms.plan_with(&update, settings)?;
        assert_eq!(plan.changes.len(), 1, "{rule}");
        let change = &plan.changes[0];
        assert_eq!(change.rule, Some(rule));
        assert_eq!(change.effect, App, "{rule}");
        assert_eq!(change.escalated_by, Some(by), "{rule}");
        assert_ne!(change.rule_effect(), App, "{rule}");
        assert_eq!(plan.impact.effect, App);
        assert!(plan.impact.restart_application);
        assert!(plan.impact.restart_modules.is_empty() && plan.impact.start_modules.is_empty());
    }
    Ok(())
}

#[test]
fn e1_single_class_loader_turns_module_effects_into_application_restart() -> R {
    assert_escalated(single(), Escalation::E1)
}

#[test]
fn e2_no_dynamic_security_turns_module_effects_into_application_restart() -> R {
    assert_escalated(no_dynamic_security(), Escalation::E2)
}

#[test]
fn e1_wins_when_both_settings_apply() -> R {
    assert_escalated(single().dynamic_security(false), Escalation::E1)
}

#[test]
fn escalation_leaves_hot_none_and_application_rules_alone() -> R {
    let forms = Forms::base()?;
    let hot = forms.partial(&[("web.war/index.jsp", b"<%= 5 %>")])?;
    let p2 = forms.partial(&[("conf/app.properties", b"mode=x")])?;
    let p3 = forms.partial(&[("conf/new.txt", b"n")])?;
    let cases = [
        (hot, ("web.war/index.jsp", Op::Replace, Some(Rule::P6), Hot)),
        (
            p2,
            ("conf/app.properties", Op::Replace, Some(Rule::P2), App),
        ),
        (p3, ("conf/new.txt", Op::Add, Some(Rule::P3), NoEffect)),
    ];
    for (update, row) in &cases {
        for settings in [
            single(),
            no_dynamic_security(),
            single().dynamic_security(false),
        ] {
            let plan = forms.plan_with(update, settings)?;
            assert_eq!(rows(&plan), [*row]);
            assert_eq!(plan.changes[0].escalated_by, None, "{}", row.0);
            assert_eq!(plan.impact.effect, row.3);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- unchanged, idempotence

#[test]
fn shipping_byte_identical_files_is_unchanged() -> R {
    let forms = Forms::base()?;
    let all = files(&[], &[]);
    let same = |p: &str| all[p].clone();
    let (jsp, util, xml) = (
        same("web.war/index.jsp"),
        same("lib/util.jar"),
        same("ejb.jar/META-INF/ejb-jar.xml"),
    );
    let plan = forms.plan(&forms.partial(&[
        ("web.war/index.jsp", &jsp),
        ("lib/util.jar", &util),
        ("ejb.jar/META-INF/ejb-jar.xml", &xml),
    ])?)?;
    assert_eq!(
        rows(&plan),
        [
            (
                "ejb.jar/META-INF/ejb-jar.xml",
                Op::Unchanged,
                None,
                NoEffect
            ),
            ("lib/util.jar", Op::Unchanged, None, NoEffect),
            ("web.war/index.jsp", Op::Unchanged, None, NoEffect),
        ]
    );
    assert!(plan.changes.iter().all(|c| c.escalated_by.is_none()));
    assert_eq!(plan.impact.effect, NoEffect);
    assert!(plan.is_noop());
    // A file update of identical bytes too.
    let file = Update::file(forms.write("index.jsp", &jsp)?, "web.war/index.jsp")?;
    let plan = forms.plan(&file)?;
    assert_eq!(
        rows(&plan),
        [("web.war/index.jsp", Op::Unchanged, None, NoEffect)]
    );
    Ok(())
}

#[test]
fn the_same_update_planned_on_its_own_result_changes_nothing() -> R {
    let set: [(&str, &[u8]); 3] = [
        ("web.war/index.jsp", b"<%= 42 %>"),
        ("conf/app.properties", b"mode=v2\n"),
        ("ejb.jar/com/x/Bean.class", b"bean v2"),
    ];
    let mut entries = set.to_vec();
    entries.push((DELETE_LIST, b"conf/app\\.properties\nlib/util\\.jar\n"));
    entries.push((
        "ejb.jar/META-INF/ibm-partialapp-delete.props",
        b"com/x/Old\\.class",
    ));
    // Before: the update changes things.
    let before = Forms::base()?;
    let first = before.plan(&before.partial(&entries)?)?;
    assert!(!first.is_noop());
    assert_eq!(first.impact.effect, App);
    // After: the application as the update leaves it.
    let after = Forms::open(&ear(&set, &["lib/util.jar", "ejb.jar/com/x/Old.class"]))?;
    let second = after.plan(&after.partial(&entries)?)?;
    assert!(second.is_noop(), "{:?}", rows(&second));
    assert_eq!(
        rows(&second),
        [
            ("conf/app.properties", Op::Unchanged, None, NoEffect),
            ("ejb.jar/com/x/Bean.class", Op::Unchanged, None, NoEffect),
            ("web.war/index.jsp", Op::Unchanged, None, NoEffect),
        ]
    );
    assert_eq!(second.impact.effect, NoEffect);
    // conf/app.properties is written by the update: "deletes nothing";
    // lib/util.jar and Old.class are gone: "matches nothing".
    let mut got = codes(&second);
    got.sort();
    let mut want = vec![
        WarningCode::DeletePatternDeletesNothing,
        WarningCode::DeletePatternMatchesNothing,
        WarningCode::DeletePatternMatchesNothing,
    ];
    want.sort();
    assert_eq!(got, want, "{:?}", second.warnings);
    Ok(())
}

// ---------------------------------------------------------------- refusals

#[test]
fn refuses_a_client_jar_replacing_the_ejb_module() -> R {
    let forms = Forms::base()?;
    let all = files(&[], &[]);
    let client = module_of(&all, "client.jar", Method::Deflate);
    let update = Update::module(forms.write("ejb.jar", &client)?, "ejb.jar")?;
    forms.refuse(&update, &["ejb.jar", "client"]);
    Ok(())
}

#[test]
fn refuses_a_jar_archive_for_a_web_module() -> R {
    let forms = Forms::base()?;
    let jar = forms.write("web.jar", &new_war())?;
    forms.refuse(&Update::module(jar, "web.war")?, &[".jar", "web.war"]);
    Ok(())
}

#[test]
fn refuses_a_file_update_naming_a_module() -> R {
    let forms = Forms::base()?;
    let update = Update::file(forms.write("web.war", &new_war())?, "web.war")?;
    forms.refuse(&update, &["web.war", "--module"]);
    Ok(())
}

#[test]
fn file_update_refuses_unsafe_paths_and_ears() -> R {
    let forms = Forms::base()?;
    let file = forms.write("x", b"x")?;
    assert_one_line(&error_of(Update::file(&file, "../x")), &["../x"]);
    assert_one_line(
        &error_of(Update::file(&file, "x.ear")),
        &["x.ear", "--full"],
    );
    Ok(())
}

#[test]
fn refuses_a_module_uri_inside_an_existing_module() -> R {
    let forms = Forms::base()?;
    let jar = zip_of(&[("META-INF/ejb-jar.xml", b"<ejb-jar/>")]);
    let update = Update::module(forms.write("b.jar", &jar)?, "web.war/b.jar")?;
    forms.refuse(&update, &["web.war/b.jar", "inside"]);
    Ok(())
}

#[test]
fn refuses_context_root_on_a_replacement_or_a_non_web_module() -> R {
    let forms = Forms::base()?;
    let war = forms.write("web.war", &new_war())?;
    forms.refuse(
        &Update::module(war, "web.war")?.context_root("/x"),
        &["--context-root", "web.war"],
    );
    let jar = zip_of(&[("META-INF/ejb-jar.xml", b"<ejb-jar/>")]);
    let jar = forms.write("new-ejb.jar", &jar)?;
    forms.refuse(
        &Update::module(jar, "new-ejb.jar")?.context_root("/x"),
        &["--context-root", "new-ejb.jar"],
    );
    Ok(())
}

#[test]
fn refuses_a_module_shipped_whole_and_files_inside_it() -> R {
    let forms = Forms::base()?;
    let war = module_of(&files(&[], &[]), "web.war", Method::Deflate);
    let update = forms.partial(&[("web.war", &war), ("web.war/index.jsp", b"<%= 0 %>")])?;
    forms.refuse(&update, &["web.war/index.jsp", "whole"]);
    Ok(())
}

#[test]
fn refuses_a_delete_list_for_a_module_that_does_not_exist() -> R {
    let forms = Forms::base()?;
    let update = forms.partial(&[("nomodule.war/META-INF/ibm-partialapp-delete.props", b"x")])?;
    forms.refuse(&update, &["nomodule.war"]);
    Ok(())
}

#[test]
fn refuses_an_application_delete_pattern_matching_a_module() -> R {
    let forms = Forms::base()?;
    let update =
        forms.partial(&[(DELETE_LIST, b"# comment\nconf/app\\.properties\n.*\\.war\n")])?;
    forms.refuse(&update, &["line 3", DELETE_LIST, "web.war"]);
    Ok(())
}

#[test]
fn refuses_an_invalid_pattern_naming_file_and_line() -> R {
    let forms = Forms::base()?;
    let update = forms.partial(&[(DELETE_LIST, b"conf/app\\.properties\n\n(unclosed\n")])?;
    forms.refuse(&update, &["line 3", DELETE_LIST]);
    let in_module = "web.war/META-INF/ibm-partialapp-delete.props";
    let update = forms.partial(&[(in_module, b"# c\r\nindex\\.jsp\r\n[z-a]\r\n")])?;
    forms.refuse(&update, &["line 3", in_module]);
    Ok(())
}

#[test]
fn refuses_unsafe_entry_names_in_a_partial_zip() -> R {
    let forms = Forms::base()?;
    for name in ["../evil", "/abs", "a\\b", "conf/../../evil"] {
        let zip = zip_of(&[("conf/ok.txt", b"ok"), (name, b"bad")]);
        let path = forms.write("update.zip", &zip)?;
        let message = error_of(Update::partial(&path));
        assert!(!message.contains('\n'), "{message}");
        assert!(
            message.contains(name) || message.contains(&format!("{name:?}")),
            "{message:?} does not name {name:?}"
        );
    }
    Ok(())
}

#[test]
fn refuses_non_zip_and_truncated_updates() -> R {
    let forms = Forms::base()?;
    let not_zip = forms.write("bad.zip", b"this is not a zip archive")?;
    assert_one_line(&error_of(Update::partial(&not_zip)), &["bad.zip"]);
    let good = zip_of(&[("conf/a.txt", &[7u8; 4096][..]), ("conf/b.txt", b"b")]);
    let truncated = forms.write("cut.zip", &good[..good.len() / 2])?;
    assert_one_line(&error_of(Update::partial(&truncated)), &["cut.zip"]);
    // A module update whose archive is not a zip is refused at planning.
    let bad_war = forms.write("new.war", b"not a war")?;
    forms.refuse(&Update::module(bad_war, "new.war")?, &["new.war"]);
    Ok(())
}

// ---------------------------------------------------------------- delete-list warnings

#[test]
fn delete_pattern_matching_nothing_warns() -> R {
    let forms = Forms::base()?;
    let plan = forms
        .plan(&forms.partial(&[("conf/new.txt", b"n"), (DELETE_LIST, b"conf/gone\\.txt\n")])?)?;
    assert_eq!(
        rows(&plan),
        [("conf/new.txt", Op::Add, Some(Rule::P3), NoEffect)]
    );
    assert_eq!(codes(&plan), [WarningCode::DeletePatternMatchesNothing]);
    assert!(plan.warnings[0].message.contains("conf/gone"));
    Ok(())
}

#[test]
fn delete_pattern_matching_only_a_written_file_deletes_nothing() -> R {
    let forms = Forms::base()?;
    let plan = forms.plan(&forms.partial(&[
        ("conf/app.properties", b"mode=new\n"),
        (DELETE_LIST, b"conf/app\\.properties\n"),
    ])?)?;
    assert_eq!(
        rows(&plan),
        [("conf/app.properties", Op::Replace, Some(Rule::P2), App)]
    );
    assert_eq!(codes(&plan), [WarningCode::DeletePatternDeletesNothing]);
    Ok(())
}

#[test]
fn delete_pattern_matches_whole_paths_and_warns_about_substring_matches() -> R {
    let forms = Forms::open(&ear(
        &[("b.dat", b"1"), ("xb.dat", b"2"), ("b.data", b"3")],
        &[],
    ))?;
    let plan = forms.plan(&forms.partial(&[(DELETE_LIST, b"b.dat")])?)?;
    assert_eq!(rows(&plan), [("b.dat", Op::Delete, Some(Rule::P2), App)]);
    assert_eq!(codes(&plan), [WarningCode::DeletePatternSubstringDiffers]);
    let message = &plan.warnings[0].message;
    assert!(
        message.contains("xb.dat") && message.contains("b.data"),
        "{message}"
    );
    Ok(())
}

#[test]
fn application_delete_pattern_never_deletes_module_files() -> R {
    let forms = Forms::open(&ear(
        &[
            ("a.dat", b"1"),
            ("conf/c.dat", b"2"),
            ("web.war/w.dat", b"3"),
            ("web.war/WEB-INF/x.dat", b"4"),
            ("ejb.jar/e.dat", b"5"),
        ],
        &[],
    ))?;
    let plan = forms.plan(&forms.partial(&[(DELETE_LIST, b".*\\.dat")])?)?;
    assert_eq!(
        rows(&plan),
        [
            ("a.dat", Op::Delete, Some(Rule::P2), App),
            ("conf/c.dat", Op::Delete, Some(Rule::P2), App),
        ]
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    Ok(())
}

// ---------------------------------------------------------------- §9.3, §9.11

#[test]
fn library_jar_added_is_p3_with_a_restart_warning() -> R {
    let forms = Forms::base()?;
    let jar = zip_of(&[("n/N.class", &class_bytes("n/N"))]);
    let plan = forms.plan(&forms.partial(&[("lib/new.jar", &jar)])?)?;
    assert_eq!(
        rows(&plan),
        [("lib/new.jar", Op::Add, Some(Rule::P3), NoEffect)]
    );
    assert_eq!(plan.impact.effect, NoEffect);
    assert_eq!(codes(&plan), [WarningCode::LibraryJarNeedsRestart]);
    assert!(plan.warnings[0].message.contains("lib/new.jar"));
    Ok(())
}

#[test]
fn undeclared_archive_in_an_application_with_a_descriptor_is_a_plain_file() -> R {
    let forms = Forms::base()?;
    let plan = forms.plan(&forms.partial(&[("extra.war", &new_war())])?)?;
    assert_eq!(
        rows(&plan),
        [("extra.war", Op::Add, Some(Rule::P3), NoEffect)]
    );
    assert_eq!(plan.changes[0].scope.as_str(), "");
    assert!(plan.changes[0].module.is_none());
    assert_eq!(codes(&plan), [WarningCode::UndeclaredModuleArchive]);
    assert!(plan.warnings[0].message.contains("extra.war"));
    assert_eq!(plan.impact.effect, NoEffect);
    Ok(())
}

#[test]
fn archive_added_to_an_application_without_descriptor_is_a_new_module() -> R {
    let forms = Forms::open(&ear(&[], &["META-INF/application.xml"]))?;
    assert!(forms.archive.descriptor().is_none());
    assert_eq!(forms.archive.modules().len(), URIS.len());
    let plan = forms.plan(&forms.partial(&[("extra.war", &new_war())])?)?;
    assert_eq!(rows(&plan), [("extra.war", Op::Add, Some(Rule::M1), Start)]);
    let module = plan.changes[0].module.as_ref().ok_or("no module details")?;
    assert_eq!(module.kind, ModuleKind::Web);
    assert_eq!(module.context_root.as_deref(), Some("/extra"));
    assert!(!module.registers_in_descriptor);
    assert_eq!(names(&plan.impact.start_modules), ["extra.war"]);
    assert!(!plan.impact.restart_application);
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    Ok(())
}

// ---------------------------------------------------------------- forms, SIP

#[test]
fn modules_left_as_archives_in_an_expanded_application_plan_the_same() -> R {
    let forms = Forms::open_expanding(&ear(&[], &[]), &["web.war"])?;
    assert!(forms.dir.path().join("app/ejb.jar").is_file());
    let plan = forms.plan(&forms.partial(&[
        ("web.war/index.jsp", b"<%= 8 %>"),
        ("ejb.jar/com/x/Bean.class", b"changed"),
        ("voice.sar/index.html", b"<html v='2'/>"),
        ("ra.rar/META-INF/ibm-partialapp-delete.props", b"r/.*"),
    ])?)?;
    assert_eq!(
        rows(&plan),
        [
            ("ejb.jar/com/x/Bean.class", Op::Replace, Some(Rule::P4), App),
            ("ra.rar/r/Adapter.class", Op::Delete, Some(Rule::P4), App),
            ("voice.sar/index.html", Op::Replace, Some(Rule::P4), App),
            ("web.war/index.jsp", Op::Replace, Some(Rule::P6), Hot),
        ]
    );
    let all = files(&[], &[]);
    let same = module_of(&all, "ejb.jar", Method::Store);
    let plan = forms.plan(&Update::module(forms.write("ejb.jar", &same)?, "ejb.jar")?)?;
    assert_eq!(rows(&plan), [("ejb.jar", Op::Unchanged, None, NoEffect)]);
    Ok(())
}

#[test]
fn sar_declared_as_a_web_module_is_still_sip_and_non_web() -> R {
    let xml = APP_XML.replace(
        "<connector>voice.sar</connector>",
        "<web><web-uri>voice.sar</web-uri><context-root>/voice</context-root></web>",
    );
    let forms = Forms::open(&ear(&[("META-INF/application.xml", xml.as_bytes())], &[]))?;
    let voice = forms
        .archive
        .modules()
        .iter()
        .find(|m| m.uri.as_str() == "voice.sar")
        .ok_or("voice.sar is not a module")?;
    assert_eq!(voice.kind, ModuleKind::Sip);
    let plan = forms.plan(&forms.partial(&[
        ("voice.sar/WEB-INF/sip.xml", b"<sip-app v='3'/>"),
        ("voice.sar/page.jsp", b"jsp"),
    ])?)?;
    assert_eq!(
        rows(&plan),
        [
            (
                "voice.sar/WEB-INF/sip.xml",
                Op::Replace,
                Some(Rule::P4),
                App
            ),
            ("voice.sar/page.jsp", Op::Add, Some(Rule::P4), App),
        ]
    );
    let all = files(&[("voice.sar/index.html", b"<html v='9'/>")], &[]);
    let sar = forms.write("voice.sar", &module_of(&all, "voice.sar", Method::Deflate))?;
    let plan = forms.plan(&Update::module(sar, "voice.sar")?)?;
    assert_eq!(
        rows(&plan),
        [("voice.sar", Op::Replace, Some(Rule::M3), App)]
    );
    let module = plan.changes[0].module.as_ref().ok_or("no module details")?;
    assert_eq!(
        (module.kind, module.context_root.as_deref()),
        (ModuleKind::Sip, None)
    );
    Ok(())
}

#[test]
fn standalone_modules_and_descriptor_deletion_are_refused() -> Result<(), Box<dyn std::error::Error>>
{
    let dir = tempfile::tempdir()?;
    let war = dir.path().join("hello.war");
    std::fs::write(&war, ear_fixtures::zip_of(&[("index.jsp", b"x")]))?;
    let file = dir.path().join("x.jsp");
    std::fs::write(&file, b"y")?;
    let app = ear_core::Application::open(&war)?;
    let err = ear_core::Plan::new(
        &app,
        &ear_core::Update::file(&file, "hello.war/x.jsp")?,
        &ear_core::PlanOptions::default(),
    )
    .err()
    .ok_or("planned a standalone module")?;
    assert!(
        err.to_string().contains("standalone module archive"),
        "{err}"
    );
    let ear = dir.path().join("app.ear");
    std::fs::write(&ear, ear_fixtures::sample::shop_ear())?;
    let zip = dir.path().join("u.zip");
    std::fs::write(
        &zip,
        ear_fixtures::zip_of(&[(
            "META-INF/ibm-partialapp-delete.props",
            b"META-INF/.*\\.xml\n",
        )]),
    )?;
    let app = ear_core::Application::open(&ear)?;
    let err = ear_core::Plan::new(
        &app,
        &ear_core::Update::partial(&zip)?,
        &ear_core::PlanOptions::default(),
    )
    .err()
    .ok_or("planned deleting the descriptor")?;
    assert!(
        err.to_string().contains("line 1") && err.to_string().contains("META-INF/application.xml"),
        "{err}"
    );
    Ok(())
}
