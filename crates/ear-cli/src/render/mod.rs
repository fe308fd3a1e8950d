//! The renderers: turn what a command produced into the text, JSON or
//! Markdown the printer writes, plus the helpers they share.
//!
//! Rendering is pure: it never prints, never touches the file system or the
//! environment (the printer decides colour and passes a [`Style`]) and never
//! calls `ear-core` operations, only reads their results.

pub mod history;
pub mod hooks;
pub mod inspect;
pub mod prune;
pub mod report;
pub mod status;
pub mod verify;

use std::fmt::Write as _;

use ear_core::{Effect, Warning};

use crate::cli::Format;

/// ANSI colour, or none. Decided by the printer.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    colour: bool,
}

impl Style {
    /// With colour or without.
    pub fn new(colour: bool) -> Style {
        Style { colour }
    }

    /// `text` in the colour of `effect`: red for an application restart,
    /// yellow for module starts and restarts, green otherwise.
    pub fn effect(self, effect: Effect, text: &str) -> String {
        if !self.colour {
            return text.to_owned();
        }
        let code = match effect {
            Effect::RestartApplication => "1;31",
            Effect::RestartModule | Effect::StartModule => "1;33",
            Effect::Hot | Effect::None => "1;32",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// `cause: cause` on one line.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `1.2 MB`, `340 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    #[allow(clippy::cast_precision_loss)]
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// `1 file`, `3 files`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A closing note after a text or Markdown report: its own paragraph, in
/// bold in Markdown.
pub fn note(format: Format, text: &str) -> String {
    if format == Format::Markdown {
        format!("\n**{text}**\n")
    } else {
        format!("\n{text}\n")
    }
}

/// `err` as an `earpatch.error/v1` document: the message (the whole cause
/// chain on one line, as on stderr) and each cause on its own.
pub fn error_document(command: &str, err: &dyn std::error::Error, exit_code: i32) -> String {
    let mut causes = Vec::new();
    let mut source = err.source();
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    let doc = serde_json::json!({
        "schema": "earpatch.error/v1",
        "command": command,
        "message": error_chain(err),
        "causes": causes,
        "exit_code": exit_code,
    });
    json(&doc).unwrap_or_else(|_| String::from("{\"schema\":\"earpatch.error/v1\"}\n"))
}

/// `value` pretty-printed, one line feed after it.
pub fn json(value: &impl serde::Serialize) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// The warnings section of a text or Markdown report (nothing without
/// warnings). With `codes`, Markdown names each warning's code.
pub fn warnings(out: &mut String, warnings: &[Warning], format: Format, codes: bool) {
    if warnings.is_empty() {
        return;
    }
    if format == Format::Markdown {
        let _ = writeln!(out, "\n**Warnings**\n");
        for w in warnings {
            if codes {
                let code = serde_json::to_value(w.code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let _ = writeln!(out, "- `{code}`: {}", w.message);
            } else {
                let _ = writeln!(out, "- {}", w.message);
            }
        }
    } else {
        let _ = writeln!(out, "\nwarnings ({})", warnings.len());
        for w in warnings {
            let _ = writeln!(out, "  - {}", w.message);
        }
    }
}
