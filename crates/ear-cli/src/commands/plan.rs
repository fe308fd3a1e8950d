//! `earpatch plan APP UPDATE`: plans an update and returns the plan.
//!
//! Writes nothing and prints nothing; the plan is rendered by the printer.
//! Also opens and plans for `impact` ([`open_and_plan`], [`strict`]).

use ear_core::{Application, Plan, UpdateKind};

use super::{Done, End, Failure, Output};
use crate::settings::PlanSettings;

pub fn run(settings: &PlanSettings) -> Result<Done, Failure> {
    let plan = open_and_plan(settings)?;
    let end = strict(&plan, settings);
    Ok(Done {
        output: Output::Plan(plan),
        end,
    })
}

/// Opens the application (refusing while an apply is interrupted), then the
/// update, and plans. The digest is read through the application's content
/// index when it has one (read only).
pub fn open_and_plan(settings: &PlanSettings) -> ear_core::Result<Plan> {
    let state_dir = settings.state_dir.as_deref();
    ear_core::ensure_not_interrupted(&settings.update.app, state_dir)?;
    let app = Application::open_with(&settings.update.app, &settings.options.limits)?;
    let update = settings.update.open()?;
    if !settings.options.digest && update.kind() != UpdateKind::Full {
        return Plan::new(&app, &update, &settings.options);
    }
    let inventory = ear_core::inventory(&app, state_dir)?;
    Plan::with_inventory(&app, &update, &settings.options, &inventory)
}

/// With `--strict`, plan warnings end the run with an error.
pub fn strict(plan: &Plan, settings: &PlanSettings) -> End {
    if settings.strict && !plan.warnings.is_empty() {
        End::Strict {
            warnings: plan.warnings.len(),
        }
    } else {
        End::Success
    }
}
