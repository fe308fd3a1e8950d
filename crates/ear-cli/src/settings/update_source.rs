//! The application and the update named on the command line, and the
//! update's kind (`--full`, `--module`, `--file`, or from its name):
//! [`UpdateSource`], opened by a command with [`UpdateSource::open`].
//!
//! It resolves; it reads the update only when a command asks it to.

use std::path::{Path, PathBuf};

use ear_core::{Limits, Update};

use crate::cli::UpdateArgs;

/// The application and the update named on the command line, with the
/// update's kind (`--full`, `--module`, `--file` or from its name).
#[derive(Debug)]
pub struct UpdateSource {
    /// The application.
    pub app: PathBuf,
    /// The bounds the update is read under.
    pub limits: Limits,
    path: PathBuf,
    kind: Kind,
    context_root: Option<String>,
}

/// The kind of update the flags ask for.
#[derive(Debug)]
enum Kind {
    /// From the name (`.zip`, `.ear` or directory, `.war/.jar/.rar/.sar`).
    Inferred,
    /// `--full`.
    Full,
    /// `--module URI`.
    Module(String),
    /// `--file PATH`.
    File(String),
}

impl UpdateSource {
    pub(super) fn new(args: UpdateArgs) -> UpdateSource {
        // clap's "kind" group lets at most one of them through.
        let kind = if args.full {
            Kind::Full
        } else if let Some(uri) = args.module {
            Kind::Module(uri)
        } else if let Some(path) = args.file {
            Kind::File(path)
        } else {
            Kind::Inferred
        };
        UpdateSource {
            limits: Limits::default(),
            app: args.app,
            path: args.update,
            kind,
            context_root: args.context_root,
        }
    }

    /// Checks `--context-root` and reads the update.
    ///
    /// # Errors
    /// `--context-root` without a module being added; the update cannot be
    /// read or is not of its kind.
    pub fn open(&self) -> ear_core::Result<Update> {
        if self.context_root.is_some()
            && !matches!(self.kind, Kind::Module(_))
            && !is_module_name(&self.path)
        {
            return Err(ear_core::Error::Refused {
                location: "--context-root".into(),
                message:
                    "--context-root is only for adding a web module (--module URI, or a .war update)"
                        .into(),
            });
        }
        let update = match &self.kind {
            Kind::Full => Update::full_with(&self.path, &self.limits)?,
            Kind::Module(uri) => Update::module(&self.path, uri)?.with_limits(&self.limits),
            Kind::File(path) => Update::file(&self.path, path)?.with_limits(&self.limits),
            Kind::Inferred => Update::infer_with(&self.path, &self.limits)?,
        };
        Ok(match &self.context_root {
            Some(root) => update.context_root(root.clone()),
            None => update,
        })
    }
}

fn is_module_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| ear_core::model::is_module_extension(&e.to_string_lossy()))
}
