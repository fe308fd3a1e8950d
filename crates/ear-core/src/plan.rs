//! Plans: what an update changes in an application, and what must restart
//! (spec §2, §3, §9). Planning reads but never writes, and is deterministic.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::impact::{
    Effect, Escalation, FileOp, Impact, Rule, Settings, classify_file, classify_module,
};
use crate::model::{
    Application, DESCRIPTOR_PATH, Descriptor, Digest, Form, LibraryDirectory, MODULE_EXTENSIONS,
    ModuleKind, Scope, ScopeReader, Storage, Warning, WarningCode, kind_from_extension,
    manifest_has_main_class,
};
use crate::path::EntryPath;
use crate::update::{DELETE_LIST_PATH, DeleteList, Payload, Update, UpdateKind};

/// The schema name of a plan's JSON form.
pub const PLAN_SCHEMA: &str = "earpatch.plan/v1";

/// What happens to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    /// A new file or module.
    Add,
    /// New bytes for an existing file or module.
    Replace,
    /// Removed.
    Delete,
    /// Shipped, but byte-identical to what is deployed: written nowhere.
    Unchanged,
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Op::Add => "add",
            Op::Replace => "replace",
            Op::Delete => "delete",
            Op::Unchanged => "unchanged",
        })
    }
}

/// Where the new bytes of a change come from (for applying it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Nothing to write (delete, unchanged).
    None,
    /// An entry of the partial-update zip.
    ZipEntry(EntryPath),
    /// The update file itself (module and file updates).
    SourceFile,
    /// A file of the new application (full updates), by full path.
    NewApplication(EntryPath),
}

/// Details of a whole-module change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleChange {
    /// The module's kind.
    pub kind: ModuleKind,
    /// Its context root (web modules).
    pub context_root: Option<String>,
    /// Whether applying registers the module in `META-INF/application.xml`.
    pub registers_in_descriptor: bool,
    /// Files of the new archive that the old module lacks.
    pub files_added: usize,
    /// Files whose bytes differ.
    pub files_replaced: usize,
    /// Files of the old module that the new archive lacks.
    pub files_deleted: usize,
    /// Files with the same bytes.
    pub files_unchanged: usize,
}

/// One change of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The full path (for a whole-module change, the module URI).
    pub path: EntryPath,
    /// The scope: the application, or the module holding the file.
    pub scope: Scope,
    /// What happens.
    pub op: Op,
    /// The rule that classified it; `None` when unchanged.
    pub rule: Option<Rule>,
    /// The rule's own effect, or the escalated one when `escalated_by` is set.
    pub effect: Effect,
    /// The setting that escalated the effect to restart-application.
    pub escalated_by: Option<Escalation>,
    /// For a whole-module change: what changes inside the module.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<ModuleChange>,
    /// The kind of the module holding the change (`None` in the application scope).
    #[serde(skip)]
    pub module_kind: Option<ModuleKind>,
    #[serde(skip)]
    pub(crate) origin: Origin,
}

impl Change {
    /// The rule's own effect, before escalation.
    #[must_use]
    pub fn rule_effect(&self) -> Effect {
        self.rule.map_or(Effect::None, Rule::effect)
    }
}

/// The application a plan was computed against.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedApplication {
    /// The path given.
    pub path: String,
    /// Archive or expanded.
    pub form: Form,
    /// The content digest before the update; `None` when not computed.
    pub digest: Option<Digest>,
}

/// The update a plan was computed for.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedUpdate {
    /// Its kind.
    pub kind: UpdateKind,
    /// The path given.
    pub source: String,
}

/// Options for planning.
///
/// ```
/// use ear_core::{ClassLoaderPolicy, PlanOptions, Settings};
/// let options = PlanOptions::default()
///     .settings(Settings::default().classloader_policy(ClassLoaderPolicy::Single))
///     .digest(false);
/// assert!(!options.digest);
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Deployment settings (E1/E2).
    pub settings: Settings,
    /// Whether to compute the application's content digest (reads every file;
    /// default true).
    pub digest: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            settings: Settings::default(),
            digest: true,
        }
    }
}

impl PlanOptions {
    /// Sets the deployment settings.
    #[must_use]
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Sets whether to compute the content digest.
    #[must_use]
    pub fn digest(mut self, digest: bool) -> Self {
        self.digest = digest;
        self
    }
}

/// Changes and restart impact of an update, computed without writing.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// `earpatch.plan/v1`.
    pub schema: &'static str,
    /// The application.
    pub application: PlannedApplication,
    /// The update.
    pub update: PlannedUpdate,
    /// Every change, sorted by path.
    pub changes: Vec<Change>,
    /// The strongest effect and the module actions.
    pub impact: Impact,
    /// Things an operator should know; `--strict` makes them errors.
    pub warnings: Vec<Warning>,
    /// The settings used.
    #[serde(skip)]
    pub settings: Settings,
}

impl Plan {
    /// Computes the plan of `update` against `app` (spec §2, §3).
    ///
    /// ```
    /// # fn main() -> ear_core::Result<()> {
    /// # let dir = tempfile::tempdir().map_err(|e| ear_core::Error::Io { action: "tmp", path: ".".into(), source: e })?;
    /// # let ear = dir.path().join("shop.ear");
    /// # let zip = dir.path().join("shop-fix.zip");
    /// # std::fs::write(&ear, ear_fixtures::sample::shop_ear()).map_err(|e| ear_core::Error::Io { action: "w", path: ear.clone(), source: e })?;
    /// # std::fs::write(&zip, ear_fixtures::sample::shop_fix_zip()).map_err(|e| ear_core::Error::Io { action: "w", path: zip.clone(), source: e })?;
    /// use ear_core::{Application, Effect, Plan, PlanOptions, Update};
    /// let app = Application::open(&ear)?;
    /// let plan = Plan::new(&app, &Update::infer(&zip)?, &PlanOptions::default())?;
    /// assert_eq!(plan.impact.effect, Effect::RestartApplication);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The update cannot be read, or is refused (it names the entry, flag or
    /// delete-list line concerned and what to do instead).
    pub fn new(app: &Application, update: &Update, options: &PlanOptions) -> Result<Plan> {
        if app.is_standalone_module() {
            return Err(Error::refused(
                app.path().display().to_string(),
                "this is a standalone module archive, not an enterprise application; updates apply to an EAR \
                 (or its expanded directory), e.g. a module update of the EAR that holds this module",
            ));
        }
        let mut planner = Planner {
            app,
            update,
            settings: options.settings,
            changes: Vec::new(),
            warnings: Vec::new(),
            readers: BTreeMap::new(),
            kinds_after: BTreeMap::new(),
        };
        let digest = match &update.payload {
            Payload::Full(new_app) => planner.plan_full(new_app, options.digest)?,
            _ => {
                let shipment = planner.shipment()?;
                planner.plan_shipment(&shipment)?;
                if options.digest {
                    Some(app.digest()?)
                } else {
                    None
                }
            }
        };
        let Planner {
            mut changes,
            mut warnings,
            ..
        } = planner;
        changes.sort_by(|a, b| a.path.cmp(&b.path).then(a.op.cmp(&b.op)));
        warnings.sort();
        warnings.dedup();
        let impact = Impact::aggregate(changes.iter().map(|c| {
            let module = match &c.scope {
                Scope::Module(uri) => Some(uri),
                Scope::Application => None,
            };
            (module, c.effect)
        }));
        Ok(Plan {
            schema: PLAN_SCHEMA,
            application: PlannedApplication {
                path: app.path().display().to_string(),
                form: app.form(),
                digest,
            },
            update: PlannedUpdate {
                kind: update.kind(),
                source: update.source().display().to_string(),
            },
            changes,
            impact,
            warnings,
            settings: options.settings,
        })
    }

    /// Whether nothing would be written (every change unchanged, or none).
    #[must_use]
    pub fn is_noop(&self) -> bool {
        self.changes.iter().all(|c| c.op == Op::Unchanged)
    }

    /// The changes that write or delete something.
    pub fn effective_changes(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.op != Op::Unchanged)
    }
}

/// One file or module shipped by a non-full update.
struct Entry {
    path: EntryPath,
    origin: Origin,
}

/// A non-full update reduced to entries and delete lists.
struct Shipment {
    entries: Vec<Entry>,
    delete_lists: Vec<EntryPath>,
    /// For a module update: the URI and the requested context root.
    module: Option<(EntryPath, Option<String>)>,
}

/// A module as it will be after the update.
#[derive(Debug, Clone)]
struct ModuleAfter {
    kind: ModuleKind,
    context_root: Option<String>,
    /// Present in the application before (not missing).
    existed: bool,
}

struct Planner<'a> {
    app: &'a Application,
    update: &'a Update,
    settings: Settings,
    changes: Vec<Change>,
    warnings: Vec<Warning>,
    readers: BTreeMap<Scope, ScopeReader<'a>>,
    kinds_after: BTreeMap<EntryPath, ModuleKind>,
}

/// "a web", "an ejb", ... for messages.
fn a_kind(kind: ModuleKind) -> String {
    match kind {
        ModuleKind::Ejb => "an EJB".to_owned(),
        other => format!("a {other}"),
    }
}

/// What a jar's content says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JarNature {
    Ejb,
    Client,
    Plain,
}

fn jar_nature(bytes: &[u8]) -> Option<JarNature> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let has = |zip: &zip::ZipArchive<Cursor<&[u8]>>, n: &str| zip.index_for_name(n).is_some();
    if has(&zip, "META-INF/ejb-jar.xml") {
        return Some(JarNature::Ejb);
    }
    if has(&zip, "META-INF/application-client.xml") {
        return Some(JarNature::Client);
    }
    let mut manifest = Vec::new();
    if let Ok(mut entry) = zip.by_name("META-INF/MANIFEST.MF") {
        let _ = std::io::Read::read_to_end(&mut entry, &mut manifest);
    }
    let main_class = manifest_has_main_class(&manifest);
    Some(if main_class {
        JarNature::Client
    } else {
        JarNature::Plain
    })
}

impl<'a> Planner<'a> {
    fn source_name(&self) -> String {
        self.update.source().display().to_string()
    }

    fn entry_location(&self, path: &EntryPath) -> String {
        format!("{}!{path}", self.source_name())
    }

    fn read_origin(&self, origin: &Origin) -> Result<Vec<u8>> {
        match (origin, &self.update.payload) {
            (Origin::ZipEntry(path), Payload::Partial(zip)) => zip.read(path, self.update.source()),
            (Origin::SourceFile, _) => self.update.read_source(),
            _ => Err(Error::refused(
                self.source_name(),
                "internal error: no bytes for this change",
            )),
        }
    }

    fn reader(&mut self, scope: &Scope) -> Result<&ScopeReader<'a>> {
        if !self.readers.contains_key(scope) {
            let reader = self.app.open_scope(scope)?;
            self.readers.insert(scope.clone(), reader);
        }
        self.readers.get(scope).ok_or_else(|| {
            Error::refused(scope.to_string(), "internal error: scope reader missing")
        })
    }

    fn warn(&mut self, code: WarningCode, message: String) {
        self.warnings.push(Warning::new(code, message));
    }

    /// Reduces a module, file or partial update to entries and delete lists.
    fn shipment(&self) -> Result<Shipment> {
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

    /// The module set after the update (spec §9.3).
    fn modules_after(&mut self, shipment: &Shipment) -> Result<BTreeMap<EntryPath, ModuleAfter>> {
        let app = self.app;
        let descriptor_path = EntryPath::new(DESCRIPTOR_PATH).unwrap_or_else(|_| unreachable!());
        let new_descriptor = match shipment.entries.iter().find(|e| e.path == descriptor_path) {
            Some(entry) => {
                let bytes = self.read_origin(&entry.origin)?;
                Some(Descriptor::parse(
                    &bytes,
                    &self.entry_location(&entry.path),
                )?)
            }
            None => None,
        };
        let mut after = BTreeMap::new();
        let existed = |uri: &EntryPath| {
            app.module(uri)
                .is_some_and(|m| m.storage != Storage::Missing)
        };
        if let Some(d) = &new_descriptor {
            for m in &d.modules {
                after.entry(m.uri.clone()).or_insert(ModuleAfter {
                    kind: m.kind,
                    context_root: m.context_root.clone(),
                    existed: existed(&m.uri),
                });
            }
            for old in app.modules() {
                if !after.contains_key(&old.uri) {
                    return Err(Error::refused(
                        self.entry_location(&descriptor_path),
                        format!(
                            "the new descriptor no longer declares module {}; a partial update never removes a \
                             module, use a full update",
                            old.uri
                        ),
                    ));
                }
            }
        } else {
            for m in app.modules() {
                after.insert(
                    m.uri.clone(),
                    ModuleAfter {
                        kind: m.kind,
                        context_root: m.context_root.clone(),
                        existed: m.storage != Storage::Missing,
                    },
                );
            }
            let has_descriptor = app.descriptor().is_some();
            let lib = self.library_directory_after(new_descriptor.as_ref());
            for entry in &shipment.entries {
                let is_module_update = shipment
                    .module
                    .as_ref()
                    .is_some_and(|(uri, _)| uri == &entry.path);
                if after.contains_key(&entry.path) || after.keys().any(|m| entry.path.is_inside(m))
                {
                    continue;
                }
                let Some(ext) = entry
                    .path
                    .extension()
                    .filter(|e| MODULE_EXTENSIONS.contains(&e.as_str()))
                else {
                    if is_module_update {
                        return Err(Error::refused(
                            format!("module URI {}", entry.path),
                            "a module URI ends in .war, .jar, .rar or .sar",
                        ));
                    }
                    continue;
                };
                if lib.contains(&entry.path) || lib.holds(&entry.path) {
                    if is_module_update {
                        return Err(Error::refused(
                            format!("module URI {}", entry.path),
                            format!(
                                "{} is in the library directory {lib}, which holds libraries, never modules",
                                entry.path
                            ),
                        ));
                    }
                    continue;
                }
                let kind = match entry
                    .path
                    .extension()
                    .as_deref()
                    .and_then(kind_from_extension)
                {
                    Some(kind) => Some(kind),
                    None => {
                        let bytes = self.read_origin(&entry.origin)?;
                        match jar_nature(&bytes) {
                            Some(JarNature::Ejb) => Some(ModuleKind::Ejb),
                            Some(JarNature::Client) => Some(ModuleKind::Client),
                            Some(JarNature::Plain) if is_module_update && has_descriptor => {
                                Some(ModuleKind::Ejb)
                            }
                            Some(JarNature::Plain) if is_module_update => {
                                return Err(Error::refused(
                                    self.source_name(),
                                    format!(
                                        "{} is neither an EJB module (no META-INF/ejb-jar.xml) nor a client module \
                                         (no META-INF/application-client.xml, no Main-Class), and the application \
                                         has no descriptor to declare it; add it as a file (--file {}) if it is a \
                                         library",
                                        entry.path, entry.path
                                    ),
                                ));
                            }
                            Some(JarNature::Plain) => None,
                            None if is_module_update => {
                                return Err(Error::refused(
                                    self.source_name(),
                                    format!("{ext} archive is not a valid zip"),
                                ));
                            }
                            None => None,
                        }
                    }
                };
                let Some(kind) = kind else { continue };
                if has_descriptor && !is_module_update {
                    // §9.3: with a descriptor, an undeclared archive is a plain file.
                    self.warn(
                        WarningCode::UndeclaredModuleArchive,
                        format!(
                            "{} looks like a {kind} module but {DESCRIPTOR_PATH} does not declare it; it is added as a \
                             plain application file (ship a descriptor that declares it, or use a module update)",
                            entry.path
                        ),
                    );
                    continue;
                }
                after.insert(
                    entry.path.clone(),
                    ModuleAfter {
                        kind,
                        context_root: None,
                        existed: false,
                    },
                );
            }
        }
        for outer in after.keys() {
            if let Some(inner) = after.keys().find(|inner| inner.is_inside(outer)) {
                return Err(Error::NestedModule {
                    outer: outer.to_string(),
                    inner: inner.to_string(),
                });
            }
        }
        Ok(after)
    }

    fn library_directory_after(&self, new_descriptor: Option<&Descriptor>) -> LibraryDirectory {
        new_descriptor.map_or_else(
            || self.app.library_directory().clone(),
            |d| d.library_directory.clone(),
        )
    }

    fn push_change(
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

    fn plan_shipment(&mut self, shipment: &Shipment) -> Result<()> {
        let after = self.modules_after(shipment)?;
        self.kinds_after = after.iter().map(|(uri, m)| (uri.clone(), m.kind)).collect();
        // Entries that ship a whole module, and file entries grouped by scope.
        let mut by_scope: BTreeMap<Scope, Vec<(EntryPath, &Entry)>> = BTreeMap::new();
        let mut whole_modules = Vec::new();
        for entry in &shipment.entries {
            if after.contains_key(&entry.path) {
                whole_modules.push(entry);
                continue;
            }
            if let Some((uri, module)) = after.iter().find(|(uri, _)| entry.path.is_inside(uri)) {
                if shipment.entries.iter().any(|e| &e.path == uri) {
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
                let rel = entry
                    .path
                    .strip_dir(uri)
                    .unwrap_or_else(|| entry.path.clone());
                by_scope
                    .entry(Scope::Module(uri.clone()))
                    .or_default()
                    .push((rel, entry));
            } else {
                by_scope
                    .entry(Scope::Application)
                    .or_default()
                    .push((entry.path.clone(), entry));
            }
        }
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
        let written: BTreeMap<Scope, BTreeSet<EntryPath>> = by_scope
            .iter()
            .map(|(scope, files)| {
                (
                    scope.clone(),
                    files.iter().map(|(rel, _)| rel.clone()).collect(),
                )
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

    fn check_module_update(
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
                        a_kind(new.kind)
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

    fn plan_module(
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
        let bytes = self.read_origin(&entry.origin)?;
        let mut new_zip = zip::ZipArchive::new(Cursor::new(&bytes[..])).map_err(|e| {
            Error::refused(
                &location,
                format!("not a valid {} module archive ({e})", module.kind),
            )
        })?;
        let (new_entries, _) = crate::source::index_entries(&new_zip, &location)?;
        if module.kind == ModuleKind::Ejb || module.kind == ModuleKind::Client {
            let nature = jar_nature(&bytes);
            let contradicts = match module.kind {
                ModuleKind::Ejb => nature == Some(JarNature::Client),
                _ => nature == Some(JarNature::Ejb),
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
                        a_kind(module.kind)
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
                        let old = reader.read(path)?.unwrap_or_default();
                        let mut new = Vec::new();
                        let mut file = new_zip
                            .by_index(index)
                            .map_err(|e| Error::zip(format!("{location}!{path}"), e))?;
                        std::io::Read::read_to_end(&mut file, &mut new).map_err(|e| {
                            Error::io("cannot read", format!("{location}!{path}"), e)
                        })?;
                        if old == new {
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

    fn plan_files(
        &mut self,
        scope: &Scope,
        files: &[(EntryPath, &Entry)],
        after: &BTreeMap<EntryPath, ModuleAfter>,
    ) -> Result<()> {
        let module_kind = match scope {
            Scope::Application => None,
            Scope::Module(uri) => after.get(uri).map(|m| m.kind),
        };
        let existing: BTreeSet<EntryPath> = self
            .reader(scope)?
            .files()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let lib = self.app.library_directory().clone();
        for (rel, entry) in files {
            let full = scope.full_path(rel);
            if let Some(file_ancestor) = rel
                .ancestors()
                .find(|a| EntryPath::new(a).is_ok_and(|a| existing.contains(&a)))
            {
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
            let old = self.reader(scope)?.read(rel)?;
            let op = match old {
                None => {
                    if existing
                        .range(rel.clone()..)
                        .next()
                        .is_some_and(|p| p.is_inside(rel))
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
                Some(old) => {
                    let new = self.read_origin(&entry.origin)?;
                    if old == new {
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

    fn plan_delete_list(
        &mut self,
        props: &EntryPath,
        after: &BTreeMap<EntryPath, ModuleAfter>,
        written: &BTreeMap<Scope, BTreeSet<EntryPath>>,
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
            Payload::Partial(zip) => zip.read(props, self.update.source())?,
            _ => return Ok(()),
        };
        let list = DeleteList::parse(&bytes, &location, scope.clone())?;
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
        let mut deletions = BTreeSet::new();
        for pattern in &list.patterns {
            let at = format!(
                "pattern {:?} (line {} of {location})",
                pattern.pattern, pattern.line
            );
            if scope == Scope::Application {
                let modules: BTreeSet<&EntryPath> = after
                    .keys()
                    .chain(self.app.modules().iter().map(|m| &m.uri))
                    .collect();
                if let Some(uri) = modules
                    .into_iter()
                    .find(|uri| pattern.matches(uri.as_str()))
                {
                    return Err(Error::DeleteList {
                        location: location.clone(),
                        line: pattern.line,
                        message: format!(
                            "pattern {:?} matches module {uri}; a partial update never removes a module, use a full update",
                            pattern.pattern
                        ),
                    });
                }
            }
            let matched: Vec<&EntryPath> = files
                .iter()
                .filter(|f| pattern.matches(f.as_str()))
                .collect();
            let deleted: Vec<&EntryPath> = matched
                .iter()
                .copied()
                .filter(|f| !written_here.contains(*f))
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
            let found: Vec<&EntryPath> = files
                .iter()
                .filter(|f| pattern.finds(f.as_str()) && !pattern.matches(f.as_str()))
                .collect();
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
                        "pattern {:?} deletes {DESCRIPTOR_PATH}, which decides which archives are modules; use a \
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

    /// A full update: one change per file of either application (spec §9.1).
    fn plan_full(&mut self, new_app: &Application, digest: bool) -> Result<Option<Digest>> {
        let old = self.app.inventory()?;
        let new = new_app.inventory()?;
        let flatten = |inv: &crate::model::Inventory| -> BTreeMap<EntryPath, (Scope, [u8; 32])> {
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
