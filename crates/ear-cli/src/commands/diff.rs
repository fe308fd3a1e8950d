//! `earpatch diff OLD NEW -o UPDATE.zip`: writes the minimal partial update
//! between two versions and returns the report.
//!
//! Writing is done by `ear_core::diff`; this command prints nothing.

use std::path::Path;

use ear_core::{Application, PlanOptions};

use super::{Done, Failure, Output};

pub fn run(old: &Path, new: &Path, output: &Path, options: &PlanOptions) -> Result<Done, Failure> {
    ear_core::ensure_not_interrupted(old, None)?;
    ear_core::ensure_not_interrupted(new, None)?;
    let old = Application::open_with(old, &options.limits)?;
    let new = Application::open_with(new, &options.limits)?;
    let report = ear_core::diff(&old, &new, output, options)?;
    Done::success(Output::Diff(report))
}
