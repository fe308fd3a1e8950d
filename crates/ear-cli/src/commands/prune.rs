//! `earpatch prune APP --keep N`: removes history records and undo bundles
//! beyond the newest N (`ear_core::prune` decides what goes and what
//! stays); prints nothing (`render/prune.rs`).

use std::path::Path;

use ear_core::PruneOptions;

use super::{Done, Failure, Output};

pub fn run(app: &Path, options: &PruneOptions) -> Result<Done, Failure> {
    let report = ear_core::prune(app, options)?;
    Done::success(Output::Prune(report))
}
