//! Every archive and descriptor of the real-world corpus in `../shared/corpus`.
//!
//! Skipped, with a printed notice, when the corpus folder is absent.

use std::path::{Path, PathBuf};

use ear_core::{Application, Descriptor, ModuleKind, Storage, WarningCode};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("notice: {} is absent; corpus tests skipped", dir.display());
        None
    }
}

fn archives(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|p| {
            p.extension().is_some_and(|e| {
                ["ear", "war", "rar", "jar", "sym", "sar"].contains(&e.to_string_lossy().as_ref())
            })
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_archive_opens_or_fails_cleanly() -> TestResult {
    let Some(root) = corpus() else { return Ok(()) };
    let all = archives(&root);
    assert!(
        all.len() >= 100,
        "expected the 100 corpus archives, found {}",
        all.len()
    );
    let (mut opened, mut refused) = (0, Vec::new());
    for path in &all {
        match Application::open(path).and_then(|app| app.inventory().map(|inv| (app, inv))) {
            Ok((app, inventory)) => {
                opened += 1;
                let files: usize = inventory.scopes.iter().map(|s| s.files.len()).sum();
                assert!(
                    files > 0 || !app.warnings().is_empty(),
                    "{}: no files and no warning",
                    path.display()
                );
            }
            Err(err) => {
                let message = err.to_string();
                assert!(
                    !message.contains('\n'),
                    "{}: multi-line error {message}",
                    path.display()
                );
                assert!(
                    message.contains(&*path.file_name().ok_or("name")?.to_string_lossy()),
                    "{message}"
                );
                refused.push(
                    path.file_name()
                        .ok_or("name")?
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    refused.sort();
    // The three 0-byte files and the three plain library jars of Debian.
    assert_eq!(
        refused,
        [
            "activemq-ra.jar",
            "bcprov-1.72.jar",
            "empty.war",
            "javaee-deployment.ear",
            "test-rar-file.rar",
            "tomcat10-catalina-10.1.60.jar"
        ]
    );
    eprintln!(
        "corpus: {opened} opened, {} refused with a clear error",
        refused.len()
    );
    Ok(())
}

#[test]
fn empty_files_say_so() -> TestResult {
    let Some(root) = corpus() else { return Ok(()) };
    for f in [
        "windup/empty.war",
        "windup-rulesets/test-rar-file.rar",
        "windup-rulesets/javaee-deployment.ear",
    ] {
        let err = Application::open(root.join(f))
            .err()
            .ok_or(format!("{f} opened"))?;
        assert!(err.to_string().contains("empty (0 bytes)"), "{err}");
    }
    Ok(())
}

#[test]
fn plants_by_websphere_web_module() -> TestResult {
    let Some(root) = corpus() else { return Ok(()) };
    let dir = root.join("plants-by-websphere-jee6");
    let mut seen = 0;
    for ear in archives(&dir) {
        let app = Application::open(&ear)?;
        let web: Vec<_> = app
            .modules()
            .iter()
            .filter(|m| m.kind == ModuleKind::Web)
            .collect();
        assert_eq!(web.len(), 1, "{}", ear.display());
        assert_eq!(web[0].uri.as_str(), "pbw-web.war");
        assert_eq!(web[0].context_root.as_deref(), Some("/"));
        assert_eq!(web[0].storage, Storage::Archive);
        assert!(
            app.application_files()
                .any(|(p, _)| p.as_str() == "lib/pbw-lib.jar")
        );
        seen += 1;
    }
    assert_eq!(seen, 5);
    Ok(())
}

#[test]
fn customer_order_services_declares_missing_modules() -> TestResult {
    let Some(root) = corpus() else { return Ok(()) };
    for ear in archives(&root.join("customer-order-services")) {
        let app = Application::open(&ear)?;
        let missing: Vec<_> = app
            .warnings()
            .iter()
            .filter(|w| w.code == WarningCode::ModuleMissing)
            .map(|w| w.message.clone())
            .collect();
        assert_eq!(missing.len(), 3, "{}: {missing:?}", ear.display());
        assert!(
            missing
                .iter()
                .any(|m| m.contains("CustomerOrderServicesWeb.war"))
        );
        assert!(app.modules().iter().all(|m| m.storage == Storage::Missing));
        // The archives that are really there are application-scope files.
        assert!(app.application_files().any(|(p, _)| {
            p.as_str()
                .ends_with("CustomerOrderServicesWeb-0.1.0-SNAPSHOT.war")
        }));
    }
    Ok(())
}

#[test]
fn windup_unparsable_jar_warns() -> TestResult {
    let Some(root) = corpus() else { return Ok(()) };
    let app = Application::open(root.join("windup/jee-example-app-1.0.0.ear"))?;
    let inventory = app.inventory()?;
    assert!(
        inventory
            .warnings
            .iter()
            .any(|w| w.code == WarningCode::NestedArchiveNotZip
                && w.message.contains("unparsable.jar")),
        "{:?}",
        inventory.warnings
    );
    let uris: Vec<_> = app.modules().iter().map(|m| m.uri.as_str()).collect();
    assert_eq!(uris, ["jee-example-services.jar", "jee-example-web.war"]);
    Ok(())
}

#[test]
fn ears_without_descriptor_use_conventions() -> TestResult {
    let Some(root) = corpus() else { return Ok(()) };
    let app = Application::open(root.join("wasdev-twas-docker/hello-world-app.ear"))?;
    assert!(app.descriptor().is_none());
    let m = &app.modules()[0];
    assert_eq!(
        (m.uri.as_str(), m.kind, m.context_root.as_deref()),
        ("HelloWorld.war", ModuleKind::Web, Some("/HelloWorld"))
    );
    // A WAR whose entries live under a directory named like a WAR.
    let app = Application::open(root.join("windup/maven-info-missing.war"))?;
    assert!(app.is_standalone_module());
    Ok(())
}

#[test]
fn every_descriptor_parses() -> TestResult {
    let Some(root) = corpus() else { return Ok(()) };
    let dir = root.join("application-xml");
    let mut parsed = 0;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "xml") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let d = Descriptor::parse(&bytes, &path.display().to_string())?;
        // Each <module> element of the file gives one module.
        let text = String::from_utf8_lossy(&bytes);
        let without_comments = strip_comments(&text);
        assert_eq!(
            d.modules.len(),
            without_comments.matches("<module").count()
                - without_comments.matches("<module-").count(),
            "{}",
            path.display()
        );
        parsed += 1;
    }
    assert_eq!(parsed, 28);
    let get = |name: &str| -> Result<Descriptor, Box<dyn std::error::Error>> {
        Ok(Descriptor::parse(&std::fs::read(dir.join(name))?, name)?)
    };
    let d = get("mep-094_ee6_web-connector-ejb-libdir.xml")?;
    let kinds: Vec<_> = d.modules.iter().map(|m| m.kind).collect();
    assert!(
        kinds.contains(&ModuleKind::Web)
            && kinds.contains(&ModuleKind::Connector)
            && kinds.contains(&ModuleKind::Ejb)
    );
    let d = get("gf_ee5_empty-library-directory.xml")?;
    assert_eq!(d.library_directory, ear_core::LibraryDirectory::None);
    let d = get("gf_ee5_commented-out-library-directory.xml")?;
    assert_eq!(
        d.library_directory,
        ear_core::LibraryDirectory::default_lib()
    );
    let d = get("mep-101_ee5_no-modules_libdir-dot.xml")?;
    assert_eq!(d.library_directory, ear_core::LibraryDirectory::Root);
    assert!(d.modules.is_empty());
    let d = get("mep-036_j2ee13_connector-sar_subdir-ejb.xml")?;
    assert!(
        d.modules
            .iter()
            .any(|m| m.kind == ModuleKind::Sip && m.uri.as_str().ends_with(".sar"))
    );
    let d = get("mep-056_j2ee14_alt-dd.xml")?;
    assert!(d.modules.iter().any(|m| m.alt_dd.is_some()));
    let d = get("daytrader3_ee6_module-ids.xml")?;
    assert_eq!(
        d.modules
            .iter()
            .filter(|m| m.kind == ModuleKind::Web)
            .count(),
        2
    );
    let d = get("tck_ee10_two-java-two-ejb.xml")?;
    assert_eq!(
        d.modules
            .iter()
            .filter(|m| m.kind == ModuleKind::Client)
            .count(),
        2
    );
    assert_eq!(
        d.modules
            .iter()
            .filter(|m| m.kind == ModuleKind::Ejb)
            .count(),
        2
    );
    let d = get("gf_j2ee12_dtd.xml")?;
    assert_eq!(d.version.as_deref(), Some("1.2"));
    let d = get("mep-102_jakartaee11.xml")?;
    assert_eq!(d.version.as_deref(), Some("11"));
    Ok(())
}

fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("-->")
            .map_or("", |end| &rest[start + end + 3..]);
    }
    out.push_str(rest);
    out
}
