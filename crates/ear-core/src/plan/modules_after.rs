//! The module set after an update (spec §9.3): the new descriptor's, or
//! today's plus archives the update adds that the conventions make modules.
//! Reads only; it decides nothing about files.

use std::collections::BTreeMap;

use super::planner::{ModuleAfter, Planner, Shipment};
use crate::error::{Error, Result};
use crate::model::detect::{Convention, by_convention, check_not_nested};
use crate::model::kind::JarNature;
use crate::model::{
    DESCRIPTOR_PATH, Descriptor, LibraryDirectory, ModuleKind, Storage, WarningCode,
};
use crate::path::EntryPath;

impl Planner<'_> {
    /// The module set after the update (spec §9.3).
    pub(super) fn modules_after(
        &mut self,
        shipment: &Shipment,
    ) -> Result<BTreeMap<EntryPath, ModuleAfter>> {
        let app = self.app;
        let descriptor_path = EntryPath::new(DESCRIPTOR_PATH).unwrap_or_else(|_| unreachable!());
        let new_descriptor = match shipment.entries.iter().find(|e| e.path == descriptor_path) {
            Some(entry) => {
                let bytes = self.read_text(&entry.origin, "the descriptor")?;
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
                let found = by_convention(&entry.path, &lib, || {
                    match entry
                        .origin
                        .open_zip(self.update, &self.entry_location(&entry.path))
                    {
                        Ok(mut zip) => Ok(Some(JarNature::of_zip(&mut zip))),
                        Err(Error::Zip { .. }) => Ok(None),
                        Err(other) => Err(other),
                    }
                })?;
                let refuse_uri = |message: String| {
                    Err(Error::refused(
                        format!("module URI {}", entry.path),
                        message,
                    ))
                };
                let kind = match found {
                    Convention::Module(kind) => Some(kind),
                    Convention::NotModuleName if is_module_update => {
                        return refuse_uri("a module URI ends in .war, .jar, .rar or .sar".into());
                    }
                    Convention::InLibrary if is_module_update => {
                        return refuse_uri(format!(
                            "{} is in the library directory {lib}, which holds libraries, never modules",
                            entry.path
                        ));
                    }
                    Convention::PlainJar if is_module_update && has_descriptor => {
                        // Said aloud: `inspect` would call this jar a library.
                        self.warn(
                            WarningCode::PlainJarAsModule,
                            format!(
                                "{} has no META-INF/ejb-jar.xml, no META-INF/application-client.xml and no \
                                 Main-Class, so by the conventions it is a plain library; it is registered as an \
                                 EJB module as asked (annotation-only EJB modules look like this). If it is a \
                                 library, add it with --file lib/{} instead",
                                entry.path,
                                entry.path.file_name()
                            ),
                        );
                        Some(ModuleKind::Ejb)
                    }
                    Convention::PlainJar if is_module_update => {
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
                    Convention::Unreadable if is_module_update => {
                        return Err(Error::refused(
                            self.source_name(),
                            format!(
                                "{} archive is not a valid zip",
                                entry.path.extension().unwrap_or_default()
                            ),
                        ));
                    }
                    _ => None,
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
        check_not_nested(after.keys())?;
        Ok(after)
    }

    pub(super) fn library_directory_after(
        &self,
        new_descriptor: Option<&Descriptor>,
    ) -> LibraryDirectory {
        new_descriptor.map_or_else(
            || self.app.library_directory().clone(),
            |d| d.library_directory.clone(),
        )
    }
}
