//! `earpatch diff OLD NEW -o UPDATE.zip`.

use std::path::Path;

use ear_core::{Application, Effect, PlanOptions};

use super::CommandResult;
use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::render::{plural, report};

pub fn run(
    old: &Path,
    new: &Path,
    output: &Path,
    options: &PlanOptions,
    format: Format,
) -> CommandResult {
    ear_core::ensure_not_interrupted(old)?;
    ear_core::ensure_not_interrupted(new)?;
    let old = Application::open(old)?;
    let new = Application::open(new)?;
    let result = ear_core::diff(&old, &new, output, options)?;
    let full = match result.full_update_effect {
        Effect::None => "nothing (the versions have the same content)",
        _ => "restart the application (F1)",
    };
    let comparison = format!(
        "as a full update: {full}; as this partial update: {}",
        report::verdict(&result.plan)
    );
    let written = format!(
        "wrote {} ({}, {} by delete lists)",
        result.output.display(),
        plural(result.entries, "entry", "entries"),
        plural(result.deletions, "deletion", "deletions")
    );
    match format {
        Format::Json => {
            let mut v = serde_json::to_value(&result.plan)?;
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "full_update_effect".into(),
                    serde_json::to_value(result.full_update_effect)?,
                );
                obj.insert(
                    "output".into(),
                    serde_json::Value::String(result.output.display().to_string()),
                );
                obj.insert("entries".into(), result.entries.into());
                obj.insert("deletions".into(), result.deletions.into());
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Markdown => {
            print!(
                "{}",
                report::render(&result.plan, Format::Markdown, report::Detail::Changes)?
            );
            println!("\n{comparison}\n\n{written}");
        }
        Format::Text => {
            print!(
                "{}",
                report::render(&result.plan, Format::Text, report::Detail::Changes)?
            );
            println!("\n{comparison}\n{written}");
        }
    }
    Ok(ExitStatus::Success)
}
