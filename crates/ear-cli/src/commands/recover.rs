//! `earpatch recover APP`: settles an interrupted apply and returns what
//! was done.
//!
//! Writing is done by `ear_core::recover`; this command prints nothing.

use super::{Done, Failure, Output};
use crate::settings::State;

pub fn run(state: &State) -> Result<Done, Failure> {
    let outcome = ear_core::recover(&state.app, state.state_dir.as_deref())?;
    Done::success(Output::Recover {
        app: state.app.clone(),
        outcome,
    })
}
