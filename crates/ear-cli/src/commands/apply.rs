//! `earpatch apply APP UPDATE`.

use ear_core::{ApplyOptions, apply};

use super::CommandResult;
use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::render::{Style, report};
use crate::settings::UpdateSource;

pub fn run(update: &UpdateSource, options: &ApplyOptions, format: Format) -> CommandResult {
    let result = apply(&update.app, &update.open()?, options)?;
    print!("{}", report::apply(&result, format, Style::detect())?);
    Ok(ExitStatus::Success)
}
