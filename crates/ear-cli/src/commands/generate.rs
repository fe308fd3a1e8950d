//! `earpatch generate`: a shell completion script (clap_complete) or a man
//! page (clap_mangen), both generated from the clap definitions in `cli.rs`
//! so they never drift from the real flags.

use clap::CommandFactory as _;
use clap_complete::Shell;
use clap_mangen::roff::{Roff, roman};

use super::{Done, Output};
use crate::cli::{Cli, Generated};
use crate::exit::Failure;

/// Generates `what`; for the man page, the page of subcommand `command` when
/// given (`earpatch-COMMAND(1)`), else `earpatch(1)`.
pub fn run(what: Generated, command: Option<&str>) -> Result<Done, Failure> {
    let mut cli = Cli::command();
    let mut out = Vec::new();
    match what {
        Generated::CompleteBash => shell(Shell::Bash, &mut cli, &mut out),
        Generated::CompleteZsh => shell(Shell::Zsh, &mut cli, &mut out),
        Generated::CompleteFish => shell(Shell::Fish, &mut cli, &mut out),
        Generated::Man => man(cli, command, &mut out)?,
    }
    let text = String::from_utf8(out)?;
    Done::success(Output::Generated(text))
}

/// The completion script for `shell`.
fn shell(shell: Shell, cli: &mut clap::Command, out: &mut Vec<u8>) {
    let name = cli.get_name().to_owned();
    clap_complete::generate(shell, cli, name, out);
}

/// The man page of `earpatch` or of one of its subcommands.
fn man(mut cli: clap::Command, command: Option<&str>, out: &mut Vec<u8>) -> Result<(), Failure> {
    // Built first, so a subcommand carries its display name
    // (`earpatch-apply`) and the global --max-* flags.
    cli.build();
    let page = match command {
        None => cli,
        Some(name) => match cli.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => {
                let known: Vec<&str> = cli
                    .get_subcommands()
                    .map(clap::Command::get_name)
                    .filter(|n| *n != "help")
                    .collect();
                return Err(format!(
                    "no subcommand `{name}` to generate a man page for; one of: {}",
                    known.join(", ")
                )
                .into());
            }
        },
    };
    render_man(page, out)?;
    Ok(())
}

/// clap_mangen's page, but with the `after_help` text (the examples) in an
/// EXAMPLES section printed as written: clap_mangen's EXTRA section fills it
/// into one paragraph, which runs the example command lines together.
fn render_man(page: clap::Command, out: &mut Vec<u8>) -> std::io::Result<()> {
    let examples = page.get_after_help().map(|h| h.to_string());
    let has_args = page.get_arguments().any(|a| !a.is_hide_set());
    let has_subcommands = page.get_subcommands().any(|c| !c.is_hide_set());
    let has_version = page.get_version().is_some();
    // The footer names earpatch and its version on every page (clap_mangen
    // would put "verify " on a subcommand's).
    let man = clap_mangen::Man::new(page).source(concat!("earpatch ", env!("CARGO_PKG_VERSION")));
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    if has_args {
        man.render_options_section(out)?;
    }
    if has_subcommands {
        man.render_subcommands_section(out)?;
    }
    if let Some(text) = examples {
        let mut roff = Roff::default();
        roff.control("SH", ["EXAMPLES"]);
        roff.control("nf", []);
        for line in text.lines().skip_while(|l| l.trim() == "Examples:") {
            roff.text([roman(line)]);
        }
        roff.control("fi", []);
        roff.to_writer(out)?;
    }
    if has_version {
        man.render_version_section(out)?;
    }
    Ok(())
}
