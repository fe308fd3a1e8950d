//! Generated benchmark inputs, cached under `target/bench-data/<preset>/`.

use std::io;
use std::path::{Path, PathBuf};

use crate::large::{LargeSpec, write_ear, write_expanded, write_update};

/// Where the inputs of `preset` live: `app.ear`, `update.zip`, and with
/// `expanded`, `app-expanded/`. Generated on first use (the full preset takes
/// about 15 s, 1 GB of disk; its expanded form about 35 s more, 2.8 GB).
///
/// # Errors
/// Generation failed.
pub fn inputs(preset: &str, expanded: bool) -> io::Result<PathBuf> {
    let spec = LargeSpec::preset(preset)
        .ok_or_else(|| io::Error::other(format!("unknown preset {preset}")))?;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/bench-data")
        .join(preset);
    std::fs::create_dir_all(&dir)?;
    let done = dir.join(".complete");
    if !done.exists() {
        eprintln!(
            "generating the {preset} application in {} ...",
            dir.display()
        );
        write_ear(&spec, &dir.join("app.ear"))?;
        write_update(&spec, &dir.join("update.zip"))?;
        std::fs::write(&done, b"")?;
    }
    let expanded_dir = dir.join("app-expanded");
    let expanded_done = dir.join(".complete-expanded");
    if expanded && !expanded_done.exists() {
        if expanded_dir.exists() {
            std::fs::remove_dir_all(&expanded_dir)?;
        }
        eprintln!("generating the expanded {preset} application ...");
        write_expanded(&spec, &expanded_dir)?;
        std::fs::write(&expanded_done, b"")?;
    }
    Ok(dir)
}
