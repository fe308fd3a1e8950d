//! Approve, then apply: an [`Approval`] binds a reviewed plan to the
//! application digest it was computed against, the update's SHA-256, its
//! changes and impact; [`check_approved`] refuses, under the lock, an apply
//! that would do anything else. It checks; it never plans or writes.

use std::fs::File;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::inventory::{hex, sha256_of};
use crate::model::{Application, Digest};
use crate::plan::{Op, Plan};
use crate::update::Update;

/// A plan someone reviewed, bound to the application content and the update
/// bytes it was made from ([`Approval::of`]). An
/// apply with [`super::ApplyOptions::approved`] checks, under the lock, that the
/// application still has the digest the plan was computed against, that the
/// update still has the same SHA-256, and that planning again gives the same
/// changes and impact; anything else is refused and nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The application's digest when the plan was made.
    pub digest: Digest,
    /// The update's SHA-256 (of an expanded directory: its digest).
    pub update_sha256: String,
    /// What the plan changes: path and operation of every effective change.
    pub changes: Vec<(crate::EntryPath, Op)>,
    /// What it restarts.
    pub effect: crate::Effect,
}

impl Approval {
    /// Binds `plan` (computed with the digest, as [`Plan::new`] does by
    /// default) to the bytes of `update`.
    ///
    /// # Errors
    /// The plan has no digest (it was made with `digest(false)`), or the
    /// update cannot be read.
    pub fn of(plan: &Plan, update: &Update) -> Result<Approval> {
        let digest = plan.application.digest.ok_or_else(|| {
            Error::refused(
                plan.application.path.clone(),
                "the plan was made without the application's digest (--no-digest); an approval needs it",
            )
        })?;
        Ok(Approval {
            digest,
            update_sha256: source_sha256(update)?,
            changes: effective(plan),
            effect: plan.impact.effect,
        })
    }
}

fn effective(plan: &Plan) -> Vec<(crate::EntryPath, Op)> {
    plan.effective_changes()
        .map(|c| (c.path.clone(), c.op))
        .collect()
}

/// Refuses unless `plan`, made now under the lock, is the approved one.
pub(super) fn check_approved(
    app_path: &Path,
    update: &Update,
    plan: &Plan,
    digest: Digest,
    approved: Option<&Approval>,
) -> Result<()> {
    let Some(approval) = approved else {
        return Ok(());
    };
    let refuse = |why: String| Error::Refused {
        location: app_path.display().to_string(),
        message: format!(
            "{why}; the approved plan no longer describes this apply, nothing was written: plan and approve again"
        ),
    };
    if digest != approval.digest {
        return Err(refuse(format!(
            "the application changed since the plan was approved (digest {digest}, approved {})",
            approval.digest
        )));
    }
    let sha = source_sha256(update)?;
    if sha != approval.update_sha256 {
        return Err(refuse(format!(
            "the update {} changed since the plan was approved ({sha}, approved {})",
            update.source().display(),
            approval.update_sha256
        )));
    }
    if effective(plan) != approval.changes || plan.impact.effect != approval.effect {
        return Err(refuse(
            "planning again gives other changes than the approved plan (other settings?)".into(),
        ));
    }
    Ok(())
}

/// The SHA-256 of the update as given (of an expanded directory: its
/// content digest), recorded with each apply and bound into approvals.
pub(super) fn source_sha256(update: &Update) -> Result<String> {
    let path = update.source();
    if path.is_dir() {
        return Ok(Application::open(path)?.digest()?.to_string());
    }
    let mut f = File::open(path).map_err(|e| Error::io("cannot read", path, e))?;
    Ok(format!(
        "sha256:{}",
        hex(&sha256_of(&mut f, &path.display().to_string())?)
    ))
}
