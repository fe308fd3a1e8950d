//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// See what an update of a Java EE application changes and restarts, before
/// touching anything.
///
/// APP is an `.ear` file or an expanded application directory (an
/// application server's installed-applications folder).
///
/// Exit codes: 0 success; 1 failure (bad input, refused plan, I/O);
/// 2 usage error; 3 the impact exceeds --fail-on.
#[derive(Debug, Parser)]
#[command(name = "earpatch", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the module tree, descriptor, library directory, digest and warnings.
    Inspect(InspectArgs),
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}
