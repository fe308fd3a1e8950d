//! Undo bundles (spec §6): for each applied update, a partial update with
//! the old bytes of every replaced or deleted file and a delete list of the
//! added ones, or the previous application as `previous.ear` when a partial
//! update cannot express the undo (full updates, module additions and
//! removals). Written before the application changes; never applied here
//! (rollback is an operation: [`crate::ops`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::{Application, DESCRIPTOR_PATH, Files, Scope};
use crate::path::EntryPath;
use crate::plan::{Op, Plan};
use crate::progress::Phase;
use crate::update::{UpdateKind, escape_path};
use crate::write::ChangeSet;
use crate::write::zipout::{Stamp, ZipOut, copy_module_archive, delete_list, export_ear};

/// Writes the undo bundle into `dir`; returns its file name. Reports to
/// `set.meter` ([`Phase::SavingUndo`]: the old bytes saved, out of their
/// sizes when known); a cancel stops it (the caller removes `dir`).
pub(crate) fn write_undo(
    app: &Application,
    plan: &Plan,
    set: &ChangeSet,
    dir: &Path,
) -> Result<String> {
    let adds_modules = plan
        .effective_changes()
        .any(|c| c.module.is_some() && c.op == Op::Add);
    if plan.update.kind == UpdateKind::Full
        || adds_modules
        || set.whole.values().any(Option::is_none)
    {
        let name = "previous.ear";
        // An archive is hard-linked (or copied whole): no count to make.
        set.meter.begin(Phase::SavingUndo, None)?;
        export_ear(app, &dir.join(name), &set.meter)?;
        return Ok(name.into());
    }
    let name = "undo.zip";
    let path = dir.join(name);
    let file = File::create(&path).map_err(|e| Error::io("cannot create", &path, e))?;
    let mut zip = ZipOut::to_file(file, &path, Stamp::Now);
    let mut delete_lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut restored: Vec<&EntryPath> = Vec::new();
    for change in plan.effective_changes() {
        match change.op {
            Op::Replace | Op::Delete => restored.push(&change.path),
            Op::Add => {
                let (scope, rel) = match &change.scope {
                    Scope::Application => (String::new(), change.path.to_string()),
                    Scope::Module(uri) => (
                        uri.to_string(),
                        change
                            .path
                            .strip_dir(uri)
                            .map_or_else(|| change.path.to_string(), |r| r.to_string()),
                    ),
                };
                delete_lists
                    .entry(scope)
                    .or_default()
                    .push(escape_path(&rel));
            }
            Op::Unchanged => {}
        }
    }
    // The descriptor a module registration edits is restored too.
    let descriptor = EntryPath::new(DESCRIPTOR_PATH).unwrap_or_else(|_| unreachable!());
    let edits_descriptor = set.app.contains_key(&descriptor) && !restored.contains(&&descriptor);
    if edits_descriptor {
        restored.push(&descriptor);
    }
    let files = Files::new(app);
    let total = set.meter.active().then(|| {
        restored
            .iter()
            .map(|p| files.size(p).unwrap_or(0))
            .fold(0, u64::saturating_add)
    });
    set.meter.begin(Phase::SavingUndo, total)?;
    for path in restored {
        let size = files.size(path);
        // The old bytes stream from the application into the bundle.
        zip.add_with(path.as_str(), size, |w, location| {
            if app.module(path).is_some() {
                return copy_module_archive(&files, path, w, location);
            }
            files
                .with_file(path, |r| {
                    std::io::copy(r, w).map_err(|e| Error::io("cannot write", location, e))
                })?
                .ok_or_else(|| {
                    Error::refused(
                        path.to_string(),
                        "cannot save the old bytes: the file vanished",
                    )
                })?;
            Ok(())
        })?;
        set.meter.wrote(size.unwrap_or(0), 1)?;
    }
    for (scope, lines) in delete_lists {
        let (name, text) = delete_list(
            &scope,
            "files added by the update this bundle undoes",
            &lines,
        );
        zip.add(&name, &text)?;
    }
    zip.finish_synced()?;
    Ok(name.into())
}
