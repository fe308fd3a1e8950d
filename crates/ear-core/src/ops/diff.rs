//! `diff`: the minimal partial update that turns one version of an
//! application into another, and the plan of applying it (spec §1–§3); also
//! how drift on a node is shown. It writes only its output zip.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fs::{AtomicFile, check_output};
use crate::impact::Effect;
use crate::model::{Application, Files, Scope, Storage};
use crate::path::EntryPath;
use crate::plan::{Plan, PlanOptions};
use crate::update::{DELETE_LIST_PATH, Update, escape_path};
use crate::write::zipout::{Stamp, ZipOut, copy_module_archive, delete_list};

/// What [`diff`] wrote and what applying it to the old version does.
#[derive(Debug, Clone)]
pub struct DiffReport {
    /// The partial update written.
    pub output: PathBuf,
    /// Entries of the update (files and whole modules), delete lists excluded.
    pub entries: usize,
    /// Files deleted through delete lists.
    pub deletions: usize,
    /// The plan of applying the update to the old version.
    pub plan: Plan,
    /// The effect of shipping the new version as a full update instead (F1).
    pub full_update_effect: Effect,
}

/// One file of a scope, with its hash.
type Hashes = BTreeMap<EntryPath, [u8; 32]>;

fn scope_files(inv: &crate::model::Inventory, scope: &Scope) -> Hashes {
    inv.scope(scope)
        .map(|s| s.files.iter().map(|f| (f.path.clone(), f.sha256)).collect())
        .unwrap_or_default()
}

/// Writes to `out` the minimal partial update that turns `old` into `new`:
/// changed and added files at their full paths, removed files in a delete list
/// of their scope (each path regex-escaped), new modules whole. The zip is
/// deterministic: sorted entries, fixed timestamps.
///
/// ```
/// # fn main() -> ear_core::Result<()> {
/// # let dir = tempfile::tempdir().map_err(|e| ear_core::Error::Io { action: "tmp", path: ".".into(), source: e })?;
/// # let old = dir.path().join("old.ear");
/// # std::fs::write(&old, ear_fixtures::sample::shop_ear()).map_err(|e| ear_core::Error::Io { action: "w", path: old.clone(), source: e })?;
/// use ear_core::{diff, Application, PlanOptions};
/// let report = diff(&Application::open(&old)?, &Application::open(&old)?, &dir.path().join("u.zip"), &PlanOptions::default())?;
/// assert_eq!(report.entries, 0);
/// # Ok(()) }
/// ```
///
/// # Errors
/// A module of `old` is missing from `new` (that needs a full update), or
/// reading and writing fail.
pub fn diff(
    old: &Application,
    new: &Application,
    out: &Path,
    options: &PlanOptions,
) -> Result<DiffReport> {
    check_output(out, &[old.path(), new.path()])?;
    let (old_inv, new_inv) = (old.inventory()?, new.inventory()?);
    let present = |app: &Application| -> BTreeSet<EntryPath> {
        app.modules()
            .iter()
            .filter(|m| m.storage != Storage::Missing)
            .map(|m| m.uri.clone())
            .collect()
    };
    let (old_modules, new_modules) = (present(old), present(new));
    if let Some(gone) = old_modules.difference(&new_modules).next() {
        return Err(Error::Refused {
            location: new.path().display().to_string(),
            message: format!(
                "module {gone} of {} is not in {}; a partial update never removes a module, so ship the new \
                 version as a full update (impact: restart-application, rule F1)",
                old.path().display(),
                new.path().display()
            ),
        });
    }
    // Entry name → what it holds; the bytes stream from NEW when written.
    let mut entries: BTreeMap<String, Shipped> = BTreeMap::new();
    let mut delete_lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut scopes = vec![Scope::Application];
    scopes.extend(
        new_modules
            .iter()
            .filter(|m| old_modules.contains(*m))
            .map(|m| Scope::Module(m.clone())),
    );
    for scope in &scopes {
        let (before, after) = (scope_files(&old_inv, scope), scope_files(&new_inv, scope));
        for (rel, sha) in &after {
            if before.get(rel) == Some(sha) {
                continue;
            }
            if scope == &Scope::Application && new_modules.contains(rel) {
                continue; // shipped whole below
            }
            let full = scope.full_path(rel);
            if rel.as_str() == DELETE_LIST_PATH {
                return Err(Error::Refused {
                    location: format!("{}!{full}", new.path().display()),
                    message: "the new version contains a file named like a delete list; a partial update would \
                              consume it instead of shipping it, so use a full update"
                        .into(),
                });
            }
            entries.insert(full.to_string(), Shipped::File(full));
        }
        for rel in before.keys().filter(|r| !after.contains_key(*r)) {
            delete_lists
                .entry(scope.as_str().to_owned())
                .or_default()
                .push(escape_path(rel.as_str()));
        }
    }
    for uri in new_modules.difference(&old_modules) {
        entries.insert(uri.to_string(), Shipped::Module(uri.clone()));
    }
    // Written under a temporary name and planned from there: a refused
    // plan leaves nothing behind, and OUT appears only complete.
    let tmp = write_zip(new, out, entries.clone(), &delete_lists)?;
    let deletions = delete_lists.values().map(Vec::len).sum();
    let update = Update::partial(tmp.path())?;
    let mut plan = Plan::new(old, &update, &options.digest(false))?;
    plan.application.digest = options.digest.then(|| old_inv.digest());
    plan.update.source = out.display().to_string();
    drop(update);
    tmp.commit()?;
    let full_update_effect = if old_inv.digest() == new_inv.digest() {
        Effect::None
    } else {
        Effect::RestartApplication
    };
    Ok(DiffReport {
        output: out.to_path_buf(),
        entries: entries.len(),
        deletions,
        plan,
        full_update_effect,
    })
}

/// What one entry of the update holds.
#[derive(Debug, Clone)]
enum Shipped {
    /// A file of NEW, by full path.
    File(EntryPath),
    /// A module of NEW, whole.
    Module(EntryPath),
    /// A delete list's text.
    Text(Vec<u8>),
}

fn write_zip(
    new: &Application,
    out: &Path,
    mut all: BTreeMap<String, Shipped>,
    delete_lists: &BTreeMap<String, Vec<String>>,
) -> Result<AtomicFile> {
    for (scope, lines) in delete_lists {
        let (name, text) = delete_list(
            scope,
            "files of this scope that the new version no longer has",
            lines,
        );
        all.insert(name, Shipped::Text(text));
    }
    let tmp = AtomicFile::beside(out)?;
    let mut zip = ZipOut::to_file(tmp.handle()?, out, Stamp::Fixed);
    let files = Files::new(new);
    for (name, shipped) in &all {
        match shipped {
            Shipped::Text(text) => zip.add(name, text)?,
            Shipped::File(full) => zip.add_with(name, files.size(full), |w, location| {
                files
                    .with_file(full, |r| {
                        std::io::copy(r, w).map_err(|e| Error::io("cannot write", location, e))
                    })?
                    .ok_or_else(|| Error::refused(full.to_string(), "the file vanished"))?;
                Ok(())
            })?,
            Shipped::Module(uri) => zip.add_with(name, files.size(uri), |w, location| {
                copy_module_archive(&files, uri, w, location)
            })?,
        }
    }
    zip.finish_synced()?;
    Ok(tmp)
}
