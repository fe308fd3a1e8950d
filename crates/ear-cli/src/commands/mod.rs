//! One function per command.

mod apply;
mod diff;
mod history;
mod impact;
mod inspect;
mod plan;

use ear_core::{Application, ClassLoaderPolicy, Plan, PlanOptions, Settings, Update};

use crate::cli::{Cli, Command, Policy, ReportArgs, SettingsArgs, UpdateArgs};
use crate::exit::ExitStatus;

/// What a command returns: an exit status, or an error to print.
pub type CommandResult = Result<ExitStatus, crate::exit::Failure>;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> CommandResult {
    match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Impact(args) => impact::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::History(args) => history::run(&args),
        Command::Rollback(args) => history::rollback(&args),
        Command::Recover(args) => history::recover(&args),
    }
}

/// Builds the update the arguments describe.
pub fn update_from(args: &UpdateArgs) -> ear_core::Result<Update> {
    if args.context_root.is_some() && args.module.is_none() && !is_module_name(&args.update) {
        return Err(ear_core::Error::Refused {
            location: "--context-root".into(),
            message:
                "--context-root is only for adding a web module (--module URI, or a .war update)"
                    .into(),
        });
    }
    let update = if args.full {
        Update::full(&args.update)?
    } else if let Some(uri) = &args.module {
        Update::module(&args.update, uri)?
    } else if let Some(path) = &args.file {
        Update::file(&args.update, path)?
    } else {
        Update::infer(&args.update)?
    };
    Ok(match &args.context_root {
        Some(root) => update.context_root(root.clone()),
        None => update,
    })
}

fn is_module_name(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| {
        ["war", "jar", "rar", "sar"].contains(&e.to_string_lossy().to_ascii_lowercase().as_str())
    })
}

/// The deployment settings the arguments describe.
pub fn settings_from(args: &SettingsArgs) -> ear_core::Result<Settings> {
    let policy = match &args.deployment_xml {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| ear_core::Error::Io {
                action: "cannot read",
                path: path.clone(),
                source: e,
            })?;
            Settings::policy_from_deployment_xml(&bytes, &path.display().to_string())?
        }
        None => match args.classloader_policy {
            Policy::Multiple => ClassLoaderPolicy::Multiple,
            Policy::Single => ClassLoaderPolicy::Single,
        },
    };
    Ok(Settings::default()
        .classloader_policy(policy)
        .dynamic_security(!args.no_dynamic_security))
}

/// Opens the application and the update and plans.
pub fn plan_from(
    update: &UpdateArgs,
    settings: &SettingsArgs,
    report: &ReportArgs,
) -> ear_core::Result<Plan> {
    let settings = settings_from(settings)?;
    ear_core::ensure_not_interrupted(&update.app)?;
    let app = Application::open(&update.app)?;
    let update = update_from(update)?;
    Plan::new(
        &app,
        &update,
        &PlanOptions::default()
            .settings(settings)
            .digest(!report.no_digest),
    )
}

/// With --strict, the error that plan warnings become.
pub fn strict_error(plan: &Plan, report: &ReportArgs) -> Option<String> {
    (report.strict && !plan.warnings.is_empty()).then(|| {
        format!(
            "--strict: the plan has {} (listed above); nothing was written",
            crate::render::plural(plan.warnings.len(), "warning", "warnings")
        )
    })
}
