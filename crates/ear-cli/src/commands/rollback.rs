//! `earpatch rollback APP`.

use std::path::Path;

use ear_core::RollbackOptions;

use super::CommandResult;
use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::render::{Style, report};

pub fn run(app: &Path, options: &RollbackOptions, format: Format) -> CommandResult {
    let reports = ear_core::rollback(app, options)?;
    for r in &reports {
        print!("{}", report::apply(r, format, Style::detect())?);
    }
    Ok(ExitStatus::Success)
}
