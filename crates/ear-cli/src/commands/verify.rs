//! `earpatch verify APP`: re-reads the application and compares it with
//! what the last operation left; drift ends the run with exit 1.
//!
//! The comparison and the index refresh are `ear_core::verify`'s; this
//! command prints nothing.

use std::path::Path;

use ear_core::VerifyOptions;

use super::{Done, End, Failure, Output};

pub fn run(app: &Path, options: &VerifyOptions) -> Result<Done, Failure> {
    let report = ear_core::verify(app, options)?;
    let end = if report.is_clean() {
        End::Success
    } else {
        End::Drifted
    };
    Ok(Done {
        output: Output::Verify(report),
        end,
    })
}
