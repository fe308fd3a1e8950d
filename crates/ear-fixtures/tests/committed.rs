//! The committed fixtures in `testdata/` are exactly what the generator makes.

#[test]
fn committed_fixtures_match_the_generator() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    for (name, bytes) in [
        ("shop.ear", ear_fixtures::sample::shop_ear()),
        ("shop-fix.zip", ear_fixtures::sample::shop_fix_zip()),
    ] {
        let committed = std::fs::read(dir.join(name))?;
        assert!(
            committed == bytes,
            "testdata/{name} differs from the generator; run `cargo run -p ear-fixtures --bin gen-testdata`"
        );
    }
    Ok(())
}

#[test]
fn generator_is_deterministic() {
    assert_eq!(
        ear_fixtures::sample::shop_ear(),
        ear_fixtures::sample::shop_ear()
    );
    assert_eq!(
        ear_fixtures::sample::shop_fix_zip(),
        ear_fixtures::sample::shop_fix_zip()
    );
}
