//! Random applications and partial updates for property tests.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::{ZipBuilder, zip_of};

/// A random application: modules (web or EJB) with files, and application-scope files.
#[derive(Debug, Clone)]
pub struct AppSpec {
    /// Module URI → (is web, file → content tag).
    pub modules: BTreeMap<String, (bool, BTreeMap<String, u8>)>,
    /// Application-scope file → content tag.
    pub app_files: BTreeMap<String, u8>,
}

const DIRS: [&str; 5] = ["", "WEB-INF/", "META-INF/", "css/", "WEB-INF/classes/"];

fn file_name() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&DIRS[..]),
        "[a-c]{1,2}",
        prop::sample::select(&["jsp", "xml", "class", "dat"][..]),
    )
        .prop_map(|(d, n, e)| format!("{d}{n}.{e}"))
}

fn files() -> impl Strategy<Value = BTreeMap<String, u8>> {
    prop::collection::btree_map(file_name(), 0u8..4, 1..6)
}

/// Strategy for [`AppSpec`].
pub fn app_spec() -> impl Strategy<Value = AppSpec> {
    (
        prop::collection::btree_map("[a-c]{1,2}", (any::<bool>(), files()), 1..4),
        prop::collection::btree_map(
            (
                prop::sample::select(&["", "META-INF/", "lib/", "conf/"][..]),
                "[a-c]{1,2}",
            )
                .prop_map(|(d, n)| format!("{d}{n}.dat")),
            0u8..4,
            0..5,
        ),
    )
        .prop_map(|(mods, app_files)| AppSpec {
            modules: mods
                .into_iter()
                .map(|(name, (web, files))| {
                    (
                        format!("{name}.{}", if web { "war" } else { "jar" }),
                        (web, files),
                    )
                })
                .collect(),
            app_files,
        })
}

/// The bytes of a file with content tag `tag`.
#[must_use]
pub fn content(tag: u8, path: &str) -> Vec<u8> {
    format!("{path}#{tag}").into_bytes()
}

/// The EAR of `spec` (with a descriptor declaring every module).
#[must_use]
pub fn build_ear(spec: &AppSpec) -> Vec<u8> {
    let mut xml = String::from("<application version=\"7\">");
    for (uri, (web, _)) in &spec.modules {
        if *web {
            xml.push_str(&format!("<module><web><web-uri>{uri}</web-uri><context-root>/x</context-root></web></module>"));
        } else {
            xml.push_str(&format!("<module><ejb>{uri}</ejb></module>"));
        }
    }
    xml.push_str("</application>");
    let mut ear = ZipBuilder::new().file("META-INF/application.xml", xml);
    for (uri, (_, files)) in &spec.modules {
        let module = files
            .iter()
            .fold(ZipBuilder::new(), |b, (p, t)| b.file(p, content(*t, p)))
            .finish();
        ear = ear.file(uri, module);
    }
    for (p, t) in &spec.app_files {
        ear = ear.file(p, content(*t, p));
    }
    ear.finish()
}

/// A partial update derived from the application: for each file, `choices`
/// ships the same bytes, new bytes, or deletes it via a delete list; plus new files.
#[must_use]
pub fn build_update(spec: &AppSpec, choices: &[u8], new_files: &[(usize, String)]) -> Vec<u8> {
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut deletes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut all: Vec<(String, String, u8)> = spec
        .app_files
        .iter()
        .map(|(p, t)| (String::new(), p.clone(), *t))
        .collect();
    for (uri, (_, files)) in &spec.modules {
        all.extend(files.iter().map(|(p, t)| (uri.clone(), p.clone(), *t)));
    }
    for (i, (scope, path, tag)) in all.iter().enumerate() {
        let full = if scope.is_empty() {
            path.clone()
        } else {
            format!("{scope}/{path}")
        };
        match choices.get(i).copied().unwrap_or(0) % 4 {
            1 => entries.push((full, content(*tag, path))),
            2 => entries.push((full, content(tag + 10, path))),
            3 if path != "META-INF/application.xml" => deletes
                .entry(scope.clone())
                .or_default()
                .push(regex::escape(path)),
            _ => {}
        }
    }
    let uris: Vec<&String> = spec.modules.keys().collect();
    for (target, name) in new_files {
        let path = match target % (uris.len() + 1) {
            0 => format!("new/{name}"),
            i => format!("{}/{name}", uris[i - 1]),
        };
        entries.push((path, b"new".to_vec()));
    }
    for (scope, lines) in deletes {
        let path = if scope.is_empty() {
            "META-INF/ibm-partialapp-delete.props".to_owned()
        } else {
            format!("{scope}/META-INF/ibm-partialapp-delete.props")
        };
        entries.push((path, lines.join("\n").into_bytes()));
    }
    entries.sort();
    entries.dedup_by(|a, b| a.0 == b.0);
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    zip_of(&refs)
}
