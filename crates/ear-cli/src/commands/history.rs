//! `earpatch history APP`.

use std::fmt::Write as _;

use super::CommandResult;
use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::settings::State;

pub fn run(state: &State, format: Format) -> CommandResult {
    let records = ear_core::history(&state.app, state.state_dir.as_deref())?;
    match format {
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
                    state.app.display()
                );
            }
            let md = format == Format::Markdown;
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
