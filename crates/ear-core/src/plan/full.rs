//! Full updates (spec §9.1): one change per file of either application,
//! rule F1; byte-identical files are unchanged. Reads only.

use std::collections::{BTreeMap, BTreeSet};

use super::planner::Planner;
use super::{Op, Origin};
use crate::error::Result;
use crate::impact::Rule;
use crate::model::{Application, Digest, Inventory, Scope};
use crate::path::EntryPath;

impl Planner<'_> {
    pub(super) fn plan_full(
        &mut self,
        new_app: &Application,
        digest: bool,
    ) -> Result<Option<Digest>> {
        let old = self.app.inventory()?;
        let new = new_app.inventory()?;
        let flatten = |inv: &Inventory| -> BTreeMap<EntryPath, (Scope, [u8; 32])> {
            inv.scopes
                .iter()
                .flat_map(|s| {
                    s.files
                        .iter()
                        .map(move |f| (s.scope.full_path(&f.path), (s.scope.clone(), f.sha256)))
                })
                .collect()
        };
        let (old_files, new_files) = (flatten(&old), flatten(&new));
        let paths: BTreeSet<&EntryPath> = old_files.keys().chain(new_files.keys()).collect();
        for path in paths {
            let (op, scope) = match (old_files.get(path), new_files.get(path)) {
                (Some((_, a)), Some((scope, b))) if a == b => (Op::Unchanged, scope.clone()),
                (Some(_), Some((scope, _))) => (Op::Replace, scope.clone()),
                (None, Some((scope, _))) => (Op::Add, scope.clone()),
                (Some((scope, _)), None) => (Op::Delete, scope.clone()),
                (None, None) => continue,
            };
            let origin = if matches!(op, Op::Add | Op::Replace) {
                Origin::NewApplication(path.clone())
            } else {
                Origin::None
            };
            self.push_change(path.clone(), scope, op, Some(Rule::F1), origin);
        }
        Ok(digest.then(|| old.digest()))
    }
}
