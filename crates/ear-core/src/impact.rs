//! Restart rules (spec §3): each change gets a rule and an effect; the
//! application's impact is the strongest effect.

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::ModuleKind;
use crate::path::EntryPath;

/// What a change makes the server do, weakest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// Nothing.
    None,
    /// Picked up without a restart (JSPs, static content).
    Hot,
    /// A new module is started; nothing else restarts.
    StartModule,
    /// One module restarts.
    RestartModule,
    /// The whole application restarts.
    RestartApplication,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::None => "none",
            Effect::Hot => "hot",
            Effect::StartModule => "start-module",
            Effect::RestartModule => "restart-module",
            Effect::RestartApplication => "restart-application",
        })
    }
}

/// The rule that classified a change (stable IDs from spec §3).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[non_exhaustive]
pub enum Rule {
    /// Full update (any content change): restart-application.
    F1,
    /// Module added: start-module.
    M1,
    /// Web module replaced: restart-module.
    M2,
    /// Module of another kind replaced: restart-application.
    M3,
    /// File added in the application scope's `META-INF/`: restart-application.
    P1,
    /// Application-scope file replaced or deleted: restart-application.
    P2,
    /// File added in the application scope outside `META-INF/`: none.
    P3,
    /// File added, replaced or deleted in a non-web module: restart-application.
    P4,
    /// File under a web module's `WEB-INF/` or `META-INF/`: restart-module.
    P5,
    /// Any other file of a web module: hot.
    P6,
}

impl Rule {
    /// The effect the rule gives before any escalation.
    #[must_use]
    pub fn effect(self) -> Effect {
        match self {
            Rule::F1 | Rule::M3 | Rule::P1 | Rule::P2 | Rule::P4 => Effect::RestartApplication,
            Rule::M1 => Effect::StartModule,
            Rule::M2 | Rule::P5 => Effect::RestartModule,
            Rule::P3 => Effect::None,
            Rule::P6 => Effect::Hot,
        }
    }

    /// One line saying what the rule covers.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Rule::F1 => "full update",
            Rule::M1 => "module added",
            Rule::M2 => "web module replaced",
            Rule::M3 => "non-web module replaced",
            Rule::P1 => "file added in the application's META-INF/",
            Rule::P2 => "application-scope file replaced or deleted",
            Rule::P3 => "file added in the application scope",
            Rule::P4 => "file changed in a non-web module",
            Rule::P5 => "file changed under WEB-INF/ or META-INF/ of a web module",
            Rule::P6 => "web content changed",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A deployment setting that escalates module restarts (spec §3, E1/E2).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[non_exhaustive]
pub enum Escalation {
    /// Class loader policy SINGLE.
    E1,
    /// Security provider without dynamic-update support.
    E2,
}

impl fmt::Display for Escalation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The application's class loader policy (WebSphere `warClassLoaderPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassLoaderPolicy {
    /// One class loader per web module (the default).
    #[default]
    Multiple,
    /// One class loader for all modules: any module restart restarts the application (E1).
    Single,
}

/// Deployment settings that are not part of the EAR (spec §3, E1/E2).
///
/// ```
/// use ear_core::{ClassLoaderPolicy, Settings};
/// let settings = Settings::default().classloader_policy(ClassLoaderPolicy::Single);
/// assert!(settings.dynamic_security);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Settings {
    /// Class loader policy.
    pub classloader_policy: ClassLoaderPolicy,
    /// Whether the security provider supports dynamic updates (false: E2).
    pub dynamic_security: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            classloader_policy: ClassLoaderPolicy::Multiple,
            dynamic_security: true,
        }
    }
}

impl Settings {
    /// Sets the class loader policy.
    #[must_use]
    pub fn classloader_policy(mut self, policy: ClassLoaderPolicy) -> Self {
        self.classloader_policy = policy;
        self
    }

    /// Sets whether the security provider supports dynamic updates.
    #[must_use]
    pub fn dynamic_security(mut self, supported: bool) -> Self {
        self.dynamic_security = supported;
        self
    }

    /// Reads the class loader policy from the WebSphere `deployment.xml` at
    /// `path` (a regular file of at most 16 MiB).
    ///
    /// # Errors
    /// The file cannot be read, is not a regular file, is too large, or is
    /// not a `deployment.xml`.
    pub fn policy_from_deployment_xml_file(path: &std::path::Path) -> Result<ClassLoaderPolicy> {
        let bytes = crate::fs::read_bounded(path, 16 << 20, "a deployment.xml")?;
        Settings::policy_from_deployment_xml(&bytes, &path.display().to_string())
    }

    /// Reads the class loader policy from a WebSphere `deployment.xml`: the
    /// `warClassLoaderPolicy` attribute (`SINGLE` or `MULTIPLE`) of its
    /// deployed object; absent means `MULTIPLE`, WebSphere's default.
    /// `location` names the file in errors.
    ///
    /// # Errors
    /// Malformed XML, a file that is not a deployment document, or a value
    /// other than `SINGLE`/`MULTIPLE`.
    pub fn policy_from_deployment_xml(bytes: &[u8], location: &str) -> Result<ClassLoaderPolicy> {
        use quick_xml::events::Event;
        let text = String::from_utf8_lossy(bytes);
        let mut reader = quick_xml::Reader::from_str(&text);
        let mut is_deployment = false;
        loop {
            let event = reader.read_event().map_err(|e| Error::Descriptor {
                location: location.to_owned(),
                message: e.to_string(),
            })?;
            match event {
                Event::Start(e) | Event::Empty(e) => {
                    let name = e.local_name();
                    is_deployment |= matches!(name.as_ref(), "Deployment" | "deployedObject");
                    for attr in e.attributes().flatten() {
                        if attr.key.local_name().as_ref() == "warClassLoaderPolicy" {
                            return match attr.value.trim() {
                                "SINGLE" => Ok(ClassLoaderPolicy::Single),
                                "MULTIPLE" => Ok(ClassLoaderPolicy::Multiple),
                                other => Err(Error::Descriptor {
                                    location: location.to_owned(),
                                    message: format!(
                                        "warClassLoaderPolicy is {other:?}; expected SINGLE or MULTIPLE"
                                    ),
                                }),
                            };
                        }
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if is_deployment {
            return Ok(ClassLoaderPolicy::Multiple);
        }
        Err(Error::Descriptor {
            location: location.to_owned(),
            message: "not a WebSphere deployment.xml (no Deployment or deployedObject element)"
                .into(),
        })
    }

    /// The setting that escalates module-level effects, if any (E1 before E2, §9.2).
    #[must_use]
    pub fn escalation(&self) -> Option<Escalation> {
        if self.classloader_policy == ClassLoaderPolicy::Single {
            Some(Escalation::E1)
        } else if !self.dynamic_security {
            Some(Escalation::E2)
        } else {
            None
        }
    }

    /// Applies E1/E2 to a rule's effect: start-module and restart-module
    /// become restart-application.
    #[must_use]
    pub fn escalate(&self, effect: Effect) -> (Effect, Option<Escalation>) {
        match (effect, self.escalation()) {
            (Effect::StartModule | Effect::RestartModule, Some(e)) => {
                (Effect::RestartApplication, Some(e))
            }
            _ => (effect, None),
        }
    }
}

/// What a file-level change touches, for classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOp {
    /// A new file.
    Add,
    /// A file whose bytes change.
    Replace,
    /// A file removed.
    Delete,
}

/// Classifies a file change of a partial or file update (P1–P6).
/// `module` is the kind of the module holding the file, `None` for the
/// application scope; `rel` is the path inside that scope.
#[must_use]
pub fn classify_file(module: Option<ModuleKind>, rel: &EntryPath, op: FileOp) -> Rule {
    let top = rel.first_component();
    let under_meta = rel.as_str().contains('/') && (top == "META-INF" || top == "WEB-INF");
    match module {
        None => match op {
            FileOp::Add if rel.as_str().starts_with("META-INF/") => Rule::P1,
            FileOp::Add => Rule::P3,
            FileOp::Replace | FileOp::Delete => Rule::P2,
        },
        Some(ModuleKind::Web) if under_meta => Rule::P5,
        Some(ModuleKind::Web) => Rule::P6,
        Some(_) => Rule::P4,
    }
}

/// Classifies a whole-module change (M1–M3).
#[must_use]
pub fn classify_module(kind: ModuleKind, added: bool) -> Rule {
    match (added, kind) {
        (true, _) => Rule::M1,
        (false, ModuleKind::Web) => Rule::M2,
        (false, _) => Rule::M3,
    }
}

/// The application's restart impact: the strongest effect of all changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Impact {
    /// The strongest effect.
    pub effect: Effect,
    /// Whether the application restarts.
    pub restart_application: bool,
    /// Modules that restart, when the application does not.
    pub restart_modules: Vec<EntryPath>,
    /// Modules that start (added), when the application does not restart.
    pub start_modules: Vec<EntryPath>,
}

impl Impact {
    /// Aggregates `(module URI, effect)` pairs, one per change.
    pub fn aggregate<'a>(
        effects: impl IntoIterator<Item = (Option<&'a EntryPath>, Effect)>,
    ) -> Impact {
        let mut effect = Effect::None;
        let mut restart = Vec::new();
        let mut start = Vec::new();
        for (module, e) in effects {
            effect = effect.max(e);
            match (e, module) {
                (Effect::RestartModule, Some(m)) => restart.push(m.clone()),
                (Effect::StartModule, Some(m)) => start.push(m.clone()),
                _ => {}
            }
        }
        let restart_application = effect == Effect::RestartApplication;
        if restart_application {
            restart.clear();
            start.clear();
        }
        restart.sort();
        restart.dedup();
        start.sort();
        start.dedup();
        // A module that is started is not also restarted.
        restart.retain(|m| !start.contains(m));
        Impact {
            effect,
            restart_application,
            restart_modules: restart,
            start_modules: start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> EntryPath {
        EntryPath::new(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn file_rules() {
        use FileOp::{Add, Delete, Replace};
        let web = Some(ModuleKind::Web);
        let cases = [
            (None, "META-INF/extra.xml", Add, Rule::P1),
            (None, "META-INF/application.xml", Replace, Rule::P2),
            (None, "lib/util.jar", Replace, Rule::P2),
            (None, "a.dat", Delete, Rule::P2),
            (None, "conf/new.properties", Add, Rule::P3),
            (None, "META-INF", Add, Rule::P3),
            (Some(ModuleKind::Ejb), "com/X.class", Add, Rule::P4),
            (Some(ModuleKind::Sip), "index.html", Replace, Rule::P4),
            (
                Some(ModuleKind::Connector),
                "META-INF/ra.xml",
                Delete,
                Rule::P4,
            ),
            (web, "WEB-INF/web.xml", Replace, Rule::P5),
            (web, "META-INF/context.xml", Add, Rule::P5),
            (web, "WEB-INF/classes/a/B.class", Delete, Rule::P5),
            (web, "index.jsp", Add, Rule::P6),
            (web, "static/WEB-INF/x.css", Replace, Rule::P6),
            (web, "WEB-INF", Replace, Rule::P6),
        ];
        for (module, path, op, rule) in cases {
            assert_eq!(classify_file(module, &p(path), op), rule, "{path}");
        }
    }

    #[test]
    fn module_rules_and_escalation() {
        assert_eq!(classify_module(ModuleKind::Ejb, true), Rule::M1);
        assert_eq!(classify_module(ModuleKind::Web, false), Rule::M2);
        assert_eq!(classify_module(ModuleKind::Sip, false), Rule::M3);
        let single = Settings::default().classloader_policy(ClassLoaderPolicy::Single);
        let nosec = Settings::default().dynamic_security(false);
        let both = single.dynamic_security(false);
        assert_eq!(
            single.escalate(Effect::RestartModule),
            (Effect::RestartApplication, Some(Escalation::E1))
        );
        assert_eq!(
            nosec.escalate(Effect::StartModule),
            (Effect::RestartApplication, Some(Escalation::E2))
        );
        assert_eq!(
            both.escalate(Effect::StartModule),
            (Effect::RestartApplication, Some(Escalation::E1))
        );
        assert_eq!(both.escalate(Effect::Hot), (Effect::Hot, None));
        assert_eq!(
            Settings::default().escalate(Effect::RestartModule),
            (Effect::RestartModule, None)
        );
    }

    #[test]
    fn aggregate_lists_modules_only_without_app_restart() {
        let (a, b) = (p("a.war"), p("b.war"));
        let i = Impact::aggregate([
            (Some(&a), Effect::RestartModule),
            (Some(&b), Effect::StartModule),
            (Some(&a), Effect::Hot),
        ]);
        assert_eq!(i.effect, Effect::RestartModule);
        assert_eq!(
            (i.restart_modules, i.start_modules),
            (vec![a.clone()], vec![b.clone()])
        );
        let i = Impact::aggregate([
            (Some(&a), Effect::RestartModule),
            (None, Effect::RestartApplication),
        ]);
        assert!(i.restart_application && i.restart_modules.is_empty());
        assert_eq!(Impact::aggregate([]).effect, Effect::None);
    }

    #[test]
    fn deployment_xml_policy() -> Result<()> {
        let xml = br#"<?xml version="1.0"?><appdeployment:Deployment xmi:version="2.0" xmlns:appdeployment="http://www.ibm.com/websphere/appserver/schemas/5.0/appdeployment.xmi">
  <deployedObject xmi:type="appdeployment:ApplicationDeployment" startingWeight="10" warClassLoaderPolicy="SINGLE"/></appdeployment:Deployment>"#;
        assert_eq!(
            Settings::policy_from_deployment_xml(xml, "d.xml")?,
            ClassLoaderPolicy::Single
        );
        let default = br#"<appdeployment:Deployment xmlns:appdeployment="x"><deployedObject startingWeight="1"/></appdeployment:Deployment>"#;
        assert_eq!(
            Settings::policy_from_deployment_xml(default, "d.xml")?,
            ClassLoaderPolicy::Multiple
        );
        let err = Settings::policy_from_deployment_xml(b"<x/>", "d.xml")
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("d.xml") && e.contains("deployment.xml")));
        let bad =
            br#"<Deployment><deployedObject warClassLoaderPolicy="PARENT_LAST"/></Deployment>"#;
        assert!(Settings::policy_from_deployment_xml(bad, "d.xml").is_err());
        Ok(())
    }
}
