//! `gen-entries`: writes a partial update of many small files into one module.

use std::path::PathBuf;
use std::process::ExitCode;

use ear_bench::entries::{MAX_ENTRIES, check_module, write_entries};

const USAGE: &str = "\
usage: gen-entries --entries N --module URI OUT.zip

Writes OUT.zip, a partial update adding N new files under the module URI
(URI/gen/dNNNN/fNNNNNNN.txt, 1,000 per directory, deflated), to time
`earpatch plan` against the number of update entries. URI should name a
module of the application (e.g. w1.war for the gen-large presets). The
output is byte-identical on every run.";

/// What the command line asks for.
struct Args {
    entries: usize,
    module: String,
    out: PathBuf,
}

fn value(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
    args.next().ok_or_else(|| format!("{flag} needs a value"))
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut entries = None;
    let mut module = None;
    let mut out = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--entries" => {
                let text = value(&mut args, "--entries")?;
                let count = text
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_ENTRIES).contains(n))
                    .ok_or_else(|| {
                        format!("--entries {text:?}: expected a number from 1 to {MAX_ENTRIES}")
                    })?;
                entries = Some(count);
            }
            "--module" => {
                let uri = value(&mut args, "--module")?;
                check_module(&uri).map_err(|err| err.to_string())?;
                module = Some(uri);
            }
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
            _ if out.is_some() => return Err(format!("unexpected argument {arg}")),
            _ => out = Some(PathBuf::from(arg)),
        }
    }
    Ok(Some(Args {
        entries: entries.ok_or("missing --entries N")?,
        module: module.ok_or("missing --module URI")?,
        out: out.ok_or("missing OUT.zip")?,
    }))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match write_entries(&args.module, args.entries, &args.out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: writing {}: {err}", args.out.display());
            ExitCode::FAILURE
        }
    }
}
