//! `earpatch inspect` through the real binary.

mod common;

use common::{run, scrub};

#[test]
fn inspect_sample_text() {
    let (code, out, err) = run(&["inspect", "testdata/shop.ear"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!(out);
}

#[test]
fn inspect_sample_json() -> Result<(), Box<dyn std::error::Error>> {
    let (code, out, err) = run(&["inspect", "testdata/shop.ear", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(v["schema"], "earpatch.inspect/v1");
    assert_eq!(v["modules"].as_array().map(Vec::len), Some(4));
    insta::assert_snapshot!(out);
    Ok(())
}

#[test]
fn expanded_form_has_the_same_digest() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let expanded = dir.path().join("shop");
    ear_fixtures::write_expanded(
        &ear_fixtures::sample::shop_ear(),
        &expanded,
        &ear_fixtures::sample::SHOP_MODULES,
    )?;
    let digest_of = |path: &str| -> Result<String, Box<dyn std::error::Error>> {
        let (code, out, err) = run(&["inspect", path, "--format", "json"]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out)?;
        Ok(v["application"]["digest"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    };
    let a = digest_of("testdata/shop.ear")?;
    let b = digest_of(expanded.to_str().ok_or("path")?)?;
    assert!(a.starts_with("sha256:"));
    assert_eq!(a, b);
    Ok(())
}

#[test]
fn bad_input_exits_1_with_one_line() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let empty = dir.path().join("empty.ear");
    std::fs::write(&empty, b"")?;
    let slip = dir.path().join("slip.ear");
    std::fs::write(&slip, ear_fixtures::zip_of(&[("../../evil", b"x")]))?;
    for (path, needle) in [
        (empty.clone(), "empty (0 bytes)"),
        (slip.clone(), "unsafe entry name \"../../evil\""),
        (dir.path().join("missing.ear"), "cannot open"),
    ] {
        let (code, out, err) = run(&["inspect", path.to_str().ok_or("path")?]);
        assert_eq!(code, 1, "{err}");
        assert!(out.is_empty());
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains(needle), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            scrub(&err, dir.path()).contains("[TMP]"),
            "the error names the file: {err}"
        );
    }
    Ok(())
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = run(&["inspect"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(&["inspect", "testdata/shop.ear", "--format", "yaml"]);
    assert_eq!(code, 2);
}
