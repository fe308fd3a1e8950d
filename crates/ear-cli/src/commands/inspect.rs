//! `earpatch inspect APP`: opens the application and takes its inventory
//! (through the content index when the state folder has one).
//!
//! Reads only; prints nothing and builds no report (`render/inspect.rs` does).

use std::path::Path;

use ear_core::{Application, Limits};

use super::{Done, Failure, Output};

pub fn run(app: &Path, state_dir: Option<&Path>, limits: &Limits) -> Result<Done, Failure> {
    ear_core::ensure_not_interrupted(app, state_dir)?;
    let app = Application::open_with(app, limits)?;
    let inventory = ear_core::inventory(&app, state_dir)?;
    Done::success(Output::Inspect { app, inventory })
}
