//! A partial update against the generated application.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use zip::ZipWriter;

use super::LargeSpec;
use super::content::Flavour;
use super::layout::{
    Content, FileEntry, ModuleEntry, ModuleKind, application_files, modules, render,
};

/// Name of a delete list inside its scope.
const DELETE_PROPS: &str = "META-INF/ibm-partialapp-delete.props";

/// The delete list of one scope of the update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteList {
    /// `""` for the application scope, else the module URI.
    pub scope: String,
    /// The regular expressions, one per line of the props file.
    pub patterns: Vec<String>,
}

impl DeleteList {
    /// The props file's full path in the update zip.
    #[must_use]
    pub fn props_path(&self) -> String {
        if self.scope.is_empty() {
            DELETE_PROPS.to_string()
        } else {
            format!("{}/{DELETE_PROPS}", self.scope)
        }
    }
}

/// What [`write_update`] puts in the update zip, by full path.
///
/// Fifty files: 25 replace existing files with new bytes, 25 add new files.
/// They touch the application scope (`lib/util0.jar`, `config/*.dat`), two
/// web modules (`w1.war`, `w2.war`) and one EJB module (`ejb1.jar`). On top
/// of these, two delete lists: one in the application scope removing
/// `config/legacy/*.dat`, one in `w2.war` removing its `pages/old/*.jsp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateContents {
    /// Full paths of files that exist in the application and get new bytes.
    pub replaced: Vec<String>,
    /// Full paths of files that do not exist in the application.
    pub added: Vec<String>,
    /// The delete lists (each matches at least one existing file).
    pub delete_lists: Vec<DeleteList>,
}

/// One file of the update and how to make its bytes.
struct UpdateFile {
    full_path: String,
    content: Content,
}

/// The update's files in zip order, replacements and additions interleaved
/// by scope, and its delete lists.
struct UpdatePlan {
    files: Vec<UpdateFile>,
    contents: UpdateContents,
}

/// How many files the update replaces and adds in each scope it touches.
struct Share {
    replaced: usize,
    added: usize,
}

const APP_SHARE: Share = Share {
    replaced: 3,
    added: 2,
};
const WEB_A_SHARE: Share = Share {
    replaced: 10,
    added: 10,
};
const WEB_B_SHARE: Share = Share {
    replaced: 7,
    added: 8,
};
const EJB_SHARE: Share = Share {
    replaced: 5,
    added: 5,
};

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// The paths [`write_update`] replaces, adds and deletes for `spec`.
///
/// # Errors
/// The spec is too small for the update: it needs at least two web modules,
/// one EJB module, one utility jar, and enough files in `w1.war`, `w2.war`
/// and `ejb1.jar` to pick the replaced files from.
pub fn update_contents(spec: &LargeSpec) -> io::Result<UpdateContents> {
    Ok(plan(spec)?.contents)
}

fn plan(spec: &LargeSpec) -> io::Result<UpdatePlan> {
    if spec.web_modules < 2 || spec.ejb_modules < 1 || spec.lib_jars < 1 {
        return Err(invalid(format!(
            "the update needs at least 2 web modules, 1 EJB module and 1 utility jar; \
             the spec has {}, {} and {}",
            spec.web_modules, spec.ejb_modules, spec.lib_jars
        )));
    }
    let all = modules(spec);
    let find = |kind: ModuleKind, number: usize| {
        all.iter()
            .find(|m| m.kind == kind && m.number == number)
            .ok_or_else(|| invalid(format!("no {kind:?} module number {number}")))
    };
    let web_a = find(ModuleKind::Web, 1)?;
    let web_b = find(ModuleKind::Web, 2)?;
    let ejb = find(ModuleKind::Ejb, 1)?;

    let mut plan = UpdatePlan {
        files: Vec::new(),
        contents: UpdateContents {
            replaced: Vec::new(),
            added: Vec::new(),
            delete_lists: vec![
                DeleteList {
                    scope: String::new(),
                    patterns: vec![r"config/legacy/.*\.dat".into()],
                },
                DeleteList {
                    scope: web_b.uri.clone(),
                    patterns: vec![r"pages/old/.*\.jsp".into()],
                },
            ],
        },
    };

    // Application scope: the first utility jar and two data files get new
    // bytes; two data files are new.
    let app_files = application_files(spec);
    let replaced = std::iter::once("lib/util0.jar".to_string())
        .chain((0..APP_SHARE.replaced - 1).map(|k| format!("config/app{k}.dat")));
    for path in replaced {
        let file = app_files
            .iter()
            .find(|f| f.path == path)
            .ok_or_else(|| invalid(format!("the application has no {path} to replace")))?;
        plan.replace(path, file.content.clone());
    }
    for k in 0..APP_SHARE.added {
        plan.add(
            format!("config/new{k}.dat"),
            Content::Generated(Flavour::Dat),
        );
    }

    plan.module(spec, web_a, &WEB_A_SHARE)?;
    plan.module(spec, web_b, &WEB_B_SHARE)?;
    plan.module(spec, ejb, &EJB_SHARE)?;
    Ok(plan)
}

impl UpdatePlan {
    fn replace(&mut self, full_path: String, content: Content) {
        self.contents.replaced.push(full_path.clone());
        self.files.push(UpdateFile { full_path, content });
    }

    fn add(&mut self, full_path: String, content: Content) {
        self.contents.added.push(full_path.clone());
        self.files.push(UpdateFile { full_path, content });
    }

    /// Replaces `share.replaced` generated files of `module`, spread over its
    /// file list and never under `pages/old/` (which the update deletes), and
    /// adds `share.added` new files under directories the module lacks.
    fn module(&mut self, spec: &LargeSpec, module: &ModuleEntry, share: &Share) -> io::Result<()> {
        let candidates: Vec<FileEntry> = module
            .files(spec)
            .into_iter()
            .filter(|f| {
                matches!(f.content, Content::Generated(_)) && !f.path.starts_with("pages/old/")
            })
            .collect();
        if candidates.len() < share.replaced {
            return Err(invalid(format!(
                "{} has {} files the update could replace; it needs {}",
                module.uri,
                candidates.len(),
                share.replaced
            )));
        }
        for i in 0..share.replaced {
            let file = &candidates[i * candidates.len() / share.replaced];
            self.replace(
                format!("{}/{}", module.uri, file.path),
                file.content.clone(),
            );
        }
        for k in 0..share.added {
            let (path, flavour) = match (module.kind, k % 3) {
                (ModuleKind::Web, 0) => (format!("pages/new/added{k}.jsp"), Flavour::Jsp),
                (ModuleKind::Web, 1) => (
                    format!(
                        "WEB-INF/classes/com/acme/w{}/added/Added{k}.class",
                        module.number
                    ),
                    Flavour::Class,
                ),
                (ModuleKind::Web, _) => (format!("static/new/added{k}.css"), Flavour::Css),
                (ModuleKind::Ejb, _) => (
                    format!("com/acme/ejb{}/added/Added{k}.class", module.number),
                    Flavour::Class,
                ),
            };
            self.add(
                format!("{}/{path}", module.uri),
                Content::Generated(flavour),
            );
        }
        Ok(())
    }
}

/// Writes the partial update zip at `out` (overwriting it): the 50 files of
/// [`update_contents`] at their full paths, replaced files with bytes that
/// differ from the application's, and the two delete lists as
/// `META-INF/ibm-partialapp-delete.props` files of their scopes. Everything
/// is deflated, with fixed timestamps.
///
/// # Errors
/// The spec is too small for the update (see [`update_contents`]), or
/// writing `out` fails.
pub fn write_update(spec: &LargeSpec, out: &Path) -> io::Result<()> {
    let plan = plan(spec)?;
    let mut zip = ZipWriter::new(BufWriter::new(File::create(out)?));
    for list in &plan.contents.delete_lists {
        let mut text = String::new();
        for pattern in &list.patterns {
            text.push_str(pattern);
            text.push('\n');
        }
        zip.start_file(list.props_path(), super::entry_options(false))?;
        zip.write_all(text.as_bytes())?;
    }
    let mut buf = Vec::new();
    for file in &plan.files {
        render(spec, &file.full_path, &file.content, 1, &mut buf)?;
        zip.start_file(file.full_path.as_str(), super::entry_options(false))?;
        zip.write_all(&buf)?;
    }
    zip.finish()?.flush()
}
