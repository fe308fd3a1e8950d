//! Running the hooks of the configuration file: one command per hook point,
//! given a JSON document on stdin and the impact in `EARPATCH_*` environment
//! variables, its stdout sent to earpatch's stderr (so that earpatch's own
//! stdout stays one document), its stderr inherited. earpatch waits for it.
//!
//! This module runs a hook and says how it ended. It never decides what a
//! failed hook means for the command (`commands/` does), never renders the
//! document it is given and never touches the application.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use ear_core::{Digest, Impact};

use crate::config::HookCommand;

/// A hook point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Before an in-place apply writes anything.
    PreApply,
    /// After an in-place apply.
    PostApply,
    /// Before a rollback writes anything.
    PreRollback,
    /// After a rollback.
    PostRollback,
}

impl Hook {
    /// Its name in the configuration file and in `EARPATCH_HOOK`.
    pub fn name(self) -> &'static str {
        match self {
            Hook::PreApply => "pre-apply",
            Hook::PostApply => "post-apply",
            Hook::PreRollback => "pre-rollback",
            Hook::PostRollback => "post-rollback",
        }
    }
}

/// What a hook is told, besides the document on stdin.
#[derive(Debug)]
pub struct Context<'a> {
    /// The application.
    pub app: &'a Path,
    /// Its state folder.
    pub state_dir: &'a Path,
    /// The update (apply hooks only).
    pub update: Option<&'a Path>,
    /// What must restart.
    pub impact: &'a Impact,
    /// The digest before.
    pub digest_before: Option<Digest>,
    /// The digest after (post hooks only).
    pub digest_after: Option<Digest>,
    /// The history records written (post hooks only), oldest first.
    pub records: Vec<String>,
}

/// How a hook ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HookRun {
    /// The hook point (`pre-apply`, ...).
    pub hook: &'static str,
    /// The command, as configured.
    pub command: String,
    /// Its exit code; `None` when it was killed by a signal or could not be
    /// started.
    pub exit_code: Option<i32>,
    /// Whether it exited 0.
    pub ok: bool,
    /// Why it failed, in words (`None` when it succeeded).
    pub failure: Option<String>,
}

/// Runs `command` for `hook` with `document` on stdin and waits for it.
pub fn run(hook: Hook, command: &HookCommand, document: &str, context: &Context) -> HookRun {
    let mut process = match command {
        HookCommand::Shell(script) => {
            let mut c = Command::new("/bin/sh");
            c.arg("-c").arg(script);
            c
        }
        HookCommand::Argv(argv) => {
            // The configuration refuses an empty array; an empty program
            // then fails to start like any missing one.
            let (program, args) = argv
                .split_first()
                .map_or(("", &[][..]), |(p, a)| (p.as_str(), a));
            let mut c = Command::new(program);
            c.args(args);
            c
        }
    };
    process.envs(environment(hook, context));
    let ended = spawn(&mut process, document);
    let (exit_code, failure) = match ended {
        Ok(status) if status.success() => (Some(0), None),
        Ok(status) => match status.code() {
            Some(code) => (Some(code), Some(format!("exited with status {code}"))),
            None => (None, Some(signal_text(status))),
        },
        Err(e) => (None, Some(format!("could not be run: {e}"))),
    };
    HookRun {
        hook: hook.name(),
        command: command.to_string(),
        exit_code,
        ok: failure.is_none(),
        failure,
    }
}

/// Starts the process with stdout on our stderr, writes `document` to its
/// stdin (a hook that does not read it is fine) and waits.
fn spawn(process: &mut Command, document: &str) -> std::io::Result<std::process::ExitStatus> {
    use std::os::fd::AsFd as _;
    let stdout = Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?);
    let mut child = process.stdin(Stdio::piped()).stdout(stdout).spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        match stdin.write_all(document.as_bytes()) {
            // The hook exited or closed stdin without reading it all.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
            Ok(()) => {}
        }
    }
    child.wait()
}

fn signal_text(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match status.signal() {
        Some(signal) => format!("was killed by signal {signal}"),
        None => format!("ended with {status}"),
    }
}

/// The `EARPATCH_*` variables a hook gets. Lists of modules are one URI per
/// line (a shell's `for m in $EARPATCH_RESTART_MODULES` walks them).
fn environment(hook: Hook, c: &Context) -> Vec<(&'static str, String)> {
    let lines = |items: &[ear_core::EntryPath]| {
        items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let digest = |d: Option<Digest>| d.map(|d| d.to_string()).unwrap_or_default();
    let effect = serde_json::to_value(c.impact.effect)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    vec![
        ("EARPATCH_HOOK", hook.name().to_owned()),
        ("EARPATCH_APP", c.app.display().to_string()),
        ("EARPATCH_STATE_DIR", c.state_dir.display().to_string()),
        (
            "EARPATCH_UPDATE",
            c.update
                .map(|u| u.display().to_string())
                .unwrap_or_default(),
        ),
        ("EARPATCH_EFFECT", effect),
        (
            "EARPATCH_RESTART_APPLICATION",
            c.impact.restart_application.to_string(),
        ),
        ("EARPATCH_RESTART_MODULES", lines(&c.impact.restart_modules)),
        ("EARPATCH_START_MODULES", lines(&c.impact.start_modules)),
        ("EARPATCH_DIGEST_BEFORE", digest(c.digest_before)),
        ("EARPATCH_DIGEST_AFTER", digest(c.digest_after)),
        ("EARPATCH_RECORDS", c.records.join("\n")),
    ]
}
