//! `earpatch rollback APP`: undoes the newest update (or every update after
//! `--to ID`) and returns one report per update rolled back.
//!
//! Writing is done by `ear_core::rollback`; this command prints nothing.

use std::path::Path;

use ear_core::RollbackOptions;

use super::{Done, Failure, Output};

pub fn run(app: &Path, options: &RollbackOptions) -> Result<Done, Failure> {
    let reports = ear_core::rollback(app, options)?;
    Done::success(Output::Rollback {
        app: app.to_path_buf(),
        reports,
    })
}
