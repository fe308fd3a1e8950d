//! The operations: [`apply`], [`rollback`], [`recover`], [`diff`],
//! [`history`], [`verify`], [`status`] and [`prune`], free functions each with its options struct (as cargo's `ops`
//! layer is). This is the only layer that combines planning
//! ([`crate::plan`]), writing (`write`) and state
//! ([`crate::state`]); the layers below never call up into it.

mod apply;
mod approval;
mod content;
mod diff;
mod preconditions;
mod prune;
mod recover;
mod rollback;
mod status;
mod verify;

pub use apply::{ApplyOptions, ApplyReport, Outcome, apply};
pub use approval::Approval;
pub use content::inventory;
pub use diff::{DiffReport, diff};
pub use prune::{PruneAction, PruneOptions, PruneReport, PrunedRecord, prune};
pub use recover::{Recovery, ensure_not_interrupted, interrupted, recover};
pub use rollback::{RollbackOptions, history, rollback};
pub use status::{
    ChangeCheck, ChangeVerdict, InForce, StateUsage, StatusOptions, StatusReport, status,
};
pub use verify::{Baseline, Drift, DriftedFile, VerifyOptions, VerifyReport, verify};
