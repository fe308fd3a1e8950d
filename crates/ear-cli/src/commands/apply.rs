//! `earpatch apply APP UPDATE`: applies an update (in place, to `-o OUT`, or
//! not at all with `--dry-run`) and returns the report.
//!
//! All writing is done by `ear_core::apply`; this command prints nothing.

use ear_core::ApplyOptions;

use super::{Done, Failure, Output};
use crate::settings::UpdateSource;

pub fn run(update: &UpdateSource, options: &ApplyOptions) -> Result<Done, Failure> {
    let report = ear_core::apply(&update.app, &update.open()?, options)?;
    Done::success(Output::Apply(Box::new(report)))
}
