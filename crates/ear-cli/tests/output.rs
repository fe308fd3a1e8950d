//! `--color`, `NO_COLOR`/`CLICOLOR_FORCE`, `-q` and `-v`.

mod common;

use common::{earpatch, root, run};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const PLAN: [&str; 3] = ["plan", "testdata/shop.ear", "testdata/shop-fix.zip"];

fn coloured(args: &[&str], env: &[(&str, &str)]) -> Result<bool, Box<dyn std::error::Error>> {
    let mut cmd = earpatch();
    cmd.env_remove("NO_COLOR").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output()?;
    assert!(out.status.success());
    Ok(out.stdout.contains(&0x1b))
}

#[test]
fn colour_follows_the_flag_then_no_color_then_clicolor_force() -> TestResult {
    let with = |extra: &'static str| [PLAN[0], PLAN[1], PLAN[2], "--color", extra];
    assert!(
        coloured(&with("always"), &[("NO_COLOR", "1")])?,
        "--color always wins"
    );
    assert!(!coloured(&with("never"), &[("CLICOLOR_FORCE", "1")])?);
    // stdout is a pipe here: auto means no colour, unless forced.
    assert!(!coloured(&PLAN, &[])?);
    assert!(coloured(&PLAN, &[("CLICOLOR_FORCE", "1")])?);
    assert!(!coloured(&PLAN, &[("CLICOLOR_FORCE", "0")])?);
    assert!(!coloured(
        &PLAN,
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    )?);
    Ok(())
}

#[test]
fn quiet_prints_nothing_and_verbose_says_what_was_read() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = dir.path().join("shop.ear");
    std::fs::copy(root().join("testdata/shop.ear"), &app)?;
    let app = app.display().to_string();
    let (code, out, err) = run(&["-q", "apply", &app, "testdata/shop-fix.zip"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let (code, out, err) = run(&["rollback", &app, "-v"]);
    assert_eq!(code, 0);
    assert!(out.contains("rolled back"), "{out}");
    assert!(
        err.contains("earpatch: rollback step: read and hashed 0 files (0 bytes); 25 files vouched for by the content index"),
        "{err}"
    );
    // Errors still reach stderr when quiet.
    let (code, out, err) = run(&["-q", "inspect", "testdata/missing.ear"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.starts_with("error: "), "{err}");
    let (code, _, err) = run(&["-q", "-v", "inspect", "testdata/shop.ear"]);
    assert_eq!(code, 2, "{err}");
    Ok(())
}

#[test]
fn no_progress_is_drawn_when_stderr_is_not_a_terminal() -> TestResult {
    // 12 MiB of content: reading it calls the progress handle three times.
    let dir = tempfile::tempdir()?;
    let mut war = ear_fixtures::ZipBuilder::new().file("WEB-INF/web.xml", "<web-app/>");
    for i in 0..12u32 {
        let bytes: Vec<u8> = (0..1u32 << 20)
            .map(|n| (n.wrapping_mul(2_654_435_761) >> (i + 7)) as u8)
            .collect();
        war = war.file(&format!("data/blob{i}.bin"), bytes);
    }
    let ear = dir.path().join("big.ear");
    std::fs::write(
        &ear,
        ear_fixtures::ZipBuilder::new()
            .file("web.war", war.finish())
            .finish(),
    )?;
    let (code, out, err) = run(&["verify", &ear.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("read 13 files"), "{out}");
    assert_eq!(
        err, "",
        "stderr is a pipe here: no spinner, no escape codes"
    );
    Ok(())
}
