//! `earpatch diff OLD NEW -o UPDATE.zip`.

use std::path::Path;

use ear_core::{Application, PlanOptions};

use super::CommandResult;
use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::render::{Style, report};

pub fn run(
    old: &Path,
    new: &Path,
    output: &Path,
    options: &PlanOptions,
    format: Format,
) -> CommandResult {
    ear_core::ensure_not_interrupted(old)?;
    ear_core::ensure_not_interrupted(new)?;
    let old = Application::open(old)?;
    let new = Application::open(new)?;
    let result = ear_core::diff(&old, &new, output, options)?;
    print!("{}", report::diff(&result, format, Style::detect())?);
    Ok(ExitStatus::Success)
}
