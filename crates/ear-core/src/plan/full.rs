//! Full updates (spec §9.1): one change per file of either application,
//! rule F1; byte-identical files are unchanged. Reads only.
//!
//! Each application is read once (its inventory: every nested module opened
//! once, never per file); the two sorted file lists are then merged, so the
//! comparison is linear in the number of files.

use std::cmp::Ordering;
use std::iter::Peekable;

use super::planner::Planner;
use super::{Op, Origin};
use crate::error::{Error, Result};
use crate::impact::Rule;
use crate::model::inventory::full_path_bytes;
use crate::model::{Digest, FileInfo, Inventory, Scope};

impl Planner<'_> {
    /// Plans a full update. `known` is the deployed application's inventory
    /// when the caller already read it; the new application's is read once
    /// and kept by the update (the writer looks its sizes up there).
    pub(super) fn plan_full(
        &mut self,
        known: Option<&Inventory>,
        digest: bool,
    ) -> Result<Option<Digest>> {
        let owned;
        let old = match known {
            Some(inventory) => inventory,
            None => {
                owned = self.app.inventory()?;
                &owned
            }
        };
        let new = self.update.new_inventory()?.ok_or_else(|| {
            Error::refused(self.source_name(), "internal error: not a full update")
        })?;
        let mut old_files = unique(old.sorted_files()).into_iter().peekable();
        let mut new_files = unique(new.sorted_files()).into_iter().peekable();
        self.changes.reserve(old_files.len().max(new_files.len()));
        loop {
            let order = match (old_files.peek(), new_files.peek()) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(a), Some(b)) => {
                    full_path_bytes(a.0, &a.1.path).cmp(full_path_bytes(b.0, &b.1.path))
                }
            };
            let (op, scope, file) = match order {
                Ordering::Less => {
                    let (scope, file) = next(&mut old_files)?;
                    (Op::Delete, scope, file)
                }
                Ordering::Greater => {
                    let (scope, file) = next(&mut new_files)?;
                    (Op::Add, scope, file)
                }
                Ordering::Equal => {
                    let (_, before) = next(&mut old_files)?;
                    let (scope, file) = next(&mut new_files)?;
                    let op = if before.sha256 == file.sha256 {
                        Op::Unchanged
                    } else {
                        Op::Replace
                    };
                    (op, scope, file)
                }
            };
            let path = scope.full_path(&file.path);
            let origin = if matches!(op, Op::Add | Op::Replace) {
                Origin::NewApplication(path.clone())
            } else {
                Origin::None
            };
            self.push_change(path, scope.clone(), op, Some(Rule::F1), origin);
        }
        Ok(digest.then(|| old.digest()))
    }
}

type Files<'i> = Vec<(&'i Scope, &'i FileInfo)>;

/// Files sorted by full path with one entry per full path (the last, as a
/// map keyed by full path would keep).
fn unique(mut files: Files<'_>) -> Files<'_> {
    files.dedup_by(|later, earlier| {
        let same =
            full_path_bytes(later.0, &later.1.path).eq(full_path_bytes(earlier.0, &earlier.1.path));
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });
    files
}

fn next<'i>(
    files: &mut Peekable<std::vec::IntoIter<(&'i Scope, &'i FileInfo)>>,
) -> Result<(&'i Scope, &'i FileInfo)> {
    files
        .next()
        .ok_or_else(|| Error::refused("full update", "internal error: merge ran dry"))
}
