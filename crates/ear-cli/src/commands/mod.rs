//! One function per command.

mod inspect;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// What a command returns: an exit code, or an error to print.
pub type CommandResult = Result<ExitCode, Box<dyn std::error::Error>>;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> CommandResult {
    match cli.command {
        Command::Inspect(args) => inspect::run(&args),
    }
}
