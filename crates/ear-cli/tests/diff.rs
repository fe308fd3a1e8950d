//! `earpatch diff` through the binary: diff, then apply the diff.

mod common;

use common::run;
use ear_fixtures::sample;

#[test]
fn diff_then_apply_gives_the_new_version() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let s = |p: &std::path::Path| p.to_str().map(str::to_owned).ok_or("path");
    let old = dir.path().join("old.ear");
    let new = dir.path().join("new.ear");
    std::fs::write(&old, sample::shop_ear())?;
    let (code, _, err) = run(&["apply", &s(&old)?, "testdata/shop-fix.zip", "-o", &s(&new)?]);
    assert_eq!(code, 0, "{err}");
    let zip = dir.path().join("diff.zip");
    let (code, out, err) = run(&["diff", &s(&old)?, &s(&new)?, "-o", &s(&zip)?]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("as a full update: restart the application (F1); as this partial update: restart the application"), "{out}");
    assert!(out.contains("wrote "), "{out}");
    let (code, _, err) = run(&["apply", &s(&old)?, &s(&zip)?]);
    assert_eq!(code, 0, "{err}");
    let digest = |p: &str| -> Result<String, Box<dyn std::error::Error>> {
        let (_, out, _) = run(&["inspect", p, "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&out)?;
        Ok(v["application"]["digest"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    };
    assert_eq!(digest(&s(&old)?)?, digest(&s(&new)?)?);
    // Identical versions: an empty update, impact none.
    let (code, out, _) = run(&[
        "diff",
        &s(&new)?,
        &s(&new)?,
        "-o",
        &s(&zip)?,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(v["entries"], 0);
    assert_eq!(v["full_update_effect"], "none");
    assert_eq!(v["schema"], "earpatch.diff/v1");
    assert_eq!(v["plan"]["impact"]["effect"], "none");
    Ok(())
}
