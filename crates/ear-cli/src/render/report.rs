//! Plan, impact, apply (and rollback), and diff reports: text, JSON (spec
//! §8), Markdown; and the lines that end a `--strict` or `--fail-on` run.
//!
//! Pure formatting of results `ear-core` already computed: no printing, no
//! file system, no environment (colour comes in as a [`Style`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use ear_core::{ApplyReport, Change, DiffReport, Effect, Op, Outcome, Plan, Rule, Scope};

use super::{Style, json, plural, warnings};
use crate::cli::Format;
use crate::hooks::HookRun;

/// How much of the plan to show in text and Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Every change (`plan`).
    Changes,
    /// The verdict and the rules that fired (`impact`).
    Reasons,
}

/// Renders `plan` in `format`.
pub fn plan(
    plan: &Plan,
    format: Format,
    detail: Detail,
    style: Style,
) -> Result<String, serde_json::Error> {
    Ok(match format {
        Format::Json => json(plan)?,
        Format::Text => text(plan, detail, style),
        Format::Markdown => markdown(plan, detail),
    })
}

/// One apply (or rollback step) as a JSON object (`earpatch.apply/v1`
/// without its `schema`): the outcome, the digests, the record, the plan.
pub fn apply_object(r: &ApplyReport) -> Result<serde_json::Value, serde_json::Error> {
    Ok(serde_json::json!({
        "outcome": r.outcome,
        "application": r.plan.application.path,
        "output": r.output.display().to_string(),
        "digest_before": r.plan.application.digest,
        "digest_after": r.digest_after,
        "record": r.record.as_ref().map(|rec| serde_json::json!({
            "id": rec.id,
            "status": rec.status,
            "rolls_back": rec.rolls_back,
        })),
        "recovered": r.recovered.map(|rec| rec.to_string()),
        "forced_over_drift": r.forced_over_drift,
        "plan": serde_json::to_value(&r.plan)?,
    }))
}

/// `earpatch.apply/v1`: one apply and the hooks that ran around it.
pub fn apply_document(r: &ApplyReport, hooks: &[HookRun]) -> Result<String, serde_json::Error> {
    let mut object = apply_object(r)?;
    object["hooks"] = serde_json::to_value(hooks)?;
    with_schema("earpatch.apply/v1", object)
}

/// `earpatch.rollback/v1`: the steps, newest first, and the hooks that ran
/// around them.
pub fn rollback_document(
    app: &Path,
    reports: &[ApplyReport],
    hooks: &[HookRun],
) -> Result<String, serde_json::Error> {
    let steps = reports
        .iter()
        .map(apply_object)
        .collect::<Result<Vec<_>, _>>()?;
    with_schema(
        "earpatch.rollback/v1",
        serde_json::json!({ "application": app, "steps": steps, "hooks": hooks }),
    )
}

/// `object` with `"schema": name` first.
pub fn with_schema(name: &str, object: serde_json::Value) -> Result<String, serde_json::Error> {
    let mut doc = serde_json::Map::new();
    doc.insert("schema".into(), name.into());
    if let serde_json::Value::Object(fields) = object {
        doc.extend(fields);
    }
    json(&doc)
}

/// The report of one apply (or rollback step), and the hooks that ran
/// around it.
pub fn apply(
    r: &ApplyReport,
    hooks: &[HookRun],
    format: Format,
    style: Style,
) -> Result<String, serde_json::Error> {
    if format == Format::Json {
        // Spec §8: `apply --dry-run` prints the plan object itself.
        if r.outcome == Outcome::DryRun {
            return json(&r.plan);
        }
        return apply_document(r, hooks);
    }
    let mut out = plan(&r.plan, format, Detail::Changes, style)?;
    let note = |s: &str| super::note(format, s);
    if let Some(recovered) = r.recovered {
        out.push_str(&note(&format!(
            "an interrupted earlier apply was settled first ({recovered})"
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
            (Some(rec), _) if rec.rolls_back.is_some() && r.forced_over_drift => note(&format!(
                "rolled back as {} over changes made outside earpatch (--force): the files {} changed are \
                 restored, but {} is not exactly as it was before it\n  digest {} -> {}",
                rec.id,
                rec.rolls_back.as_deref().unwrap_or_default(),
                r.output.display(),
                rec.digest_before,
                rec.digest_after
            )),
            (Some(rec), _) if rec.rolls_back.is_some() => note(&format!(
                "rolled back as {}: {} is as it was before {}\n  digest {} -> {}",
                rec.id,
                r.output.display(),
                rec.rolls_back.as_deref().unwrap_or_default(),
                rec.digest_before,
                rec.digest_after
            )),
            (Some(rec), _) => note(&format!(
                "applied as {} to {}\n  digest {} -> {}\n  undo with: earpatch rollback {}{}",
                rec.id,
                r.output.display(),
                rec.digest_before,
                rec.digest_after,
                r.output.display(),
                r.state_dir
                    .as_ref()
                    .map_or_else(String::new, |d| format!(" --state-dir {}", d.display()))
            )),
            (None, Some(d)) => note(&format!(
                "wrote {} (digest {d}); the application was not touched",
                r.output.display()
            )),
            (None, None) => note(&format!("wrote {}", r.output.display())),
        },
    });
    out.push_str(&super::hooks::summary(hooks, format));
    Ok(out)
}

/// The report of `diff`: the plan of the partial update it wrote, how it
/// compares with a full update, and what it wrote.
pub fn diff(r: &DiffReport, format: Format, style: Style) -> Result<String, serde_json::Error> {
    if format == Format::Json {
        return with_schema(
            "earpatch.diff/v1",
            serde_json::json!({
                "output": r.output.display().to_string(),
                "entries": r.entries,
                "deletions": r.deletions,
                "full_update_effect": r.full_update_effect,
                "plan": serde_json::to_value(&r.plan)?,
            }),
        );
    }
    let full = match r.full_update_effect {
        Effect::None => "nothing (the versions have the same content)",
        _ => "restart the application (F1)",
    };
    let comparison = format!(
        "as a full update: {full}; as this partial update: {}",
        verdict(&r.plan)
    );
    let written = format!(
        "wrote {} ({}, {} by delete lists)",
        r.output.display(),
        plural(r.entries, "entry", "entries"),
        plural(r.deletions, "deletion", "deletions")
    );
    // Two paragraphs in Markdown, two lines in text.
    let gap = if format == Format::Markdown {
        "\n\n"
    } else {
        "\n"
    };
    Ok(plan(&r.plan, format, Detail::Changes, style)? + &format!("\n{comparison}{gap}{written}\n"))
}

/// The error `--strict` ends a run with when the plan has warnings.
pub fn strict_error(warnings: usize) -> String {
    format!(
        "--strict: the plan has {} (listed above); nothing was written",
        plural(warnings, "warning", "warnings")
    )
}

/// The line `impact --fail-on` ends a run with when the impact reaches it.
pub fn fail_on_note(effect: Effect, threshold: &str) -> String {
    format!("earpatch: the impact ({effect}) reaches --fail-on {threshold}")
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
    warnings(&mut out, &plan.warnings, Format::Text, false);
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

/// A Mermaid diagram of the application and its modules, each coloured by
/// what happens to it (GitHub and GitLab render it in Markdown): red for a
/// restart of the application, amber for a module restart or start, green for
/// hot changes, grey for nothing.
fn mermaid(plan: &Plan) -> String {
    let restart_app = plan.impact.restart_application;
    let effect_of = |scope: Option<&ear_core::EntryPath>| {
        plan.effective_changes()
            .filter(|c| match (&c.scope, scope) {
                (Scope::Application, None) => true,
                (Scope::Module(uri), Some(m)) => uri == m,
                _ => false,
            })
            .map(|c| c.effect)
            .max()
            .unwrap_or(Effect::None)
    };
    let class = |effect: Effect| match effect {
        _ if restart_app => "restartApp",
        Effect::RestartApplication => "restartApp",
        Effect::RestartModule | Effect::StartModule => "restartModule",
        Effect::Hot => "hot",
        Effect::None => "unchanged",
    };
    let label = |effect: Effect| match effect {
        _ if restart_app => "restarts with the application",
        Effect::RestartApplication => "restart application",
        Effect::RestartModule => "restart module",
        Effect::StartModule => "start module",
        Effect::Hot => "hot",
        Effect::None => "no change",
    };
    // Mermaid labels: quotes and angle brackets would end them.
    let safe = |text: &str| text.replace(['"', '<', '>'], "_");
    let mut out = String::from("```mermaid\nflowchart LR\n");
    let app_effect = effect_of(None);
    let _ = writeln!(
        out,
        "  app[\"{} (application scope): {}\"]:::{}",
        safe(&plan.application.path),
        if restart_app {
            "restart application"
        } else {
            label(app_effect)
        },
        class(app_effect)
    );
    let mut uris: Vec<(ear_core::EntryPath, String)> = plan
        .modules
        .iter()
        .map(|(uri, kind)| (uri.clone(), kind.to_string()))
        .collect();
    // Modules an update adds are not in the application yet.
    for c in &plan.changes {
        if let (Some(m), false) = (&c.module, uris.iter().any(|(u, _)| u == &c.path)) {
            uris.push((c.path.clone(), m.kind.to_string()));
        }
    }
    for (i, (uri, kind)) in uris.iter().enumerate() {
        let mut effect = effect_of(Some(uri));
        if plan.impact.start_modules.contains(uri) {
            effect = effect.max(Effect::StartModule);
        }
        let _ = writeln!(
            out,
            "  app --> m{i}[\"{kind} {}: {}\"]:::{}",
            safe(uri.as_str()),
            label(effect),
            class(effect)
        );
    }
    out.push_str(
        "  classDef restartApp fill:#f8d7da,stroke:#b02a37,color:#58151c\n\
         \x20 classDef restartModule fill:#fff3cd,stroke:#997404,color:#664d03\n\
         \x20 classDef hot fill:#d1e7dd,stroke:#146c43,color:#0a3622\n\
         \x20 classDef unchanged fill:#e9ecef,stroke:#6c757d,color:#343a40\n```\n\n",
    );
    out
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
    out.push_str(&mermaid(plan));
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
            // Keyed by the escalation too, as the verdict line is: a rule
            // escalated by E1/E2 reads `P5+E1` with both effects.
            let mut by_rule: BTreeMap<(Rule, Option<String>, String), usize> = BTreeMap::new();
            for c in plan.effective_changes() {
                if let Some(rule) = c.rule {
                    let (_, effect) = rule_text(c);
                    let escalation = c.escalated_by.map(|e| e.to_string());
                    *by_rule.entry((rule, escalation, effect)).or_default() += 1;
                }
            }
            for ((rule, escalation, effect), n) in by_rule {
                let name = match escalation {
                    Some(e) => format!("{rule}+{e}"),
                    None => rule.to_string(),
                };
                let _ = writeln!(out, "| {name} ({}) | {effect} | {n} |", rule.description());
            }
        }
    }
    warnings(&mut out, &plan.warnings, Format::Markdown, true);
    out
}
