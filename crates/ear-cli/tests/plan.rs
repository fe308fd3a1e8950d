//! `earpatch plan` and `earpatch impact` through the real binary.

mod common;

use std::path::Path;

use common::{run, scrub};
use ear_fixtures::{sample, zip_of};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The worked example of spec §4 in `dir`: `app.ear`, `app/` (expanded), `update.zip`.
fn worked_example(dir: &Path) -> std::io::Result<()> {
    std::fs::write(dir.join("app.ear"), sample::worked_example_ear())?;
    ear_fixtures::write_expanded(
        &sample::worked_example_ear(),
        &dir.join("app"),
        &sample::WORKED_EXAMPLE_MODULES,
    )?;
    std::fs::write(dir.join("update.zip"), sample::worked_example_zip())
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn worked_example_json_on_both_forms() -> TestResult {
    let dir = tempfile::tempdir()?;
    worked_example(dir.path())?;
    let zip = dir.path().join("update.zip");
    let (code, archive, err) = run(&[
        "plan",
        s(&dir.path().join("app.ear")),
        s(&zip),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, expanded, err) = run(&[
        "plan",
        s(&dir.path().join("app")),
        s(&zip),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let archive = scrub(&archive, dir.path());
    let expanded = scrub(&expanded, dir.path());
    insta::assert_snapshot!("worked_example_archive", archive);
    // The expanded form differs only in the application's path and form.
    let a: serde_json::Value = serde_json::from_str(&archive)?;
    let e: serde_json::Value = serde_json::from_str(&expanded)?;
    assert_eq!(a["changes"], e["changes"]);
    assert_eq!(a["impact"], e["impact"]);
    assert_eq!(a["application"]["digest"], e["application"]["digest"]);
    assert_eq!(e["application"]["form"], "expanded");
    Ok(())
}

#[test]
fn sample_plan_text_gives_the_verdict_first() {
    let (code, out, err) = run(&["plan", "testdata/shop.ear", "testdata/shop-fix.zip"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("restart the application (P2 ×5, P4 ×1)\n"),
        "{out}"
    );
    assert!(!out.contains('\x1b'), "no colour when not a terminal");
    insta::assert_snapshot!(out);
}

#[test]
fn sample_markdown_and_impact() {
    let (code, out, _) = run(&[
        "plan",
        "testdata/shop.ear",
        "testdata/shop-fix.zip",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
    let (code, out, _) = run(&[
        "impact",
        "testdata/shop.ear",
        "testdata/shop-fix.zip",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains(
            "| P2 (application-scope file replaced or deleted) | restart-application | 5 |"
        ),
        "{out}"
    );
}

#[test]
fn fail_on_exits_3_and_still_prints() -> TestResult {
    let (code, out, err) = run(&[
        "impact",
        "testdata/shop.ear",
        "testdata/shop-fix.zip",
        "--fail-on",
        "application",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(out.starts_with("restart the application"));
    assert!(err.contains("reaches --fail-on application"), "{err}");
    // A hot-only update passes both thresholds.
    let dir = tempfile::tempdir()?;
    let zip = dir.path().join("hot.zip");
    std::fs::write(
        &zip,
        zip_of(&[("storefront.war/promo.html", b"<p>sale</p>")]),
    )?;
    for level in ["module", "application"] {
        let (code, out, err) = run(&["impact", "testdata/shop.ear", s(&zip), "--fail-on", level]);
        assert_eq!(code, 0, "{err}");
        assert!(out.starts_with("no restart: 1 file hot-swapped"), "{out}");
    }
    // A web.xml change restarts one module: trips "module", not "application".
    std::fs::write(
        &zip,
        zip_of(&[("storefront.war/WEB-INF/web.xml", b"<web-app/>")]),
    )?;
    let (code, out, _) = run(&[
        "impact",
        "testdata/shop.ear",
        s(&zip),
        "--fail-on",
        "module",
    ]);
    assert_eq!(code, 3);
    assert!(
        out.starts_with("restart web module storefront.war; the application keeps running"),
        "{out}"
    );
    let (code, _, _) = run(&[
        "impact",
        "testdata/shop.ear",
        s(&zip),
        "--fail-on",
        "application",
    ]);
    assert_eq!(code, 0);
    // With a single class loader (E1) it restarts the application.
    let (code, out, _) = run(&[
        "impact",
        "testdata/shop.ear",
        s(&zip),
        "--classloader-policy",
        "single",
        "--fail-on",
        "application",
    ]);
    assert_eq!(code, 3);
    assert!(out.contains("P5+E1"), "{out}");
    Ok(())
}

#[test]
fn deployment_xml_sets_the_policy() -> TestResult {
    let dir = tempfile::tempdir()?;
    let zip = dir.path().join("web.zip");
    std::fs::write(
        &zip,
        zip_of(&[("storefront.war/WEB-INF/web.xml", b"<web-app/>")]),
    )?;
    let xml = dir.path().join("deployment.xml");
    std::fs::write(
        &xml,
        r#"<appdeployment:Deployment xmlns:appdeployment="http://www.ibm.com/websphere/appserver/schemas/5.0/appdeployment.xmi">
  <deployedObject warClassLoaderPolicy="SINGLE"/></appdeployment:Deployment>"#,
    )?;
    let (code, out, err) = run(&[
        "plan",
        "testdata/shop.ear",
        s(&zip),
        "--deployment-xml",
        s(&xml),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(v["changes"][0]["escalated_by"], "E1");
    assert_eq!(v["changes"][0]["rule"], "P5");
    assert_eq!(v["impact"]["effect"], "restart-application");
    let (code, _, err) = run(&[
        "plan",
        "testdata/shop.ear",
        s(&zip),
        "--deployment-xml",
        s(&xml),
        "--classloader-policy",
        "single",
    ]);
    assert_eq!(code, 2, "conflicting flags are a usage error: {err}");
    Ok(())
}

#[test]
fn strict_turns_warnings_into_exit_1() -> TestResult {
    let dir = tempfile::tempdir()?;
    let zip = dir.path().join("w.zip");
    std::fs::write(
        &zip,
        zip_of(&[(
            "META-INF/ibm-partialapp-delete.props",
            b"nothing/matches/this\n",
        )]),
    )?;
    let (code, out, _) = run(&["plan", "testdata/shop.ear", s(&zip)]);
    assert_eq!(code, 0);
    assert!(out.contains("matches no file"), "{out}");
    let (code, out, err) = run(&["plan", "testdata/shop.ear", s(&zip), "--strict"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("matches no file"),
        "the report is still printed: {out}"
    );
    assert!(
        err.starts_with("error: --strict: the plan has 1 warning"),
        "{err}"
    );
    Ok(())
}

#[test]
fn bad_updates_exit_1_naming_the_problem_and_write_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ear = dir.path().join("shop.ear");
    std::fs::write(&ear, sample::shop_ear())?;
    let write = |name: &str, bytes: &[u8]| -> std::io::Result<String> {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes)?;
        Ok(s(&p).to_owned())
    };
    let client = zip_of(&[("META-INF/application-client.xml", b"<application-client/>")]);
    let mut corrupt = sample::shop_fix_zip();
    corrupt.truncate(corrupt.len() / 2);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![write("slip.zip", &zip_of(&[("../evil.sh", b"x")]))?],
            "unsafe entry name \"../evil.sh\"",
        ),
        (
            vec![write("abs.zip", &zip_of(&[("/etc/cron.d/x", b"x")]))?],
            "absolute",
        ),
        (
            vec![write(
                "bs.zip",
                &zip_of(&[("storefront.war\\x.jsp", b"x")]),
            )?],
            "backslash",
        ),
        (
            vec![write("text.zip", b"not a zip at all")?],
            "cannot read zip archive",
        ),
        (
            vec![write("corrupt.zip", &corrupt)?],
            "cannot read zip archive",
        ),
        (
            vec![
                write("client.jar", &client)?,
                "--module".into(),
                "shop-ejb.jar".into(),
            ],
            "kind cannot change",
        ),
        (
            vec![
                write("x.jsp", b"x")?,
                "--file".into(),
                "storefront.war".into(),
            ],
            "use a module update",
        ),
        (
            vec![write("y.jsp", b"x")?, "--file".into(), "../x".into()],
            "'..'",
        ),
        (
            vec![write(
                "typo.zip",
                &zip_of(&[("typo.war/META-INF/ibm-partialapp-delete.props", b"x")]),
            )?],
            "no module has URI typo.war",
        ),
        (
            vec![write(
                "bad-regex.zip",
                &zip_of(&[(
                    "META-INF/ibm-partialapp-delete.props",
                    b"# c\nok\n(unclosed\n",
                )]),
            )?],
            "line 3 of",
        ),
        (
            vec![write(
                "module-uri.zip",
                &zip_of(&[("META-INF/ibm-partialapp-delete.props", b".*\\.war\n")]),
            )?],
            "matches module catalog.war",
        ),
    ];
    for (args, needle) in cases {
        let mut full = vec!["plan".to_owned(), s(&ear).to_owned()];
        full.extend(args);
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        let (code, out, err) = run(&refs);
        assert_eq!(code, 1, "{full:?}: {err}");
        assert!(out.is_empty(), "{full:?}: {out}");
        assert!(err.contains(needle), "{full:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert_eq!(
        std::fs::read(&ear)?,
        sample::shop_ear(),
        "the application is untouched"
    );
    Ok(())
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, _) = run(&["plan", "testdata/shop.ear"]);
    assert_eq!(code, 2);
    let (code, _, _) = run(&[
        "plan",
        "testdata/shop.ear",
        "x.jsp",
        "--file",
        "a",
        "--module",
        "b.war",
    ]);
    assert_eq!(code, 2);
    let (code, _, _) = run(&[
        "impact",
        "testdata/shop.ear",
        "testdata/shop-fix.zip",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 2);
}

#[test]
fn markdown_diagram_colours_each_module_by_what_happens_to_it()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let jsp = dir.path().join("x.jsp");
    std::fs::write(&jsp, "<p>x</p>")?;
    let xml = dir.path().join("web.xml");
    std::fs::write(&xml, "<web-app/>")?;
    let jsp = jsp.display().to_string();
    let (code, out, err) = run(&[
        "plan",
        "testdata/shop.ear",
        &jsp,
        "--file",
        "storefront.war/x.jsp",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("app --> m3[\"web storefront.war: hot\"]:::hot"),
        "{out}"
    );
    assert!(
        out.contains("app --> m0[\"web catalog.war: no change\"]:::unchanged"),
        "{out}"
    );
    assert!(
        out.contains("(application scope): no change\"]:::unchanged"),
        "{out}"
    );
    let xml = xml.display().to_string();
    let (_, out, _) = run(&[
        "plan",
        "testdata/shop.ear",
        &xml,
        "--file",
        "catalog.war/WEB-INF/web.xml",
        "--format",
        "markdown",
    ]);
    assert!(
        out.contains("app --> m0[\"web catalog.war: restart module\"]:::restartModule"),
        "{out}"
    );
    assert!(
        out.contains("app --> m3[\"web storefront.war: no change\"]:::unchanged"),
        "{out}"
    );
    Ok(())
}
