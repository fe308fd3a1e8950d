//! `earpatch recover APP`.

use ear_core::Recovery as RecoveryOutcome;

use super::CommandResult;
use crate::exit::ExitStatus;
use crate::settings::State;

pub fn run(state: &State) -> CommandResult {
    let outcome = ear_core::recover(&state.app, state.state_dir.as_deref())?;
    println!(
        "{}",
        match outcome {
            RecoveryOutcome::Clean => "nothing to recover: no interrupted apply",
            RecoveryOutcome::Discarded =>
                "an apply was interrupted before changing the application; its leftovers were removed",
            RecoveryOutcome::RolledBack =>
                "an interrupted apply was rolled back: the application is as it was before it",
            RecoveryOutcome::Finished => "an apply had finished; its journal was cleaned up",
            RecoveryOutcome::RecordSettled => {
                "an apply was interrupted before changing the application; its history record was settled"
            }
        }
    );
    Ok(ExitStatus::Success)
}
