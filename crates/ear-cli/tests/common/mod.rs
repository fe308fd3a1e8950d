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

/// `earpatch` run from the workspace root with colour off, no configuration
/// file from the caller's environment, and help wrapped at 100 columns
/// whatever the terminal (clap reads `COLUMNS` when no standard stream is a
/// terminal, as here).
pub fn earpatch() -> Command {
    let mut cmd = Command::cargo_bin("earpatch").expect("earpatch binary");
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("EARPATCH_CONFIG")
        .env("COLUMNS", "100");
    cmd
}

/// Runs `earpatch args`, returns (exit code, stdout, stderr). With
/// `--format json`, stdout must be exactly one JSON document valid against
/// the schema it names (`schemas/` at the workspace root), success or not.
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = earpatch().args(args).output().expect("run earpatch");
    let (code, stdout, stderr) = (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    if args.windows(2).any(|w| w == ["--format", "json"]) && code != 2 {
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!("earpatch {args:?}: stdout is not one JSON document ({e}):\n{stdout}\n{stderr}")
        });
        if let Err(problems) = validate(&doc) {
            panic!("earpatch {args:?}: the JSON breaks its schema:\n{problems}\n{stdout}");
        }
    }
    (code, stdout, stderr)
}

/// Checks `doc` against the JSON Schema its `schema` key names
/// (`earpatch.apply/v1` -> `schemas/apply.v1.json`); every schema file is
/// registered, so `$ref`s between them resolve.
pub fn validate(doc: &serde_json::Value) -> Result<(), String> {
    let dir = root().join("schemas");
    let name = doc["schema"].as_str().ok_or("no \"schema\" key")?;
    let file = name
        .strip_prefix("earpatch.")
        .map(|rest| format!("{}.json", rest.replace('/', ".")))
        .ok_or_else(|| format!("unknown schema {name}"))?;
    let mut registry = jsonschema::Registry::new();
    let mut target = None;
    for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let schema: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let id = schema["$id"]
            .as_str()
            .ok_or("a schema without $id")?
            .to_owned();
        if path.file_name().is_some_and(|n| n == file.as_str()) {
            target = Some(schema.clone());
        }
        registry = registry.add(id, schema).map_err(|e| e.to_string())?;
    }
    let target = target.ok_or_else(|| format!("no schema file {file} for {name}"))?;
    let registry = registry.prepare().map_err(|e| e.to_string())?;
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(&target)
        .map_err(|e| format!("{file}: {e}"))?;
    let problems: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Replaces `dir` (a temporary directory) by `[TMP]` in `text`.
pub fn scrub(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "[TMP]")
}
