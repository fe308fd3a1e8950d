//! `earpatch apply APP UPDATE`.

use ear_core::{ApplyOptions, ApplyReport, Outcome, apply};

use super::CommandResult;
use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::render::report;
use crate::settings::UpdateSource;

pub fn run(update: &UpdateSource, options: &ApplyOptions, format: Format) -> CommandResult {
    let result = apply(&update.app, &update.open()?, options)?;
    print!("{}", render(&result, format)?);
    Ok(ExitStatus::Success)
}

/// The report of one apply (or rollback step).
pub fn render(r: &ApplyReport, format: Format) -> Result<String, serde_json::Error> {
    if format == Format::Json {
        let mut v = serde_json::to_value(&r.plan)?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("outcome".into(), serde_json::to_value(r.outcome)?);
            obj.insert(
                "output".into(),
                serde_json::Value::String(r.output.display().to_string()),
            );
            obj.insert(
                "record".into(),
                serde_json::to_value(r.record.as_ref().map(|rec| &rec.id))?,
            );
            obj.insert("digest_after".into(), serde_json::to_value(r.digest_after)?);
        }
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    let mut out = report::render(&r.plan, format, report::Detail::Changes)?;
    let note = |s: &str| {
        if format == Format::Markdown {
            format!("\n**{s}**\n")
        } else {
            format!("\n{s}\n")
        }
    };
    if let Some(recovered) = r.recovered {
        out.push_str(&note(&format!(
            "an interrupted earlier apply was settled first ({recovered:?})"
        )));
    }
    out.push_str(&match r.outcome {
        Outcome::DryRun => note("dry run: nothing was written"),
        Outcome::UpToDate
            if r.record.is_none() && r.output == std::path::Path::new(&r.plan.application.path) =>
        {
            note("already up to date: nothing was written, no history record")
        }
        Outcome::UpToDate => note(&format!("nothing changes; wrote {}", r.output.display())),
        Outcome::Applied => match (&r.record, r.digest_after) {
            (Some(rec), _) if rec.rolls_back.is_some() => note(&format!(
                "rolled back as {}: {} is as it was before {}\n  digest {} -> {}",
                rec.id,
                r.output.display(),
                rec.rolls_back.as_deref().unwrap_or_default(),
                rec.digest_before,
                rec.digest_after
            )),
            (Some(rec), _) => note(&format!(
                "applied as {} to {}\n  digest {} -> {}\n  undo with: earpatch rollback {}",
                rec.id,
                r.output.display(),
                rec.digest_before,
                rec.digest_after,
                r.output.display()
            )),
            (None, Some(d)) => note(&format!(
                "wrote {} (digest {d}); the application was not touched",
                r.output.display()
            )),
            (None, None) => note(&format!("wrote {}", r.output.display())),
        },
    });
    Ok(out)
}
