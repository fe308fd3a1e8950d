//! `earpatch apply APP UPDATE`: applies an update (in place, to `-o OUT`, or
//! not at all with `--dry-run`) and returns the report, running the
//! configuration's hooks around an in-place apply that changes something.
//!
//! With a pre-apply hook, the plan is made first (writing nothing), the hook
//! reads it, and the apply is then bound to that very plan
//! ([`Approval`]): if the application or the update changed meanwhile, it is
//! refused. All writing is done by `ear_core::apply`; this command prints
//! nothing.

use ear_core::{ApplyOptions, ApplyReport, Approval, Digest, Outcome, Plan, StateDir, Update};

use super::{Done, End, Failure, Output};
use crate::config::Hooks;
use crate::hooks::{self, Context, Hook, HookRun};
use crate::render;
use crate::settings::UpdateSource;

pub fn run(source: &UpdateSource, options: &ApplyOptions, hooks: &Hooks) -> Result<Done, Failure> {
    let update = source.open()?;
    let in_place = options.output.is_none() && !options.dry_run;
    if !in_place || (hooks.pre_apply.is_none() && hooks.post_apply.is_none()) {
        let report = ear_core::apply(&source.app, &update, options)?;
        return Done::success(Output::Apply {
            report: Box::new(report),
            hooks: Vec::new(),
        });
    }
    let mut runs = Vec::new();
    let mut options = options.clone();
    if let Some(command) = &hooks.pre_apply {
        let plan = ear_core::apply(&source.app, &update, &options.clone().dry_run(true))?.plan;
        if plan.effective_changes().next().is_some() {
            let document = render::json(&plan)?;
            let state = state_dir(source, &options);
            let run = hooks::run(
                Hook::PreApply,
                command,
                &document,
                &context(source, &state, &update, &plan, None, Vec::new()),
            );
            if !run.ok {
                return Err(render::hooks::pre_hook_failed(&run, &source.app).into());
            }
            runs.push(run);
            options = options.approved(Approval::of(&plan, &update)?);
        }
    }
    let report = ear_core::apply(&source.app, &update, &options)?;
    let end = match &hooks.post_apply {
        Some(command) if report.outcome == Outcome::Applied => {
            post_apply(source, &options, &update, &report, command, &mut runs)?
        }
        _ => End::Success,
    };
    Ok(Done {
        output: Output::Apply {
            report: Box::new(report),
            hooks: runs,
        },
        end,
    })
}

/// Runs the post-apply hook with the apply's document; a failure ends the
/// run with exit 4, the update applied.
fn post_apply(
    source: &UpdateSource,
    options: &ApplyOptions,
    update: &Update,
    report: &ApplyReport,
    command: &crate::config::HookCommand,
    runs: &mut Vec<HookRun>,
) -> Result<End, Failure> {
    let document = render::report::apply_document(report, runs)?;
    let state = state_dir(source, options);
    let records: Vec<String> = report.record.iter().map(|r| r.id.clone()).collect();
    let run = hooks::run(
        Hook::PostApply,
        command,
        &document,
        &context(
            source,
            &state,
            update,
            &report.plan,
            report.digest_after,
            records.clone(),
        ),
    );
    let end = if run.ok {
        End::Success
    } else {
        End::PostHookFailed {
            message: render::hooks::post_hook_failed(
                &run,
                &format!("the update is applied as {}", records.join(", ")),
                &format!(
                    "undo it with: earpatch rollback {}{}",
                    source.app.display(),
                    options
                        .state_dir
                        .as_ref()
                        .map_or_else(String::new, |d| format!(" --state-dir {}", d.display()))
                ),
            ),
        }
    };
    runs.push(run);
    Ok(end)
}

/// What an apply hook is told about `plan`.
fn context<'a>(
    source: &'a UpdateSource,
    state: &'a StateDir,
    update: &'a Update,
    plan: &'a Plan,
    digest_after: Option<Digest>,
    records: Vec<String>,
) -> Context<'a> {
    Context {
        app: &source.app,
        state_dir: state.path(),
        update: Some(update.source()),
        impact: &plan.impact,
        digest_before: plan.application.digest,
        digest_after,
        records,
    }
}

fn state_dir(source: &UpdateSource, options: &ApplyOptions) -> StateDir {
    StateDir::for_app(&source.app, options.state_dir.as_deref())
}
