//! `earpatch recover APP`.

use super::CommandResult;
use crate::exit::ExitStatus;
use crate::render;
use crate::settings::State;

pub fn run(state: &State) -> CommandResult {
    let outcome = ear_core::recover(&state.app, state.state_dir.as_deref())?;
    print!("{}", render::history::recovery(outcome));
    Ok(ExitStatus::Success)
}
