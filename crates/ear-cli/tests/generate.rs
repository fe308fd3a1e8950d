//! `earpatch generate` (completion scripts, man pages) and the examples in
//! every subcommand's `--help`, through the real binary.

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use common::run;

/// Every subcommand, as the top-level help lists them.
const SUBCOMMANDS: [&str; 12] = [
    "inspect", "plan", "impact", "apply", "history", "rollback", "diff", "recover", "verify",
    "generate", "status", "prune",
];

/// Runs `earpatch generate args`, checks it succeeded quietly, returns stdout.
fn generate(args: &[&str]) -> String {
    let mut all = vec!["generate"];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all);
    assert_eq!(code, 0, "generate {args:?}: {err}");
    assert!(err.is_empty(), "generate {args:?} wrote to stderr: {err}");
    assert!(!out.trim().is_empty(), "generate {args:?} printed nothing");
    out
}

/// `shell -n` (parse only) on `script`, when that shell is installed: Some(ok).
fn parses_with(shell: &str, script: &str) -> Option<bool> {
    let mut child = Command::new(shell)
        .arg("-n")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(script.as_bytes()).ok()?;
    Some(child.wait().ok()?.success())
}

#[test]
fn the_top_level_help_lists_every_subcommand() {
    let (code, out, err) = run(&["--help"]);
    assert_eq!(code, 0, "{err}");
    for sub in SUBCOMMANDS {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(sub)),
            "{sub} missing from --help:\n{out}"
        );
    }
}

#[test]
fn completion_scripts_name_every_subcommand_and_their_flags() {
    for (what, shell) in [
        ("complete-bash", "bash"),
        ("complete-zsh", "zsh"),
        ("complete-fish", "fish"),
    ] {
        let script = generate(&[what]);
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{what}: no {sub}");
        }
        for flag in [
            "expect-digest",
            "fail-on",
            "state-dir",
            "classloader-policy",
        ] {
            assert!(script.contains(flag), "{what}: no --{flag}");
        }
        // Option values complete in every shell; positional values (what
        // `generate` prints) in bash and zsh (clap_complete's fish script
        // completes no positional values).
        assert!(script.contains("markdown"), "{what}: no --format values");
        if shell != "fish" {
            assert!(
                script.contains("complete-fish"),
                "{what}: no generate values"
            );
        }
        if let Some(ok) = parses_with(shell, &script) {
            assert!(ok, "{shell} -n rejects the {what} script");
        }
    }
}

#[test]
fn the_bash_script_defines_the_completion_function() {
    let script = generate(&["complete-bash"]);
    assert!(script.contains("_earpatch()"), "{script}");
    assert!(script.contains("complete -F _earpatch"), "{script}");
}

#[test]
fn the_man_page_describes_earpatch_and_points_to_each_subcommand_page() {
    let page = generate(&["man"]);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    assert!(page.contains(".TH earpatch 1"), "{page}");
    assert!(page.contains(".SH SYNOPSIS"), "{page}");
    assert!(page.contains("Exit codes"), "{page}");
    for sub in SUBCOMMANDS {
        // roff escapes the hyphen: earpatch\-verify(1).
        assert!(
            page.contains(&format!("earpatch\\-{sub}(1)")),
            "no earpatch-{sub}(1) in the man page"
        );
    }
}

#[test]
fn a_subcommand_man_page_has_its_flags_and_examples() {
    let page = generate(&["man", "verify"]);
    assert!(page.contains(".TH earpatch-verify 1"), "{page}");
    assert!(page.contains("expect\\-digest"), "{page}");
    // The examples, one per line: no-fill, so man does not join them.
    let examples = page
        .split_once(".SH EXAMPLES\n.nf\n")
        .and_then(|(_, rest)| rest.split_once("\n.fi"))
        .map(|(examples, _)| examples)
        .unwrap_or_else(|| panic!("no EXAMPLES section:\n{page}"));
    assert!(examples.starts_with("  earpatch verify "), "{examples}");
    // The global limits are documented on every page.
    assert!(page.contains("max\\-ratio"), "{page}");
}

#[test]
fn a_man_page_for_an_unknown_subcommand_is_refused_with_the_list() {
    let (code, out, err) = run(&["generate", "man", "upgrade"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("`upgrade`"), "{err}");
    assert!(err.contains("inspect, plan, impact, apply"), "{err}");
}

#[test]
fn an_unknown_thing_to_generate_is_a_usage_error() {
    let (code, _, err) = run(&["generate", "complete-tcsh"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("complete-bash"), "{err}");
}

#[test]
fn every_subcommand_help_has_examples_of_itself() {
    for sub in SUBCOMMANDS {
        let (code, out, err) = run(&[sub, "--help"]);
        assert_eq!(code, 0, "{sub} --help: {err}");
        let examples = out
            .split_once("Examples:\n")
            .map(|(_, rest)| rest)
            .unwrap_or_else(|| panic!("{sub} --help has no examples:\n{out}"));
        let count = examples
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .filter(|l| l.starts_with(&format!("  earpatch {sub} ")))
            .count();
        assert!(count >= 2, "{sub} --help has {count} example(s):\n{out}");
    }
}
