//! The content of an application as operations see it: read with the
//! content index (`model::index`) when there is one, and the index
//! refreshed after every operation that writes state (`verify`, which
//! ignores it, is `ops::verify`).
//!
//! Reading commands ([`inventory`]) use the index but never write it (spec
//! §9.9: reading never writes). Failing to write an index costs speed on
//! the next run, never correctness, so it never fails an operation.

use std::collections::HashSet;
use std::path::Path;

use crate::error::Result;
use crate::model::index::{ContentIndex, ScanStart};
use crate::model::scan::Scan;
use crate::model::{Application, DESCRIPTOR_PATH, Form, Inventory, is_module_extension};
use crate::path::EntryPath;
use crate::progress::Progress;
use crate::state::StateDir;
use crate::write::{ChangeSet, Predicted};

/// Reads `app` with the index kept in `state`, if any.
pub(super) fn scan(
    app: &Application,
    state: &StateDir,
    start: ScanStart,
    progress: Option<&Progress>,
) -> Result<Scan> {
    let (index, _) = state.read_index();
    app.scan(index, start, progress)
}

/// Writes the index of a scan just made (the application unchanged since).
pub(super) fn keep_index(state: &StateDir, scan: Scan) {
    if state.path().is_dir() {
        let _ = state.write_index(&scan.index());
    }
}

/// Writes the index of the application just written at `app_path`, whose
/// content `predicted` says. An expanded application whose module layout
/// cannot have changed keeps the stamps `scan` took and stats only the
/// files `set` wrote; otherwise the stamps are read from the application
/// opened anew. `start` is when the operation began reading: what it wrote
/// is racy, so read again next time.
pub(super) fn index_written(
    app: &Application,
    scan: &mut Scan,
    set: &ChangeSet,
    state: &StateDir,
    predicted: Predicted,
    start: ScanStart,
) {
    // Only a nested module archive is indexed differently from a file: the
    // layout holds unless one can appear or vanish. With a descriptor the
    // modules are the declared ones; without, any archive at the root may
    // be one.
    let same_layout = set.whole.is_empty()
        && set.app.keys().all(|p| {
            p.as_str() != DESCRIPTOR_PATH
                && app.module(p).is_none()
                && (app.descriptor().is_some()
                    || !p
                        .extension()
                        .is_some_and(|e| is_module_extension(e.as_str())))
        });
    let Predicted { digest, content } = predicted;
    let described = if app.form() == Form::Expanded && same_layout {
        let mut written: HashSet<EntryPath> = set.app.keys().cloned().collect();
        for (uri, files) in &set.module_files {
            written.insert(uri.clone());
            written.extend(files.keys().map(|rel| uri.join(rel)));
        }
        scan.sort_stamps();
        let scan = &*scan;
        Ok(ContentIndex::describe_written(
            app,
            &|p| scan.stamp_of(p),
            &|p| written.contains(p),
            content,
            digest,
            start,
        ))
    } else {
        Application::open_with(app.path(), app.limits())
            .and_then(|after| ContentIndex::describe(&after, content, digest, start))
    };
    match described {
        Ok(index) if state.write_index(&index).is_ok() => {}
        // An index that may describe the old content must not stay: stamps
        // would reject most of it, but nothing is gained by keeping it.
        _ => state.drop_index(),
    }
}

/// The inventory of `app`, using the content index in its state folder
/// (`APP.earpatch/`, or `state_dir`) for files whose stamps it vouches for.
/// Reads only: the index is neither created nor refreshed.
///
/// # Errors
/// As [`Application::inventory`].
pub fn inventory(app: &Application, state_dir: Option<&Path>) -> Result<Inventory> {
    let state = StateDir::for_app(app.path(), state_dir);
    Ok(scan(app, &state, ScanStart::now(), None)?.inventory)
}
