//! `earpatch history`, `earpatch rollback`, `earpatch recover`.

use std::fmt::Write as _;

use ear_core::{Recovery as RecoveryOutcome, RollbackOptions};

use super::CommandResult;
use crate::cli::{Format, HistoryArgs, RecoverArgs, RollbackArgs};
use crate::exit::ExitStatus;

pub fn run(args: &HistoryArgs) -> CommandResult {
    let records = ear_core::history(&args.state.app, args.state.state_dir.as_deref())?;
    match args.format {
        Format::Json => {
            let v = serde_json::json!({ "schema": "earpatch.history/v1", "records": records });
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Text | Format::Markdown => {
            let mut out = String::new();
            if records.is_empty() {
                let _ = writeln!(
                    out,
                    "no updates applied in place to {}",
                    args.state.app.display()
                );
            }
            let md = args.format == Format::Markdown;
            if md && !records.is_empty() {
                let _ = writeln!(
                    out,
                    "| id | status | kind | impact | source |\n|---|---|---|---|---|"
                );
            }
            for r in &records {
                let kind = match &r.rolls_back {
                    Some(id) => format!("rollback of {id}"),
                    None => r.kind.to_string(),
                };
                if md {
                    let _ = writeln!(
                        out,
                        "| `{}` | {} | {kind} | {} | `{}` |",
                        r.id, r.status, r.impact.effect, r.source
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "{}  {:<11} {:<8} {:<19} {}",
                        r.id,
                        r.status.to_string(),
                        kind,
                        r.impact.effect.to_string(),
                        r.source
                    );
                    let _ = writeln!(out, "    {} -> {}", r.digest_before, r.digest_after);
                }
            }
            print!("{out}");
        }
    }
    Ok(ExitStatus::Success)
}

pub fn rollback(args: &RollbackArgs) -> CommandResult {
    let mut options = RollbackOptions::default().force(args.force);
    options.dry_run = args.dry_run;
    if let Some(to) = &args.to {
        options = options.to(to.clone());
    }
    if let Some(dir) = &args.state.state_dir {
        options = options.state_dir(dir.clone());
    }
    let reports = ear_core::rollback(&args.state.app, &options)?;
    for r in &reports {
        print!("{}", super::apply::render(r, args.format)?);
    }
    Ok(ExitStatus::Success)
}

pub fn recover(args: &RecoverArgs) -> CommandResult {
    let outcome = ear_core::recover(&args.state.app, args.state.state_dir.as_deref())?;
    println!(
        "{}",
        match outcome {
            RecoveryOutcome::Clean => "nothing to recover: no interrupted apply",
            RecoveryOutcome::Discarded =>
                "an apply was interrupted before changing the application; its leftovers were removed",
            RecoveryOutcome::RolledBack =>
                "an interrupted apply was rolled back: the application is as it was before it",
            RecoveryOutcome::Finished => "an apply had finished; its journal was cleaned up",
            RecoveryOutcome::RecordSettled => {
                "an apply was interrupted before changing the application; its history record was settled"
            }
        }
    );
    Ok(ExitStatus::Success)
}
