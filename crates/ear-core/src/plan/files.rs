//! Files and whole modules an update ships, compared with what is deployed:
//! add, replace or unchanged (byte-identical), each classified by the
//! restart rules. Reads only.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::planner::{Entry, ModuleAfter, Planner, rel_path};
use super::{ModuleChange, Op, Origin};
use crate::error::{Error, Result};
use crate::impact::{FileOp, classify_file, classify_module};
use crate::model::inventory::sha256_of;
use crate::model::kind::JarNature;
use crate::model::{ModuleKind, Scope, WarningCode};
use crate::path::EntryPath;

impl Planner<'_> {
    pub(super) fn plan_module(
        &mut self,
        entry: &Entry,
        module: &ModuleAfter,
        requested_root: Option<String>,
    ) -> Result<()> {
        let uri = &entry.path;
        let location = match entry.origin {
            Origin::SourceFile => self.source_name(),
            _ => self.entry_location(uri),
        };
        // The module archive is read where it lies (the update file) or
        // from a spilled copy of its zip entry: never whole in memory.
        let not_a_module = |e: Error| match e {
            Error::Zip { source, .. } => Error::refused(
                &location,
                format!("not a valid {} module archive ({source})", module.kind),
            ),
            other => other,
        };
        let mut new_zip = entry
            .origin
            .open_zip(self.update, &location)
            .map_err(not_a_module)?;
        let (new_entries, _) =
            crate::source::index_entries(&new_zip, &location, self.update.limits())
                .map_err(not_a_module)?;
        if module.kind == ModuleKind::Ejb || module.kind == ModuleKind::Client {
            let nature = JarNature::of_zip(&mut new_zip);
            let contradicts = match module.kind {
                ModuleKind::Ejb => nature == JarNature::Client,
                _ => nature == JarNature::Ejb,
            };
            if contradicts && module.existed {
                return Err(Error::refused(
                    &location,
                    format!(
                        "its content is {} module but {uri} is {} module; a module's kind cannot change",
                        if module.kind == ModuleKind::Ejb {
                            "a client"
                        } else {
                            "an EJB"
                        },
                        module.kind.with_article()
                    ),
                ));
            }
        }
        let mut counts = (0usize, 0usize, 0usize, 0usize); // added, replaced, deleted, unchanged
        if module.existed {
            let scope = Scope::Module(uri.clone());
            let reader = self.reader(&scope)?;
            let old_files: BTreeMap<EntryPath, u64> = reader.files().into_iter().collect();
            for (path, &(index, size)) in &new_entries {
                match old_files.get(path) {
                    None => counts.0 += 1,
                    Some(&old_size) if old_size != size => counts.1 += 1,
                    Some(_) => {
                        // Same size: compare by hashes, streamed.
                        let old = reader.sha256(path)?;
                        let at = format!("{location}!{path}");
                        let mut file = new_zip.by_index(index).map_err(|e| Error::zip(&at, e))?;
                        let new = sha256_of(&mut file, &at)?;
                        if old == Some(new) {
                            counts.3 += 1;
                        } else {
                            counts.1 += 1;
                        }
                    }
                }
            }
            counts.2 = old_files
                .keys()
                .filter(|p| !new_entries.contains_key(*p))
                .count();
        } else {
            counts.0 = new_entries.len();
        }
        let unchanged = module.existed && counts.0 == 0 && counts.1 == 0 && counts.2 == 0;
        let op = match (module.existed, unchanged) {
            (false, _) => Op::Add,
            (true, true) => Op::Unchanged,
            (true, false) => Op::Replace,
        };
        // A module update that adds a module registers it in the descriptor (spec §2).
        let registers = matches!(entry.origin, Origin::SourceFile)
            && self.app.descriptor().is_some()
            && self.app.module(uri).is_none();
        let context_root = (module.kind == ModuleKind::Web).then(|| {
            requested_root
                .or_else(|| module.context_root.clone())
                .unwrap_or_else(|| format!("/{}", uri.file_stem()))
        });
        self.push_change(
            uri.clone(),
            Scope::Module(uri.clone()),
            op,
            Some(classify_module(module.kind, !module.existed)),
            entry.origin.clone(),
        );
        if let Some(change) = self.changes.last_mut() {
            change.module = Some(ModuleChange {
                kind: module.kind,
                context_root,
                registers_in_descriptor: registers,
                files_added: counts.0,
                files_replaced: counts.1,
                files_deleted: counts.2,
                files_unchanged: counts.3,
            });
        }
        Ok(())
    }

    pub(super) fn plan_files(
        &mut self,
        scope: &Scope,
        files: &[&Entry],
        after: &BTreeMap<EntryPath, ModuleAfter>,
    ) -> Result<()> {
        let module_kind = match scope {
            Scope::Application => None,
            Scope::Module(uri) => after.get(uri).map(|m| m.kind),
        };
        let existing_sizes: BTreeMap<EntryPath, u64> =
            self.reader(scope)?.files().into_iter().collect();
        let lib = self.app.library_directory().clone();
        self.changes.reserve(files.len());
        for entry in files {
            // The entry's own path is the full path (a shared clone); the
            // path in the scope is made for this entry only, never kept.
            let full = entry.path.clone();
            let rel = &rel_path(scope, &entry.path);
            if let Some(file_ancestor) = rel.ancestors().find(|a| existing_sizes.contains_key(*a)) {
                return Err(Error::refused(
                    self.entry_location(&entry.path),
                    format!(
                        "{} is a file in the {scope}, so nothing can be added under it",
                        scope.full_path(
                            &EntryPath::new(file_ancestor).unwrap_or_else(|_| rel.clone())
                        )
                    ),
                ));
            }
            let old_size = existing_sizes.get(rel).copied();
            let op = match old_size {
                None => {
                    // Files under `rel/` sort right after that prefix (not
                    // after `rel`: `rel-x` and `rel.x` sort between them).
                    let folder = format!("{rel}/");
                    if existing_sizes
                        .range::<str, _>((Bound::Included(folder.as_str()), Bound::Unbounded))
                        .next()
                        .is_some_and(|(p, _)| p.is_inside(rel))
                    {
                        return Err(Error::refused(
                            self.entry_location(&entry.path),
                            format!(
                                "{full} is a directory in the {scope}; a file cannot replace it"
                            ),
                        ));
                    }
                    Op::Add
                }
                // Different sizes differ; equal sizes are compared by
                // hashes, streamed from both sides.
                Some(size) if entry.origin.size(self.update).is_some_and(|n| n != size) => {
                    Op::Replace
                }
                Some(_) => {
                    let old = self.reader(scope)?.sha256(rel)?;
                    if old == Some(entry.origin.sha256(self.update)?) {
                        Op::Unchanged
                    } else {
                        Op::Replace
                    }
                }
            };
            let file_op = match op {
                Op::Add => FileOp::Add,
                _ => FileOp::Replace,
            };
            let rule = classify_file(module_kind, rel, file_op);
            if op == Op::Add
                && module_kind.is_none()
                && lib.holds(rel)
                && rel.extension().as_deref() == Some("jar")
            {
                self.warn(
                    WarningCode::LibraryJarNeedsRestart,
                    format!(
                        "{full} is added to the library directory; no restart is needed to add it, but the application \
                         sees it only after its next restart"
                    ),
                );
            }
            self.push_change(full, scope.clone(), op, Some(rule), entry.origin.clone());
        }
        Ok(())
    }
}
