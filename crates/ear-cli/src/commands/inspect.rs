//! `earpatch inspect APP`.

use std::path::Path;

use ear_core::Application;

use super::CommandResult;
use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::render;

pub fn run(app: &Path, format: Format) -> CommandResult {
    ear_core::ensure_not_interrupted(app)?;
    let app = Application::open(app)?;
    let inventory = app.inventory()?;
    print!("{}", render::inspect::render(&app, &inventory, format)?);
    Ok(ExitStatus::Success)
}
