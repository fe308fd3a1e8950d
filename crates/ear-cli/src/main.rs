//! `earpatch`: the command-line front end of `ear-core`.

mod cli;
mod commands;
mod exit;
mod render;
mod settings;

use std::process::ExitCode;

use clap::Parser as _;

use crate::exit::ExitStatus;

fn main() -> ExitCode {
    let status = match cli::Cli::try_parse() {
        Ok(cli) => match commands::run(cli) {
            Ok(status) => status,
            Err(err) => {
                eprintln!("error: {}", render::error_chain(err.as_ref()));
                ExitStatus::Failure
            }
        },
        Err(usage) => {
            // As clap's `Error::exit`: a closed stream is not an error here.
            let _ = usage.print();
            ExitStatus::of_clap(&usage)
        }
    };
    ExitCode::from(status)
}
