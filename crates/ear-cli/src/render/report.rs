//! Plan and impact reports: text, JSON (spec §8), Markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal as _;

use ear_core::{Change, Effect, Op, Plan, Rule, Scope};

use super::plural;
use crate::cli::Format;

/// How much of the plan to show in text and Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Every change (`plan`).
    Changes,
    /// The verdict and the rules that fired (`impact`).
    Reasons,
}

/// Renders `plan` in `format`.
pub fn render(plan: &Plan, format: Format, detail: Detail) -> Result<String, serde_json::Error> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(plan)? + "\n",
        Format::Text => text(plan, detail, Style::detect()),
        Format::Markdown => markdown(plan, detail),
    })
}

/// ANSI colour, only on a terminal and never with `NO_COLOR`.
#[derive(Debug, Clone, Copy)]
struct Style {
    colour: bool,
}

impl Style {
    fn detect() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            colour: !no_color && std::io::stdout().is_terminal(),
        }
    }

    fn effect(self, effect: Effect, text: &str) -> String {
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

/// Files (not whole modules) with a given effect, counted.
fn count_effect(plan: &Plan, effect: Effect) -> usize {
    plan.changes
        .iter()
        .filter(|c| c.op != Op::Unchanged && c.effect == effect)
        .count()
}

fn module_label(plan: &Plan, uri: &ear_core::EntryPath) -> String {
    let kind = plan
        .changes
        .iter()
        .find(|c| &c.path == uri)
        .and_then(|c| c.module_kind);
    match kind {
        Some(kind) => format!("{kind} module {uri}"),
        None => format!("module {uri}"),
    }
}

/// The one line a person can act on.
pub fn verdict(plan: &Plan) -> String {
    let effective = plan.effective_changes().count();
    if effective == 0 {
        return if plan.changes.is_empty() {
            "nothing to do: the update changes nothing".to_owned()
        } else {
            format!(
                "nothing to do: already up to date ({} unchanged)",
                plural(plan.changes.len(), "file", "files")
            )
        };
    }
    let hot = count_effect(plan, Effect::Hot);
    let hot_note = if hot > 0 {
        format!("; {} hot-swapped", plural(hot, "file", "files"))
    } else {
        String::new()
    };
    match plan.impact.effect {
        Effect::RestartApplication => {
            let mut rules: BTreeMap<String, usize> = BTreeMap::new();
            for c in plan
                .effective_changes()
                .filter(|c| c.effect == Effect::RestartApplication)
            {
                let key = match (c.rule, c.escalated_by) {
                    (Some(r), Some(e)) => format!("{r}+{e}"),
                    (Some(r), None) => r.to_string(),
                    (None, _) => continue,
                };
                *rules.entry(key).or_default() += 1;
            }
            let reasons: Vec<String> = rules.iter().map(|(r, n)| format!("{r} ×{n}")).collect();
            format!("restart the application ({})", reasons.join(", "))
        }
        Effect::RestartModule | Effect::StartModule => {
            let mut parts = Vec::new();
            if !plan.impact.restart_modules.is_empty() {
                let names: Vec<String> = plan
                    .impact
                    .restart_modules
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                let noun = if names.len() == 1 {
                    "web module"
                } else {
                    "web modules"
                };
                parts.push(format!("restart {noun} {}", names.join(", ")));
            }
            if !plan.impact.start_modules.is_empty() {
                let names: Vec<String> = plan
                    .impact
                    .start_modules
                    .iter()
                    .map(|m| format!("new {}", module_label(plan, m)))
                    .collect();
                parts.push(format!("start {}", names.join(", ")));
            }
            format!(
                "{}; the application keeps running{hot_note}",
                parts.join(" and ")
            )
        }
        Effect::Hot => format!("no restart: {} hot-swapped", plural(hot, "file", "files")),
        Effect::None => format!(
            "no restart: {} picked up without a restart",
            plural(effective, "change is", "changes are")
        ),
    }
}

fn scope_title(plan: &Plan, scope: &Scope) -> String {
    match scope {
        Scope::Application => "application scope".to_owned(),
        Scope::Module(uri) => match plan
            .changes
            .iter()
            .find(|c| &c.scope == scope)
            .and_then(|c| c.module_kind)
        {
            Some(kind) => format!("{kind} module {uri}"),
            None => format!("module {uri}"),
        },
    }
}

fn rule_text(c: &Change) -> (String, String) {
    let rule = c.rule.map_or_else(|| "-".to_owned(), |r| r.to_string());
    let effect = match c.escalated_by {
        Some(e) => format!("{} ({} by {e})", c.effect, c.rule_effect()),
        None => c.effect.to_string(),
    };
    (rule, effect)
}

fn text(plan: &Plan, detail: Detail, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.effect(plan.impact.effect, &verdict(plan)));
    let _ = writeln!(
        out,
        "  {} ({}) <- {} ({} update)",
        plan.application.path, plan.application.form, plan.update.source, plan.update.kind
    );
    if let Some(d) = &plan.application.digest {
        let _ = writeln!(out, "  digest before: {d}");
    }
    match detail {
        Detail::Changes => text_changes(plan, &mut out),
        Detail::Reasons => text_reasons(plan, &mut out),
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "\nwarnings ({})", plan.warnings.len());
        for w in &plan.warnings {
            let _ = writeln!(out, "  - {}", w.message);
        }
    }
    out
}

fn text_changes(plan: &Plan, out: &mut String) {
    let mut by_scope: BTreeMap<&Scope, Vec<&Change>> = BTreeMap::new();
    for c in &plan.changes {
        by_scope.entry(&c.scope).or_default().push(c);
    }
    let width = plan
        .changes
        .iter()
        .map(|c| c.path.as_str().len())
        .max()
        .unwrap_or(0)
        .min(70);
    for (scope, changes) in by_scope {
        let _ = writeln!(out, "\n{}", scope_title(plan, scope));
        for c in changes {
            let (rule, effect) = rule_text(c);
            let shown = match &c.scope {
                Scope::Module(uri) if &c.path != uri => {
                    c.path.strip_dir(uri).unwrap_or_else(|| c.path.clone())
                }
                _ => c.path.clone(),
            };
            let _ = write!(
                out,
                "  {:<9} {:<width$}  {:<3} {effect}",
                c.op.to_string(),
                shown.as_str(),
                rule
            );
            if let Some(m) = &c.module {
                let _ = write!(
                    out,
                    "  [{} module{}: +{} ~{} -{} ={}{}]",
                    m.kind,
                    m.context_root
                        .as_ref()
                        .map(|r| format!(" {r}"))
                        .unwrap_or_default(),
                    m.files_added,
                    m.files_replaced,
                    m.files_deleted,
                    m.files_unchanged,
                    if m.registers_in_descriptor {
                        ", registered in META-INF/application.xml"
                    } else {
                        ""
                    }
                );
            }
            let _ = writeln!(out);
        }
    }
    text_reasons(plan, out);
}

/// The rules that fired, strongest first, with the files they cover.
fn text_reasons(plan: &Plan, out: &mut String) {
    let mut by_rule: BTreeMap<(std::cmp::Reverse<Effect>, Rule), Vec<&Change>> = BTreeMap::new();
    for c in plan.effective_changes() {
        if let Some(rule) = c.rule {
            by_rule
                .entry((std::cmp::Reverse(c.effect), rule))
                .or_default()
                .push(c);
        }
    }
    if by_rule.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nwhy: {}", plan.impact.effect);
    for ((std::cmp::Reverse(effect), rule), changes) in by_rule {
        let escalated = changes
            .iter()
            .find_map(|c| c.escalated_by)
            .map(|e| format!(", escalated by {e}"))
            .unwrap_or_default();
        let mut paths: Vec<String> = changes.iter().take(3).map(|c| c.path.to_string()).collect();
        if changes.len() > 3 {
            paths.push(format!("+{} more", changes.len() - 3));
        }
        let _ = writeln!(
            out,
            "  {rule} {effect}{escalated}: {} ({})",
            rule.description(),
            paths.join(", ")
        );
    }
}

fn markdown(plan: &Plan, detail: Detail) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### earpatch: {}\n", verdict(plan));
    let _ = writeln!(
        out,
        "`{}` ({}) ← `{}` ({} update). Impact: **{}**.\n",
        plan.application.path,
        plan.application.form,
        plan.update.source,
        plan.update.kind,
        plan.impact.effect
    );
    match detail {
        Detail::Changes => {
            let _ = writeln!(out, "| path | op | rule | effect |\n|---|---|---|---|");
            for c in &plan.changes {
                let (rule, effect) = rule_text(c);
                let _ = writeln!(out, "| `{}` | {} | {rule} | {effect} |", c.path, c.op);
            }
        }
        Detail::Reasons => {
            let _ = writeln!(out, "| rule | effect | changes |\n|---|---|---:|");
            let mut by_rule: BTreeMap<(Rule, Effect), usize> = BTreeMap::new();
            for c in plan.effective_changes() {
                if let Some(rule) = c.rule {
                    *by_rule.entry((rule, c.effect)).or_default() += 1;
                }
            }
            for ((rule, effect), n) in by_rule {
                let _ = writeln!(out, "| {rule} ({}) | {effect} | {n} |", rule.description());
            }
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "\n**Warnings**\n");
        for w in &plan.warnings {
            let _ = writeln!(
                out,
                "- `{}`: {}",
                serde_json::to_value(w.code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                w.message
            );
        }
    }
    out
}
