//! `earpatch plan APP UPDATE`.

use super::{CommandResult, plan_from, strict_error};
use crate::cli::PlanArgs;
use crate::exit::ExitStatus;
use crate::render::report;

pub fn run(args: &PlanArgs) -> CommandResult {
    let plan = plan_from(&args.update, &args.settings, &args.report)?;
    print!(
        "{}",
        report::render(&plan, args.report.format, report::Detail::Changes)?
    );
    if let Some(message) = strict_error(&plan, &args.report) {
        return Err(message.into());
    }
    Ok(ExitStatus::Success)
}
