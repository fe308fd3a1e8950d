//! `earpatch rollback APP`: undoes the newest update (or every update after
//! `--to ID`) and returns one report per update rolled back, running the
//! configuration's hooks around a rollback that is not a dry run.
//!
//! With a pre-rollback hook, the rollback is first planned (writing
//! nothing) and the hook reads that plan. Writing is done by
//! `ear_core::rollback`; this command prints nothing.

use std::path::Path;

use ear_core::{ApplyReport, Impact, RollbackOptions, Scope, StateDir};

use super::{Done, End, Failure, Output};
use crate::config::Hooks;
use crate::hooks::{self, Context, Hook};
use crate::render;

pub fn run(app: &Path, options: &RollbackOptions, hooks: &Hooks) -> Result<Done, Failure> {
    if options.dry_run || (hooks.pre_rollback.is_none() && hooks.post_rollback.is_none()) {
        let reports = ear_core::rollback(app, options)?;
        return Done::success(Output::Rollback {
            app: app.to_path_buf(),
            reports,
            hooks: Vec::new(),
        });
    }
    let state = StateDir::for_app(app, options.state_dir.as_deref());
    let mut runs = Vec::new();
    if let Some(command) = &hooks.pre_rollback {
        let mut dry = options.clone();
        dry.dry_run = true;
        let planned = ear_core::rollback(app, &dry)?;
        let document = render::report::rollback_document(app, &planned, &runs)?;
        let impact = impact(&planned);
        let run = hooks::run(
            Hook::PreRollback,
            command,
            &document,
            &context(app, &state, &planned, &impact, None),
        );
        if !run.ok {
            return Err(render::hooks::pre_hook_failed(&run, app).into());
        }
        runs.push(run);
    }
    let reports = ear_core::rollback(app, options)?;
    let mut end = End::Success;
    if let Some(command) = &hooks.post_rollback {
        let document = render::report::rollback_document(app, &reports, &runs)?;
        let impact = impact(&reports);
        let after = reports.last().and_then(|r| r.digest_after);
        let run = hooks::run(
            Hook::PostRollback,
            command,
            &document,
            &context(app, &state, &reports, &impact, after),
        );
        if !run.ok {
            end = End::PostHookFailed {
                message: render::hooks::post_hook_failed(
                    &run,
                    &format!("{} is rolled back", app.display()),
                    "earpatch history lists what is in force; apply the update again to redo it",
                ),
            };
        }
        runs.push(run);
    }
    Ok(Done {
        output: Output::Rollback {
            app: app.to_path_buf(),
            reports,
            hooks: runs,
        },
        end,
    })
}

/// What a rollback hook is told: `reports` are the steps, newest first.
fn context<'a>(
    app: &'a Path,
    state: &'a StateDir,
    reports: &[ApplyReport],
    impact: &'a Impact,
    digest_after: Option<ear_core::Digest>,
) -> Context<'a> {
    Context {
        app,
        state_dir: state.path(),
        update: None,
        impact,
        digest_before: reports.first().and_then(|r| r.plan.application.digest),
        digest_after,
        records: reports
            .iter()
            .filter_map(|r| r.record.as_ref().map(|rec| rec.id.clone()))
            .collect(),
    }
}

/// What the whole rollback restarts: every step's changes together.
fn impact(reports: &[ApplyReport]) -> Impact {
    Impact::aggregate(reports.iter().flat_map(|r| {
        r.plan.changes.iter().map(|c| {
            let module = match &c.scope {
                Scope::Module(uri) => Some(uri),
                Scope::Application => None,
            };
            (module, c.effect)
        })
    }))
}
