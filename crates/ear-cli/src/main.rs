//! `earpatch`: the command-line front end of `ear-core`.

mod cli;
mod commands;
mod render;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", render::error_chain(err.as_ref()));
            ExitCode::from(1)
        }
    }
}
