//! One function per command, each taking its resolved settings.

mod apply;
mod diff;
mod history;
mod impact;
mod inspect;
mod plan;
mod recover;
mod rollback;

use crate::cli::Cli;
use crate::exit::ExitStatus;
use crate::settings::{self, Resolved};

/// What a command returns: an exit status, or an error to print.
pub type CommandResult = Result<ExitStatus, crate::exit::Failure>;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> CommandResult {
    let format = settings::format(&cli.command);
    match Resolved::resolve(cli.command)? {
        Resolved::Inspect { app } => inspect::run(&app, format),
        Resolved::Plan(s) => plan::run(&s, format),
        Resolved::Impact { plan, fail_on } => impact::run(&plan, fail_on, format),
        Resolved::Apply { update, options } => apply::run(&update, &options, format),
        Resolved::Diff {
            old,
            new,
            output,
            options,
        } => diff::run(&old, &new, &output, &options, format),
        Resolved::History(state) => history::run(&state, format),
        Resolved::Rollback { app, options } => rollback::run(&app, &options, format),
        Resolved::Recover(state) => recover::run(&state),
    }
}
