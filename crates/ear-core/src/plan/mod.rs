//! Plans: what an update changes in an application, and what must restart
//! (spec §2, §3, §9).
//!
//! It owns the plan types ([`Plan`], [`Change`], [`Op`], [`PlanOptions`]) and
//! [`Plan::new`]; the planner's jobs live one per file: `planner` (the
//! update reduced to entries, changes recorded with their rule and effect),
//! `modules_after` (the module set after the update), `files` (files and
//! whole modules compared with what is deployed), `deletes` (delete lists)
//! and `full` (full updates). Planning reads but never writes, and is
//! deterministic (sorted output).

mod deletes;
mod files;
mod full;
mod modules_after;
pub(crate) mod planner;

use std::fs::File;
use std::io::{BufReader, Read};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::impact::{Effect, Escalation, Impact, Rule, Settings};
use crate::limits::Limits;
use crate::model::inventory::sha256_of;
use crate::model::{Application, Digest, Form, Inventory, ModuleKind, Scope, Warning};
use crate::path::EntryPath;
use crate::source::{DynZip, ReadSeek, seekable};
use crate::update::{Payload, Update, UpdateKind};
use planner::Planner;

/// The schema name of a plan's JSON form.
pub const PLAN_SCHEMA: &str = "earpatch.plan/v1";

/// What happens to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

impl Origin {
    /// Runs `f` over a reader of the new bytes of a change (streamed from
    /// the update: nothing is held whole in memory).
    pub(crate) fn with_reader<T>(
        &self,
        update: &Update,
        f: impl FnOnce(&mut dyn Read) -> Result<T>,
    ) -> Result<T> {
        let source = update.source();
        match (self, &update.payload) {
            (Origin::ZipEntry(path), Payload::Partial(zip)) => zip.with_entry(path, source, f),
            (Origin::SourceFile, _) => {
                let file = File::open(source).map_err(|e| Error::io("cannot read", source, e))?;
                f(&mut BufReader::new(file))
            }
            (Origin::NewApplication(path), Payload::Full(new_app)) => {
                new_app.with_file_reader(path, f)?.ok_or_else(|| {
                    Error::refused(format!("{}!{path}", source.display()), "the file vanished")
                })
            }
            _ => Err(Error::refused(
                source.display().to_string(),
                "internal error: no bytes for this change",
            )),
        }
    }

    /// Reads the new bytes whole: only for small texts (descriptors, delete
    /// lists), whose size is checked first.
    pub(crate) fn read(&self, update: &Update) -> Result<Vec<u8>> {
        let location = update.source().display().to_string();
        self.with_reader(update, |r| crate::source::read_all(r, &location))
    }

    /// SHA-256 of the new bytes, streamed.
    pub(crate) fn sha256(&self, update: &Update) -> Result<[u8; 32]> {
        let location = update.source().display().to_string();
        self.with_reader(update, |r| sha256_of(r, &location))
    }

    /// Size and SHA-256 of the new bytes when already known without reading
    /// them (a file of a full update's new application, from its inventory).
    pub(crate) fn known_file(&self, update: &Update) -> Option<(u64, [u8; 32])> {
        match self {
            Origin::NewApplication(path) => update.new_file(path).map(|f| (f.size, f.sha256)),
            _ => None,
        }
    }

    /// The size of the new bytes, as declared (zip entries) or on disk.
    pub(crate) fn size(&self, update: &Update) -> Option<u64> {
        match (self, &update.payload) {
            (Origin::ZipEntry(path), Payload::Partial(zip)) => zip.size(path),
            (Origin::SourceFile, _) => std::fs::metadata(update.source()).ok().map(|m| m.len()),
            (Origin::NewApplication(path), Payload::Full(_)) => update.new_file_size(path),
            _ => None,
        }
    }

    /// Opens the new bytes as a zip (a module archive): the update file
    /// itself, or a copy of a zip entry, spilled to disk when large.
    pub(crate) fn open_zip(&self, update: &Update, location: &str) -> Result<DynZip> {
        let reader: Box<dyn ReadSeek> = match self {
            Origin::SourceFile => {
                let path = update.source();
                Box::new(BufReader::new(
                    File::open(path).map_err(|e| Error::io("cannot read", path, e))?,
                ))
            }
            _ => seekable(self.size(update).unwrap_or(u64::MAX), location, |out| {
                self.with_reader(update, |r| {
                    std::io::copy(r, out).map_err(|e| Error::io("cannot read", location, e))?;
                    Ok(())
                })
            })?,
        };
        zip::ZipArchive::new(reader).map_err(|e| Error::zip(location, e))
    }
}

/// Details of a whole-module change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedApplication {
    /// The path given.
    pub path: String,
    /// Archive or expanded.
    pub form: Form,
    /// The content digest before the update; `None` when not computed.
    pub digest: Option<Digest>,
}

/// The update a plan was computed for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Bounds on the inputs (operations open the application with them).
    pub limits: Limits,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            settings: Settings::default(),
            limits: Limits::default(),
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

    /// Sets the bounds on inputs.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
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
    /// The application's modules before the update (URI and kind), for
    /// reports that show every module, touched or not. Not in the JSON.
    #[serde(skip)]
    pub modules: Vec<(EntryPath, ModuleKind)>,
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
        Plan::build(app, update, options, None)
    }

    /// [`Plan::new`] with `app`'s inventory already taken (for example
    /// through its content index, [`crate::inventory`]): the application is
    /// not read again, neither for the digest nor to compare it with a full
    /// update's new application. The inventory must be `app`'s.
    ///
    /// # Errors
    /// As [`Plan::new`].
    pub fn with_inventory(
        app: &Application,
        update: &Update,
        options: &PlanOptions,
        inventory: &Inventory,
    ) -> Result<Plan> {
        Plan::build(app, update, options, Some(inventory))
    }

    /// [`Plan::new`] for a caller that already holds `app`'s inventory
    /// (`known`): the application is then not read again, neither for the
    /// digest nor to compare it with a full update's new application.
    pub(crate) fn build(
        app: &Application,
        update: &Update,
        options: &PlanOptions,
        known: Option<&Inventory>,
    ) -> Result<Plan> {
        if app.form() == Form::Archive
            && app
                .path()
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            return Err(Error::refused(
                app.path().display().to_string(),
                "the application ends in .zip, the name of a partial update; did you swap APP and UPDATE? \
                 (earpatch plan|apply APP UPDATE, e.g. earpatch apply app.ear fix.zip)",
            ));
        }
        if app.is_standalone_module() {
            return Err(Error::refused(
                app.path().display().to_string(),
                "this is a standalone module archive, not an enterprise application; updates apply to an EAR \
                 (or its expanded directory), e.g. a module update of the EAR that holds this module",
            ));
        }
        let mut planner = Planner::new(app, update, options.settings);
        let digest = match &update.payload {
            Payload::Full(_) => planner.plan_full(known, options.digest)?,
            _ => {
                let shipment = planner.shipment()?;
                planner.plan_shipment(&shipment)?;
                match (options.digest, known) {
                    (false, _) => None,
                    (true, Some(inventory)) => Some(inventory.digest()),
                    (true, None) => Some(app.digest()?),
                }
            }
        };
        let Planner {
            mut changes,
            mut warnings,
            mut links,
            ..
        } = planner;
        for change in &changes {
            links.check(&change.path)?;
        }
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
            modules: app
                .modules()
                .iter()
                .map(|m| (m.uri.clone(), m.kind))
                .collect(),
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

/// Refuses a plan that would read or write under a symbolic link of an
/// expanded application: earpatch never follows a link inside an
/// application (the README's "Safety" rule), so that patching one
/// application can never change another one, or anything else, through it.
/// Folders found clean are remembered: each is looked at once, whatever the
/// number of changes under it.
#[derive(Debug)]
pub(crate) struct LinkCheck<'a> {
    app: &'a Application,
    clean: std::collections::HashSet<String>,
}

impl<'a> LinkCheck<'a> {
    pub(crate) fn new(app: &'a Application) -> Self {
        LinkCheck {
            app,
            clean: std::collections::HashSet::new(),
        }
    }

    /// Refuses `path` when it or one of its folders is a symbolic link.
    pub(crate) fn check(&mut self, path: &EntryPath) -> Result<()> {
        if self.app.form() == Form::Archive {
            return Ok(());
        }
        for folder in path.ancestors() {
            if self.clean.contains(folder) {
                continue;
            }
            if self.app.is_link(folder) {
                return Err(self.refusal(folder, path));
            }
            self.clean.insert(folder.to_owned());
        }
        if self.app.is_link(path.as_str()) {
            return Err(self.refusal(path.as_str(), path));
        }
        Ok(())
    }

    fn refusal(&self, link: &str, path: &EntryPath) -> Error {
        Error::refused(
            self.app.path().join(link).display().to_string(),
            format!(
                "{link} is a symbolic link and the update changes {path}; earpatch never writes through a \
                 link inside an application. Replace the link by the folder or file it points to (or \
                 apply the update to the application that owns the target)"
            ),
        )
    }
}
