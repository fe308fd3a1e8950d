//! The preconditions an apply checks before it writes anything: the
//! expected digest (`--expect-digest`), `--strict`, and free space for the
//! new content and the history. They check and refuse; they never write.

use std::path::{Path, PathBuf};

use super::apply::ApplyOptions;
use crate::error::{Error, Result};
use crate::fs::parent_dir;
use crate::model::{Application, Digest, Form};
use crate::plan::Plan;
use crate::state::StateDir;
use crate::write::ChangeSet;

pub(super) fn check_expected(
    app_path: &Path,
    digest: Digest,
    options: &ApplyOptions,
) -> Result<()> {
    match options.expect_digest {
        Some(expected) if expected != digest => Err(Error::Refused {
            location: app_path.display().to_string(),
            message: format!(
                "--expect-digest {expected} does not match the application's digest {digest}; nothing was written"
            ),
        }),
        _ => Ok(()),
    }
}

pub(super) fn check_strict(plan: &Plan, options: &ApplyOptions) -> Result<()> {
    if options.strict && !plan.warnings.is_empty() {
        let first = &plan.warnings[0].message;
        return Err(Error::Refused {
            location: "--strict".into(),
            message: format!(
                "the plan has {} warning(s), the first: {first}; nothing was written",
                plan.warnings.len()
            ),
        });
    }
    Ok(())
}

/// Refuses an apply that would run out of space. Files take whole blocks,
/// so sizes are rounded up to 4 KiB and each written file counts a block
/// more; the state folder (undo bundle, record, log) is checked where it
/// is, which may be another file system than the output's.
pub(super) fn check_space(
    app: &Application,
    set: &ChangeSet,
    plan: &Plan,
    options: &ApplyOptions,
    out: &Path,
    state: Option<(&StateDir, u64)>,
) -> Result<()> {
    const BLOCK: u64 = 4096;
    let blocks = |n: u64| n.div_ceil(BLOCK).saturating_mul(BLOCK);
    let out_dir = parent_dir(out);
    let new_archive = match app.form() {
        Form::Archive => std::fs::metadata(app.path()).map_or(0, |m| m.len()),
        Form::Expanded => 0,
    };
    let new_files = set.bytes_written();
    let on_out = blocks(new_archive) + blocks(new_files) + BLOCK * set.files_written();
    // The record holds the plan; the undo bundle the replaced bytes.
    let on_state = state.map(|(_, backups)| {
        let record = serde_json::to_vec(plan).map_or(0, |v| v.len() as u64);
        blocks(backups) + blocks(2 * record) + 4 * BLOCK
    });
    let available = |dir: &Path| -> Result<u64> {
        match options.available_space {
            Some(n) => Ok(n),
            None => fs4::available_space(dir)
                .map_err(|e| Error::io("cannot measure the free space of", dir, e)),
        }
    };
    let refuse = |dir: &Path, needed: u64, free: u64| Error::Refused {
        location: dir.display().to_string(),
        message: format!(
            "not enough free space: the update needs about {needed} bytes here (new archive {new_archive}, \
             new files {new_files}, history {}) and {free} are free; nothing was written",
            on_state.unwrap_or(0)
        ),
    };
    let state_dir = state.map(|(s, _)| existing_ancestor(s.path()));
    match (state_dir, on_state) {
        (Some(dir), Some(extra))
            if !crate::fs::same_file(&dir, &out_dir) && !same_device(&dir, &out_dir) =>
        {
            let free = available(&out_dir)?;
            if on_out > free {
                return Err(refuse(&out_dir, on_out, free));
            }
            let free = available(&dir)?;
            if extra > free {
                return Err(refuse(&dir, extra, free));
            }
        }
        _ => {
            let needed = on_out + on_state.unwrap_or(0);
            let free = available(&out_dir)?;
            if needed > free {
                return Err(refuse(&out_dir, needed, free));
            }
        }
    }
    Ok(())
}

/// `path`, or its nearest ancestor that exists (a state folder not made yet).
fn existing_ancestor(path: &Path) -> PathBuf {
    path.ancestors()
        .find(|p| p.exists())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Whether two existing paths lie on one file system.
fn same_device(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        matches!((std::fs::metadata(a), std::fs::metadata(b)), (Ok(x), Ok(y)) if x.dev() == y.dev())
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        true
    }
}
