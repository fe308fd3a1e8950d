//! The text of `prune`: the records removed or reduced to a summary, the
//! bytes freed, and the updates that can no longer be rolled back; or the
//! report as JSON (`earpatch.prune/v1`) or Markdown.
//!
//! Pure: formats a report already made; never prints, never touches the
//! file system.

use std::fmt::Write as _;

use ear_core::{PruneAction, PruneReport};

use super::{human_bytes, json, note, plural};
use crate::cli::Format;

/// `report` in `format`.
pub fn render(report: &PruneReport, format: Format) -> Result<String, serde_json::Error> {
    if format == Format::Json {
        return json(&serde_json::json!({
            "schema": "earpatch.prune/v1",
            "application": report.application,
            "state_dir": report.state_dir,
            "keep": report.keep,
            "dry_run": report.dry_run,
            "records_before": report.records_before,
            "pruned": report.pruned,
            "no_longer_undoable": report.no_longer_undoable,
            "bytes_freed": report.bytes_freed,
        }));
    }
    let md = format == Format::Markdown;
    let mut out = String::new();
    let app = report.application.display();
    let would = if report.dry_run { "would " } else { "" };
    if report.pruned.is_empty() {
        let _ = writeln!(
            out,
            "nothing to prune for {app}: {} in the history, keeping the newest {}",
            plural(report.records_before, "record", "records"),
            report.keep
        );
        return Ok(out);
    }
    let _ = writeln!(
        out,
        "{}pruning {app}: {} of {} older than the newest {}",
        if report.dry_run { "dry run, " } else { "" },
        plural(report.pruned.len(), "record", "records"),
        report.records_before,
        report.keep
    );
    if md {
        let _ = writeln!(
            out,
            "\n| id | status | kind | action | bytes |\n|---|---|---|---|---|"
        );
    }
    for r in &report.pruned {
        let kind = match &r.rolls_back {
            Some(id) => format!("rollback of {id}"),
            None => r.kind.to_string(),
        };
        let action = match r.action {
            PruneAction::Removed => format!("{would}remove record and undo"),
            PruneAction::UndoRemoved => format!("{would}remove undo, keep record"),
        };
        if md {
            let _ = writeln!(
                out,
                "| `{}` | {} | {kind} | {action} | {} |",
                r.id, r.status, r.bytes
            );
        } else {
            let _ = writeln!(
                out,
                "  {}  {:<11} {:<8}  {action} ({} bytes)",
                r.id,
                r.status.to_string(),
                kind,
                r.bytes
            );
        }
    }
    let _ = writeln!(
        out,
        "{}{} {} bytes ({})",
        if md { "\n" } else { "" },
        if report.dry_run {
            "would free"
        } else {
            "freed"
        },
        report.bytes_freed,
        human_bytes(report.bytes_freed)
    );
    if !report.no_longer_undoable.is_empty() {
        out.push_str(&note(
            format,
            &format!(
                "{} in force {}no longer be rolled back ({}, marked pruned): {}",
                plural(report.no_longer_undoable.len(), "update", "updates"),
                if report.dry_run { "could " } else { "can " },
                if report.no_longer_undoable.len() == 1 {
                    "its record stays"
                } else {
                    "their records stay"
                },
                report.no_longer_undoable.join(", ")
            ),
        ));
    }
    Ok(out)
}
