//! What is said about hooks: the line listing the hooks that ran under a
//! text or Markdown report, the error of a failed pre-hook (nothing was
//! written) and the error of a failed post-hook (the change stays).
//!
//! Pure formatting of [`HookRun`]s; it never runs a hook.

use std::path::Path;

use crate::cli::Format;
use crate::hooks::HookRun;

/// `hooks: pre-apply ok, post-apply exited with status 2` as a closing
/// note; nothing when no hook ran.
pub fn summary(hooks: &[HookRun], format: Format) -> String {
    if hooks.is_empty() {
        return String::new();
    }
    let runs = hooks
        .iter()
        .map(|h| match &h.failure {
            None => format!("{} ok", h.hook),
            Some(why) => format!("{} {why}", h.hook),
        })
        .collect::<Vec<_>>()
        .join(", ");
    super::note(format, &format!("hooks: {runs}"))
}

/// The error of a pre-hook that failed: nothing was written.
pub fn pre_hook_failed(run: &HookRun, app: &Path) -> String {
    format!(
        "the {} hook `{}` {}: nothing was written to {}; fix what it checks and run again, or \
         run without hooks (--no-hooks)",
        run.hook,
        run.command,
        run.failure.as_deref().unwrap_or("failed"),
        app.display()
    )
}

/// The error of a post-hook that failed: the application keeps the change
/// (`done` says which: "the update is applied as ID", ...) and `undo` says
/// how to take it back.
pub fn post_hook_failed(run: &HookRun, done: &str, undo: &str) -> String {
    format!(
        "the {} hook `{}` {}; {done}, and stays so ({undo})",
        run.hook,
        run.command,
        run.failure.as_deref().unwrap_or("failed"),
    )
}
