//! `earpatch history APP`.

use super::CommandResult;
use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::render;
use crate::settings::State;

pub fn run(state: &State, format: Format) -> CommandResult {
    let records = ear_core::history(&state.app, state.state_dir.as_deref())?;
    print!(
        "{}",
        render::history::records(&state.app, &records, format)?
    );
    Ok(ExitStatus::Success)
}
