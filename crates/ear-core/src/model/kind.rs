//! Module kinds and what decides them (spec §1): the module extensions, the
//! kind an extension alone decides, and the one jar probe that tells an EJB
//! or client jar from a plain library.
//!
//! It reads only what it is handed (entry names, a manifest); it never opens
//! files itself and never decides whether an archive *is* a module of an
//! application (that is the `detect` module).

use std::fmt;
use std::io::{Read, Seek};

use serde::{Deserialize, Serialize};
use zip::ZipArchive;

/// The kind of a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ModuleKind {
    /// A web module (`.war`), with a context root.
    Web,
    /// An EJB module (`.jar`).
    Ejb,
    /// A resource adapter (`.rar`).
    Connector,
    /// An application client (`.jar`).
    Client,
    /// A SIP module (`.sar`).
    Sip,
}

impl fmt::Display for ModuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModuleKind::Web => "web",
            ModuleKind::Ejb => "ejb",
            ModuleKind::Connector => "connector",
            ModuleKind::Client => "client",
            ModuleKind::Sip => "sip",
        })
    }
}

impl ModuleKind {
    /// "a web", "an EJB", ... for messages.
    pub(crate) fn with_article(self) -> String {
        match self {
            ModuleKind::Ejb => "an EJB".to_owned(),
            other => format!("a {other}"),
        }
    }
}

/// Extensions of archives that can be modules.
pub const MODULE_EXTENSIONS: [&str; 4] = ["war", "rar", "sar", "jar"];

/// Whether `ext` (without the dot, any case) is a module archive extension.
#[must_use]
pub fn is_module_extension(ext: &str) -> bool {
    MODULE_EXTENSIONS
        .iter()
        .any(|m| m.eq_ignore_ascii_case(ext))
}

/// The module kind an extension alone decides (`.jar` needs its content).
pub(crate) fn kind_from_extension(ext: &str) -> Option<ModuleKind> {
    match ext {
        "war" => Some(ModuleKind::Web),
        "rar" => Some(ModuleKind::Connector),
        "sar" => Some(ModuleKind::Sip),
        _ => None,
    }
}

/// What a jar's content says it is (spec §1 conventions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JarNature {
    /// It has `META-INF/ejb-jar.xml`.
    Ejb,
    /// It has `META-INF/application-client.xml` or a main-section `Main-Class`.
    Client,
    /// A plain library.
    Plain,
}

impl JarNature {
    /// The one probe: `has` tells whether an entry exists, `manifest` reads
    /// `META-INF/MANIFEST.MF` (asked only when the descriptors are absent).
    pub(crate) fn probe(
        has: impl Fn(&str) -> bool,
        manifest: impl FnOnce() -> Option<Vec<u8>>,
    ) -> JarNature {
        if has("META-INF/ejb-jar.xml") {
            JarNature::Ejb
        } else if has("META-INF/application-client.xml")
            || manifest().is_some_and(|m| manifest_has_main_class(&m))
        {
            JarNature::Client
        } else {
            JarNature::Plain
        }
    }

    /// Probes an opened jar.
    pub(crate) fn of_zip<R: Read + Seek>(zip: &mut ZipArchive<R>) -> JarNature {
        let names: Vec<bool> = ["META-INF/ejb-jar.xml", "META-INF/application-client.xml"]
            .iter()
            .map(|n| zip.index_for_name(n).is_some())
            .collect();
        JarNature::probe(
            |n| match n {
                "META-INF/ejb-jar.xml" => names[0],
                "META-INF/application-client.xml" => names[1],
                _ => false,
            },
            || {
                // A manifest is a few KiB. One that declares more than the
                // text limit is not read at all, and reading stops at the
                // limit whatever it declared: chunk by chunk, because the zip
                // reader's `read_to_end` reserves the declared size up front
                // (found by fuzzing: a 1 GiB manifest in a 4 KB jar).
                let max = crate::limits::Limits::default().max_text;
                let entry = zip.by_name("META-INF/MANIFEST.MF").ok()?;
                if entry.size() > max {
                    return None;
                }
                let mut limited = entry.take(max);
                let mut bytes = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    match limited.read(&mut chunk).ok()? {
                        0 => return Some(bytes),
                        n => bytes.extend_from_slice(&chunk[..n]),
                    }
                }
            },
        )
    }

    /// The module kind it makes a jar, if any.
    pub(crate) fn module_kind(self) -> Option<ModuleKind> {
        match self {
            JarNature::Ejb => Some(ModuleKind::Ejb),
            JarNature::Client => Some(ModuleKind::Client),
            JarNature::Plain => None,
        }
    }
}

/// Whether a JAR manifest has a main section `Main-Class` attribute.
pub(crate) fn manifest_has_main_class(manifest: &[u8]) -> bool {
    String::from_utf8_lossy(manifest)
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .any(|l| {
            l.split_once(':').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("Main-Class") && !v.trim().is_empty()
            })
        })
}
