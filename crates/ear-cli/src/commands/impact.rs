//! `earpatch impact APP UPDATE [--fail-on module|application]`.

use ear_core::Effect;

use super::{CommandResult, plan_from, strict_error};
use crate::cli::{FailOn, ImpactArgs};
use crate::exit::ExitStatus;
use crate::render::report;

pub fn run(args: &ImpactArgs) -> CommandResult {
    let plan = plan_from(&args.update, &args.settings, &args.report)?;
    print!(
        "{}",
        report::render(&plan, args.report.format, report::Detail::Reasons)?
    );
    if let Some(message) = strict_error(&plan, &args.report) {
        return Err(message.into());
    }
    let tripped = match args.fail_on {
        None => false,
        Some(FailOn::Application) => plan.impact.effect >= Effect::RestartApplication,
        Some(FailOn::Module) => plan.impact.effect >= Effect::StartModule,
    };
    if tripped {
        eprintln!(
            "earpatch: the impact ({}) reaches --fail-on {}",
            plan.impact.effect,
            match args.fail_on {
                Some(FailOn::Module) => "module",
                _ => "application",
            }
        );
        return Ok(ExitStatus::ImpactOverThreshold);
    }
    Ok(ExitStatus::Success)
}
