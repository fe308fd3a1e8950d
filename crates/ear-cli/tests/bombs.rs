//! Zip bombs through the real binary: each is refused (or, for a nested
//! module, reported unreadable) in well under 5 s with a peak RSS of at
//! most 128 MiB, measured by `/usr/bin/time` (the test says so and skips
//! when it is missing), under a 512 MiB address-space limit (`ulimit -v`).

mod common;

use std::path::Path;
use std::process::Command;

use ear_fixtures::{Method, ZipBuilder, hostile, sample, write_expanded};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const MAX_RSS_KIB: u64 = 128 * 1024;

/// Runs earpatch under `/usr/bin/time`: (exit code, stderr, peak RSS KiB, seconds).
fn measured(args: &[&str]) -> Option<(i32, String, u64, f64)> {
    if !Path::new("/usr/bin/time").exists() {
        eprintln!("notice: /usr/bin/time is missing; the memory bound is not measured");
        return None;
    }
    // Under a 512 MiB address-space limit as well: a large allocation that
    // would never become resident (a reservation of a declared size) fails.
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 524288 && exec /usr/bin/time -f 'RSS %M TIME %e' \"$@\"")
        .arg("sh")
        .arg(assert_cmd::cargo::cargo_bin("earpatch"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .ok()?;
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let line = err.lines().rfind(|l| l.starts_with("RSS "))?.to_owned();
    let mut words = line.split_whitespace();
    let rss = words.nth(1)?.parse().ok()?;
    let secs = words.nth(1)?.parse().ok()?;
    Some((out.status.code().unwrap_or(-1), err, rss, secs))
}

fn bounded(args: &[&str], code: i32, expect: &str) {
    let Some((got, err, rss, secs)) = measured(args) else {
        return;
    };
    println!("{rss:>7} KiB {secs:>5.2} s  earpatch {}", args.join(" "));
    assert_eq!(got, code, "earpatch {args:?}:\n{err}");
    assert!(
        err.contains(expect),
        "earpatch {args:?}: expected {expect:?} in\n{err}"
    );
    assert!(rss <= MAX_RSS_KIB, "earpatch {args:?}: peak RSS {rss} KiB");
    assert!(secs < 5.0, "earpatch {args:?}: {secs} s");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

#[test]
fn bombs_are_refused_fast_in_bounded_memory() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ear = dir.path().join("app.ear");
    std::fs::write(&ear, sample::shop_ear())?;
    let expanded = dir.path().join("app");
    write_expanded(&sample::shop_ear(), &expanded, &sample::SHOP_MODULES)?;

    // 1 GiB of zeros replacing a JSP: 1 MB on disk.
    let bomb = dir.path().join("bomb.zip");
    std::fs::write(
        &bomb,
        hostile::zeros_bomb("storefront.war/index.jsp", 1 << 30),
    )?;
    let out = dir.path().join("out.ear");
    for args in [
        vec!["plan", s(&ear), s(&bomb)],
        vec!["apply", s(&ear), s(&bomb), "-o", s(&out)],
        vec!["apply", s(&expanded), s(&bomb)],
    ] {
        bounded(&args, 1, "ratio over 1000:1");
    }
    // Sizes that lie: 256 MiB of zeros declared as 100 bytes.
    let lying = dir.path().join("lying.zip");
    std::fs::write(
        &lying,
        hostile::lie_about_sizes(
            hostile::zeros_bomb("storefront.war/index.jsp", 256 << 20),
            100,
        ),
    )?;
    bounded(
        &["apply", s(&ear), s(&lying), "-o", s(&out)],
        1,
        "storefront.war/index.jsp",
    );
    // 1,000 entries sharing one compressed stream (1 GiB in all), applied to the expanded form.
    let overlap = dir.path().join("overlap.zip");
    std::fs::write(&overlap, hostile::overlapping_bomb(1_000, 1 << 20))?;
    bounded(
        &["apply", s(&expanded), s(&overlap)],
        1,
        "overlaps the next one",
    );
    // A nested module that inflates to 1 GiB: reported, never inflated.
    let war = hostile::zeros_bomb("index.jsp", 1 << 30);
    let nested = dir.path().join("nested.ear");
    std::fs::write(
        &nested,
        ZipBuilder::new()
            .file(
                "META-INF/application.xml",
                br#"<application><module><web><web-uri>s.war</web-uri><context-root>/s</context-root></web></module></application>"#,
            )
            .file_with("s.war", &war, Method::Store)
            .finish(),
    )?;
    bounded(&["inspect", s(&nested)], 0, "");
    // Found by fuzzing: an EAR without a descriptor whose jar carries a
    // 1 GiB manifest (zeros). Probing the jar for a Main-Class must not
    // allocate what the manifest declares.
    let jar = hostile::zeros_bomb("META-INF/MANIFEST.MF", 1 << 30);
    let manifest_bomb = dir.path().join("manifest.ear");
    std::fs::write(
        &manifest_bomb,
        ZipBuilder::new()
            .file("x.war/index.jsp", b"<html/>")
            .file_with("tool.jar", &jar, Method::Store)
            .finish(),
    )?;
    bounded(&["inspect", s(&manifest_bomb)], 0, "");
    assert!(!out.exists(), "no output after a refusal");
    assert_eq!(std::fs::read(&ear)?, sample::shop_ear());
    Ok(())
}
