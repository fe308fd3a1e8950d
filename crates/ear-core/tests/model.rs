//! The application model on synthetic applications, in both forms.

use ear_core::{
    Application, EntryPath, Error, Form, LibraryDirectory, ModuleKind, Scope, Storage, WarningCode,
};
use ear_fixtures::{ZipBuilder, class_bytes, sample, write_expanded, zip_of};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

fn p(s: &str) -> EntryPath {
    EntryPath::new(s).expect("valid test path")
}

#[test]
fn sample_modules_and_scopes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = Application::open(write(dir.path(), "shop.ear", &sample::shop_ear()))?;
    assert_eq!(app.form(), Form::Archive);
    let modules: Vec<_> = app
        .modules()
        .iter()
        .map(|m| (m.uri.as_str(), m.kind, m.context_root.as_deref(), m.storage))
        .collect();
    assert_eq!(
        modules,
        [
            (
                "catalog.war",
                ModuleKind::Web,
                Some("/catalog"),
                Storage::Archive
            ),
            (
                "payments.rar",
                ModuleKind::Connector,
                None,
                Storage::Archive
            ),
            ("shop-ejb.jar", ModuleKind::Ejb, None, Storage::Archive),
            (
                "storefront.war",
                ModuleKind::Web,
                Some("/shop"),
                Storage::Archive
            ),
        ]
    );
    assert!(app.warnings().is_empty(), "{:?}", app.warnings());
    let lib = app.library_directory();
    assert_eq!(lib, &LibraryDirectory::Dir(p("lib")));
    let app_files: Vec<_> = app.application_files().map(|(p, _)| p.as_str()).collect();
    assert!(app_files.contains(&"lib/util.jar"));
    assert!(app_files.contains(&"config/tax/rates.dat"));
    assert!(!app_files.iter().any(|f| f.starts_with("catalog.war")));
    let (scope, rel) = app
        .locate(&p("catalog.war/WEB-INF/web.xml"))
        .ok_or("not located")?;
    assert_eq!(
        (scope, rel.as_str()),
        (Scope::Module(p("catalog.war")), "WEB-INF/web.xml")
    );
    assert_eq!(app.locate(&p("catalog.war")), None);
    let web_xml = app
        .read(&p("catalog.war/WEB-INF/web.xml"))?
        .ok_or("missing")?;
    assert!(String::from_utf8(web_xml)?.contains("<display-name>catalog"));
    assert_eq!(app.read(&p("catalog.war/nope"))?, None);
    Ok(())
}

#[test]
fn archive_and_expanded_forms_agree() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ear = sample::shop_ear();
    let archive = Application::open(write(dir.path(), "shop.ear", &ear))?;
    let expanded_dir = dir.path().join("shop-expanded");
    write_expanded(&ear, &expanded_dir, &sample::SHOP_MODULES)?;
    let expanded = Application::open(&expanded_dir)?;
    assert_eq!(expanded.form(), Form::Expanded);
    assert_eq!(archive.modules().len(), expanded.modules().len());
    for (a, e) in archive.modules().iter().zip(expanded.modules()) {
        assert_eq!(
            (&a.uri, a.kind, &a.context_root),
            (&e.uri, e.kind, &e.context_root)
        );
        assert_eq!(e.storage, Storage::Directory);
    }
    let (ia, ie) = (archive.inventory()?, expanded.inventory()?);
    assert_eq!(ia.digest(), ie.digest());
    for (sa, se) in ia.scopes.iter().zip(&ie.scopes) {
        assert_eq!(sa.files, se.files, "scope {}", sa.scope);
    }
    // A module left as an archive inside an expanded application is valid too.
    let mixed_dir = dir.path().join("mixed");
    write_expanded(&ear, &mixed_dir, &["catalog.war", "payments.rar"])?;
    let mixed = Application::open(&mixed_dir)?;
    assert_eq!(
        mixed.module(&p("shop-ejb.jar")).map(|m| m.storage),
        Some(Storage::Archive)
    );
    assert_eq!(mixed.digest()?, ia.digest());
    Ok(())
}

#[test]
fn digest_ignores_zip_metadata_and_sees_content() -> TestResult {
    let dir = tempfile::tempdir()?;
    let a = zip_of(&[
        ("a.txt", b"one"),
        ("b.war", &zip_of(&[("index.jsp", b"x")])),
    ]);
    let b = ZipBuilder::new()
        .file_with(
            "b.war",
            ZipBuilder::new()
                .file_with("index.jsp", b"x", ear_fixtures::Method::Store)
                .finish(),
            ear_fixtures::Method::Store,
        )
        .file("a.txt", b"one")
        .finish();
    let c = zip_of(&[
        ("a.txt", b"one"),
        ("b.war", &zip_of(&[("index.jsp", b"y")])),
    ]);
    let da = Application::open(write(dir.path(), "a.ear", &a))?.digest()?;
    let db = Application::open(write(dir.path(), "b.ear", &b))?.digest()?;
    let dc = Application::open(write(dir.path(), "c.ear", &c))?.digest()?;
    assert_eq!(
        da, db,
        "entry order and compression must not change the digest"
    );
    assert_ne!(
        da, dc,
        "a changed byte inside a module must change the digest"
    );
    assert_eq!(da.to_string().len(), "sha256:".len() + 64);
    assert_eq!(da.to_string().parse::<ear_core::Digest>()?, da);
    Ok(())
}

#[test]
fn conventions_without_descriptor() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ejb = zip_of(&[
        ("META-INF/ejb-jar.xml", b"<ejb-jar/>"),
        ("a/B.class", &class_bytes("B")),
    ]);
    let client = zip_of(&[(
        "META-INF/MANIFEST.MF",
        b"Manifest-Version: 1.0\r\nMain-Class: a.Main\r\n\r\n",
    )]);
    let client_dd = zip_of(&[("META-INF/application-client.xml", b"<application-client/>")]);
    let util = zip_of(&[(
        "META-INF/MANIFEST.MF",
        b"Manifest-Version: 1.0\r\n\r\nName: x\r\nMain-Class: not.main\r\n",
    )]);
    let ear = zip_of(&[
        ("web/front.war", &zip_of(&[("index.html", b"hi")])),
        ("ra.rar", &zip_of(&[("META-INF/ra.xml", b"<connector/>")])),
        ("voice.sar", &zip_of(&[("WEB-INF/sip.xml", b"<sip-app/>")])),
        ("orders.jar", &ejb),
        ("tools/client.jar", &client),
        ("client2.jar", &client_dd),
        ("util.jar", &util),
        ("lib/ejb-in-lib.jar", &ejb),
        ("data/x.dat", b"1"),
    ]);
    let app = Application::open(write(dir.path(), "conv.ear", &ear))?;
    assert!(app.descriptor().is_none());
    let modules: Vec<_> = app
        .modules()
        .iter()
        .map(|m| (m.uri.as_str(), m.kind, m.context_root.as_deref()))
        .collect();
    assert_eq!(
        modules,
        [
            ("client2.jar", ModuleKind::Client, None),
            ("orders.jar", ModuleKind::Ejb, None),
            ("ra.rar", ModuleKind::Connector, None),
            ("tools/client.jar", ModuleKind::Client, None),
            ("voice.sar", ModuleKind::Sip, None),
            ("web/front.war", ModuleKind::Web, Some("/front")),
        ]
    );
    let app_files: Vec<_> = app.application_files().map(|(p, _)| p.as_str()).collect();
    assert_eq!(app_files, ["data/x.dat", "lib/ejb-in-lib.jar", "util.jar"]);
    // The same application expanded: module directories are found by the same rules.
    let expanded = dir.path().join("conv");
    write_expanded(
        &ear,
        &expanded,
        &["web/front.war", "orders.jar", "voice.sar"],
    )?;
    let app2 = Application::open(&expanded)?;
    let uris2: Vec<_> = app2
        .modules()
        .iter()
        .map(|m| (m.uri.as_str(), m.kind))
        .collect();
    let uris1: Vec<_> = app
        .modules()
        .iter()
        .map(|m| (m.uri.as_str(), m.kind))
        .collect();
    assert_eq!(uris1, uris2);
    assert_eq!(app.digest()?, app2.digest()?);
    // A directory named like a jar that holds no EJB or client module is plain content.
    let unpacked_util = dir.path().join("conv2");
    write_expanded(&ear, &unpacked_util, &["util.jar"])?;
    let app3 = Application::open(&unpacked_util)?;
    assert!(app3.module(&p("util.jar")).is_none());
    assert!(
        app3.application_files()
            .any(|(p, _)| p.as_str() == "util.jar/META-INF/MANIFEST.MF")
    );
    Ok(())
}

#[test]
fn descriptor_library_directory_and_sar() -> TestResult {
    let dir = tempfile::tempdir()?;
    let xml = br#"<application version="5"><module><connector>voice.sar</connector></module>
        <module><ejb>APP-INF/lib/e.jar</ejb></module><library-directory>APP-INF/lib</library-directory></application>"#;
    let ear = zip_of(&[
        ("META-INF/application.xml", xml),
        ("voice.sar", &zip_of(&[("a", b"a")])),
        (
            "APP-INF/lib/e.jar",
            &zip_of(&[("META-INF/ejb-jar.xml", b"<x/>")]),
        ),
        ("orphan.war", &zip_of(&[("index.html", b"x")])),
    ]);
    let app = Application::open(write(dir.path(), "d.ear", &ear))?;
    let kinds: Vec<_> = app
        .modules()
        .iter()
        .map(|m| (m.uri.as_str(), m.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("APP-INF/lib/e.jar", ModuleKind::Ejb),
            ("voice.sar", ModuleKind::Sip)
        ]
    );
    // With a descriptor, an undeclared archive is an application-scope file.
    assert!(
        app.application_files()
            .any(|(p, _)| p.as_str() == "orphan.war")
    );
    assert_eq!(
        app.library_directory(),
        &LibraryDirectory::Dir(p("APP-INF/lib"))
    );
    Ok(())
}

#[test]
fn warnings_for_broken_content() -> TestResult {
    let dir = tempfile::tempdir()?;
    let xml = br#"<application><module><web><web-uri>gone.war</web-uri><context-root>/g</context-root></web></module>
        <module><ejb>broken.jar</ejb></module></application>"#;
    let ear = zip_of(&[
        ("META-INF/application.xml", xml),
        ("broken.jar", b"this is not a zip"),
        ("lib/not-a-zip.jar", b"plain text"),
        ("lib/empty.jar", b""),
    ]);
    let app = Application::open(write(dir.path(), "w.ear", &ear))?;
    let inventory = app.inventory()?;
    let codes: Vec<_> = app
        .warnings()
        .iter()
        .chain(&inventory.warnings)
        .map(|w| w.code)
        .collect();
    assert!(codes.contains(&WarningCode::ModuleMissing), "{codes:?}");
    assert!(codes.contains(&WarningCode::ModuleUnreadable), "{codes:?}");
    assert!(
        codes.contains(&WarningCode::NestedArchiveNotZip),
        "{codes:?}"
    );
    assert!(codes.contains(&WarningCode::EmptyArchive), "{codes:?}");
    let messages: Vec<_> = inventory
        .warnings
        .iter()
        .map(|w| w.message.as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("lib/not-a-zip.jar")),
        "{messages:?}"
    );
    // The unreadable module's bytes still count in the digest.
    let files = &inventory
        .scope(&Scope::Application)
        .ok_or("no app scope")?
        .files;
    assert!(files.iter().any(|f| f.path.as_str() == "broken.jar"));
    Ok(())
}

/// Renames the second entry of a two-entry zip to the first one's name
/// (same length), making a zip with a duplicate entry name.
fn duplicate_names(zip: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let mut i = 0;
    while i + from.len() <= zip.len() {
        if &zip[i..i + from.len()] == from {
            zip[i..i + from.len()].copy_from_slice(to);
        }
        i += 1;
    }
}

#[test]
fn duplicate_entries_warn() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut ear = zip_of(&[("config/a.dat", b"first"), ("config/b.dat", b"second")]);
    duplicate_names(&mut ear, b"config/b.dat", b"config/a.dat");
    let app = Application::open(write(dir.path(), "dup.ear", &ear))?;
    assert!(
        app.warnings()
            .iter()
            .any(|w| w.code == WarningCode::DuplicateEntry && w.message.contains("dup.ear")),
        "{:?}",
        app.warnings()
    );
    assert_eq!(
        app.read(&p("config/a.dat"))?.as_deref(),
        Some(&b"second"[..])
    );
    Ok(())
}

#[test]
fn errors_name_the_problem() -> TestResult {
    let dir = tempfile::tempdir()?;
    let check = |name: &str, bytes: &[u8], needle: &str| -> TestResult {
        let path = write(dir.path(), name, bytes);
        let err = Application::open(&path)
            .err()
            .ok_or(format!("{name} opened"))?;
        let text = format!("{err}");
        assert!(text.contains(needle), "{name}: {text}");
        Ok(())
    };
    check("empty.ear", b"", "empty (0 bytes)")?;
    check("text.ear", b"hello, not a zip", "cannot read zip archive")?;
    check(
        "slip.ear",
        &zip_of(&[("../evil.sh", b"x")]),
        "\"../evil.sh\"",
    )?;
    check("abs.ear", &zip_of(&[("/etc/passwd", b"x")]), "absolute")?;
    check("bs.ear", &zip_of(&[("a\\b.txt", b"x")]), "backslash")?;
    let nested = br#"<application><module><web><web-uri>a.war</web-uri><context-root>/a</context-root></web></module>
        <module><ejb>a.war/WEB-INF/lib/e.jar</ejb></module></application>"#;
    check(
        "nested.ear",
        &zip_of(&[("META-INF/application.xml", nested)]),
        "nested modules are not allowed",
    )?;
    check(
        "bad-dd.ear",
        &zip_of(&[(
            "META-INF/application.xml",
            b"<application>\n<module>\n</application>",
        )]),
        "META-INF/application.xml line",
    )?;
    check(
        "lib.jar",
        &zip_of(&[("a/B.class", b"x")]),
        "plain Java library",
    )?;
    let missing = Application::open(dir.path().join("nope.ear"))
        .err()
        .ok_or("opened")?;
    assert!(matches!(missing, Error::Io { .. }));
    Ok(())
}

#[test]
fn standalone_module_archive() -> TestResult {
    let dir = tempfile::tempdir()?;
    let war = zip_of(&[("WEB-INF/web.xml", b"<web-app/>"), ("index.jsp", b"x")]);
    let app = Application::open(write(dir.path(), "hello.war", &war))?;
    assert!(app.is_standalone_module());
    let m = &app.modules()[0];
    assert_eq!(
        (m.uri.as_str(), m.kind, m.context_root.as_deref()),
        ("hello.war", ModuleKind::Web, Some("/hello"))
    );
    let files = app.scope_files(&Scope::Module(p("hello.war")))?;
    assert_eq!(files.len(), 2);
    assert_eq!(
        app.read(&p("hello.war/index.jsp"))?.as_deref(),
        Some(&b"x"[..])
    );
    Ok(())
}
