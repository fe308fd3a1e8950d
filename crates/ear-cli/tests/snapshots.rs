//! Snapshot tests: what earpatch prints, pinned with insta through the real
//! binary. Every `--help` (and `-h`), the text, Markdown and JSON of every
//! command, the `earpatch.error/v1` document of refused commands, and the
//! generated man page; every JSON document is also validated against
//! `schemas/` (by `common::run`).
//!
//! Each snapshot is a transcript: the command line as run (with its exit code
//! when not 0), stdout, and stderr when there is any. What varies from run to
//! run is replaced: the temporary directory by `[TMP]`, record ids by
//! `XXXXXXXX_XXXXkk_name` (kk numbers the distinct ids of a snapshot in order
//! of appearance; as wide as a real id's time, so columns stay aligned), times
//! by `[TIME]`, byte counts of state folders (records hold
//! paths and pids) by `[N]`, the version by `[VERSION]`. Digests stay: the
//! inputs (`testdata/`, `ear-fixtures`) are fixed, so they pin the content.
//! Help is wrapped at 100 columns whatever the terminal (`common::earpatch`
//! sets `COLUMNS`).
//!
//! To accept an intended change of output, either
//!
//! ```text
//! cargo insta test -p ear-cli --review            # cargo install cargo-insta --locked
//! INSTA_UPDATE=always cargo test -p ear-cli --test snapshots
//! ```
//!
//! then read `git diff crates/ear-cli/tests/snapshots/`: every changed line
//! must be what a user should see. Without `INSTA_UPDATE`, a difference fails
//! the test and leaves a `.snap.new` beside the snapshot (`cargo insta review`
//! or rename it by hand); `.ci/run` sets `INSTA_UPDATE=no`, so CI never writes
//! a snapshot.
//!
//! Pinned elsewhere, not repeated here: the sample's inspect text and JSON
//! (`inspect.rs`), the sample's plan text and Markdown and the worked
//! example's plan JSON (`plan.rs`), the status and prune texts
//! (`status_prune.rs`), the verify texts (`verify.rs`).

mod common;

use std::fmt::Write as _;

use common::{earpatch, root, run};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// What a snapshot hides besides temporary paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hide {
    /// Only the version (help, man pages: fixed texts, where an id is an
    /// example to keep).
    Version,
    /// Also times and record ids (see [`label_ids`]).
    Times,
    /// Also the byte counts of state folders (records hold paths and pids).
    StateSizes,
}

fn settings(hide: Hide) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_omit_expression(true);
    s.add_filter(&env!("CARGO_PKG_VERSION").replace('.', r"\."), "[VERSION]");
    if hide != Hide::Version {
        s.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]");
    }
    if hide == Hide::StateSizes {
        s.add_filter(r"\d+ bytes", "[N] bytes");
        s.add_filter(r"\(\d+(\.\d)? [KMGT]?B\)", "([SIZE])");
        s.add_filter(r#""(bytes|undo_bytes|bytes_freed)": \d+"#, r#""$1": [N]"#);
    }
    s
}

/// `text` with each record id (`YYYYMMDD_HHMMSS_name`, `-2` added when
/// another of that name was made in the same second) replaced by
/// `XXXXXXXX_XXXXkk_name`, kk counting distinct ids in order of appearance:
/// whether two ids share a second depends on the clock, which record is which
/// does not. (The `-2` it drops changes the width of text tables: snapshots of
/// tables whose ids may share a second are taken in Markdown.)
fn label_ids(text: &str) -> String {
    let b = text.as_bytes();
    let shape = |i: usize| {
        i + 16 <= b.len()
            && (0..16).all(|k| match k {
                8 | 15 => b[i + k] == b'_',
                _ => b[i + k].is_ascii_digit(),
            })
    };
    let mut seen: Vec<String> = Vec::new();
    let (mut out, mut i, mut copied) = (String::new(), 0, 0);
    while i < b.len() {
        if (i == 0 || !b[i - 1].is_ascii_alphanumeric()) && shape(i) {
            let name_len = b[i + 16..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
                .count();
            let id = text[i..i + 16 + name_len].trim_end_matches(['.', '-']);
            let k = match seen.iter().position(|s| s == id) {
                Some(k) => k + 1,
                None => {
                    seen.push(id.to_owned());
                    seen.len()
                }
            };
            let name = &id[16..];
            let base = match name.rsplit_once('-') {
                Some((base, n)) if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) => base,
                _ => name,
            };
            out.push_str(&text[copied..i]);
            out.push_str(&format!("XXXXXXXX_XXXX{k:02}_{base}"));
            i += id.len();
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// A temporary directory and the transcript of the commands run on it.
struct Session {
    dir: tempfile::TempDir,
    shots: String,
}

impl Session {
    fn new() -> std::io::Result<Self> {
        Ok(Self {
            dir: tempfile::tempdir()?,
            shots: String::new(),
        })
    }

    /// `name` in the temporary directory, as an argument.
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// A copy of the sample archive: `@shop.ear`.
    fn archive(&self) -> std::io::Result<()> {
        std::fs::copy(root().join("testdata/shop.ear"), self.path("shop.ear")).map(drop)
    }

    /// The sample expanded, its web modules as directories: `@shop`.
    fn expanded(&self) -> std::io::Result<()> {
        let bytes = std::fs::read(root().join("testdata/shop.ear"))?;
        let app = self.dir.path().join("shop");
        ear_fixtures::write_expanded(&bytes, &app, &["catalog.war", "storefront.war"])
    }

    /// Writes `text` to `@name`.
    fn file(&self, name: &str, text: &str) -> std::io::Result<()> {
        std::fs::write(self.path(name), text)
    }

    /// The arguments of `line`, split at spaces; `@name` is `name` in the
    /// temporary directory.
    fn args(&self, line: &str) -> Vec<String> {
        line.split_whitespace()
            .map(|a| match a.strip_prefix('@') {
                Some(name) => self.path(name),
                None => a.to_owned(),
            })
            .collect()
    }

    /// Runs `earpatch line` (see [`Self::args`]), checks the exit code is
    /// `code`, adds the run to the transcript, returns stdout.
    fn sh(&mut self, code: i32, line: &str) -> String {
        let args = self.args(line);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (got, out, err) = run(&args);
        assert_eq!(got, code, "earpatch {line}:\n{out}\n{err}");
        let _ = write!(self.shots, "$ earpatch {}", args.join(" "));
        if code != 0 {
            let _ = write!(self.shots, "   (exit {code})");
        }
        let _ = writeln!(self.shots, "\n{out}");
        if !err.is_empty() {
            let _ = writeln!(self.shots, "[stderr]\n{err}");
        }
        out
    }

    /// Runs `earpatch line` without adding it to the transcript (a step
    /// that only sets the scene); checks it succeeded.
    fn quietly(&self, line: &str) {
        let args = self.args(line);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "earpatch {line}:\n{out}\n{err}");
    }

    /// The transcript so far, temporary paths replaced by `[TMP]`.
    fn take(&mut self) -> String {
        let text = std::mem::take(&mut self.shots);
        let mut dirs = vec![self.dir.path().display().to_string()];
        if let Ok(real) = self.dir.path().canonicalize() {
            dirs.push(real.display().to_string());
        }
        dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
        dirs.iter()
            .fold(text, |t, d| t.replace(d.as_str(), "[TMP]"))
    }

    /// Checks the transcript so far against snapshot `name`, with `hide`
    /// (and record ids labelled, unless the text is fixed); starts a new one.
    fn snapshot_with(&mut self, name: &str, hide: Hide) {
        let mut text = self.take();
        if hide != Hide::Version {
            text = label_ids(&text);
        }
        settings(hide).bind(|| insta::assert_snapshot!(name, text));
    }

    /// [`Self::snapshot_with`] hiding times: for command outputs.
    fn snapshot(&mut self, name: &str) {
        self.snapshot_with(name, Hide::Times);
    }
}

/// The subcommands, as the top-level help lists them (without `help`).
fn subcommands() -> Vec<String> {
    let (code, out, err) = run(&["--help"]);
    assert_eq!(code, 0, "{err}");
    let list: Vec<String> = out
        .split_once("Commands:\n")
        .map(|(_, rest)| rest)
        .unwrap_or_default()
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(list.len() >= 12, "subcommands missing from --help:\n{out}");
    list
}

#[test]
fn help_of_earpatch_and_of_every_subcommand() {
    for (name, line) in [("help_top_level", "--help"), ("help_top_level_short", "-h")] {
        let mut s = Session::new().expect("temporary directory");
        s.sh(0, line);
        s.snapshot_with(name, Hide::Version);
    }
    for sub in subcommands() {
        let mut s = Session::new().expect("temporary directory");
        let out = s.sh(0, &format!("{sub} --help"));
        assert!(out.starts_with(|c: char| c.is_uppercase()), "{sub}: {out}");
        assert!(
            out.lines().all(|l| l.chars().count() <= 100),
            "{sub} --help is wider than 100 columns:\n{out}"
        );
        s.snapshot_with(&format!("help_{sub}"), Hide::Version);
    }
}

#[test]
fn help_does_not_follow_the_terminal_width() {
    let narrow = earpatch()
        .env("COLUMNS", "60")
        .args(["apply", "--help"])
        .output()
        .expect("run earpatch");
    let wide = run(&["apply", "--help"]).1;
    let narrow = String::from_utf8_lossy(&narrow.stdout);
    // COLUMNS is what clap reads when stdout is not a terminal: the
    // snapshots are taken with the one width common::earpatch sets.
    assert_ne!(narrow, wide, "COLUMNS changes the wrapping");
    assert!(wide.lines().any(|l| l.chars().count() > 60), "{wide}");
}

const SAMPLE: &str = "testdata/shop.ear testdata/shop-fix.zip";

#[test]
fn plan_and_impact() -> TestResult {
    let mut s = Session::new()?;
    s.sh(0, &format!("plan {SAMPLE} --format json"));
    s.snapshot("plan_sample_json");

    for format in ["text", "markdown", "json"] {
        s.sh(0, &format!("impact {SAMPLE} --format {format}"));
    }
    s.sh(3, &format!("impact {SAMPLE} --fail-on application"));
    s.snapshot("impact_sample");
    Ok(())
}

/// The Markdown report's Mermaid diagram in every colour: a hot change, a
/// module restart (the other modules unchanged), and under the single class
/// loader policy, where the module restart becomes an application restart.
#[test]
fn markdown_report_colours_the_modules() -> TestResult {
    let mut s = Session::new()?;
    s.file("list.jsp", "<p>the new list</p>\n")?;
    s.file("web.xml", "<web-app version=\"3.1\"/>\n")?;
    let jsp = "testdata/shop.ear @list.jsp --file catalog.war/catalog/list.jsp";
    let web_xml = "testdata/shop.ear @web.xml --file storefront.war/WEB-INF/web.xml";
    let out = s.sh(0, &format!("plan {jsp} --format markdown"));
    assert!(out.contains(":::hot"), "{out}");
    let out = s.sh(0, &format!("plan {web_xml} --format markdown"));
    assert!(out.contains(":::restartModule"), "{out}");
    assert!(out.contains(":::unchanged"), "{out}");
    let out = s.sh(
        0,
        &format!("impact {web_xml} --classloader-policy single --format markdown"),
    );
    assert!(!out.contains(":::restartModule"), "{out}");
    s.snapshot("markdown_report_mermaid");
    Ok(())
}

#[test]
fn inspect_expanded_and_markdown() -> TestResult {
    let mut s = Session::new()?;
    s.expanded()?;
    for format in ["text", "markdown", "json"] {
        s.sh(0, &format!("inspect @shop --format {format}"));
    }
    s.snapshot("inspect_expanded");
    Ok(())
}

#[test]
fn apply_in_place_history_and_rollback() -> TestResult {
    let mut s = Session::new()?;
    s.archive()?;
    s.file("notes.txt", "release notes\n")?;
    s.file("banner.txt", "maintenance tonight\n")?;
    let add_notes = "apply @shop.ear @notes.txt --file lib/notes.txt";
    let add_banner = "apply @shop.ear @banner.txt --file lib/banner.txt";

    s.sh(0, "apply @shop.ear testdata/shop-fix.zip --dry-run");
    s.sh(
        0,
        "apply @shop.ear testdata/shop-fix.zip --dry-run --format json",
    );
    s.snapshot("apply_dry_run");

    s.sh(0, "apply @shop.ear testdata/shop-fix.zip");
    s.sh(0, "apply @shop.ear testdata/shop-fix.zip");
    s.snapshot("apply_in_place_text");
    s.sh(0, &format!("{add_notes} --format json"));
    s.snapshot("apply_in_place_json");

    for format in ["text", "markdown", "json"] {
        s.sh(0, &format!("history @shop.ear --format {format}"));
    }
    s.snapshot("history");
    s.sh(0, "history @shop.ear --full --format json");
    s.snapshot("history_full_json");

    s.sh(0, "rollback @shop.ear --dry-run");
    s.sh(0, "rollback @shop.ear");
    s.snapshot("rollback_one_step_text");
    s.quietly(add_notes);
    s.sh(0, "rollback @shop.ear --format json");
    s.snapshot("rollback_one_step_json");

    // --to the first update: the two applied after it, newest first.
    let history = run(&["history", &s.path("shop.ear"), "--format", "json"]).1;
    let history: serde_json::Value = serde_json::from_str(&history)?;
    let first = history["records"][0]["id"]
        .as_str()
        .ok_or("no first record")?
        .to_owned();
    assert!(first.ends_with("_shop-fix"), "{first}");
    s.quietly(add_banner);
    s.quietly(add_notes);
    s.sh(0, &format!("rollback @shop.ear --to {first}"));
    s.snapshot("rollback_to_text");
    s.quietly(add_banner);
    s.quietly(add_notes);
    let out = s.sh(0, &format!("rollback @shop.ear --to {first} --format json"));
    let doc: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(doc["steps"].as_array().map(Vec::len), Some(2), "{out}");
    s.snapshot("rollback_to_json");

    // Markdown: the text's columns are as wide as the longest id, and two
    // rollbacks in one second get `-2` (see label_ids).
    s.sh(0, "history @shop.ear --format markdown");
    s.snapshot("history_after_rollbacks");
    Ok(())
}

#[test]
fn apply_to_a_new_file_and_diff() -> TestResult {
    let mut s = Session::new()?;
    s.sh(0, &format!("apply {SAMPLE} -o @shop-2.ear"));
    s.sh(
        0,
        &format!("apply {SAMPLE} -o @shop-2-again.ear --format json"),
    );
    s.snapshot("apply_output");

    for format in ["text", "markdown", "json"] {
        s.sh(
            0,
            &format!("diff testdata/shop.ear @shop-2.ear -o @fix.zip --format {format}"),
        );
    }
    s.sh(0, "diff @shop-2.ear @shop-2-again.ear -o @nothing.zip");
    s.snapshot("diff");
    Ok(())
}

/// Refused commands: `error:` on stderr, and with `--format json` one
/// `earpatch.error/v1` document on stdout.
#[test]
fn refused_commands_and_their_error_documents() -> TestResult {
    let mut s = Session::new()?;
    s.archive()?;
    let wrong = format!("--expect-digest sha256:{}", "0".repeat(64));
    s.sh(1, &format!("apply @shop.ear testdata/shop-fix.zip {wrong}"));
    s.sh(
        1,
        &format!("apply @shop.ear testdata/shop-fix.zip {wrong} --format json"),
    );
    s.sh(1, "rollback @shop.ear --format json");
    s.sh(1, "inspect testdata/README.md --format json");
    s.sh(
        1,
        "plan testdata/shop-fix.zip testdata/shop.ear --format json",
    );
    // A usage error is clap's: text on stderr, no document.
    s.sh(2, "plan testdata/shop.ear --format json");
    s.snapshot("errors");
    Ok(())
}

/// An apply killed after half its files were committed, what status and
/// the reading commands say then, and `recover` (text and JSON).
#[test]
fn interrupted_apply_status_and_recover() -> TestResult {
    let mut s = Session::new()?;
    s.expanded()?;
    let crash = |s: &Session| {
        let out = earpatch()
            .env("EARPATCH_FAILPOINT", "expanded-before-committed")
            .args(s.args("apply @shop testdata/shop-fix.zip"))
            .output()
            .expect("run earpatch");
        assert!(
            out.status.code().is_none(),
            "the fail point must abort the apply: {out:?}"
        );
    };

    crash(&s);
    s.sh(0, "status @shop");
    s.sh(0, "status @shop --format json");
    s.sh(1, "plan @shop testdata/shop-fix.zip");
    s.sh(1, "inspect @shop --format json");
    s.sh(0, "recover @shop");
    s.sh(0, "recover @shop");
    s.sh(0, "recover @shop --format json");
    crash(&s);
    s.sh(0, "recover @shop --format json");
    s.snapshot_with("interrupted_and_recover", Hide::StateSizes);
    Ok(())
}

#[test]
fn status_prune_and_verify_json() -> TestResult {
    let mut s = Session::new()?;
    s.expanded()?;
    s.file("notes.txt", "release notes\n")?;
    s.file("banner.txt", "maintenance tonight\n")?;
    s.quietly("apply @shop testdata/shop-fix.zip");
    s.quietly("apply @shop @notes.txt --file lib/notes.txt");
    s.quietly("apply @shop @banner.txt --file lib/banner.txt");
    s.quietly("rollback @shop");

    s.sh(0, "status @shop --format json");
    s.sh(0, "prune @shop --keep 1 --dry-run --format json");
    s.sh(0, "prune @shop --keep 1 --format json");
    s.sh(0, "status @shop --format json");
    s.snapshot_with("status_prune_json", Hide::StateSizes);

    s.sh(0, "verify @shop --format json");
    let app = s.dir.path().join("shop");
    std::fs::write(app.join("storefront.war/welcome.jsp"), "<p>hot fix</p>\n")?;
    std::fs::remove_file(app.join("legal/NOTICE.txt"))?;
    s.sh(1, "verify @shop --format json");
    s.sh(0, "status @shop");
    s.snapshot_with("verify_json_clean_and_drifted", Hide::StateSizes);
    Ok(())
}

#[test]
fn generated_man_page_and_completions() {
    let subcommands = subcommands();
    let mut s = Session::new().expect("temporary directory");
    let page = s.sh(0, "generate man");
    for sub in &subcommands {
        assert!(page.contains(&format!("earpatch\\-{sub}(1)")), "no {sub}");
    }
    s.snapshot_with("generate_man", Hide::Version);
    let page = s.sh(0, "generate man apply");
    assert!(page.contains(".SH EXAMPLES"), "{page}");
    s.snapshot_with("generate_man_apply", Hide::Version);

    for shell in ["bash", "zsh", "fish"] {
        let (code, script, err) = run(&["generate", &format!("complete-{shell}")]);
        assert_eq!((code, err.as_str()), (0, ""), "{shell}");
        assert!(script.lines().count() > 100, "{shell}: {script}");
        for sub in &subcommands {
            assert!(script.contains(sub.as_str()), "{shell}: no {sub}");
        }
        if shell == "fish" {
            // What fish shows beside each subcommand it offers.
            let offers: String = script
                .lines()
                .filter(|l| l.contains("__fish_earpatch_needs_command\" -f -a"))
                .map(|l| format!("{l}\n"))
                .collect();
            settings(Hide::Version)
                .bind(|| insta::assert_snapshot!("complete_fish_subcommands", offers));
        }
    }
}

#[test]
fn record_ids_are_labelled_by_identity_not_by_clock() {
    let text = "20261130_083120_rollback then 20261130_083120_rollback-2 undid \
                history/20261130_083114_shop-fix/undo.zip; see 20261130_083120_rollback. \
                x20261130_083120_a and 2026113_083120_b stay";
    assert_eq!(
        label_ids(text),
        "XXXXXXXX_XXXX01_rollback then XXXXXXXX_XXXX02_rollback undid \
         history/XXXXXXXX_XXXX03_shop-fix/undo.zip; see XXXXXXXX_XXXX01_rollback. \
         x20261130_083120_a and 2026113_083120_b stay"
    );
}
