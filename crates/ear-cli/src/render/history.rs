//! The texts of `history` (the records as text, Markdown or JSON) and
//! `recover` (what was done). `rollback` reports are apply reports
//! ([`super::report::apply`]).
//!
//! Pure: formats records and outcomes already read; never prints, never
//! touches the file system.

use std::fmt::Write as _;
use std::path::Path;

use ear_core::{Record, Recovery};

use crate::cli::Format;

/// `record` with a `null` plan, its plan neither copied nor parsed.
fn without_plan(record: &Record) -> Record {
    let Record {
        schema,
        id,
        seq,
        kind,
        source,
        source_sha256,
        applied_at,
        status,
        digest_before,
        digest_after,
        impact,
        plan: _,
        undo,
        rolls_back,
        pruned_at,
    } = record;
    Record {
        schema: schema.clone(),
        id: id.clone(),
        seq: *seq,
        kind: *kind,
        source: source.clone(),
        source_sha256: source_sha256.clone(),
        applied_at: applied_at.clone(),
        status: *status,
        digest_before: *digest_before,
        digest_after: *digest_after,
        impact: impact.clone(),
        plan: serde_json::value::RawValue::NULL.to_owned(),
        undo: undo.clone(),
        rolls_back: rolls_back.clone(),
        pruned_at: pruned_at.clone(),
    }
}

/// The history of `app` in `format`.
pub fn records(
    app: &Path,
    records: &[Record],
    full: bool,
    format: Format,
) -> Result<String, serde_json::Error> {
    if format == Format::Json {
        let records = records
            .iter()
            .map(|r| {
                // Without --full the plan is left behind unread: turning the
                // record into a JSON tree would parse it (tens of MB for a
                // full update).
                let mut v = if full {
                    serde_json::to_value(r)?
                } else {
                    serde_json::to_value(without_plan(r))?
                };
                if let Some(fields) = v.as_object_mut() {
                    fields.remove("schema");
                    if !full {
                        fields.remove("plan");
                    }
                }
                Ok(v)
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        return super::report::with_schema(
            "earpatch.history/v1",
            serde_json::json!({ "application": app, "records": records }),
        );
    }
    let mut out = String::new();
    if records.is_empty() {
        let _ = writeln!(out, "no updates applied in place to {}", app.display());
    }
    let md = format == Format::Markdown;
    if md && !records.is_empty() {
        let _ = writeln!(
            out,
            "| id | status | kind | impact | source |\n|---|---|---|---|---|"
        );
    }
    let kinds: Vec<String> = records
        .iter()
        .map(|r| {
            let mut kind = match &r.rolls_back {
                Some(id) => format!("rollback of {id}"),
                None => r.kind.to_string(),
            };
            if r.pruned_at.is_some() {
                kind.push_str(" (undo pruned)");
            }
            kind
        })
        .collect();
    // Columns as wide as their widest cell, so that every line aligns.
    let width = |cells: &mut dyn Iterator<Item = usize>| cells.max().unwrap_or(0);
    let id_width = width(&mut records.iter().map(|r| r.id.len()));
    let kind_width = width(&mut kinds.iter().map(String::len));
    let effect_width = width(&mut records.iter().map(|r| r.impact.effect.to_string().len()));
    for (r, kind) in records.iter().zip(kinds) {
        if md {
            let _ = writeln!(
                out,
                "| `{}` | {} | {kind} | {} | `{}` |",
                r.id, r.status, r.impact.effect, r.source
            );
        } else {
            let _ = writeln!(
                out,
                "{:<id_width$}  {:<11}  {kind:<kind_width$}  {:<effect_width$}  {}",
                r.id,
                r.status.to_string(),
                r.impact.effect.to_string(),
                r.source
            );
            let _ = writeln!(out, "    {} -> {}", r.digest_before, r.digest_after);
        }
    }
    Ok(out)
}

/// What `recover` did: one line, or `earpatch.recover/v1`.
pub fn recovery(
    app: &Path,
    outcome: Recovery,
    format: Format,
) -> Result<String, serde_json::Error> {
    let text = recovery_text(outcome);
    if format == Format::Json {
        return super::report::with_schema(
            "earpatch.recover/v1",
            serde_json::json!({
                "application": app,
                "outcome": outcome.to_string(),
                "message": text,
            }),
        );
    }
    Ok(format!("{text}\n"))
}

fn recovery_text(outcome: Recovery) -> &'static str {
    match outcome {
        Recovery::Clean => "nothing to recover: no interrupted apply",
        Recovery::Discarded => {
            "an apply was interrupted before changing the application; its leftovers were removed"
        }
        Recovery::RolledBack => {
            "an interrupted apply was rolled back: the application is as it was before it"
        }
        Recovery::Finished => "an apply had finished; its journal was cleaned up",
        Recovery::RecordSettled => {
            "an apply was interrupted before changing the application; its history record was settled"
        }
    }
}
