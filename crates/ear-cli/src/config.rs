//! The configuration file: where it is found (`--config FILE`, else
//! `EARPATCH_CONFIG`, else `config.toml` in the application's state folder)
//! and what it may hold (deployment settings, limits, hooks), parsed once
//! and checked strictly (an unknown key is an error naming the file and
//! line).
//!
//! This module only finds, reads and parses the file. It never decides
//! whether a flag overrides a value (`settings/` does) and never runs a
//! hook (`hooks.rs` does).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::Policy;

/// The file name looked for in the state folder.
pub const FILE_NAME: &str = "config.toml";

/// The largest configuration file read (a real one is a few hundred bytes).
const MAX_BYTES: u64 = 1 << 20;

/// A parsed configuration file, with the folder its relative paths are
/// relative to. [`Config::default`] is the empty file.
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// The file, when one was read.
    pub path: Option<PathBuf>,
    /// `[deployment]`.
    pub deployment: Deployment,
    /// `[limits]`.
    pub limits: Limits,
    /// `[hooks]`.
    pub hooks: Hooks,
}

/// `[deployment]`: settings that are not part of the EAR (rules E1, E2).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Deployment {
    /// `classloader-policy = "single" | "multiple"`.
    pub classloader_policy: Option<Policy>,
    /// `deployment-xml = "PATH"` (relative to the file's folder).
    pub deployment_xml: Option<PathBuf>,
    /// `dynamic-security = false` for a provider that cannot update
    /// dynamically.
    pub dynamic_security: Option<bool>,
}

/// `[limits]`: the `--max-*` bounds.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// `max-ratio`.
    pub max_ratio: Option<u64>,
    /// `max-inflated`.
    pub max_inflated: Option<u64>,
    /// `max-entries`.
    pub max_entries: Option<u64>,
    /// `max-text`.
    pub max_text: Option<u64>,
}

/// `[hooks]`: a command per hook point.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Hooks {
    /// Before an in-place apply writes anything.
    pub pre_apply: Option<HookCommand>,
    /// After an in-place apply.
    pub post_apply: Option<HookCommand>,
    /// Before a rollback writes anything.
    pub pre_rollback: Option<HookCommand>,
    /// After a rollback.
    pub post_rollback: Option<HookCommand>,
}

/// A hook's command: a string is run by `/bin/sh -c`, an array is the
/// program and its arguments, run without a shell.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum HookCommand {
    /// `"drain.sh --app shop && sleep 5"`.
    Shell(String),
    /// `["/opt/bin/drain", "--app", "shop"]`.
    Argv(Vec<String>),
}

impl std::fmt::Display for HookCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HookCommand::Shell(s) => f.write_str(s),
            HookCommand::Argv(argv) => f.write_str(&argv.join(" ")),
        }
    }
}

/// What `status` says of the configuration: the file and its hooks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// The file read.
    pub path: PathBuf,
    /// The hook points it sets.
    pub hooks: Vec<&'static str>,
}

impl Config {
    /// The file read and the hooks it sets; `None` when no file was read.
    pub fn summary(&self) -> Option<Summary> {
        let path = self.path.clone()?;
        let h = &self.hooks;
        let hooks = [
            ("pre-apply", &h.pre_apply),
            ("post-apply", &h.post_apply),
            ("pre-rollback", &h.pre_rollback),
            ("post-rollback", &h.post_rollback),
        ]
        .into_iter()
        .filter_map(|(name, command)| command.as_ref().map(|_| name))
        .collect();
        Some(Summary { path, hooks })
    }
}

/// The file as written: the sections, each optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    deployment: Deployment,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    hooks: Hooks,
}

/// Why the configuration could not be used.
#[derive(Debug)]
pub struct ConfigError {
    path: PathBuf,
    message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "configuration {}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The configuration for a command on `app` (when it names one):
    /// `explicit` (`--config` or `EARPATCH_CONFIG`) must exist; otherwise
    /// `config.toml` in the state folder is read when it exists, and no file
    /// is the empty configuration.
    ///
    /// # Errors
    /// `explicit` does not exist; the file cannot be read, is too large, is
    /// not TOML, or holds an unknown key or a bad value.
    pub fn find(
        explicit: Option<&Path>,
        app: Option<&Path>,
        state_dir: Option<&Path>,
    ) -> Result<Config, ConfigError> {
        if let Some(path) = explicit {
            return Config::read(path);
        }
        let Some(app) = app else {
            return Ok(Config::default());
        };
        let path = ear_core::StateDir::for_app(app, state_dir)
            .path()
            .join(FILE_NAME);
        match std::fs::symlink_metadata(&path) {
            Ok(_) => Config::read(&path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(ConfigError {
                path,
                message: format!("cannot be read: {e}"),
            }),
        }
    }

    /// Reads and parses the file at `path`.
    fn read(path: &Path) -> Result<Config, ConfigError> {
        let error = |message: String| ConfigError {
            path: path.to_path_buf(),
            message,
        };
        let text = read_text(path).map_err(error)?;
        let file: File = toml::from_str(&text).map_err(|e| error(toml_message(&e, &text)))?;
        if file.deployment.classloader_policy.is_some() && file.deployment.deployment_xml.is_some()
        {
            return Err(error(
                "[deployment] sets both classloader-policy and deployment-xml; keep one (deployment-xml \
                 reads the policy from WebSphere's deployment.xml)"
                    .into(),
            ));
        }
        if [
            &file.hooks.pre_apply,
            &file.hooks.post_apply,
            &file.hooks.pre_rollback,
            &file.hooks.post_rollback,
        ]
        .iter()
        .any(|h| h.is_some())
        {
            writable_by_others(path).map_err(error)?;
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let mut deployment = file.deployment;
        deployment.deployment_xml = deployment.deployment_xml.map(|p| base.join(p));
        for (name, hook) in [
            ("pre-apply", &file.hooks.pre_apply),
            ("post-apply", &file.hooks.post_apply),
            ("pre-rollback", &file.hooks.pre_rollback),
            ("post-rollback", &file.hooks.post_rollback),
        ] {
            let empty = match hook {
                Some(HookCommand::Shell(s)) => s.trim().is_empty(),
                Some(HookCommand::Argv(argv)) => argv.first().is_none_or(String::is_empty),
                None => false,
            };
            if empty {
                return Err(error(format!(
                    "[hooks] {name} is empty; give a command, or remove the key"
                )));
            }
        }
        Ok(Config {
            path: Some(path.to_path_buf()),
            deployment,
            limits: file.limits,
            hooks: file.hooks,
        })
    }
}

/// Refuses a file that group or others may write: its hooks run as the
/// user running earpatch (often root), so whoever can edit it could run
/// commands as that user.
fn writable_by_others(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("cannot be read: {e}"))?
        .permissions()
        .mode();
    if mode & 0o022 != 0 {
        return Err(format!(
            "holds hooks but group or others may write it (mode {:o}): whoever can edit it runs commands \
             as you; make it writable by its owner only (chmod go-w)",
            mode & 0o7777
        ));
    }
    Ok(())
}

/// The file's text, refusing what is not a regular file or is too large.
fn read_text(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot be read: {e}"))?;
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| format!("cannot be read: {e}"))?;
    if text.len() as u64 > MAX_BYTES {
        return Err(format!(
            "is larger than {MAX_BYTES} bytes; a configuration file is a few lines"
        ));
    }
    Ok(text)
}

/// toml's message on one line, with the line number of its span.
fn toml_message(err: &toml::de::Error, text: &str) -> String {
    let message = err.message().trim_end().replace('\n', " ");
    match err.span() {
        Some(span) => {
            // Counted on bytes: a span is never trusted to fall on a
            // character boundary.
            let line = text.as_bytes()[..span.start.min(text.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).expect("write");
        Config::read(&path)
    }

    #[test]
    fn every_section_parses() {
        let c = parse(
            r#"
[deployment]
classloader-policy = "single"
dynamic-security = false

[limits]
max-ratio = 50
max-entries = 10

[hooks]
pre-apply = "echo hi"
post-apply = ["/bin/true", "x"]
"#,
        )
        .expect("parsed");
        assert_eq!(c.deployment.classloader_policy, Some(Policy::Single));
        assert_eq!(c.deployment.dynamic_security, Some(false));
        assert_eq!(c.limits.max_ratio, Some(50));
        assert_eq!(c.limits.max_entries, Some(10));
        assert_eq!(c.limits.max_text, None);
        assert_eq!(
            c.hooks.pre_apply,
            Some(HookCommand::Shell("echo hi".into()))
        );
        assert_eq!(
            c.hooks.post_apply,
            Some(HookCommand::Argv(vec!["/bin/true".into(), "x".into()]))
        );
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let err = parse("[hooks]\n\npre-aply = \"x\"\n")
            .expect_err("refused")
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("pre-aply"), "{err}");
        assert!(err.contains("config.toml"), "{err}");
        let err = parse("# café ☕ — ünïcode\n[hooks]\npre-aply = \"é\"\n")
            .expect_err("refused")
            .to_string();
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn a_bad_value_is_refused() {
        let err = parse("[deployment]\nclassloader-policy = \"parent-last\"\n")
            .expect_err("refused")
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = parse("[hooks]\npost-rollback = []\n")
            .expect_err("refused")
            .to_string();
        assert!(err.contains("post-rollback is empty"), "{err}");
        let err =
            parse("[deployment]\nclassloader-policy = \"single\"\ndeployment-xml = \"d.xml\"\n")
                .expect_err("refused")
                .to_string();
        assert!(err.contains("both"), "{err}");
    }

    #[test]
    fn hooks_in_a_file_others_may_write_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[hooks]\npre-apply = \"true\"\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).expect("chmod");
        let err = Config::read(&path).expect_err("refused").to_string();
        assert!(
            err.contains("mode 664") && err.contains("chmod go-w"),
            "{err}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(Config::read(&path).is_ok());
        // Without hooks, the mode does not matter.
        std::fs::write(&path, "[limits]\nmax-ratio = 5\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        assert!(Config::read(&path).is_ok());
    }

    #[test]
    fn deployment_xml_is_relative_to_the_file() {
        let c = parse("[deployment]\ndeployment-xml = \"cell/deployment.xml\"\n").expect("parsed");
        let p = c.deployment.deployment_xml.expect("parsed");
        assert!(p.ends_with("cell/deployment.xml"));
        assert!(p.is_absolute(), "{}", p.display());
    }

    #[test]
    fn no_file_beside_the_state_is_the_empty_configuration() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = Config::find(None, Some(&dir.path().join("a.ear")), None).expect("parsed");
        assert!(c.path.is_none());
        assert!(c.hooks.pre_apply.is_none());
        let missing = dir.path().join("nope.toml");
        assert!(Config::find(Some(&missing), None, None).is_err());
    }
}
