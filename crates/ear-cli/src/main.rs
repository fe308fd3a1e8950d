//! `earpatch`: the command-line front end of `ear-core`.
//!
//! This file only parses the command line, calls [`commands::run`] and turns
//! the [`exit::ExitStatus`] it returns into the process's exit code. It holds
//! no other logic and prints nothing.

mod cli;
mod commands;
mod config;
mod exit;
mod hooks;
mod printer;
mod render;
mod settings;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    ExitCode::from(commands::run(cli::Cli::try_parse()))
}
