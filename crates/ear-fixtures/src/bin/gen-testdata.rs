//! Writes `testdata/shop.ear` and `testdata/shop-fix.zip`.
//!
//! Usage: `cargo run -p ear-fixtures --bin gen-testdata [DIR]` (default `testdata`).

fn main() -> std::io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| "testdata".into(), std::path::PathBuf::from);
    std::fs::create_dir_all(&dir)?;
    let files = [
        ("shop.ear", ear_fixtures::sample::shop_ear()),
        ("shop-fix.zip", ear_fixtures::sample::shop_fix_zip()),
    ];
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, &bytes)?;
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}
