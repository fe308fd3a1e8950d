//! `earpatch plan APP UPDATE`.

use ear_core::{Application, Plan};

use super::CommandResult;
use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::render::{Style, report};
use crate::settings::PlanSettings;

pub fn run(settings: &PlanSettings, format: Format) -> CommandResult {
    let plan = open_and_plan(settings)?;
    print!(
        "{}",
        report::plan(&plan, format, report::Detail::Changes, Style::detect())?
    );
    if let Some(message) = strict_error(&plan, settings) {
        return Err(message.into());
    }
    Ok(ExitStatus::Success)
}

/// Opens the application (refusing while an apply is interrupted), then the
/// update, and plans.
pub fn open_and_plan(settings: &PlanSettings) -> ear_core::Result<Plan> {
    ear_core::ensure_not_interrupted(&settings.update.app)?;
    let app = Application::open(&settings.update.app)?;
    let update = settings.update.open()?;
    Plan::new(&app, &update, &settings.options)
}

/// With --strict, the error that plan warnings become.
pub fn strict_error(plan: &Plan, settings: &PlanSettings) -> Option<String> {
    (settings.strict && !plan.warnings.is_empty())
        .then(|| report::strict_error(plan.warnings.len()))
}
