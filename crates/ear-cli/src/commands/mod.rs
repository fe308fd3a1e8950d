//! The commands: one file each. A command takes its resolved settings, calls
//! `ear-core` and returns what it produced ([`Done`]: an [`Output`] and how
//! the run ends) or a [`Failure`].
//!
//! Commands never print, never format text and never read flags: the
//! [`Printer`] writes, `render/` formats, `settings.rs` resolves. [`run`] is
//! the one place that wires the three together.

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
use crate::exit::{ExitStatus, Failure};
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
    let limits = settings::limits(&cli.limits);
    let progress = printer.progress();
    printer.finish(
        Resolved::resolve(cli.command)
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
        Resolved::Apply { update, options } => apply::run(&update, &options),
        Resolved::Diff {
            old,
            new,
            output,
            options,
        } => diff::run(&old, &new, &output, &options),
        Resolved::History { state, full } => history::run(&state, full),
        Resolved::Rollback { app, options } => rollback::run(&app, &options),
        Resolved::Recover(state) => recover::run(&state),
        Resolved::Verify { app, options } => verify::run(&app, &options),
        Resolved::Generate { what, command } => generate::run(what, command.as_deref()),
        Resolved::Status { app, options } => status::run(&app, &options),
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
    Apply(Box<ApplyReport>),
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
    Status(Box<StatusReport>),
    /// `prune`.
    Prune(PruneReport),
}

/// How a command that produced its output ends.
#[derive(Debug, Clone, Copy)]
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
}

impl End {
    /// The exit status.
    pub fn status(self) -> ExitStatus {
        match self {
            End::Success => ExitStatus::Success,
            End::Strict { .. } | End::Drifted => ExitStatus::Failure,
            End::OverThreshold { .. } => ExitStatus::ImpactOverThreshold,
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
