//! `earpatch impact APP UPDATE [--fail-on module|application]`.

use super::CommandResult;
use super::plan::{open_and_plan, strict_error};
use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::render::{Style, report};
use crate::settings::{PlanSettings, Threshold};

pub fn run(settings: &PlanSettings, fail_on: Option<Threshold>, format: Format) -> CommandResult {
    let plan = open_and_plan(settings)?;
    print!(
        "{}",
        report::plan(&plan, format, report::Detail::Reasons, Style::detect())?
    );
    if let Some(message) = strict_error(&plan, settings) {
        return Err(message.into());
    }
    if let Some(threshold) = fail_on.filter(|t| t.reached_by(plan.impact.effect)) {
        eprintln!(
            "{}",
            report::fail_on_note(plan.impact.effect, threshold.name)
        );
        return Ok(ExitStatus::ImpactOverThreshold);
    }
    Ok(ExitStatus::Success)
}
