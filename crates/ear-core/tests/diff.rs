//! `diff`: applying diff(OLD, NEW) to OLD gives NEW's content; the update is
//! minimal and deterministic; removed modules are refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ear_core::{Application, Digest, PlanOptions, Update};
use ear_core::{ApplyOptions, apply, diff};
use ear_fixtures::random::{AppSpec, app_spec, build_ear};
use ear_fixtures::{ZipBuilder, sample, zip_of};
use proptest::prelude::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn digest(path: &Path) -> Result<Digest, Box<dyn std::error::Error>> {
    Ok(Application::open(path)?.digest()?)
}

/// Diffs OLD → NEW into `dir/u.zip`, applies it to a copy of OLD (archive or
/// expanded), returns the resulting digest.
fn round_trip(old: &Path, new: &Path, dir: &Path) -> Result<Digest, Box<dyn std::error::Error>> {
    let zip = dir.join("u.zip");
    diff(
        &Application::open(old)?,
        &Application::open(new)?,
        &zip,
        &PlanOptions::default(),
    )?;
    let out = dir.join(if old.is_dir() { "out" } else { "out.ear" });
    if out.exists() {
        if out.is_dir() {
            std::fs::remove_dir_all(&out)?
        } else {
            std::fs::remove_file(&out)?
        }
    }
    apply(
        old,
        &Update::partial(&zip)?,
        &ApplyOptions::default().output(&out),
    )?;
    digest(&out)
}

fn corpus(sub: &str) -> Option<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(sub);
    if !dir.is_dir() {
        eprintln!("notice: {} is absent; skipped", dir.display());
        return None;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ear"))
        .collect();
    files.sort();
    Some(files)
}

fn all_pairs(files: &[PathBuf]) -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut checked = 0;
    for old in files {
        for new in files {
            if old == new {
                continue;
            }
            match round_trip(old, new, dir.path()) {
                Ok(got) => assert_eq!(got, digest(new)?, "{} -> {}", old.display(), new.display()),
                Err(e) => {
                    let message = e.to_string();
                    assert!(
                        message.contains("never removes a module"),
                        "{} -> {}: {message}",
                        old.display(),
                        new.display()
                    );
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, files.len() * (files.len() - 1));
    Ok(())
}

#[test]
fn plants_by_websphere_series_round_trips() -> TestResult {
    let Some(files) = corpus("plants-by-websphere-jee6") else {
        return Ok(());
    };
    assert_eq!(files.len(), 5);
    all_pairs(&files)
}

#[test]
fn customer_order_services_series_round_trips() -> TestResult {
    let Some(files) = corpus("customer-order-services") else {
        return Ok(());
    };
    assert_eq!(files.len(), 3);
    all_pairs(&files)
}

#[test]
fn pdprof_resource_ears_round_trip() -> TestResult {
    let Some(files) = corpus("pdprof-resource-adapter") else {
        return Ok(());
    };
    assert_eq!(files.len(), 2);
    all_pairs(&files)
}

#[test]
fn expanded_old_and_new_in_any_combination() -> TestResult {
    let dir = tempfile::tempdir()?;
    let old = dir.path().join("old.ear");
    std::fs::write(&old, sample::shop_ear())?;
    // NEW: the sample after its fix, made by applying it.
    let fix = dir.path().join("fix.zip");
    std::fs::write(&fix, sample::shop_fix_zip())?;
    let new = dir.path().join("new.ear");
    apply(
        &old,
        &Update::partial(&fix)?,
        &ApplyOptions::default().output(&new),
    )?;
    let old_x = dir.path().join("old-x");
    let new_x = dir.path().join("new-x");
    ear_fixtures::write_expanded(&sample::shop_ear(), &old_x, &sample::SHOP_MODULES)?;
    ear_fixtures::write_expanded(&std::fs::read(&new)?, &new_x, &sample::SHOP_MODULES)?;
    let want = digest(&new)?;
    for (o, n) in [
        (&old, &new),
        (&old, &new_x),
        (&old_x, &new),
        (&old_x, &new_x),
    ] {
        let work = tempfile::tempdir()?;
        assert_eq!(
            round_trip(o, n, work.path())?,
            want,
            "{} -> {}",
            o.display(),
            n.display()
        );
    }
    Ok(())
}

#[test]
fn minimal_and_deterministic() -> TestResult {
    let dir = tempfile::tempdir()?;
    let old = dir.path().join("old.ear");
    std::fs::write(&old, sample::worked_example_ear())?;
    let new = dir.path().join("new.ear");
    let fix = dir.path().join("fix.zip");
    std::fs::write(&fix, sample::worked_example_zip())?;
    apply(
        &old,
        &Update::partial(&fix)?,
        &ApplyOptions::default().output(&new),
    )?;
    let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.zip"));
    let report = diff(
        &Application::open(&old)?,
        &Application::open(&new)?,
        &a,
        &PlanOptions::default(),
    )?;
    diff(
        &Application::open(&old)?,
        &Application::open(&new)?,
        &b,
        &PlanOptions::default(),
    )?;
    assert_eq!(
        std::fs::read(&a)?,
        std::fs::read(&b)?,
        "byte-identical output"
    );
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&a)?)?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "META-INF/ibm-partialapp-delete.props",
            "foo.jar/com/mycomp/xyz.class",
            "util.jar",
            "webmod.war/META-INF/ibm-partialapp-delete.props",
            "xyz.war/WEB-INF/web.xml",
            "xyz.war/welcome.jsp",
        ],
        "no unchanged file, no untouched module"
    );
    let mut props = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("META-INF/ibm-partialapp-delete.props")?,
        &mut props,
    )?;
    assert!(
        props.contains("a\\.dat\n")
            && props.contains("conf/b\\.dat\n")
            && props.contains("tools/test\\.jar\n"),
        "{props}"
    );
    assert_eq!((report.entries, report.deletions), (4, 6));
    // The same changes the worked example makes.
    let effects: BTreeMap<String, String> = report
        .plan
        .changes
        .iter()
        .map(|c| (c.path.to_string(), format!("{:?}", c.rule)))
        .collect();
    assert_eq!(
        effects.get("util.jar").map(String::as_str),
        Some("Some(P2)")
    );
    Ok(())
}

#[test]
fn special_characters_are_deleted_exactly() -> TestResult {
    let names = [
        "Foo$1.class",
        "a.b",
        "axb",
        "[x].txt",
        "x",
        "(p)+q?.jsp",
        "r*s^t{u}|v.txt",
        "with space.txt",
        "a.b.c",
    ];
    let dir = tempfile::tempdir()?;
    let mut old = ZipBuilder::new().file("META-INF/application.xml", br#"<application><module><web><web-uri>w.war</web-uri><context-root>/w</context-root></web></module></application>"#);
    let mut module = ZipBuilder::new();
    for n in names {
        old = old.file(&format!("conf/{n}"), n.as_bytes());
        module = module.file(n, n.as_bytes());
    }
    let old_bytes = old.file("w.war", module.finish()).finish();
    // NEW keeps "axb", "a.b.c" and "x" only: deleting "a.b" must not take "axb", "[x].txt" not "x".
    let keep = ["axb", "x", "a.b.c"];
    let mut new = ZipBuilder::new().file("META-INF/application.xml", br#"<application><module><web><web-uri>w.war</web-uri><context-root>/w</context-root></web></module></application>"#);
    let mut module = ZipBuilder::new();
    for n in keep {
        new = new.file(&format!("conf/{n}"), n.as_bytes());
        module = module.file(n, n.as_bytes());
    }
    let new_bytes = new.file("w.war", module.finish()).finish();
    let (o, n) = (dir.path().join("old.ear"), dir.path().join("new.ear"));
    std::fs::write(&o, old_bytes)?;
    std::fs::write(&n, new_bytes)?;
    assert_eq!(round_trip(&o, &n, dir.path())?, digest(&n)?);
    Ok(())
}

#[test]
fn new_module_is_shipped_whole_and_removed_module_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let dd = |mods: &str| format!("<application>{mods}</application>");
    let a =
        r#"<module><web><web-uri>a.war</web-uri><context-root>/a</context-root></web></module>"#;
    let b = r#"<module><ejb>b.jar</ejb></module>"#;
    let old = ZipBuilder::new()
        .file("META-INF/application.xml", dd(a))
        .file("a.war", zip_of(&[("i.jsp", b"i")]))
        .finish();
    let new = ZipBuilder::new()
        .file("META-INF/application.xml", dd(&format!("{a}{b}")))
        .file("a.war", zip_of(&[("i.jsp", b"i")]))
        .file("b.jar", zip_of(&[("META-INF/ejb-jar.xml", b"<ejb-jar/>")]))
        .finish();
    let (o, n) = (dir.path().join("old.ear"), dir.path().join("new.ear"));
    std::fs::write(&o, &old)?;
    std::fs::write(&n, &new)?;
    let zip = dir.path().join("u.zip");
    let report = diff(
        &Application::open(&o)?,
        &Application::open(&n)?,
        &zip,
        &PlanOptions::default(),
    )?;
    let module = report
        .plan
        .changes
        .iter()
        .find(|c| c.path.as_str() == "b.jar")
        .ok_or("b.jar shipped")?;
    assert_eq!(module.rule, Some(ear_core::Rule::M1));
    assert!(
        report
            .plan
            .changes
            .iter()
            .any(|c| c.path.as_str() == "META-INF/application.xml")
    );
    assert_eq!(round_trip(&o, &n, dir.path())?, digest(&n)?);
    let err = diff(
        &Application::open(&n)?,
        &Application::open(&o)?,
        &zip,
        &PlanOptions::default(),
    )
    .err()
    .ok_or("refused")?;
    assert!(
        err.to_string().contains("module b.jar") && err.to_string().contains("full update"),
        "{err}"
    );
    Ok(())
}

/// NEW derived from OLD: files changed, removed, added; maybe a new module.
fn mutate(spec: &AppSpec, edits: &[u8], add_module: bool) -> AppSpec {
    let mut out = spec.clone();
    let mut i = 0;
    let mut next = || {
        i += 1;
        edits.get(i - 1).copied().unwrap_or(0)
    };
    for (_, files) in out.modules.values_mut() {
        let keys: Vec<String> = files.keys().cloned().collect();
        for k in keys {
            match next() % 4 {
                1 => {
                    files.insert(k, 9);
                }
                2 if files.len() > 1 => {
                    files.remove(&k);
                }
                3 => {
                    files.insert(format!("{k}.new"), 1);
                }
                _ => {}
            }
        }
    }
    let keys: Vec<String> = out.app_files.keys().cloned().collect();
    for k in keys {
        match next() % 3 {
            1 => {
                out.app_files.insert(k, 7);
            }
            2 => {
                out.app_files.remove(&k);
            }
            _ => {}
        }
    }
    if add_module {
        out.modules.insert(
            "added.war".into(),
            (true, BTreeMap::from([("index.jsp".to_owned(), 0)])),
        );
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn diff_round_trips_on_both_forms(spec in app_spec(), edits in prop::collection::vec(any::<u8>(), 0..40), add_module in any::<bool>()) {
        let fail = |e: Box<dyn std::error::Error>| TestCaseError::fail(e.to_string());
        let new_spec = mutate(&spec, &edits, add_module && !spec.modules.contains_key("added.war"));
        let dir = tempfile::tempdir().map_err(|e| fail(e.into()))?;
        let (o, n) = (dir.path().join("old.ear"), dir.path().join("new.ear"));
        std::fs::write(&o, build_ear(&spec)).map_err(|e| fail(e.into()))?;
        std::fs::write(&n, build_ear(&new_spec)).map_err(|e| fail(e.into()))?;
        let ox = dir.path().join("old-x");
        let uris: Vec<&str> = spec.modules.keys().map(String::as_str).collect();
        ear_fixtures::write_expanded(&build_ear(&spec), &ox, &uris).map_err(|e| fail(e.into()))?;
        let want = digest(&n).map_err(fail)?;
        let work = tempfile::tempdir().map_err(|e| fail(e.into()))?;
        prop_assert_eq!(round_trip(&o, &n, work.path()).map_err(fail)?, want);
        let work = tempfile::tempdir().map_err(|e| fail(e.into()))?;
        prop_assert_eq!(round_trip(&ox, &n, work.path()).map_err(fail)?, want);
    }
}
