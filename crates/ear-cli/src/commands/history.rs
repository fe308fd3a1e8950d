//! `earpatch history APP`: reads the records of the updates applied in place.
//!
//! Reads only; prints nothing (`render/history.rs` formats the records).

use super::{Done, Failure, Output};
use crate::settings::State;

pub fn run(state: &State, full: bool) -> Result<Done, Failure> {
    let records = ear_core::history(&state.app, state.state_dir.as_deref())?;
    Done::success(Output::History {
        app: state.app.clone(),
        records,
        full,
    })
}
