//! `earpatch status APP`: the application, its digest, the updates in
//! force, an interrupted operation, files changed since the last operation
//! and the state folder's size.
//!
//! Reads only (`ear_core::status`); prints nothing (`render/status.rs`).

use std::path::Path;

use ear_core::StatusOptions;

use super::{Done, Failure, Output};
use crate::config::Summary;

pub fn run(app: &Path, options: &StatusOptions, config: Option<Summary>) -> Result<Done, Failure> {
    let report = ear_core::status(app, options)?;
    Done::success(Output::Status {
        report: Box::new(report),
        config,
    })
}
