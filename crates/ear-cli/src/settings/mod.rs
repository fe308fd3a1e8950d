//! Every flag resolved once into typed settings: the deployment [`Settings`]
//! (reading `--deployment-xml`), [`PlanOptions`], [`ApplyOptions`] (with the
//! parsed `--expect-digest`), [`RollbackOptions`], the `--fail-on`
//! [`Threshold`], the hooks to run, the update to open and the output
//! [`Format`]. A flag given overrides the configuration file's value; an
//! unset flag takes it (the file is found and parsed by `config.rs`).
//!
//! The only file this module reads is the deployment.xml (`--deployment-xml`
//! or the configuration's); it opens neither the application nor the update
//! (a command does, through [`UpdateSource::open`], so an unreadable APP is
//! reported before a bad UPDATE, as always). It never prints.

use std::path::{Path, PathBuf};

use ear_core::{
    ApplyOptions, ClassLoaderPolicy, Digest, Effect, Limits, PlanOptions, PruneOptions,
    RollbackOptions, Settings, StatusOptions, VerifyOptions,
};

use crate::cli::{
    ApplyArgs, Command, DiffArgs, FailOn, Format, Generated, HistoryArgs, ImpactArgs, LimitArgs,
    PlanArgs, Policy, PruneArgs, RecoverArgs, ReportArgs, RollbackArgs, SettingsArgs, StateArgs,
    StatusArgs, UpdateArgs, VerifyArgs,
};
use crate::config::{self, Config, Hooks};
use crate::exit::Failure;

mod update_source;

pub use update_source::UpdateSource;

/// The output format of a command (text for `recover` and `generate`, which
/// have no `--format`).
pub fn format(command: &Command) -> Format {
    match command {
        Command::Inspect(a) => a.format,
        Command::Plan(PlanArgs { report, .. })
        | Command::Impact(ImpactArgs { report, .. })
        | Command::Apply(ApplyArgs { report, .. }) => report.format,
        Command::Diff(a) => a.format,
        Command::History(a) => a.format,
        Command::Rollback(a) => a.format,
        Command::Recover(a) => a.format,
        Command::Generate(_) => Format::Text,
        Command::Verify(a) => a.format,
        Command::Status(a) => a.format,
        Command::Prune(a) => a.format,
    }
}

/// The application a command works on and its `--state-dir`, where the
/// configuration file is looked for (`None` for `diff` and `generate`).
pub fn target(command: &Command) -> (Option<&Path>, Option<&Path>) {
    match command {
        Command::Inspect(a) => (Some(&a.app), a.state_dir.as_deref()),
        Command::Plan(PlanArgs {
            update, state_dir, ..
        })
        | Command::Impact(ImpactArgs {
            update, state_dir, ..
        }) => (Some(&update.app), state_dir.as_deref()),
        Command::Apply(a) => (Some(&a.update.app), a.state_dir.as_deref()),
        Command::History(HistoryArgs { state, .. })
        | Command::Rollback(RollbackArgs { state, .. })
        | Command::Recover(RecoverArgs { state, .. })
        | Command::Verify(VerifyArgs { state, .. })
        | Command::Status(StatusArgs { state, .. })
        | Command::Prune(PruneArgs { state, .. }) => (Some(&state.app), state.state_dir.as_deref()),
        Command::Diff(_) | Command::Generate(_) => (None, None),
    }
}

/// The subcommand's name, as typed.
pub fn name(command: &Command) -> &'static str {
    match command {
        Command::Inspect(_) => "inspect",
        Command::Plan(_) => "plan",
        Command::Impact(_) => "impact",
        Command::Apply(_) => "apply",
        Command::Diff(_) => "diff",
        Command::History(_) => "history",
        Command::Rollback(_) => "rollback",
        Command::Recover(_) => "recover",
        Command::Verify(_) => "verify",
        Command::Generate(_) => "generate",
        Command::Status(_) => "status",
        Command::Prune(_) => "prune",
    }
}

/// A command with its flags resolved.
#[derive(Debug)]
pub enum Resolved {
    /// `inspect APP`.
    Inspect {
        /// The application.
        app: PathBuf,
        /// `--state-dir`: where to look for an interrupted apply.
        state_dir: Option<PathBuf>,
        /// The bounds on inputs.
        limits: Limits,
    },
    /// `plan APP UPDATE`.
    Plan(PlanSettings),
    /// `impact APP UPDATE`.
    Impact {
        /// What to plan.
        plan: PlanSettings,
        /// `--fail-on`.
        fail_on: Option<Threshold>,
    },
    /// `apply APP UPDATE`.
    Apply {
        /// The application and the update.
        update: UpdateSource,
        /// Everything else.
        options: ApplyOptions,
        /// The hooks to run (none with `--no-hooks`).
        hooks: Box<Hooks>,
    },
    /// `diff OLD NEW -o UPDATE.zip`.
    Diff {
        /// The old version.
        old: PathBuf,
        /// The new version.
        new: PathBuf,
        /// Where the partial update goes.
        output: PathBuf,
        /// The deployment settings to plan with.
        options: PlanOptions,
    },
    /// `history APP`.
    History {
        /// The application and its state folder.
        state: State,
        /// `--full`: each record's plan too.
        full: bool,
    },
    /// `rollback APP`.
    Rollback {
        /// The application.
        app: PathBuf,
        /// `--to`, `--force`, `--dry-run`, `--state-dir`.
        options: RollbackOptions,
        /// The hooks to run (none with `--no-hooks`).
        hooks: Box<Hooks>,
    },
    /// `recover APP`.
    Recover(State),
    /// `verify APP`.
    Verify {
        /// The application.
        app: PathBuf,
        /// `--state-dir`, `--expect-digest`.
        options: VerifyOptions,
    },
    /// `generate WHAT [COMMAND]`.
    Generate {
        /// A completion script or the man page.
        what: Generated,
        /// The subcommand whose man page to print.
        command: Option<String>,
    },
    /// `status APP`.
    Status {
        /// The application.
        app: PathBuf,
        /// `--state-dir` and the limits.
        options: StatusOptions,
        /// The configuration file read, if any.
        config: Option<config::Summary>,
    },
    /// `prune APP --keep N`.
    Prune {
        /// The application.
        app: PathBuf,
        /// `--keep`, `--dry-run`, `--state-dir`.
        options: PruneOptions,
    },
}

impl Resolved {
    /// Resolves the flags of `command`, taking what they leave unset from
    /// `config`.
    ///
    /// # Errors
    /// The deployment.xml cannot be read or is not one; `--expect-digest`
    /// is not a digest.
    pub fn resolve(command: Command, config: &Config) -> Result<Resolved, Failure> {
        let deployment = &config.deployment;
        Ok(match command {
            Command::Inspect(a) => Resolved::Inspect {
                app: a.app,
                state_dir: a.state_dir,
                limits: Limits::default(),
            },
            Command::Plan(a) => Resolved::Plan(PlanSettings::new(
                a.update,
                plan_options(&a.settings, &a.report, deployment)?,
                &a.report,
                a.state_dir,
            )),
            Command::Impact(a) => Resolved::Impact {
                plan: PlanSettings::new(
                    a.update,
                    plan_options(&a.settings, &a.report, deployment)?,
                    &a.report,
                    a.state_dir,
                ),
                fail_on: a.fail_on.map(Threshold::new),
            },
            Command::Apply(a) => apply(a, config)?,
            Command::Diff(a) => diff(a, deployment)?,
            Command::History(a) => Resolved::History {
                state: State::new(a.state),
                full: a.full,
            },
            Command::Rollback(a) => rollback(a, config)?,
            Command::Recover(a) => Resolved::Recover(State::new(a.state)),
            Command::Verify(a) => verify(a)?,
            Command::Generate(a) => Resolved::Generate {
                what: a.what,
                command: a.command,
            },
            Command::Status(a) => status(a, config),
            Command::Prune(a) => prune(a),
        })
    }
}

/// The bounds the `--max-*` flags set, else the configuration's, else the
/// defaults.
pub fn limits(args: &LimitArgs, config: &config::Limits) -> Limits {
    let mut limits = Limits::default();
    if let Some(n) = args.max_ratio.or(config.max_ratio) {
        limits = limits.max_ratio(n);
    }
    if let Some(n) = args.max_inflated.or(config.max_inflated) {
        limits = limits.max_inflated(n);
    }
    if let Some(n) = args.max_entries.or(config.max_entries) {
        limits = limits.max_entries(n);
    }
    if let Some(n) = args.max_text.or(config.max_text) {
        limits = limits.max_text(n);
    }
    limits
}

impl Resolved {
    /// Every archive and text the command opens is read under `limits`.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        match &mut self {
            Resolved::Inspect { limits: l, .. } => *l = limits,
            Resolved::Plan(plan) | Resolved::Impact { plan, .. } => {
                plan.options.limits = limits;
                plan.update.limits = limits;
            }
            Resolved::Apply {
                update, options, ..
            } => {
                options.plan.limits = limits;
                update.limits = limits;
            }
            Resolved::Diff { options, .. } => options.limits = limits,
            Resolved::Rollback { options, .. } => options.plan.limits = limits,
            Resolved::Status { options, .. } => *options = options.clone().limits(limits),
            Resolved::History { .. }
            | Resolved::Recover(_)
            | Resolved::Verify { .. }
            | Resolved::Prune { .. }
            | Resolved::Generate { .. } => {}
        }
        self
    }
}

/// `--expect-digest D`, checked.
fn expect_digest(text: &str) -> Result<Digest, Failure> {
    Ok(text
        .parse::<Digest>()
        .map_err(|e| format!("--expect-digest: {e}"))?)
}

impl Resolved {
    /// Commands that read the whole application report to `progress`.
    #[must_use]
    pub fn with_progress(mut self, progress: Option<ear_core::Progress>) -> Self {
        let Some(progress) = progress else {
            return self;
        };
        match &mut self {
            Resolved::Apply { options, .. } => options.progress = Some(progress),
            Resolved::Rollback { options, .. } => options.progress = Some(progress),
            Resolved::Verify { options, .. } => options.progress = Some(progress),
            _ => {}
        }
        self
    }
}

fn verify(a: VerifyArgs) -> Result<Resolved, Failure> {
    let mut options = VerifyOptions::default();
    if let Some(dir) = a.state.state_dir {
        options = options.state_dir(dir);
    }
    if let Some(d) = a.expect_digest {
        options = options.expect_digest(expect_digest(&d)?);
    }
    Ok(Resolved::Verify {
        app: a.state.app,
        options,
    })
}

fn status(a: StatusArgs, config: &Config) -> Resolved {
    let mut options = StatusOptions::default();
    if let Some(dir) = a.state.state_dir {
        options = options.state_dir(dir);
    }
    Resolved::Status {
        app: a.state.app,
        options,
        config: config.summary(),
    }
}

fn prune(a: PruneArgs) -> Resolved {
    let mut options = PruneOptions::default().keep(a.keep).dry_run(a.dry_run);
    if let Some(dir) = a.state.state_dir {
        options = options.state_dir(dir);
    }
    Resolved::Prune {
        app: a.state.app,
        options,
    }
}

fn apply(a: ApplyArgs, config: &Config) -> Result<Resolved, Failure> {
    if a.report.no_digest && a.output.is_none() && !a.dry_run {
        return Err("--no-digest: an apply in place records the content digest before and after (history \
                    and rollback need it), so it cannot be skipped; leave out --no-digest, or write to a new \
                    file with -o"
            .into());
    }
    let plan = plan_options(&a.settings, &a.report, &config.deployment)?;
    let expect = a.expect_digest.as_deref().map(expect_digest).transpose()?;
    let mut options = ApplyOptions::default()
        .plan(plan)
        .dry_run(a.dry_run)
        .strict(a.report.strict);
    if let Some(out) = &a.output {
        options = options.output(out);
    }
    if let Some(dir) = &a.state_dir {
        options = options.state_dir(dir);
    }
    if let Some(d) = expect {
        options = options.expect_digest(d);
    }
    Ok(Resolved::Apply {
        update: UpdateSource::new(a.update),
        options,
        hooks: hooks(config, a.no_hooks),
    })
}

/// The configuration's hooks, or none (`--no-hooks`).
fn hooks(config: &Config, disabled: bool) -> Box<Hooks> {
    Box::new(if disabled {
        Hooks::default()
    } else {
        config.hooks.clone()
    })
}

fn diff(a: DiffArgs, config: &config::Deployment) -> Result<Resolved, Failure> {
    Ok(Resolved::Diff {
        options: PlanOptions::default().settings(deployment(Some(&a.settings), config)?),
        old: a.old,
        new: a.new,
        output: a.output,
    })
}

fn rollback(a: RollbackArgs, config: &Config) -> Result<Resolved, Failure> {
    let mut options = RollbackOptions::default().force(a.force);
    options.dry_run = a.dry_run;
    options.plan = options.plan.settings(deployment(None, &config.deployment)?);
    if let Some(to) = a.to {
        options = options.to(to);
    }
    if let Some(dir) = a.state.state_dir {
        options = options.state_dir(dir);
    }
    Ok(Resolved::Rollback {
        app: a.state.app,
        options,
        hooks: hooks(config, a.no_hooks),
    })
}

/// What `plan` and `impact` plan.
#[derive(Debug)]
pub struct PlanSettings {
    /// The application and the update.
    pub update: UpdateSource,
    /// The deployment settings and whether to compute the digest.
    pub options: PlanOptions,
    /// `--strict`: plan warnings are errors.
    pub strict: bool,
    /// `--state-dir`: where to look for an interrupted apply.
    pub state_dir: Option<PathBuf>,
}

impl PlanSettings {
    fn new(
        update: UpdateArgs,
        options: PlanOptions,
        report: &ReportArgs,
        state_dir: Option<PathBuf>,
    ) -> PlanSettings {
        PlanSettings {
            options,
            update: UpdateSource::new(update),
            strict: report.strict,
            state_dir,
        }
    }
}

/// The deployment settings and `--no-digest`.
fn plan_options(
    settings: &SettingsArgs,
    report: &ReportArgs,
    config: &config::Deployment,
) -> ear_core::Result<PlanOptions> {
    Ok(PlanOptions::default()
        .settings(deployment(Some(settings), config)?)
        .digest(!report.no_digest))
}

/// The deployment settings: `--classloader-policy` or `--deployment-xml`,
/// else the configuration's `classloader-policy` or `deployment-xml`; and
/// `--no-dynamic-security`/`--dynamic-security`, else the configuration's
/// `dynamic-security`. `args` is `None` for a command without the flags
/// (rollback).
fn deployment(
    args: Option<&SettingsArgs>,
    config: &config::Deployment,
) -> ear_core::Result<Settings> {
    let policy = |p: Policy| match p {
        Policy::Multiple => ClassLoaderPolicy::Multiple,
        Policy::Single => ClassLoaderPolicy::Single,
    };
    let flags = (
        args.and_then(|a| a.deployment_xml.as_deref()),
        args.and_then(|a| a.classloader_policy),
    );
    let classloader = match flags {
        (Some(path), _) => Settings::policy_from_deployment_xml_file(path)?,
        (None, Some(p)) => policy(p),
        (None, None) => match (&config.deployment_xml, config.classloader_policy) {
            (Some(path), _) => Settings::policy_from_deployment_xml_file(path)?,
            (None, p) => policy(p.unwrap_or(Policy::Multiple)),
        },
    };
    let dynamic_security = match args {
        Some(a) if a.no_dynamic_security => false,
        Some(a) if a.dynamic_security => true,
        _ => config.dynamic_security.unwrap_or(true),
    };
    Ok(Settings::default()
        .classloader_policy(classloader)
        .dynamic_security(dynamic_security))
}

/// An application updated in place and where its state is kept
/// (`history`, `recover`).
#[derive(Debug)]
pub struct State {
    /// The application.
    pub app: PathBuf,
    /// `--state-dir`.
    pub state_dir: Option<PathBuf>,
}

impl State {
    fn new(args: StateArgs) -> State {
        State {
            app: args.app,
            state_dir: args.state_dir,
        }
    }
}

/// `--fail-on`: the effect from which `impact` exits 3.
#[derive(Debug, Clone, Copy)]
pub struct Threshold {
    /// The weakest effect that trips it.
    pub effect: Effect,
    /// Its name on the command line.
    pub name: &'static str,
}

impl Threshold {
    fn new(level: FailOn) -> Threshold {
        match level {
            FailOn::Module => Threshold {
                effect: Effect::StartModule,
                name: "module",
            },
            FailOn::Application => Threshold {
                effect: Effect::RestartApplication,
                name: "application",
            },
        }
    }

    /// Whether `effect` reaches the threshold.
    pub fn reached_by(self, effect: Effect) -> bool {
        effect >= self.effect
    }
}
