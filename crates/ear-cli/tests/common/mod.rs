//! Helpers shared by the CLI tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The workspace root, where `testdata/` is.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// `earpatch` run from the workspace root with colour off.
pub fn earpatch() -> Command {
    let mut cmd = Command::cargo_bin("earpatch").expect("earpatch binary");
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

/// Runs `earpatch args`, returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = earpatch().args(args).output().expect("run earpatch");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Replaces `dir` (a temporary directory) by `[TMP]` in `text`.
pub fn scrub(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "[TMP]")
}
