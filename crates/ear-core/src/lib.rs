//! # ear-core
//!
//! Read, plan and patch deployed Java EE enterprise applications, offline.
//!
//! An application is an `.ear` zip archive or an expanded directory
//! ([`Form`]); it is a tree of [`Scope`]s: the application scope and one per
//! [`Module`] (spec §1). [`Application::open`] reads either form the same
//! way, and [`Application::digest`] gives a content digest that does not
//! depend on the form or on zip metadata.
//!
//! The layers, each depending only on those before it:
//!
//! | layer | owns |
//! |---|---|
//! | [`path`], [`error`], [`clock`], [`limits`], [`progress`] | checked entry paths, the error type, UTC time, bounds on inputs, progress reports |
//! | `source` | reading bytes of either form (archive, directory) |
//! | [`model`] | [`Application`], scopes, module kinds and detection, descriptors, the digest |
//! | [`update`] | the four update kinds and delete lists |
//! | [`impact`] | the restart rules and escalation |
//! | [`plan`] | what an update changes and restarts; never writes |
//! | `write` | executing a plan: archive rewrite, expanded journal, zips; never decides |
//! | [`state`] | the state folder: lock, records, undo bundles, events |
//! | [`ops`] | [`apply`], [`rollback`], [`recover`], [`diff`], [`history`], [`verify`], [`status`], [`prune`]: the only layer combining the others |
//!
//! The library never prints and never exits: every problem is an [`Error`]
//! naming the file, entry or line concerned, or a [`Warning`].
//!
//! Plan an update, with deployment settings, and read the impact and the
//! reason for each change, then apply it in place with history:
//!
//! ```
//! # fn main() -> ear_core::Result<()> {
//! # let dir = tempfile::tempdir().map_err(|e| ear_core::Error::Io { action: "tmp", path: ".".into(), source: e })?;
//! # let ear = dir.path().join("shop.ear");
//! # let zip = dir.path().join("shop-fix.zip");
//! # std::fs::write(&ear, ear_fixtures::sample::shop_ear()).map_err(|e| ear_core::Error::Io { action: "w", path: ear.clone(), source: e })?;
//! # std::fs::write(&zip, ear_fixtures::sample::shop_fix_zip()).map_err(|e| ear_core::Error::Io { action: "w", path: zip.clone(), source: e })?;
//! use ear_core::{apply, ApplyOptions, Outcome};
//! use ear_core::{Application, ClassLoaderPolicy, Effect, Plan, PlanOptions, Rule, Settings, Update};
//!
//! let app = Application::open(&ear)?; // an .ear or an expanded directory
//! let update = Update::infer(&zip)?; // a .zip is a partial update
//! let settings = Settings::default().classloader_policy(ClassLoaderPolicy::Multiple);
//! let plan = Plan::new(&app, &update, &PlanOptions::default().settings(settings))?;
//!
//! assert_eq!(plan.impact.effect, Effect::RestartApplication);
//! for change in plan.effective_changes() {
//!     // e.g. "replace lib/util.jar: P2 restart-application"
//!     println!("{} {}: {:?} {}", change.op, change.path, change.rule, change.effect);
//! }
//! let util = plan.changes.iter().find(|c| c.path.as_str() == "lib/util.jar");
//! assert_eq!(util.and_then(|c| c.rule), Some(Rule::P2));
//!
//! drop(app);
//! let report = apply(&ear, &update, &ApplyOptions::default())?;
//! assert_eq!(report.outcome, Outcome::Applied);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod clock;
pub mod error;
pub(crate) mod fs;
pub mod impact;
pub mod limits;
pub mod model;
pub mod ops;
pub mod path;
pub mod plan;
pub mod progress;
pub(crate) mod source;
pub mod state;
pub mod update;
pub(crate) mod write;

pub use error::{Error, Result, ZipProblem};
pub use impact::{ClassLoaderPolicy, Effect, Escalation, Impact, Rule, Settings};
pub use limits::Limits;
pub use model::{
    Application, DeclaredModule, Descriptor, Digest, FileInfo, Form, Inventory, LibraryDirectory,
    Module, ModuleKind, ScanStats, Scope, ScopeInventory, Storage, Warning, WarningCode,
};
pub use ops::{
    ApplyOptions, ApplyReport, Approval, Baseline, ChangeCheck, ChangeVerdict, DiffReport, Drift,
    DriftedFile, InForce, Outcome, PruneAction, PruneOptions, PruneReport, PrunedRecord, Recovery,
    RollbackOptions, StateUsage, StatusOptions, StatusReport, VerifyOptions, VerifyReport, apply,
    diff, ensure_not_interrupted, history, interrupted, inventory, prune, recover, rollback,
    status, verify,
};
pub use path::EntryPath;
pub use plan::{Change, ModuleChange, Op, PLAN_SCHEMA, Plan, PlanOptions};
pub use progress::{Event, Flow, Phase, Progress};
pub use state::{RECORD_SCHEMA, Record, RecordedChange, RecordedPlan, StateDir, Status};
pub use update::{DeleteList, DeletePattern, Update, UpdateKind};
