//! Zip bombs and lying archives (issue "hostile input"): every one is
//! refused from the central directory, before anything is inflated, with a
//! message naming the entry and the limit. Built by code, never committed.

use ear_core::{Application, Limits, Plan, PlanOptions, Update};
use ear_fixtures::{hostile, sample};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn a_deflated_bomb_in_an_update_is_refused_by_its_ratio() -> TestResult {
    let dir = tempfile::tempdir()?;
    let fix = dir.path().join("bomb.zip");
    std::fs::write(
        &fix,
        hostile::zeros_bomb("storefront.war/index.jsp", 256 << 20),
    )?;
    let err = Update::partial(&fix)
        .err()
        .ok_or("the bomb was accepted")?
        .to_string();
    assert!(err.contains("storefront.war/index.jsp"), "{err}");
    assert!(err.contains("ratio over 1000:1"), "{err}");
    // Raising the limit is the operator's call.
    let raised = Limits::default().max_ratio(10_000);
    assert!(Update::partial_with(&fix, &raised).is_ok());
    Ok(())
}

#[test]
fn an_entry_that_inflates_past_its_declared_size_fails_when_read() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ear = dir.path().join("app.ear");
    std::fs::write(&ear, sample::shop_ear())?;
    // 64 MiB of zeros that claim to be 100 bytes: passes the ratio test, so
    // the reader must stop at the declared size.
    let lying = hostile::lie_about_sizes(
        hostile::zeros_bomb("storefront.war/index.jsp", 64 << 20),
        100,
    );
    let fix = dir.path().join("lying.zip");
    std::fs::write(&fix, lying)?;
    let update = Update::partial(&fix)?;
    // Planning compares sizes first: 100 bytes differ from the deployed JSP,
    // so nothing is read.
    let plan = Plan::new(
        &Application::open(&ear)?,
        &update,
        &PlanOptions::default().digest(false),
    )?;
    assert!(
        plan.effective_changes()
            .any(|c| c.path.as_str() == "storefront.war/index.jsp")
    );
    // Writing reads it, and stops at the declared size.
    let out = dir.path().join("out.ear");
    let err = ear_core::apply(
        &ear,
        &update,
        &ear_core::ApplyOptions::default().output(&out),
    )
    .err()
    .ok_or("a lying entry was written")?;
    let text = format!(
        "{err}: {}",
        std::error::Error::source(&err)
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    assert!(
        text.contains("lying.zip!storefront.war/index.jsp"),
        "{text}"
    );
    assert!(text.contains("larger than its declared"), "{text}");
    assert!(!out.exists(), "nothing half-written");
    assert_eq!(std::fs::read(&ear)?, sample::shop_ear());
    Ok(())
}

#[test]
fn overlapping_entries_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let fix = dir.path().join("overlap.zip");
    std::fs::write(&fix, hostile::overlapping_bomb(1_000, 512 << 10))?;
    let err = Update::partial(&fix)
        .err()
        .ok_or("an overlapping zip was accepted")?
        .to_string();
    assert!(err.contains("overlaps the next one"), "{err}");
    Ok(())
}

#[test]
fn a_nested_module_bomb_is_refused_when_the_application_is_read() -> TestResult {
    let dir = tempfile::tempdir()?;
    // The sample with storefront.war replaced by a bomb of one entry.
    let bomb_war = hostile::zeros_bomb("index.jsp", 256 << 20);
    let ear = ear_fixtures::ZipBuilder::new()
        .file("META-INF/application.xml", br#"<application><module><web><web-uri>storefront.war</web-uri><context-root>/s</context-root></web></module></application>"#)
        .file_with("storefront.war", &bomb_war, ear_fixtures::Method::Store)
        .finish();
    let path = dir.path().join("bomb.ear");
    std::fs::write(&path, ear)?;
    let app = Application::open(&path)?;
    // The module is not inflated: it is reported unreadable and counted as
    // one plain file (its raw bytes), as any unreadable module is.
    let inventory = app.inventory()?;
    let warning = inventory
        .warnings
        .iter()
        .find(|w| w.code == ear_core::WarningCode::ModuleUnreadable)
        .ok_or("no warning")?;
    assert!(
        warning.message.contains("storefront.war"),
        "{}",
        warning.message
    );
    assert!(
        warning.message.contains("ratio over 1000:1"),
        "{}",
        warning.message
    );
    Ok(())
}

#[test]
fn too_many_entries_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let fix = dir.path().join("many.zip");
    std::fs::write(&fix, hostile::many_entries(2_000))?;
    let few = Limits::default().max_entries(1_000);
    let err = Update::partial_with(&fix, &few)
        .err()
        .ok_or("accepted")?
        .to_string();
    assert!(
        err.contains("2000 entries, over the limit of 1000"),
        "{err}"
    );
    Ok(())
}

#[test]
fn delete_lists_are_bounded_and_linear() -> TestResult {
    use ear_core::{DeleteList, Scope};
    // 1 MB of \Q…\E quoting: translated in linear time, then refused for its length.
    let quoted = format!("{}\n", "\\Qa\\E".repeat(200_000));
    let err = DeleteList::parse(quoted.as_bytes(), "x.props", Scope::Application)
        .err()
        .ok_or("accepted")?
        .to_string();
    assert!(err.contains("longer than 8192 characters"), "{err}");
    // Too many patterns.
    let many: String = (0..300_000).map(|n| format!("f{n}\n")).collect();
    let err = DeleteList::parse(many.as_bytes(), "x.props", Scope::Application)
        .err()
        .ok_or("accepted")?
        .to_string();
    assert!(err.contains("more than 200000 patterns"), "{err}");
    // Escaped paths are plain text: matched without a regex, exactly.
    let list = DeleteList::parse(
        b"a\\.b/c\\$1\\.class\n.*\\.tmp\n",
        "x.props",
        Scope::Application,
    )?;
    assert_eq!(list.patterns[0].literal(), Some("a.b/c$1.class"));
    assert!(list.patterns[0].matches("a.b/c$1.class"));
    assert!(!list.patterns[0].matches("aXb/c$1.class"));
    assert_eq!(list.patterns[1].literal(), None);
    Ok(())
}

#[test]
fn expensive_regexes_in_a_delete_list_are_refused_not_compiled_by_the_thousand() -> TestResult {
    use ear_core::{DeleteList, Scope};
    // Found while fuzzing: 1,000 lines of `\w{60}` took 45 s and 7 GB to
    // compile and keep. Each regex is now capped in size and compiled one at
    // a time, so the list is refused at its first line, at once.
    let text = "\\w{60}\n".repeat(1_000);
    let err = DeleteList::parse(text.as_bytes(), "x.props", Scope::Application)
        .err()
        .ok_or("accepted")?
        .to_string();
    assert!(err.starts_with("line 1 of x.props"), "{err}");
    assert!(err.contains("size limit"), "{err}");
    // Cheap regexes are fine, up to a number.
    let many = "[a-z]+\\.tmp\n".repeat(ear_core::update::delete_list::MAX_REGEX_PATTERNS + 1);
    let err = DeleteList::parse(many.as_bytes(), "x.props", Scope::Application)
        .err()
        .ok_or("accepted")?
        .to_string();
    assert!(err.contains("regular expressions (the limit"), "{err}");
    Ok(())
}
