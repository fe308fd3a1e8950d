//! The one [`Printer`]: every byte `earpatch` writes to stdout or stderr goes
//! through it. It owns the output format, the colour decision (colour only
//! when stdout is a terminal and `NO_COLOR` is unset or empty), the
//! `error: <cause chain>` line and the exit status that follows what it
//! printed.
//!
//! It formats nothing itself (`render/` does) and runs nothing (`commands/`
//! does).

use std::io::{IsTerminal as _, Write as _};

use crate::cli::{ColorChoice, Format, OutputArgs};
use crate::commands::{Done, End, Output};
use crate::exit::{ExitStatus, Failure};
use crate::render::report::{self, Detail};
use crate::render::{self, Style};

/// What the spinner says of a progress report: `reading the application:
/// 120 files, 4.00 MiB`, `writing the application: 12.00 MiB / 95.00 MiB`,
/// `putting files in place: 1024 / 40000`.
fn progress_message(event: &ear_core::Event) -> String {
    use ear_core::Phase;
    use indicatif::HumanBytes;
    let bytes_of = |done: u64| match event.total {
        // The total is an estimate: past it, only the count is shown.
        Some(total) if total >= done => format!("{} / {}", HumanBytes(done), HumanBytes(total)),
        _ => HumanBytes(done).to_string(),
    };
    match event.phase {
        Phase::SavingUndo => format!("saving the undo bundle: {}", bytes_of(event.written)),
        Phase::Writing => format!("writing the application: {}", bytes_of(event.written)),
        Phase::Committing => match event.total {
            Some(total) => format!("putting files in place: {} / {total}", event.entries),
            None => format!("putting files in place: {}", event.entries),
        },
        _ => format!(
            "reading the application: {} files, {}",
            event.files,
            HumanBytes(event.bytes)
        ),
    }
}

/// Writes what a command produced, in one format.
#[derive(Debug)]
pub struct Printer {
    format: Format,
    style: Style,
    quiet: bool,
    verbose: bool,
    /// A spinner on stderr while content is read and written (only on a terminal).
    bar: Option<indicatif::ProgressBar>,
    /// The subcommand, named in `earpatch.error/v1`.
    command: &'static str,
}

impl Printer {
    /// A printer for `format`, with colour if stdout is a terminal and
    /// `NO_COLOR` is unset or empty.
    pub fn new(format: Format, command: &'static str, output: &OutputArgs) -> Printer {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let colour = match output.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if set("NO_COLOR") => false,
            ColorChoice::Auto if set("CLICOLOR_FORCE") => {
                std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| v != "0")
            }
            ColorChoice::Auto => std::io::stdout().is_terminal(),
        };
        let bar = (!output.quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar
        });
        Printer {
            format,
            style: Style::new(colour),
            quiet: output.quiet,
            verbose: output.verbose,
            bar,
            command,
        }
    }

    /// A progress handle that draws on stderr when it is a terminal (and
    /// not `--quiet`); `None` otherwise, so nothing is drawn into a pipe.
    pub fn progress(&self) -> Option<ear_core::Progress> {
        let bar = self.bar.clone()?;
        Some(ear_core::Progress::new(move |event| {
            bar.set_message(progress_message(&event));
            bar.tick();
            ear_core::Flow::Continue
        }))
    }

    /// `line` on stderr with `--verbose`.
    pub fn verbose(&self, line: &str) {
        if self.verbose {
            self.stderr(line);
        }
    }

    /// Prints clap's own message (a usage error on stderr, or `--help` and
    /// `--version` on stdout) as clap would, and says how to exit.
    pub fn usage(err: &clap::Error) -> ExitStatus {
        // As clap's `Error::exit`: a closed stream is not an error here.
        let _ = err.print();
        ExitStatus::of_clap(err)
    }

    /// Prints the output of a command, then how it ended (an `error:` line
    /// or the `--fail-on` note on stderr), or the error it failed with.
    pub fn finish(&self, result: Result<Done, Failure>) -> ExitStatus {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let done = match result {
            Ok(done) => done,
            Err(err) => return self.error(err.as_ref()),
        };
        if self.verbose {
            for line in read_summary(&done.output) {
                self.stderr(&line);
            }
        }
        let written = if self.quiet {
            Ok(())
        } else {
            self.output(&done.output)
        };
        match written {
            Ok(()) => {}
            // A closed stdout (`earpatch plan ... | head -1`): the reader has
            // what it wanted; end quietly, as ripgrep does.
            Err(Unwritten::Closed) => return ExitStatus::Success,
            Err(Unwritten::Json(err)) => return self.error(&err),
            Err(Unwritten::Io(err)) => return self.error(&err),
        }
        match &done.end {
            End::Success | End::Drifted => {}
            End::PostHookFailed { message } => self.stderr(&format!("error: {message}")),
            End::Strict { warnings } => {
                self.stderr(&format!("error: {}", report::strict_error(*warnings)))
            }
            End::OverThreshold { effect, threshold } => {
                self.stderr(&report::fail_on_note(*effect, threshold.name));
            }
        }
        done.end.status()
    }

    /// Renders `output` and writes it to stdout; rollback reports one by one.
    fn output(&self, output: &Output) -> Result<(), Unwritten> {
        let (format, style) = (self.format, self.style);
        let text = match output {
            Output::Inspect { app, inventory } => render::inspect::render(app, inventory, format)?,
            Output::Plan(plan) => report::plan(plan, format, Detail::Changes, style)?,
            Output::Impact(plan) => report::plan(plan, format, Detail::Reasons, style)?,
            Output::Apply { report: r, hooks } => report::apply(r, hooks, format, style)?,
            Output::Diff(r) => report::diff(r, format, style)?,
            Output::History { app, records, full } => {
                render::history::records(app, records, *full, format)?
            }
            Output::Rollback {
                app,
                reports,
                hooks,
            } if format == Format::Json => report::rollback_document(app, reports, hooks)?,
            Output::Rollback { reports, hooks, .. } => {
                for (i, r) in reports.iter().enumerate() {
                    if i > 0 {
                        self.stdout("\n")?;
                    }
                    self.stdout(&report::apply(r, &[], format, style)?)?;
                }
                return self.stdout(&render::hooks::summary(hooks, format));
            }
            Output::Recover { app, outcome } => render::history::recovery(app, *outcome, format)?,
            Output::Verify(report) => render::verify::render(report, format)?,
            Output::Generated(text) => return self.stdout(text),
            Output::Status { report, config } => {
                render::status::render(report, config.as_ref(), format)?
            }
            Output::Prune(report) => render::prune::render(report, format)?,
        };
        self.stdout(&text)
    }

    /// `error: <cause chain>` on stderr; exit 1. With `--format json`,
    /// stdout gets the error as one `earpatch.error/v1` document too, so a
    /// machine reader always finds one document there.
    fn error(&self, err: &dyn std::error::Error) -> ExitStatus {
        let status = ExitStatus::Failure;
        if self.format == Format::Json {
            let doc = render::error_document(self.command, err, status as i32);
            let _ = self.stdout(&doc);
        }
        self.stderr(&format!("error: {}", render::error_chain(err)));
        status
    }

    /// `text` as is on stdout.
    fn stdout(&self, text: &str) -> Result<(), Unwritten> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::BrokenPipe => Unwritten::Closed,
                _ => Unwritten::Io(e),
            })
    }

    /// `line` and a line feed on stderr (a closed stderr is not an error:
    /// there is nowhere left to say so).
    fn stderr(&self, line: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// Why the output could not be written.
#[derive(Debug)]
enum Unwritten {
    /// The reader closed stdout.
    Closed,
    /// Rendering JSON failed.
    Json(serde_json::Error),
    /// Writing failed otherwise (disk full behind a redirection, ...).
    Io(std::io::Error),
}

impl From<serde_json::Error> for Unwritten {
    fn from(err: serde_json::Error) -> Self {
        Unwritten::Json(err)
    }
}

/// What reading the application cost, for `--verbose` (on stderr).
fn read_summary(output: &crate::commands::Output) -> Vec<String> {
    let line = |what: &str, s: &ear_core::ScanStats| {
        format!(
            "earpatch: {what}: read and hashed {} files ({} bytes); {} files vouched for by the content index",
            s.files_hashed, s.bytes_hashed, s.files_indexed
        )
    };
    match output {
        Output::Apply { report: r, .. } => r.scanned.iter().map(|s| line("apply", s)).collect(),
        Output::Rollback { reports, .. } => reports
            .iter()
            .filter_map(|r| r.scanned.as_ref())
            .map(|s| line("rollback step", s))
            .collect(),
        Output::Verify(r) => vec![format!(
            "earpatch: verify: read and hashed {} files ({} bytes), ignoring the content index",
            r.files, r.bytes
        )],
        _ => Vec::new(),
    }
}
