//! Delete lists (spec §2, §9.7): which deployed files each pattern deletes,
//! and the warnings an operator needs (matches nothing, deletes nothing,
//! substring semantics differ). Reads only.

use std::collections::{BTreeMap, BTreeSet};

use super::Op;
use super::Origin;
use super::planner::{ModuleAfter, Planner, Shipment};
use crate::error::{Error, Result};
use crate::impact::{FileOp, classify_file};
use crate::model::{DESCRIPTOR_PATH, Scope, WarningCode};
use crate::path::EntryPath;
use crate::update::{DELETE_LIST_PATH, DeleteList, DeletePattern, Payload};

impl Planner<'_> {
    pub(super) fn plan_delete_list(
        &mut self,
        props: &EntryPath,
        after: &BTreeMap<EntryPath, ModuleAfter>,
        written: &BTreeMap<Scope, BTreeSet<&str>>,
        shipment: &Shipment,
    ) -> Result<()> {
        let location = self.entry_location(props);
        let scope = if props.as_str() == DELETE_LIST_PATH {
            Scope::Application
        } else {
            let prefix = &props.as_str()[..props.as_str().len() - DELETE_LIST_PATH.len() - 1];
            match EntryPath::new(prefix)
                .ok()
                .and_then(|p| after.get_key_value(&p))
            {
                Some((uri, m)) if m.existed && !shipment.entries.iter().any(|e| &e.path == uri) => {
                    Scope::Module(uri.clone())
                }
                Some((uri, _)) => {
                    return Err(Error::refused(
                        location,
                        format!(
                            "the delete list is for module {uri}, which this update adds or ships whole; deletions \
                             apply to files already deployed"
                        ),
                    ));
                }
                None => {
                    return Err(Error::refused(
                        location,
                        format!(
                            "a delete list must be at the root of a scope ({DELETE_LIST_PATH} or \
                             <module-uri>/{DELETE_LIST_PATH}), and no module has URI {prefix}"
                        ),
                    ));
                }
            }
        };
        let bytes = match &self.update.payload {
            Payload::Partial(_) => {
                self.read_text(&Origin::ZipEntry(props.clone()), "the delete list")?
            }
            _ => return Ok(()),
        };
        let list = DeleteList::parse_with(&bytes, &location, scope.clone(), self.update.limits())?;
        let files: Vec<EntryPath> = self
            .reader(&scope)?
            .files()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let empty = BTreeSet::new();
        let written_here = written.get(&scope).unwrap_or(&empty);
        let module_kind = match &scope {
            Scope::Module(uri) => after.get(uri).map(|m| m.kind),
            Scope::Application => None,
        };
        let mut substring_hits = substring_hits(&list.patterns, &files);
        let mut deletions = BTreeSet::new();
        for (i, pattern) in list.patterns.iter().enumerate() {
            // One regex compiled at a time, dropped after its pattern.
            let compiled = pattern.compile().map_err(|e| Error::DeleteList {
                location: location.clone(),
                line: pattern.line,
                message: format!("invalid pattern: {e}"),
            })?;
            let matches = |p: &str| {
                compiled
                    .as_ref()
                    .map_or_else(|| pattern.matches(p), |c| c.matches(p))
            };
            let finds = |p: &str| {
                compiled
                    .as_ref()
                    .map_or_else(|| pattern.finds(p), |c| c.finds(p))
            };
            let at = format!(
                "pattern `{}` (line {} of {location})",
                pattern.pattern, pattern.line
            );
            if scope == Scope::Application {
                let modules: BTreeSet<&EntryPath> = after
                    .keys()
                    .chain(self.app.modules().iter().map(|m| &m.uri))
                    .collect();
                if let Some(uri) = modules.into_iter().find(|uri| matches(uri.as_str())) {
                    return Err(Error::DeleteList {
                        location: location.clone(),
                        line: pattern.line,
                        message: format!(
                            "pattern `{}` matches module {uri}; a partial update never removes a module, use a full update",
                            pattern.pattern
                        ),
                    });
                }
            }
            let matched: Vec<&EntryPath> = match pattern.literal() {
                // Plain paths (all of diff's) are looked up, not matched one by one.
                Some(text) => files
                    .binary_search_by(|f| f.as_str().cmp(text))
                    .map_or_else(|_| Vec::new(), |k| vec![&files[k]]),
                None => files.iter().filter(|f| matches(f.as_str())).collect(),
            };
            let deleted: Vec<&EntryPath> = matched
                .iter()
                .copied()
                .filter(|f| !written_here.contains(f.as_str()))
                .collect();
            if matched.is_empty() {
                self.warn(
                    WarningCode::DeletePatternMatchesNothing,
                    format!("{at} matches no file of the {scope}"),
                );
            } else if deleted.is_empty() {
                self.warn(
                    WarningCode::DeletePatternDeletesNothing,
                    format!(
                        "{at} matches only files that this update writes, so it deletes nothing"
                    ),
                );
            }
            let found: Vec<&EntryPath> = match pattern.literal() {
                Some(_) => std::mem::take(&mut substring_hits[i]),
                None => files
                    .iter()
                    .filter(|f| finds(f.as_str()) && !matches(f.as_str()))
                    .collect(),
            };
            if !found.is_empty() {
                let shown: Vec<String> = found
                    .iter()
                    .take(5)
                    .map(|p| scope.full_path(p).to_string())
                    .collect();
                let more = if found.len() > 5 {
                    format!(" (+{} more)", found.len() - 5)
                } else {
                    String::new()
                };
                self.warn(
                    WarningCode::DeletePatternSubstringDiffers,
                    format!(
                        "{at}: tools that match by substring (Java's find()) would also delete {}{more}; earpatch \
                         matches the whole path (String.matches) and keeps them",
                        shown.join(", ")
                    ),
                );
            }
            if scope == Scope::Application && deleted.iter().any(|p| p.as_str() == DESCRIPTOR_PATH)
            {
                return Err(Error::DeleteList {
                    location: location.clone(),
                    line: pattern.line,
                    message: format!(
                        "pattern `{}` deletes {DESCRIPTOR_PATH}, which decides which archives are modules; use a \
                         full update",
                        pattern.pattern
                    ),
                });
            }
            deletions.extend(deleted.into_iter().cloned());
        }
        for rel in deletions {
            let rule = classify_file(module_kind, &rel, FileOp::Delete);
            self.push_change(
                scope.full_path(&rel),
                scope.clone(),
                Op::Delete,
                Some(rule),
                Origin::None,
            );
        }
        Ok(())
    }
}

/// For each plain-text pattern, the files that contain it without being it
/// (what Java's `find()` would also delete), found in one pass over the
/// files with one automaton for all of them (Aho-Corasick), so a list of
/// 100,000 paths costs one scan, not 100,000.
fn substring_hits<'f>(
    patterns: &[DeletePattern],
    files: &'f [EntryPath],
) -> Vec<Vec<&'f EntryPath>> {
    let mut hits = vec![Vec::new(); patterns.len()];
    let literals: Vec<(usize, &str)> = patterns
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.literal().map(|text| (i, text)))
        .collect();
    let Ok(automaton) = aho_corasick::AhoCorasick::new(literals.iter().map(|(_, text)| text))
    else {
        return hits;
    };
    for file in files {
        for found in automaton.find_overlapping_iter(file.as_str()) {
            let (i, text) = literals[found.pattern().as_usize()];
            let list: &mut Vec<&EntryPath> = &mut hits[i];
            if file.as_str() != text && list.last() != Some(&file) {
                list.push(file);
            }
        }
    }
    hits
}
