//! The text of `verify`: the verdict, the baseline, the drifted files, and
//! what was read; or the report as JSON (`earpatch.verify/v1`) or Markdown.
//!
//! Pure: formats a report already made; never prints, never touches the
//! file system.

use std::fmt::Write as _;

use ear_core::{Baseline, Drift, VerifyReport};

use super::json;
use crate::cli::Format;

/// The drifted files shown in text before "and N more".
const SHOWN: usize = 50;

/// `report` in `format`.
pub fn render(report: &VerifyReport, format: Format) -> Result<String, serde_json::Error> {
    if format == Format::Json {
        return json(&serde_json::json!({
            "schema": "earpatch.verify/v1",
            "application": report.application,
            "form": report.form,
            "clean": report.is_clean(),
            "digest": report.digest,
            "expected": report.expected,
            "baseline": report.baseline,
            "drifted": report.drifted,
            "drifted_known": report.drifted_known,
            "files_read": report.files,
            "bytes_read": report.bytes,
            "index": report.index,
            "index_problem": report.index_problem,
        }));
    }
    let md = format == Format::Markdown;
    let mut out = String::new();
    let app = report.application.display();
    let verdict = match (report.is_clean(), report.baseline) {
        (true, Baseline::None) => format!(
            "no baseline for {app}: it has no earpatch history; its digest is now recorded as the baseline"
        ),
        (true, _) => format!("clean: {app} is as {}", baseline_text(report.baseline)),
        (false, _) => format!(
            "DRIFTED: {app} differs from what {}",
            match report.baseline {
                Baseline::Option => "--expect-digest says",
                Baseline::Record => "the last update or rollback left",
                Baseline::Index | Baseline::None => "the last verify recorded",
            }
        ),
    };
    if md {
        let _ = writeln!(out, "**{verdict}**\n");
    } else {
        let _ = writeln!(out, "{verdict}");
    }
    let (item, code) = if md { ("- ", "`") } else { ("  ", "") };
    let _ = writeln!(out, "{item}digest:   {code}{}{code}", report.digest);
    if let Some(expected) = report.expected {
        let _ = writeln!(out, "{item}expected: {code}{expected}{code}");
    }
    let _ = writeln!(
        out,
        "{item}read {} files ({} bytes)",
        report.files, report.bytes
    );
    if !report.is_clean() {
        let _ = writeln!(out);
        if report.drifted_known {
            for file in report.drifted.iter().take(SHOWN) {
                let change = match file.change {
                    Drift::Modified => "modified",
                    Drift::Added => "added",
                    Drift::Deleted => "deleted",
                };
                if md {
                    let _ = writeln!(out, "- {change} `{}`", file.path);
                } else {
                    let _ = writeln!(out, "  {change:<9} {}", file.path);
                }
            }
            if report.drifted.len() > SHOWN {
                let _ = writeln!(
                    out,
                    "  ... and {} more (--format json lists all)",
                    report.drifted.len() - SHOWN
                );
            }
        } else {
            let _ = writeln!(
                out,
                "  the files cannot be named: the content index that describes the expected content is missing \
                 or describes other content{}",
                report
                    .index_problem
                    .as_deref()
                    .map_or_else(String::new, |p| format!(" ({p})"))
            );
        }
        let _ = writeln!(
            out,
            "\nThe next apply or rollback starts from this content (rollback refuses without --force); \
             `earpatch diff` against the expected build writes the update that undoes the drift."
        );
    }
    Ok(out)
}

fn baseline_text(baseline: Baseline) -> &'static str {
    match baseline {
        Baseline::Option => "--expect-digest says",
        Baseline::Record => "the last update or rollback left it",
        Baseline::Index | Baseline::None => "the last verify recorded it",
    }
}
