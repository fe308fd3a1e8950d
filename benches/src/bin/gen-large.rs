//! `gen-large`: writes a large synthetic application for benchmarks.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use ear_bench::large::{LargeSpec, write_ear, write_expanded, write_update};

const USAGE: &str = "\
usage: gen-large [--preset tiny|medium|full] [--expanded] OUTDIR

Writes OUTDIR/app.ear and OUTDIR/update.zip (a partial update against it),
and with --expanded OUTDIR/app-expanded/ (the same application expanded;
an existing OUTDIR/app-expanded/ is removed first). The default preset is
medium. The output is byte-identical on every run.";

/// What the command line asks for.
struct Args {
    spec: LargeSpec,
    expanded: bool,
    out_dir: PathBuf,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut spec = LargeSpec::medium();
    let mut expanded = false;
    let mut out_dir = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--expanded" => expanded = true,
            "--preset" => {
                let name = args.next().ok_or("--preset needs a value")?;
                spec = LargeSpec::preset(&name).ok_or_else(|| {
                    format!("unknown preset {name:?}: expected tiny, medium or full")
                })?;
            }
            _ if arg.starts_with("--preset=") => {
                let name = &arg["--preset=".len()..];
                spec = LargeSpec::preset(name).ok_or_else(|| {
                    format!("unknown preset {name:?}: expected tiny, medium or full")
                })?;
            }
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
            _ if out_dir.is_some() => return Err(format!("unexpected argument {arg}")),
            _ => out_dir = Some(PathBuf::from(arg)),
        }
    }
    let out_dir = out_dir.ok_or("missing OUTDIR")?;
    Ok(Some(Args {
        spec,
        expanded,
        out_dir,
    }))
}

fn megabytes(bytes: u64) -> String {
    // Display only; f64 is exact far beyond any file size here.
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / 1e6;
    format!("{mb:.1} MB")
}

fn run(args: &Args) -> std::io::Result<()> {
    std::fs::create_dir_all(&args.out_dir)?;

    let started = Instant::now();
    let ear = args.out_dir.join("app.ear");
    let summary = write_ear(&args.spec, &ear)?;
    println!(
        "{}: {} entries, {} modules, {} files, {} of content, {} archive, {:.1} s",
        ear.display(),
        summary.entries,
        summary.modules.len(),
        summary.files,
        megabytes(summary.content_bytes),
        megabytes(summary.archive_bytes),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let update = args.out_dir.join("update.zip");
    write_update(&args.spec, &update)?;
    println!(
        "{}: {}, {:.1} s",
        update.display(),
        megabytes(std::fs::metadata(&update)?.len()),
        started.elapsed().as_secs_f64()
    );

    if args.expanded {
        let started = Instant::now();
        let dir = args.out_dir.join("app-expanded");
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        write_expanded(&args.spec, &dir)?;
        println!(
            "{}: {} files, {:.1} s",
            dir.display(),
            summary.files,
            started.elapsed().as_secs_f64()
        );
    }
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
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
