//! The planner: an update reduced to the entries and delete lists it ships
//! ([`Shipment`]), each change recorded with its rule and effect, and the
//! order of the jobs (module set, whole modules, files, delete lists).
//!
//! It reads the application and the update and never writes. The jobs
//! themselves live in the sibling files, one per job.

use std::collections::{BTreeMap, BTreeSet};

use super::{Change, Op, Origin};
use crate::error::{Error, Result};
use crate::impact::{Effect, Rule, Settings};
use crate::model::{
    Application, ModuleKind, Scope, ScopeReader, Warning, WarningCode, is_module_extension,
};
use crate::path::EntryPath;
use crate::update::{DELETE_LIST_PATH, Payload, Update};

/// One file or module shipped by a non-full update.
pub(super) struct Entry {
    pub(super) path: EntryPath,
    pub(super) origin: Origin,
}

/// A non-full update reduced to entries and delete lists.
pub(super) struct Shipment {
    pub(super) entries: Vec<Entry>,
    pub(super) delete_lists: Vec<EntryPath>,
    /// For a module update: the URI and the requested context root.
    pub(super) module: Option<(EntryPath, Option<String>)>,
}

/// A module as it will be after the update.
#[derive(Debug, Clone)]
pub(super) struct ModuleAfter {
    pub(super) kind: ModuleKind,
    pub(super) context_root: Option<String>,
    /// Present in the application before (not missing).
    pub(super) existed: bool,
}

/// The state of one planning run.
pub(crate) struct Planner<'a> {
    pub(super) app: &'a Application,
    pub(super) update: &'a Update,
    pub(super) settings: Settings,
    pub(super) changes: Vec<Change>,
    pub(super) warnings: Vec<Warning>,
    readers: BTreeMap<Scope, ScopeReader<'a>>,
    kinds_after: BTreeMap<EntryPath, ModuleKind>,
    pub(super) links: super::LinkCheck<'a>,
}

impl<'a> Planner<'a> {
    pub(super) fn new(app: &'a Application, update: &'a Update, settings: Settings) -> Self {
        Planner {
            app,
            update,
            settings,
            changes: Vec::new(),
            warnings: Vec::new(),
            readers: BTreeMap::new(),
            kinds_after: BTreeMap::new(),
            links: super::LinkCheck::new(app),
        }
    }

    pub(super) fn source_name(&self) -> String {
        self.update.source().display().to_string()
    }

    pub(super) fn entry_location(&self, path: &EntryPath) -> String {
        format!("{}!{path}", self.source_name())
    }

    pub(super) fn read_origin(&self, origin: &Origin) -> Result<Vec<u8>> {
        origin.read(self.update)
    }

    /// Reads a small text the update ships (a descriptor, a delete list),
    /// refusing one over the text limit before reading it.
    pub(super) fn read_text(&self, origin: &Origin, what: &str) -> Result<Vec<u8>> {
        let max = self.update.limits().max_text;
        let size = match (origin, &self.update.payload) {
            (Origin::ZipEntry(path), Payload::Partial(zip)) => zip.entries.get(path).map(|e| e.1),
            (Origin::SourceFile, _) => std::fs::metadata(self.update.source())
                .ok()
                .map(|m| m.len()),
            _ => None,
        };
        if let Some(size) = size.filter(|s| *s > max) {
            let at = match origin {
                Origin::ZipEntry(path) => self.entry_location(path),
                _ => self.source_name(),
            };
            return Err(Error::refused(
                at,
                format!("{what} of {size} bytes is over the limit of {max} (--max-text)"),
            ));
        }
        self.read_origin(origin)
    }

    pub(super) fn reader(&mut self, scope: &Scope) -> Result<&ScopeReader<'a>> {
        if !self.readers.contains_key(scope) {
            let reader = self.app.open_scope(scope)?;
            self.readers.insert(scope.clone(), reader);
        }
        self.readers.get(scope).ok_or_else(|| {
            Error::refused(scope.to_string(), "internal error: scope reader missing")
        })
    }

    pub(super) fn warn(&mut self, code: WarningCode, message: String) {
        self.warnings.push(Warning::new(code, message));
    }

    /// Reduces a module, file or partial update to entries and delete lists.
    pub(super) fn shipment(&self) -> Result<Shipment> {
        match &self.update.payload {
            Payload::Module { uri, context_root } => Ok(Shipment {
                entries: vec![Entry {
                    path: uri.clone(),
                    origin: Origin::SourceFile,
                }],
                delete_lists: Vec::new(),
                module: Some((uri.clone(), context_root.clone())),
            }),
            Payload::File { path } => {
                if let Some(m) = self.app.module(path) {
                    return Err(Error::refused(
                        format!("file path {path}"),
                        format!(
                            "{path} is the {} module {path}; use a module update (--module {path})",
                            m.kind
                        ),
                    ));
                }
                Ok(Shipment {
                    entries: vec![Entry {
                        path: path.clone(),
                        origin: Origin::SourceFile,
                    }],
                    delete_lists: Vec::new(),
                    module: None,
                })
            }
            Payload::Partial(zip) => {
                let mut entries = Vec::new();
                let mut delete_lists = Vec::new();
                for path in zip.entries.keys() {
                    let is_props = path.as_str() == DELETE_LIST_PATH
                        || path.as_str().ends_with(&format!("/{DELETE_LIST_PATH}"));
                    if is_props {
                        delete_lists.push(path.clone());
                    } else {
                        entries.push(Entry {
                            path: path.clone(),
                            origin: Origin::ZipEntry(path.clone()),
                        });
                    }
                }
                Ok(Shipment {
                    entries,
                    delete_lists,
                    module: None,
                })
            }
            Payload::Full(_) => Err(Error::refused(
                self.source_name(),
                "internal error: full update as shipment",
            )),
        }
    }

    pub(super) fn push_change(
        &mut self,
        path: EntryPath,
        scope: Scope,
        op: Op,
        rule: Option<Rule>,
        origin: Origin,
    ) {
        let module_kind = match &scope {
            Scope::Module(uri) => self
                .kinds_after
                .get(uri)
                .copied()
                .or_else(|| self.app.module(uri).map(|m| m.kind)),
            Scope::Application => None,
        };
        let (effect, escalated_by) = match (op, rule) {
            (Op::Unchanged, _) | (_, None) => (Effect::None, None),
            (_, Some(rule)) => self.settings.escalate(rule.effect()),
        };
        let rule = if op == Op::Unchanged { None } else { rule };
        self.changes.push(Change {
            path,
            scope,
            op,
            rule,
            effect,
            escalated_by,
            module: None,
            module_kind,
            origin,
        });
    }

    pub(super) fn plan_shipment(&mut self, shipment: &Shipment) -> Result<()> {
        for entry in &shipment.entries {
            self.links.check(&entry.path)?;
        }
        let after = self.modules_after(shipment)?;
        self.kinds_after = after.iter().map(|(uri, m)| (uri.clone(), m.kind)).collect();
        // Entries that ship a whole module, and file entries grouped by scope.
        let mut by_scope: BTreeMap<Scope, Vec<&Entry>> = BTreeMap::new();
        let mut whole_modules = Vec::new();
        // Looked up per entry: linear in the number of entries.
        let shipped_whole: BTreeSet<&EntryPath> = shipment
            .entries
            .iter()
            .map(|e| &e.path)
            .filter(|p| after.contains_key(*p))
            .collect();
        for entry in &shipment.entries {
            if after.contains_key(&entry.path) {
                whole_modules.push(entry);
                continue;
            }
            let holder = entry.path.ancestors().find_map(|a| after.get_key_value(a));
            if let Some((uri, module)) = holder {
                if shipped_whole.contains(uri) {
                    return Err(Error::refused(
                        self.entry_location(&entry.path),
                        format!(
                            "the update ships module {uri} whole and also files inside it; ship one or the other"
                        ),
                    ));
                }
                if !module.existed {
                    return Err(Error::refused(
                        self.entry_location(&entry.path),
                        format!(
                            "module {uri} is not in the application; ship it whole (an entry named {uri})"
                        ),
                    ));
                }
                by_scope
                    .entry(Scope::Module(uri.clone()))
                    .or_default()
                    .push(entry);
            } else {
                self.warn_module_like_folder(&entry.path);
                by_scope.entry(Scope::Application).or_default().push(entry);
            }
        }
        // The touched modules are read (inflated) on both cores at once.
        let touched: Vec<EntryPath> = by_scope
            .keys()
            .filter_map(|scope| match scope {
                Scope::Module(uri) => Some(uri.clone()),
                Scope::Application => None,
            })
            .collect();
        self.app.open_modules(&touched);
        if let Some((uri, context_root)) = &shipment.module {
            self.check_module_update(uri, context_root.as_ref(), &after)?;
        }
        for entry in whole_modules {
            let module = after.get(&entry.path).cloned().ok_or_else(|| {
                Error::refused(
                    self.entry_location(&entry.path),
                    "internal error: module vanished",
                )
            })?;
            let requested_root = shipment.module.as_ref().and_then(|(_, r)| r.clone());
            self.plan_module(entry, &module, requested_root)?;
        }
        // Paths inside their scope, as slices of the entries' own paths:
        // nothing per entry is allocated to remember them.
        let written: BTreeMap<Scope, BTreeSet<&str>> = by_scope
            .iter()
            .map(|(scope, files)| {
                let rels = files.iter().map(|e| rel_text(scope, &e.path)).collect();
                (scope.clone(), rels)
            })
            .collect();
        for (scope, files) in &by_scope {
            self.plan_files(scope, files, &after)?;
        }
        for props in &shipment.delete_lists {
            self.plan_delete_list(props, &after, &written, shipment)?;
        }
        Ok(())
    }

    /// An application-scope entry under a folder named like a module
    /// (`pbw-web.war/…`) that is not a module here: most likely an update
    /// built for another application.
    fn warn_module_like_folder(&mut self, path: &EntryPath) {
        let lib = self.app.library_directory();
        let Some(folder) = path.ancestors().find(|a| {
            EntryPath::new(a).is_ok_and(|a| {
                a.extension().is_some_and(|e| is_module_extension(&e))
                    && !lib.holds(&a)
                    && !lib.contains(&a)
            })
        }) else {
            return;
        };
        self.warn(
            WarningCode::NotAModule,
            format!(
                "{path} lies in {folder}, which is named like a module but is no module of this application; it \
                 is written as an application-scope file. Is the update meant for another application?"
            ),
        );
    }

    pub(super) fn check_module_update(
        &self,
        uri: &EntryPath,
        context_root: Option<&String>,
        after: &BTreeMap<EntryPath, ModuleAfter>,
    ) -> Result<()> {
        let source_ext = self
            .update
            .source()
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        let uri_ext = uri.extension();
        if let Some(old) = self.app.module(uri) {
            if source_ext.is_some() && source_ext != uri_ext {
                return Err(Error::refused(
                    self.source_name(),
                    format!(
                        "a .{} archive cannot replace the {} module {uri}; the replacement keeps the module's extension",
                        source_ext.unwrap_or_default(),
                        old.kind
                    ),
                ));
            }
            if context_root.is_some_and(|r| old.context_root.as_ref() != Some(r)) {
                return Err(Error::refused(
                    "--context-root",
                    format!(
                        "module {uri} already exists with context root {}; --context-root is only for adding a web module",
                        old.context_root.as_deref().unwrap_or("(none)")
                    ),
                ));
            }
        } else if let Some(new) = after.get(uri) {
            if context_root.is_some() && new.kind != ModuleKind::Web {
                return Err(Error::refused(
                    "--context-root",
                    format!(
                        "{uri} is {} module; only web modules have a context root",
                        new.kind.with_article()
                    ),
                ));
            }
        } else if let Some(outer) = self.app.modules().iter().find(|m| uri.is_inside(&m.uri)) {
            return Err(Error::refused(
                format!("module URI {uri}"),
                format!("{uri} lies inside module {}; modules never nest", outer.uri),
            ));
        }
        Ok(())
    }
}

/// The path of `full` inside `scope`, as a slice of it (`full` itself when
/// it does not lie in the scope's folder).
pub(super) fn rel_text<'p>(scope: &Scope, full: &'p EntryPath) -> &'p str {
    match scope {
        Scope::Application => full.as_str(),
        Scope::Module(uri) => full
            .as_str()
            .strip_prefix(uri.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(full.as_str()),
    }
}

/// The path of `full` inside `scope` (shared with `full` in the application scope).
pub(super) fn rel_path(scope: &Scope, full: &EntryPath) -> EntryPath {
    match scope {
        Scope::Application => full.clone(),
        Scope::Module(uri) => full.strip_dir(uri).unwrap_or_else(|| full.clone()),
    }
}
