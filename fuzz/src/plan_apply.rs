//! Arbitrary bytes as a partial update, planned and applied with `-o`:
//! against the sample archive (`out.ear`) and against the expanded sample
//! (`.output(newdir)`). An Ok apply must produce an output that
//! `Application::open` reads again; when both applies succeed the two
//! outputs must have the same content digest (README: the digest does not
//! depend on the form). Nothing may be written outside the run's folder:
//! the sample copies are snapshotted and compared after every run, and the
//! scratch folder must hold only them and the run's folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ear_core::{Application, ApplyOptions, Outcome, Plan, PlanOptions, Update, apply};
use crate::{Node, names, scratch_dir, snapshot};

struct Env {
    /// The scratch folder: `sample/` and one `run*` folder per run.
    root: PathBuf,
    /// The sample, both forms: `sample/shop.ear`, `sample/shop/`.
    sample: PathBuf,
    ear: PathBuf,
    expanded: PathBuf,
    before: BTreeMap<PathBuf, Node>,
}

static ENV: OnceLock<Env> = OnceLock::new();

fn env() -> &'static Env {
    ENV.get_or_init(|| {
        let root = scratch_dir(&target_name());
        let sample = root.join("sample");
        std::fs::create_dir_all(&sample).expect("mkdir sample");
        let bytes = ear_fixtures::sample::shop_ear();
        let ear = sample.join("shop.ear");
        std::fs::write(&ear, &bytes).expect("write shop.ear");
        let expanded = sample.join("shop");
        ear_fixtures::write_expanded(&bytes, &expanded, &["catalog.war", "storefront.war"])
            .expect("write the expanded sample");
        let before = snapshot(&sample);
        Env { root, sample, ear, expanded, before }
    })
}

fn reopen(out: &Path, what: &str) -> ear_core::Digest {
    let app = Application::open(out)
        .unwrap_or_else(|e| panic!("apply to {what} returned Ok but the output does not open: {e}"));
    let inv = app
        .inventory()
        .unwrap_or_else(|e| panic!("apply to {what} returned Ok but the output's inventory fails: {e}"));
    inv.digest()
}

fn check_confined(env: &Env, run: &Path, allowed: &[&str], when: &str) {
    let now = snapshot(&env.sample);
    if now != env.before {
        let changed: Vec<_> = now
            .iter()
            .filter(|(k, v)| env.before.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .chain(env.before.keys().filter(|k| !now.contains_key(*k)).cloned())
            .collect();
        panic!("{when}: the sample application changed (outside the run folder): {changed:?}");
    }
    let top = names(&env.root);
    let run_name = run.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let extra: Vec<_> = top.iter().filter(|n| **n != "sample" && **n != run_name).collect();
    assert!(extra.is_empty(), "{when}: files written outside the run folder: {extra:?}");
    let left: Vec<_> = names(run).into_iter().filter(|n| !allowed.contains(&n.as_str())).collect();
    assert!(left.is_empty(), "{when}: unexpected files left in the run folder: {left:?}");
}

/// One run: `data` is the bytes of `fix.zip`.
pub fn run(data: &[u8]) {
    let env = env();
    let run = tempfile::Builder::new().prefix("run").tempdir_in(&env.root).expect("run dir");
    let zip = run.path().join("fix.zip");
    std::fs::write(&zip, data).expect("write fix.zip");
    let update = match Update::partial(&zip) {
        Ok(u) => u,
        Err(e) => {
            if debug() {
                eprintln!("earfuzz: not an update: {e}");
            }
            return;
        }
    };

    // Plan against the archive (as `earpatch plan` would).
    if let Ok(app) = Application::open(&env.ear) {
        let _ = Plan::new(&app, &update, &PlanOptions::default());
    }

    // Archive form, `-o out.ear`.
    let out_ear = run.path().join("out.ear");
    let archive = apply(&env.ear, &update, &ApplyOptions::default().output(&out_ear));
    let archive_digest = match &archive {
        Ok(report) => {
            assert!(report.outcome != Outcome::DryRun);
            Some(reopen(&out_ear, "out.ear"))
        }
        Err(_) => None,
    };
    let mut allowed = vec!["fix.zip"];
    if archive.is_ok() {
        allowed.push("out.ear");
    }
    check_confined(env, run.path(), &allowed, "after apply -o out.ear");

    // Expanded form, `-o newdir`.
    let newdir = run.path().join("newdir");
    let expanded = apply(&env.expanded, &update, &ApplyOptions::default().output(&newdir));
    let expanded_digest = match &expanded {
        Ok(_) => Some(reopen(&newdir, "newdir (expanded)")),
        Err(_) => None,
    };
    if expanded.is_ok() {
        allowed.push("newdir");
    }
    check_confined(env, run.path(), &allowed, "after apply -o newdir");

    if debug() {
        eprintln!(
            "earfuzz: archive apply: {:?}\nearfuzz: expanded apply: {:?}",
            archive.as_ref().map(|r| r.outcome),
            expanded.as_ref().map(|r| r.outcome)
        );
    }
    if let (Some(a), Some(b)) = (archive_digest, expanded_digest) {
        assert_eq!(
            a, b,
            "the same update applied to the archive and to the expanded sample gives different contents"
        );
    }
    // Also compare Ok/Err of both forms loosely: only report via Debug (no assert).
    let _ = (archive.map(|r| r.outcome), expanded.map(|r| r.outcome));
}

/// `EARFUZZ_DEBUG` set: print each run's results to stderr.
fn debug() -> bool {
    static DEBUG: OnceLock<bool> = OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("EARFUZZ_DEBUG").is_some())
}

fn target_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}
