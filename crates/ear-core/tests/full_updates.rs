//! Full updates of applications with many modules, in every pair of forms:
//! the result has the new application's content (an archive replaced by an
//! archive is the new archive itself), the predicted digest is the real one,
//! the plan lists what differs, and rollback restores the old application.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ear_core::{Application, Digest, Op, Update};
use ear_core::{ApplyOptions, Outcome, RollbackOptions, Status, apply, history, rollback};
use ear_fixtures::{ZipBuilder, class_bytes, write_expanded};

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// One build of a generated application: module URI → files, and the
/// application-scope files.
struct Build {
    modules: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    app_files: BTreeMap<String, Vec<u8>>,
}

fn module_files(uri: &str, files: usize, version: u32) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let web = uri.ends_with(".war");
    out.insert(
        if web {
            "WEB-INF/web.xml".to_owned()
        } else {
            "META-INF/ejb-jar.xml".to_owned()
        },
        if web {
            b"<web-app/>".to_vec()
        } else {
            b"<ejb-jar/>".to_vec()
        },
    );
    for i in 0..files {
        let name = format!("com/acme/{}/C{i}.class", uri.replace('.', "_"));
        out.insert(name.clone(), class_bytes(&format!("{name} v{version}")));
    }
    out
}

/// 12 modules of 40 files each, lib jars and configuration files.
fn old_build() -> Build {
    let mut modules = BTreeMap::new();
    for i in 0..8 {
        let uri = format!("w{i}.war");
        modules.insert(uri.clone(), module_files(&uri, 40, 1));
    }
    for i in 0..4 {
        let uri = format!("ejb{i}.jar");
        modules.insert(uri.clone(), module_files(&uri, 40, 1));
    }
    let mut app_files = BTreeMap::new();
    for i in 0..5 {
        app_files.insert(
            format!("config/app{i}.properties"),
            format!("v=1 {i}").into_bytes(),
        );
    }
    app_files.insert(
        "META-INF/MANIFEST.MF".into(),
        b"Manifest-Version: 1.0\n".to_vec(),
    );
    Build { modules, app_files }
}

/// A later build: files changed in every module (so every module differs),
/// files added and deleted, one module removed and one added, configuration
/// changed and a library added.
fn new_build() -> Build {
    let mut build = old_build();
    for (uri, files) in &mut build.modules {
        files.insert(
            "META-INF/MANIFEST.MF".into(),
            format!("Implementation-Version: 2 {uri}").into_bytes(),
        );
        let first = files.keys().find(|k| k.ends_with(".class")).cloned();
        if let Some(first) = first {
            files.insert(first.clone(), class_bytes(&format!("{first} v2")));
        }
        let last = files.keys().rfind(|k| k.ends_with(".class")).cloned();
        if let Some(last) = last {
            files.remove(&last);
        }
    }
    build.modules.remove("w7.war");
    build
        .modules
        .insert("w8.war".into(), module_files("w8.war", 10, 2));
    build
        .app_files
        .insert("config/app0.properties".into(), b"v=2".to_vec());
    build.app_files.remove("config/app4.properties");
    build.app_files.insert(
        "lib/extra.jar".into(),
        ear_fixtures::zip_of(&[("x/Y.class", b"\xCA\xFE\xBA\xBEy")]),
    );
    build
}

impl Build {
    fn ear(&self) -> Vec<u8> {
        let mut xml = String::from("<application version=\"7\">");
        for uri in self.modules.keys() {
            if uri.ends_with(".war") {
                let root = uri.trim_end_matches(".war");
                xml.push_str(&format!(
                    "<module><web><web-uri>{uri}</web-uri><context-root>/{root}</context-root></web></module>"
                ));
            } else {
                xml.push_str(&format!("<module><ejb>{uri}</ejb></module>"));
            }
        }
        xml.push_str("</application>");
        let mut ear = ZipBuilder::new().file("META-INF/application.xml", xml);
        for (path, bytes) in &self.app_files {
            ear = ear.file(path, bytes);
        }
        for (uri, files) in &self.modules {
            let module = files
                .iter()
                .fold(ZipBuilder::new(), |b, (p, bytes)| b.file(p, bytes))
                .finish();
            ear = ear.file(uri, module);
        }
        ear.finish()
    }

    /// Writes the build as `name.ear` and expanded as `name/` in `dir`.
    fn write(&self, dir: &Path, name: &str) -> R<(PathBuf, PathBuf)> {
        let bytes = self.ear();
        let ear = dir.join(format!("{name}.ear"));
        std::fs::write(&ear, &bytes)?;
        let expanded = dir.join(name);
        let uris: Vec<&str> = self.modules.keys().map(String::as_str).collect();
        write_expanded(&bytes, &expanded, &uris)?;
        Ok((ear, expanded))
    }
}

fn digest(path: &Path) -> R<Digest> {
    Ok(Application::open(path)?.digest()?)
}

fn count(plan: &ear_core::Plan, op: Op) -> usize {
    plan.changes.iter().filter(|c| c.op == op).count()
}

/// Every file of both builds (full paths) is in the plan once, and the ops
/// are what the builds say.
fn check_plan(plan: &ear_core::Plan) {
    // Modules: 11 kept, each 1 replaced class, 1 added manifest, 1 deleted class.
    // w7.war removed (41 files), w8.war added (11 files).
    // Application scope: descriptor replaced (w7 -> w8), config/app0 replaced,
    // config/app4 deleted, lib/extra.jar added.
    assert_eq!(count(plan, Op::Replace), 11 + 2, "replaced");
    assert_eq!(count(plan, Op::Add), 11 + 11 + 1, "added");
    assert_eq!(count(plan, Op::Delete), 11 + 41 + 1, "deleted");
    let files_old = 12 * 41 + 7;
    assert_eq!(
        plan.changes.len(),
        files_old + count(plan, Op::Add),
        "one change per file of either application"
    );
    let mut paths: Vec<&str> = plan.changes.iter().map(|c| c.path.as_str()).collect();
    let sorted = paths.clone();
    paths.dedup();
    assert_eq!(paths, sorted, "sorted, each path once");
    let scope = |p: &str| {
        plan.changes
            .iter()
            .find(|c| c.path.as_str() == p)
            .map(|c| c.scope.as_str().to_owned())
    };
    assert_eq!(scope("w8.war/WEB-INF/web.xml").as_deref(), Some("w8.war"));
    assert_eq!(scope("w7.war/WEB-INF/web.xml").as_deref(), Some("w7.war"));
    assert_eq!(scope("lib/extra.jar").as_deref(), Some(""));
}

#[test]
fn full_updates_with_many_modules_in_every_pair_of_forms_and_their_rollbacks() -> R {
    let dir = tempfile::tempdir()?;
    let (old_ear, old_dir) = old_build().write(dir.path(), "old")?;
    let (new_ear, new_dir) = new_build().write(dir.path(), "new")?;
    let before = digest(&old_ear)?;
    let target = digest(&new_ear)?;
    assert_eq!(before, digest(&old_dir)?);
    assert_eq!(target, digest(&new_dir)?);
    assert_ne!(before, target);
    let old_bytes = std::fs::read(&old_ear)?;
    for (i, app_form) in [&old_ear, &old_dir].into_iter().enumerate() {
        for (j, new) in [&new_ear, &new_dir].into_iter().enumerate() {
            let app = dir.path().join(format!("app{i}{j}"));
            let app = if app_form.is_dir() {
                copy_dir(app_form, &app)?;
                app
            } else {
                let app = app.with_extension("ear");
                std::fs::copy(app_form, &app)?;
                app
            };
            let at = format!("{} <- {}", app.display(), new.display());
            let report = apply(&app, &Update::full(new)?, &ApplyOptions::default())?;
            assert_eq!(report.outcome, Outcome::Applied, "{at}");
            check_plan(&report.plan);
            assert_eq!(report.plan.application.digest, Some(before), "{at}");
            assert_eq!(
                digest(&app)?,
                target,
                "{at}: the application is the new one"
            );
            assert_eq!(report.digest_after, Some(target), "{at}: predicted digest");
            if app.is_file() && new.is_file() {
                assert_eq!(
                    std::fs::read(&app)?,
                    std::fs::read(new)?,
                    "{at}: an archive replaced by an archive is the new archive"
                );
            }
            let again = apply(&app, &Update::full(new)?, &ApplyOptions::default())?;
            assert_eq!(again.outcome, Outcome::UpToDate, "{at}");

            let reports = rollback(&app, &RollbackOptions::default())?;
            assert_eq!(reports.len(), 1);
            assert_eq!(digest(&app)?, before, "{at}: rollback restores");
            if app.is_file() {
                assert_eq!(std::fs::read(&app)?, old_bytes, "{at}: byte for byte");
            }
            let records = history(&app, None)?;
            assert_eq!(records[0].status, Status::RolledBack, "{at}");
            assert_eq!(records[0].undo, "previous.ear", "{at}");
            assert_eq!(
                records[1].rolls_back.as_deref(),
                Some(records[0].id.as_str())
            );
        }
    }
    Ok(())
}

#[test]
fn a_full_update_to_an_output_writes_the_new_application_and_leaves_the_old_one() -> R {
    let dir = tempfile::tempdir()?;
    let (old_ear, old_dir) = old_build().write(dir.path(), "old")?;
    let (new_ear, new_dir) = new_build().write(dir.path(), "new")?;
    let old_bytes = std::fs::read(&old_ear)?;
    let before = digest(&old_ear)?;
    let target = digest(&new_ear)?;
    for (k, (app, new)) in [
        (&old_ear, &new_ear),
        (&old_ear, &new_dir),
        (&old_dir, &new_ear),
    ]
    .into_iter()
    .enumerate()
    {
        let out = dir.path().join(format!("out{k}.ear"));
        let report = apply(
            app,
            &Update::full(new)?,
            &ApplyOptions::default().output(&out).expect_digest(before),
        )?;
        check_plan(&report.plan);
        assert_eq!(report.digest_after, Some(target), "{}", out.display());
        assert_eq!(digest(&out)?, target, "{}", out.display());
        assert_eq!(digest(app)?, before, "{} untouched", app.display());
    }
    assert_eq!(std::fs::read(&old_ear)?, old_bytes);
    assert_eq!(
        std::fs::read(dir.path().join("out0.ear"))?,
        std::fs::read(&new_ear)?,
        "an archive replaced by an archive is the new archive"
    );
    assert!(history(&old_ear, None)?.is_empty(), "no history for -o");
    Ok(())
}

#[test]
fn rolling_back_a_full_update_after_a_partial_one_goes_newest_first() -> R {
    let dir = tempfile::tempdir()?;
    let (old_ear, _) = old_build().write(dir.path(), "old")?;
    let (new_ear, _) = new_build().write(dir.path(), "new")?;
    let app = dir.path().join("app.ear");
    std::fs::copy(&old_ear, &app)?;
    let before = digest(&app)?;
    let fix = dir.path().join("fix.zip");
    std::fs::write(
        &fix,
        ear_fixtures::zip_of(&[
            ("w1.war/index.jsp", b"fixed"),
            ("config/new.properties", b"n"),
        ]),
    )?;
    apply(&app, &Update::partial(&fix)?, &ApplyOptions::default())?;
    let patched = digest(&app)?;
    apply(&app, &Update::full(&new_ear)?, &ApplyOptions::default())?;
    assert_eq!(digest(&app)?, digest(&new_ear)?);
    let first = history(&app, None)?[0].id.clone();
    let reports = rollback(&app, &RollbackOptions::default().to(first))?;
    assert_eq!(reports.len(), 1, "only the full update is after the first");
    assert_eq!(digest(&app)?, patched);
    rollback(&app, &RollbackOptions::default())?;
    assert_eq!(digest(&app)?, before);
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> R {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry?;
        let target = to.join(entry.path().strip_prefix(from)?);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
