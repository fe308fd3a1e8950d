//! The text of `status`: the application and its digest, the updates in
//! force, an interrupted operation, the cheap change check and the state
//! folder; or the report as JSON (`earpatch.status/v1`) or Markdown.
//!
//! Pure: formats a report already made; never prints, never touches the
//! file system.

use std::fmt::Write as _;

use ear_core::{Baseline, ChangeVerdict, StatusReport};

use super::{human_bytes, json, plural};
use crate::cli::Format;
use crate::config::Summary;

/// `report` in `format`.
pub fn render(
    report: &StatusReport,
    config: Option<&Summary>,
    format: Format,
) -> Result<String, serde_json::Error> {
    if format == Format::Json {
        return json(&serde_json::json!({
            "schema": "earpatch.status/v1",
            "application": report.application,
            "form": report.form,
            "digest": report.digest,
            "expected": report.expected,
            "baseline": report.baseline,
            "digest_matches": report.digest_matches(),
            "interrupted": report.interrupted,
            "in_force": report.in_force,
            "changes": report.changes,
            "state": report.state,
            "configuration": config,
        }));
    }
    let md = format == Format::Markdown;
    let (item, code) = if md { ("- ", "`") } else { ("  ", "") };
    let app = report.application.display();
    let mut out = String::new();
    if md {
        let _ = writeln!(out, "**{code}{app}{code}** ({})\n", report.form);
    } else {
        let _ = writeln!(out, "{app} ({})", report.form);
    }
    if report.interrupted {
        let _ = writeln!(
            out,
            "{item}INTERRUPTED: an earlier operation did not finish; run `earpatch recover {app}` (the \
             application may hold a mix of old and new files)"
        );
    }
    match report.digest {
        Some(digest) => {
            let against = match report.baseline {
                Baseline::Record => "the last update or rollback left",
                _ => "the last operation recorded",
            };
            let note = match (report.digest_matches(), report.expected) {
                (Some(true), _) => format!(" (as {against} it)"),
                (Some(false), Some(expected)) => {
                    format!(" (DIFFERS from what {against}: {code}{expected}{code})")
                }
                _ => " (no baseline: nothing recorded yet)".to_owned(),
            };
            let _ = writeln!(out, "{item}digest:  {code}{digest}{code}{note}");
        }
        None => {
            let _ = writeln!(out, "{item}digest:  not read (interrupted operation)");
        }
    }
    let changes = &report.changes;
    let verdict = match changes.verdict {
        ChangeVerdict::NoChangeSeen => "no change seen since the last operation".to_owned(),
        ChangeVerdict::MaybeDrifted => format!(
            "maybe drifted: {} changed since the last operation ({} modified, {} added, {} removed); run \
             `earpatch verify {app}`",
            plural(to_usize(changes.total()), "file", "files"),
            changes.changed,
            changes.added,
            changes.removed
        ),
        ChangeVerdict::Unknown => format!(
            "unknown: {}",
            changes
                .reason
                .as_deref()
                .unwrap_or("nothing to compare with")
        ),
    };
    let _ = writeln!(out, "{item}changes: {verdict}");
    if changes.unchecked > 0 {
        let _ = writeln!(
            out,
            "{item}         ({} not checked: their reading warned)",
            plural(to_usize(changes.unchecked), "file", "files")
        );
    }

    let _ = writeln!(out);
    if report.in_force.is_empty() {
        let _ = writeln!(out, "no updates in force");
    } else if md {
        let _ = writeln!(
            out,
            "**Updates in force** (oldest first)\n\n| id | applied | kind | impact | source | rollback |\n|---|---|---|---|---|---|"
        );
    } else {
        let _ = writeln!(
            out,
            "updates in force ({}, oldest first)",
            report.in_force.len()
        );
    }
    let id_width = report
        .in_force
        .iter()
        .map(|u| u.id.len())
        .max()
        .unwrap_or(0);
    for u in &report.in_force {
        let rollback = match (&u.pruned_at, u.can_roll_back) {
            (Some(when), _) => format!("no: undo pruned {when}"),
            (None, true) => "yes".to_owned(),
            (None, false) => "no: undo bundle missing".to_owned(),
        };
        let mut impact = u.impact.effect.to_string();
        if !u.impact.restart_application && !u.impact.restart_modules.is_empty() {
            let modules: Vec<&str> = u
                .impact
                .restart_modules
                .iter()
                .map(|m| m.as_str())
                .collect();
            let _ = write!(impact, " ({})", modules.join(", "));
        }
        if md {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {impact} | `{}` | {rollback} |",
                u.id, u.applied_at, u.kind, u.source
            );
        } else {
            let _ = writeln!(
                out,
                "  {:<id_width$}  {}  {:<7}  {impact}",
                u.id,
                u.applied_at,
                u.kind.to_string()
            );
            let _ = writeln!(out, "      {}  (rollback: {rollback})", u.source);
        }
    }

    let s = &report.state;
    let _ = writeln!(out);
    if md {
        let _ = writeln!(out, "**State folder** `{}`\n", s.path.display());
    } else {
        let _ = writeln!(out, "state folder {}", s.path.display());
    }
    if s.exists {
        let _ = writeln!(
            out,
            "{item}size:    {} bytes ({})",
            s.bytes,
            human_bytes(s.bytes)
        );
        let _ = writeln!(
            out,
            "{item}holds:   {}, {} ({} bytes); `earpatch prune --keep N` removes old ones",
            plural(s.records, "record", "records"),
            plural(s.undo_bundles, "undo bundle", "undo bundles"),
            s.undo_bytes
        );
    } else {
        let _ = writeln!(out, "{item}none yet: nothing was applied in place");
    }
    if let Some(c) = config {
        let hooks = if c.hooks.is_empty() {
            "no hooks".to_owned()
        } else {
            format!("hooks: {}", c.hooks.join(", "))
        };
        let _ = writeln!(
            out,
            "{item}config:  {code}{}{code} ({hooks})",
            c.path.display()
        );
    }
    Ok(out)
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
