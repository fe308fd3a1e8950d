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
//! The library never prints and never exits: every problem is an [`Error`]
//! naming the file, entry or line concerned, or a [`Warning`].
//!
//! ```
//! # fn main() -> ear_core::Result<()> {
//! # let dir = tempfile::tempdir().map_err(|e| ear_core::Error::Io { action: "tmp", path: ".".into(), source: e })?;
//! # let ear = dir.path().join("shop.ear");
//! # std::fs::write(&ear, ear_fixtures::sample::shop_ear()).map_err(|e| ear_core::Error::Io { action: "w", path: ear.clone(), source: e })?;
//! use ear_core::{Application, Scope};
//!
//! let app = Application::open(&ear)?;
//! for module in app.modules() {
//!     println!("{} {} {:?}", module.kind, module.uri, module.context_root);
//! }
//! let inventory = app.inventory()?;
//! let files: usize = inventory.scopes.iter().map(|s| s.files.len()).sum();
//! assert!(files > 0);
//! assert!(inventory.scope(&Scope::Application).is_some());
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub(crate) mod apply;
pub mod clock;
pub mod diff;
pub mod error;
pub mod history;
pub mod impact;
pub mod model;
pub mod path;
pub mod plan;
pub(crate) mod source;
pub mod update;

pub use error::{Error, Result};
pub use impact::{ClassLoaderPolicy, Effect, Escalation, Impact, Rule, Settings};
pub use model::{
    Application, DeclaredModule, Descriptor, Digest, FileInfo, Form, Inventory, LibraryDirectory,
    Module, ModuleKind, Scope, ScopeInventory, Storage, Warning, WarningCode,
};
pub use path::EntryPath;
pub use plan::{Change, ModuleChange, Op, PLAN_SCHEMA, Plan, PlanOptions};
pub use update::{DeleteList, DeletePattern, Update, UpdateKind};
