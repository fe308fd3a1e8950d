//! Arbitrary bytes as an `.ear` file: `Application::open`, then the
//! inventory (reads and hashes every file, nested modules included).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use ear_core::Application;
use libfuzzer_sys::fuzz_target;

static DIR: OnceLock<PathBuf> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| earpatch_fuzz::scratch_dir("open_archive"));
    let path = dir.join("app.ear");
    std::fs::write(&path, data).expect("write app.ear");
    if let Ok(app) = Application::open(&path) {
        let _ = format!("{:?} {:?}", app.modules(), app.warnings());
        let _ = app.library_directory();
        let _ = app.application_files().count();
        if let Ok(inv) = app.inventory() {
            let _ = inv.digest();
        }
    }
});
