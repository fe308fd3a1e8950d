//! `gen-entries`: writes a partial-update zip with many entries into one
//! module, for measuring how planning grows with the number of entries.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

const USAGE: &str = "\
usage: gen-entries --entries N [--module URI] [--replace K] OUT.zip

Writes OUT.zip, a partial update of N file entries inside module URI
(default w1.war, a module of the medium and full presets of gen-large):
K of them (default 0) at paths the generated application already has
(the first K classes gen-large writes in a web module, with new bytes;
the medium preset's w1.war has 1,795), the others new classes, 64 to a package. Entries are stored, with
fixed timestamps: the output is byte-identical on every run.";

/// gen-large's class packages and roles of web modules (`web_class_path`
/// in `large/layout.rs`): the paths `--replace` hits.
const PACKAGES: [&str; 5] = ["web", "service", "model", "util", "dao"];
const ROLES: [&str; 8] = [
    "Controller",
    "Service",
    "Entity",
    "Helper",
    "Repository",
    "Filter",
    "Listener",
    "Dto",
];
/// Classes per package directory, as gen-large writes them.
const CLASSES_PER_PACKAGE: u64 = 40;

struct Args {
    entries: u64,
    replace: u64,
    module: String,
    out: PathBuf,
}

fn number(name: &str, value: Option<String>) -> Result<u64, String> {
    let value = value.ok_or_else(|| format!("{name} needs a value"))?;
    value
        .replace(['_', ','], "")
        .parse()
        .map_err(|_| format!("{name} {value:?} is not a number"))
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let (mut entries, mut replace, mut module, mut out) = (None, 0, "w1.war".to_owned(), None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--entries" => entries = Some(number("--entries", args.next())?),
            "--replace" => replace = number("--replace", args.next())?,
            "--module" => module = args.next().ok_or("--module needs a value")?,
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
            _ if out.is_some() => return Err(format!("unexpected argument {arg}")),
            _ => out = Some(PathBuf::from(arg)),
        }
    }
    let entries = entries.ok_or("missing --entries N")?;
    if replace > entries {
        return Err(format!(
            "--replace {replace} is more than --entries {entries}"
        ));
    }
    let out = out.ok_or("missing OUT.zip")?;
    Ok(Some(Args {
        entries,
        replace,
        module,
        out,
    }))
}

/// The path (inside the module) of the `i`th entry.
fn entry_path(module: &str, i: u64, replace: u64) -> String {
    let package = module.split('.').next().unwrap_or(module);
    if i < replace {
        let p = i / CLASSES_PER_PACKAGE;
        let at = |names: &[&'static str], n: u64| {
            names[usize::try_from(n % names.len() as u64).unwrap_or(0)]
        };
        format!(
            "WEB-INF/classes/com/acme/{package}/{}{p}/{}{i}.class",
            at(&PACKAGES, p),
            at(&ROLES, i)
        )
    } else {
        format!(
            "WEB-INF/classes/com/acme/{package}/generated/p{:05}/Generated{i:07}.class",
            i / 64
        )
    }
}

fn run(args: &Args) -> std::io::Result<()> {
    let file = File::create(&args.out)?;
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut bytes = Vec::with_capacity(64);
    for i in 0..args.entries {
        let path = entry_path(&args.module, i, args.replace);
        zip.start_file(format!("{}/{path}", args.module), options)
            .map_err(std::io::Error::other)?;
        bytes.clear();
        bytes.extend_from_slice(&[0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52]);
        bytes.extend_from_slice(format!("{path} #{i}").as_bytes());
        zip.write_all(&bytes)?;
    }
    zip.finish().map_err(std::io::Error::other)?.flush()?;
    Ok(())
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
    match run(&args) {
        Ok(()) => {
            println!(
                "{}: {} entries into {}",
                args.out.display(),
                args.entries,
                args.module
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {}: {err}", args.out.display());
            ExitCode::FAILURE
        }
    }
}
