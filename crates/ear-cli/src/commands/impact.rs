//! `earpatch impact APP UPDATE [--fail-on module|application]`: plans an
//! update and says whether its impact reaches `--fail-on`.
//!
//! Writes nothing and prints nothing; the plan is rendered by the printer.

use super::plan::{open_and_plan, strict};
use super::{Done, End, Failure, Output};
use crate::settings::{PlanSettings, Threshold};

pub fn run(settings: &PlanSettings, fail_on: Option<Threshold>) -> Result<Done, Failure> {
    let plan = open_and_plan(settings)?;
    let effect = plan.impact.effect;
    let end = match (strict(&plan, settings), fail_on) {
        (End::Success, Some(threshold)) if threshold.reached_by(effect) => {
            End::OverThreshold { effect, threshold }
        }
        (end, _) => end,
    };
    Ok(Done {
        output: Output::Impact(plan),
        end,
    })
}
