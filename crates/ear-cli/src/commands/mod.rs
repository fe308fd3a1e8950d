//! The commands: one file each. A command takes its resolved settings, calls
//! `ear-core` and returns what it produced ([`Done`]: an [`Output`] and how
//! the run ends) or a [`Failure`].
//!
//! Commands never print and never read flags: the [`Printer`] writes,
//! `render/` formats (also the documents hooks read), `settings/`
//! resolves, `config.rs` reads the configuration file, `hooks.rs` runs a
//! hook. [`run`] is the one place that wires them together.

mod apply;
mod diff;
mod generate;
mod history;
mod impact;
mod inspect;
mod plan;
mod prune;
mod recover;
mod rollback;
mod status;
mod verify;

use std::path::PathBuf;

use ear_core::{
    Application, ApplyReport, DiffReport, Effect, Inventory, Plan, PruneReport, Record, Recovery,
    StatusReport, VerifyReport,
};

use crate::cli::Cli;
use crate::config::Config;
use crate::exit::{ExitStatus, Failure};
use crate::hooks::HookRun;
use crate::printer::Printer;
use crate::settings::{self, Resolved, Threshold};

/// Runs the parsed command line (or reports clap's error) and says how the
/// process exits.
pub fn run(parsed: Result<Cli, clap::Error>) -> ExitStatus {
    let cli = match parsed {
        Ok(cli) => cli,
        Err(usage) => return Printer::usage(&usage),
    };
    let printer = Printer::new(
        settings::format(&cli.command),
        settings::name(&cli.command),
        &cli.output,
    );
    let (app, state_dir) = settings::target(&cli.command);
    let config = match Config::find(cli.config.as_deref(), app, state_dir) {
        Ok(config) => config,
        Err(err) => return printer.finish(Err(err.into())),
    };
    if let Some(path) = &config.path {
        printer.verbose(&format!("earpatch: configuration {}", path.display()));
    }
    let limits = settings::limits(&cli.limits, &config.limits);
    let progress = printer.progress();
    printer.finish(
        Resolved::resolve(cli.command, &config)
            .map(|r| r.with_limits(limits).with_progress(progress))
            .and_then(execute),
    )
}

/// Runs one resolved command.
fn execute(command: Resolved) -> Result<Done, Failure> {
    match command {
        Resolved::Inspect {
            app,
            state_dir,
            limits,
        } => inspect::run(&app, state_dir.as_deref(), &limits),
        Resolved::Plan(s) => plan::run(&s),
        Resolved::Impact { plan, fail_on } => impact::run(&plan, fail_on),
        Resolved::Apply {
            update,
            options,
            hooks,
        } => apply::run(&update, &options, &hooks),
        Resolved::Diff {
            old,
            new,
            output,
            options,
        } => diff::run(&old, &new, &output, &options),
        Resolved::History { state, full } => history::run(&state, full),
        Resolved::Rollback {
            app,
            options,
            hooks,
        } => rollback::run(&app, &options, &hooks),
        Resolved::Recover(state) => recover::run(&state),
        Resolved::Verify { app, options } => verify::run(&app, &options),
        Resolved::Generate { what, command } => generate::run(what, command.as_deref()),
        Resolved::Status {
            app,
            options,
            config,
        } => status::run(&app, &options, config),
        Resolved::Prune { app, options } => prune::run(&app, &options),
    }
}

/// What a command produced, for the printer to render on stdout.
#[derive(Debug)]
pub enum Output {
    /// `inspect`: the application and its inventory.
    Inspect {
        /// The application.
        app: Application,
        /// Its files and digest.
        inventory: Inventory,
    },
    /// `plan`: every change.
    Plan(Plan),
    /// `impact`: the verdict and the rules that fired.
    Impact(Plan),
    /// `apply`.
    Apply {
        /// What it did.
        report: Box<ApplyReport>,
        /// The hooks that ran, in order.
        hooks: Vec<HookRun>,
    },
    /// `diff`.
    Diff(DiffReport),
    /// `history`.
    History {
        /// The application.
        app: PathBuf,
        /// Its records, oldest first.
        records: Vec<Record>,
        /// `--full`: with each record's plan.
        full: bool,
    },
    /// `rollback`: one report per update rolled back, newest first.
    Rollback {
        /// The application.
        app: PathBuf,
        /// The steps.
        reports: Vec<ApplyReport>,
        /// The hooks that ran, in order.
        hooks: Vec<HookRun>,
    },
    /// `recover`.
    Recover {
        /// The application.
        app: PathBuf,
        /// What was found and done.
        outcome: Recovery,
    },
    /// `verify`.
    Verify(VerifyReport),
    /// `generate`: a completion script or a man page, printed as is.
    Generated(String),
    /// `status`.
    Status {
        /// What it found.
        report: Box<StatusReport>,
        /// The configuration file read, if any.
        config: Option<crate::config::Summary>,
    },
    /// `prune`.
    Prune(PruneReport),
}

/// How a command that produced its output ends.
#[derive(Debug, Clone)]
pub enum End {
    /// Exit 0.
    Success,
    /// `--strict` and the plan has this many warnings: an error, exit 1.
    Strict {
        /// How many warnings.
        warnings: usize,
    },
    /// `verify`: the application drifted, exit 1.
    Drifted,
    /// `impact --fail-on`: the impact reaches the threshold, exit 3.
    OverThreshold {
        /// The impact.
        effect: Effect,
        /// The threshold it reaches.
        threshold: Threshold,
    },
    /// The post-apply or post-rollback hook failed after the application
    /// was changed, exit 4.
    PostHookFailed {
        /// What failed and where the application stands, for stderr.
        message: String,
    },
}

impl End {
    /// The exit status.
    pub fn status(&self) -> ExitStatus {
        match self {
            End::Success => ExitStatus::Success,
            End::Strict { .. } | End::Drifted => ExitStatus::Failure,
            End::OverThreshold { .. } => ExitStatus::ImpactOverThreshold,
            End::PostHookFailed { .. } => ExitStatus::PostHookFailed,
        }
    }
}

/// What a command returns when it got as far as producing its output.
#[derive(Debug)]
pub struct Done {
    /// What to print on stdout.
    pub output: Output,
    /// How the run ends once it is printed.
    pub end: End,
}

impl Done {
    /// `output`, exit 0.
    fn success(output: Output) -> Result<Done, Failure> {
        Ok(Done {
            output,
            end: End::Success,
        })
    }
}
