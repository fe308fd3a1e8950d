//! Command-line arguments: the clap types, their flags, help texts and
//! defaults.
//!
//! Declarations only: no logic, no I/O, no conversion to `ear-core` types
//! (`settings/` resolves these into typed settings, once).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Plan, apply and roll back updates of Java EE enterprise applications: see
/// what an update changes and what must restart before touching anything, then
/// apply it atomically, with history and rollback.
///
/// APP is an `.ear` file or an expanded application directory (an
/// application server's installed-applications folder). UPDATE is a partial
/// update (.zip), a new application (.ear or directory), a module archive
/// (.war/.jar/.rar/.sar) or, with --file, any file.
///
/// Settings, limits and hooks can be kept in a TOML file: config.toml in
/// the application's state folder (APP.earpatch/), or --config FILE; flags
/// override it (see the README's "Configuration file").
///
/// Exit codes: 0 success; 1 failure (bad input, refused plan, a failed
/// pre-hook, I/O; for verify, also: the application drifted); 2 usage
/// error; 3 the impact exceeds --fail-on; 4 applied or rolled back, but
/// the post-apply or post-rollback hook failed.
#[derive(Debug, Parser)]
#[command(name = "earpatch", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Bounds on what an input may make earpatch do.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Output: colour, quiet, verbose.
    #[command(flatten)]
    pub output: OutputArgs,
    /// The configuration file: deployment settings, limits and hooks
    /// (default: config.toml in the application's state folder, when it
    /// exists). Flags override it.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "EARPATCH_CONFIG",
        hide_env_values = true,
        help_heading = "Configuration"
    )]
    pub config: Option<PathBuf>,
}

/// Bounds on inputs: every archive is checked from its central directory
/// before anything is inflated. The defaults fit real applications; raise
/// one only for an input you trust. Unset flags take the configuration
/// file's `[limits]`, then the defaults.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Refuse an archive entry whose declared inflated size is more than N
    /// times its compressed size (entries of 1 MiB or less are exempt)
    /// [default: 1000].
    #[arg(long, global = true, value_name = "N")]
    pub max_ratio: Option<u64>,
    /// Refuse an archive whose entries declare more than BYTES in all
    /// [default: 68719476736 = 64 GiB].
    #[arg(long, global = true, value_name = "BYTES")]
    pub max_inflated: Option<u64>,
    /// Refuse an archive of more than N entries [default: 1000000].
    #[arg(long, global = true, value_name = "N")]
    pub max_entries: Option<u64>,
    /// Refuse a descriptor, delete list or deployment.xml larger than BYTES
    /// [default: 16777216 = 16 MiB].
    #[arg(long, global = true, value_name = "BYTES")]
    pub max_text: Option<u64>,
}

/// How much to print, and in colour or not.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Colour the text report: auto (when stdout is a terminal and NO_COLOR
    /// is unset or empty, or when CLICOLOR_FORCE is set and not 0), always,
    /// never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print nothing on stdout: the exit status (and errors on stderr) say
    /// how it went.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also say on stderr what was read (files hashed, and how many the
    /// content index vouched for).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// When to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR; or when CLICOLOR_FORCE asks.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the module tree, descriptor, library directory, digest and warnings.
    #[command(after_help = INSPECT_EXAMPLES)]
    Inspect(InspectArgs),
    /// Show every change an update makes and what must restart; writes nothing.
    #[command(after_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
    /// Show what must restart; with --fail-on, exit 3 when that is too much.
    #[command(after_help = IMPACT_EXAMPLES)]
    Impact(ImpactArgs),
    /// Apply an update atomically: in place with history and an undo bundle,
    /// or to a new file with -o.
    #[command(after_help = APPLY_EXAMPLES)]
    Apply(ApplyArgs),
    /// List the updates applied in place, newest last.
    #[command(after_help = HISTORY_EXAMPLES)]
    History(HistoryArgs),
    /// Undo the newest applied update (or, with --to, every update after one).
    #[command(after_help = ROLLBACK_EXAMPLES)]
    Rollback(RollbackArgs),
    /// Write the minimal partial update that turns OLD into NEW, and show what
    /// applying it to OLD changes and restarts (also: what changed on a node
    /// outside earpatch).
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// Roll back an apply that was interrupted (a crash, kill -9, power loss).
    /// apply and rollback do this first by themselves; reading commands
    /// refuse until it is done.
    #[command(after_help = RECOVER_EXAMPLES)]
    Recover(RecoverArgs),
    /// Re-read every file and compare with what the last update or rollback
    /// left: exit 0 when the application is as expected, 1 when it drifted
    /// (hot-deployed or hand-edited files are listed).
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),
    /// Print a shell completion script or a man page on stdout.
    #[command(after_help = GENERATE_EXAMPLES)]
    Generate(GenerateArgs),
    /// Show the application, its digest, the updates in force, an interrupted
    /// operation, files changed since the last operation (a cheap check; verify
    /// for certainty) and the state folder's size; writes nothing.
    #[command(after_help = STATUS_EXAMPLES)]
    Status(StatusArgs),
    /// Remove history records and undo bundles beyond the newest N; updates in
    /// force keep their record but can no longer be rolled back once pruned.
    #[command(after_help = PRUNE_EXAMPLES)]
    Prune(PruneArgs),
}

const STATUS_EXAMPLES: &str = "\
Examples:
  earpatch status /opt/was/installedApps/cell01/shop.ear
  earpatch status app-dir/ --state-dir /var/lib/earpatch/shop --format json

The change check compares the stamps (sizes, times, inodes; for an .ear its
central directory) the content index holds with the files' current ones; it
reads no file. \"maybe drifted\" means files were touched: run earpatch verify.";

const PRUNE_EXAMPLES: &str = "\
Examples:
  earpatch prune shop.ear --keep 5 --dry-run   (see what would go)
  earpatch prune shop.ear --keep 5
  earpatch prune app-dir/ --keep 0 --format json

Of the records older than the newest N, rolled-back updates, failed applies and
rollbacks are removed whole; an update still in force keeps its record (marked
pruned, listed by history and status) and loses its undo bundle: it can no longer
be rolled back, and the output names it.";

/// `earpatch status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `earpatch prune`.
#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// Keep the newest N records whole (with their undo bundles).
    #[arg(long, value_name = "N")]
    pub keep: usize,
    /// Say what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

const INSPECT_EXAMPLES: &str = "\
Examples:
  earpatch inspect shop.ear
  earpatch inspect /opt/was/installedApps/cell01/shop.ear --format json
  earpatch inspect shop.ear --format json | jq -r .application.digest   (the digest to pin with --expect-digest)";

const PLAN_EXAMPLES: &str = "\
Examples:
  earpatch plan shop.ear shop-fix.zip
  earpatch plan shop.ear catalog-1.2.war --module catalog.war --format markdown   (a pull-request comment)
  earpatch plan app-dir/ shop-2.ear --full --deployment-xml deployment.xml --format json";

const IMPACT_EXAMPLES: &str = "\
Examples:
  earpatch impact shop.ear shop-fix.zip
  earpatch impact shop.ear shop-fix.zip --fail-on application   (exit 3: needs a restart window)
  earpatch impact shop.ear index.jsp --file storefront.war/index.jsp --classloader-policy single";

const APPLY_EXAMPLES: &str = "\
Examples:
  earpatch apply /opt/was/installedApps/cell01/shop.ear shop-fix.zip
  earpatch apply shop.ear shop-fix.zip -o shop-2.ear   (a new file; shop.ear untouched)
  earpatch apply shop.ear shop-fix.zip --expect-digest sha256:867d626a... --dry-run

In place, the state (history, undo bundles, log, lock) is kept in APP.earpatch
beside APP unless --state-dir says otherwise; `earpatch rollback APP` undoes it.
The hooks of APP.earpatch/config.toml (or --config) run around an in-place apply
that changes something: pre-apply reads the plan on stdin and can stop it
before anything is written; post-apply reads the report (exit 4 if it fails).";

const HISTORY_EXAMPLES: &str = "\
Examples:
  earpatch history shop.ear
  earpatch history app-dir/ --state-dir /var/lib/earpatch/shop
  earpatch history shop.ear --format json";

const ROLLBACK_EXAMPLES: &str = "\
Examples:
  earpatch rollback shop.ear
  earpatch rollback shop.ear --dry-run   (what the rollback changes and restarts)
  earpatch rollback shop.ear --to 20261121_193005_shop-fix   (IDs as history lists them)

The pre-rollback and post-rollback hooks of APP.earpatch/config.toml (or
--config) run around it, as apply's hooks do.";

const DIFF_EXAMPLES: &str = "\
Examples:
  earpatch diff shop-1.ear shop-2.ear -o shop-1-to-2.zip
  earpatch diff master/shop.ear /opt/was/installedApps/cell01/shop.ear -o drift.zip   (what changed on a node)
  earpatch diff shop-1.ear shop-2.ear -o fix.zip --format json";

const RECOVER_EXAMPLES: &str = "\
Examples:
  earpatch recover shop.ear
  earpatch recover app-dir/ --state-dir /var/lib/earpatch/shop";

const GENERATE_EXAMPLES: &str = "\
Examples:
  earpatch generate complete-bash > /etc/bash_completion.d/earpatch
  earpatch generate complete-zsh > ~/.zfunc/_earpatch
  earpatch generate man | gzip > /usr/local/share/man/man1/earpatch.1.gz
  earpatch generate man apply > /usr/local/share/man/man1/earpatch-apply.1   (one per subcommand)";

const VERIFY_EXAMPLES: &str = "\
Examples:
  earpatch verify /opt/was/installedApps/cell01/shop.ear
  earpatch verify shop.ear --expect-digest sha256:867d626a...   (compare with the master copy)
  earpatch verify app-dir/ --state-dir /var/lib/earpatch/shop --format json

The baseline is, in order: --expect-digest; the digest after the last update or
rollback in the history; the digest an earlier verify recorded. Without any,
verify records the current content as the baseline and exits 0. verify never
changes the application; it refreshes the content index in the state folder
(APP.earpatch/index) that makes later applies read only what changed.";

/// `earpatch generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// What to print.
    #[arg(value_enum)]
    pub what: Generated,
    /// With man: the page of this subcommand (earpatch-COMMAND(1)) instead of
    /// earpatch(1).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// What `earpatch generate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generated {
    /// A bash completion script.
    CompleteBash,
    /// A zsh completion script (a `_earpatch` function).
    CompleteZsh,
    /// A fish completion script.
    CompleteFish,
    /// A man page, in roff.
    Man,
}

/// `earpatch verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// Compare with digest D (e.g. the master copy's, as printed by inspect)
    /// instead of the one the history recorded.
    #[arg(long, value_name = "D")]
    pub expect_digest: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `earpatch apply`.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub update: UpdateArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Write the updated application to OUT and leave APP untouched (no
    /// history is kept). OUT is always written, even when nothing changes.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Plan and stop: print what would change and restart, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse unless the application's content digest is D (as printed by
    /// inspect or plan), so one update can be rolled out to many nodes safely.
    #[arg(long, value_name = "D")]
    pub expect_digest: Option<String>,
    /// Where history, undo bundles, logs and the lock are kept (default:
    /// APP.earpatch beside APP).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Do not run the configuration file's pre-apply and post-apply hooks.
    #[arg(long)]
    pub no_hooks: bool,
}

/// `earpatch diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The old version: an `.ear` or an expanded directory.
    pub old: PathBuf,
    /// The new version: an `.ear` or an expanded directory.
    pub new: PathBuf,
    /// Where to write the partial update (a .zip).
    #[arg(short = 'o', long = "output", value_name = "UPDATE.zip")]
    pub output: PathBuf,
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// An application updated in place, and where its state is kept.
#[derive(Debug, clap::Args)]
pub struct StateArgs {
    /// The application: an `.ear` file or an expanded directory.
    pub app: PathBuf,
    /// Where the state is kept (default: APP.earpatch beside APP).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

/// `earpatch history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// With --format json: each record's whole plan too (large for full
    /// updates: one change per file).
    #[arg(long)]
    pub full: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `earpatch rollback`.
#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// Roll back every update applied after ID (newest first), leaving ID applied.
    #[arg(long, value_name = "ID")]
    pub to: Option<String>,
    /// Roll back even if the application changed outside earpatch since the
    /// update (its digest differs from the recorded one).
    #[arg(long)]
    pub force: bool,
    /// Print what the rollback would change and restart; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not run the configuration file's pre-rollback and post-rollback
    /// hooks.
    #[arg(long)]
    pub no_hooks: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `earpatch recover`.
#[derive(Debug, clap::Args)]
pub struct RecoverArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people (the default).
    Text,
    /// One JSON object (schemas in the README).
    Json,
    /// Markdown, for a pull-request comment.
    Markdown,
}

/// `earpatch inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The application: an `.ear` file or an expanded directory.
    pub app: PathBuf,
    /// Where the application's state is kept (default: APP.earpatch beside
    /// APP); read only, to refuse an application whose apply was interrupted.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// The application, the update and how to read it.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The application: an `.ear` file or an expanded directory.
    pub app: PathBuf,
    /// The update. Without --full/--module/--file its kind comes from its name:
    /// .zip partial, .ear or directory full, .war/.jar/.rar/.sar the module with
    /// that file name.
    pub update: PathBuf,
    /// UPDATE is a whole new application (an .ear or expanded directory).
    #[arg(long, group = "kind")]
    pub full: bool,
    /// UPDATE is a module archive for the module at URI (replaced, or added
    /// when no module has that URI).
    #[arg(long, value_name = "URI", group = "kind")]
    pub module: Option<String>,
    /// Context root of a web module that --module adds (default: / + file name
    /// without extension).
    #[arg(long, value_name = "ROOT")]
    pub context_root: Option<String>,
    /// UPDATE is one file for the full path PATH (e.g. shop.war/index.jsp).
    #[arg(long, value_name = "PATH", group = "kind")]
    pub file: Option<String>,
}

/// Class loader policy (rule E1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// One class loader per web module (default).
    Multiple,
    /// One class loader for all modules: module restarts become application restarts.
    Single,
}

/// Deployment settings that are not part of the EAR. Unset, they come from
/// the configuration file's `[deployment]`, then the defaults.
#[derive(Debug, clap::Args)]
pub struct SettingsArgs {
    /// The application's class loader policy (E1: single turns every module
    /// start or restart into an application restart) [default: multiple].
    #[arg(long, value_enum, value_name = "POLICY")]
    pub classloader_policy: Option<Policy>,
    /// Read the class loader policy from a WebSphere deployment.xml
    /// (its warClassLoaderPolicy attribute).
    #[arg(long, value_name = "PATH", conflicts_with = "classloader_policy")]
    pub deployment_xml: Option<PathBuf>,
    /// The security provider cannot update dynamically (E2: module starts and
    /// restarts become application restarts).
    #[arg(long, overrides_with = "dynamic_security")]
    pub no_dynamic_security: bool,
    /// The security provider updates dynamically (the default; overrides a
    /// configuration file's `dynamic-security = false`).
    #[arg(long, overrides_with = "no_dynamic_security")]
    pub dynamic_security: bool,
}

/// How to report.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Treat plan warnings (delete patterns that match nothing, ...) as errors.
    #[arg(long)]
    pub strict: bool,
    /// Do not compute the application's content digest (it reads every file;
    /// the JSON then has "digest": null).
    #[arg(long)]
    pub no_digest: bool,
}

/// `earpatch plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub update: UpdateArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Where the application's state is kept (default: APP.earpatch beside
    /// APP); read only, to refuse an application whose apply was interrupted.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

/// How much restart is too much for `impact --fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any module start or restart, or an application restart.
    Module,
    /// Only an application restart.
    Application,
}

/// `earpatch impact`.
#[derive(Debug, clap::Args)]
pub struct ImpactArgs {
    #[command(flatten)]
    pub update: UpdateArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Where the application's state is kept (default: APP.earpatch beside
    /// APP); read only, to refuse an application whose apply was interrupted.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Exit 3 (after printing the report) when the impact reaches this level.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
}
